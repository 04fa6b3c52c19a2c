// RUN: not snnc opt %s 2>&1 | filecheck %s

"builtin.module"() ({
  %0 = "test.c"() {value = dense_resource<w> : tensor<2xf32>} : () -> f32
}) : () -> ()

{-#
  dialect_resources: {
    builtin: {
      // CHECK: invalid-blob-size.mlir:[[# @LINE + 1]]:10: error: malformed resource blob 'w': resource blob holds 4 bytes but tensor<2xf32> needs 8
      w: "0x040000000000803F"
    }
  }
#-}
