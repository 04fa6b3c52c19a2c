"""swap_neurons: one test per row of the mapping table in docs/neurons.md.

Each test runs the library's module and its swapped snnc module on the same random inputs:
float64 -> identical spikes and states equal to ~1e-12; float32 -> the measured agreement
(spike mismatch fraction, documented in docs/neurons.md).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from snnc.frontends.torch_neurons import NorseLIFCell, SinabsNeuron, SnnTorchLeaky, swap_neurons
from snnc.ir.diagnostics import DiagnosticError

sj_neuron = pytest.importorskip("spikingjelly.activation_based.neuron", reason="spikingjelly not installed")
sj_functional = pytest.importorskip("spikingjelly.activation_based.functional")
sj_surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")
snntorch = pytest.importorskip("snntorch", reason="snntorch not installed")
norse = pytest.importorskip("norse.torch", reason="norse not installed")
sinabs_layers = pytest.importorskip("sinabs.layers", reason="sinabs not installed")
sinabs_act = pytest.importorskip("sinabs.activation")

T, B, N = 16, 4, 64
DTYPES = [torch.float64, torch.float32]
# float32: the swapped neurons evaluate alpha*v + beta*x + gamma where a library evaluates an
# algebraically equal form; a spike can flip only when the membrane lies within a rounding
# error of the threshold.  Measured on these inputs: 0 flips for every row.
F32_MAX_FLIP_FRACTION = 1e-3


def _x(dtype, scale=1.5, seed=0, shape=(T, B, N)):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def _check_spikes(a: torch.Tensor, b: torch.Tensor, dtype) -> None:
    a = a.to(torch.float64)
    b = b.to(torch.float64)
    assert a.shape == b.shape
    assert 0 < a.sum() < a.numel(), "inputs should make some but not all neurons spike"
    flips = (a != b).sum().item()
    if dtype == torch.float64:
        assert flips == 0
    else:
        assert flips / a.numel() <= F32_MAX_FLIP_FRACTION


def _check_state(a: torch.Tensor, b: torch.Tensor, dtype) -> None:
    tol = 1e-12 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(b.to(torch.float64), a.to(torch.float64), rtol=0, atol=tol)


# --------------------------------------------------------------------------- SpikingJelly

SJ_CASES = {
    "LIFNode-default": lambda mode: sj_neuron.LIFNode(step_mode=mode),
    "LIFNode-tau3-decay_input=False": lambda mode: sj_neuron.LIFNode(tau=3.0, decay_input=False, step_mode=mode),
    "LIFNode-v_reset=None(soft)": lambda mode: sj_neuron.LIFNode(tau=2.5, v_reset=None, step_mode=mode),
    "LIFNode-v_reset=-0.3-v_th=0.7": lambda mode: sj_neuron.LIFNode(
        tau=4.0, v_threshold=0.7, v_reset=-0.3, step_mode=mode
    ),
    "LIFNode-detach_reset-ATan": lambda mode: sj_neuron.LIFNode(
        detach_reset=True, surrogate_function=sj_surrogate.ATan(), step_mode=mode
    ),
    "IFNode-hard": lambda mode: sj_neuron.IFNode(v_threshold=1.2, step_mode=mode),
    "IFNode-soft": lambda mode: sj_neuron.IFNode(v_reset=None, step_mode=mode),
    "ParametricLIFNode": lambda mode: sj_neuron.ParametricLIFNode(init_tau=3.0, step_mode=mode),
    "ParametricLIFNode-soft-no-decay-input": lambda mode: sj_neuron.ParametricLIFNode(
        init_tau=2.0, decay_input=False, v_reset=None, step_mode=mode
    ),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("mode", ["m", "s"])
@pytest.mark.parametrize("case", list(SJ_CASES))
def test_spikingjelly(case, mode, dtype):
    lib = SJ_CASES[case](mode)
    ours = swap_neurons(lib)
    x = _x(dtype)
    for _call in range(2):  # the state carries over to the second call in both libraries
        if mode == "m":
            a, b = lib(x), ours(x)
        else:
            a = torch.stack([lib(xt) for xt in x])
            b = torch.stack([ours(xt) for xt in x])
        _check_spikes(a, b, dtype)
    _check_state(lib.v, ours.v, dtype)
    sj_functional.reset_net(lib)
    ours.reset_state()
    if mode == "m":
        _check_spikes(lib(x), ours(x), dtype)


# --------------------------------------------------------------------------- snnTorch


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_snntorch_leaky(reset, dtype):
    lib = snntorch.Leaky(beta=0.85, threshold=0.8, reset_mechanism=reset)
    ours = swap_neurons(lib)
    assert isinstance(ours, SnnTorchLeaky)
    x = _x(dtype)
    mem_a = lib.reset_mem()
    mem_b = None
    spk_a, spk_b = [], []
    for xt in x:  # the snnTorch idiom: the membrane is threaded through the calls
        sa, mem_a = lib(xt, mem_a)
        sb, mem_b = ours(xt, mem_b) if mem_b is not None else ours(xt)
        spk_a.append(sa)
        spk_b.append(sb)
        _check_state(mem_a, mem_b, dtype)
    _check_spikes(torch.stack(spk_a), torch.stack(spk_b), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_snntorch_leaky_init_hidden(dtype):
    lib = snntorch.Leaky(beta=0.5, init_hidden=True)
    ours = swap_neurons(lib)
    x = _x(dtype, seed=1)
    a = torch.stack([lib(xt) for xt in x])
    b = torch.stack([ours(xt) for xt in x])
    _check_spikes(a, b, dtype)
    _check_state(lib.mem, ours.mem, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reset", ["subtract", "none"])
def test_snntorch_synaptic(reset, dtype):
    lib = snntorch.Synaptic(alpha=0.7, beta=0.9, threshold=1.1, reset_mechanism=reset)
    ours = swap_neurons(lib)
    x = _x(dtype, seed=2)
    spk_a, spk_b = [], []
    for xt in x:
        sa, syn_a, mem_a = lib(xt)
        sb, syn_b, mem_b = ours(xt)
        spk_a.append(sa)
        spk_b.append(sb)
    _check_spikes(torch.stack(spk_a), torch.stack(spk_b), dtype)
    _check_state(syn_a, syn_b, dtype)
    _check_state(mem_a, mem_b, dtype)


def test_snntorch_unsupported_are_diagnostics():
    with pytest.raises(DiagnosticError, match=r"RLeaky is not supported: reset_delay=False"):  # tests/nn/test_rleaky.py
        swap_neurons(nn.Sequential(nn.Linear(4, 4), snntorch.RLeaky(beta=0.9, linear_features=4, reset_delay=False)))
    with pytest.raises(DiagnosticError, match=r"Synaptic is not supported: reset_mechanism='zero'"):
        swap_neurons(snntorch.Synaptic(alpha=0.5, beta=0.5, reset_mechanism="zero"))
    with pytest.raises(DiagnosticError, match="reset_delay=False"):
        swap_neurons(snntorch.Leaky(beta=0.5, reset_delay=False))
    with pytest.raises(DiagnosticError, match="per-neuron beta"):
        swap_neurons(snntorch.Leaky(beta=torch.rand(3)))
    with pytest.raises(DiagnosticError, match=r"Alpha is not supported: no snnc equivalent"):
        swap_neurons(snntorch.Alpha(alpha=0.6, beta=0.5))


# --------------------------------------------------------------------------- Norse


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(tau_mem_inv=100.0, tau_syn_inv=300.0, v_leak=0.1, v_th=0.4, v_reset=-0.2),
    ],
    ids=["defaults", "custom"],
)
def test_norse_lif_cell(params, dtype):
    p = norse.LIFParameters(**{k: torch.as_tensor(v) for k, v in params.items()})
    lib = norse.LIFCell(p=p, dt=0.002)
    ours = swap_neurons(lib)
    assert isinstance(ours, NorseLIFCell)
    x = _x(dtype, scale=60.0, seed=3)
    sa = sb = None
    za, zb = [], []
    for xt in x:
        a, sa = lib(xt, sa)
        b, sb = ours(xt, sb)
        za.append(a)
        zb.append(b)
    _check_spikes(torch.stack(za), torch.stack(zb), dtype)
    _check_state(sa.v, sb.v, dtype)
    _check_state(sa.i, sb.i, dtype if dtype == torch.float32 else torch.float32)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reset", ["value", "subtract"])
def test_norse_lif_box_cell(reset, dtype):
    from norse.torch.functional.reset import reset_subtract, reset_value

    p = norse.LIFBoxParameters(
        tau_mem_inv=torch.as_tensor(200.0),
        v_leak=torch.as_tensor(0.05),
        v_th=torch.as_tensor(0.5),
        reset_method=reset_value if reset == "value" else reset_subtract,
    )
    lib = norse.LIFBoxCell(p=p)
    ours = swap_neurons(lib)
    x = _x(dtype, scale=3.0, seed=4)
    sa = sb = None
    za, zb = [], []
    for xt in x:
        a, sa = lib(xt, sa)
        b, sb = ours(xt, sb)
        za.append(a)
        zb.append(b)
    _check_spikes(torch.stack(za), torch.stack(zb), dtype)
    _check_state(sa.v, sb.v, dtype)


# --------------------------------------------------------------------------- Sinabs

SINABS_CASES = {
    "IAF-subtract": lambda: sinabs_layers.IAF(spike_fn=sinabs_act.SingleSpike),
    "IAF-reset-threshold0.7": lambda: sinabs_layers.IAF(
        spike_threshold=torch.tensor(0.7), spike_fn=sinabs_act.SingleSpike, reset_fn=sinabs_act.MembraneReset()
    ),
    "LIF-tau_mem-norm_input": lambda: sinabs_layers.LIF(tau_mem=4.0, spike_fn=sinabs_act.SingleSpike),
    "LIF-tau_mem-no-norm": lambda: sinabs_layers.LIF(tau_mem=6.0, norm_input=False, spike_fn=sinabs_act.SingleSpike),
    "LIF-tau_syn": lambda: sinabs_layers.LIF(
        tau_mem=5.0, tau_syn=3.0, norm_input=False, spike_fn=sinabs_act.SingleSpike
    ),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", list(SINABS_CASES))
def test_sinabs(case, dtype):
    lib = SINABS_CASES[case]()
    ours = swap_neurons(lib)
    assert isinstance(ours, SinabsNeuron)
    x = _x(dtype, scale=2.0 if "norm" not in case else 6.0, seed=5).movedim(0, 1)  # [B, T, N]
    for _call in range(2):  # Sinabs keeps the state across calls
        _check_spikes(lib(x), ours(x), dtype)
    _check_state(lib.v_mem, ours.v_mem, dtype)


def test_sinabs_unsupported_are_diagnostics():
    class CustomSpike:  # a spike_fn of the user's own
        required_states = ["v_mem"]

    with pytest.raises(DiagnosticError, match=r"IAF is not supported: spike_fn=CustomSpike \(supported: SingleSpike, "):
        swap_neurons(sinabs_layers.IAF(spike_fn=CustomSpike))
    with pytest.raises(DiagnosticError, match="adds reset_value to every neuron"):
        swap_neurons(
            sinabs_layers.IAF(spike_fn=sinabs_act.SingleSpike, reset_fn=sinabs_act.MembraneReset(reset_value=0.5))
        )
    with pytest.raises(DiagnosticError, match=r"MultiSpike \(or min_v_mem\) with spike_threshold -0.5"):
        swap_neurons(sinabs_layers.IAF(spike_fn=sinabs_act.SingleSpike, spike_threshold=-0.5, min_v_mem=-1.0))
    with pytest.raises(DiagnosticError, match="ExpLeak is not supported"):
        swap_neurons(sinabs_layers.ExpLeak(tau_mem=5.0))


# --------------------------------------------------------------------------- swapping itself


def test_swap_returns_copy_and_replaces_nested_neurons():
    model = nn.Sequential(
        nn.Linear(8, 8),
        sj_neuron.LIFNode(step_mode="m"),
        nn.Sequential(nn.Linear(8, 8), sj_neuron.IFNode(step_mode="m")),
    ).double()
    swapped = swap_neurons(model)
    assert isinstance(model[1], sj_neuron.LIFNode) and isinstance(model[2][1], sj_neuron.IFNode)
    assert type(swapped[1]).__name__ == "LIF" and type(swapped[2][1]).__name__ == "IF"
    assert swapped[0] is not model[0]
    torch.testing.assert_close(swapped[0].weight, model[0].weight)
    x = _x(torch.float64, shape=(5, 3, 8))
    torch.testing.assert_close(swapped(x), model(x), rtol=0, atol=0)


def test_swapped_spikingjelly_model_exports_with_snnc_ops():
    model = nn.Sequential(nn.Linear(8, 8), sj_neuron.LIFNode(step_mode="m"), nn.Linear(8, 2), sj_neuron.IFNode())
    model[3].step_mode = "m"
    swapped = swap_neurons(model)
    x = _x(torch.float32, shape=(4, 2, 8))
    ep = torch.export.export(swapped, (x,))
    ops = [n.target._opname for n in ep.graph.nodes if n.op == "call_function" and "snnc" in str(n.target)]
    assert ops == ["lif", "if_"]
    sj_functional.reset_net(model)
    torch.testing.assert_close(ep.module()(x), model(x), rtol=0, atol=0)


def test_spikingjelly_reset_net_resets_swapped_neurons():
    swapped = swap_neurons(nn.Sequential(sj_neuron.LIFNode(step_mode="m")))
    swapped(_x(torch.float32, shape=(3, 2, 4)) + 2)
    assert swapped[0].v is not None
    sj_functional.reset_net(swapped)
    assert swapped[0].v is None
