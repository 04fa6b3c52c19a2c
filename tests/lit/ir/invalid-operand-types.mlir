// RUN: not snnc opt %s 2>&1 | filecheck %s

"builtin.module"() ({
  %0 = "test.c"() : () -> f32
  // CHECK: invalid-operand-types.mlir:[[# @LINE + 1]]:3: error: expected 2 operand types but had 1
  "test.use"(%0, %0) : (f32) -> ()
}) : () -> ()
