// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.max_pool2d: floor rounding of the output size

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x7x7xf32>
    // CHECK: {{.*}}invalid-pool-shape.mlir:8:{{[0-9]+}}: error: 'nn.max_pool2d' op result shape [2, 4, 4] does not match the expected shape [2, 3, 3]
    %y = "nn.max_pool2d"(%x) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x7x7xf32>) -> tensor<2x4x4xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
