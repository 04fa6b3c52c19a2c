// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.conv1d: strides must be positive

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x8xf32>
    // CHECK: {{.*}}invalid-conv1d-stride.mlir:8:{{[0-9]+}}: error: 'nn.conv1d' op attribute 'stride' must be positive, got [0]
    %y = "nn.conv1d"(%x) {stride = array<i64: 0>, weight = dense<1.0> : tensor<4x2x3xf32>} : (tensor<2x8xf32>) -> tensor<4x6xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
