// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.concat: sizes outside the axis must agree

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3xf32>
    // CHECK: {{.*}}invalid-concat.mlir:8:{{[0-9]+}}: error: 'nn.concat' op input #1 shape [2, 4] does not match [2, 3] outside axis 0
    %y = "nn.concat"(%x, %x2) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
    %x2 = "snn.input"() {index = 1 : i64, name = "x2"} : () -> tensor<2x4xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
