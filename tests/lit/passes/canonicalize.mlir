// RUN: snnc opt %s --pass-pipeline=canonicalize | filecheck %s
// RUN: snnc opt %s --pass-pipeline='builtin.module(canonicalize{fold=false})' | filecheck %s --check-prefix=NOFOLD
// RUN: snnc opt %s --pass-pipeline=canonicalize | snnc opt - --pass-pipeline=canonicalize | filecheck %s

"builtin.module"() ({
  // Identities: reshape to the same type, identity transpose, scale by 1, x + 0, 1 * x.
  // CHECK:      "snn.graph"() ({
  // CHECK-NEXT:   %[[X:[0-9]+]] = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3xf32>
  // CHECK-NEXT:   %[[S:[0-9]+]] = "snn.lif"(%[[X]]) {alpha = {{[^ ]+}} : f32} : (tensor<2x3xf32>) -> tensor<2x3xi1>
  // CHECK-NEXT:   "snn.output"(%[[S]]) {index = 0 : i64, name = "s"} : (tensor<2x3xi1>) -> ()
  // CHECK-NEXT: }) {sym_name = "identities"} : () -> ()
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3xf32>
    %1 = "nn.reshape"(%0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %2 = "nn.transpose"(%1) {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %3 = "nn.scale"(%2) {scale = 1.000000e+00 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %4 = "nn.constant"() {value = dense<0.000000e+00> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
    %5 = "nn.add"(%3, %4) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %6 = "nn.constant"() {value = dense<1.000000e+00> : tensor<3xf32>} : () -> tensor<3xf32>
    %7 = "nn.mul"(%6, %5) : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %8 = "snn.lif"(%7) {alpha = 9.000000e-01 : f32} : (tensor<2x3xf32>) -> tensor<2x3xi1>
    "snn.output"(%8) {index = 0 : i64, name = "s"} : (tensor<2x3xi1>) -> ()
  }) {sym_name = "identities"} : () -> ()

  // Two transposes compose into one; relu(relu(x)) is relu(x).
  // CHECK:      "snn.graph"() ({
  // CHECK-NEXT:   %[[X:[0-9]+]] = "snn.input"
  // CHECK-NEXT:   %[[T:[0-9]+]] = "nn.transpose"(%[[X]]) {perm = array<i64: 2, 1, 0>} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
  // CHECK-NEXT:   %[[R:[0-9]+]] = "nn.relu"(%[[T]])
  // CHECK-NEXT:   "snn.output"(%[[R]])
  // CHECK-NEXT: }) {sym_name = "chains"} : () -> ()
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3x4xf32>
    %1 = "nn.transpose"(%0) {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
    %2 = "nn.transpose"(%1) {perm = array<i64: 1, 0, 2>} : (tensor<3x4x2xf32>) -> tensor<4x3x2xf32>
    %3 = "nn.relu"(%2) : (tensor<4x3x2xf32>) -> tensor<4x3x2xf32>
    %4 = "nn.relu"(%3) : (tensor<4x3x2xf32>) -> tensor<4x3x2xf32>
    "snn.output"(%4) {index = 0 : i64, name = "y"} : (tensor<4x3x2xf32>) -> ()
  }) {sym_name = "chains"} : () -> ()

  // Constant folding: [1, 2, 3] * 2 becomes one constant.
  // CHECK:      "snn.graph"() ({
  // CHECK-NEXT:   %[[X:[0-9]+]] = "snn.input"
  // CHECK-NEXT:   %[[C:[0-9]+]] = "nn.constant"() {value = dense<[2.000000e+00, 4.000000e+00, 6.000000e+00]> : tensor<3xf32>} : () -> tensor<3xf32>
  // CHECK-NEXT:   %[[A:[0-9]+]] = "nn.add"(%[[X]], %[[C]])
  // CHECK-NEXT:   "snn.output"(%[[A]])
  // CHECK-NEXT: }) {sym_name = "folding"} : () -> ()
  // NOFOLD:     "nn.mul"
  // NOFOLD:     }) {sym_name = "folding"} : () -> ()
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    %1 = "nn.constant"() {value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>} : () -> tensor<3xf32>
    %2 = "nn.constant"() {value = dense<2.000000e+00> : tensor<3xf32>} : () -> tensor<3xf32>
    %3 = "nn.mul"(%1, %2) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %4 = "nn.add"(%0, %3) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    "snn.output"(%4) {index = 0 : i64, name = "y"} : (tensor<3xf32>) -> ()
  }) {sym_name = "folding"} : () -> ()

  // Dead code: a recurrent loop (through a delay, forward reference) and a relu that reach
  // no output are removed; the unused input stays (it is part of the graph's signature).
  // CHECK:      "snn.graph"() ({
  // CHECK-NEXT:   %[[X:[0-9]+]] = "snn.input"() {index = 0 : i64, name = "x"}
  // CHECK-NEXT:   "snn.input"() {index = 1 : i64, name = "unused"}
  // CHECK-NEXT:   %[[S:[0-9]+]] = "snn.lif"(%[[X]]) {alpha = 5.000000e-01 : f32}
  // CHECK-NEXT:   "snn.output"(%[[S]])
  // CHECK-NEXT: }) {sym_name = "dead_code"} : () -> ()
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    %1 = "snn.input"() {index = 1 : i64, name = "unused"} : () -> tensor<3xf32>
    %2 = "snn.delay"(%4) {steps = 1 : i64} : (tensor<3xi1>) -> tensor<3xi1>
    %3 = "nn.add"(%0, %2) : (tensor<3xf32>, tensor<3xi1>) -> tensor<3xf32>
    %4 = "snn.lif"(%3) {alpha = 9.000000e-01 : f32} : (tensor<3xf32>) -> tensor<3xi1>
    %5 = "snn.lif"(%0) {alpha = 5.000000e-01 : f32} : (tensor<3xf32>) -> tensor<3xi1>
    %6 = "nn.relu"(%1) : (tensor<3xf32>) -> tensor<3xf32>
    "snn.output"(%5) {index = 0 : i64, name = "s"} : (tensor<3xi1>) -> ()
  }) {sym_name = "dead_code"} : () -> ()

  // A live recurrence is kept as it is.
  // CHECK:      "snn.graph"() ({
  // CHECK-NEXT:   "snn.input"
  // CHECK-NEXT:   "snn.delay"
  // CHECK-NEXT:   "nn.add"
  // CHECK-NEXT:   "snn.lif"
  // CHECK-NEXT:   "snn.output"
  // CHECK-NEXT: }) {sym_name = "recurrent"} : () -> ()
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    %1 = "snn.delay"(%3) {steps = 1 : i64} : (tensor<3xi1>) -> tensor<3xi1>
    %2 = "nn.add"(%0, %1) : (tensor<3xf32>, tensor<3xi1>) -> tensor<3xf32>
    %3 = "snn.lif"(%2) {alpha = 9.000000e-01 : f32} : (tensor<3xf32>) -> tensor<3xi1>
    "snn.output"(%3) {index = 0 : i64, name = "s"} : (tensor<3xi1>) -> ()
  }) {sym_name = "recurrent"} : () -> ()
}) : () -> ()
