// RUN: not snnc opt %s 2>&1 | filecheck %s
// spike.lif{spike_fn = "multi"}: the count is a signed integer tensor, not i1 spikes

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2xi16>
    // CHECK: {{.*}}invalid-lif-multispike.mlir:8:{{[0-9]+}}: error: 'spike.lif' op the spike count of a multi-spike neuron is a signed integer tensor iW (2 <= W <= 62), got tensor<2xi1>
    %n = "spike.lif"(%x) {membrane_bits = 12 : i64, spike_fn = "multi", v_th = 5 : i64} : (tensor<2xi16>) -> tensor<2xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
