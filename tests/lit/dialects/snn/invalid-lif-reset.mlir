// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.lif: reset is hard, soft or none

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-lif-reset.mlir:8:{{[0-9]+}}: error: 'snn.lif' op attribute 'reset' must be one of 'hard', 'soft', 'none', got "zero"
    %y = "snn.lif"(%x) {alpha = 7.500000e-01 : f32, reset = "zero"} : (tensor<4xf32>) -> tensor<4xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
