// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.delay: steps >= 1

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-delay-steps.mlir:8:{{[0-9]+}}: error: 'snn.delay' op attribute 'steps' must be >= 1, got 0 : i64
    %y = "snn.delay"(%x) {steps = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
