// The torch dialect of a multi-step model ([T, B, ...]: linear -> * 0.5 -> snnc.lif -> mean over T),
// as the PyTorch frontend prints it (weights bound as literals), becomes one per-step snn.graph:
// the T and B axes are stripped, the scalar product is an nn.scale, the neuron op an snn.lif with
// its parameters, and the mean over T the output's readout.
// RUN: snnc opt %s --pass-pipeline=convert-torch-to-snn | filecheck %s
// RUN: snnc opt %s --pass-pipeline='convert-torch-to-snn{readout=mean}' | filecheck %s
// RUN: not snnc opt %s --pass-pipeline='convert-torch-to-snn{readout=sum}' 2>&1 | filecheck %s --check-prefix=CONFLICT
// RUN: not snnc opt %s --pass-pipeline='convert-torch-to-snn{time-layout=step}' 2>&1 | filecheck %s --check-prefix=LAYOUT

// CHECK:      "snn.graph"() ({
// CHECK-NEXT:   %[[X:[0-9]+]] = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
// CHECK-NEXT:   %[[L:[0-9]+]] = "nn.linear"(%[[X]]) {bias = dense<[-0.0114391446, 0.457774937]> : tensor<2xf32>, weight = dense<{{.*}}> : tensor<2x3xf32>} : (tensor<3xf32>) -> tensor<2xf32>
// CHECK-NEXT:   %[[S:[0-9]+]] = "nn.scale"(%[[L]]) {scale = 5.000000e-01 : f32} : (tensor<2xf32>) -> tensor<2xf32>
// CHECK-NEXT:   %[[N:[0-9]+]] = "snn.lif"(%[[S]]) {alpha = 5.000000e-01 : f32, beta = 1.000000e+00 : f32, cmp = "ge", gamma = 0.000000e+00 : f32, reset = "hard", v_init = 0.000000e+00 : f32, v_reset = 0.000000e+00 : f32, v_th = 6.000000e-01 : f32} : (tensor<2xf32>) -> tensor<2xi1>
// CHECK-NEXT:   "snn.output"(%[[N]]) {index = 0 : i64, name = "output", readout = "mean"} : (tensor<2xi1>) -> ()
// CHECK-NEXT: }) {sym_name = "main"} : () -> ()
// CHECK-NOT:  torch.

// CONFLICT: error: output #0: the model itself reads out over time with 'mean', but readout 'sum' was requested
// LAYOUT: error: multi-step neuron 'snnc.lif' needs the time axis first in its input, got leading axes ['B']

"builtin.module"() ({
  "func.func"() <{function_type = (!torch.vtensor<[2,1,3],f32>) -> !torch.vtensor<[1,2],f32>, sym_name = "main"}> ({
  ^bb0(%arg0: !torch.vtensor<[2,1,3],f32>):
    %0 = "torch.vtensor.literal"() {value = dense<[[-0.00432251766, 0.309715837, -0.475185335], [-0.424894601, -0.222368971, 0.154820725]]> : tensor<2x3xf32>} : () -> !torch.vtensor<[2,3],f32>
    %1 = "torch.vtensor.literal"() {value = dense<[-0.0114391446, 0.457774937]> : tensor<2xf32>} : () -> !torch.vtensor<[2],f32>
    %2 = "torch.aten.linear"(%arg0, %0, %1) : (!torch.vtensor<[2,1,3],f32>, !torch.vtensor<[2,3],f32>, !torch.vtensor<[2],f32>) -> !torch.vtensor<[2,1,2],f32>
    %3 = "torch.constant.float"() <{value = 5.000000e-01 : f64}> : () -> !torch.float
    %4 = "torch.aten.mul.Scalar"(%2, %3) : (!torch.vtensor<[2,1,2],f32>, !torch.float) -> !torch.vtensor<[2,1,2],f32>
    %5 = "torch.constant.none"() : () -> !torch.none
    %6 = "torch.constant.float"() <{value = 5.000000e-01 : f64}> : () -> !torch.float
    %7 = "torch.constant.float"() <{value = 1.000000e+00 : f64}> : () -> !torch.float
    %8 = "torch.constant.float"() <{value = 0.000000e+00 : f64}> : () -> !torch.float
    %9 = "torch.constant.float"() <{value = 6.000000e-01 : f64}> : () -> !torch.float
    %10 = "torch.constant.float"() <{value = 0.000000e+00 : f64}> : () -> !torch.float
    %11 = "torch.constant.float"() <{value = 0.000000e+00 : f64}> : () -> !torch.float
    %12 = "torch.constant.str"() <{value = "hard"}> : () -> !torch.str
    %13 = "torch.constant.str"() <{value = "ge"}> : () -> !torch.str
    %14 = "torch.constant.str"() <{value = "atan"}> : () -> !torch.str
    %15 = "torch.constant.float"() <{value = 2.000000e+00 : f64}> : () -> !torch.float
    %16:2 = "torch.operator"(%4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15) <{name = "torch.snnc.lif"}> : (!torch.vtensor<[2,1,2],f32>, !torch.none, !torch.float, !torch.float, !torch.float, !torch.float, !torch.float, !torch.float, !torch.str, !torch.str, !torch.str, !torch.float) -> (!torch.vtensor<[2,1,2],f32>, !torch.vtensor<[1,2],f32>)
    %17 = "torch.constant.int"() <{value = 0 : i64}> : () -> !torch.int
    %18 = "torch.prim.ListConstruct"(%17) : (!torch.int) -> !torch.list<int>
    %19 = "torch.constant.bool"() <{value = false}> : () -> !torch.bool
    %20 = "torch.constant.none"() : () -> !torch.none
    %21 = "torch.aten.mean.dim"(%16#0, %18, %19, %20) : (!torch.vtensor<[2,1,2],f32>, !torch.list<int>, !torch.bool, !torch.none) -> !torch.vtensor<[1,2],f32>
    "func.return"(%21) : (!torch.vtensor<[1,2],f32>) -> ()
  }) {snnc.input_names = ["x"], snnc.readout = "none", snnc.time_layout = "TB"} : () -> ()
}) : () -> ()
