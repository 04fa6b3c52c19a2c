// Ops of a dialect snnc owns must be known; other dialects (torch, func, ...) are kept generically.
// RUN: not snnc opt %s 2>&1 | filecheck %s

"builtin.module"() ({
  %0 = "torch.constant.int"() <{value = 1 : i64}> : () -> !torch.int
  // CHECK: invalid-unknown-op.mlir:[[# @LINE + 1]]:8: error: unknown operation 'snn.lifx'
  %1 = "snn.lifx"() : () -> tensor<2xi1>
}) : () -> ()
