// A syntax error is a located diagnostic saying what was expected, with the source line and a caret.
// RUN: not snnc opt %s 2>&1 | filecheck %s

// CHECK: invalid-syntax.mlir:[[# @LINE + 5]]:26: error: expected one of ')', ',', got ':'
// CHECK-NEXT: {{^}}  %1 = "test.add"(%0, %0 : (f32, f32) -> f32
// CHECK-NEXT: {{^}}                         ^
"builtin.module"() ({
  %0 = "test.c"() : () -> f32
  %1 = "test.add"(%0, %0 : (f32, f32) -> f32
}) : () -> ()
