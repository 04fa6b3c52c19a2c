"""The prune pass: scores (QP-SNN svs facts), structured removal with propagation, dead-channel
exactness (translation validation on the calibration inputs), ratio 0 is the identity,
unstructured magnitude pruning, report, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from passes_helpers import GraphBuilder

from snnc.dialects.common import weight_attr as W
from snnc.interp import run
from snnc.ir import DiagnosticError, f32, i1, tensor, verify
from snnc.ir.parser import parse_module
from snnc.ir.printer import print_module
from snnc.passes import PassManager, parse_pipeline
from snnc.passes.prune import Prune, model_stats, svs_channel_scores, svs_score

# --------------------------------------------------------------------------- SEEDS fact 8


def test_svs_fact_8():
    assert svs_score(np.tile(np.array([[0.0, 1.0, 0.5, 1.0]]), (4, 1))) == 1  # identical rows
    assert svs_score(np.eye(4)) == 4
    assert svs_score(np.zeros((4, 4))) == 0


def test_svs_channel_scores_average_over_batch_of_time_mean():
    s = np.zeros((2, 2, 2, 4, 4))  # [T, B, C, H, W]
    s[:, 0, 0] = np.eye(4)  # sample 0 channel 0: rank 4
    s[0, 1, 0, 0, :] = 1  # sample 1 channel 0: one row -> rank 1
    s[:, :, 1] = 1.0  # channel 1 all ones: rank 1
    assert np.allclose(svs_channel_scores(s), [2.5, 1.0])


# --------------------------------------------------------------------------- models


def _conv_net(seed: int = 0, dead: tuple[int, ...] = ()) -> tuple:
    """conv(1->6) -> bn -> lif -> avgpool -> conv(6->4) -> lif -> flatten -> linear(4*2*2 -> 3) -> lif."""
    rng = np.random.default_rng(seed)
    gb = GraphBuilder()
    x = gb.input((1, 4, 4))
    w1 = rng.normal(0, 1, (6, 1, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 6).astype(np.float32)
    for c in dead:
        w1[c] = -np.abs(w1[c])
        b1[c] = -5.0
    h = gb.op("nn.conv2d", [x], tensor((6, 4, 4), f32), weight=W(w1), bias=W(b1),
              stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1)
    h = gb.op("nn.batch_norm", [h], tensor((6, 4, 4), f32), mean=W(np.zeros(6, np.float32)),
              var=W(np.ones(6, np.float32)), weight=W((1 + rng.random(6)).astype(np.float32)),
              bias=W(np.zeros(6, np.float32)), eps=1e-5)
    s = gb.lif(h, v_th=W(np.full((6, 1, 1), 0.5, np.float32)))
    p = gb.op("nn.avg_pool2d", [s], tensor((6, 2, 2), f32), kernel_size=[2, 2], stride=[2, 2], padding=[0, 0])
    h2 = gb.op("nn.conv2d", [p], tensor((4, 2, 2), f32), weight=W(rng.normal(0, 1, (4, 6, 3, 3)).astype(np.float32)),
               stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1)
    s2 = gb.lif(h2, v_th=0.3)
    f = gb.op("nn.flatten", [s2], tensor((16,), i1), start_dim=0, end_dim=-1)
    y = gb.op("nn.linear", [f], tensor((3,), f32), weight=W(rng.normal(0, 1, (3, 16)).astype(np.float32)),
              bias=W(np.zeros(3, np.float32)))
    gb.output(gb.lif(y, v_th=0.5))
    verify(gb.module)
    return gb.module


def _cal(seed: int = 1, t: int = 4, b: int = 8) -> np.ndarray:
    return np.random.default_rng(seed).random((t, b, 1, 4, 4)).astype(np.float32) * 2


def _prune(module, **kw):
    p = Prune(**kw)
    out = module.clone()
    PassManager([p]).run(out)
    return out, p


# --------------------------------------------------------------------------- ratio 0


@pytest.mark.parametrize(("criterion", "structured"), [("l1", True), ("l2", True), ("svs", True), ("dead", True),
                                                       ("l1", False), ("l2", False)])
def test_ratio_zero_is_byte_identical(criterion, structured):
    m = _conv_net()
    out, p = _prune(m, ratio=0.0, criterion=criterion, structured=structured, calibration=_cal())
    assert print_module(out) == print_module(m)
    assert p.report is not None and p.report.before == p.report.after


# --------------------------------------------------------------------------- structured


def test_l1_layer_removes_weakest_channels_and_propagates():
    m = _conv_net()
    out, p = _prune(m, ratio=0.5, criterion="l1")
    ops = {o.op_name: o for o in out.walk()}
    convs = [o for o in out.walk() if o.op_name == "nn.conv2d"]
    assert convs[0].results[0].type.shape == (3, 4, 4)
    assert convs[1].operands[0].type.shape == (3, 2, 2)
    assert convs[1].results[0].type.shape == (2, 2, 2)
    lin = ops["nn.linear"]
    assert lin.operands[0].type.shape == (8,)
    # the kept channels are the ones with the largest L1 norms
    w1 = [o for o in m.walk() if o.op_name == "nn.conv2d"][0].attr("weight")
    w1 = np.asarray(w1.data if hasattr(w1, "data") else w1)
    keep = np.sort(np.argsort(np.abs(w1).reshape(6, -1).sum(1), kind="stable")[3:])
    w1_new = np.asarray(convs[0].attr("weight").data)
    assert np.array_equal(w1_new, w1[keep])
    assert p.report.removed == {"nn.conv2d#0": 3, "nn.conv2d#1": 2}
    assert "nn.linear#2" in p.report.skipped  # feeds a graph output
    assert p.report.after.params < p.report.before.params
    assert p.report.after.synapses < p.report.before.synapses


def test_flatten_blocks_match_a_manual_slice():
    """Pruning conv#1's channel k removes columns k*4..k*4+3 of the linear: the pruned model
    equals the original with those channels' weights zeroed (exact)."""
    m = _conv_net()
    out, p = _prune(m, ratio=0.5, criterion="l2")
    # build the reference: zero the removed channels in the original (same function)
    ref = m.clone()
    convs = [o for o in ref.walk() if o.op_name == "nn.conv2d"]
    from snnc.dialects.common import tensor_attr_array

    for conv in convs:
        w = tensor_attr_array(conv, "weight")
        norms = np.sqrt((w.reshape(w.shape[0], -1) ** 2).sum(1))
        n = w.shape[0] // 2
        drop = np.argsort(norms, kind="stable")[:n]
        w2 = w.copy()
        w2[drop] = 0
        conv.set_attr("weight", W(w2))
        if conv.get_attr("bias") is not None:
            b = tensor_attr_array(conv, "bias").copy()
            b[drop] = -1e6  # never fires
            conv.set_attr("bias", W(b))
    x = _cal(b=4)
    a = run(ref, x, batched=True).outputs["y0"]
    b_ = run(out, x, batched=True).outputs["y0"]
    # conv#1 has no bias: zero weights alone make its removed channels silent only if
    # v_th > 0 and no constant drive, which holds (gamma = 0, v_th = 0.3)
    assert np.array_equal(a, b_)


def test_dead_channels_prune_exactly():
    m = _conv_net(dead=(1, 4))
    x = _cal()
    out, p = _prune(m, ratio=0.9, criterion="dead", calibration=x)
    assert p.report.removed.get("nn.conv2d#0") == 2
    assert [o for o in out.walk() if o.op_name == "nn.conv2d"][0].results[0].type.shape == (4, 4, 4)
    before = run(m, x, batched=True)
    after = run(out, x, batched=True)
    assert np.array_equal(before.outputs["y0"], after.outputs["y0"])  # translation validation, exact
    # held-out inputs of the same distribution: still exact (the dead channels' drive is < 0)
    x2 = _cal(seed=7)
    assert np.array_equal(run(m, x2, batched=True).outputs["y0"], run(out, x2, batched=True).outputs["y0"])
    assert p.report.after.energy_pj is not None and p.report.after.energy_pj < p.report.before.energy_pj


def test_dead_respects_ratio_cap():
    m = _conv_net(dead=(1, 4))
    out, p = _prune(m, ratio=0.2, criterion="dead", calibration=_cal())  # floor(0.2 * 6) = 1
    assert p.report.removed.get("nn.conv2d#0") == 1


def test_svs_prefers_structured_spike_maps():
    m = _conv_net(dead=(0,))
    out, p = _prune(m, ratio=0.2, criterion="svs", calibration=_cal())
    # the dead channel has score 0, the lowest -> removed (ties: lowest index first)
    conv0 = [o for o in out.walk() if o.op_name == "nn.conv2d"][0]
    w_before = np.asarray([o for o in m.walk() if o.op_name == "nn.conv2d"][0].attr("weight").data)
    w_after = np.asarray(conv0.attr("weight").data)
    assert w_after.shape[0] == 5
    assert not any(np.array_equal(w_before[0], r) for r in w_after)


def test_global_scope_counts_all_layers():
    m = _conv_net()
    out, p = _prune(m, ratio=0.5, criterion="l1", scope="global")
    assert sum(p.report.removed.values()) == 5  # floor(0.5 * (6 + 4))
    verify(out)


def test_shortcut_from_an_input_is_not_pruned():
    """x + linear(x): the add's channels are the input's, which cannot shrink, so neither can the linear's."""
    rng = np.random.default_rng(0)
    gb = GraphBuilder()
    x = gb.input((4,))
    a = gb.op("nn.linear", [x], tensor((4,), f32), weight=W(rng.normal(size=(4, 4)).astype(np.float32)))
    s = gb.op("nn.add", [a, x], tensor((4,), f32))
    gb.output(gb.lif(gb.op("nn.linear", [gb.lif(s)], tensor((2,), f32), weight=W(rng.normal(size=(2, 4)).astype(np.float32)))))
    out, p = _prune(gb.module, ratio=0.5)
    assert print_module(out) == print_module(gb.module)
    assert p.report.skipped["nn.linear#0"] == "shortcut from snn.input"


# --------------------------------------------------------------------------- unstructured


def test_unstructured_zeros_smallest_weights_per_layer():
    m = _conv_net()
    out, p = _prune(m, ratio=0.5, structured=False)
    for o in out.walk():
        if o.op_name in ("nn.conv2d", "nn.linear"):
            w = np.asarray(o.attr("weight").data)
            assert np.count_nonzero(w) == w.size - w.size // 2
    assert p.report.sparsity == pytest.approx((27 + 108 + 24) / (54 + 216 + 48), abs=1e-9)
    assert p.report.after.nonzero_weights < p.report.before.nonzero_weights


# --------------------------------------------------------------------------- options, CLI


def test_bad_options():
    with pytest.raises(DiagnosticError, match="ratio must be in"):
        parse_pipeline("prune{ratio=1.0}")
    with pytest.raises(DiagnosticError, match="criterion l1 or l2"):
        parse_pipeline("prune{ratio=0.5,criterion=svs,structured=false}")
    with pytest.raises(DiagnosticError, match="needs calibration inputs"):
        PassManager(parse_pipeline("prune{ratio=0.5,criterion=dead}")).run(_conv_net())


def test_stats_counts():
    st = model_stats(_conv_net())
    assert st.weights == 54 + 216 + 48
    # synapses: conv0 54 x 16 positions, conv1 216 x 4, linear 48
    assert st.synapses == 54 * 16 + 216 * 4 + 48


def test_cli_opt_calibration(tmp_path):
    m = _conv_net(dead=(1, 4))
    f = tmp_path / "m.mlir"
    f.write_text(print_module(m))
    np.save(tmp_path / "x.npy", _cal())
    exe = Path(sys.executable).parent / "snnc"
    r = subprocess.run([str(exe), "opt", str(f), "--calibration", str(tmp_path / "x.npy"),
                        "-p", "prune{ratio=0.5,criterion=dead,print-report=true}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2 channel(s) removed" in r.stderr and "energy/sample" in r.stderr
    out = parse_module(r.stdout)
    verify(out)
    assert "tensor<4x4x4xf32>" in r.stdout


def test_pipeline_text_round_trip():
    (p,) = parse_pipeline("prune{ratio=0.25,criterion=l2,scope=global,structured=true}")
    assert isinstance(p, Prune) and p.ratio == 0.25 and p.scope.value == "global" and p.criterion.value == "l2"
    assert p.pipeline_text() == "prune{ratio=0.25,criterion=l2,scope=global}"
    m = _conv_net()
    PassManager([p]).run(m)
    assert sum(p.report.removed.values()) == 2  # floor(0.25 * 10)


def test_svs_global_with_calibration():
    m = _conv_net(dead=(0, 3))
    out, p = _prune(m, ratio=0.2, criterion="svs", scope="global", calibration=_cal())
    assert sum(p.report.removed.values()) == 2
    assert p.report.removed.get("nn.conv2d#0") == 2  # the two dead channels score 0, lowest of all
    verify(out)
