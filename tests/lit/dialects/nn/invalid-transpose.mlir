// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.transpose: perm must be a permutation

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3xf32>
    // CHECK: {{.*}}invalid-transpose.mlir:8:{{[0-9]+}}: error: 'nn.transpose' op perm [0, 2] is not a permutation of the 2 input axes
    %y = "nn.transpose"(%x) {perm = array<i64: 0, 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
