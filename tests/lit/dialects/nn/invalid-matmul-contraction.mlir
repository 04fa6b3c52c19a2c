// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.matmul: contraction dimensions must agree

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4x8xf32>
    // CHECK: {{.*}}invalid-matmul-contraction.mlir:8:{{[0-9]+}}: error: 'nn.matmul' op contraction dimensions differ: [4, 8] x [4, 8]
    %y = "nn.matmul"(%x, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
