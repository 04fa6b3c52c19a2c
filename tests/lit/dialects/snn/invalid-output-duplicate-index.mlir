// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.output: indices are unique

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    "snn.output"(%x) {index = 0 : i64, name = "a"} : (tensor<4xf32>) -> ()
    // CHECK: {{.*}}invalid-output-duplicate-index.mlir:9:{{[0-9]+}}: error: 'snn.output' op duplicate output index 0 in graph 'g'
    "snn.output"(%x) {index = 0 : i64, name = "b"} : (tensor<4xf32>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
