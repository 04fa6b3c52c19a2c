// RUN: snnc opt %s --pass-pipeline=canonicalize | filecheck %s --check-prefix=CANON
// RUN: snnc opt %s --pass-pipeline=compose-linear | filecheck %s
// RUN: snnc opt %s --pass-pipeline='canonicalize{fold-bn=false}' | filecheck %s --check-prefix=NOBN

// RepConv: conv1x1 (padding 1) -> BN -> dw3x3 -> pw1x1 -> BN, no neuron between.
// canonicalize folds both BNs into the convs before them (biases appear):
// CANON:      %[[X:[0-9]+]] = "snn.input"
// CANON-NEXT: %[[A:[0-9]+]] = "nn.conv2d"(%[[X]]) {bias = dense<[1.500000e+00, -1.000000e+00]> : tensor<2xf64>, {{.*}}padding = array<i64: 1, 1>{{.*}}weight = dense<{{\[\[\[\[}}2.000000e+00]], {{\[\[}}0.000000e+00]]], {{\[\[\[}}0.000000e+00]], {{\[\[}}5.000000e-01]]]]> : tensor<2x2x1x1xf64>} : (tensor<2x3x3xi1>) -> tensor<2x5x5xf64>
// CANON-NEXT: %[[B:[0-9]+]] = "nn.conv2d"(%[[A]]) {groups = 2 : i64
// CANON-NEXT: %[[C:[0-9]+]] = "nn.conv2d"(%[[B]]) {bias = dense<1.000000e+00> : tensor<1xf64>
// CANON-NEXT: "snn.lif"(%[[C]])
// CANON-NOT:  nn.batch_norm
// compose-linear makes it one 3x3 conv (padding 1, bias) on the input spikes:
// CHECK:      %[[X:[0-9]+]] = "snn.input"
// W = s2 W3 W2 s1 W1: 0.25 * 2 = 0.5 on channel 0, -0.25 * 0.5 = -0.125 on channel 1 (every tap);
// bias = W3 (b1 * sum W2) + b2 = 1.5 * 2.25 + 1 * 2.25 + 1 = 6.625.
// CHECK-NEXT: %[[C:[0-9]+]] = "nn.conv2d"(%[[X]]) {bias = dense<6.625000e+00> : tensor<1xf64>, groups = 1 : i64, padding = array<i64: 1, 1>, weight = dense_resource<[[W:folded_[0-9a-f]+]]> : tensor<1x2x3x3xf64>} : (tensor<2x3x3xi1>) -> tensor<1x3x3xf64>
// CHECK-NEXT: %[[S:[0-9]+]] = "snn.lif"(%[[C]])
// CHECK-NEXT: "snn.output"(%[[S]])
// CHECK: [[W]]: "0x08000000000000000000E03F000000000000E03F000000000000E03F000000000000E03F000000000000E03F000000000000E03F000000000000E03F000000000000E03F000000000000E03F000000000000C0BF
// NOBN-COUNT-3: nn.batch_norm
"builtin.module"() ({
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3x3xi1>
    %1 = "nn.conv2d"(%0) {padding = array<i64: 1, 1>, weight = dense<[[[[1.0]], [[0.0]]], [[[0.0]], [[1.0]]]]> : tensor<2x2x1x1xf64>} : (tensor<2x3x3xi1>) -> tensor<2x5x5xf64>
    %2 = "nn.batch_norm"(%1) {eps = 0.0 : f64, mean = dense<[0.0, 2.0]> : tensor<2xf64>, var = dense<[1.0, 4.0]> : tensor<2xf64>, weight = dense<[2.0, 1.0]> : tensor<2xf64>, bias = dense<[1.5, 0.0]> : tensor<2xf64>} : (tensor<2x5x5xf64>) -> tensor<2x5x5xf64>
    %3 = "nn.conv2d"(%2) {groups = 2 : i64, weight = dense<0.25> : tensor<2x1x3x3xf64>} : (tensor<2x5x5xf64>) -> tensor<2x3x3xf64>
    %4 = "nn.conv2d"(%3) {weight = dense<[[[[1.0]], [[-1.0]]]]> : tensor<1x2x1x1xf64>} : (tensor<2x3x3xf64>) -> tensor<1x3x3xf64>
    %5 = "nn.batch_norm"(%4) {eps = 0.0 : f64, mean = dense<0.0> : tensor<1xf64>, var = dense<1.0> : tensor<1xf64>, bias = dense<1.0> : tensor<1xf64>} : (tensor<1x3x3xf64>) -> tensor<1x3x3xf64>
    %6 = "snn.lif"(%5) {alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64} : (tensor<1x3x3xf64>) -> tensor<1x3x3xi1>
    "snn.output"(%6) {index = 0 : i64, name = "s"} : (tensor<1x3x3xi1>) -> ()
  }) {sym_name = "main"} : () -> ()

  // BN after a shortcut add cannot fold into weights: it becomes the LIF's gain and drive
  // (beta' = beta s = 0.5 * [2, 0.5], gamma' = gamma + beta b = 0.5 * [1.5 - 0, 0 - 1]).
  // CANON:      "snn.graph"
  // CANON:      %[[A:[0-9]+]] = "nn.add"
  // CANON-NEXT: "snn.lif"(%[[A]]) {alpha = 5.000000e-01 : f64, beta = dense<{{\[\[\[}}1.000000e+00]], {{\[\[}}2.500000e-01]]]> : tensor<2x1x1xf64>, gamma = dense<{{\[\[\[}}7.500000e-01]], {{\[\[}}-5.000000e-01]]]> : tensor<2x1x1xf64>, v_th = 1.000000e+00 : f64}
  // CANON-NOT:  nn.batch_norm
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3x3xf64>
    %1 = "nn.add"(%0, %0) : (tensor<2x3x3xf64>, tensor<2x3x3xf64>) -> tensor<2x3x3xf64>
    %2 = "nn.batch_norm"(%1) {eps = 0.0 : f64, mean = dense<[0.0, 2.0]> : tensor<2xf64>, var = dense<[1.0, 4.0]> : tensor<2xf64>, weight = dense<[2.0, 1.0]> : tensor<2xf64>, bias = dense<[1.5, 0.0]> : tensor<2xf64>} : (tensor<2x3x3xf64>) -> tensor<2x3x3xf64>
    %3 = "snn.lif"(%2) {alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64} : (tensor<2x3x3xf64>) -> tensor<2x3x3xi1>
    "snn.output"(%3) {index = 0 : i64, name = "s"} : (tensor<2x3x3xi1>) -> ()
  }) {sym_name = "shortcut"} : () -> ()
}) : () -> ()
