// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.lif: parameters broadcast to the neuron shape

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-lif-param-shape.mlir:8:{{[0-9]+}}: error: 'snn.lif' op parameter 'v_th' of shape [3] does not broadcast to [4]
    %y = "snn.lif"(%x) {alpha = 7.500000e-01 : f32, v_th = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : (tensor<4xf32>) -> tensor<4xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
