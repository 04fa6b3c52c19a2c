// One of every nn op; printing, re-parsing and printing again keeps each one.
// RUN: snnc opt %s | snnc opt - | filecheck %s

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    %img = "snn.input"() {index = 1 : i64, name = "img"} : () -> tensor<2x6x6xf32>
    %seq = "snn.input"() {index = 2 : i64, name = "seq"} : () -> tensor<2x8xf32>
    %s = "snn.input"() {index = 3 : i64, name = "s"} : () -> tensor<3xi1>
    %seq8 = "snn.input"() {index = 4 : i64, name = "v"} : () -> tensor<8xf32>
    %c = "nn.constant"() {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : () -> tensor<3xf32>
    %lin = "nn.linear"(%x) {bias = dense<0.5> : tensor<2xf32>, weight = dense<[[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]> : tensor<2x3xf32>} : (tensor<3xf32>) -> tensor<2xf32>
    %lres = "nn.linear"(%x) {weight = dense_resource<fc_w> : tensor<2x3xf32>} : (tensor<3xf32>) -> tensor<2xf32>
    %lins = "nn.linear"(%s) {weight = dense<1.0> : tensor<2x3xf32>} : (tensor<3xi1>) -> tensor<2xf32>
    %c1 = "nn.conv1d"(%seq) {dilation = array<i64: 1>, padding = array<i64: 1>, stride = array<i64: 1>, weight = dense<1.0> : tensor<4x2x3xf32>} : (tensor<2x8xf32>) -> tensor<4x8xf32>
    %c2 = "nn.conv2d"(%img) {groups = 2 : i64, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>, weight = dense<1.0> : tensor<4x1x3x3xf32>} : (tensor<2x6x6xf32>) -> tensor<4x3x3xf32>
    %bn = "nn.batch_norm"(%c2) {eps = 1.000000e-05 : f64, mean = dense<0.0> : tensor<4xf32>, var = dense<1.0> : tensor<4xf32>} : (tensor<4x3x3xf32>) -> tensor<4x3x3xf32>
    %add = "nn.add"(%x, %c) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %sub = "nn.sub"(%add, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %mul = "nn.mul"(%s, %sub) : (tensor<3xi1>, tensor<3xf32>) -> tensor<3xf32>
    %sc = "nn.scale"(%mul) {scale = 2.500000e-01 : f32} : (tensor<3xf32>) -> tensor<3xf32>
    %sp = "nn.sum_pool2d"(%img) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x6x6xf32>) -> tensor<2x3x3xf32>
    %ap = "nn.avg_pool2d"(%img) {kernel_size = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x6x6xf32>) -> tensor<2x3x3xf32>
    %mp = "nn.max_pool2d"(%img) {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x6x6xf32>) -> tensor<2x3x3xf32>
    %fl = "nn.flatten"(%mp) {end_dim = -1 : i64, start_dim = 0 : i64} : (tensor<2x3x3xf32>) -> tensor<18xf32>
    %rs = "nn.reshape"(%fl) : (tensor<18xf32>) -> tensor<6x3xf32>
    %tr = "nn.transpose"(%rs) {perm = array<i64: 1, 0>} : (tensor<6x3xf32>) -> tensor<3x6xf32>
    %mm = "nn.matmul"(%rs, %tr) : (tensor<6x3xf32>, tensor<3x6xf32>) -> tensor<6x6xf32>
    %mv = "nn.matmul"(%c1, %seq8) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4xf32>
    %cat = "nn.concat"(%sp, %ap) {axis = 0 : i64} : (tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<4x3x3xf32>
    %relu = "nn.relu"(%bn) : (tensor<4x3x3xf32>) -> tensor<4x3x3xf32>
    %sum = "nn.sum"(%cat) {axes = array<i64: 1, 2>, keepdim = false} : (tensor<4x3x3xf32>) -> tensor<4xf32>
    %mean = "nn.mean"(%relu) {axes = array<i64: 0>, keepdim = true} : (tensor<4x3x3xf32>) -> tensor<1x3x3xf32>
    "snn.output"(%lin) {index = 0 : i64, name = "lin"} : (tensor<2xf32>) -> ()
    "snn.output"(%lins) {index = 1 : i64, name = "lins"} : (tensor<2xf32>) -> ()
    "snn.output"(%sc) {index = 2 : i64, name = "sc"} : (tensor<3xf32>) -> ()
    "snn.output"(%mm) {index = 3 : i64, name = "mm"} : (tensor<6x6xf32>) -> ()
    "snn.output"(%tr) {index = 4 : i64, name = "tr"} : (tensor<3x6xf32>) -> ()
    "snn.output"(%sum) {index = 5 : i64, name = "sum"} : (tensor<4xf32>) -> ()
    "snn.output"(%mean) {index = 6 : i64, name = "mean"} : (tensor<1x3x3xf32>) -> ()
    "snn.output"(%mv) {index = 7 : i64, name = "mv"} : (tensor<4xf32>) -> ()
    "snn.output"(%lres) {index = 8 : i64, name = "lres"} : (tensor<2xf32>) -> ()
  }) {sym_name = "nn_ops"} : () -> ()
}) : () -> ()

{-#
  dialect_resources: {
    builtin: {
      fc_w: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F"
    }
  }
#-}

// CHECK: "snn.graph"() ({
// CHECK: "nn.constant"() {value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>} : () -> tensor<3xf32>
// CHECK: "nn.linear"(%{{.*}}) {bias = dense<5.000000e-01> : tensor<2xf32>, weight = dense<{{\[\[}}1.000000e+00, 0.000000e+00, 2.000000e+00], [0.000000e+00, 1.000000e+00, -1.000000e+00]]> : tensor<2x3xf32>} : (tensor<3xf32>) -> tensor<2xf32>
// CHECK: "nn.linear"(%{{.*}}) {weight = dense_resource<fc_w> : tensor<2x3xf32>} : (tensor<3xf32>) -> tensor<2xf32>
// CHECK: "nn.linear"(%{{.*}}) {weight = dense<1.000000e+00> : tensor<2x3xf32>} : (tensor<3xi1>) -> tensor<2xf32>
// CHECK: "nn.conv1d"(%{{.*}}) {dilation = array<i64: 1>, padding = array<i64: 1>, stride = array<i64: 1>, weight = dense<1.000000e+00> : tensor<4x2x3xf32>} : (tensor<2x8xf32>) -> tensor<4x8xf32>
// CHECK: "nn.conv2d"(%{{.*}}) {groups = 2 : i64, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>, weight = dense<1.000000e+00> : tensor<4x1x3x3xf32>} : (tensor<2x6x6xf32>) -> tensor<4x3x3xf32>
// CHECK: "nn.batch_norm"(%{{.*}}) {eps = 1.000000e-05 : f64, mean = dense<0.000000e+00> : tensor<4xf32>, var = dense<1.000000e+00> : tensor<4xf32>} : (tensor<4x3x3xf32>) -> tensor<4x3x3xf32>
// CHECK: "nn.add"(%{{.*}}, %{{.*}}) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: "nn.sub"(%{{.*}}, %{{.*}}) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: "nn.mul"(%{{.*}}, %{{.*}}) : (tensor<3xi1>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: "nn.scale"(%{{.*}}) {scale = 2.500000e-01 : f32} : (tensor<3xf32>) -> tensor<3xf32>
// CHECK: "nn.sum_pool2d"(%{{.*}}) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x6x6xf32>) -> tensor<2x3x3xf32>
// CHECK: "nn.avg_pool2d"(%{{.*}}) {kernel_size = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>}
// CHECK: "nn.max_pool2d"(%{{.*}}) {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>}
// CHECK: "nn.flatten"(%{{.*}}) {end_dim = -1 : i64, start_dim = 0 : i64} : (tensor<2x3x3xf32>) -> tensor<18xf32>
// CHECK: "nn.reshape"(%{{.*}}) : (tensor<18xf32>) -> tensor<6x3xf32>
// CHECK: "nn.transpose"(%{{.*}}) {perm = array<i64: 1, 0>} : (tensor<6x3xf32>) -> tensor<3x6xf32>
// CHECK: "nn.matmul"(%{{.*}}, %{{.*}}) : (tensor<6x3xf32>, tensor<3x6xf32>) -> tensor<6x6xf32>
// CHECK: "nn.matmul"(%{{.*}}, %{{.*}}) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4xf32>
// CHECK: "nn.concat"(%{{.*}}, %{{.*}}) {axis = 0 : i64} : (tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<4x3x3xf32>
// CHECK: "nn.relu"(%{{.*}}) : (tensor<4x3x3xf32>) -> tensor<4x3x3xf32>
// CHECK: "nn.sum"(%{{.*}}) {axes = array<i64: 1, 2>, keepdim = false} : (tensor<4x3x3xf32>) -> tensor<4xf32>
// CHECK: "nn.mean"(%{{.*}}) {axes = array<i64: 0>, keepdim = true} : (tensor<4x3x3xf32>) -> tensor<1x3x3xf32>
// CHECK: }) {sym_name = "nn_ops"} : () -> ()
// CHECK: dialect_resources
// CHECK: fc_w: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F"
