// RUN: not snnc opt %s 2>&1 | filecheck %s
// snn.input: names are unique in a graph

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xf32>
    // CHECK: {{.*}}invalid-input-duplicate-name.mlir:8:{{[0-9]+}}: error: 'snn.input' op duplicate input name 'x' in graph 'g'
    %x2 = "snn.input"() {index = 1 : i64, name = "x"} : () -> tensor<4xf32>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
