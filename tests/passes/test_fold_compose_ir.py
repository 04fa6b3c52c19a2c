"""BN folding (canonicalize) and conv-chain composition (compose-linear: RepConv, dw -> pw) on the IR.

Every rewrite is checked by translation validation in float64: identical spikes on random inputs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from snnc.ir.parser import parse_module
from snnc.ir.printer import print_module
from snnc.passes.compose_linear import fold_repconv
from snnc.passes.validate import validate_pipeline

LIF = ('{alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, cmp = "ge", gamma = 0.000000e+00 : f64, '
       'reset = "hard", v_init = 0.000000e+00 : f64, v_reset = 0.000000e+00 : f64, v_th = 1.000000e+00 : f64}')


def _d(a: np.ndarray) -> str:
    a = np.asarray(a, float)
    return "dense<" + json.dumps(a.tolist()) + f"> : tensor<{'x'.join(map(str, a.shape))}xf64>"


def _bn(c: int, rng) -> str:
    return (f'eps = 1.000000e-05 : f64, mean = {_d(rng.standard_normal(c) * 0.3)}, var = {_d(rng.random(c) + 0.5)}, '
            f'weight = {_d(rng.random(c) + 0.5)}, bias = {_d(rng.standard_normal(c) * 0.3)}')


def _graph(body: str, xin: str, out: str) -> str:
    return f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %0 = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> {xin}
{body}
    "snn.output"(%s) {{index = 0 : i64, name = "s"}} : ({out}) -> ()
  }}) {{sym_name = "main"}} : () -> ()
}}) : () -> ()
"""


def _validate(text: str, pipeline: str):
    m = parse_module(text)
    rep, after = validate_pipeline(m, pipeline, steps=8, seeds=(0, 1, 2, 3), dtype=np.float64, atol=1e-9, rtol=1e-9)
    assert rep.ok, rep.summary()
    assert all(c.spikes for c in rep.comparisons)
    return after


def _ops(m) -> list[str]:
    return [op.op_name for op in m.walk()]


def test_bn_folds_into_conv2d_conv1d_and_linear():
    rng = np.random.default_rng(0)
    body = f"""
    %1 = "nn.conv2d"(%0) {{padding = array<i64: 1, 1>, weight = {_d(rng.standard_normal((3, 2, 3, 3)))}}} : (tensor<2x5x5xi1>) -> tensor<3x5x5xf64>
    %2 = "nn.batch_norm"(%1) {{{_bn(3, rng)}}} : (tensor<3x5x5xf64>) -> tensor<3x5x5xf64>
    %3 = "snn.lif"(%2) {LIF} : (tensor<3x5x5xf64>) -> tensor<3x5x5xi1>
    %4 = "nn.reshape"(%3) : (tensor<3x5x5xi1>) -> tensor<3x25xi1>
    %5 = "nn.conv1d"(%4) {{bias = {_d(rng.standard_normal(2))}, weight = {_d(rng.standard_normal((2, 3, 3)))}}} : (tensor<3x25xi1>) -> tensor<2x23xf64>
    %6 = "nn.batch_norm"(%5) {{{_bn(2, rng)}}} : (tensor<2x23xf64>) -> tensor<2x23xf64>
    %7 = "snn.lif"(%6) {LIF} : (tensor<2x23xf64>) -> tensor<2x23xi1>
    %8 = "nn.reshape"(%7) : (tensor<2x23xi1>) -> tensor<46xi1>
    %9 = "nn.linear"(%8) {{weight = {_d(rng.standard_normal((4, 46)))}}} : (tensor<46xi1>) -> tensor<4xf64>
    %10 = "nn.batch_norm"(%9) {{{_bn(4, rng)}}} : (tensor<4xf64>) -> tensor<4xf64>
    %s = "snn.lif"(%10) {LIF} : (tensor<4xf64>) -> tensor<4xi1>"""
    after = _validate(_graph(body, "tensor<2x5x5xi1>", "tensor<4xi1>"), "canonicalize")
    ops = _ops(after)
    assert "nn.batch_norm" not in ops
    assert ops.count("nn.conv2d") == ops.count("nn.conv1d") == ops.count("nn.linear") == 1


def test_bn_not_folded_when_unsafe():
    rng = np.random.default_rng(1)
    # the conv result has two uses; the linear's result is rank 2 (BN's channel axis 0 is not its feature axis)
    body = f"""
    %1 = "nn.conv2d"(%0) {{weight = {_d(rng.standard_normal((2, 2, 1, 1)))}}} : (tensor<2x3x3xi1>) -> tensor<2x3x3xf64>
    %2 = "nn.batch_norm"(%1) {{{_bn(2, rng)}}} : (tensor<2x3x3xf64>) -> tensor<2x3x3xf64>
    %3 = "nn.add"(%1, %2) : (tensor<2x3x3xf64>, tensor<2x3x3xf64>) -> tensor<2x3x3xf64>
    %4 = "nn.linear"(%3) {{weight = {_d(rng.standard_normal((3, 3)))}}} : (tensor<2x3x3xf64>) -> tensor<2x3x3xf64>
    %5 = "nn.batch_norm"(%4) {{{_bn(2, rng)}}} : (tensor<2x3x3xf64>) -> tensor<2x3x3xf64>
    %s = "snn.lif"(%5) {LIF} : (tensor<2x3x3xf64>) -> tensor<2x3x3xi1>"""
    after = _validate(_graph(body, "tensor<2x3x3xi1>", "tensor<2x3x3xi1>"), "canonicalize")
    # the first stays (it feeds an add); the second goes into the LIF's gain and drive
    assert _ops(after).count("nn.batch_norm") == 1 and _ops(after).count("nn.linear") == 1
    after = _validate(_graph(body, "tensor<2x3x3xi1>", "tensor<2x3x3xi1>"), "canonicalize{fold-bn=false}")
    assert _ops(after).count("nn.batch_norm") == 2


def _repconv_text(rng, cin=3, c=4, cout=5, hw=6):
    w1, w2, w3 = rng.standard_normal((c, cin, 1, 1)), rng.standard_normal((c, 1, 3, 3)), rng.standard_normal((cout, c, 1, 1))
    bn1, bn2 = _bn(c, rng), _bn(cout, rng)
    h2 = hw + 2
    body = f"""
    %1 = "nn.conv2d"(%0) {{padding = array<i64: 1, 1>, weight = {_d(w1)}}} : (tensor<{cin}x{hw}x{hw}xi1>) -> tensor<{c}x{h2}x{h2}xf64>
    %2 = "nn.batch_norm"(%1) {{{bn1}}} : (tensor<{c}x{h2}x{h2}xf64>) -> tensor<{c}x{h2}x{h2}xf64>
    %3 = "nn.conv2d"(%2) {{groups = {c} : i64, weight = {_d(w2)}}} : (tensor<{c}x{h2}x{h2}xf64>) -> tensor<{c}x{hw}x{hw}xf64>
    %4 = "nn.conv2d"(%3) {{weight = {_d(w3)}}} : (tensor<{c}x{hw}x{hw}xf64>) -> tensor<{cout}x{hw}x{hw}xf64>
    %5 = "nn.batch_norm"(%4) {{{bn2}}} : (tensor<{cout}x{hw}x{hw}xf64>) -> tensor<{cout}x{hw}x{hw}xf64>
    %s = "snn.lif"(%5) {LIF} : (tensor<{cout}x{hw}x{hw}xf64>) -> tensor<{cout}x{hw}x{hw}xi1>"""
    return _graph(body, f"tensor<{cin}x{hw}x{hw}xi1>", f"tensor<{cout}x{hw}x{hw}xi1>"), (w1, bn1, w2, w3, bn2)


def _bn_dict(op, name_prefix=""):
    return {k: np.asarray(op.get_attr(k).data) for k in ("mean", "var", "weight", "bias")} | {"eps": float(op.attr("eps"))}


def test_repconv_becomes_one_3x3_conv_equal_to_fold_repconv():
    rng = np.random.default_rng(2)
    text, _ = _repconv_text(rng)
    m = parse_module(text)
    convs = [op for op in m.walk() if op.op_name == "nn.conv2d"]
    bns = [op for op in m.walk() if op.op_name == "nn.batch_norm"]
    w_ref, b_ref = fold_repconv(
        np.asarray(convs[0].get_attr("weight").data), _bn_dict(bns[0]), np.asarray(convs[1].get_attr("weight").data),
        np.asarray(convs[2].get_attr("weight").data), _bn_dict(bns[1]),
    )
    after = _validate(text, "compose-linear")
    (conv,) = [op for op in after.walk() if op.op_name == "nn.conv2d"]
    assert "nn.batch_norm" not in _ops(after)
    assert conv.operands[0].type.element.width == 1  # the folded conv sees the spikes
    assert tuple(conv.attr("padding")) == (1, 1) and int(conv.attr("groups")) == 1
    np.testing.assert_allclose(np.asarray(conv.get_attr("weight").data), w_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(conv.get_attr("bias").data), b_ref, rtol=0, atol=1e-12)


def test_sepconv_dw_pw_composes_and_canonicalize_keeps_it():
    rng = np.random.default_rng(3)
    body = f"""
    %1 = "nn.conv2d"(%0) {{groups = 4 : i64, padding = array<i64: 3, 3>, weight = {_d(rng.standard_normal((4, 1, 7, 7)))}}} : (tensor<4x7x7xi1>) -> tensor<4x7x7xf64>
    %2 = "nn.conv2d"(%1) {{weight = {_d(rng.standard_normal((2, 4, 1, 1)))}}} : (tensor<4x7x7xf64>) -> tensor<2x7x7xf64>
    %3 = "nn.batch_norm"(%2) {{{_bn(2, rng)}}} : (tensor<2x7x7xf64>) -> tensor<2x7x7xf64>
    %s = "snn.lif"(%3) {LIF} : (tensor<2x7x7xf64>) -> tensor<2x7x7xi1>"""
    text = _graph(body, "tensor<4x7x7xi1>", "tensor<2x7x7xi1>")
    canon = _validate(text, "canonicalize")
    assert _ops(canon).count("nn.conv2d") == 2 and "nn.batch_norm" not in _ops(canon)
    after = _validate(text, "compose-linear")
    (conv,) = [op for op in after.walk() if op.op_name == "nn.conv2d"]
    assert conv.get_attr("weight").type.shape == (2, 4, 7, 7)
    assert tuple(conv.attr("padding")) == (3, 3)


def test_no_composition_through_a_neuron_or_padding():
    rng = np.random.default_rng(4)
    # B (3x3) has padding: A's bias ring would be wrong, so the 1x1 -> 3x3 chain is left alone
    body = f"""
    %1 = "nn.conv2d"(%0) {{bias = {_d(rng.standard_normal(2))}, weight = {_d(rng.standard_normal((2, 2, 1, 1)))}}} : (tensor<2x4x4xi1>) -> tensor<2x4x4xf64>
    %2 = "nn.conv2d"(%1) {{padding = array<i64: 1, 1>, weight = {_d(rng.standard_normal((3, 2, 3, 3)))}}} : (tensor<2x4x4xf64>) -> tensor<3x4x4xf64>
    %3 = "snn.lif"(%2) {LIF} : (tensor<3x4x4xf64>) -> tensor<3x4x4xi1>
    %4 = "nn.conv2d"(%3) {{weight = {_d(rng.standard_normal((2, 3, 1, 1)))}}} : (tensor<3x4x4xi1>) -> tensor<2x4x4xf64>
    %s = "snn.lif"(%4) {LIF} : (tensor<2x4x4xf64>) -> tensor<2x4x4xi1>"""
    after = _validate(_graph(body, "tensor<2x4x4xi1>", "tensor<2x4x4xi1>"), "compose-linear")
    assert _ops(after).count("nn.conv2d") == 3


def test_meta_spikeformer_tiny_every_synapse_sees_spikes_after_compose_linear():
    torch = pytest.importorskip("torch")
    pytest.importorskip("spikingjelly")
    import importlib.util
    from pathlib import Path

    import snnc
    from snnc.analysis.report import analyze
    from snnc.frontends.torch_neurons import swap_neurons

    path = Path(__file__).resolve().parents[2] / "examples" / "torch" / "spiking_models.py"
    spec = importlib.util.spec_from_file_location("spiking_models", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = swap_neurons(mod.meta_spikeformer_tiny().double()).eval()
    x = torch.rand(4, 1, 3, 16, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 4
    m = snnc.import_torch(model, x, time_layout="TB")
    cal = x[:, 0].numpy()
    rep, after = validate_pipeline(m, "compose-linear", steps=4, seeds=(0,), inputs={"cal": {"x": cal}}, atol=1e-9, rtol=1e-9)
    assert rep.ok, rep.summary()
    before, folded = analyze(m, calibration=cal), analyze(after, calibration=cal)
    assert sum(la.input_kind == "real" for la in before.layers) > 1
    # after the passes only the encoding conv takes real values (MACs)
    assert [la.input_kind for la in folded.layers].count("real") == 1 and folded.layers[0].input_kind == "real"
    assert folded.totals["energy_pj"] < before.totals["energy_pj"]
    assert print_module(after).count("nn.batch_norm") == 0


def test_bn_that_cannot_fold_into_weights_folds_into_the_neuron():
    rng = np.random.default_rng(5)
    # BN after a shortcut add: no single synapse to absorb it, so it becomes the LIF's gain/drive;
    # BN on raw input spikes feeding an IF too.  Negative BN scales included.
    w = rng.standard_normal(3)
    w[0] = -abs(w[0]) - 0.5
    bn = (f'eps = 1.000000e-05 : f64, mean = {_d(rng.standard_normal(3) * 0.3)}, var = {_d(rng.random(3) + 0.5)}, '
          f'weight = {_d(w)}, bias = {_d(rng.standard_normal(3) * 0.3)}')
    body = f"""
    %1 = "nn.conv2d"(%0) {{padding = array<i64: 1, 1>, weight = {_d(rng.standard_normal((3, 3, 3, 3)))}}} : (tensor<3x4x4xi1>) -> tensor<3x4x4xf64>
    %2 = "nn.add"(%1, %1) : (tensor<3x4x4xf64>, tensor<3x4x4xf64>) -> tensor<3x4x4xf64>
    %3 = "nn.batch_norm"(%2) {{{bn}}} : (tensor<3x4x4xf64>) -> tensor<3x4x4xf64>
    %4 = "snn.lif"(%3) {LIF} : (tensor<3x4x4xf64>) -> tensor<3x4x4xi1>
    %5 = "nn.batch_norm"(%4) {{{_bn(3, rng)}}} : (tensor<3x4x4xi1>) -> tensor<3x4x4xf64>
    %s = "snn.if"(%5) {{reset = "soft", v_th = 5.000000e-01 : f64}} : (tensor<3x4x4xf64>) -> tensor<3x4x4xi1>"""
    text = _graph(body, "tensor<3x4x4xi1>", "tensor<3x4x4xi1>")
    after = _validate(text, "canonicalize")
    assert "nn.batch_norm" not in _ops(after)
    (lif,) = [op for op in after.walk() if op.op_name == "snn.lif"]
    assert lif.get_attr("beta").type.shape == (3, 1, 1) and lif.get_attr("gamma").type.shape == (3, 1, 1)
    off = _validate(text, "canonicalize{fold-bn=false}")
    assert _ops(off).count("nn.batch_norm") == 2
