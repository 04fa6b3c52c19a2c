// RUN: not snnc opt %s 2>&1 | filecheck %s
// spike.accumulate: the accumulator must be at least as wide as the weights

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xi1>
    // CHECK: {{.*}}invalid-accumulate-width.mlir:8:{{[0-9]+}}: error: 'spike.accumulate' op weight width 8 exceeds the accumulator width 4
    %y = "spike.accumulate"(%x) {weight = dense<[[1, 2, 3]]> : tensor<1x3xi8>} : (tensor<3xi1>) -> tensor<1xi4>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
