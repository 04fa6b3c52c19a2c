// RUN: snnc opt %s --pass-pipeline=attention-mask-add | filecheck %s
// RUN: snnc opt %s --pass-pipeline='attention-mask-add,spike-driven{strict=true},quantize' | filecheck %s --check-prefix=INT
// RUN: snnc opt %s --pass-pipeline=quantize | filecheck %s --check-prefix=INT

// SDSA v1: sum over tokens of (K AND V) is an AND + popcount, Q AND mask an AND whose spikes
// reach the projection as spikes (the transpose/reshape between are retyped to i1):
// CHECK:      %[[Q:[0-9]+]] = "snn.input"() {index = 0 : i64, name = "q"}
// CHECK-NEXT: %[[K:[0-9]+]] = "snn.input"() {index = 1 : i64, name = "k"}
// CHECK-NEXT: %[[V:[0-9]+]] = "snn.input"() {index = 2 : i64, name = "v"}
// CHECK-NEXT: %[[N:[0-9]+]] = "nn.and_popcount"(%[[K]], %[[V]]) {axes = array<i64: 1>, keepdim = true} : (tensor<2x4x4xi1>, tensor<2x4x4xi1>) -> tensor<2x1x4xf64>
// CHECK-NEXT: %[[M:[0-9]+]] = "snn.lif"(%[[N]])
// CHECK-NEXT: %[[A:[0-9]+]] = "nn.spike_and"(%[[Q]], %[[M]]) : (tensor<2x4x4xi1>, tensor<2x1x4xi1>) -> tensor<2x4x4xi1>
// CHECK-NEXT: %[[T:[0-9]+]] = "nn.transpose"(%[[A]]) {perm = array<i64: 0, 2, 1>} : (tensor<2x4x4xi1>) -> tensor<2x4x4xi1>
// CHECK-NEXT: %[[R:[0-9]+]] = "nn.reshape"(%[[T]]) : (tensor<2x4x4xi1>) -> tensor<8x4xi1>
// CHECK-NEXT: "nn.linear"(%[[R]]) {{.*}} : (tensor<8x4xi1>) -> tensor<8x2xf64>
// Meta-SpikeFormer: K^T V (spikes x spikes) and Q (K^T V) (spikes x counts) select and add rows;
// the 0.125 stays an nn.scale here (quantize folds it into the threshold):
// CHECK:      %[[KT:[0-9]+]] = "nn.transpose"(%[[K]])
// CHECK-NEXT: %[[KV:[0-9]+]] = "nn.masked_accumulate"(%[[KT]], %[[V]]) : (tensor<2x4x4xi1>, tensor<2x4x4xi1>) -> tensor<2x4x4xf64>
// CHECK-NEXT: %[[X:[0-9]+]] = "nn.masked_accumulate"(%[[Q]], %[[KV]]) : (tensor<2x4x4xi1>, tensor<2x4x4xf64>) -> tensor<2x4x4xf64>
// CHECK-NEXT: "nn.scale"(%[[X]]) {scale = 1.250000e-01 : f64}
// CHECK-NOT:  nn.mul
// CHECK-NOT:  nn.matmul

// Both pipelines give the same integer graph; the Meta scale 0.125 is gone: 0.125 x against 0.5 is
// the count x shifted left by 9 fractional membrane bits against 8 x 2^9 = 4096.
// INT:      %[[K:[0-9]+]] = "snn.input"() {index = 1 : i64, name = "k"}
// INT:      "spike.and"
// INT-NEXT: "spike.popcount"({{.*}}) {axes = array<i64: 1>, keepdim = true} : (tensor<2x4x4xi1>) -> tensor<2x1x4xi8>
// INT:      "spike.and"
// INT:      %[[KV:[0-9]+]] = "spike.matmul"({{.*}}) : (tensor<2x4x4xi1>, tensor<2x4x4xi1>) -> tensor<2x4x4xi8>
// INT-NEXT: %[[X:[0-9]+]] = "spike.matmul"({{.*}}, %[[KV]]) : (tensor<2x4x4xi1>, tensor<2x4x4xi8>) -> tensor<2x4x4xi16>
// INT-NEXT: %[[A:[0-9]+]] = "nn.reshape"(%[[X]])
// INT-NEXT: %[[S:[0-9]+]] = "spike.requant"(%[[A]]) {rounding = "half_up", shift = -9 : i64}
// INT-NEXT: "spike.lif"(%[[S]]) {{.*}}v_th = 4096 : i64}
// INT-NOT:  nn.scale
// INT-NOT:  spike.dequantize
"builtin.module"() ({
  "snn.graph"() ({
    %q = "snn.input"() {index = 0 : i64, name = "q"} : () -> tensor<2x4x4xi1>
    %k = "snn.input"() {index = 1 : i64, name = "k"} : () -> tensor<2x4x4xi1>
    %v = "snn.input"() {index = 2 : i64, name = "v"} : () -> tensor<2x4x4xi1>
    %kv = "nn.mul"(%k, %v) : (tensor<2x4x4xi1>, tensor<2x4x4xi1>) -> tensor<2x4x4xf64>
    %n = "nn.sum"(%kv) {axes = array<i64: 1>, keepdim = true} : (tensor<2x4x4xf64>) -> tensor<2x1x4xf64>
    %m = "snn.lif"(%n) {alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, v_th = 5.000000e-01 : f64} : (tensor<2x1x4xf64>) -> tensor<2x1x4xi1>
    %y = "nn.mul"(%q, %m) : (tensor<2x4x4xi1>, tensor<2x1x4xi1>) -> tensor<2x4x4xf64>
    %yt = "nn.transpose"(%y) {perm = array<i64: 0, 2, 1>} : (tensor<2x4x4xf64>) -> tensor<2x4x4xf64>
    %yr = "nn.reshape"(%yt) : (tensor<2x4x4xf64>) -> tensor<8x4xf64>
    %p = "nn.linear"(%yr) {weight = dense<[[1.0, -1.0, 0.5, 2.0], [0.25, 1.0, -0.5, 1.0]]> : tensor<2x4xf64>} : (tensor<8x4xf64>) -> tensor<8x2xf64>
    %o1 = "snn.lif"(%p) {alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64} : (tensor<8x2xf64>) -> tensor<8x2xi1>
    "snn.output"(%o1) {index = 0 : i64, name = "v1"} : (tensor<8x2xi1>) -> ()
    %kt = "nn.transpose"(%k) {perm = array<i64: 0, 2, 1>} : (tensor<2x4x4xi1>) -> tensor<2x4x4xi1>
    %ktv = "nn.matmul"(%kt, %v) : (tensor<2x4x4xi1>, tensor<2x4x4xi1>) -> tensor<2x4x4xf64>
    %x = "nn.matmul"(%q, %ktv) : (tensor<2x4x4xi1>, tensor<2x4x4xf64>) -> tensor<2x4x4xf64>
    %xs = "nn.scale"(%x) {scale = 1.250000e-01 : f64} : (tensor<2x4x4xf64>) -> tensor<2x4x4xf64>
    %o2 = "snn.lif"(%xs) {alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, v_th = 5.000000e-01 : f64} : (tensor<2x4x4xf64>) -> tensor<2x4x4xi1>
    "snn.output"(%o2) {index = 1 : i64, name = "meta"} : (tensor<2x4x4xi1>) -> ()
  }) {sym_name = "attn"} : () -> ()
}) : () -> ()
