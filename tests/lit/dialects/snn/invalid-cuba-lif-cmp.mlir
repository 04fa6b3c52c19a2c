// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.cuba_lif: cmp is ge or gt

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-cuba-lif-cmp.mlir:8:{{[0-9]+}}: error: 'snn.cuba_lif' op attribute 'cmp' must be one of 'ge', 'gt', got "le"
    %y = "snn.cuba_lif"(%x) {alpha = 7.500000e-01 : f32, alpha_syn = 2.500000e-01 : f32, cmp = "le"} : (tensor<4xf32>) -> tensor<4xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
