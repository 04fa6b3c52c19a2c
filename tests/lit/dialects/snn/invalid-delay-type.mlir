// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.delay: result type = operand type

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-delay-type.mlir:8:{{[0-9]+}}: error: 'snn.delay' op result type tensor<4xf64> must equal the operand type tensor<4xf32>
    %y = "snn.delay"(%x) {steps = 1 : i64} : (tensor<4xf32>) -> tensor<4xf64>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
