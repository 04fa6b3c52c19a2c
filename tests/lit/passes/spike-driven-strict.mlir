// RUN: not snnc opt %s --pass-pipeline='spike-driven{strict=true}' 2>&1 | filecheck %s
// RUN: snnc opt %s --pass-pipeline='spike-driven' | filecheck %s --check-prefix=KEEP
// CHECK: spike-driven-strict.mlir:11:5: error: 'nn.mul' op multiplies two non-spike tensors (tensor<8x8xf32> x tensor<8x8xf32>): not spike-driven
// KEEP: "nn.mul"
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<8x8xf32>
    %enc = "nn.matmul"(%x, %x) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    %q = "snn.lif"(%enc) {alpha = 0.5 : f64, beta = 0.5 : f64, gamma = 0.0 : f64, v_th = 1.0 : f64, v_reset = 0.0 : f64, reset = "hard", cmp = "ge"} : (tensor<8x8xf32>) -> tensor<8x8xi1>
    %kv = "nn.matmul"(%q, %enc) : (tensor<8x8xi1>, tensor<8x8xf32>) -> tensor<8x8xf32>
    %bad = "nn.mul"(%kv, %kv) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    %c = "nn.constant"() {value = dense<0.125> : tensor<8x8xf32>} : () -> tensor<8x8xf32>
    %s = "nn.mul"(%bad, %c) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    "snn.output"(%s) {index = 0 : i64, name = "y"} : (tensor<8x8xf32>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
