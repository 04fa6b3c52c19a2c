// RUN: not snnc opt %s 2>&1 | filecheck %s
// spike.lif: v_th must fit the membrane width

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xi16>
    // CHECK: {{.*}}invalid-lif-threshold-width.mlir:8:{{[0-9]+}}: error: 'spike.lif' op v_th must fit 8 signed bits [-128, 127], got [200, 200]
    %y = "spike.lif"(%x) {membrane_bits = 8 : i64, v_th = 200 : i64} : (tensor<4xi16>) -> tensor<4xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
