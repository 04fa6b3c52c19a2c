// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.input: indices are 0..n-1

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-input-index-gap.mlir:8:{{[0-9]+}}: error: 'snn.input' op input indices must be 0..1 without gaps; index 2 leaves 1 unused
    %x2 = "snn.input"() {index = 2 : i64, name = "x2"} : () -> tensor<4xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
