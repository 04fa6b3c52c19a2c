// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.causal_filter: the weight must be lower-triangular (no future steps)

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-causal-filter-upper.mlir:8:{{[0-9]+}}: error: 'snn.causal_filter' op weight must be lower-triangular (the filter may not read future steps): weight[0, 1] = 0.5 lies above the diagonal
    %y = "snn.causal_filter"(%x) {weight = dense<[[1.0, 0.5], [0.0, 1.0]]> : tensor<2x2xf32>} : (tensor<4xf32>) -> tensor<4xf32>
    "snn.output"(%y) {index = 0 : i64, name = "y"} : (tensor<4xf32>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
