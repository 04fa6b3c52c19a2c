// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.conv2d: the result shape follows the output size formula

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3x8x8xf32>
    // CHECK: {{.*}}invalid-conv2d-shape.mlir:8:{{[0-9]+}}: error: 'nn.conv2d' op result shape [4, 8, 8] does not match the expected shape [4, 6, 6]
    %y = "nn.conv2d"(%x) {weight = dense<1.0> : tensor<4x3x3x3xf32>} : (tensor<3x8x8xf32>) -> tensor<4x8x8xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
