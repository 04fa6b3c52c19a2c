// RUN: not snnc opt %s 2>&1 | filecheck %s
// a cycle must pass through snn.delay

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<1xf32>
    // CHECK: {{.*}}invalid-cycle-without-delay.mlir:8:{{[0-9]+}}: error: 'nn.add' op is on a cycle that does not pass through a delay
    %a = "nn.add"(%x, %f) : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
    %s = "snn.lif"(%a) {alpha = 7.500000e-01 : f32} : (tensor<1xf32>) -> tensor<1xi1>
    %f = "nn.scale"(%s) {scale = 5.000000e-01 : f32} : (tensor<1xi1>) -> tensor<1xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
