"""SEEDS.md fact 3 (Meta-SpikeFormer SDSA scale folds into an integer threshold) on the interpreter."""

import numpy as np

from snnc.interp import run
from snnc.ir import verify
from snnc.ir.parser import parse_module

N, D = 3, 8

SRC = """
"builtin.module"() ({
  "snn.graph"() ({
    %q = "snn.input"() {index = 0 : i64, name = "q"} : () -> tensor<NxDxi1>
    %k = "snn.input"() {index = 1 : i64, name = "k"} : () -> tensor<NxDxi1>
    %v = "snn.input"() {index = 2 : i64, name = "v"} : () -> tensor<NxDxi1>
    %kt = "nn.transpose"(%k) {perm = array<i64: 1, 0>} : (tensor<NxDxi1>) -> tensor<DxNxi1>
    %kv = "nn.matmul"(%kt, %v) : (tensor<DxNxi1>, tensor<NxDxi1>) -> tensor<DxDxf64>
    %x = "nn.matmul"(%q, %kv) : (tensor<NxDxi1>, tensor<DxDxf64>) -> tensor<NxDxf64>
    %xs = "nn.scale"(%x) {scale = SCALE : f64} : (tensor<NxDxf64>) -> tensor<NxDxf64>
    %o = "snn.lif"(%xs) {alpha = 0.5 : f64, beta = 0.5 : f64, gamma = 0.0 : f64, v_th = VTH : f64, v_reset = 0.0 : f64, reset = "hard", cmp = "ge"} : (tensor<NxDxf64>) -> tensor<NxDxi1>
    "snn.output"(%o) {index = 0 : i64, name = "o"} : (tensor<NxDxi1>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
""".replace("NxD", f"{N}x{D}").replace("DxN", f"{D}x{N}").replace("DxD", f"{D}x{D}")


def _graph(scale, vth):
    m = parse_module(SRC.replace("SCALE", repr(scale)).replace("VTH", repr(vth)))
    verify(m)
    return m


def test_fact3_scale_folds_into_integer_threshold():
    rng = np.random.default_rng(0)
    T = 16
    ins = {n: rng.random((T, N, D)) < 0.6 for n in "qkv"}
    a = run(_graph(0.125, 0.5), ins).outputs["o"]
    b = run(_graph(1.0, 4.0), ins).outputs["o"]
    assert a.any() and not a.all()
    np.testing.assert_array_equal(a, b)


def test_fact3_all_ones_first_step():
    ones = {n: np.ones((1, N, D), dtype=bool) for n in "qkv"}
    # Q(K^T V) = N * D = 24; LIF input 0.5 * 24 * 0.125 = 1.5 >= 0.5: the first step spikes
    out = run(_graph(0.125, 0.5), ones).outputs["o"]
    assert out[0].all()
