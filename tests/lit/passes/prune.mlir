// RUN: snnc opt %s --pass-pipeline='prune{ratio=0.5,criterion=l1}' | filecheck %s
// RUN: snnc opt %s --pass-pipeline='prune{ratio=0.5,structured=false}' | filecheck %s --check-prefix=UNSTR
// RUN: snnc opt %s --pass-pipeline='prune{ratio=0.0}' | filecheck %s --check-prefix=ZERO

// linear(3 -> 4) -> lif -> linear(4 -> 2) -> lif: rows 1 and 3 (L1 norms 0.3, 0.6) are the
// weakest; the lif's per-neuron threshold and the consumer's columns 1 and 3 go with them.
// CHECK:      %[[X:[0-9]+]] = "snn.input"
// CHECK-NEXT: %[[H:[0-9]+]] = "nn.linear"(%[[X]]) {weight = dense<{{\[\[}}1.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 2.000000e+00, 0.000000e+00]]> : tensor<2x3xf32>} : (tensor<3xf32>) -> tensor<2xf32>
// CHECK-NEXT: %[[S:[0-9]+]] = "snn.lif"(%[[H]]) {alpha = 5.000000e-01 : f32, v_th = dense<[1.000000e+00, 3.000000e+00]> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xi1>
// CHECK-NEXT: %{{[0-9]+}} = "nn.linear"(%[[S]]) {weight = dense<{{\[\[}}1.000000e+00, 3.000000e+00], [5.000000e+00, 7.000000e+00]]> : tensor<2x2xf32>} : (tensor<2xi1>) -> tensor<2xf32>

// Unstructured: the 6 smallest |w| of 12 become 0 (the four zeros, then two 0.1 in order).
// UNSTR:  dense<{{\[\[}}1.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 1.000000e-01], [0.000000e+00, 2.000000e+00, 0.000000e+00], [2.000000e-01, 2.000000e-01, 2.000000e-01]]> : tensor<4x3xf32>

// ZERO: tensor<4x3xf32>
// ZERO: tensor<2x4xf32>

"builtin.module"() ({
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    %1 = "nn.linear"(%0) {weight = dense<[[1.0, 0.0, 0.0], [0.1, 0.1, 0.1], [0.0, 2.0, 0.0], [0.2, 0.2, 0.2]]> : tensor<4x3xf32>} : (tensor<3xf32>) -> tensor<4xf32>
    %2 = "snn.lif"(%1) {alpha = 0.5 : f32, v_th = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xi1>
    %3 = "nn.linear"(%2) {weight = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>} : (tensor<4xi1>) -> tensor<2xf32>
    %4 = "snn.lif"(%3) {alpha = 0.5 : f32} : (tensor<2xf32>) -> tensor<2xi1>
    "snn.output"(%4) {index = 0 : i64, name = "y"} : (tensor<2xi1>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
