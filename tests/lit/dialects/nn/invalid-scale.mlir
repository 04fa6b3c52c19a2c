// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.scale: the factor broadcasts to the input

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    // CHECK: {{.*}}invalid-scale.mlir:8:{{[0-9]+}}: error: 'nn.scale' op scale of shape [2] does not broadcast to the input shape [3]
    %y = "nn.scale"(%x) {scale = dense<[1.0, 2.0]> : tensor<2xf32>} : (tensor<3xf32>) -> tensor<3xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
