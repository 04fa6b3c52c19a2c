"""Swap third-party neuron modules for snnc ones with exactly the same forward.

``swap_neurons(model)`` returns a deep copy of ``model`` in which every supported neuron of
SpikingJelly, snnTorch, Norse and Sinabs is replaced by a module that computes with the
``torch.ops.snnc`` neuron ops (so ``torch.export`` keeps one node per neuron) and keeps the
library's calling convention (arguments, returned state, time layout).  The caller's model is
never modified.  docs/neurons.md has the parameter mapping per library; a neuron of one of
these libraries that is not supported is a diagnostic naming its class and the reason.

Only the forward pass is preserved exactly; the backward pass uses snnc's surrogate
(SpikingJelly's ATan/Sigmoid with their alpha are kept; other libraries get ``atan``), and
learnable neuron parameters (PLIF's tau, snnTorch's learnable beta/threshold) are frozen at
their current values.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import nn

from snnc.ir.diagnostics import error
from snnc.nn import IF, LIF, ops
from snnc.nn.ops import NeuronParams

# --------------------------------------------------------------------------- helpers


def _scalar(value: Any, what: str, owner: nn.Module) -> float:
    """A neuron parameter as a Python float (the value the library computes with, e.g. a float32 tensor's)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise error(
                f"{type(owner).__name__}: per-neuron {what} of shape {tuple(value.shape)} is not supported "
                "by swap_neurons (only scalar neuron parameters)"
            )
        return float(value.detach().reshape(()).item())
    return float(value)


def _unsupported(owner: nn.Module, why: str) -> None:
    raise error(f"swap_neurons: {type(owner).__module__}.{type(owner).__name__} is not supported: {why}")


def _exporting() -> bool:
    return torch.compiler.is_exporting()


# --------------------------------------------------------------------------- SpikingJelly


def _sj_surrogate(m: nn.Module) -> dict[str, Any]:
    sg = getattr(m, "surrogate_function", None)
    name = type(sg).__name__
    if name == "ATan":
        return {"surrogate": "atan", "surrogate_alpha": float(sg.alpha)}
    if name == "Sigmoid":
        return {"surrogate": "sigmoid", "surrogate_alpha": float(sg.alpha)}
    return {"surrogate": "atan"}


def _sj_common(m: nn.Module) -> dict[str, Any]:
    return {"step_mode": m.step_mode, **_sj_surrogate(m)}


def _sj_lif(m: nn.Module) -> nn.Module:
    return LIF.from_tau(float(m.tau), bool(m.decay_input), float(m.v_threshold), m.v_reset, **_sj_common(m))


def _sj_plif(m: nn.Module) -> nn.Module:
    # SpikingJelly: k = sigmoid(w) (in w's dtype), H = V + (X - (V - v_r)) * k  (decay_input) or V - (V - v_r)*k + X
    k = float(m.w.detach().sigmoid().item())
    vr = 0.0 if m.v_reset is None else float(m.v_reset)
    return LIF(
        alpha=1.0 - k,
        beta=k if m.decay_input else 1.0,
        gamma=vr * k,
        v_th=float(m.v_threshold),
        v_reset=vr,
        reset="soft" if m.v_reset is None else "hard",
        cmp="ge",
        v_init=vr,
        **_sj_common(m),
    )


def _sj_if(m: nn.Module) -> nn.Module:
    vr = 0.0 if m.v_reset is None else float(m.v_reset)
    return IF(
        v_th=float(m.v_threshold),
        v_reset=vr,
        reset="soft" if m.v_reset is None else "hard",
        cmp="ge",
        v_init=vr,
        **_sj_common(m),
    )


# --------------------------------------------------------------------------- snnTorch

_SNNTORCH_RESET = {"subtract": "soft_delayed", "zero": "hard_delayed", "none": "none"}


def _snntorch_checks(m: nn.Module) -> None:
    if getattr(m, "inhibition", False):
        _unsupported(m, "inhibition=True (winner-take-all over the batch axis) has no IR equivalent")
    if getattr(m, "state_quant", False):
        _unsupported(m, "state_quant quantizes the state with a Python function; quantize with snnc passes instead")
    if _scalar(m.graded_spikes_factor, "graded_spikes_factor", m) != 1.0:
        _unsupported(m, "graded_spikes_factor != 1 (graded spikes are not i1)")
    if not getattr(m, "reset_delay", True) and m.reset_mechanism != "none":
        _unsupported(
            m,
            "reset_delay=False (its 'avoid double reset' term makes the spike condition depend on the "
            "previous step's reset); use the default reset_delay=True",
        )


class SnnTorchLeaky(nn.Module):
    """snnTorch ``Leaky`` (``reset_delay=True``) on ``torch.ops.snnc.lif_step``; same calling convention.

    ``mem[t] = beta*mem[t-1] + x[t] - R``, ``spk = mem > threshold``, where ``mem`` is the
    membrane before its reset and ``R`` the reset of the previous step's spike: ``subtract``:
    ``R = threshold*spk[t-1]`` after the leak (snnc reset ``soft_delayed``); ``zero``:
    ``mem[t-1] <- 0`` before the leak (``hard_delayed``; spikes equal IR ``hard``); ``none``.
    """

    def __init__(self, params: NeuronParams, init_hidden: bool, output: bool) -> None:
        super().__init__()
        self.neuron_params = params
        self.init_hidden = init_hidden
        self.output = output
        self.mem: torch.Tensor | None = None

    def reset_mem(self) -> None:
        self.mem = None

    def forward(self, input_: torch.Tensor, mem: torch.Tensor | None = None):
        if mem is not None:
            if self.init_hidden:
                raise TypeError("`mem` should not be passed as an argument while `init_hidden=True`")
            state = mem
        else:
            state = None if _exporting() else self.mem
        if state is None or state.shape != input_.shape:
            state = torch.zeros_like(input_)
        spk, _, new_mem = ops.call(input_, self.neuron_params, multi_step=False, v=state)
        if not _exporting():
            self.mem = new_mem
        if self.init_hidden and not self.output:
            return spk
        return spk, new_mem


class SnnTorchSynaptic(nn.Module):
    """snnTorch ``Synaptic`` (``reset_delay=True``) on ``torch.ops.snnc.cuba_lif_step``.

    ``syn[t] = alpha*syn[t-1] + x[t]``; ``mem[t] = beta*mem[t-1] + syn[t] - R`` with ``R`` as
    :class:`SnnTorchLeaky` (``subtract`` / ``none``); returns ``(spk, syn, mem)``.
    """

    def __init__(self, params: NeuronParams, init_hidden: bool, output: bool) -> None:
        super().__init__()
        self.neuron_params = params
        self.init_hidden = init_hidden
        self.output = output
        self.syn: torch.Tensor | None = None
        self.mem: torch.Tensor | None = None

    def reset_mem(self) -> None:
        self.syn = None
        self.mem = None

    def forward(self, input_: torch.Tensor, syn: torch.Tensor | None = None, mem: torch.Tensor | None = None):
        if self.init_hidden and (syn is not None or mem is not None):
            raise TypeError("`mem` or `syn` should not be passed as an argument while `init_hidden=True`")
        s_syn = syn if syn is not None else (None if _exporting() else self.syn)
        s_mem = mem if mem is not None else (None if _exporting() else self.mem)
        if s_syn is None or s_syn.shape != input_.shape:
            s_syn = torch.zeros_like(input_)
        if s_mem is None or s_mem.shape != input_.shape:
            s_mem = torch.zeros_like(input_)
        spk, new_syn, new_mem = ops.call(input_, self.neuron_params, multi_step=False, v=s_mem, i=s_syn)
        if not _exporting():
            self.syn, self.mem = new_syn, new_mem
        if self.init_hidden and not self.output:
            return spk
        return spk, new_syn, new_mem


def _snntorch_leaky(m: nn.Module) -> nn.Module:
    _snntorch_checks(m)
    beta = _scalar(torch.as_tensor(m.beta).clamp(0, 1), "beta", m)
    p = NeuronParams(
        alpha=beta,
        beta=1.0,
        gamma=0.0,
        v_th=_scalar(m.threshold, "threshold", m),
        v_reset=0.0,
        reset=_SNNTORCH_RESET[m.reset_mechanism],
        cmp="gt",
    )
    return SnnTorchLeaky(p, bool(m.init_hidden), bool(m.output))


def _snntorch_synaptic(m: nn.Module) -> nn.Module:
    _snntorch_checks(m)
    if m.reset_mechanism == "zero":
        _unsupported(
            m,
            "reset_mechanism='zero' of Synaptic forces the membrane to exactly 0 for the whole step after a spike "
            "(mem = (1 - spk[t-1]) * (beta*mem + syn)), a one-step refractory period the IR's hard reset "
            "does not have; use 'subtract' or 'none'",
        )
    alpha = _scalar(torch.as_tensor(m.alpha).clamp(0, 1), "alpha", m)
    beta = _scalar(torch.as_tensor(m.beta).clamp(0, 1), "beta", m)
    p = NeuronParams(
        alpha=beta,
        beta=1.0,
        gamma=0.0,
        v_th=_scalar(m.threshold, "threshold", m),
        v_reset=0.0,
        reset=_SNNTORCH_RESET[m.reset_mechanism],
        cmp="gt",
        syn=(alpha, 1.0, 0.0),
    )
    return SnnTorchSynaptic(p, bool(m.init_hidden), bool(m.output))


class SnnTorchRLeaky(nn.Module):
    """snnTorch ``RLeaky`` (``reset_delay=True``) on ``torch.ops.snnc.rlif_step``; same calling convention.

    ``forward(input_, spk=None, mem=None)`` returns ``(spk, mem)`` (``spk`` only with
    ``init_hidden=True`` and ``output=False``); ``mem`` is snnTorch's pre-reset membrane.  The
    dynamics are :mod:`snnc.nn.recurrent`'s, term for term snnTorch's: ``base = beta*mem +
    x + R(spk[t-1])`` with ``R`` the recurrent ``nn.Linear`` / ``nn.Conv2d`` or one-to-one ``V``.
    The recurrent weights are frozen copies (buffers ``w``, ``b``).  Spikes are in the input's
    dtype (snnTorch returns float32 spikes whatever the input dtype).
    """

    def __init__(
        self,
        w: torch.Tensor,
        b: torch.Tensor | None,
        rec: str,
        alpha: float,
        v_th: float,
        reset: str,
        init_hidden: bool,
        output: bool,
    ) -> None:
        super().__init__()
        self.register_buffer("w", w.detach().clone())
        self.register_buffer("b", None if b is None else b.detach().clone())
        self.rec, self.alpha, self.v_th, self.reset_mechanism = rec, alpha, v_th, reset
        self.init_hidden, self.output = init_hidden, output
        self.spk: torch.Tensor | None = None
        self.mem: torch.Tensor | None = None

    def reset_mem(self):
        self.spk = None
        self.mem = None

    def init_rleaky(self):
        self.reset_mem()
        return torch.zeros(0), torch.zeros(0)

    def forward(self, input_: torch.Tensor, spk: torch.Tensor | None = None, mem: torch.Tensor | None = None):
        if self.init_hidden and (spk is not None or mem is not None):
            raise TypeError("When `init_hidden=True`, RLeaky expects 1 input argument.")
        s_spk = spk if spk is not None else (None if _exporting() else self.spk)
        s_mem = mem if mem is not None else (None if _exporting() else self.mem)
        if s_spk is None or s_spk.shape != input_.shape:
            s_spk = torch.zeros_like(input_)
        if s_mem is None or s_mem.shape != input_.shape:
            s_mem = torch.zeros_like(input_)
        new_spk, new_mem = torch.ops.snnc.rlif_step(
            input_, s_spk, s_mem, self.w, self.b, self.rec, self.alpha, self.v_th, self.reset_mechanism, "atan", 2.0
        )
        if not _exporting():
            self.spk, self.mem = new_spk, new_mem
        if self.init_hidden and not self.output:
            return new_spk
        return new_spk, new_mem


def _snntorch_rleaky(m: nn.Module) -> nn.Module:
    _snntorch_checks(m)
    beta = _scalar(torch.as_tensor(m.beta).clamp(0, 1), "beta", m)
    v_th = _scalar(m.threshold, "threshold", m)
    if v_th < 0:
        _unsupported(
            m, "a negative threshold (snnTorch's first-step reset (0 > threshold) is then not the previous spike)"
        )
    rec = m.recurrent
    if m.all_to_all:
        if isinstance(rec, nn.Linear):
            w, b, kind = rec.weight, rec.bias, "linear"
        elif isinstance(rec, nn.Conv2d):
            w, b, kind = rec.weight, rec.bias, "conv2d"
        else:  # pragma: no cover - snnTorch builds one of the two
            _unsupported(m, f"recurrent layer {type(rec).__name__}")
    else:
        V = torch.as_tensor(m.V).detach()
        if V.dim() > 1:
            _unsupported(m, f"V of shape {tuple(V.shape)} (a scalar or one value per neuron)")
        w, b, kind = V, None, "one_to_one"
    return SnnTorchRLeaky(w, b, kind, beta, v_th, m.reset_mechanism, bool(m.init_hidden), bool(m.output))


# --------------------------------------------------------------------------- Norse


class NorseLIFCell(nn.Module):
    """Norse ``LIFCell`` (feed-forward) on ``torch.ops.snnc.cuba_lif_step``: same ``(z, state)`` convention.

    Norse: ``j = i + x``; ``v' = v + k*((v_leak - v) + j)``; ``i' = j + (-ks)*j``; ``z = v' > v_th``;
    hard reset to ``v_reset`` (``k = dt*tau_mem_inv``, ``ks = dt*tau_syn_inv``).  The IR current is
    ``j`` (``alpha_syn = 1 - ks, beta_syn = 1``), the membrane ``alpha = 1 - k, beta = k,
    gamma = k*v_leak``.  The returned state's ``i`` is Norse's decayed current; a state returned
    by this module is recognised when passed back and continues exactly, a foreign one is
    converted with ``j = i / (1 - ks)``.
    """

    def __init__(self, params: NeuronParams, ks: float) -> None:
        super().__init__()
        self.neuron_params = params
        self.neg_ks = -ks
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, input_tensor: torch.Tensor, state: Any = None):
        from norse.torch.functional.lif import LIFFeedForwardState

        if state is None:
            j, v = None, torch.full_like(input_tensor, self.neuron_params.v_init)
        else:
            v = state.v.to(input_tensor.dtype).expand_as(input_tensor)
            if self._last is not None and not _exporting() and state.i is self._last[0]:
                j = self._last[1]
            else:
                a_s = 1.0 + self.neg_ks
                if a_s == 0.0:
                    raise error("NorseLIFCell: cannot continue a foreign state when dt*tau_syn_inv == 1")
                j = state.i / a_s
        if j is None:
            j = torch.zeros_like(input_tensor)
        z, j_new, v_new = ops.call(input_tensor, self.neuron_params, multi_step=False, v=v, i=j)
        i_norse = j_new + self.neg_ks * j_new
        if not _exporting():
            self._last = (i_norse, j_new)
        return z, LIFFeedForwardState(v=v_new, i=i_norse)


class NorseLIFBoxCell(nn.Module):
    """Norse ``LIFBoxCell`` on ``torch.ops.snnc.lif_step``: ``v' = v + k*(x + v_leak - v)``, ``z = v' > v_th``."""

    def __init__(self, params: NeuronParams) -> None:
        super().__init__()
        self.neuron_params = params

    def forward(self, input_tensor: torch.Tensor, state: Any = None):
        from norse.torch.functional.lif_box import LIFBoxFeedForwardState

        if state is None:
            v = torch.full_like(input_tensor, self.neuron_params.v_init)
        else:
            v = state.v.to(input_tensor.dtype).expand_as(input_tensor)
        z, _, v_new = ops.call(input_tensor, self.neuron_params, multi_step=False, v=v)
        return z, LIFBoxFeedForwardState(v=v_new)


def _norse_k(m: nn.Module, rate: torch.Tensor) -> float:
    # Norse multiplies dt (a Python float) by the float32 parameter tensor first: use that product.
    return _scalar(m.dt * torch.as_tensor(rate), "dt*tau_inv", m)


def _norse_lif(m: nn.Module) -> nn.Module:
    p = m.p
    k = _norse_k(m, p.tau_mem_inv)
    ks = -_scalar(-m.dt * torch.as_tensor(p.tau_syn_inv), "dt*tau_syn_inv", m)
    v_leak = _scalar(p.v_leak, "v_leak", m)
    params = NeuronParams(
        alpha=1.0 - k,
        beta=k,
        gamma=k * v_leak,
        v_th=_scalar(p.v_th, "v_th", m),
        v_reset=_scalar(p.v_reset, "v_reset", m),
        reset="hard",
        cmp="gt",
        v_init=v_leak,
        syn=(1.0 - ks, 1.0, 0.0),
    )
    return NorseLIFCell(params, ks)


def _norse_lif_box(m: nn.Module) -> nn.Module:
    from norse.torch.functional.reset import reset_subtract, reset_value

    p = m.p
    if p.reset_method is reset_value:
        reset = "hard"
    elif p.reset_method is reset_subtract:
        reset = "soft"
    else:
        _unsupported(
            m,
            f"reset_method {getattr(p.reset_method, '__name__', p.reset_method)!r} (only reset_value, reset_subtract)",
        )
    k = _norse_k(m, p.tau_mem_inv)
    v_leak = _scalar(p.v_leak, "v_leak", m)
    params = NeuronParams(
        alpha=1.0 - k,
        beta=k,
        gamma=k * v_leak,
        v_th=_scalar(p.v_th, "v_th", m),
        v_reset=_scalar(p.v_reset, "v_reset", m),
        reset=reset,
        cmp="gt",
        v_init=v_leak,
    )
    return NorseLIFBoxCell(params)


# --------------------------------------------------------------------------- Sinabs


class SinabsNeuron(nn.Module):
    """Sinabs ``IAF`` / ``LIF`` / ``IAFSqueeze`` / ``LIFSqueeze`` on the ``torch.ops.snnc`` neurons.

    Input and output ``[B, T, ...]`` (batch first, as Sinabs), or ``[B*T, ...]`` for the Squeeze
    layers (``squeeze = (batch_size, num_timesteps)``, one of them -1, as Sinabs' ``SqueezeMixin``:
    batch-major); the state (``v_mem``, ``i_syn``) is kept across calls until
    :meth:`reset_states`, as Sinabs does.
    Sinabs: ``i = alpha_syn*(i + x)`` (with ``tau_syn``), ``v = alpha*v + c*i`` (``c = 1 - alpha``
    when ``norm_input`` else 1), then ``SingleSpike`` (``spk = v >= threshold``) or ``MultiSpike`` /
    ``MaxSpike`` (``spk = min(trunc(v / threshold), max)`` where ``v > 0``: the ``*_multi`` ops),
    then subtract ``spk * threshold`` or reset to 0.
    """

    def __init__(self, params: NeuronParams, squeeze: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.neuron_params = params
        self.squeeze = squeeze
        self.v_mem: torch.Tensor | None = None
        self.i_syn: torch.Tensor | None = None

    def reset_states(self) -> None:
        self.v_mem = None
        self.i_syn = None

    def forward(self, input_data: torch.Tensor) -> torch.Tensor:
        if self.squeeze is not None:
            if input_data.dim() < 1:
                raise error(f"Sinabs Squeeze layers take [batch*time, ...], got shape {tuple(input_data.shape)}")
            out = self._forward(input_data.reshape(*self.squeeze, *input_data.shape[1:]))
            return out.flatten(0, 1)
        return self._forward(input_data)

    def _forward(self, input_data: torch.Tensor) -> torch.Tensor:
        if input_data.dim() < 2:
            raise error(f"Sinabs layers take [batch, time, ...], got shape {tuple(input_data.shape)}")
        x_seq = input_data.movedim(1, 0)
        v, i = (None, None) if _exporting() else (self.v_mem, self.i_syn)
        if v is not None and v.shape != x_seq.shape[1:]:
            v, i = None, None
        s, i_new, v_new = ops.call(x_seq, self.neuron_params, multi_step=True, v=v, i=i)
        if not _exporting():
            self.v_mem, self.i_syn = v_new, i_new
        return s.movedim(0, 1)


def _sinabs(m: nn.Module) -> nn.Module:
    from sinabs.activation import MaxSpike, MembraneReset, MembraneSubtract, MultiSpike, SingleSpike

    multi, max_spikes = False, 0
    if m.spike_fn is MultiSpike:
        multi = True
    elif isinstance(m.spike_fn, MaxSpike):
        multi = True
        cap = m.spike_fn.max_num_spikes_per_bin
        if cap is not None:
            if int(cap) != cap or cap < 1:
                _unsupported(m, f"MaxSpike(max_num_spikes_per_bin={cap}): the cap must be an integer >= 1")
            max_spikes = int(cap)
    elif m.spike_fn is not SingleSpike:
        name = getattr(m.spike_fn, "__name__", type(m.spike_fn).__name__)
        _unsupported(m, f"spike_fn={name} (supported: SingleSpike, MultiSpike, MaxSpike)")
    v_min = None
    if m.min_v_mem is not None:
        v_min = _scalar(m.min_v_mem, "min_v_mem", m)
        if not multi:  # SingleSpike (v >= threshold) is MaxSpike(1) for a threshold > 0: the multi ops carry v_min
            multi, max_spikes = True, 1
    th = _scalar(m.spike_threshold, "spike_threshold", m)
    if isinstance(m.reset_fn, MembraneSubtract):
        sub = m.reset_fn.subtract_value
        if sub is not None and _scalar(sub, "subtract_value", m) != th:
            _unsupported(m, "MembraneSubtract(subtract_value) different from the threshold")
        reset, v_reset = "soft", 0.0
    elif isinstance(m.reset_fn, MembraneReset):
        if float(m.reset_fn.reset_value) != 0.0:
            _unsupported(
                m,
                "MembraneReset(reset_value != 0): Sinabs computes v*(spikes == 0) + reset_value, which adds "
                "reset_value to every neuron, not only to those that spiked",
            )
        reset, v_reset = "hard", 0.0
    else:
        _unsupported(m, f"reset_fn {type(m.reset_fn).__name__}")
    alpha_t = m.alpha_mem_calculated.detach()
    alpha = _scalar(alpha_t, "alpha_mem", m)
    beta = _scalar(1 - alpha_t, "1 - alpha_mem", m) if m.norm_input else 1.0
    syn = None
    alpha_syn_t = m.alpha_syn_calculated
    if alpha_syn_t is not None:
        a_s = _scalar(alpha_syn_t.detach(), "alpha_syn", m)
        syn = (a_s, a_s, 0.0)
    if multi and not th > 0:
        _unsupported(m, f"MultiSpike (or min_v_mem) with spike_threshold {th}: the spike count v / threshold needs a "
                     "threshold > 0")
    params = NeuronParams(alpha=alpha, beta=beta, gamma=0.0, v_th=th, v_reset=v_reset, reset=reset, cmp="ge", syn=syn,
                          multi=multi, max_spikes=max_spikes, v_min=v_min)
    squeeze = None
    if hasattr(m, "squeeze_forward"):  # IAFSqueeze / LIFSqueeze: [B*T, ...] batch-major
        squeeze = (int(m.batch_size), int(m.num_timesteps))
    return SinabsNeuron(params, squeeze)


# --------------------------------------------------------------------------- dispatch


class _Rule(NamedTuple):
    module: str
    cls: str
    convert: Callable[[nn.Module], nn.Module]


_RULES = (
    _Rule("spikingjelly.activation_based.neuron", "LIFNode", _sj_lif),
    _Rule("spikingjelly.activation_based.neuron", "IFNode", _sj_if),
    _Rule("spikingjelly.activation_based.neuron", "ParametricLIFNode", _sj_plif),
    _Rule("snntorch", "Leaky", _snntorch_leaky),
    _Rule("snntorch", "Synaptic", _snntorch_synaptic),
    _Rule("snntorch", "RLeaky", _snntorch_rleaky),
    _Rule("norse.torch", "LIFCell", _norse_lif),
    _Rule("norse.torch", "LIFBoxCell", _norse_lif_box),
    _Rule("sinabs.layers", "IAF", _sinabs),
    _Rule("sinabs.layers", "LIF", _sinabs),
    _Rule("sinabs.layers", "IAFSqueeze", _sinabs),
    _Rule("sinabs.layers", "LIFSqueeze", _sinabs),
)

# Base classes of each library's neurons: an instance of one that no rule matches is rejected.
_NEURON_BASES = (
    ("spikingjelly.activation_based.neuron", "BaseNode"),
    ("spikingjelly.activation_based.neuron", "SimpleBaseNode"),
    ("snntorch", "SpikingNeuron"),
    ("norse.torch.module.snn", "SNNCell"),
    ("norse.torch.module.snn", "SNNRecurrentCell"),
    ("norse.torch.module.snn", "SNN"),
    ("norse.torch.module.snn", "SNNRecurrent"),
    ("sinabs.layers", "StatefulLayer"),
)


def _resolve(module: str, name: str) -> type | None:
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None


def _tables() -> tuple[dict[type, Callable[[nn.Module], nn.Module]], tuple[type, ...]]:
    exact: dict[type, Callable[[nn.Module], nn.Module]] = {}
    for rule in _RULES:
        cls = _resolve(rule.module, rule.cls)
        if cls is not None:
            exact[cls] = rule.convert
    bases = tuple(c for c in (_resolve(m, n) for m, n in _NEURON_BASES) if c is not None)
    return exact, bases


def supported_neurons() -> list[str]:
    """``module.Class`` of every neuron class :func:`swap_neurons` replaces."""
    return [f"{r.module}.{r.cls}" for r in _RULES]


def _swap(m: nn.Module, exact: dict, bases: tuple[type, ...]) -> nn.Module:
    convert = exact.get(type(m))
    if convert is not None:
        return convert(m)
    if bases and isinstance(m, bases):
        _unsupported(m, f"no snnc equivalent (supported: {', '.join(supported_neurons())})")
    for name, child in list(m.named_children()):
        new = _swap(child, exact, bases)
        if new is not child:
            setattr(m, name, new)
    return m


def swap_neurons(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` with every SpikingJelly / snnTorch / Norse / Sinabs neuron replaced.

    Matching is by exact class (a subclass may change the dynamics); any other neuron of those
    libraries raises a :class:`~snnc.ir.diagnostics.DiagnosticError` naming its class.
    """
    exact, bases = _tables()
    return _swap(copy.deepcopy(model), exact, bases)
