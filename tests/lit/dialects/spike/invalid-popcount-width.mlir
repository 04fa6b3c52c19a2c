// RUN: not snnc opt %s 2>&1 | filecheck %s
// spike.popcount: the result must hold the largest count

"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<300xi1>
    // CHECK: {{.*}}invalid-popcount-width.mlir:8:{{[0-9]+}}: error: 'spike.popcount' op result width 8 cannot hold a count of up to 300
    %y = "spike.popcount"(%x) : (tensor<300xi1>) -> tensor<i8>
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
