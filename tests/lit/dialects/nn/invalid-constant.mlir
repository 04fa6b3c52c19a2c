// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.constant: the result type is the value's type

"builtin.module"() ({
  "snn.graph"() ({
    // CHECK: {{.*}}invalid-constant.mlir:7:{{[0-9]+}}: error: 'nn.constant' op result type tensor<3xf32> does not match the value's type tensor<2xf32>
    %c = "nn.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<3xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
