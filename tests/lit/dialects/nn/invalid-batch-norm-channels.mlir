// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.batch_norm: parameters have one value per channel (axis 0)

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3x4x4xf32>
    // CHECK: {{.*}}invalid-batch-norm-channels.mlir:8:{{[0-9]+}}: error: 'nn.batch_norm' op 'mean' has shape [2] but the input has 3 channels
    %y = "nn.batch_norm"(%x) {mean = dense<0.0> : tensor<2xf32>, var = dense<1.0> : tensor<2xf32>} : (tensor<3x4x4xf32>) -> tensor<3x4x4xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
