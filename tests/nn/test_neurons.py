"""snnc.nn neurons: IR semantics, step modes, state, SEEDS.md facts 1-2, surrogate training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import snnc.nn as snn
from snnc.ir.diagnostics import DiagnosticError


def ref_lif(x, alpha, beta, gamma, v_th, v_reset, reset, cmp, v_init=0.0, syn=None):
    """Independent numpy reference of snn.lif / snn.cuba_lif (one loop, per the IR op text)."""
    x = np.asarray(x, dtype=np.float64)
    v = np.full(x.shape[1:], v_init)
    i = np.zeros(x.shape[1:])
    out = []
    for t in range(x.shape[0]):
        u = x[t]
        if syn is not None:
            i = syn[0] * i + syn[1] * x[t] + syn[2]
            u = i
        v = alpha * v + beta * u + gamma
        s = v >= v_th if cmp == "ge" else v > v_th
        if reset == "hard":
            v = np.where(s, v_reset, v)
        elif reset == "soft":
            v = np.where(s, v - v_th, v)
        out.append(s.astype(np.float64))
    return np.stack(out), v


@pytest.mark.parametrize("reset", ["hard", "soft", "none"])
@pytest.mark.parametrize("cmp", ["ge", "gt"])
def test_lif_matches_ir_reference(reset, cmp):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(12, 3, 7, generator=g, dtype=torch.float64)
    m = snn.LIF(alpha=0.75, beta=0.6, gamma=0.05, v_th=0.8, v_reset=-0.1, reset=reset, cmp=cmp, v_init=0.2)
    s = m(x)
    s_ref, v_ref = ref_lif(x, 0.75, 0.6, 0.05, 0.8, -0.1, reset, cmp, 0.2)
    np.testing.assert_array_equal(s.numpy(), s_ref)
    np.testing.assert_allclose(m.v.numpy(), v_ref, rtol=0, atol=1e-12)
    assert 0 < s.sum() < s.numel()


def test_cmp_attribute_distinguishes_equality():
    x = torch.ones(3, 1, dtype=torch.float64)
    ge = snn.IF(v_th=1.0, cmp="ge")(x)
    gt = snn.IF(v_th=1.0, cmp="gt")(x)
    assert ge.flatten().tolist() == [1.0, 1.0, 1.0]
    assert gt.flatten().tolist() == [0.0, 1.0, 0.0]


def test_cuba_lif_matches_ir_reference():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(10, 4, 5, generator=g, dtype=torch.float64)
    m = snn.CubaLIF(alpha_syn=0.5, beta_syn=0.9, gamma_syn=0.01, alpha=0.8, beta=0.7, gamma=0.0, v_th=0.5, reset="soft")
    s = m(x)
    s_ref, v_ref = ref_lif(x, 0.8, 0.7, 0.0, 0.5, 0.0, "soft", "ge", syn=(0.5, 0.9, 0.01))
    np.testing.assert_array_equal(s.numpy(), s_ref)
    np.testing.assert_allclose(m.v.numpy(), v_ref, atol=1e-12)


@pytest.mark.parametrize("cls", ["lif", "cuba", "ternary"])
def test_single_step_equals_multi_step_and_keeps_state(cls):
    make = {
        "lif": lambda mode: snn.LIF(0.9, 0.5, 0.0, 0.4, step_mode=mode),
        "cuba": lambda mode: snn.CubaLIF(0.7, 0.9, v_th=0.4, step_mode=mode),
        "ternary": lambda mode: snn.TernaryLIF(0.9, 0.5, 0.0, 0.4, step_mode=mode),
    }[cls]
    x = torch.randn(9, 2, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    multi = make("m")(x)
    single = make("s")
    steps = torch.stack([single(xt) for xt in x])
    torch.testing.assert_close(steps, multi, rtol=0, atol=0)
    # multi-step keeps its state across calls too: two halves == whole
    m = make("m")
    halves = torch.cat([m(x[:4]), m(x[4:])])
    torch.testing.assert_close(halves, multi, rtol=0, atol=0)
    m.reset_state()
    torch.testing.assert_close(m(x), multi, rtol=0, atol=0)


def test_ternary_lif_semantics():
    m = snn.TernaryLIF(alpha=1.0, beta=1.0, v_th=1.0, reset="soft")
    x = torch.tensor([[1.2], [0.0], [-2.5], [0.0], [0.3]], dtype=torch.float64)
    s = m(x).flatten().tolist()
    # v: 1.2 -> +1 (v=0.2); 0.2 -> 0; -2.3 -> -1 (v=-1.3); -1.3 -> -1 (v=-0.3); 0.0 -> 0
    assert s == [1.0, 0.0, -1.0, -1.0, 0.0]
    hard = snn.TernaryLIF(alpha=1.0, beta=1.0, v_th=1.0, reset="hard", v_reset=0.0)
    assert hard(x).flatten().tolist() == [1.0, 0.0, -1.0, 0.0, 0.0]


def test_from_tau_spikingjelly_parameters():
    m = snn.LIF.from_tau(4.0, decay_input=True, v_th=1.0, v_reset=-0.5)
    assert (m.alpha, m.beta, m.gamma, m.v_reset, m.v_init, m.reset_mode) == (0.75, 0.25, -0.125, -0.5, -0.5, "hard")
    m = snn.LIF.from_tau(4.0, decay_input=False, v_reset=None)
    assert (m.alpha, m.beta, m.gamma, m.reset_mode, m.v_init) == (0.75, 1.0, 0.0, "soft", 0.0)


def test_fact1_spikingjelly_lif():
    lif = snn.LIF.from_tau(2.0, v_th=1.0, v_reset=0.0)
    assert lif(torch.full((6, 1), 1.2, dtype=torch.float64)).flatten().tolist() == [0, 0, 1, 0, 0, 1]
    lif.reset_state()
    assert lif(torch.full((6, 1), 2.0, dtype=torch.float64)).flatten().tolist() == [1] * 6
    lif.reset_state()
    first = lif(torch.tensor([[1.999, 2.0, 2.001, 0.5]], dtype=torch.float64))[0]
    assert first.tolist() == [0, 1, 1, 0]  # first step fires iff x >= 2*v_th


def test_fact2_qsnn_lif_strict_comparison():
    qsnn = snn.LIF(alpha=0.5, beta=1.0, v_th=1.0, reset="hard", cmp="gt")
    assert qsnn(torch.ones(4, 1, dtype=torch.float64)).flatten().tolist() == [0, 1, 0, 1]
    ge = snn.LIF(alpha=0.5, beta=1.0, v_th=1.0, reset="hard", cmp="ge")
    assert ge(torch.ones(4, 1, dtype=torch.float64)).flatten().tolist() == [1, 1, 1, 1]
    qsnn.reset_state()
    assert qsnn(torch.full((6, 1), 0.6, dtype=torch.float64)).flatten().tolist() == [0, 0, 1, 0, 0, 1]


def test_bad_parameters_are_diagnostics():
    with pytest.raises(DiagnosticError, match="unknown reset 'subtract'"):
        snn.LIF(0.5, reset="subtract")
    with pytest.raises(DiagnosticError, match="unknown comparison"):
        snn.LIF(0.5, cmp="le")
    with pytest.raises(DiagnosticError, match="step_mode"):
        snn.LIF(0.5, step_mode="x")
    with pytest.raises(DiagnosticError, match="v_th > 0"):
        snn.TernaryLIF(0.5, v_th=0.0)
    with pytest.raises(DiagnosticError, match="unknown surrogate"):
        snn.LIF(0.5, surrogate="relu")


@pytest.mark.parametrize("surrogate", ["atan", "sigmoid"])
def test_surrogate_gradient_is_nonzero_and_forward_exact(surrogate):
    x = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(4), dtype=torch.float64, requires_grad=True)
    m = snn.LIF(0.5, 1.0, v_th=0.5, surrogate=surrogate)
    s = m(x)
    with torch.no_grad():
        s_nograd = snn.LIF(0.5, 1.0, v_th=0.5)(x)
    torch.testing.assert_close(s.detach(), s_nograd, rtol=0, atol=0)
    s.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # BPTT: the first step's input influences later spikes through the membrane
    x2 = x.detach().clone().requires_grad_(True)
    snn.LIF(0.5, 1.0, v_th=0.5, surrogate=surrogate)(x2)[-1].sum().backward()
    assert x2.grad[0].abs().sum() > 0


def test_surrogate_gradient_matches_autograd_unrolled():
    """The custom op's backward equals plain autograd through the surrogate step, unrolled by hand."""
    from snnc.nn.surrogate import heaviside

    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    xa = x.clone().requires_grad_(True)
    snn.LIF(0.8, 0.5, 0.0, 0.3, reset="hard", v_reset=0.0)(xa).sum().backward()
    xb = x.clone().requires_grad_(True)
    v = torch.zeros(5, dtype=torch.float64)
    total = 0
    for t in range(6):
        h = 0.8 * v + 0.5 * xb[t]
        s = heaviside(h - 0.3, "ge", "atan", 2.0)
        v = s * 0.0 + (1 - s) * h
        total = total + s.sum()
    total.backward()
    torch.testing.assert_close(xa.grad, xb.grad)


def test_tiny_model_trains():
    """Two-class toy task (sign of the mean input): a Linear-LIF-Linear net learns it in a few steps."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 8, generator=g)
    y = (x.mean(dim=1) > 0).long()
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), snn.LIF.from_tau(2.0), torch.nn.Linear(16, 2))
    enc = snn.DirectEncoder(2)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)

    def run():
        snn.reset_net(net)
        return net(enc(x)).mean(0)

    with torch.no_grad():
        acc0 = (run().argmax(1) == y).float().mean().item()
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(run(), y)
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = (run().argmax(1) == y).float().mean().item()
    assert acc >= 0.9 and acc > acc0
