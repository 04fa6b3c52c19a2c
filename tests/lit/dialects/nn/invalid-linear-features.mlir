// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.linear: input features must match the weight's second axis

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<5xf32>
    // CHECK: {{.*}}invalid-linear-features.mlir:8:{{[0-9]+}}: error: 'nn.linear' op input has 5 features but weight [2, 3] expects 3
    %y = "nn.linear"(%x) {weight = dense<1.0> : tensor<2x3xf32>} : (tensor<5xf32>) -> tensor<2xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
