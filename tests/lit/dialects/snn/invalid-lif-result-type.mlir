// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.lif: spikes are i1 or si2 tensors (a float result is the count of a spike_fn = "multi" neuron)

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-lif-result-type.mlir:8:{{[0-9]+}}: error: 'snn.lif' op result must be a spike tensor (i1 or si2) with spike_fn = "single", got tensor<4xf32>
    %y = "snn.lif"(%x) {alpha = 7.500000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
