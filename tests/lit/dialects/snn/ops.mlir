// One of every snn op; printing, re-parsing and printing again keeps each one.
// RUN: snnc opt %s | snnc opt - | filecheck %s

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    %in = "nn.add"(%x, %fb) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %lif = "snn.lif"(%in) {alpha = 5.000000e-01 : f32, beta = 5.000000e-01 : f32, cmp = "gt", gamma = 0.000000e+00 : f32, reset = "hard", v_init = 0.000000e+00 : f32, v_reset = 0.000000e+00 : f32, v_th = 1.000000e+00 : f32} : (tensor<4xf32>) -> tensor<4xi1>
    %d = "snn.delay"(%lif) {steps = 1 : i64} : (tensor<4xi1>) -> tensor<4xi1>
    %fb = "nn.scale"(%d) {scale = 5.000000e-01 : f32} : (tensor<4xi1>) -> tensor<4xf32>
    %if = "snn.if"(%x) {reset = "soft", v_th = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xi1>
    %cl = "snn.cuba_lif"(%lif) {alpha = 7.500000e-01 : f32, alpha_syn = 2.500000e-01 : f32, beta_syn = 2.000000e+00 : f32} : (tensor<4xi1>) -> tensor<4xi1>
    %li = "snn.li"(%x) {alpha = 7.500000e-01 : f32, beta = 1.250000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
    %cli = "snn.cuba_li"(%if) {alpha = 7.500000e-01 : f32, alpha_syn = 2.500000e-01 : f32} : (tensor<4xi1>) -> tensor<4xf32>
    %int = "snn.integrator"(%x) {beta = 1.000000e+00 : f32, gamma = -1.250000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
    %th = "snn.threshold"(%int) {cmp = "ge", theta = 5.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xsi2>
    %d3 = "snn.delay"(%th) {steps = 3 : i64} : (tensor<4xsi2>) -> tensor<4xsi2>
    "snn.output"(%lif) {index = 0 : i64, name = "lif"} : (tensor<4xi1>) -> ()
    "snn.output"(%cl) {index = 1 : i64, name = "cuba_lif"} : (tensor<4xi1>) -> ()
    "snn.output"(%li) {index = 2 : i64, name = "li"} : (tensor<4xf32>) -> ()
    "snn.output"(%cli) {index = 3 : i64, name = "cuba_li"} : (tensor<4xf32>) -> ()
    "snn.output"(%d3) {index = 4 : i64, name = "ternary"} : (tensor<4xsi2>) -> ()
  }) {sym_name = "snn_ops"} : () -> ()
}) : () -> ()

// CHECK: "snn.graph"() ({
// CHECK: %[[X:[0-9]+]] = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
// CHECK: "nn.add"(%[[X]], %[[FB:[0-9]+]]) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: %[[LIF:[0-9]+]] = "snn.lif"(%{{[0-9]+}}) {alpha = 5.000000e-01 : f32, beta = 5.000000e-01 : f32, cmp = "gt", gamma = 0.000000e+00 : f32, reset = "hard", v_init = 0.000000e+00 : f32, v_reset = 0.000000e+00 : f32, v_th = 1.000000e+00 : f32} : (tensor<4xf32>) -> tensor<4xi1>
// CHECK: %[[D:[0-9]+]] = "snn.delay"(%[[LIF]]) {steps = 1 : i64} : (tensor<4xi1>) -> tensor<4xi1>
// CHECK: %[[FB]] = "nn.scale"(%[[D]]) {scale = 5.000000e-01 : f32} : (tensor<4xi1>) -> tensor<4xf32>
// CHECK: "snn.if"(%[[X]]) {reset = "soft", v_th = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xi1>
// CHECK: "snn.cuba_lif"(%[[LIF]]) {alpha = 7.500000e-01 : f32, alpha_syn = 2.500000e-01 : f32, beta_syn = 2.000000e+00 : f32} : (tensor<4xi1>) -> tensor<4xi1>
// CHECK: "snn.li"(%[[X]]) {alpha = 7.500000e-01 : f32, beta = 1.250000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK: "snn.cuba_li"(%{{[0-9]+}}) {alpha = 7.500000e-01 : f32, alpha_syn = 2.500000e-01 : f32} : (tensor<4xi1>) -> tensor<4xf32>
// CHECK: "snn.integrator"(%[[X]]) {beta = 1.000000e+00 : f32, gamma = -1.250000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK: "snn.threshold"(%{{[0-9]+}}) {cmp = "ge", theta = 5.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xsi2>
// CHECK: "snn.delay"(%{{[0-9]+}}) {steps = 3 : i64} : (tensor<4xsi2>) -> tensor<4xsi2>
// CHECK: "snn.output"(%[[LIF]]) {index = 0 : i64, name = "lif"} : (tensor<4xi1>) -> ()
// CHECK: "snn.output"(%{{[0-9]+}}) {index = 4 : i64, name = "ternary"} : (tensor<4xsi2>) -> ()
// CHECK: }) {sym_name = "snn_ops"} : () -> ()
