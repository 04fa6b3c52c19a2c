// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.flatten: merged axes must multiply out

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x3x4xf32>
    // CHECK: {{.*}}invalid-flatten.mlir:8:{{[0-9]+}}: error: 'nn.flatten' op result shape [24] does not match the expected shape [2, 12]
    %y = "nn.flatten"(%x) {start_dim = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<24xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
