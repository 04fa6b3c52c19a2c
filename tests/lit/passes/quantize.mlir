// RUN: snnc opt %s --pass-pipeline=quantize | filecheck %s
// RUN: snnc opt %s --pass-pipeline='quantize{weight-bits=4 per-channel=true}' | filecheck %s --check-prefix=PC
// RUN: snnc opt %s --pass-pipeline='quantize{weight-scheme=binary}' | filecheck %s --check-prefix=BIN

// IF on spikes, weights on a 0.5 grid: exact integers (2^e upscale), thresholds exact;
// LIF alpha = 0.5 -> shift leak by 1; beta = 0.5 folds into the membrane scale (v_th 1.0 -> 2 * 64).
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xi1>
    %l = "nn.linear"(%x) {weight = dense<[[0.5, -1.0, 1.5], [0.5, 0.5, 0.5]]> : tensor<2x3xf32>, bias = dense<[0.25, 0.0]> : tensor<2xf32>} : (tensor<3xi1>) -> tensor<2xf32>
    %s = "snn.if"(%l) {v_th = 1.000000e+00 : f32, cmp = "gt"} : (tensor<2xf32>) -> tensor<2xi1>
    %l2 = "nn.linear"(%s) {weight = dense<[[1.0, -1.0]]> : tensor<1x2xf32>} : (tensor<2xi1>) -> tensor<1xf32>
    %o = "snn.lif"(%l2) {alpha = 5.000000e-01 : f32, beta = 5.000000e-01 : f32, v_th = 1.000000e+00 : f32} : (tensor<1xf32>) -> tensor<1xi1>
    "snn.output"(%o) {index = 0 : i64, name = "o"} : (tensor<1xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()

// 3 steps of 0.5 at the largest weight: scale 2^5 / 0.5 = 64 (3 * 32 = 96 <= 127)
// CHECK:      %[[X:[0-9]+]] = "snn.input"
// CHECK-NEXT: %[[A:[0-9]+]] = "spike.accumulate"(%[[X]]) {weight = dense<{{\[\[}}32, -64, 96], [32, 32, 32]]> : tensor<2x3xi8>} : (tensor<3xi1>) -> tensor<2xi32>
// CHECK-NEXT: %[[S:[0-9]+]] = "spike.lif"(%[[A]]) {bias = dense<[16, 0]> : tensor<2xi64>, cmp = "gt", leak_mode = "none", membrane_bits = 16 : i64, reset = "hard", v_reset = 0 : i64, v_th = 64 : i64} : (tensor<2xi32>) -> tensor<2xi1>
// CHECK-NEXT: %[[B:[0-9]+]] = "spike.accumulate"(%[[S]]) {weight = dense<{{\[\[}}64, -64]]> : tensor<1x2xi8>}
// CHECK-NEXT: %[[O:[0-9]+]] = "spike.lif"(%[[B]]) {bias = 0 : i64, cmp = "ge", leak_mode = "shift", leak_shift = 1 : i64, membrane_bits = 16 : i64, reset = "hard", v_reset = 0 : i64, v_th = 128 : i64}
// CHECK-NEXT: "snn.output"(%[[O]])
// CHECK-NOT: nn.linear

// per channel, 4 bits: row 0 has 3 steps of 0.5 (2^1 upscale -> 4), row 1 one step of 0.5 (2^2 -> 8)
// PC: "spike.accumulate"(%{{[0-9]+}}) {weight = dense<{{\[\[}}2, -4, 6], [4, 4, 4]]> : tensor<2x3xi4>}
// PC: "spike.lif"(%{{[0-9]+}}) {bias = dense<[1, 0]> : tensor<2xi64>, cmp = "gt", leak_mode = "none", membrane_bits = 16 : i64, reset = "hard", v_reset = 0 : i64, v_th = dense<[4, 8]> : tensor<2xi64>}

// binary: sign(W), scale 1 / mean|W| = 1 / 0.75: threshold 1.33 -> 1 (gt: floor), bias 0.33 -> 0
// BIN: "spike.accumulate"(%{{[0-9]+}}) {weight = dense<{{\[\[}}1, -1, 1], [1, 1, 1]]> : tensor<2x3xi2>}
// BIN: "spike.lif"(%{{[0-9]+}}) {bias = 0 : i64, cmp = "gt", leak_mode = "none", membrane_bits = 16 : i64, reset = "hard", v_reset = 0 : i64, v_th = 1 : i64}
