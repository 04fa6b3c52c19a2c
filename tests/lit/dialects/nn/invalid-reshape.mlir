// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.reshape: element count is kept

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x6xf32>
    // CHECK: {{.*}}invalid-reshape.mlir:8:{{[0-9]+}}: error: 'nn.reshape' op cannot reshape 12 elements [2, 6] into [5, 2]
    %y = "nn.reshape"(%x) : (tensor<2x6xf32>) -> tensor<5x2xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
