// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.add: operand shapes must broadcast

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4x3xf32>
    // CHECK: {{.*}}invalid-add-broadcast.mlir:8:{{[0-9]+}}: error: 'nn.add' op operand shapes [4, 3] and [4] do not broadcast
    %y = "nn.add"(%x, %x2) : (tensor<4x3xf32>, tensor<4xf32>) -> tensor<4x3xf32>
    %x2 = "snn.input"() {index = 1 : i64, name = "x2"} : () -> tensor<4xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
