// RUN: not snnc opt %s 2>&1 | filecheck %s

"builtin.module"() ({
  // CHECK: invalid-resource.mlir:[[# @LINE + 1]]:43: error: unknown resource handle 'missing'
  %0 = "test.c"() {value = dense_resource<missing> : tensor<2xf32>} : () -> f32
}) : () -> ()
