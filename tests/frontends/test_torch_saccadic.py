"""SNN-ViT saccadic spike self-attention through the PyTorch frontend: the time-mixing
``einsum("ts,sbhn->tbhn", tril(W), a)`` becomes ``snn.causal_filter`` and the imported graph's
interpreter output equals ``snnc.nn.SaccadicSpikeSelfAttention``'s own forward.

float64: identical spikes; float32: the measured agreement is asserted (identical spikes for
these seeds).  The filter is defined for T steps: running the graph longer is a diagnostic.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed")
pytest.importorskip("torch_mlir", reason="torch-mlir not installed")

from torch import nn  # noqa: E402

import snnc.nn as snnc_nn  # noqa: E402
from snnc.dialects.snn import find_graph  # noqa: E402
from snnc.frontends.torch import import_torch  # noqa: E402
from snnc.interp import run  # noqa: E402
from snnc.ir import parse_module, print_module, value_names, verify  # noqa: E402
from snnc.ir.diagnostics import DiagnosticError  # noqa: E402

T, N, H, D = 4, 6, 2, 4
C = H * D
QKV = ("q", "k", "v")


def _spikes(*shape: int, seed: int, p: float, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g, dtype=torch.float64) < p).to(dtype)


def _attention(w: np.ndarray | None = None, dtype=torch.float64) -> nn.Module:
    m = snnc_nn.SaccadicSpikeSelfAttention(T, num_heads=H, theta=0.35, scale=0.5).to(dtype).eval()
    if w is not None:
        with torch.no_grad():
            m.saccade_weight.copy_(torch.from_numpy(w))
    return m


def _import(m: nn.Module, dtype=torch.float64):
    # three distinct example tensors: torch.export would alias one tensor passed three times
    ex = tuple(torch.zeros(T, 1, N, C, dtype=dtype) for _ in QKV)
    return import_torch(m, ex, time_layout="TB")


def _mask_and_out_rates(module, feeds) -> tuple[float, float]:
    r = run(module, feeds, batched=True, probe=True)
    names = value_names(module)
    th = next(op for op in module.walk() if op.op_name == "snn.threshold")
    return float(np.mean(r.probes[names[th.results[0]]])), float(np.mean(r.outputs["output"]))


def _random_lower(seed: int) -> np.ndarray:
    # a full random matrix: the module applies tril itself, the converter folds it
    return np.random.default_rng(seed).uniform(-0.2, 1.0, (T, T))


@pytest.mark.parametrize("weights", ["default", "random"])
def test_saccadic_attention_imports_with_identical_spikes(weights):
    torch.manual_seed(0)
    w = _random_lower(3) if weights == "random" else None
    m = _attention(w)
    module = _import(m)
    ops = [op.op_name for op in find_graph(module).body.ops]
    assert ops.count("snn.causal_filter") == 1 and "snn.threshold" in ops
    cf = next(op for op in module.walk() if op.op_name == "snn.causal_filter")
    expect_w = np.tril(m.saccade_weight.detach().numpy())
    np.testing.assert_array_equal(np.asarray(cf.get_attr("weight").data), expect_w)
    # round trip of the imported module
    again = parse_module(print_module(module))
    verify(again)
    assert print_module(again) == print_module(module)

    x = {n: _spikes(T, 3, N, C, seed=10 + i, p=0.4) for i, n in enumerate(QKV)}
    with torch.no_grad():
        ref = m(*(x[n] for n in QKV)).numpy()
    feeds = {n: x[n].numpy() for n in QKV}
    ours = run(module, feeds, batched=True).outputs["output"]
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours.astype(np.float64), ref)
    mask_rate, out_rate = _mask_and_out_rates(module, feeds)
    assert 0.05 < mask_rate < 0.95 and 0.02 < out_rate < 0.98  # both the saccade and the output neuron fire


def test_saccadic_attention_float32_agreement():
    m = _attention(_random_lower(5), dtype=torch.float32)
    module = _import(m, dtype=torch.float32)
    x = {n: _spikes(T, 4, N, C, seed=20 + i, p=0.4, dtype=torch.float32) for i, n in enumerate(QKV)}
    with torch.no_grad():
        ref = m(*(x[n] for n in QKV)).numpy()
    ours = run(module, {n: x[n].numpy() for n in QKV}, batched=True, dtype=np.float32).outputs["output"]
    # measured: identical spikes for these seeds (float32 sums of the filter may differ by an ulp)
    assert float(np.mean(ours.astype(np.float32) != ref)) == 0.0


class SaccadicBlock(nn.Module):
    """Q, K, V = LIF(Linear(x)) on tokens [T, B, N, C], the saccadic attention, a projection + LIF."""

    def __init__(self) -> None:
        super().__init__()
        self.q, self.k, self.v = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)
        self.lifs = nn.ModuleList(snnc_nn.LIF(alpha=0.5, v_th=0.2, step_mode="m") for _ in range(3))
        self.attn = snnc_nn.SaccadicSpikeSelfAttention(T, num_heads=H, theta=0.3, scale=0.5)
        self.proj = nn.Linear(C, C)
        self.out_lif = snnc_nn.LIF(alpha=0.5, v_th=0.3, step_mode="m")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = (lif(fc(x)) for lif, fc in zip(self.lifs, (self.q, self.k, self.v), strict=True))
        return self.out_lif(self.proj(self.attn(q, k, v)))


def test_saccadic_block_imports_with_identical_spikes():
    torch.manual_seed(2)
    m = SaccadicBlock().double().eval()
    module = import_torch(m, torch.zeros(T, 1, N, C, dtype=torch.float64), time_layout="TB")
    g = torch.Generator().manual_seed(4)
    x = torch.rand(T, 2, N, C, generator=g, dtype=torch.float64) * 3.0
    snnc_nn.reset_net(m)
    with torch.no_grad():
        ref = m(x).numpy()
    ours = run(module, {"x": x.numpy()}, batched=True).outputs["output"]
    np.testing.assert_array_equal(ours.astype(np.float64), ref)
    mask_rate, _ = _mask_and_out_rates(module, {"x": x.numpy()})
    assert 0.05 < mask_rate < 0.95 and 0.02 < float(np.mean(ref)) < 0.98


def test_running_past_T_steps_is_a_diagnostic_naming_the_op():
    module = _import(_attention())
    feeds = {n: _spikes(T + 1, 1, N, C, seed=30 + i, p=0.4).numpy() for i, n in enumerate(QKV)}
    with pytest.raises(DiagnosticError) as e:
        run(module, feeds, batched=True)
    msg = e.value.render()
    assert "'snn.causal_filter' op" in msg and "step 4 is past the last step 3" in msg
    assert "attention.py" in msg  # located at the module's Python source
    # exactly T steps run
    feeds = {n: a[:T] for n, a in feeds.items()}
    assert run(module, feeds, batched=True).outputs["output"].shape == (T, 1, N, C)


def test_quantize_names_the_causal_filter():
    from snnc.passes.manager import PassManager
    from snnc.passes.quantize import Quantize

    module = _import(_attention())
    cal = {n: _spikes(T, N, C, seed=40 + i, p=0.4).numpy() for i, n in enumerate(QKV)}
    with pytest.raises(DiagnosticError) as e:
        PassManager([Quantize(calibration=cal)]).run(module)
    msg = e.value.render()
    assert "'snn.causal_filter' op is not lowered to integers yet" in msg and "attention.py" in msg


# --------------------------------------------------------------------------- time mixing that stays rejected


class _Mix(nn.Module):
    def __init__(self, eq: str, causal: bool, what: str = "einsum") -> None:
        super().__init__()
        self.eq, self.causal, self.what = eq, causal, what
        self.w = nn.Parameter(torch.rand(T, T, dtype=torch.float64) + 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.tril(self.w) if self.causal else self.w
        if self.what == "tril":
            return torch.tril(x)
        return torch.einsum(self.eq, w, x)


@pytest.mark.parametrize(
    "eq, causal, what, message",
    [
        ("ts,sbn->tbn", False, "einsum", "'aten.einsum' mixes time steps non-causally: step 0 reads step 1"),
        ("ts,bsn->btn", True, "einsum", "'aten.einsum' with equation 'ts,bsn->btn' mixes the B axis"),
        ("ts,sbn->bn", True, "einsum", "only a causal filter over the time axis is supported"),
        ("", True, "tril", "'aten.tril' of a tensor computed from the inputs is not supported"),
    ],
)
def test_other_time_mixing_is_a_located_diagnostic(eq, causal, what, message):
    m = _Mix(eq, causal, what).eval()
    shape = (T, T, 5) if what != "tril" else (T, 2, 5, 5)
    with pytest.raises(DiagnosticError) as e:
        import_torch(m, torch.zeros(*shape, dtype=torch.float64), time_layout="TB")
    msg = e.value.render()
    assert message in msg, msg
    assert "test_torch_saccadic.py:" in msg  # the model's own Python line


def test_causal_filter_kernel_by_hand():
    w = np.array([[2.0, 0.0, 0.0], [-1.0, 0.5, 0.0], [0.25, 0.5, 1.0]])
    text = f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<2xf64>
    %s = "snn.input"() {{index = 1 : i64, name = "s"}} : () -> tensor<2xi1>
    %y = "snn.causal_filter"(%x) {{weight = dense<{w.tolist()}> : tensor<3x3xf64>}} : (tensor<2xf64>) -> tensor<2xf64>
    %z = "snn.causal_filter"(%s) {{weight = dense<{w.tolist()}> : tensor<3x3xf64>}} : (tensor<2xi1>) -> tensor<2xf64>
    "snn.output"(%y) {{index = 0 : i64, name = "y"}} : (tensor<2xf64>) -> ()
    "snn.output"(%z) {{index = 1 : i64, name = "z"}} : (tensor<2xf64>) -> ()
  }}) {{sym_name = "g"}} : () -> ()
}}) : () -> ()
"""
    m = parse_module(text)
    verify(m)
    x = np.array([[1.0, -2.0], [3.0, 0.5], [-4.0, 8.0]])
    s = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    out = run(m, {"x": x, "s": s}).outputs
    # y[0] = 2 x0; y[1] = -x0 + 0.5 x1; y[2] = 0.25 x0 + 0.5 x1 + x2
    np.testing.assert_array_equal(out["y"], [[2.0, -4.0], [0.5, 2.25], [-2.25, 7.75]])
    np.testing.assert_array_equal(out["z"], [[2.0, 0.0], [-0.5, 0.5], [0.75, 1.5]])


def test_passes_keep_the_causal_filter_semantics():
    """canonicalize, attention-mask-add and fuse-lif on the imported attention, translation-validated
    over T steps (the filter's length)."""
    from snnc.passes.validate import validate_pipeline

    module = _import(_attention(_random_lower(7)))
    report, after = validate_pipeline(module, "canonicalize,attention-mask-add,fuse-lif", steps=T, seeds=(0, 1, 2),
                                      spike_prob=0.4)
    assert report.ok, report.summary()
    assert sum(op.op_name == "snn.causal_filter" for op in after.walk()) == 1


def test_einsum_of_parameters_is_folded():
    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Parameter(torch.rand(3, 5, dtype=torch.float64))
            self.b = nn.Parameter(torch.rand(5, 2, dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x @ torch.einsum("ij,jk->ik", self.a, self.b)

    m = M().eval()
    module = import_torch(m, torch.zeros(1, 4, 3, dtype=torch.float64))
    x = torch.rand(2, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = m(x).numpy()
    ours = run(module, {"x": x[None].numpy()}, batched=True).outputs["output"][0]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_cli_run_past_T_exits_1_without_writing(tmp_path):
    from typer.testing import CliRunner

    from snnc.cli import app

    src = tmp_path / "sacc.mlir"
    src.write_text(print_module(_import(_attention())))
    rng = np.random.default_rng(0)
    for steps in (T, T + 1):
        np.savez(tmp_path / f"in{steps}.npz", **{n: (rng.random((steps, N, C)) < 0.4).astype(np.float64) for n in QKV})
    runner = CliRunner()
    out = tmp_path / "o.npy"
    r = runner.invoke(app, ["run", str(src), "--input", str(tmp_path / f"in{T + 1}.npz"), "-o", str(out)])
    assert r.exit_code == 1 and "Traceback" not in r.stderr
    assert re.search(rf"sacc\.mlir:\d+:\d+: error: 'snn.causal_filter' op step {T} is past the last step {T - 1}",
                     r.stderr), r.stderr
    assert not out.exists()
    r = runner.invoke(app, ["run", str(src), "--input", str(tmp_path / f"in{T}.npz"), "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    assert np.load(out).shape == (T, N, C)
