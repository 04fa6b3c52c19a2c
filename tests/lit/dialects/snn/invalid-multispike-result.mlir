// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.lif with spike_fn = "multi": the result is the spike count as a float tensor, not i1

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-multispike-result.mlir:8:{{[0-9]+}}: error: 'snn.lif' op result of a multi-spike neuron (spike_fn = "multi") is the spike count as a float tensor, got tensor<4xi1>
    %y = "snn.lif"(%x) {alpha = 7.500000e-01 : f32, spike_fn = "multi"} : (tensor<4xf32>) -> tensor<4xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
