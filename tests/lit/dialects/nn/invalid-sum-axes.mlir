// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.sum: axes must be in range

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3xf32>
    // CHECK: {{.*}}invalid-sum-axes.mlir:8:{{[0-9]+}}: error: 'nn.sum' op axis 2 is out of range for rank 2
    %y = "nn.sum"(%x) {axes = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
