"""Neuron modules whose forward is exactly the IR's ``snn.lif`` / ``snn.if`` / ``snn.cuba_lif``.

Parameters are the IR's canonical form (see :mod:`snnc.nn.ops` for the update order)::

    v[t] = (alpha*v[t-1] + beta*x[t]) + gamma ;  s[t] = cmp(v[t], v_th)
    hard: v[t] <- v_reset where s ;  soft: v[t] <- v[t] - v_th where s ;  none: unchanged

``step_mode="m"``: input ``[T, B, ...]``, output spikes ``[T, B, ...]``.
``step_mode="s"``: input ``[B, ...]``, one step; the state is kept across calls.
In both modes the state survives the call (as SpikingJelly's memory modules do) until
:meth:`reset_state` (alias ``reset``, so SpikingJelly's ``functional.reset_net`` works), or
until the input's per-step shape changes.  While ``torch.export`` traces, the state is
neither read nor written: an exported program always starts from ``v_init``.

Spikes are 0/1 in the input dtype; gradients flow through the surrogate of
:mod:`snnc.nn.surrogate` (``atan`` by default).  ``LIF``, ``IF`` and ``CubaLIF`` take
``spike_fn="multi"`` (and ``max_spikes``) for the multi-spike neuron (IR ``spike_fn = "multi"``):
the output is the spike count ``min(trunc(v / v_th), max_spikes)`` where ``v > 0``, and the soft
reset subtracts ``count * v_th`` (:mod:`snnc.nn.ops`); with it, ``v_min`` bounds the membrane from
below after the reset as Sinabs' ``min_v_mem`` (``relu(v - v_min) + v_min``).
"""

from __future__ import annotations

import torch
from torch import nn

from snnc.ir.diagnostics import error
from snnc.nn import ops
from snnc.nn.ops import NeuronParams
from snnc.nn.surrogate import DEFAULT_ALPHA, check_surrogate

STEP_MODES = ("s", "m")


def _ir_reset(reset: str) -> str:
    if reset not in ops.RESETS:
        raise error(f"unknown reset '{reset}': expected one of {', '.join(ops.RESETS)}")
    return reset


SPIKE_FNS = ("single", "multi")


def _spike_fn(spike_fn: str, max_spikes: int | None) -> tuple[bool, int]:
    """``(multi, max_spikes)`` of the ``spike_fn`` / ``max_spikes`` arguments (0: no cap)."""
    if spike_fn not in SPIKE_FNS:
        raise error(f"spike_fn must be 'single' or 'multi', got '{spike_fn}'")
    if max_spikes is not None and (spike_fn != "multi" or int(max_spikes) < 1):
        raise error(f"max_spikes (got {max_spikes}) needs spike_fn='multi' and must be >= 1")
    return spike_fn == "multi", 0 if max_spikes is None else int(max_spikes)


class _Neuron(nn.Module):
    """Shared state handling; subclasses define :attr:`params`."""

    v: torch.Tensor | None
    i: torch.Tensor | None

    def __init__(self, step_mode: str, surrogate: str, surrogate_alpha: float | None) -> None:
        super().__init__()
        if step_mode not in STEP_MODES:
            raise error(
                f"step_mode must be 's' (single step, [B, ...]) or 'm' (multi step, [T, B, ...]), got '{step_mode}'"
            )
        check_surrogate(surrogate)
        self.step_mode = step_mode
        self.surrogate = surrogate
        self.surrogate_alpha = DEFAULT_ALPHA[surrogate] if surrogate_alpha is None else float(surrogate_alpha)
        self.v = None
        self.i = None

    @property
    def params(self) -> NeuronParams:  # pragma: no cover - overridden
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget the membrane (and synaptic current): the next call starts at ``v_init`` (and ``i = 0``)."""
        self.v = None
        self.i = None

    def reset(self) -> None:
        """Alias of :meth:`reset_state` (SpikingJelly's ``functional.reset_net`` calls ``reset``)."""
        self.reset_state()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        multi = self.step_mode == "m"
        exporting = torch.compiler.is_exporting()
        step_shape = x.shape[1:] if multi else x.shape
        v, i = (None, None) if exporting else (self.v, self.i)
        if v is not None and v.shape != step_shape:
            v, i = None, None
        s, i_new, v_new = ops.call(x, self.params, multi_step=multi, v=v, i=i)
        if not exporting:
            self.v, self.i = v_new, i_new
        return s

    def extra_repr(self) -> str:
        p = self.params
        fields = [
            f"{k}={getattr(p, k)}" for k in ("alpha", "beta", "gamma", "v_th", "v_reset", "reset", "cmp", "v_init")
        ]
        if p.syn is not None:
            fields = [f"alpha_syn={p.syn[0]}", f"beta_syn={p.syn[1]}", f"gamma_syn={p.syn[2]}", *fields]
        if p.multi:
            fields.append("spike_fn=multi" + (f", max_spikes={p.max_spikes}" if p.max_spikes else ""))
        return ", ".join([*fields, f"step_mode={self.step_mode}", f"surrogate={self.surrogate}"])


class LIF(_Neuron):
    """Leaky integrate-and-fire neuron (IR ``snn.lif``), canonical parameters."""

    def __init__(
        self,
        alpha: float,
        beta: float = 1.0,
        gamma: float = 0.0,
        v_th: float = 1.0,
        v_reset: float = 0.0,
        reset: str = "hard",
        cmp: str = "ge",
        v_init: float = 0.0,
        *,
        step_mode: str = "m",
        surrogate: str = "atan",
        surrogate_alpha: float | None = None,
        spike_fn: str = "single",
        max_spikes: int | None = None,
        v_min: float | None = None,
    ) -> None:
        super().__init__(step_mode, surrogate, surrogate_alpha)
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.v_th, self.v_reset, self.v_init = float(v_th), float(v_reset), float(v_init)
        self.reset_mode, self.cmp = _ir_reset(reset), cmp
        self.multi, self.max_spikes = _spike_fn(spike_fn, max_spikes)
        self.v_min = None if v_min is None else float(v_min)
        self.params.check()

    @property
    def params(self) -> NeuronParams:
        return NeuronParams(
            self.alpha, self.beta, self.gamma, self.v_th, self.v_reset, self.reset_mode, self.cmp, self.v_init,
            None, False, self.surrogate, self.surrogate_alpha, self.multi, self.max_spikes, self.v_min,
        )  # fmt: skip

    @classmethod
    def from_tau(
        cls,
        tau: float = 2.0,
        decay_input: bool = True,
        v_th: float = 1.0,
        v_reset: float | None = 0.0,
        **kwargs,
    ) -> LIF:
        """SpikingJelly's ``LIFNode`` parametrisation (``SEEDS.md``).

        ``decay_input=True``:  ``H = V + (X - (V - v_r)) / tau`` -> ``alpha = 1 - 1/tau, beta = 1/tau, gamma = v_r/tau``;
        ``decay_input=False``: ``H = V - (V - v_r) / tau + X``   -> ``alpha = 1 - 1/tau, beta = 1,     gamma = v_r/tau``.
        ``v_reset=None`` is the soft reset (subtract ``v_th``) with ``v_r = 0`` in the charge;
        otherwise a hard reset to ``v_reset``.  The state starts at ``v_reset`` (0 when soft), as
        SpikingJelly's does; the comparison is ``>=``.
        """
        tau = float(tau)
        if not tau > 0:
            raise error(f"tau must be > 0, got {tau}")
        vr = 0.0 if v_reset is None else float(v_reset)
        k = 1.0 / tau
        return cls(
            alpha=1.0 - k,
            beta=k if decay_input else 1.0,
            gamma=vr * k,
            v_th=v_th,
            v_reset=vr,
            reset="soft" if v_reset is None else "hard",
            cmp="ge",
            v_init=vr,
            **kwargs,
        )


class IF(LIF):
    """Integrate-and-fire neuron (IR ``snn.if``): :class:`LIF` with ``alpha = 1``."""

    def __init__(
        self,
        beta: float = 1.0,
        gamma: float = 0.0,
        v_th: float = 1.0,
        v_reset: float = 0.0,
        reset: str = "hard",
        cmp: str = "ge",
        v_init: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(1.0, beta, gamma, v_th, v_reset, reset, cmp, v_init, **kwargs)


class CubaLIF(_Neuron):
    """Current-based LIF (IR ``snn.cuba_lif``): the membrane integrates the NEW synaptic current.

    ``i[t] = (alpha_syn*i[t-1] + beta_syn*x[t]) + gamma_syn``; ``v[t] = (alpha*v[t-1] + beta*i[t]) + gamma``;
    then spike and reset as :class:`LIF`.  ``i[-1] = 0``.
    """

    def __init__(
        self,
        alpha_syn: float,
        alpha: float,
        beta_syn: float = 1.0,
        gamma_syn: float = 0.0,
        beta: float = 1.0,
        gamma: float = 0.0,
        v_th: float = 1.0,
        v_reset: float = 0.0,
        reset: str = "hard",
        cmp: str = "ge",
        v_init: float = 0.0,
        *,
        step_mode: str = "m",
        surrogate: str = "atan",
        surrogate_alpha: float | None = None,
        spike_fn: str = "single",
        max_spikes: int | None = None,
        v_min: float | None = None,
    ) -> None:
        super().__init__(step_mode, surrogate, surrogate_alpha)
        self.alpha_syn, self.beta_syn, self.gamma_syn = float(alpha_syn), float(beta_syn), float(gamma_syn)
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.v_th, self.v_reset, self.v_init = float(v_th), float(v_reset), float(v_init)
        self.reset_mode, self.cmp = _ir_reset(reset), cmp
        self.multi, self.max_spikes = _spike_fn(spike_fn, max_spikes)
        self.v_min = None if v_min is None else float(v_min)
        self.params.check()

    @property
    def params(self) -> NeuronParams:
        return NeuronParams(
            self.alpha, self.beta, self.gamma, self.v_th, self.v_reset, self.reset_mode, self.cmp, self.v_init,
            (self.alpha_syn, self.beta_syn, self.gamma_syn), False, self.surrogate, self.surrogate_alpha,
            self.multi, self.max_spikes, self.v_min,
        )  # fmt: skip


class TernaryLIF(_Neuron):
    """LIF with ternary spikes ``{-1, 0, +1}`` (QT-SNN; our reading, see docs/neurons.md).

    ``v[t] = (alpha*v[t-1] + beta*x[t]) + gamma``; ``s = +1`` if ``v >= v_th``, ``-1`` if
    ``v <= -v_th``, else 0 (``v_th > 0``).  Soft reset ``v -= s*v_th`` (towards 0 by one
    threshold); hard reset ``v = v_reset`` where ``s != 0``; none.
    """

    def __init__(
        self,
        alpha: float,
        beta: float = 1.0,
        gamma: float = 0.0,
        v_th: float = 1.0,
        v_reset: float = 0.0,
        reset: str = "soft",
        v_init: float = 0.0,
        *,
        step_mode: str = "m",
        surrogate: str = "atan",
        surrogate_alpha: float | None = None,
    ) -> None:
        super().__init__(step_mode, surrogate, surrogate_alpha)
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.v_th, self.v_reset, self.v_init = float(v_th), float(v_reset), float(v_init)
        self.reset_mode = reset
        self.params.check()

    @property
    def params(self) -> NeuronParams:
        return NeuronParams(
            self.alpha, self.beta, self.gamma, self.v_th, self.v_reset, self.reset_mode, "ge", self.v_init,
            None, True, self.surrogate, self.surrogate_alpha,
        )  # fmt: skip
