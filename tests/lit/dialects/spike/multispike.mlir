// Integer multi-spike neuron: spike.lif{spike_fn = "multi"} returns the spike count (iW), which a
// dense accumulator consumes (weight x count).  Round trip keeps the attributes and the count type.
// RUN: snnc opt %s | snnc opt - | filecheck %s

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2xi16>
    // CHECK: %[[N:[0-9]+]] = "spike.lif"(%{{[0-9]+}}) {max_spikes = 3 : i64, membrane_bits = 12 : i64, reset = "soft", spike_fn = "multi", v_min = -7 : i64, v_th = 5 : i64} : (tensor<2xi16>) -> tensor<2xi8>
    %n = "spike.lif"(%x) {max_spikes = 3 : i64, membrane_bits = 12 : i64, reset = "soft", spike_fn = "multi", v_min = -7 : i64, v_th = 5 : i64} : (tensor<2xi16>) -> tensor<2xi8>
    // CHECK: "spike.accumulate_dense"(%[[N]])
    %a = "spike.accumulate_dense"(%n) {weight = dense<[[1, -2], [3, 4]]> : tensor<2x2xi8>} : (tensor<2xi8>) -> tensor<2xi32>
    "snn.output"(%a) {index = 0 : i64, name = "y"} : (tensor<2xi32>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
