// One of every spike op; printing, re-parsing and printing again keeps each one.
// RUN: snnc opt %s | snnc opt - | filecheck %s

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    %s = "snn.input"() {index = 1 : i64, name = "s"} : () -> tensor<2x4x4xi1>
    %t = "snn.input"() {index = 2 : i64, name = "t"} : () -> tensor<3xsi2>
    // CHECK: "spike.quantize"(%{{[0-9]+}}) {scale = 6.350000e+01 : f64} : (tensor<3xf32>) -> tensor<3xi8>
    %q = "spike.quantize"(%x) {scale = 6.350000e+01 : f64} : (tensor<3xf32>) -> tensor<3xi8>
    // CHECK: "spike.accumulate_dense"(%{{[0-9]+}}) {weight = dense<{{\[\[}}1, -2, 3], [4, 5, -6]]> : tensor<2x3xi8>} : (tensor<3xi8>) -> tensor<2xi32>
    %d = "spike.accumulate_dense"(%q) {weight = dense<[[1, -2, 3], [4, 5, -6]]> : tensor<2x3xi8>} : (tensor<3xi8>) -> tensor<2xi32>
    // CHECK: "spike.accumulate"(%{{[0-9]+}}) {weight = dense<1> : tensor<2x3xi2>} : (tensor<3xsi2>) -> tensor<2xi16>
    %a = "spike.accumulate"(%t) {weight = dense<1> : tensor<2x3xi2>} : (tensor<3xsi2>) -> tensor<2xi16>
    // CHECK: "spike.accumulate_conv2d"(%{{[0-9]+}}) {groups = 1 : i64, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>, weight = dense<-1> : tensor<3x2x3x3xi4>} : (tensor<2x4x4xi1>) -> tensor<3x2x2xi16>
    %c = "spike.accumulate_conv2d"(%s) {groups = 1 : i64, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>, weight = dense<-1> : tensor<3x2x3x3xi4>} : (tensor<2x4x4xi1>) -> tensor<3x2x2xi16>
    // CHECK: "spike.sum_pool2d"(%{{[0-9]+}}) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x4x4xi1>) -> tensor<2x2x2xi8>
    %p = "spike.sum_pool2d"(%s) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x4x4xi1>) -> tensor<2x2x2xi8>
    // CHECK: "spike.max_pool2d"(%{{[0-9]+}}) {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x4x4xi1>) -> tensor<2x2x2xi1>
    %mp = "spike.max_pool2d"(%s) {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x4x4xi1>) -> tensor<2x2x2xi1>
    // CHECK: "spike.add"
    %sum = "spike.add"(%a, %d) : (tensor<2xi16>, tensor<2xi32>) -> tensor<2xi32>
    // CHECK: "spike.requant"(%{{[0-9]+}}) {rounding = "half_up", shift = 3 : i64} : (tensor<2xi32>) -> tensor<2xi8>
    %r = "spike.requant"(%sum) {rounding = "half_up", shift = 3 : i64} : (tensor<2xi32>) -> tensor<2xi8>
    // CHECK: "spike.and"
    %and = "spike.and"(%s, %s) : (tensor<2x4x4xi1>, tensor<2x4x4xi1>) -> tensor<2x4x4xi1>
    // CHECK: "spike.popcount"(%{{[0-9]+}}) {axes = array<i64: 1, 2>} : (tensor<2x4x4xi1>) -> tensor<2xi8>
    %n = "spike.popcount"(%and) {axes = array<i64: 1, 2>} : (tensor<2x4x4xi1>) -> tensor<2xi8>
    // CHECK: "spike.matmul"(%{{[0-9]+}}, %{{[0-9]+}}) : (tensor<2x4x4xi1>, tensor<2x4x4xi1>) -> tensor<2x4x4xi8>
    %mm = "spike.matmul"(%s, %and) : (tensor<2x4x4xi1>, tensor<2x4x4xi1>) -> tensor<2x4x4xi8>
    // CHECK: "spike.lif"(%{{[0-9]+}}) {cmp = "gt", leak_shift = 1 : i64, membrane_bits = 12 : i64, reset = "soft", v_th = dense<[5, 7]> : tensor<2xi64>} : (tensor<2xi32>) -> tensor<2xsi2>
    %l = "spike.lif"(%sum) {cmp = "gt", leak_shift = 1 : i64, membrane_bits = 12 : i64, reset = "soft", v_th = dense<[5, 7]> : tensor<2xi64>} : (tensor<2xi32>) -> tensor<2xsi2>
    // CHECK: "spike.li"(%{{[0-9]+}}) {decay = 230 : i64, frac_bits = 8 : i64, leak_mode = "mul", membrane_bits = 16 : i64} : (tensor<2xi8>) -> tensor<2xi16>
    %v = "spike.li"(%r) {decay = 230 : i64, frac_bits = 8 : i64, leak_mode = "mul", membrane_bits = 16 : i64} : (tensor<2xi8>) -> tensor<2xi16>
    // CHECK: "spike.dequantize"(%{{[0-9]+}}) {scale = 1.250000e-01 : f64} : (tensor<2xi16>) -> tensor<2xf32>
    %f = "spike.dequantize"(%v) {scale = 1.250000e-01 : f64} : (tensor<2xi16>) -> tensor<2xf32>
    "snn.output"(%l) {index = 0 : i64, name = "l"} : (tensor<2xsi2>) -> ()
    "snn.output"(%f) {index = 1 : i64, name = "f"} : (tensor<2xf32>) -> ()
    "snn.output"(%c) {index = 2 : i64, name = "c"} : (tensor<3x2x2xi16>) -> ()
    "snn.output"(%p) {index = 3 : i64, name = "p"} : (tensor<2x2x2xi8>) -> ()
    "snn.output"(%n) {index = 4 : i64, name = "n"} : (tensor<2xi8>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
