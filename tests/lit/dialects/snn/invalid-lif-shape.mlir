// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.lif: one neuron per input element

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-lif-shape.mlir:8:{{[0-9]+}}: error: 'snn.lif' op result shape [5] must equal the input shape [4]
    %y = "snn.lif"(%x) {alpha = 7.500000e-01 : f32} : (tensor<4xf32>) -> tensor<5xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
