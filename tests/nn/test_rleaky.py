"""snnTorch ``RLeaky`` -> ``SnnTorchRLeaky`` / ``snnc.nn.RecurrentLIF`` (``torch.ops.snnc.rlif*``).

The swapped module computes snnTorch's step term for term: float64 and float32 spikes and
membranes are bit-identical to ``RLeaky``'s on these inputs (asserted exactly).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import snnc.nn as snnc_nn
from snnc.frontends.torch_neurons import SnnTorchRLeaky, swap_neurons
from snnc.ir.diagnostics import DiagnosticError

snntorch = pytest.importorskip("snntorch", reason="snntorch not installed")

T, B, N = 16, 4, 12
DTYPES = [torch.float64, torch.float32]
RESETS = ["subtract", "zero", "none"]
RECS = ["linear", "v_scalar", "v_vector", "conv2d"]


def _spike_fn(x: torch.Tensor) -> torch.Tensor:
    # snnTorch's default surrogate returns float32 spikes, which a float64 recurrent nn.Linear rejects;
    # the same Heaviside (x > 0) in the input dtype
    return (x > 0).to(x.dtype)


def _lib(rec: str, reset: str, dtype, **kw) -> nn.Module:
    torch.manual_seed(3)
    common = dict(beta=0.85, threshold=0.8, reset_mechanism=reset, spike_grad=_spike_fn, **kw)
    if rec == "linear":
        m = snntorch.RLeaky(linear_features=N, **common)
    elif rec == "conv2d":
        m = snntorch.RLeaky(conv2d_channels=3, kernel_size=3, **common)
    elif rec == "v_scalar":
        m = snntorch.RLeaky(all_to_all=False, V=-0.6, **common)
    else:
        m = snntorch.RLeaky(all_to_all=False, V=torch.rand(N) * 2 - 1, **common)
    if rec in ("linear", "conv2d"):
        with torch.no_grad():
            m.recurrent.weight.mul_(2.0)
    return m.to(dtype)


def _x(rec: str, dtype, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    shape = (T, B, 3, 5, 5) if rec == "conv2d" else (T, B, N)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * 1.5 + 0.3).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("rec", RECS)
@pytest.mark.parametrize("reset", RESETS)
def test_swapped_rleaky_equals_snntorch(reset, rec, dtype):
    lib = _lib(rec, reset, dtype)
    ours = swap_neurons(lib)
    assert isinstance(ours, SnnTorchRLeaky)
    x = _x(rec, dtype)
    spk_a, mem_a = lib.init_rleaky()
    spk_b, mem_b = ours.init_rleaky()
    out_a, out_b = [], []
    with torch.no_grad():
        for xt in x:  # the snnTorch idiom: the state is threaded through the calls
            spk_a, mem_a = lib(xt, spk_a, mem_a)
            spk_b, mem_b = ours(xt, spk_b, mem_b)
            out_a.append(spk_a)
            out_b.append(spk_b)
            torch.testing.assert_close(mem_b, mem_a.to(dtype), rtol=0, atol=0)
    a, b = torch.stack(out_a).to(dtype), torch.stack(out_b)
    assert torch.equal(a, b)
    assert 0.05 < float(a.mean()) < 0.95


@pytest.mark.parametrize("reset", RESETS)
def test_swapped_rleaky_init_hidden_default_surrogate_float32(reset):
    torch.manual_seed(1)
    lib = snntorch.RLeaky(beta=0.9, linear_features=N, init_hidden=True, reset_mechanism=reset)
    ours = swap_neurons(lib)
    x = _x("linear", torch.float32, seed=2)
    with torch.no_grad():
        a = torch.stack([lib(xt) for xt in x])
        b = torch.stack([ours(xt) for xt in x])
    assert torch.equal(a, b)
    assert torch.equal(lib.mem, ours.mem)


def test_recurrent_lif_module_multi_equals_single_step_and_trains():
    torch.manual_seed(0)
    m = snnc_nn.RecurrentLIF(0.8, 0.7, "subtract", recurrent=nn.Linear(N, N), step_mode="m").double()
    s1 = snnc_nn.RecurrentLIF(0.8, 0.7, "subtract", recurrent=m.recurrent, step_mode="s")
    x = _x("linear", torch.float64, seed=5).requires_grad_(True)
    y = m(x)
    ys = torch.stack([s1(xt) for xt in x])
    assert torch.equal(y, ys)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert m.recurrent.weight.grad is not None and m.recurrent.weight.grad.abs().sum() > 0


def test_recurrent_lif_exports_as_one_node():
    m = snnc_nn.RecurrentLIF(0.8, 0.7, "zero", V=torch.rand(N), step_mode="m")
    ep = torch.export.export(m, (torch.zeros(T, B, N),))
    targets = [str(n.target) for n in ep.graph.nodes if n.op == "call_function" and "getitem" not in str(n.target)]
    assert targets == ["snnc.rlif.default"]


def test_rleaky_unsupported_are_diagnostics():
    with pytest.raises(DiagnosticError, match="RLeaky is not supported: reset_delay=False"):
        swap_neurons(snntorch.RLeaky(beta=0.9, linear_features=4, reset_delay=False))
    with pytest.raises(DiagnosticError, match="negative threshold"):
        swap_neurons(snntorch.RLeaky(beta=0.9, linear_features=4, threshold=-0.5))
    with pytest.warns(UserWarning, match="Inhibition"):
        inhibiting = snntorch.RLeaky(beta=0.9, linear_features=4, inhibition=True)
    with pytest.raises(DiagnosticError, match="inhibition"):
        swap_neurons(inhibiting)
