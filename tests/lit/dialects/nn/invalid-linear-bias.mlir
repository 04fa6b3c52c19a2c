// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.linear: bias must have one value per output feature

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    // CHECK: {{.*}}invalid-linear-bias.mlir:8:{{[0-9]+}}: error: 'nn.linear' op bias shape [3] does not match the 2 output features
    %y = "nn.linear"(%x) {bias = dense<0.0> : tensor<3xf32>, weight = dense<1.0> : tensor<2x3xf32>} : (tensor<3xf32>) -> tensor<2xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
