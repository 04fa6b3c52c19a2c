// RUN: not snnc opt %s 2>&1 | filecheck %s

"builtin.module"() ({
  %3 = "test.c"() : () -> tensor<2xi1>
  // CHECK: invalid-type-mismatch.mlir:[[# @LINE + 1]]:14: error: use of value '%3' expects different type than prior uses: 'tensor<2xf32>' vs 'tensor<2xi1>'
  "test.use"(%3) : (tensor<2xf32>) -> ()
}) : () -> ()
