// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.fused: a neuron kind holds exactly one neuron of that kind

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-fused-kind.mlir:8:{{[0-9]+}}: error: 'snn.fused' op kind 'if' must hold exactly one neuron, an 'snn.if'; holds 'snn.lif'
    %u = "snn.fused"(%x) ({
    ^bb0(%a: tensor<4xf32>):
      %l = "snn.lif"(%a) {alpha = 5.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xi1>
      "snn.yield"(%l) : (tensor<4xi1>) -> ()
    }) {kind = "if", name = "u"} : (tensor<4xf32>) -> tensor<4xi1>
    "snn.output"(%u) {index = 0 : i64, name = "s"} : (tensor<4xi1>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
