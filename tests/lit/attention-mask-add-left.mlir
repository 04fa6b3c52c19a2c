// RUN: snnc opt %s --pass-pipeline=attention-mask-add | filecheck %s
// RUN: not snnc opt %s --pass-pipeline='attention-mask-add,spike-driven{strict=true}' 2>&1 | filecheck %s --check-prefix=STRICT
// RUN: snnc opt %s --pass-pipeline='attention-mask-add,spike-driven' 2>&1 >/dev/null | filecheck %s --check-prefix=WARN

// A product of two non-spike tensors (here two spike counts, SEEDS' non-spike-driven SDSA variant)
// is left alone; the right-hand spike operand of x @ S is moved to the left by transposes; a
// spike x real product that is not reduced (a select) stays an nn.mul.
// CHECK:      %[[S:[0-9]+]] = "snn.input"() {index = 0 : i64, name = "s"}
// CHECK-NEXT: %[[X:[0-9]+]] = "snn.input"() {index = 1 : i64, name = "x"}
// CHECK-NEXT: %[[C:[0-9]+]] = "nn.and_popcount"(%[[S]], %[[S]]) {axes = array<i64: 0>, keepdim = true}
// CHECK-NEXT: %[[D:[0-9]+]] = "nn.mul"(%[[C]], %[[C]]) : (tensor<1x4xf64>, tensor<1x4xf64>) -> tensor<1x4xf64>
// CHECK-NEXT: "snn.output"(%[[D]])
// CHECK:      %[[ST:[0-9]+]] = "nn.transpose"(%[[S]]) {perm = array<i64: 1, 0>} : (tensor<4x4xi1>) -> tensor<4x4xi1>
// CHECK-NEXT: %[[XT:[0-9]+]] = "nn.transpose"(%[[X]]) {perm = array<i64: 1, 0>} : (tensor<4x4xf64>) -> tensor<4x4xf64>
// CHECK-NEXT: %[[A:[0-9]+]] = "nn.masked_accumulate"(%[[ST]], %[[XT]]) : (tensor<4x4xi1>, tensor<4x4xf64>) -> tensor<4x4xf64>
// CHECK-NEXT: %[[AT:[0-9]+]] = "nn.transpose"(%[[A]]) {perm = array<i64: 1, 0>}
// CHECK-NEXT: "snn.output"(%[[AT]])
// CHECK-NEXT: "nn.mul"(%[[S]], %[[X]]) : (tensor<4x4xi1>, tensor<4x4xf64>) -> tensor<4x4xf64>
// STRICT: attention-mask-add-left.mlir:{{[0-9]+}}:5: error: 'nn.mul' op multiplies two non-spike tensors (tensor<1x4xf64> x tensor<1x4xf64>): not spike-driven
// WARN: attention-mask-add-left.mlir:{{[0-9]+}}:5: warning: 'nn.mul' op multiplies two non-spike tensors
"builtin.module"() ({
  "snn.graph"() ({
    %s = "snn.input"() {index = 0 : i64, name = "s"} : () -> tensor<4x4xi1>
    %x = "snn.input"() {index = 1 : i64, name = "x"} : () -> tensor<4x4xf64>
    %ss = "nn.mul"(%s, %s) : (tensor<4x4xi1>, tensor<4x4xi1>) -> tensor<4x4xf64>
    %c = "nn.sum"(%ss) {axes = array<i64: 0>, keepdim = true} : (tensor<4x4xf64>) -> tensor<1x4xf64>
    %d = "nn.mul"(%c, %c) : (tensor<1x4xf64>, tensor<1x4xf64>) -> tensor<1x4xf64>
    "snn.output"(%d) {index = 0 : i64, name = "d"} : (tensor<1x4xf64>) -> ()
    %y = "nn.matmul"(%x, %s) : (tensor<4x4xf64>, tensor<4x4xi1>) -> tensor<4x4xf64>
    "snn.output"(%y) {index = 1 : i64, name = "y"} : (tensor<4x4xf64>) -> ()
    %z = "nn.mul"(%s, %x) : (tensor<4x4xi1>, tensor<4x4xf64>) -> tensor<4x4xf64>
    "snn.output"(%z) {index = 2 : i64, name = "z"} : (tensor<4x4xf64>) -> ()
  }) {sym_name = "left"} : () -> ()
}) : () -> ()
