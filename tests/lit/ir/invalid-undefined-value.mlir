// RUN: not snnc opt %s 2>&1 | filecheck %s

"builtin.module"() ({
  %0 = "test.c"() : () -> f32
  // CHECK: invalid-undefined-value.mlir:[[# @LINE + 1]]:23: error: use of undefined value '%4'
  %1 = "test.add"(%0, %4) : (f32, f32) -> f32
}) : () -> ()
