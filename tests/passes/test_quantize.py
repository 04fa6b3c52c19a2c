"""The quantize pass: weight quantizers (QP-SNN, Q-SNN, BESTformer formulas), exactness where
it is provable, float-vs-integer agreement on the NIR golden graphs, diagnostics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnc.interp import run
from snnc.ir import DiagnosticError, verify
from snnc.ir.parser import parse_module
from snnc.ir.printer import print_module
from snnc.passes import Pass, PassManager, Quantize, parse_pipeline
from snnc.passes.quantize import (
    WeightScheme,
    bestformer_binarize,
    binary_weights,
    grid_step,
    qp_quantize,
    qp_rescale,
    qsnn_binarize,
    ternary_weights,
    uniform_scale,
)
from snnc.passes.validate import validate_pipeline

GOLDEN = Path(__file__).resolve().parents[2] / ".." / "shared" / "golden" / "nir-paper"


def _module(body: str, inp: str) -> str:
    return f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> {inp}
{body}
  }}) {{sym_name = "g"}} : () -> ()
}}) : () -> ()
"""


def _quantized(text: str, **kw) -> tuple:
    m = parse_module(text)
    verify(m)
    q = Quantize(**kw)
    after = m.clone()
    PassManager([q]).run(after)
    return m, after, q


# --------------------------------------------------------------------------- weight quantizers


def test_qp_snn_fact_6_two_bit_grid():
    levels = qp_quantize(np.linspace(-1.5, 1.5, 301), 2)
    assert np.allclose(np.unique(levels), [-1, -1 / 3, 1 / 3, 1])
    assert qp_quantize(np.array([0.0]), 2)[0] == pytest.approx(1 / 3)  # 1.5 rounds half to even -> 2


def test_qp_snn_fact_7_weight_rescaling():
    w = np.array([[0.05, -0.02, 0.11, -0.07]])
    assert np.abs(w).mean() == pytest.approx(0.0625)
    assert np.allclose(qp_rescale(w, 2), [[0.0625, -0.0625 / 3, 0.0625, -0.0625]])
    assert np.allclose(np.round(qp_rescale(w, 2), 4), [[0.0625, -0.0208, 0.0625, -0.0625]])


def test_qp_rescale_in_the_pass_stores_odd_integers():
    text = _module("""
    %l = "nn.linear"(%x) {weight = dense<[[0.05, -0.02, 0.11, -0.07]]> : tensor<1x4xf32>} : (tensor<4xi1>) -> tensor<1xf32>
    %s = "snn.if"(%l) {v_th = 1.000000e-01 : f32} : (tensor<1xf32>) -> tensor<1xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<1xi1>) -> ()
""", "tensor<4xi1>")
    _, after, _ = _quantized(text, weight_bits=2, qp_rescale=True)
    acc = next(op for op in after.body.ops[0].body.ops if op.op_name == "spike.accumulate")
    # W_hat = [1, -1/3, 1, -1] stored as 2 W_int - 3 = [3, -1, 3, -3] (3 bits)
    assert acc.get_attr("weight").data.tolist() == [[3, -1, 3, -3]]
    assert str(acc.get_attr("weight").type) == "tensor<1x4xi3>"
    lif = next(op for op in after.body.ops[0].body.ops if op.op_name == "spike.lif")
    # S = 3 / gamma = 48 ; v_th = 0.1 * 48 = 4.8 -> ceil (cmp ge) = 5
    assert lif.attr("v_th") == 5


def test_qsnn_binarisation_formula():
    w = np.array([[1.0, 2.0, 4.0, 7.0]])
    z = (w - 3.5) / np.sqrt(5.25)  # mean 3.5, population std sqrt(5.25)
    scale = 2.0 ** np.round(np.log2(np.abs(z).mean()))
    assert np.allclose(qsnn_binarize(w), np.sign(z) * scale)
    assert set(np.abs(qsnn_binarize(w)).ravel()) == {scale}


def test_bestformer_binarisation_formula():
    w = np.array([[0.1, -0.1, 0.4, 0.3], [5.0, 1.0, 1.5, 0.0]])
    # per output channel: sign of (W - mean)
    assert bestformer_binarize(w).tolist() == [[-1.0, -1.0, 1.0, 1.0], [1.0, -1.0, -1.0, -1.0]]


def test_ternary_and_binary_weights():
    w = np.array([[0.5, -0.5, 0.05, 0.0], [1.0, 0.9, -1.1, 0.1]])
    t, s = ternary_weights(w, per_channel=True)
    assert t.tolist() == [[1, -1, 0, 0], [1, 1, -1, 0]]
    assert np.allclose(1 / s, [0.5, 1.0])
    b, s = binary_weights(w, per_channel=False)
    assert b.tolist() == [[1, -1, 1, 1], [1, 1, -1, 1]]
    assert 1 / s[0] == pytest.approx(np.abs(w).mean())


def test_grid_detection():
    assert grid_step(np.array([0.25, -0.75, 0.5]), 127) == pytest.approx(0.25)
    assert grid_step(np.array([2.0, 3.0]), 127) == pytest.approx(1.0)
    assert grid_step(np.array([0.1, np.pi]), 127) is None
    s, exact = uniform_scale(np.array([[0.25, -0.75, 0.5]]), 8, False)
    # 3 steps of 0.25: upscale by 2^5 (3 * 32 = 96 <= 127) -> scale 128
    assert exact.all() and s[0] == pytest.approx(128.0)


# --------------------------------------------------------------------------- exactness


IF_NET = """
    %l1 = "nn.linear"(%x) {weight = dense_resource<w1> : tensor<12x20xf32>} : (tensor<20xi1>) -> tensor<12xf32>
    %s1 = "snn.if"(%l1) {v_th = 4.000000e+00 : f32, reset = "soft"} : (tensor<12xf32>) -> tensor<12xi1>
    %l2 = "nn.linear"(%s1) {weight = dense_resource<w2> : tensor<5x12xf32>, bias = dense<[0.0, 1.0, -1.0, 2.0, 0.0]> : tensor<5xf32>} : (tensor<12xi1>) -> tensor<5xf32>
    %s2 = "snn.if"(%l2) {v_th = 3.000000e+00 : f32, cmp = "gt"} : (tensor<5xf32>) -> tensor<5xi1>
    "snn.output"(%s2) {index = 0 : i64, name = "s"} : (tensor<5xi1>) -> ()
"""


def _if_net() -> str:
    from snnc.ir.attributes import DenseElementsAttr
    from snnc.ir.types import TensorType, f32

    rng = np.random.default_rng(7)
    w1 = DenseElementsAttr(TensorType((12, 20), f32), rng.integers(-3, 4, size=(12, 20)).astype(np.float32))
    w2 = DenseElementsAttr(TensorType((5, 12), f32), rng.integers(-2, 3, size=(5, 12)).astype(np.float32))
    body = IF_NET.replace("dense_resource<w1> : tensor<12x20xf32>", str(w1))
    return _module(body.replace("dense_resource<w2> : tensor<5x12xf32>", str(w2)), "tensor<20xi1>")


def test_integer_weights_and_thresholds_are_exact():
    """IF neurons, integer weights, integer thresholds/biases: the integer graph is exact
    (translation validation: identical spikes on random inputs)."""
    m = parse_module(_if_net())
    verify(m)
    report, after = validate_pipeline(m, "quantize", steps=64, seeds=(0, 1, 2, 3), spike_prob=0.4)
    assert report.ok, report.summary()
    assert any(op.op_name == "spike.lif" for op in after.body.ops[0].body.ops)
    out = run(m, random_spikes((64, 20))).outputs["s"]
    assert out.any()  # the nets do spike: the comparison is not vacuous


def random_spikes(shape, p=0.4, seed=11):
    return {"x": np.random.default_rng(seed).random(shape) < p}


def _lif_module(alpha: float, beta: float, v_th: float, cmp: str) -> str:
    return _module(f"""
    %l = "nn.linear"(%x) {{weight = dense<1.000000e+00> : tensor<1x1xf32>}} : (tensor<1xf32>) -> tensor<1xf32>
    %s = "snn.lif"(%l) {{alpha = {alpha:e} : f64, beta = {beta:e} : f64, v_th = {v_th:e} : f64, cmp = "{cmp}"}} : (tensor<1xf32>) -> tensor<1xi1>
    "snn.output"(%s) {{index = 0 : i64, name = "s"}} : (tensor<1xi1>) -> ()
""", "tensor<1xf32>")


@pytest.mark.parametrize(
    ("alpha", "beta", "cmp", "x", "spikes"),
    [
        (0.5, 1.0, "gt", 1.0, [0, 1, 0, 1, 0, 1]),  # Q-SNN LIF, SEEDS fact 2
        (0.5, 1.0, "gt", 0.6, [0, 0, 1, 0, 0, 1]),
        (0.5, 1.0, "ge", 1.0, [1, 1, 1, 1, 1, 1]),
        (0.5, 0.5, "ge", 1.2, [0, 0, 1, 0, 0, 1]),  # SpikingJelly tau 2, SEEDS fact 1
        (0.5, 0.5, "ge", 2.0, [1, 1, 1, 1, 1, 1]),
    ],
)
def test_alpha_half_facts_survive_quantization(alpha, beta, cmp, x, spikes):
    m = parse_module(_lif_module(alpha, beta, 1.0, cmp))
    xs = np.full((6, 1), x)
    _, after, q = _quantized(print_module(m), calibration=xs)
    lif = next(op for op in after.body.ops[0].body.ops if op.op_name == "spike.lif")
    assert lif.attr("leak_mode") == "shift" and lif.attr("leak_shift") == 1  # alpha 0.5 -> shift by 1
    assert run(m, {"x": xs}).outputs["s"][:, 0].astype(int).tolist() == spikes
    assert run(after, {"x": xs}).outputs["s"][:, 0].astype(int).tolist() == spikes
    assert q.report is not None and q.report.outputs[0].agreement == 1.0


def test_leak_modes_chosen_from_alpha():
    for alpha, mode in ((1.0, "none"), (0.75, "shift"), (0.875, "shift"), (0.9, "mul")):
        _, after, _ = _quantized(_lif_module(alpha, 1.0, 1.0, "ge"), calibration=np.ones((3, 1)))
        lif = next(op for op in after.body.ops[0].body.ops if op.op_name == "spike.lif")
        assert lif.attr("leak_mode") == mode
        if alpha == 0.875:
            assert lif.attr("leak_shift") == 3
        if mode == "mul":
            assert lif.attr("decay") == round(0.9 * 2**12) and lif.attr("frac_bits") == 12


def test_batch_norm_is_folded_exactly():
    text = _module("""
    %l = "nn.linear"(%x) {weight = dense<[[1.0, 2.0]]> : tensor<1x2xf32>, bias = dense<0.25> : tensor<1xf32>} : (tensor<2xi1>) -> tensor<1xf32>
    %b = "nn.batch_norm"(%l) {mean = dense<0.5> : tensor<1xf32>, var = dense<1.0> : tensor<1xf32>, weight = dense<2.0> : tensor<1xf32>,
                              bias = dense<1.0> : tensor<1xf32>, eps = 0.000000e+00 : f64} : (tensor<1xf32>) -> tensor<1xf32>
    %s = "snn.if"(%b) {v_th = 3.000000e+00 : f32, reset = "soft"} : (tensor<1xf32>) -> tensor<1xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<1xi1>) -> ()
""", "tensor<2xi1>")
    m = parse_module(text)
    report, after = validate_pipeline(m, "quantize", steps=40, seeds=(0, 1))
    assert report.ok, report.summary()
    assert "nn.batch_norm" not in print_module(after)


def test_ternary_and_binary_schemes_fold_their_scale_into_the_threshold():
    text = _module("""
    %l = "nn.linear"(%x) {weight = dense<[[0.3, -0.3, 0.3, 0.3], [-0.3, -0.3, 0.3, -0.3]]> : tensor<2x4xf32>} : (tensor<4xi1>) -> tensor<2xf32>
    %s = "snn.if"(%l) {v_th = 6.000000e-01 : f32} : (tensor<2xf32>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
""", "tensor<4xi1>")
    for scheme in ("binary", "ternary"):
        m = parse_module(text)
        report, after = validate_pipeline(m, f"quantize{{weight-scheme={scheme}}}", steps=40, seeds=(0, 1))
        assert report.ok, report.summary()
        ops = after.body.ops[0].body.ops
        acc = next(op for op in ops if op.op_name == "spike.accumulate")
        assert set(np.unique(acc.get_attr("weight").data)) == {-1, 1}
        assert next(op for op in ops if op.op_name == "spike.lif").attr("v_th") == 2  # 0.6 / 0.3


# --------------------------------------------------------------------------- golden graphs


def _golden(name: str):
    path = GOLDEN / name
    if not path.exists():
        pytest.skip(f"golden file {path} is not available (needs the shared/ checkout beside the repo)")
    from snnc.frontends.nir import import_nir

    m = import_nir(path)
    PassManager(parse_pipeline("canonicalize")).run(m)
    return m


def _calibration(name: str, m) -> np.ndarray:
    t = m.body.ops[0].inputs()[0].results[0].type
    rng = np.random.default_rng(0)
    if name.startswith("cnn"):
        return rng.poisson(0.3, size=(20, 4, *t.shape)).astype(np.float64)  # DVS event counts
    if name.startswith("lif"):
        return rng.random((200, 4, *t.shape))  # a real-valued current
    return (rng.random((100, 4, *t.shape)) < 0.2).astype(np.float64)  # Braille spike trains


# Measured (seed 0 calibration data above, this implementation): spike agreement float vs int.
# The asserted floors sit 1-2 points under the measured figures (docs/spike.md lists them).
GOLDEN_CASES = [
    ("cnn_sinabs.nir", {}, 0.92),  # measured 93.25 %
    ("cnn_sinabs.nir", {"per_channel": True}, 0.92),  # 93.50 %
    ("cnn_sinabs.nir", {"weight_bits": 16, "membrane_bits": 32, "acc_bits": 48}, 0.98),  # 99.25 %
    ("lif_norse.nir", {}, 0.97),  # 98.25 % (weight 1.0 stays exact: S rounded down to s_in 2^e)
    ("lif_norse.nir", {"input_bits": 16, "membrane_bits": 32}, 0.99),  # 100.00 %
    ("lif_norse.nir", {"weight_bits": 4}, 0.97),  # 98.25 % (weight 1.0 on the 4-bit grid: exact)
    ("braille_noDelay_bias_zero.nir", {}, 0.61),  # 63.14 %
    ("braille_noDelay_bias_zero.nir", {"per_channel": True}, 0.75),  # 77.32 %
    ("braille_noDelay_bias_zero.nir", {"weight_bits": 16, "membrane_bits": 32, "acc_bits": 48, "per_channel": True},
     0.99),  # 100.00 %
    ("braille_noDelay_noBias_subtract.nir", {}, 0.96),  # 97.18 %
    ("braille_noDelay_noBias_subtract.nir", {"per_channel": True}, 0.96),  # 98.00 %
    ("braille_noDelay_noBias_subtract.nir", {"weight_bits": 16, "membrane_bits": 32, "acc_bits": 48}, 0.99),  # 100 %
]


@pytest.mark.parametrize(("name", "options", "floor"), GOLDEN_CASES)
def test_golden_graph_agreement(name, options, floor):
    m = _golden(name)
    cal = _calibration(name, m)
    q = Quantize(calibration=cal, **options)
    after = m.clone()
    PassManager([q]).run(after)
    text = print_module(after)
    assert "nn.linear" not in text and "snn.if" not in text and "snn.lif" not in text and "snn.cuba_lif" not in text
    assert q.report is not None
    (out,) = q.report.outputs
    assert out.spikes and out.agreement >= floor, q.report.summary()
    assert out.float_rate > 0  # not vacuous


# --------------------------------------------------------------------------- options, diagnostics


def test_pass_is_registered_with_its_options():
    assert Pass.registry["quantize"] is Quantize
    names = [o.name for o in Quantize.options()]
    for n in ("weight-bits", "weight-scheme", "per-channel", "membrane-bits", "acc-bits", "qp-rescale", "calibration-file"):
        assert n in names
    (p,) = parse_pipeline("quantize{weight-bits=4 per-channel=true weight-scheme=ternary}")
    assert isinstance(p, Quantize) and p.weight_bits == 4 and p.per_channel and p.weight_scheme is WeightScheme.ternary
    assert p.pipeline_text() == "quantize{weight-bits=4,weight-scheme=ternary,per-channel=true}"


def test_calibration_file_option(tmp_path):
    path = tmp_path / "cal.npy"
    np.save(path, np.full((6, 1), 1.0))
    m = parse_module(_lif_module(0.5, 1.0, 1.0, "gt"))
    (p,) = parse_pipeline(f"quantize{{calibration-file={path}}}")
    PassManager([p]).run(m)
    assert p.report is not None and p.report.outputs[0].agreement == 1.0


def test_real_valued_input_needs_calibration():
    m = parse_module(_lif_module(0.5, 1.0, 1.0, "gt"))
    with pytest.raises(DiagnosticError, match="is real-valued: quantize needs calibration data"):
        PassManager([Quantize()]).run(m)


def test_unsupported_graphs_are_diagnosed():
    text = _module("""
    %l = "nn.linear"(%x) {weight = dense<[[1.0, 2.0]]> : tensor<1x2xf32>} : (tensor<2xi1>) -> tensor<1xf32>
    %s = "snn.lif"(%l) {alpha = 5.000000e-01 : f32, v_init = 1.000000e+00 : f32} : (tensor<1xf32>) -> tensor<1xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<1xi1>) -> ()
""", "tensor<2xi1>")
    with pytest.raises(DiagnosticError, match="v_init must be 0"):
        PassManager([Quantize()]).run(parse_module(text))
    text = _module("""
    %r = "nn.relu"(%x) : (tensor<2xf32>) -> tensor<2xf32>
    %s = "snn.if"(%r) {v_th = 1.000000e+00 : f32} : (tensor<2xf32>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
""", "tensor<2xf32>")
    with pytest.raises(DiagnosticError, match="input comes from 'nn.relu'"):
        PassManager([Quantize(calibration=np.ones((2, 2)))]).run(parse_module(text))
    with pytest.raises(DiagnosticError, match="weight-bits must be in 2..16"):
        PassManager([Quantize(weight_bits=1)]).run(parse_module(text))


def test_max_pool_of_spikes_lowers_to_an_exact_or():
    """conv -> IF -> max_pool (OR) -> flatten -> linear -> IF with integer weights: exact."""
    from snnc.ir.attributes import DenseElementsAttr
    from snnc.ir.types import TensorType, f32

    rng = np.random.default_rng(3)
    wc = DenseElementsAttr(TensorType((3, 2, 3, 3), f32), rng.integers(-2, 3, size=(3, 2, 3, 3)).astype(np.float32))
    wl = DenseElementsAttr(TensorType((4, 12), f32), rng.integers(-2, 3, size=(4, 12)).astype(np.float32))
    body = f"""
    %c = "nn.conv2d"(%x) {{padding = array<i64: 1, 1>, weight = {wc}}} : (tensor<2x4x4xi1>) -> tensor<3x4x4xf32>
    %s = "snn.if"(%c) {{v_th = 2.0 : f32}} : (tensor<3x4x4xf32>) -> tensor<3x4x4xi1>
    %p = "nn.max_pool2d"(%s) {{kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}} : (tensor<3x4x4xi1>) -> tensor<3x2x2xi1>
    %f = "nn.flatten"(%p) {{start_dim = 0 : i64, end_dim = -1 : i64}} : (tensor<3x2x2xi1>) -> tensor<12xi1>
    %l = "nn.linear"(%f) {{weight = {wl}}} : (tensor<12xi1>) -> tensor<4xf32>
    %o = "snn.if"(%l) {{v_th = 1.0 : f32}} : (tensor<4xf32>) -> tensor<4xi1>
    "snn.output"(%o) {{index = 0 : i64, name = "o"}} : (tensor<4xi1>) -> ()
    "snn.output"(%p) {{index = 1 : i64, name = "p"}} : (tensor<3x2x2xi1>) -> ()
"""
    m = parse_module(_module(body, "tensor<2x4x4xi1>"))
    verify(m)
    report, after = validate_pipeline(m, "quantize", steps=48, seeds=(0, 1, 2), spike_prob=0.3)
    assert report.ok, report.summary()
    names = [op.op_name for op in after.body.ops[0].body.ops]
    assert "spike.max_pool2d" in names and "nn.max_pool2d" not in names
    out = run(m, random_spikes((48, 2, 4, 4), p=0.3)).outputs
    assert out["o"].any() and out["p"].any() and not out["p"].all()  # not vacuous
