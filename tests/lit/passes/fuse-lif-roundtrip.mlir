// snn.fused / snn.yield as input: printing, re-parsing and printing again keeps them, and
// quantize accepts fused IR (it inlines the units first).  The recurrence closes through
// the unit and the delay outside it.
// RUN: snnc opt %s | snnc opt - | filecheck %s
// RUN: snnc opt %s --pass-pipeline=quantize | filecheck %s --check-prefix=QUANT

// CHECK:      %[[X:[0-9]+]] = "snn.input"
// CHECK-NEXT: %[[U:[0-9]+]]:2 = "snn.fused"(%[[X]], %[[D:[0-9]+]]) ({
// CHECK-NEXT: ^bb0(%[[A:arg[0-9]+]]: tensor<4xi1>, %[[B:arg[0-9]+]]: tensor<3xi1>):
// CHECK-NEXT:   %[[F:[0-9]+]] = "nn.linear"(%[[A]])
// CHECK-NEXT:   %[[R:[0-9]+]] = "nn.linear"(%[[B]])
// CHECK-NEXT:   %[[S:[0-9]+]] = "nn.add"(%[[F]], %[[R]])
// CHECK-NEXT:   %[[L:[0-9]+]] = "snn.lif"(%[[S]])
// CHECK-NEXT:   "snn.yield"(%[[L]], %[[S]]) : (tensor<3xi1>, tensor<3xf32>) -> ()
// CHECK-NEXT: }) {kind = "lif", name = "rec"} : (tensor<4xi1>, tensor<3xi1>) -> (tensor<3xi1>, tensor<3xf32>)
// CHECK-NEXT: %[[D]] = "snn.delay"(%[[U]]#0)
// CHECK-NEXT: "snn.output"(%[[U]]#0)
// CHECK-NEXT: "snn.output"(%[[U]]#1)

// QUANT:      "snn.graph"
// QUANT-NOT:  snn.fused
// QUANT:      %[[ACC:[0-9]+]] = "spike.accumulate"
// QUANT:      %[[SUM:[0-9]+]] = "spike.add"
// QUANT-NEXT: "spike.lif"(%[[SUM]])
// QUANT-NOT:  snn.fused
// QUANT:      sym_name = "main"
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xi1>
    %u:2 = "snn.fused"(%x, %d) ({
    ^bb0(%a: tensor<4xi1>, %b: tensor<3xi1>):
      %f = "nn.linear"(%a) {weight = dense<[[1.0, 0.5, 0.0, -1.0], [0.25, 0.25, 1.0, 1.0], [0.5, 0.5, 0.5, 0.5]]> : tensor<3x4xf32>} : (tensor<4xi1>) -> tensor<3xf32>
      %r = "nn.linear"(%b) {weight = dense<-0.5> : tensor<3x3xf32>} : (tensor<3xi1>) -> tensor<3xf32>
      %s = "nn.add"(%f, %r) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      %l = "snn.lif"(%s) {alpha = 5.000000e-01 : f32, v_th = 1.000000e+00 : f32} : (tensor<3xf32>) -> tensor<3xi1>
      "snn.yield"(%l, %s) : (tensor<3xi1>, tensor<3xf32>) -> ()
    }) {kind = "lif", name = "rec"} : (tensor<4xi1>, tensor<3xi1>) -> (tensor<3xi1>, tensor<3xf32>)
    %d = "snn.delay"(%u#0) {steps = 1 : i64} : (tensor<3xi1>) -> tensor<3xi1>
    "snn.output"(%u#0) {index = 0 : i64, name = "s"} : (tensor<3xi1>) -> ()
    "snn.output"(%u#1) {index = 1 : i64, name = "v"} : (tensor<3xf32>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
