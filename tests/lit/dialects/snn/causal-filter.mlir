// snn.causal_filter: printing, re-parsing and printing again keeps it (weight inline and as a resource).
// RUN: snnc opt %s | snnc opt - | filecheck %s

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3xf64>
    %s = "snn.input"() {index = 1 : i64, name = "s"} : () -> tensor<4xi1>
    %y = "snn.causal_filter"(%x) {weight = dense<[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.25, 0.25, 0.5]]> : tensor<3x3xf64>} : (tensor<2x3xf64>) -> tensor<2x3xf64>
    %z = "snn.causal_filter"(%s) {weight = dense<[[2.0, 0.0], [-1.0, 3.0]]> : tensor<2x2xf32>} : (tensor<4xi1>) -> tensor<4xf32>
    "snn.output"(%y) {index = 0 : i64, name = "y"} : (tensor<2x3xf64>) -> ()
    "snn.output"(%z) {index = 1 : i64, name = "z"} : (tensor<4xf32>) -> ()
  }) {sym_name = "filters"} : () -> ()
}) : () -> ()

// CHECK: %[[X:[0-9]+]] = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3xf64>
// CHECK: %[[S:[0-9]+]] = "snn.input"() {index = 1 : i64, name = "s"} : () -> tensor<4xi1>
// CHECK: %[[Y:[0-9]+]] = "snn.causal_filter"(%[[X]]) {weight = dense<{{\[\[}}1.000000e+00, 0.000000e+00, 0.000000e+00], [5.000000e-01, 5.000000e-01, 0.000000e+00], [2.500000e-01, 2.500000e-01, 5.000000e-01]]> : tensor<3x3xf64>} : (tensor<2x3xf64>) -> tensor<2x3xf64>
// CHECK: %[[Z:[0-9]+]] = "snn.causal_filter"(%[[S]]) {weight = dense<{{\[\[}}2.000000e+00, 0.000000e+00], [-1.000000e+00, 3.000000e+00]]> : tensor<2x2xf32>} : (tensor<4xi1>) -> tensor<4xf32>
// CHECK: "snn.output"(%[[Y]]) {index = 0 : i64, name = "y"}
// CHECK: "snn.output"(%[[Z]]) {index = 1 : i64, name = "z"}
