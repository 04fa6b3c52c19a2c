// RUN: snnc opt %s --pass-pipeline=fuse-lif | filecheck %s
// RUN: snnc opt %s --pass-pipeline=fuse-lif | snnc opt - --pass-pipeline=fuse-lif | filecheck %s

// Graph 1: a membrane shortcut (the add's other operand %m is a membrane input; its sum %u is
// also an output, so the unit yields it), a spike shortcut (adding two spike tensors before a
// synapse), and a stateless reshape -> transpose chain after the last neuron.
// CHECK-LABEL: "snn.graph"
// CHECK:      %[[X:[0-9]+]] = "snn.input"() {index = 0 : i64, name = "x"}
// CHECK-NEXT: %[[M:[0-9]+]] = "snn.input"() {index = 1 : i64, name = "m"}
// CHECK-NEXT: %[[B:[0-9]+]] = "snn.input"() {index = 2 : i64, name = "b"}
// CHECK-NEXT: %[[U1:[0-9]+]]:2 = "snn.fused"(%[[X]], %[[M]]) ({
// CHECK-NEXT: ^bb0(%[[A0:arg[0-9]+]]: tensor<4xi1>, %[[A1:arg[0-9]+]]: tensor<2xf64>):
// CHECK-NEXT:   %[[L:[0-9]+]] = "nn.linear"(%[[A0]])
// CHECK-NEXT:   %[[N:[0-9]+]] = "nn.batch_norm"(%[[L]])
// CHECK-NEXT:   %[[S:[0-9]+]] = "nn.add"(%[[A1]], %[[N]])
// CHECK-NEXT:   %[[F:[0-9]+]] = "snn.lif"(%[[S]])
// CHECK-NEXT:   "snn.yield"(%[[F]], %[[S]]) : (tensor<2xi1>, tensor<2xf64>) -> ()
// CHECK-NEXT: }) {kind = "lif", name = "lif_0"} : (tensor<4xi1>, tensor<2xf64>) -> (tensor<2xi1>, tensor<2xf64>)
// CHECK-NEXT: %[[U2:[0-9]+]] = "snn.fused"(%[[X]], %[[B]]) ({
// CHECK-NEXT: ^bb0(%[[C0:arg[0-9]+]]: tensor<4xi1>, %[[C1:arg[0-9]+]]: tensor<4xi1>):
// CHECK-NEXT:   %[[XB:[0-9]+]] = "nn.add"(%[[C0]], %[[C1]]) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xf64>
// CHECK-NEXT:   %[[W2:[0-9]+]] = "nn.linear"(%[[XB]])
// CHECK-NEXT:   %[[S2:[0-9]+]] = "snn.if"(%[[W2]])
// CHECK-NEXT:   "snn.yield"(%[[S2]]) : (tensor<3xi1>) -> ()
// CHECK-NEXT: }) {kind = "if", name = "if_1"}
// CHECK-NEXT: %[[U3:[0-9]+]] = "snn.fused"(%[[U2]]) ({
// CHECK-NEXT: ^bb0(%[[D0:arg[0-9]+]]: tensor<3xi1>):
// CHECK-NEXT:   %[[R:[0-9]+]] = "nn.reshape"(%[[D0]])
// CHECK-NEXT:   %[[T:[0-9]+]] = "nn.transpose"(%[[R]])
// CHECK-NEXT:   "snn.yield"(%[[T]]) : (tensor<3x1xi1>) -> ()
// CHECK-NEXT: }) {kind = "stateless", name = "stateless_2"}
// CHECK-NEXT: "snn.output"(%[[U1]]#0) {index = 0 : i64, name = "s"}
// CHECK-NEXT: "snn.output"(%[[U1]]#1) {index = 1 : i64, name = "u"}
// CHECK-NEXT: "snn.output"(%[[U3]]) {index = 2 : i64, name = "t"}

// Graph 2: taking %p (used by the add and by the linear %y outside) would close the cycle
// unit -> %y -> unit without a delay, so the unit takes only ops whose users are all inside.
// CHECK-LABEL: sym_name = "main"
// CHECK:      %[[IN:[0-9]+]] = "snn.input"
// CHECK-NEXT: %[[P:[0-9]+]] = "nn.scale"(%[[IN]])
// CHECK-NEXT: %[[Y:[0-9]+]] = "nn.linear"(%[[P]])
// CHECK-NEXT: %[[V:[0-9]+]] = "snn.fused"(%[[Y]], %[[P]]) ({
// CHECK-NEXT: ^bb0(%[[E0:arg[0-9]+]]: tensor<2xf64>, %[[E1:arg[0-9]+]]: tensor<2xf64>):
// CHECK-NEXT:   %[[Y2:[0-9]+]] = "nn.linear"(%[[E0]])
// CHECK-NEXT:   %[[Z:[0-9]+]] = "nn.add"(%[[E1]], %[[Y2]])
// CHECK-NEXT:   %[[S3:[0-9]+]] = "snn.lif"(%[[Z]])
// CHECK-NEXT:   "snn.yield"(%[[S3]]) : (tensor<2xi1>) -> ()
// CHECK-NEXT: }) {kind = "lif", name = "lif_0"}
// CHECK-NEXT: "snn.output"(%[[V]])
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xi1>
    %m = "snn.input"() {index = 1 : i64, name = "m"} : () -> tensor<2xf64>
    %b = "snn.input"() {index = 2 : i64, name = "b"} : () -> tensor<4xi1>
    %w = "nn.linear"(%x) {weight = dense<[[1.0, 0.5, 0.0, -1.0], [0.25, 0.25, 1.0, 1.0]]> : tensor<2x4xf64>} : (tensor<4xi1>) -> tensor<2xf64>
    %n = "nn.batch_norm"(%w) {eps = 0.0 : f64, mean = dense<[0.0, 1.0]> : tensor<2xf64>, var = dense<[1.0, 4.0]> : tensor<2xf64>} : (tensor<2xf64>) -> tensor<2xf64>
    %u = "nn.add"(%m, %n) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
    %s = "snn.lif"(%u) {alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64} : (tensor<2xf64>) -> tensor<2xi1>
    %xb = "nn.add"(%x, %b) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xf64>
    %w2 = "nn.linear"(%xb) {weight = dense<0.5> : tensor<3x4xf64>} : (tensor<4xf64>) -> tensor<3xf64>
    %s2 = "snn.if"(%w2) {v_th = 1.000000e+00 : f64} : (tensor<3xf64>) -> tensor<3xi1>
    %r = "nn.reshape"(%s2) : (tensor<3xi1>) -> tensor<1x3xi1>
    %t = "nn.transpose"(%r) {perm = array<i64: 1, 0>} : (tensor<1x3xi1>) -> tensor<3x1xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
    "snn.output"(%u) {index = 1 : i64, name = "u"} : (tensor<2xf64>) -> ()
    "snn.output"(%t) {index = 2 : i64, name = "t"} : (tensor<3x1xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
  "snn.graph"() ({
    %in = "snn.input"() {index = 0 : i64, name = "in"} : () -> tensor<2xf64>
    %p = "nn.scale"(%in) {scale = 2.000000e+00 : f64} : (tensor<2xf64>) -> tensor<2xf64>
    %y = "nn.linear"(%p) {weight = dense<[[1.0, -1.0], [0.5, 0.5]]> : tensor<2x2xf64>} : (tensor<2xf64>) -> tensor<2xf64>
    %y2 = "nn.linear"(%y) {weight = dense<[[0.0, 1.0], [1.0, 0.0]]> : tensor<2x2xf64>} : (tensor<2xf64>) -> tensor<2xf64>
    %z = "nn.add"(%p, %y2) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
    %s = "snn.lif"(%z) {alpha = 5.000000e-01 : f64} : (tensor<2xf64>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
  }) {sym_name = "cycle"} : () -> ()
}) : () -> ()
