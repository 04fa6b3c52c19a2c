// Generic form in, the same generic form out: torch-style ops with properties, regions
// with block arguments and several blocks, multi-result ops, forward references in a
// graph region, every kind of attribute, and a dense_resource blob.
// RUN: snnc opt %s | filecheck %s
// RUN: snnc opt %s | snnc opt - | filecheck %s

// CHECK-LABEL: "builtin.module"() ({
"builtin.module"() ({
  // CHECK-NEXT: "func.func"() <{function_type = (!torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,3],f32>, sym_name = "main"}> ({
  // CHECK-NEXT: ^bb0(%arg1: !torch.vtensor<[2,3],f32>):
  // CHECK-NEXT:   %3 = "torch.constant.int"() <{value = 1 : i64}> : () -> !torch.int
  // CHECK-NEXT:   %4 = "torch.prim.ListConstruct"(%3, %3) : (!torch.int, !torch.int) -> !torch.list<int>
  // CHECK-NEXT:   %5 = "torch.vtensor.literal"() <{value = dense_resource<torch_tensor_3_torch.float32_1> : tensor<3xf32>}> : () -> !torch.vtensor<[3],f32>
  // CHECK-NEXT:   "func.return"(%arg1) : (!torch.vtensor<[2,3],f32>) -> ()
  // CHECK-NEXT: }) : () -> ()
  "func.func"() <{function_type = (!torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,3],f32>, sym_name = "main"}> ({
  ^bb0(%x: !torch.vtensor<[2,3],f32>):
    %one = "torch.constant.int"() <{value = 1 : i64}> : () -> !torch.int
    %list = "torch.prim.ListConstruct"(%one, %one) : (!torch.int, !torch.int) -> !torch.list<int>
    %lit = "torch.vtensor.literal"() <{value = dense_resource<torch_tensor_3_torch.float32_1> : tensor<3xf32>}> : () -> !torch.vtensor<[3],f32>
    "func.return"(%x) : (!torch.vtensor<[2,3],f32>) -> ()
  }) : () -> ()
  // Forward reference (the module body is a graph region), multi-result op, `%0#1` uses.
  // CHECK-NEXT: "test.use"(%1#1) : (i1) -> ()
  // CHECK-NEXT: %0 = "test.attrs"() {a = 1.000000e-01 : f32, b = 0x7F800000 : f32, c = 0.123456789 : f64, d = -1 : i8, e = true, f = "tab\09quote\22", g = [unit, f32, @sym], h = {x = 2 : i64, y}, i = array<i64: 1, -2>, j = array<f32>, k = dense<[[1.000000e+00, 2.500000e+00], [-3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>, l = dense<true> : tensor<3xi1>, m = dense<> : tensor<0xf32>, n = #foo.bar<"x">, o = 7 : index} : () -> tensor<2xf32>
  // CHECK-NEXT: %1:2 = "test.pair"(%0) : (tensor<2xf32>) -> (tensor<2xf32>, i1)
  "test.use"(%p#1) : (i1) -> ()
  %a = "test.attrs"() {o = 7 : index, n = #foo.bar<"x">, m = dense<> : tensor<0xf32>, l = dense<true> : tensor<3xi1>, k = dense<[[1.0, 2.5], [-3.0, 4.0]]> : tensor<2x2xf32>, j = array<f32>, i = array<i64: 1, -2>, h = {y, x = 2}, g = [unit, f32, @sym], f = "tab\09quote\"", e = 1 : i1, d = 255 : i8, c = 0.123456789 : f64, b = 0x7F800000 : f32, a = 0.1 : f32} : () -> tensor<2xf32>
  %p:2 = "test.pair"(%a) : (tensor<2xf32>) -> (tensor<2xf32>, i1)
  // Two blocks: the second is labelled and marked as having no predecessors.
  // CHECK-NEXT: "test.blocks"() ({
  // CHECK-NEXT: ^bb0(%arg0: f32):
  // CHECK-NEXT:   "test.t"(%arg0) : (f32) -> ()
  // CHECK-NEXT: ^bb1(%2: i1):  // no predecessors
  // CHECK-NEXT:   "test.t"(%2) : (i1) -> ()
  // CHECK-NEXT: }, {
  // CHECK-NEXT: }) : () -> ()
  "test.blocks"() ({
  ^entry(%f: f32):
    "test.t"(%f) : (f32) -> ()
  ^other(%b: i1):
    "test.t"(%b) : (i1) -> ()
  }, {
  }) : () -> ()
}) : () -> ()
// CHECK-NEXT: }) : () -> ()
// CHECK-EMPTY:
// CHECK-NEXT: {-#
// CHECK-NEXT:   dialect_resources: {
// CHECK-NEXT:     builtin: {
// CHECK-NEXT:       torch_tensor_3_torch.float32_1: "0x040000000000803F000000400000C0BF"
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT: #-}

{-#
  dialect_resources: {
    builtin: {
      torch_tensor_3_torch.float32_1: "0x040000000000803F000000400000C0BF"
    }
  }
#-}
