// RUN: not snnc opt %s 2>&1 | filecheck %s
// nn.conv2d: input channels = weight's Cin/groups * groups

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3x8x8xf32>
    // CHECK: {{.*}}invalid-conv2d-groups.mlir:8:{{[0-9]+}}: error: 'nn.conv2d' op input has 3 channels but weight [3, 3, 3, 3] with groups=3 expects 9
    %y = "nn.conv2d"(%x) {groups = 3 : i64, weight = dense<1.0> : tensor<3x3x3x3xf32>} : (tensor<3x8x8xf32>) -> tensor<3x6x6xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
