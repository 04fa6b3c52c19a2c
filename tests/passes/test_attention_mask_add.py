"""attention-mask-add: translation validation (float64, identical spikes / bit-equal values) on the four
attention variants of SEEDS.md (SDSA v1, Meta-SpikeFormer's Q(K^T V) s, BESTformer's binary maps, SNN-ViT's
saccadic attention), the SDT v1 block and the tiny Meta-SpikeFormer; quantize after it gives the same
integer graph as quantize alone; the spike-driven check passes on the models after the pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from snnc.interp import run
from snnc.ir import verify
from snnc.ir.parser import parse_module
from snnc.ir.printer import print_module
from snnc.passes import AttentionMaskAdd, PassManager, Quantize, SpikeDriven
from snnc.passes.validate import validate_pipeline

torch = pytest.importorskip("torch")
import snnc  # noqa: E402
from snnc import nn as snnc_nn  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MASK_ADD = {"nn.spike_and", "nn.and_popcount", "nn.masked_accumulate"}


def _ops(m) -> list[str]:
    return [op.op_name for op in m.walk()]


def _spike_products(m) -> list[str]:
    """nn.mul / nn.matmul ops with a binary spike operand (what the pass must leave none of)."""
    out = []
    for op in m.walk():
        if op.op_name in ("nn.mul", "nn.matmul") and any(str(v.type).endswith("xi1>") for v in op.operands):
            out.append(op.op_name)
    return out


def _validate(m, cal: dict, pipeline: str = "attention-mask-add"):
    rep, after = validate_pipeline(m, pipeline, steps=5, seeds=(0, 1, 2), inputs={"cal": cal}, atol=0.0, rtol=0.0)
    assert rep.ok, rep.summary()
    return after


def _same_integer_graph(m, cal: dict) -> None:
    """canonicalize,attention-mask-add,quantize == canonicalize,quantize (same IR text, same outputs)."""
    a, b = m.clone(), m.clone()
    PassManager([*PassManager.parse("canonicalize").passes, Quantize(calibration=cal)]).run(a)
    PassManager([*PassManager.parse("canonicalize,attention-mask-add").passes, Quantize(calibration=cal)]).run(b)
    assert print_module(a) == print_module(b)
    ra, rb = run(a, cal).outputs, run(b, cal).outputs
    assert all(np.array_equal(ra[k], rb[k]) for k in ra)


# --------------------------------------------------------------------------- snnc.nn attention modules


class _QKV(torch.nn.Module):
    """Q, K, V = LIF(Linear(x)) on tokens [T, B, N, C], then an attention core."""

    def __init__(self, core: torch.nn.Module, c: int = 8) -> None:
        super().__init__()
        self.q, self.k, self.v = (torch.nn.Linear(c, c) for _ in range(3))
        self.lifs = torch.nn.ModuleList(snnc_nn.LIF(alpha=0.5, v_th=0.2, step_mode="m") for _ in range(3))
        self.core = core

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = (lif(fc(x)) for lif, fc in zip(self.lifs, (self.q, self.k, self.v), strict=True))
        return self.core(q, k, v)


class BESTformerAttention(torch.nn.Module):
    """BESTformer's binary attention map (CIFAR form, SEEDS.md): per head ``A = LIF_soft,v_th=1(Q K^T)``
    (a binary N x N map), ``O = LIF_{0.5}((A V) * 0.125 * lambda)``."""

    def __init__(self, num_heads: int = 2, lam: float = 0.5, imagenet: bool = False) -> None:
        super().__init__()
        self.num_heads, self.lam, self.imagenet = num_heads, lam, imagenet
        self.map_lif = snnc_nn.LIF(alpha=0.5, v_th=1.0, reset="soft", step_mode="m")
        self.out_lif = snnc_nn.LIF(alpha=0.5, v_th=0.5, step_mode="m")

    def forward(self, q, k, v):
        from snnc.nn.attention import _merge_heads, _split_heads

        qh, kh, vh = (_split_heads(a, self.num_heads) for a in (q, k, v))
        if self.imagenet:  # ImageNet form: A = LIF_soft(K^T V) (a d x d map), O = LIF(Q A * 0.125 lambda)
            a = self.map_lif(kh.transpose(-2, -1) @ vh)
            return _merge_heads(self.out_lif((qh @ a) * (0.125 * self.lam)))
        a = self.map_lif(qh @ kh.transpose(-2, -1))  # [T, B, H, N, N] spikes
        return _merge_heads(self.out_lif((a @ vh) * (0.125 * self.lam)))


def _import(core: torch.nn.Module, seed: int):
    torch.manual_seed(seed)
    m = _QKV(core).double().eval()
    module = snnc.import_torch(m, torch.zeros(1, 1, 6, 8, dtype=torch.float64), time_layout="TB")
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(6, 1, 6, 8, generator=g, dtype=torch.float64) * 6.0
    snnc_nn.reset_net(m)
    with torch.no_grad():
        ref = m(x)[:, 0].numpy()
    return module, {"x": x[:, 0].numpy()}, ref


@pytest.mark.parametrize("kind", ["sdsa_v1", "meta", "bestformer", "bestformer_imagenet"])
def test_snnc_nn_attention_cores(kind):
    core = {"sdsa_v1": lambda: snnc_nn.SDSAv1(num_heads=2), "meta": lambda: snnc_nn.MetaSDSA(num_heads=2),
            "bestformer": BESTformerAttention,
            "bestformer_imagenet": lambda: BESTformerAttention(lam=2.0, imagenet=True)}[kind]()
    module, cal, ref = _import(core, seed=9)
    assert np.array_equal(run(module, cal).outputs["output"], ref)  # the import is exact
    assert 0.02 < float(np.mean(ref)) < 0.98  # spikes are exercised
    assert _spike_products(module)
    after = _validate(module, cal)
    assert not _spike_products(after) and MASK_ADD & set(_ops(after))
    names = _ops(after)
    if kind == "sdsa_v1":
        assert "nn.and_popcount" in names and "nn.spike_and" in names
    else:
        assert names.count("nn.masked_accumulate") == 2
    assert np.array_equal(run(after, cal).outputs["output"], ref)
    p = SpikeDriven(strict=True)
    PassManager([p]).run(after.clone())
    assert p.findings == [] and p.mask_add_ops >= 2


def test_meta_scale_folds_into_the_integer_threshold(models):
    """Q(K^T V) * 0.125 against v_th = 0.5 (tiny Meta-SpikeFormer): after attention-mask-add and quantize no
    op multiplies by 0.125; each attention neuron compares the integer count (shifted left by j membrane
    bits) with 8 x 2^j."""
    m, cal = models["meta_spikeformer_tiny"]
    m = m.clone()
    PassManager([*PassManager.parse("canonicalize,compose-linear,attention-mask-add").passes,
                 Quantize(calibration=cal)]).run(m)
    names = _ops(m)
    assert "nn.scale" not in names and "nn.masked_accumulate" not in names and names.count("spike.matmul") == 4
    assert "1.250000e-01" not in print_module(m)

    def next_op(v):
        (user,) = v.users
        while user.op_name in ("nn.reshape", "nn.transpose"):
            (user,) = user.results[0].users
        return user

    lifs = 0
    for mm in [op for op in m.walk() if op.op_name == "spike.matmul"]:
        if str(mm.operands[1].type).endswith("xi1>"):
            continue  # K^T V: both spikes
        user, j = next_op(mm.results[0]), 0
        if user.op_name == "spike.requant":
            j, user = -int(user.attr("shift")), next_op(user.results[0])
        assert user.op_name == "spike.lif" and int(user.attr("v_th")) == 8 * 2**j and int(user.attr("bias")) == 0
        lifs += 1
    assert lifs == 2


# --------------------------------------------------------------------------- SNN-ViT saccadic attention


def _saccadic_ir(n: int, d: int, heads: int, theta: float, scale: float) -> str:
    """Inference form of snnc.nn.SaccadicSpikeSelfAttention (running-mean saccade weights, our reading):
    ``a = sum_d Q Ksum / N``; the running mean ``(1/(t+1)) sum_{s<=t} a[s] >= theta`` is the IF neuron
    ``v += a / N - theta`` (no reset) against 0; ``O = LIF_{0.5}(((M AND Q) (K^T V)) * scale)``."""
    c = heads * d
    H, N, D = heads, n, d
    lif = 'alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, v_th = 5.000000e-01 : f64'
    return f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %q = "snn.input"() {{index = 0 : i64, name = "q"}} : () -> tensor<{N}x{c}xi1>
    %k = "snn.input"() {{index = 1 : i64, name = "k"}} : () -> tensor<{N}x{c}xi1>
    %v = "snn.input"() {{index = 2 : i64, name = "v"}} : () -> tensor<{N}x{c}xi1>
    %q3 = "nn.reshape"(%q) : (tensor<{N}x{c}xi1>) -> tensor<{N}x{H}x{D}xi1>
    %k3 = "nn.reshape"(%k) : (tensor<{N}x{c}xi1>) -> tensor<{N}x{H}x{D}xi1>
    %v3 = "nn.reshape"(%v) : (tensor<{N}x{c}xi1>) -> tensor<{N}x{H}x{D}xi1>
    %qh = "nn.transpose"(%q3) {{perm = array<i64: 1, 0, 2>}} : (tensor<{N}x{H}x{D}xi1>) -> tensor<{H}x{N}x{D}xi1>
    %kh = "nn.transpose"(%k3) {{perm = array<i64: 1, 0, 2>}} : (tensor<{N}x{H}x{D}xi1>) -> tensor<{H}x{N}x{D}xi1>
    %vh = "nn.transpose"(%v3) {{perm = array<i64: 1, 0, 2>}} : (tensor<{N}x{H}x{D}xi1>) -> tensor<{H}x{N}x{D}xi1>
    %ks = "nn.sum"(%kh) {{axes = array<i64: 1>, keepdim = true}} : (tensor<{H}x{N}x{D}xi1>) -> tensor<{H}x1x{D}xf64>
    %qk = "nn.mul"(%qh, %ks) : (tensor<{H}x{N}x{D}xi1>, tensor<{H}x1x{D}xf64>) -> tensor<{H}x{N}x{D}xf64>
    %a = "nn.sum"(%qk) {{axes = array<i64: 2>, keepdim = true}} : (tensor<{H}x{N}x{D}xf64>) -> tensor<{H}x{N}x1xf64>
    %m = "snn.if"(%a) {{beta = {1.0 / N:e} : f64, gamma = {-theta:e} : f64, v_th = 0.000000e+00 : f64, reset = "none"}} : (tensor<{H}x{N}x1xf64>) -> tensor<{H}x{N}x1xi1>
    %mq = "nn.mul"(%m, %qh) : (tensor<{H}x{N}x1xi1>, tensor<{H}x{N}x{D}xi1>) -> tensor<{H}x{N}x{D}xf64>
    %kt = "nn.transpose"(%kh) {{perm = array<i64: 0, 2, 1>}} : (tensor<{H}x{N}x{D}xi1>) -> tensor<{H}x{D}x{N}xi1>
    %kv = "nn.matmul"(%kt, %vh) : (tensor<{H}x{D}x{N}xi1>, tensor<{H}x{N}x{D}xi1>) -> tensor<{H}x{D}x{D}xf64>
    %x = "nn.matmul"(%mq, %kv) : (tensor<{H}x{N}x{D}xf64>, tensor<{H}x{D}x{D}xf64>) -> tensor<{H}x{N}x{D}xf64>
    %xs = "nn.scale"(%x) {{scale = {scale:e} : f64}} : (tensor<{H}x{N}x{D}xf64>) -> tensor<{H}x{N}x{D}xf64>
    %o = "snn.lif"(%xs) {{{lif}}} : (tensor<{H}x{N}x{D}xf64>) -> tensor<{H}x{N}x{D}xi1>
    %ot = "nn.transpose"(%o) {{perm = array<i64: 1, 0, 2>}} : (tensor<{H}x{N}x{D}xi1>) -> tensor<{N}x{H}x{D}xi1>
    %out = "nn.reshape"(%ot) : (tensor<{N}x{H}x{D}xi1>) -> tensor<{N}x{c}xi1>
    "snn.output"(%out) {{index = 0 : i64, name = "o"}} : (tensor<{N}x{c}xi1>) -> ()
  }}) {{sym_name = "saccadic"}} : () -> ()
}}) : () -> ()
"""


def test_saccadic_attention_matches_snnc_nn_and_is_mask_add():
    T, N, D, H = 6, 8, 4, 2
    theta = 1.3 / N  # N * theta * (t+1) is never an integer for t < 9: no ties between the two forms
    core = snnc_nn.SaccadicSpikeSelfAttention(T, num_heads=H, theta=theta, scale=0.25).double().eval()
    rng = np.random.default_rng(4)
    cal = {n: rng.random((T, N, H * D)) < 0.4 for n in ("q", "k", "v")}
    snnc_nn.reset_net(core)
    with torch.no_grad():
        ref = core(*(torch.from_numpy(cal[n][:, None].astype(np.float64)) for n in ("q", "k", "v")))[:, 0].numpy()
    m = parse_module(_saccadic_ir(N, D, H, theta, 0.25))
    verify(m)
    assert np.array_equal(run(m, cal).outputs["o"], ref)
    assert 0.02 < float(np.mean(ref)) < 0.98
    after = _validate(m, cal)
    names = _ops(after)
    # sum_d Q Ksum: a masked accumulation in matmul form; M AND Q; K^T V; (M AND Q)(K^T V)
    assert names.count("nn.masked_accumulate") == 3 and "nn.spike_and" in names
    assert not _spike_products(after) and "nn.mul" not in names
    assert np.array_equal(run(after, cal).outputs["o"], ref)
    p = SpikeDriven(strict=True)
    PassManager([p]).run(after)


# --------------------------------------------------------------------------- the example models


def _models():
    spec = importlib.util.spec_from_file_location("spiking_models", REPO / "examples" / "torch" / "spiking_models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def models():
    pytest.importorskip("spikingjelly")
    from snnc.frontends.torch_neurons import swap_neurons

    mod = _models()
    out = {}
    for name, shape in (("sdt_v1_block", (4, 1, 8, 4, 4)), ("meta_spikeformer_tiny", (4, 1, 3, 16, 16))):
        model = swap_neurons(getattr(mod, name)().double()).eval()
        x = torch.rand(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 4
        m = snnc.import_torch(model, x, time_layout="TB")
        out[name] = (m, {"x": x[:, 0].numpy()})
    return out


@pytest.mark.parametrize("name", ["sdt_v1_block", "meta_spikeformer_tiny"])
def test_models_attention_is_mask_add_and_spike_driven(models, name):
    m, cal = models[name]
    m = m.clone()
    PassManager.parse("canonicalize,compose-linear").run(m)
    assert _spike_products(m)
    after = _validate(m, cal)  # outputs (membranes, logits) bit-equal in float64
    assert not _spike_products(after)
    want = {"nn.and_popcount", "nn.spike_and"} if name == "sdt_v1_block" else {"nn.masked_accumulate"}
    assert want <= set(_ops(after))
    p = SpikeDriven(strict=True)
    PassManager([p]).run(after)
    assert p.findings == []
    _same_integer_graph(m, cal)


def test_rewrites_are_recorded_and_idempotent(models):
    m, _ = models["sdt_v1_block"]
    m = m.clone()
    p = AttentionMaskAdd()
    PassManager([p]).run(m)
    assert sorted(p.rewrites) == [("nn.mul", "nn.spike_and"), ("nn.sum", "nn.and_popcount")]
    text = print_module(m)
    PassManager([p]).run(m)
    assert p.rewrites == [] and print_module(m) == text


# --------------------------------------------------------------------------- energy report counts


def test_report_counts_mask_add_ops_by_hand():
    from snnc.analysis.report import analyze, attention_energy

    text = """
"builtin.module"() ({
  "snn.graph"() ({
    %q = "snn.input"() {index = 0 : i64, name = "q"} : () -> tensor<2x3xi1>
    %k = "snn.input"() {index = 1 : i64, name = "k"} : () -> tensor<3x4xi1>
    %v = "snn.input"() {index = 2 : i64, name = "v"} : () -> tensor<3x4xi1>
    %x = "snn.input"() {index = 3 : i64, name = "x"} : () -> tensor<3x4xf64>
    %c = "nn.and_popcount"(%k, %v) {axes = array<i64: 0>} : (tensor<3x4xi1>, tensor<3x4xi1>) -> tensor<4xf64>
    %a = "nn.masked_accumulate"(%q, %x) : (tensor<2x3xi1>, tensor<3x4xf64>) -> tensor<2x4xf64>
    %b = "nn.masked_accumulate"(%q, %v) : (tensor<2x3xi1>, tensor<3x4xi1>) -> tensor<2x4xf64>
    %s = "nn.spike_and"(%k, %v) : (tensor<3x4xi1>, tensor<3x4xi1>) -> tensor<3x4xi1>
    "snn.output"(%c) {index = 0 : i64, name = "c"} : (tensor<4xf64>) -> ()
    "snn.output"(%a) {index = 1 : i64, name = "a"} : (tensor<2x4xf64>) -> ()
    "snn.output"(%b) {index = 2 : i64, name = "b"} : (tensor<2x4xf64>) -> ()
    "snn.output"(%s) {index = 3 : i64, name = "s"} : (tensor<3x4xi1>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
"""
    m = parse_module(text)
    verify(m)
    k = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]], bool)
    v = np.array([[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]], bool)
    q = np.array([[1, 0, 1], [0, 0, 0]], bool)
    cal = {"q": q[None], "k": k[None], "v": v[None], "x": np.ones((1, 3, 4))}
    rep = analyze(m, calibration=cal)
    by_op = {la.op + ("" if la.op != "nn.masked_accumulate" else la.name): la for la in rep.layers}
    pop, = [la for la in rep.layers if la.op == "nn.and_popcount"]
    acc_x, acc_v = [la for la in rep.layers if la.op == "nn.masked_accumulate"]
    land, = [la for la in rep.layers if la.op == "nn.spike_and"]
    assert len(by_op) == 4
    # K AND V has 3 ones: 3 additions; 12 ANDs
    assert (pop.flops, pop.acs, pop.macs) == (12, 3.0, 0.0)
    # q selects 2 rows of x, 4 elements each: 8 additions of 2 x 4 x 3 = 24 products
    assert (acc_x.flops, acc_x.acs) == (24, 8.0) and acc_x.input_kind == "spike"
    # q row 0 selects v rows 0 and 2: [1,0,0,0] + [0,0,0,0]: one coincidence
    assert (acc_v.flops, acc_v.acs) == (24, 1.0)
    assert (land.flops, land.acs, land.energy_pj) == (12, 0.0, 0.0)
    att = attention_energy(rep)
    assert att["acs"] == 12.0 and att["dense_macs"] == 12 + 24 + 24 + 12
    assert att["energy_pj"] == pytest.approx(12 * 0.9) and att["dense_energy_pj"] == pytest.approx(72 * 4.6)


def test_inside_fused_units(models):
    """After fuse-lif the attention products sit in snn.fused regions: the pass rewrites them there."""
    from snnc.passes.manager import Pass

    if "fuse-lif" not in Pass.registry:
        pytest.skip("fuse-lif is not available")
    m, cal = models["sdt_v1_block"]
    m = m.clone()
    PassManager.parse("canonicalize,fuse-lif").run(m)
    assert "snn.fused" in _ops(m) and _spike_products(m)
    after = _validate(m, cal)
    assert {"nn.and_popcount", "nn.spike_and"} <= set(_ops(after)) and not _spike_products(after)
    PassManager([SpikeDriven(strict=True)]).run(after)
