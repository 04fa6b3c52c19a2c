// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.fused: the region is isolated (its ops use only its arguments and earlier results)

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    %u = "snn.fused"(%x) ({
    ^bb0(%a: tensor<4xf32>):
      // CHECK: {{.*}}invalid-fused-outside-value.mlir:10:{{[0-9]+}}: error: 'nn.scale' op operand #0 is not a region argument or an earlier result of the enclosing 'snn.fused'
      %s = "nn.scale"(%x) {scale = 2.000000e+00 : f32} : (tensor<4xf32>) -> tensor<4xf32>
      %l = "snn.lif"(%s) {alpha = 5.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xi1>
      "snn.yield"(%l) : (tensor<4xi1>) -> ()
    }) {kind = "lif", name = "u"} : (tensor<4xf32>) -> tensor<4xi1>
    "snn.output"(%u) {index = 0 : i64, name = "s"} : (tensor<4xi1>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
