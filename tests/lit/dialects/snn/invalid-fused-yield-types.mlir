// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.fused: the yield's operand types are the result types

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-fused-yield-types.mlir:8:{{[0-9]+}}: error: 'snn.fused' op yields (tensor<4xf32>) but its results are (tensor<4xi1>)
    %u = "snn.fused"(%x) ({
    ^bb0(%a: tensor<4xf32>):
      %s = "nn.scale"(%a) {scale = 2.000000e+00 : f32} : (tensor<4xf32>) -> tensor<4xf32>
      %t = "nn.relu"(%s) : (tensor<4xf32>) -> tensor<4xf32>
      "snn.yield"(%t) : (tensor<4xf32>) -> ()
    }) {kind = "stateless", name = "u"} : (tensor<4xf32>) -> tensor<4xi1>
    "snn.output"(%u) {index = 0 : i64, name = "s"} : (tensor<4xi1>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
