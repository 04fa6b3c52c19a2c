"""prune across shortcut adds, concatenations and attention heads (issue 8).

Rule under test: a channel of an ``nn.add`` is removed from every branch of the add or from none
(the add's producers are pruned together, scored by the sum of their scores); a channel of an
``nn.concat`` operand maps to ``offset + c`` of the result; an attention core (imported
SDSAv1 / MetaSDSA) loses whole heads: the heads' Q/K/V channels and the projection's input
columns.  Translation validation: ``dead`` keeps the outputs identical (calibration and
held-out inputs); ratio > 0 verifies, runs and removes the requested counts; ratio 0 leaves the
printed IR byte-identical.
"""

from __future__ import annotations

import numpy as np
import pytest
from passes_helpers import GraphBuilder

from snnc.dialects.common import tensor_attr_array
from snnc.dialects.common import weight_attr as W
from snnc.interp import run
from snnc.ir import f32, i1, tensor, verify
from snnc.ir.printer import print_module
from snnc.passes import PassManager
from snnc.passes.prune import Prune


def _prune(module, **kw):
    p = Prune(**kw)
    out = module.clone()
    PassManager([p]).run(out)
    verify(out)
    return out, p


def _syn(module, name="nn.conv2d"):
    return [o for o in module.walk() if o.op_name == name]


def _same_outputs(a, b, x):
    ra, rb = run(a, x, batched=True).outputs, run(b, x, batched=True).outputs
    assert ra.keys() == rb.keys()
    for k in ra:
        assert np.array_equal(np.asarray(ra[k]), np.asarray(rb[k])), k


# --------------------------------------------------------------------------- shortcut add


def _resnet(dead: tuple[int, ...] = (), seed: int = 0):
    """MS-ResNet-style membrane shortcut: h0 = bn(conv0(x)); r = h0 + conv1(lif(h0)); lif(r) -> pool -> linear."""
    rng = np.random.default_rng(seed)
    gb = GraphBuilder()
    x = gb.input((1, 6, 6))
    w0 = rng.normal(0, 1, (6, 1, 3, 3)).astype(np.float32)
    b0 = rng.normal(0, 0.1, 6).astype(np.float32)
    w1 = rng.normal(0, 0.4, (6, 6, 3, 3)).astype(np.float32)
    for c in dead:
        w0[c], b0[c], w1[c] = -np.abs(w0[c]), -5.0, -np.abs(w1[c])
    h0 = gb.op("nn.conv2d", [x], tensor((6, 6, 6), f32), weight=W(w0), bias=W(b0),
               stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1)
    h0 = gb.op("nn.batch_norm", [h0], tensor((6, 6, 6), f32), mean=W(np.zeros(6, np.float32)),
               var=W(np.ones(6, np.float32)), weight=W((1 + rng.random(6)).astype(np.float32)),
               bias=W(np.zeros(6, np.float32)), eps=1e-5)
    s0 = gb.lif(h0, v_th=W(np.full((6, 1, 1), 0.5, np.float32)))
    h1 = gb.op("nn.conv2d", [s0], tensor((6, 6, 6), f32), weight=W(w1),
               stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1)
    r = gb.op("nn.add", [h0, h1], tensor((6, 6, 6), f32))
    s1 = gb.lif(r, v_th=0.5)
    p = gb.op("nn.avg_pool2d", [s1], tensor((6, 3, 3), f32), kernel_size=[2, 2], stride=[2, 2], padding=[0, 0])
    f = gb.op("nn.flatten", [p], tensor((54,), f32), start_dim=0, end_dim=-1)
    y = gb.op("nn.linear", [f], tensor((3,), f32), weight=W(rng.normal(0, 1, (3, 54)).astype(np.float32)))
    gb.output(gb.lif(y, v_th=0.5))
    verify(gb.module)
    return gb.module


def _cal(shape, seed=1, t=4, b=6):
    return (np.random.default_rng(seed).random((t, b, *shape)) * 2).astype(np.float32)


def test_shortcut_dead_channels_exact():
    m = _resnet(dead=(1, 4))
    x = _cal((1, 6, 6))
    out, p = _prune(m, ratio=0.9, criterion="dead", calibration=x)
    assert p.report.removed == {"nn.conv2d#0+nn.conv2d#1": 2}
    c0, c1 = _syn(out)
    assert c0.results[0].type.shape == (4, 6, 6)
    assert tensor_attr_array(c1, "weight").shape == (4, 4, 3, 3)  # rows and columns of the shortcut branch
    assert _syn(out, "nn.linear")[0].operands[0].type.shape == (36,)
    _same_outputs(m, out, x)
    _same_outputs(m, out, _cal((1, 6, 6), seed=8))  # held out: the dead channels' drive is < 0
    assert p.report.after.params < p.report.before.params
    assert p.report.after.energy_pj < p.report.before.energy_pj


def test_shortcut_branches_pruned_together():
    m = _resnet()
    out, p = _prune(m, ratio=0.5, criterion="l1")
    assert p.report.removed == {"nn.conv2d#0+nn.conv2d#1": 3}
    w0 = tensor_attr_array(_syn(m)[0], "weight")
    w1 = tensor_attr_array(_syn(m)[1], "weight")
    score = np.abs(w0).reshape(6, -1).sum(1) + np.abs(w1).reshape(6, -1).sum(1)  # summed over the add's producers
    keep = np.sort(np.argsort(score, kind="stable")[3:])
    assert np.array_equal(tensor_attr_array(_syn(out)[0], "weight"), w0[keep])
    assert np.array_equal(tensor_attr_array(_syn(out)[1], "weight"), w1[keep][:, keep])
    run(out, _cal((1, 6, 6)), batched=True)  # runs


@pytest.mark.parametrize("criterion", ["l1", "l2", "svs", "dead"])
def test_shortcut_ratio_zero_identical(criterion):
    m = _resnet(dead=(2,))
    out, _ = _prune(m, ratio=0.0, criterion=criterion, calibration=_cal((1, 6, 6)))
    assert print_module(out) == print_module(m)


# --------------------------------------------------------------------------- concat


def _concat_net(dead_a=(), dead_b=(), seed=0):
    """x -> conv_a (4) -> lif ; x -> conv_b (3) -> lif ; concat(axis 0) -> conv (7 -> 5) -> lif -> flatten -> linear."""
    rng = np.random.default_rng(seed)
    gb = GraphBuilder()
    x = gb.input((1, 4, 4))
    spikes = []
    for n, dead in ((4, dead_a), (3, dead_b)):
        w = rng.normal(0, 1, (n, 1, 3, 3)).astype(np.float32)
        b = rng.normal(0, 0.1, n).astype(np.float32)
        for c in dead:
            w[c], b[c] = -np.abs(w[c]), -5.0
        h = gb.op("nn.conv2d", [x], tensor((n, 4, 4), f32), weight=W(w), bias=W(b),
                  stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1)
        spikes.append(gb.lif(h, v_th=0.5))
    cat = gb.op("nn.concat", spikes, tensor((7, 4, 4), i1), axis=0)
    h2 = gb.op("nn.conv2d", [cat], tensor((5, 4, 4), f32), weight=W(rng.normal(0, 1, (5, 7, 3, 3)).astype(np.float32)),
               stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1)
    s2 = gb.lif(h2, v_th=1.0)
    f = gb.op("nn.flatten", [s2], tensor((80,), i1), start_dim=0, end_dim=-1)
    gb.output(gb.lif(gb.op("nn.linear", [f], tensor((3,), f32),
                           weight=W(rng.normal(0, 1, (3, 80)).astype(np.float32))), v_th=0.5))
    verify(gb.module)
    return gb.module


def test_concat_dead_channels_map_to_offsets_exact():
    m = _concat_net(dead_a=(1,), dead_b=(2,))
    x = _cal((1, 4, 4))
    out, p = _prune(m, ratio=0.9, criterion="dead", calibration=x)
    assert p.report.removed == {"nn.conv2d#0": 1, "nn.conv2d#1": 1}
    w2 = tensor_attr_array(_syn(m)[2], "weight")
    keep = [0, 2, 3, 4, 5]  # a: 0, 2, 3 ; b: 0, 1 -> 4 + (0, 1)
    assert np.array_equal(tensor_attr_array(_syn(out)[2], "weight"), w2[:, keep])
    assert [o for o in out.walk() if o.op_name == "nn.concat"][0].results[0].type.shape == (5, 4, 4)
    _same_outputs(m, out, x)
    _same_outputs(m, out, _cal((1, 4, 4), seed=5))


def test_concat_ratio_counts_and_zero():
    m = _concat_net()
    out, p = _prune(m, ratio=0.5, criterion="l2")
    assert p.report.removed == {"nn.conv2d#0": 2, "nn.conv2d#1": 1, "nn.conv2d#2": 2}
    assert tensor_attr_array(_syn(out)[2], "weight").shape == (3, 4, 3, 3)
    run(out, _cal((1, 4, 4)), batched=True)
    out0, _ = _prune(m, ratio=0.0, criterion="l2")
    assert print_module(out0) == print_module(m)


def test_concat_into_graph_output_blocks_its_operands():
    gb = GraphBuilder()
    x = gb.input((4,))
    a = gb.lif(gb.op("nn.linear", [x], tensor((4,), f32), weight=W(np.eye(4, dtype=np.float32))))
    b = gb.lif(gb.op("nn.linear", [x], tensor((2,), f32), weight=W(np.ones((2, 4), np.float32))))
    gb.output(gb.op("nn.concat", [a, b], tensor((6,), i1), axis=0))
    out, p = _prune(gb.module, ratio=0.5)
    assert print_module(out) == print_module(gb.module)
    assert p.report.skipped["nn.linear#0"] == "feeds nn.concat whose result reaches a graph output"


# --------------------------------------------------------------------------- attention heads

torch = pytest.importorskip("torch", reason="torch not installed")
pytest.importorskip("torch_mlir", reason="torch-mlir not installed")


def _attention(kind: str, dead_heads=(), heads=4, seed=0):
    import snnc.nn as snnc_nn
    from snnc.frontends.torch import import_torch

    class Attn(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v = (torch.nn.Linear(8, 8) for _ in range(3))
            self.lifs = torch.nn.ModuleList(snnc_nn.LIF(alpha=0.5, v_th=0.2, step_mode="m") for _ in range(3))
            self.attn = snnc_nn.SDSAv1(num_heads=heads) if kind == "v1" else snnc_nn.MetaSDSA(num_heads=heads)
            self.proj = torch.nn.Linear(8, 3)

        def forward(self, x):
            q, k, v = (lif(fc(x)) for lif, fc in zip(self.lifs, (self.q, self.k, self.v), strict=True))
            return self.proj(self.attn(q, k, v))

    torch.manual_seed(seed)
    m = Attn().eval()
    d = 8 // heads
    with torch.no_grad():
        for lin in (m.q, m.k, m.v):  # lively Q/K/V spikes, so that every live head fires
            lin.weight.abs_().mul_(0.15)
        for h in dead_heads:  # Q of these heads never fires -> the head's output is 0
            m.q.weight[h * d:(h + 1) * d] = -m.q.weight[h * d:(h + 1) * d].abs()
            m.q.bias[h * d:(h + 1) * d] = -5.0
    return import_torch(m, torch.zeros(1, 1, 6, 8), time_layout="TB")


def _tok(seed=1):
    return (np.random.default_rng(seed).random((5, 4, 6, 8)) * 3).astype(np.float32)


@pytest.mark.parametrize("kind", ["v1", "meta"])
def test_dead_heads_removed_exactly(kind):
    m = _attention(kind, dead_heads=(1, 3))
    x = _tok()
    out, p = _prune(m, ratio=0.75, criterion="dead", calibration=x)
    assert p.report.heads_removed == {"attention#0": 2}
    q, k, v, proj = _syn(out, "nn.linear")
    for lin in (q, k, v):
        assert tensor_attr_array(lin, "weight").shape == (4, 8)
    w = tensor_attr_array(_syn(m, "nn.linear")[3], "weight")
    assert np.array_equal(tensor_attr_array(proj, "weight"), w[:, [0, 1, 4, 5]])
    assert proj.operands[0].type.shape == (6, 4)
    _same_outputs(m, out, x)
    _same_outputs(m, out, _tok(9))


@pytest.mark.parametrize("kind", ["v1", "meta"])
@pytest.mark.parametrize("criterion", ["l1", "svs"])
def test_head_ratio_counts(kind, criterion):
    m = _attention(kind)
    out, p = _prune(m, ratio=0.5, criterion=criterion, calibration=_tok())
    assert p.report.heads_removed == {"attention#0": 2}
    assert not p.report.removed  # Q/K/V channels go only as whole heads
    assert "nn.linear#3" in p.report.skipped  # the projection feeds the graph output
    res = run(out, _tok(), batched=True)
    assert np.asarray(res.outputs["output"]).shape == (5, 4, 6, 3)
    assert p.report.after.params < p.report.before.params
    out0, _ = _prune(m, ratio=0.0, criterion=criterion, calibration=_tok())
    assert print_module(out0) == print_module(m)


# --------------------------------------------------------------------------- imported spiking transformers


def _example_model(name: str, shape):
    import importlib.util
    from pathlib import Path

    from snnc.frontends.torch import import_torch

    path = Path(__file__).resolve().parents[2] / "examples" / "torch" / "spiking_models.py"
    spec = importlib.util.spec_from_file_location("spiking_models", path)
    sm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sm)
    return import_torch(getattr(sm, name)().eval(), torch.zeros(1, 1, *shape), time_layout="TB")


@pytest.mark.parametrize(("name", "shape", "heads"), [("sdt_v1_block", (8, 4, 4), {"attention#0": 1}),
                                                       ("meta_spikeformer_tiny", (3, 16, 16),
                                                        {"attention#0": 1, "attention#1": 1})])
def test_imported_transformers(name, shape, heads):
    """Conv-form heads ([C, H, W] -> [C, HW] -> [HW, C] -> [HW, h, d] -> [h, HW, d], merged back by
    [h, d, HW] -> [C, ...]), depthwise convs, membrane shortcuts, global pooling: dead pruning is
    exact, l1 removes floor(ratio x heads) per core, ratio 0 is the identity."""
    m = _example_model(name, shape)
    x = (np.random.default_rng(0).random((4, 3, *shape)) * 4).astype(np.float32)
    dead, p = _prune(m, ratio=0.5, criterion="dead", calibration=x)
    assert p.report.removed  # random BN statistics leave dead channels in these models
    _same_outputs(m, dead, x)
    out, p = _prune(m, ratio=0.5, criterion="l1")
    assert p.report.heads_removed == heads
    assert p.report.after.params < p.report.before.params
    run(out, x, batched=True)
    out0, _ = _prune(m, ratio=0.0, criterion="l1")
    assert print_module(out0) == print_module(m)
