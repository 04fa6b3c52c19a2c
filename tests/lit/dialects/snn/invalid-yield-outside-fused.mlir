// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.yield: only as the terminator of an snn.fused region

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-yield-outside-fused.mlir:8:{{[0-9]+}}: error: 'snn.yield' op must be inside an 'snn.fused', found in 'snn.graph'
    "snn.yield"(%x) : (tensor<4xf32>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
