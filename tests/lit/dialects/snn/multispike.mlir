// Multi-spike neurons (spike_fn = "multi"): the result is the spike count as a float tensor.
// Printing, re-parsing and printing again keeps the attributes and the float result.
// RUN: snnc opt %s | snnc opt - | filecheck %s

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    %n = "snn.if"(%x) {reset = "soft", spike_fn = "multi", v_min = -1.000000e+00 : f32, v_th = 7.500000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
    %y = "nn.linear"(%n) {weight = dense<[[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5]]> : tensor<2x4xf32>} : (tensor<4xf32>) -> tensor<2xf32>
    %m = "snn.lif"(%y) {alpha = 7.500000e-01 : f32, max_spikes = 3 : i64, reset = "hard", spike_fn = "multi", v_th = 2.500000e-01 : f32} : (tensor<2xf32>) -> tensor<2xf32>
    %c = "snn.cuba_lif"(%x) {alpha = 7.500000e-01 : f32, alpha_syn = 2.500000e-01 : f32, spike_fn = "multi"} : (tensor<4xf32>) -> tensor<4xf32>
    "snn.output"(%m) {index = 0 : i64, name = "counts"} : (tensor<2xf32>) -> ()
    "snn.output"(%c) {index = 1 : i64, name = "cuba"} : (tensor<4xf32>) -> ()
  }) {sym_name = "multi"} : () -> ()
}) : () -> ()

// CHECK: %[[N:[0-9]+]] = "snn.if"(%{{[0-9]+}}) {reset = "soft", spike_fn = "multi", v_min = -1.000000e+00 : f32, v_th = 7.500000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK: "nn.linear"(%[[N]])
// CHECK: "snn.lif"(%{{[0-9]+}}) {alpha = 7.500000e-01 : f32, max_spikes = 3 : i64, reset = "hard", spike_fn = "multi", v_th = 2.500000e-01 : f32} : (tensor<2xf32>) -> tensor<2xf32>
// CHECK: "snn.cuba_lif"(%{{[0-9]+}}) {alpha = 7.500000e-01 : f32, alpha_syn = 2.500000e-01 : f32, spike_fn = "multi"} : (tensor<4xf32>) -> tensor<4xf32>
