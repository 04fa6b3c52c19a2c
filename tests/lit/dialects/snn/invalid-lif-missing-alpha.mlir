// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.lif: alpha is required

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-lif-missing-alpha.mlir:8:{{[0-9]+}}: error: 'snn.lif' op requires attribute 'alpha'
    %y = "snn.lif"(%x) {v_th = 1.000000e+00 : f32} : (tensor<4xf32>) -> tensor<4xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
