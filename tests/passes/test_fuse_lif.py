"""fuse-lif: units are formed as documented, interpretation is bit-identical before and after
(float64 and float32, random and calibration inputs), fused IR round-trips, and quantize /
report accept it (quantize after fuse-lif gives the same integer network as without it)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from snnc.interp import run
from snnc.ir import parse_module, print_module, verify
from snnc.passes import PassManager, Quantize, parse_pipeline
from snnc.passes.fuse_lif import fused_ops, unfuse
from snnc.passes.validate import validate_pipeline

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / ".." / "shared" / "golden" / "nir-paper"
LIF = "alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64"


def _module(inputs: list[tuple[str, str]], body: str, outputs: list[tuple[str, str]]) -> str:
    ins = "\n".join(f'    %{n} = "snn.input"() {{index = {i} : i64, name = "{n}"}} : () -> {t}'
                    for i, (n, t) in enumerate(inputs))
    outs = "\n".join(f'    "snn.output"(%{n}) {{index = {i} : i64, name = "{n}"}} : ({t}) -> ()'
                     for i, (n, t) in enumerate(outputs))
    return f'"builtin.module"() ({{\n  "snn.graph"() ({{\n{ins}\n{body}\n{outs}\n  }}) {{sym_name = "g"}} : () -> ()\n}}) : () -> ()\n'


def _fuse_validated(m, pipeline="fuse-lif", steps=12, inputs=None):
    for dtype in (np.float64, np.float32):
        rep, after = validate_pipeline(m, pipeline, steps=steps, seeds=(0, 1), inputs=inputs, dtype=dtype,
                                       atol=0.0, rtol=0.0, float_scale=2.0)
        assert rep.ok, rep.summary()
    # printing and re-parsing the fused module gives the same text
    text = print_module(after)
    again = parse_module(text)
    verify(again)
    assert print_module(again) == text
    return after


def _units(m) -> list[tuple[str, list[str]]]:
    return [(str(f.attr("kind")), [op.op_name for op in f.body.ops[:-1]]) for f in fused_ops(m)]


# --------------------------------------------------------------------------- hand-written graphs

SHORTCUTS = _module(
    [("x", "tensor<4xi1>"), ("m", "tensor<2xf64>"), ("b", "tensor<4xi1>")],
    f"""
    %w = "nn.linear"(%x) {{weight = dense<[[1.0, 0.5, 0.0, -1.0], [0.25, 0.25, 1.0, 1.0]]> : tensor<2x4xf64>}} : (tensor<4xi1>) -> tensor<2xf64>
    %n = "nn.batch_norm"(%w) {{eps = 0.0 : f64, mean = dense<[0.0, 1.0]> : tensor<2xf64>, var = dense<[1.0, 4.0]> : tensor<2xf64>}} : (tensor<2xf64>) -> tensor<2xf64>
    %u = "nn.add"(%m, %n) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
    %s = "snn.lif"(%u) {{{LIF}}} : (tensor<2xf64>) -> tensor<2xi1>
    %xb = "nn.add"(%x, %b) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xf64>
    %w2 = "nn.linear"(%xb) {{weight = dense<0.5> : tensor<3x4xf64>}} : (tensor<4xf64>) -> tensor<3xf64>
    %s2 = "snn.if"(%w2) {{v_th = 1.000000e+00 : f64}} : (tensor<3xf64>) -> tensor<3xi1>
    %r = "nn.reshape"(%s2) : (tensor<3xi1>) -> tensor<1x3xi1>
    %t = "nn.transpose"(%r) {{perm = array<i64: 1, 0>}} : (tensor<1x3xi1>) -> tensor<3x1xi1>""",
    [("s", "tensor<2xi1>"), ("u", "tensor<2xf64>"), ("t", "tensor<3x1xi1>")],
)


def test_membrane_and_spike_shortcuts_and_a_stateless_chain():
    after = _fuse_validated(parse_module(SHORTCUTS))
    assert _units(after) == [
        ("lif", ["nn.linear", "nn.batch_norm", "nn.add", "snn.lif"]),  # membrane shortcut: add(m, BN(W x))
        ("if", ["nn.add", "nn.linear", "snn.if"]),  # spike shortcut: x + b (spikes) before the synapse
        ("stateless", ["nn.reshape", "nn.transpose"]),
    ]
    lif_unit = fused_ops(after)[0]
    # the membrane sum is an output too: yielded after the spikes
    assert [str(r.type) for r in lif_unit.results] == ["tensor<2xi1>", "tensor<2xf64>"]
    g = after.body.ops[0]
    assert [op.op_name for op in g.body.ops].count("snn.fused") == 3
    assert not [op for op in g.body.ops if op.op_name.startswith("nn.")]


def test_multi_use_value_inside_a_unit_is_yielded_to_its_other_users():
    # %p feeds the neuron's chain and a second neuron: the first unit takes it and yields it
    text = _module(
        [("x", "tensor<3xi1>")],
        f"""
    %p = "nn.linear"(%x) {{weight = dense<[[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]> : tensor<2x3xf64>}} : (tensor<3xi1>) -> tensor<2xf64>
    %s = "snn.lif"(%p) {{{LIF}}} : (tensor<2xf64>) -> tensor<2xi1>
    %q = "nn.scale"(%p) {{scale = 3.000000e+00 : f64}} : (tensor<2xf64>) -> tensor<2xf64>
    %s2 = "snn.if"(%q) {{v_th = 2.000000e+00 : f64}} : (tensor<2xf64>) -> tensor<2xi1>""",
        [("s", "tensor<2xi1>"), ("s2", "tensor<2xi1>")],
    )
    after = _fuse_validated(parse_module(text))
    assert _units(after) == [("lif", ["nn.linear", "snn.lif"]), ("if", ["nn.scale", "snn.if"])]
    first, second = fused_ops(after)
    assert len(first.results) == 2 and second.operands[0] is first.results[1]


def test_a_unit_that_would_close_a_delay_free_cycle_takes_only_ops_used_inside():
    text = _module(
        [("x", "tensor<2xf64>")],
        f"""
    %p = "nn.scale"(%x) {{scale = 2.000000e+00 : f64}} : (tensor<2xf64>) -> tensor<2xf64>
    %y = "nn.linear"(%p) {{weight = dense<[[1.0, -1.0], [0.5, 0.5]]> : tensor<2x2xf64>}} : (tensor<2xf64>) -> tensor<2xf64>
    %y2 = "nn.linear"(%y) {{weight = dense<[[0.0, 1.0], [1.0, 0.0]]> : tensor<2x2xf64>}} : (tensor<2xf64>) -> tensor<2xf64>
    %z = "nn.add"(%p, %y2) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
    %s = "snn.lif"(%z) {{{LIF}}} : (tensor<2xf64>) -> tensor<2xi1>""",
        [("s", "tensor<2xi1>")],
    )
    after = _fuse_validated(parse_module(text))
    assert _units(after) == [("lif", ["nn.linear", "nn.add", "snn.lif"])]
    names = [op.op_name for op in after.body.ops[0].body.ops]
    assert names.count("nn.scale") == 1 and names.count("nn.linear") == 1  # %p and %y stay outside


def test_recurrence_through_a_delay_and_every_neuron_kind():
    text = _module(
        [("x", "tensor<3xi1>")],
        f"""
    %f = "nn.linear"(%x) {{weight = dense<[[1.0, 0.5, 0.0], [0.25, 1.0, 1.0], [0.5, 0.5, -0.5]]> : tensor<3x3xf64>}} : (tensor<3xi1>) -> tensor<3xf64>
    %r = "nn.linear"(%d) {{weight = dense<-0.5> : tensor<3x3xf64>}} : (tensor<3xi1>) -> tensor<3xf64>
    %a = "nn.add"(%f, %r) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
    %s = "snn.lif"(%a) {{{LIF}, reset = "soft"}} : (tensor<3xf64>) -> tensor<3xi1>
    %d = "snn.delay"(%s) {{steps = 1 : i64}} : (tensor<3xi1>) -> tensor<3xi1>
    %c = "snn.cuba_lif"(%f) {{alpha = 9.000000e-01 : f64, alpha_syn = 8.000000e-01 : f64}} : (tensor<3xf64>) -> tensor<3xi1>
    %c2 = "nn.scale"(%c) {{scale = 2.000000e+00 : f64}} : (tensor<3xi1>) -> tensor<3xf64>
    %li = "snn.li"(%c2) {{alpha = 9.000000e-01 : f64}} : (tensor<3xf64>) -> tensor<3xf64>
    %th = "snn.threshold"(%li) {{theta = 5.000000e-01 : f64}} : (tensor<3xf64>) -> tensor<3xi1>
    %i = "snn.integrator"(%f) : (tensor<3xf64>) -> tensor<3xf64>""",
        [("s", "tensor<3xi1>"), ("th", "tensor<3xi1>"), ("i", "tensor<3xf64>"), ("c", "tensor<3xi1>")],
    )
    after = _fuse_validated(parse_module(text))
    kinds = sorted(k for k, _ in _units(after))
    assert kinds == ["cuba_lif", "integrator", "li", "lif", "threshold"]
    # the delay stays in the graph and closes the cycle through the lif unit
    g = after.body.ops[0]
    assert [op.op_name for op in g.body.ops].count("snn.delay") == 1


def test_fuse_lif_is_idempotent_and_unfuse_inverts_it():
    m = parse_module(SHORTCUTS)
    once = m.clone()
    PassManager(parse_pipeline("fuse-lif")).run(once)
    twice = once.clone()
    PassManager(parse_pipeline("fuse-lif")).run(twice)
    assert print_module(twice) == print_module(once)
    inlined = once.clone()
    unit_of = unfuse(inlined)
    verify(inlined)
    assert not fused_ops(inlined) and len(unit_of) == 9
    norm = sorted(re.sub(r"%[\w#:]+", "%", ln).strip() for ln in print_module(inlined).splitlines())
    assert norm == sorted(re.sub(r"%[\w#:]+", "%", ln).strip() for ln in print_module(m).splitlines())


# --------------------------------------------------------------------------- example models

SHAPES = {"conv_bn_lif": (4, 1, 2, 8, 8), "sdt_v1_block": (4, 1, 8, 4, 4), "meta_spikeformer_tiny": (4, 1, 3, 16, 16)}


def _example(name: str):
    torch = pytest.importorskip("torch")
    pytest.importorskip("spikingjelly")
    import snnc
    from snnc.frontends.torch_neurons import swap_neurons

    spec = importlib.util.spec_from_file_location("snnc_fuse_spiking_models", ROOT / "examples" / "torch" / "spiking_models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = getattr(mod, name)()
    n_lif = sum(type(m).__name__ == "LIFNode" for m in model.modules())
    model = swap_neurons(model.double()).eval()
    x = torch.rand(*SHAPES[name], generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 4
    return snnc.import_torch(model, x, time_layout="TB"), x[:, 0].numpy(), n_lif


@pytest.fixture(scope="module", params=list(SHAPES))
def example(request):
    return (request.param, *_example(request.param))


def test_examples_fused_interpretation_is_identical(example):
    name, m, cal, n_lif = example
    for pre in ("canonicalize", "compose-linear"):
        ref = m.clone()
        PassManager(parse_pipeline(pre)).run(ref)
        after = _fuse_validated(ref, steps=4, inputs={"calibration": {"x": cal}})
        units = _units(after)
        # every LIF of the torch model is in exactly one unit, and every unit's neuron is one of them
        assert sum(k == "lif" for k, _ in units) == n_lif
        assert all(sum(n.startswith("snn.") for n in ops) == (k != "stateless") for k, ops in units)
        g = after.body.ops[0]
        assert not [op for op in g.body.ops if op.op_name.startswith("snn.") and op.op_name not in
                    ("snn.input", "snn.output", "snn.fused", "snn.delay")]


def test_meta_spikeformer_tiny_unit_counts():
    m, cal, n_lif = _example("meta_spikeformer_tiny")
    assert n_lif == 25
    PassManager(parse_pipeline("compose-linear,fuse-lif")).run(m)
    units = _units(m)
    # 25 LIF units; 2 stateless units: the K^T V product with the K/V layout chains, one per block
    assert len(units) == 27 and [k for k, _ in units].count("stateless") == 2
    for kind, ops in units:
        if kind == "stateless":
            assert ops.count("nn.matmul") == 1 and set(ops) <= {"nn.reshape", "nn.transpose", "nn.matmul"}
    # the SDSA unit: Q's layout chain, Q (K^T V), the 0.125 scale, layout, LIF_0.5
    sdsa = [ops for k, ops in units if "nn.scale" in ops]
    assert len(sdsa) == 2 and all(ops[-1] == "snn.lif" and ops.count("nn.matmul") == 1 for ops in sdsa)
    # the only op left outside a unit: the head linear (its output is the graph output)
    g = m.body.ops[0]
    assert [op.op_name for op in g.body.ops if op.op_name not in ("snn.input", "snn.output", "snn.fused")] == ["nn.linear"]


def test_quantize_after_fuse_lif_is_bit_identical(example):
    name, m, cal, _ = example
    outs, lines = [], []
    for pipe in ("canonicalize", "canonicalize,fuse-lif"):
        a = m.clone()
        PassManager(parse_pipeline(pipe)).run(a)
        PassManager([Quantize(calibration=cal)]).run(a)
        assert not fused_ops(a)
        rng = np.random.default_rng(3)
        outs.append(run(a, {"x": rng.random(cal.shape) * 4}).outputs)
        lines.append(sorted(re.sub(r"%[\w#:]+", "%", ln).strip() for ln in print_module(a).splitlines()))
    assert outs[0].keys() == outs[1].keys()
    for k in outs[0]:
        assert outs[0][k].dtype == outs[1][k].dtype and np.array_equal(outs[0][k], outs[1][k]), k
    assert lines[0] == lines[1]  # the same integer ops and constants (only their order may differ)


def test_report_counts_fused_units_like_their_ops(example):
    from snnc.analysis.report import analyze

    name, m, cal, _ = example
    ref = m.clone()
    PassManager(parse_pipeline("compose-linear")).run(ref)
    fused = ref.clone()
    PassManager(parse_pipeline("fuse-lif")).run(fused)
    a, b = analyze(ref, calibration=cal), analyze(fused, calibration=cal)
    assert a.totals == b.totals
    assert [(la.op, la.synapses, la.firing_rate, la.acs, la.macs) for la in a.layers] == \
        [(la.op, la.synapses, la.firing_rate, la.acs, la.macs) for la in b.layers]
    assert fused_ops(fused)  # analyze inlined a copy, not the caller's module


# --------------------------------------------------------------------------- NIR golden graphs

GOLDEN_GRAPHS = ["lif_norse.nir", "cnn_sinabs.nir", "braille_noDelay_bias_zero.nir", "braille_noDelay_noBias_subtract.nir"]


@pytest.mark.parametrize("name", GOLDEN_GRAPHS)
def test_fuse_lif_preserves_golden_nir_graphs(name):
    path = GOLDEN / name
    if not path.exists():
        pytest.skip(f"golden data not found at {path} (needs ../shared/golden beside the checkout)")
    nir_frontend = pytest.importorskip("snnc.frontends.nir", reason="NIR frontend not available")
    module = nir_frontend.import_nir(path)
    verify(module)
    steps = 6 if name.startswith("cnn") else 20
    after = _fuse_validated(module, steps=steps)
    neurons = [op for op in module.walk() if op.op_name in ("snn.lif", "snn.if", "snn.cuba_lif", "snn.li", "snn.cuba_li")]
    assert len([f for f in fused_ops(after) if f.attr("kind") != "stateless"]) == len(neurons) > 0


def test_attention_mask_add_then_fuse_lif_on_meta_spikeformer_tiny():
    from snnc.passes.manager import Pass

    if "attention-mask-add" not in Pass.registry:
        pytest.skip("attention-mask-add is not registered")
    m, cal, _ = _example("meta_spikeformer_tiny")
    PassManager(parse_pipeline("compose-linear,attention-mask-add")).run(m)
    after = _fuse_validated(m, steps=4, inputs={"calibration": {"x": cal}})
    units = _units(after)
    assert len(units) == 27 and not any("nn.matmul" in ops for _, ops in units)
    # the masked accumulation Q (K^T V) is the SDSA unit's synapse, as the matmul was
    sdsa = [ops for k, ops in units if "nn.scale" in ops]
    assert len(sdsa) == 2 and all(ops.count("nn.masked_accumulate") == 1 and ops[-1] == "snn.lif" for ops in sdsa)
