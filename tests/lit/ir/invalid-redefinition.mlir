// RUN: not snnc opt %s 2>&1 | filecheck %s

"builtin.module"() ({
  %2 = "test.c"() : () -> f32
  // CHECK: invalid-redefinition.mlir:[[# @LINE + 2]]:3: error: redefinition of SSA value '%2'
  // CHECK: invalid-redefinition.mlir:[[# @LINE - 2]]:3: note: previously defined here
  %2 = "test.c"() : () -> f32
}) : () -> ()
