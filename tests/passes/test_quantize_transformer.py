"""quantize on spiking-transformer pieces: identity synapses (a LIF on a real input, a popcount,
a membrane shortcut), spike-driven attention (SEEDS facts 3 and 4), real-valued shortcut outputs,
and the diagnostics of what it cannot align."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.interp import run
from snnc.ir import DiagnosticError, verify
from snnc.ir.parser import parse_module
from snnc.passes import PassManager, Quantize

LIF = ('alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, cmp = "ge", gamma = 0.000000e+00 : f64, '
       'reset = "hard", v_reset = 0.000000e+00 : f64')


def _graph(inputs: list[tuple[str, str]], body: str) -> str:
    ins = "\n".join(f'    %{n} = "snn.input"() {{index = {i} : i64, name = "{n}"}} : () -> {t}'
                    for i, (n, t) in enumerate(inputs))
    return f"""
"builtin.module"() ({{
  "snn.graph"() ({{
{ins}
{body}
  }}) {{sym_name = "g"}} : () -> ()
}}) : () -> ()
"""


def _lower(text: str, cal) -> tuple:
    m = parse_module(text)
    verify(m)
    after = m.clone()
    q = Quantize(calibration=cal)
    PassManager([q]).run(after)
    verify(after)
    return m, after, q


def _ops(m) -> list[str]:
    return [op.op_name for op in m.walk()]


V1_SDSA = _graph([("k", "tensor<3x4xi1>"), ("v", "tensor<3x4xi1>")], f"""
    %kv = "nn.mul"(%k, %v) : (tensor<3x4xi1>, tensor<3x4xi1>) -> tensor<3x4xf64>
    %n = "nn.sum"(%kv) {{axes = array<i64: 0>, keepdim = true}} : (tensor<3x4xf64>) -> tensor<1x4xf64>
    %s = "snn.lif"(%n) {{{LIF}, v_th = 5.000000e-01 : f64}} : (tensor<1x4xf64>) -> tensor<1x4xi1>
    "snn.output"(%s) {{index = 0 : i64, name = "mask"}} : (tensor<1x4xi1>) -> ()
""")


def test_v1_sdsa_mask_is_and_popcount_against_threshold_1_shifted():
    """SEEDS fact 4: channel d of the mask is set iff sum over tokens of (K AND V) >= 1."""
    rng = np.random.default_rng(0)
    cal = {n: rng.random((20, 3, 4)) < 0.3 for n in ("k", "v")}
    m, after, _ = _lower(V1_SDSA, cal)
    names = _ops(after)
    assert "spike.and" in names and "spike.popcount" in names and "nn.mul" not in names
    lif = next(op for op in after.walk() if op.op_name == "spike.lif")
    shl = lif.operands[0].defining_op()  # the count, shifted left by j fractional membrane bits
    j = -int(shl.attr("shift")) if shl.op_name == "spike.requant" else 0
    assert int(lif.attr("v_th")) == 2**j and str(lif.attr("leak_mode")) == "shift"
    a, b = run(m, cal).outputs["mask"], run(after, cal).outputs["mask"]
    assert np.array_equal(a, b)
    want = (cal["k"] & cal["v"]).sum(axis=1, keepdims=True) >= 1
    assert np.array_equal(b, want)


META_SDSA = _graph([("q", "tensor<3x8xi1>"), ("k", "tensor<3x8xi1>"), ("v", "tensor<3x8xi1>")], f"""
    %kt = "nn.transpose"(%k) {{perm = array<i64: 1, 0>}} : (tensor<3x8xi1>) -> tensor<8x3xi1>
    %kv = "nn.matmul"(%kt, %v) : (tensor<8x3xi1>, tensor<3x8xi1>) -> tensor<8x8xf64>
    %y = "nn.matmul"(%q, %kv) : (tensor<3x8xi1>, tensor<8x8xf64>) -> tensor<3x8xf64>
    %z = "nn.scale"(%y) {{scale = 1.250000e-01 : f64}} : (tensor<3x8xf64>) -> tensor<3x8xf64>
    %s = "snn.lif"(%z) {{{LIF}, v_th = 5.000000e-01 : f64}} : (tensor<3x8xf64>) -> tensor<3x8xi1>
    "snn.output"(%s) {{index = 0 : i64, name = "o"}} : (tensor<3x8xi1>) -> ()
""")


def test_meta_sdsa_scale_folds_into_an_integer_threshold():
    """SEEDS fact 3: 0.125 Q(K^T V) against v_th 0.5 is the integer Q(K^T V) against a threshold with no
    scale left: 8 x 2^j for the count shifted left by j (SpikingJelly's tau 2 halves the input, so
    the membrane keeps twice the count; the j fractional bits keep the shift leak exact for j steps);
    all-ones Q, K, V with 3 tokens, d = 8: Q(K^T V) = 24, so the first step spikes."""
    rng = np.random.default_rng(1)
    cal = {n: rng.random((30, 3, 8)) < 0.2 for n in ("q", "k", "v")}
    m, after, _ = _lower(META_SDSA, cal)
    names = _ops(after)
    assert names.count("spike.matmul") == 2 and "nn.scale" not in names and "nn.matmul" not in names
    lif = next(op for op in after.walk() if op.op_name == "spike.lif")
    shl = lif.operands[0].defining_op()
    j = -int(shl.attr("shift")) if shl.op_name == "spike.requant" else 0
    assert j >= 0 and int(lif.attr("v_th")) == 8 * 2**j and int(lif.attr("bias")) == 0
    ones = {n: np.ones((1, 3, 8), bool) for n in ("q", "k", "v")}
    assert run(after, ones).outputs["o"].all() and run(m, ones).outputs["o"].all()
    # a count of 7 at the first step stays below (0.5 * 0.125 * 7 < 0.5), 8 reaches it
    a, b = run(m, cal).outputs["o"], run(after, cal).outputs["o"]
    assert a[0].tolist() == b[0].tolist()
    assert np.array_equal(a, b)  # the halving leak is exact on j fractional bits


SHORTCUT = _graph([("x", "tensor<4xf64>")], f"""
    %s = "snn.lif"(%x) {{{LIF}, v_th = 1.000000e+00 : f64}} : (tensor<4xf64>) -> tensor<4xi1>
    %l = "nn.linear"(%s) {{weight = dense<[[0.5, -0.25, 1.0, 0.3], [0.75, 0.1, -1.0, 0.4], [0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, -0.5]]> : tensor<4x4xf64>, bias = dense<[0.1, -0.2, 0.0, 0.3]> : tensor<4xf64>}} : (tensor<4xi1>) -> tensor<4xf64>
    %u = "nn.add"(%x, %l) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
    %s2 = "snn.lif"(%u) {{{LIF}, v_th = 1.000000e+00 : f64}} : (tensor<4xf64>) -> tensor<4xi1>
    "snn.output"(%u) {{index = 0 : i64, name = "u"}} : (tensor<4xf64>) -> ()
    "snn.output"(%s2) {{index = 1 : i64, name = "s2"}} : (tensor<4xi1>) -> ()
""")


def test_lif_on_a_real_input_and_a_membrane_shortcut():
    rng = np.random.default_rng(2)
    cal = rng.random((40, 4)) * 3.0
    m, after, q = _lower(SHORTCUT, cal)
    names = _ops(after)
    assert "spike.dequantize" in names and "nn.add" not in names and "nn.linear" not in names
    # the LIF on the input takes the quantized integers themselves (identity synapse, no weights),
    # shifted left: the membrane gains fractional bits, so that its shift leak does not round at the
    # input's resolution
    first = next(op for op in after.walk() if op.op_name == "spike.lif")
    shl = first.operands[0].defining_op()
    assert shl.op_name == "spike.requant" and int(shl.attr("shift")) < 0
    assert shl.operands[0].defining_op().op_name == "spike.quantize"
    fa, fb = run(m, {"x": cal}).outputs, run(after, {"x": cal}).outputs
    err = np.abs(fa["u"] - fb["u"])  # rounding of x and the weights; a flipped input spike moves it by a weight
    assert np.mean(err) <= 0.01 * np.max(np.abs(fa["u"])) and np.median(err) <= 0.01
    assert np.mean(fa["s2"] == fb["s2"]) >= 0.9
    assert q.report is not None and "u" in q.report.summary()


def test_identity_terms_whose_scales_are_not_powers_of_two_apart_are_a_diagnostic():
    text = _graph([("x", "tensor<4xf64>"), ("k", "tensor<3x4xi1>")], f"""
    %n = "nn.sum"(%k) {{axes = array<i64: 0>, keepdim = false}} : (tensor<3x4xi1>) -> tensor<4xf64>
    %u = "nn.add"(%x, %n) : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
    %s = "snn.lif"(%u) {{{LIF}, v_th = 1.000000e+00 : f64}} : (tensor<4xf64>) -> tensor<4xi1>
    "snn.output"(%s) {{index = 0 : i64, name = "s"}} : (tensor<4xi1>) -> ()
""")
    rng = np.random.default_rng(3)
    cal = {"x": rng.random((10, 4)) * 3.0, "k": rng.random((10, 3, 4)) < 0.5}
    cal["x"][0, 0] = 3.0  # input scale 127 / 3: not a power of two times the count's scale 1
    with pytest.raises(DiagnosticError, match=r"<string>:\d+:\d+: error: 'snn.lif' op sums integer values of scales"):
        _lower(text, cal)


def test_matmul_of_real_operands_is_a_diagnostic():
    text = _graph([("x", "tensor<3x4xf64>"), ("k", "tensor<4x2xi1>")], """
    %y = "nn.matmul"(%x, %k) : (tensor<3x4xf64>, tensor<4x2xi1>) -> tensor<3x2xf64>
    "snn.output"(%y) {index = 0 : i64, name = "y"} : (tensor<3x2xf64>) -> ()
""")
    cal = {"x": np.ones((2, 3, 4)), "k": np.ones((2, 4, 2), bool)}
    with pytest.raises(DiagnosticError, match="lowers nn.matmul only with a binary"):
        _lower(text, cal)
