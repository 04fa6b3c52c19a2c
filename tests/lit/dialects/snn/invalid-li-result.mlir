// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.li: outputs the membrane (a float tensor)

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-li-result.mlir:8:{{[0-9]+}}: error: 'snn.li' op result #0 ('v') must be float tensor, got tensor<4xi1>
    %y = "snn.li"(%x) {alpha = 7.500000e-01 : f32} : (tensor<4xf32>) -> tensor<4xi1>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
