"""Multi-spike (graded) neurons: Sinabs MultiSpike / MaxSpike swapped, snnc.nn spike_fn="multi", IR kernel.

Reference runs are Sinabs' own layers.  Counts must be identical in float64 and float32.  Sinabs'
spike functions return float32 (``.float()``), so in a float64 run Sinabs computes the subtract
reset ``count * threshold`` in float32: the float64 membranes then differ by at most one float32
rounding of that product (exactly equal for a threshold whose multiples are exact, e.g. 1.0).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.frontends.torch_neurons import SinabsNeuron, swap_neurons
from snnc.ir import parse_module, verify
from snnc.ir.diagnostics import DiagnosticError
from snnc.nn import IF, LIF, CubaLIF
from snnc.nn.ops import NeuronParams, scan

sinabs_layers = pytest.importorskip("sinabs.layers", reason="sinabs not installed")
sinabs_act = pytest.importorskip("sinabs.activation")

B, T, N = 4, 16, 64

CASES = {
    "IAF-MultiSpike-default": lambda: sinabs_layers.IAF(),
    "IAF-threshold0.7": lambda: sinabs_layers.IAF(spike_threshold=torch.tensor(0.7)),
    "IAF-MembraneReset": lambda: sinabs_layers.IAF(spike_threshold=torch.tensor(0.7), reset_fn=sinabs_act.MembraneReset()),
    "IAF-MaxSpike3": lambda: sinabs_layers.IAF(spike_threshold=torch.tensor(0.3), spike_fn=sinabs_act.MaxSpike(3)),
    "IAF-MaxSpikeNone": lambda: sinabs_layers.IAF(spike_threshold=torch.tensor(0.4), spike_fn=sinabs_act.MaxSpike()),
    "LIF-norm_input": lambda: sinabs_layers.LIF(tau_mem=4.0, spike_threshold=torch.tensor(0.3)),
    "LIF-no-norm": lambda: sinabs_layers.LIF(tau_mem=6.0, norm_input=False, spike_threshold=torch.tensor(0.6)),
    "LIF-tau_syn": lambda: sinabs_layers.LIF(tau_mem=5.0, tau_syn=3.0, norm_input=False,
                                             spike_threshold=torch.tensor(0.45)),
    "IAFSqueeze-batch_size": lambda: sinabs_layers.IAFSqueeze(batch_size=B, spike_threshold=torch.tensor(0.7)),
    "LIFSqueeze-num_timesteps": lambda: sinabs_layers.LIFSqueeze(num_timesteps=T, tau_mem=3.0,
                                                                 spike_threshold=torch.tensor(0.2)),
    "IAF-min_v_mem": lambda: sinabs_layers.IAF(spike_threshold=torch.tensor(0.7), min_v_mem=-1.0),
    "LIF-min_v_mem": lambda: sinabs_layers.LIF(tau_mem=3.0, spike_threshold=torch.tensor(0.3), min_v_mem=-0.3),
}


def _x(dtype, seed=0, squeeze=False):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(B, T, N, generator=g, dtype=torch.float64) * 2.0).to(dtype)
    return x.flatten(0, 1) if squeeze else x


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("case", list(CASES))
def test_swapped_sinabs_multispike_equals_sinabs(case, dtype):
    lib = CASES[case]()
    ours = swap_neurons(lib)
    assert isinstance(ours, SinabsNeuron) and ours.neuron_params.multi
    x = _x(dtype, squeeze="Squeeze" in case)
    if "min_v_mem" in case:
        assert ours.neuron_params.v_min is not None
    for _call in range(2):  # Sinabs keeps the state across calls
        a, b = lib(x), ours(x)
        assert a.shape == b.shape
        a64, b64 = a.to(torch.float64), b.to(torch.float64)
        assert int((a64 != b64).sum()) == 0, "spike counts must be identical"
        assert a64.max() >= 2, "the inputs must make some neurons emit several spikes in one step"
        assert 0.05 < float((a64 > 0).double().mean()) < 0.95
        if "MaxSpike3" in case:
            assert a64.max() == 3
    # float32: bit-identical membranes; float64: Sinabs rounds count*threshold to float32
    tol = 0.0 if dtype == torch.float32 and "tau_syn" not in case else 1e-5
    torch.testing.assert_close(ours.v_mem.to(torch.float64), lib.v_mem.to(torch.float64), rtol=0, atol=tol)


def test_float64_membranes_exact_when_threshold_multiples_are_exact():
    lib = sinabs_layers.IAF()  # threshold 1.0: count * 1.0 is exact in float32
    ours = swap_neurons(lib)
    x = _x(torch.float64, seed=3)
    assert torch.equal(lib(x).to(torch.float64), ours(x))
    assert torch.equal(lib.v_mem, ours.v_mem)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_single_spike_with_min_v_mem(dtype):
    """SingleSpike (v >= threshold) equals MaxSpike(1) for a threshold > 0: min_v_mem rides on the multi ops."""
    lib = sinabs_layers.IAF(spike_threshold=torch.tensor(0.7), spike_fn=sinabs_act.SingleSpike, min_v_mem=-0.5)
    ours = swap_neurons(lib)
    assert ours.neuron_params.multi and ours.neuron_params.max_spikes == 1 and ours.neuron_params.v_min == -0.5
    x = _x(dtype, seed=2)
    a, b = lib(x).to(torch.float64), ours(x).to(torch.float64)
    assert torch.equal(a, b) and a.max() == 1 and 0.05 < float(a.mean()) < 0.95
    assert float(lib.v_mem.min()) == -0.5  # the bound is active
    torch.testing.assert_close(ours.v_mem.to(torch.float64), lib.v_mem.to(torch.float64), rtol=0, atol=0)


def test_sinabs_still_rejected():
    with pytest.raises(DiagnosticError, match="cap must be an integer >= 1"):
        swap_neurons(sinabs_layers.IAF(spike_fn=sinabs_act.MaxSpike(0)))
    with pytest.raises(DiagnosticError, match="needs a threshold > 0"):
        swap_neurons(sinabs_layers.IAF(spike_threshold=torch.tensor(-0.5)))


# --------------------------------------------------------------------------- snnc.nn and the op


def test_snnc_nn_multispike_modules():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(T, B, N, generator=g, dtype=torch.float64) * 2
    m = IF(v_th=0.4, reset="soft", spike_fn="multi", max_spikes=4)
    n = m(x)
    # reference: the equations written out
    v = torch.zeros(B, N, dtype=torch.float64)
    ref = []
    for xt in x:
        h = v + xt
        c = torch.where(h > 0, torch.trunc(h / 0.4), torch.zeros_like(h)).clamp(max=4)
        v = h - c * 0.4
        ref.append(c)
    assert torch.equal(n, torch.stack(ref))
    assert n.max() == 4
    # single-step mode gives the same sequence
    s = IF(v_th=0.4, reset="soft", spike_fn="multi", max_spikes=4, step_mode="s")
    assert torch.equal(torch.stack([s(xt) for xt in x]), n)
    # hard reset: v_reset where count > 0
    h = LIF(0.9, v_th=0.3, reset="hard", v_reset=0.0, spike_fn="multi")(x)
    assert h.max() >= 2
    c = CubaLIF(0.8, 0.9, v_th=0.5, reset="soft", spike_fn="multi")(x)
    assert c.max() >= 2


def test_snnc_nn_multispike_trains():
    x = (torch.rand(T, B, N, dtype=torch.float64) * 2).requires_grad_(True)
    y = LIF(0.9, v_th=0.3, reset="soft", spike_fn="multi")(x)
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"spike_fn": "graded"}, "spike_fn must be 'single' or 'multi'"),
        ({"max_spikes": 3}, "needs spike_fn='multi'"),
        ({"spike_fn": "multi", "cmp": "gt"}, "cmp must be 'ge'"),
        ({"spike_fn": "multi", "v_th": 0.0}, "v_th > 0"),
        ({"spike_fn": "multi", "max_spikes": 0}, "must be >= 1"),
        ({"v_min": -1.0}, "v_min .* is supported on the multi-spike neurons"),
    ],
)
def test_snnc_nn_multispike_bad_arguments(kwargs, match):
    with pytest.raises(DiagnosticError, match=match):
        LIF(0.9, **kwargs)


# --------------------------------------------------------------------------- the IR kernel equals the op

IR = """
"builtin.module"() ({{
  "snn.graph"() ({{
    %0 = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<{n}x{t}>
    %1 = "snn.{op}"(%0) {{{attrs}}} : (tensor<{n}x{t}>) -> tensor<{n}x{t}>
    "snn.output"(%1) {{index = 0 : i64, name = "y"}} : (tensor<{n}x{t}>) -> ()
  }}) {{sym_name = "main"}} : () -> ()
}}) : () -> ()
"""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reset", ["soft", "hard", "none"])
@pytest.mark.parametrize("cap", [None, 2])
def test_ir_kernel_equals_torch_op(dtype, reset, cap):
    from snnc.interp import run

    t = "f64" if dtype == np.float64 else "f32"
    attrs = (f'alpha = 0.75 : {t}, beta = 0.5 : {t}, gamma = 0.0625 : {t}, v_th = 0.3 : {t}, v_reset = -0.1 : {t}, '
             f'reset = "{reset}", spike_fn = "multi", v_min = -0.7 : {t}' + (f", max_spikes = {cap} : i64" if cap else ""))
    module = parse_module(IR.format(op="lif", n=N, t=t, attrs=attrs))
    verify(module)
    g = torch.Generator().manual_seed(4)
    x = (torch.randn(T, B, N, generator=g, dtype=torch.float64) * 2).to(torch.float64 if t == "f64" else torch.float32)
    out = run(module, {"x": x.numpy()}, batched=True, dtype=dtype).outputs["y"]
    th = float(np.asarray(0.3, dtype=dtype))
    p = NeuronParams(0.75, 0.5, 0.0625, th, float(np.asarray(-0.1, dtype=dtype)), reset, multi=True, max_spikes=cap or 0,
                     v_min=float(np.asarray(-0.7, dtype=dtype)))
    ref, _, _ = scan(x, None, None, p)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, ref.numpy())
    assert ref.max() >= 2


@pytest.mark.parametrize(
    "attrs, result, match",
    [
        ('spike_fn = "multi"', "i1", "spike count as a float"),
        ("max_spikes = 2 : i64", "i1", "max_spikes needs spike_fn"),
        ('spike_fn = "single"', "f32", "must be a spike tensor"),
        ('spike_fn = "multi", cmp = "gt"', "f32", "cmp must be"),
        ('spike_fn = "multi", v_th = -1.0 : f32', "f32", "needs v_th > 0"),
        ('spike_fn = "multi", max_spikes = 0 : i64', "f32", "must be >= 1"),
        ('spike_fn = "several"', "f32", "spike_fn"),
    ],
)
def test_verifier_rejects_inconsistent_multispike(attrs, result, match):
    text = f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %0 = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<4xf32>
    %1 = "snn.if"(%0) {{{attrs}}} : (tensor<4xf32>) -> tensor<4x{result}>
    "snn.output"(%1) {{index = 0 : i64, name = "y"}} : (tensor<4x{result}>) -> ()
  }}) {{sym_name = "main"}} : () -> ()
}}) : () -> ()
"""
    with pytest.raises(DiagnosticError, match=match):
        verify(parse_module(text))


# --------------------------------------------------------------------------- the integer neuron

INT_IR = """
"builtin.module"() ({{
  "snn.graph"() ({{
    %0 = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<3xi16>
    %1 = "spike.lif"(%0) {{leak_mode = "none", membrane_bits = 8 : i64, reset = "{reset}", spike_fn = "multi", v_reset = -2 : i64, v_th = 5 : i64{cap}{vmin}}} : (tensor<3xi16>) -> tensor<3xi8>
    "snn.output"(%1) {{index = 0 : i64, name = "y"}} : (tensor<3xi8>) -> ()
  }}) {{sym_name = "main"}} : () -> ()
}}) : () -> ()
"""


@pytest.mark.parametrize("reset", ["soft", "hard", "none"])
@pytest.mark.parametrize("cap", [None, 2])
@pytest.mark.parametrize("vmin", [None, -4])
def test_integer_multispike_kernel(reset, cap, vmin):
    """spike.lif{spike_fn = "multi"}: n = min(v' // v_th, cap) where v' >= v_th; v' saturates to 8 bits;
    then v = max(v, v_min)."""
    from snnc.interp import run

    module = parse_module(INT_IR.format(reset=reset, cap="" if cap is None else f", max_spikes = {cap} : i64",
                                        vmin="" if vmin is None else f", v_min = {vmin} : i64"))
    verify(module)
    x = np.array([[4, 12, -3], [7, 200, 0], [1, 0, 5], [-9, -1, -7], [2, 3, 6]], dtype=np.int64)  # [T, 3]
    out = run(module, {"x": x}).outputs["y"]
    v = np.zeros(3, dtype=np.int64)
    ref = []
    for xt in x:
        vp = np.clip(v + xt, -128, 127)
        n = np.where(vp >= 5, vp // 5, 0)
        if cap is not None:
            n = np.minimum(n, cap)
        v = {"soft": vp - n * 5, "hard": np.where(n > 0, -2, vp), "none": vp}[reset]
        if vmin is not None:
            v = np.maximum(v, vmin)
        ref.append(n)
    np.testing.assert_array_equal(out, np.array(ref))
    assert np.max(ref) >= 2
