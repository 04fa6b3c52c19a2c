// An aten op without a converter is a diagnostic naming the op, located at the model's Python
// line (the innermost frame outside torch and snnc of the op's call-site location).
// RUN: not snnc opt %s --pass-pipeline=convert-torch-to-snn 2>&1 | filecheck %s

// CHECK: model.py:12:1: error: unsupported PyTorch operation 'aten.sigmoid' (from model.py:12)

#loc1 = loc("model.py":11:0)
#loc2 = loc("model.py":12:0)
#loc3 = loc("/site-packages/torch/nn/modules/activation.py":359:0)
"builtin.module"() ({
  "func.func"() <{function_type = (!torch.vtensor<[1,4],f32>) -> !torch.vtensor<[1,4],f32>, sym_name = "main"}> ({
  ^bb0(%arg0: !torch.vtensor<[1,4],f32>):
    %0 = "torch.aten.relu"(%arg0) : (!torch.vtensor<[1,4],f32>) -> !torch.vtensor<[1,4],f32> loc(#loc1)
    %1 = "torch.aten.sigmoid"(%0) : (!torch.vtensor<[1,4],f32>) -> !torch.vtensor<[1,4],f32> loc(callsite(#loc3 at #loc2))
    "func.return"(%1) : (!torch.vtensor<[1,4],f32>) -> ()
  }) {snnc.input_names = ["x"]} : () -> ()
}) : () -> ()
