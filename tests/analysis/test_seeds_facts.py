"""SEEDS.md facts 3 (Meta-SpikeFormer SDSA scale folds into an integer threshold) and 4 (v1 SDSA) on the interpreter."""

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


V1_SRC = """
"builtin.module"() ({
  "snn.graph"() ({
    %q = "snn.input"() {index = 0 : i64, name = "q"} : () -> tensor<3x8xi1>
    %k = "snn.input"() {index = 1 : i64, name = "k"} : () -> tensor<3x8xi1>
    %v = "snn.input"() {index = 2 : i64, name = "v"} : () -> tensor<3x8xi1>
    %kv = "nn.mul"(%k, %v) : (tensor<3x8xi1>, tensor<3x8xi1>) -> tensor<3x8xf64>
    %s = "nn.sum"(%kv) {axes = array<i64: 0>, keepdim = false} : (tensor<3x8xf64>) -> tensor<8xf64>
    %m = "snn.lif"(%s) {alpha = 0.5 : f64, beta = 0.5 : f64, gamma = 0.0 : f64, v_th = 0.5 : f64, v_reset = 0.0 : f64, reset = "hard", cmp = "ge"} : (tensor<8xf64>) -> tensor<8xi1>
    %o = "nn.mul"(%q, %m) : (tensor<3x8xi1>, tensor<8xi1>) -> tensor<3x8xf64>
    "snn.output"(%o) {index = 0 : i64, name = "o"} : (tensor<3x8xf64>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
"""


def test_fact4_v1_sdsa_first_step():
    # v1 SDSA, first step: mask[d] = LIF(tau 2, v_th 0.5)(sum over tokens of K AND V) fires iff the
    # count is >= 1 (0.5 * count >= 0.5); output = Q AND mask
    m = parse_module(V1_SRC)
    verify(m)
    rng = np.random.default_rng(1)
    for _ in range(5):
        ins = {n: rng.random((1, 3, 8)) < 0.4 for n in "qkv"}
        o = run(m, ins).outputs["o"][0]
        mask = (ins["k"][0] & ins["v"][0]).sum(0) >= 1
        assert mask.any() and not mask.all()
        np.testing.assert_array_equal(o.astype(bool), ins["q"][0] & mask[None])


BEST_SRC = """
"builtin.module"() ({
  "snn.graph"() ({
    %q = "snn.input"() {index = 0 : i64, name = "q"} : () -> tensor<3x8xi1>
    %k = "snn.input"() {index = 1 : i64, name = "k"} : () -> tensor<3x8xi1>
    %kt = "nn.transpose"(%k) {perm = array<i64: 1, 0>} : (tensor<3x8xi1>) -> tensor<8x3xi1>
    %s = "nn.matmul"(%q, %kt) : (tensor<3x8xi1>, tensor<8x3xi1>) -> tensor<3x3xf64>
    %a = "snn.lif"(%s) {alpha = 0.5 : f64, beta = 0.5 : f64, gamma = 0.0 : f64, v_th = 1.0 : f64, v_reset = 0.0 : f64, reset = "soft", cmp = "ge"} : (tensor<3x3xf64>) -> tensor<3x3xi1>
    "snn.output"(%a) {index = 0 : i64, name = "a"} : (tensor<3x3xi1>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
"""


def test_fact5_bestformer_map_first_step():
    # A = 1 iff (Q K^T) >= 2 (tau 2, v_th 1); the soft reset keeps H - 1
    m = parse_module(BEST_SRC)
    verify(m)
    rng = np.random.default_rng(2)
    ins = {n: rng.random((1, 3, 8)) < 0.5 for n in "qk"}
    r = run(m, ins, probe=True)
    qk = ins["q"][0].astype(int) @ ins["k"][0].T.astype(int)
    a = r.outputs["a"][0].astype(bool)
    assert a.any() and not a.all()
    np.testing.assert_array_equal(a, qk >= 2)
    v = np.asarray(r.states["%4"][0]["v"]).reshape(3, 3)  # the LIF's membrane after step 0
    h = 0.5 * qk
    np.testing.assert_allclose(v, np.where(a, h - 1.0, h))
