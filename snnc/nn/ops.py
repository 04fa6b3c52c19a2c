"""Neurons as torch custom ops (namespace ``snnc``), so ``torch.export`` keeps one node per neuron.

Every op computes the IR neuron of the same name (``snn.lif``, ``snn.if``, ``snn.cuba_lif``)
over a whole sequence ``x_seq [T, ...]`` (multi-step) or over one step (``*_step``), in the
dtype of ``x``.  One step, for state ``v`` (and ``i``) *after* the previous reset::

    i[t] = alpha_syn*i[t-1] + beta_syn*x[t] + gamma_syn          (cuba_lif only; u[t] = i[t])
    h[t] = (alpha*v[t-1] + beta*u[t]) + gamma                     (lif/ternary: u[t] = x[t]; if: alpha = 1)
    s[t] = cmp(h[t], v_th)              cmp "ge": h >= v_th, "gt": h > v_th
    v[t] = s*v_reset + (1-s)*h  (hard) | h - s*v_th  (soft) | h  (none)

``v[-1]`` is ``v0`` when given, else ``v_init`` everywhere; ``i[-1]`` is ``i0`` or 0.
Spikes are returned as 0/1 values in ``x``'s dtype (the IR's ``i1``).

Two further reset modes exist only to carry snnTorch's ``reset_delay=True`` convention, where
the stored state is the membrane *before* its reset and the reset of a spike at ``t-1`` is
applied at step ``t`` (``p[t-1] = cmp(v[t-1], v_th)``, ``v`` = pre-reset membrane):

* ``"hard_delayed"``: ``h[t] = alpha*(p*v_reset + (1-p)*v[t-1]) + beta*u[t] + gamma``; no reset
  after the spike.  Spikes equal ``"hard"`` exactly (only the stored state differs):
  lowers to ``snn.lif{reset = "hard"}``.
* ``"soft_delayed"``: ``h[t] = alpha*v[t-1] + beta*u[t] + gamma - v_th*p``: the threshold is
  subtracted *after* the leak, so it is not ``"soft"`` unless ``alpha = 1``.  Lowers to
  ``snn.lif{reset = "none"}`` (``snn.cuba_li`` + ``snn.threshold`` for cuba) whose membrane
  gets ``-v_th * snn.delay(s)`` added through an ``snn.li{alpha, beta = 1}`` (for lif with
  ``beta = 1``: subtract ``v_th * delay(s)`` from the input).

``*_multi`` ops (``lif_multi``, ``if_multi``, ``cuba_lif_multi`` and their ``_step`` forms) are
the multi-spike neurons (IR ``spike_fn = "multi"``, Sinabs' ``MultiSpike`` / ``MaxSpike``): the
output is the spike COUNT ``n[t] = min(trunc(h[t] / v_th), max_spikes)`` where ``h[t] > 0``, else
0 (``max_spikes = 0``: no cap; ``h / v_th`` one IEEE division in ``x``'s dtype), returned as a
float in ``x``'s dtype; the soft reset is ``v[t] = h - n*v_th``, the hard one ``v_reset`` where
``n > 0``; then, with ``v_min`` (Sinabs' ``min_v_mem``; None: none), ``v[t] = relu(v[t] - v_min) + v_min``.  ``cmp`` is ``"ge"`` (``n >= 1`` exactly when ``h >= v_th``), ``v_th > 0``.  Backward:
the surrogate of the single-spike step (straight-through for the count above 1).

``ternary_lif`` emits ``+1`` where ``h >= v_th``, ``-1`` where ``h <= -v_th`` (``v_th > 0``),
``0`` otherwise; soft reset ``v = h - s*v_th`` (moves the membrane towards 0 by ``v_th``),
hard reset ``v = v_reset`` where ``s != 0``.

The ``surrogate`` / ``surrogate_alpha`` arguments choose the backward pass only
(:mod:`snnc.nn.surrogate`); the forward is the exact step.  Backward is BPTT through the
whole sequence: the kernel is re-run under autograd with the surrogate step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from snnc.ir.diagnostics import error
from snnc.nn.surrogate import check_cmp, check_surrogate, heaviside, ternary

RESETS = ("hard", "soft", "none")
SNNTORCH_RESETS = ("hard_delayed", "soft_delayed")


@dataclass(frozen=True)
class NeuronParams:
    """The canonical (IR) parameters of one neuron layer; ``syn`` is ``(alpha_syn, beta_syn, gamma_syn)`` or None."""

    alpha: float
    beta: float
    gamma: float
    v_th: float
    v_reset: float
    reset: str
    cmp: str = "ge"
    v_init: float = 0.0
    syn: tuple[float, float, float] | None = None
    ternary: bool = False
    surrogate: str = "atan"
    surrogate_alpha: float = 2.0
    #: multi-spike neuron (a spike count per step) and its cap (0: none)
    multi: bool = False
    max_spikes: int = 0
    #: lower bound of the membrane after the reset (Sinabs' min_v_mem; multi-spike ops only): relu(v - v_min) + v_min
    v_min: float | None = None

    def check(self) -> None:
        allowed = RESETS if self.ternary or self.multi else RESETS + SNNTORCH_RESETS
        if self.reset not in allowed:
            raise error(f"unknown reset '{self.reset}': expected one of {', '.join(allowed)}")
        if self.multi:
            if self.ternary:
                raise error("a neuron cannot be both ternary and multi-spike")
            if self.cmp != "ge":
                raise error(f"a multi-spike neuron fires n >= 1 spikes exactly when v >= v_th: cmp must be 'ge', got '{self.cmp}'")
            if not self.v_th > 0:
                raise error(f"a multi-spike neuron needs v_th > 0 (the count is v / v_th), got {self.v_th}")
            if self.max_spikes < 0:
                raise error(f"max_spikes must be >= 1 (or 0: no cap), got {self.max_spikes}")
        elif self.max_spikes:
            raise error("max_spikes needs a multi-spike neuron")
        if self.v_min is not None and not self.multi:
            raise error("v_min (a membrane lower bound) is supported on the multi-spike neurons (spike_fn='multi'; "
                        "max_spikes=1 gives single spikes)")
        check_cmp(self.cmp)
        check_surrogate(self.surrogate)
        if self.ternary and not self.v_th > 0:
            raise error(f"a ternary neuron needs v_th > 0, got {self.v_th}")


def scan(
    x_seq: torch.Tensor,
    i0: torch.Tensor | None,
    v0: torch.Tensor | None,
    p: NeuronParams,
    *,
    differentiable: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Run the neuron over ``x_seq [T, ...]``; returns ``(spikes [T, ...], i_last, v_last)``.

    This is the one reference implementation behind every op and module of :mod:`snnc.nn`.
    ``differentiable`` routes spikes through the surrogate autograd function.
    """
    if x_seq.dim() < 1 or x_seq.shape[0] < 1:
        raise error(
            f"a multi-step neuron input needs a leading time axis of length >= 1, got shape {tuple(x_seq.shape)}"
        )
    sa = p.surrogate_alpha

    def fire(h: torch.Tensor) -> torch.Tensor:
        if not differentiable:
            h = h.detach()
        if p.ternary:
            return ternary(h, p.v_th, p.surrogate, sa)
        return heaviside(h - p.v_th, p.cmp, p.surrogate, sa)

    def count(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Multi-spike: ``(n, q)``, ``n`` the count, ``q = (n > 0)`` (both carry the step's surrogate)."""
        q = fire(h)
        hd = h.detach()
        n = torch.where(hd > 0, torch.trunc(hd / p.v_th), torch.zeros_like(hd))
        if p.max_spikes:
            n = torch.clamp(n, max=float(p.max_spikes))
        return q + (n - q.detach()), q  # forward: exactly n (small integers); backward: q's surrogate

    v = torch.full_like(x_seq[0], p.v_init) if v0 is None else v0.to(x_seq.dtype)
    i = None
    if p.syn is not None:
        i = torch.zeros_like(x_seq[0]) if i0 is None else i0.to(x_seq.dtype)
    spikes = []
    for x in x_seq:
        if p.syn is not None:
            a_s, b_s, g_s = p.syn
            i = (a_s * i + b_s * x) + g_s
            u = i
        else:
            u = x
        if p.reset == "hard_delayed":
            q = fire(v)
            v = q * p.v_reset + (1.0 - q) * v
        h = (p.alpha * v + p.beta * u) + p.gamma
        if p.reset == "soft_delayed":
            h = h - p.v_th * fire(v)
        if p.multi:
            s, q = count(h)
        else:
            s = q = fire(h)
        if p.reset == "hard":
            m = s.abs() if p.ternary else q
            v = m * p.v_reset + (1.0 - m) * h
        elif p.reset == "soft":
            v = h - s * p.v_th
        else:
            v = h
        if p.v_min is not None:  # Sinabs' min_v_mem, in its order of operations
            v = torch.relu(v - p.v_min) + p.v_min
        spikes.append(s)
    return torch.stack(spikes), i, v


# --------------------------------------------------------------------------- op table

_COMMON = "float v_th, float v_reset, float v_init, str reset, str cmp, str surrogate, float surrogate_alpha"
_TERNARY = "float v_th, float v_reset, float v_init, str reset, str surrogate, float surrogate_alpha"


@dataclass(frozen=True)
class _OpSpec:
    name: str
    schema: str
    multi_step: bool
    cuba: bool
    params: Callable[..., NeuronParams]


def _lif_params(alpha, beta, gamma, v_th, v_reset, v_init, reset, cmp, surrogate, surrogate_alpha):
    return NeuronParams(alpha, beta, gamma, v_th, v_reset, reset, cmp, v_init, None, False, surrogate, surrogate_alpha)


def _if_params(beta, gamma, v_th, v_reset, v_init, reset, cmp, surrogate, surrogate_alpha):
    return NeuronParams(1.0, beta, gamma, v_th, v_reset, reset, cmp, v_init, None, False, surrogate, surrogate_alpha)


def _cuba_params(a_s, b_s, g_s, alpha, beta, gamma, v_th, v_reset, v_init, reset, cmp, surrogate, surrogate_alpha):
    return NeuronParams(
        alpha, beta, gamma, v_th, v_reset, reset, cmp, v_init, (a_s, b_s, g_s), False, surrogate, surrogate_alpha
    )


def _ternary_params(alpha, beta, gamma, v_th, v_reset, v_init, reset, surrogate, surrogate_alpha):
    return NeuronParams(alpha, beta, gamma, v_th, v_reset, reset, "ge", v_init, None, True, surrogate, surrogate_alpha)


def _multi(params: Callable[..., NeuronParams]) -> Callable[..., NeuronParams]:
    """The multi-spike form of a parameter builder: ``cmp`` fixed to "ge", ``max_spikes`` after ``reset``."""

    def build(*args):
        *head, reset, max_spikes, v_min, surrogate, surrogate_alpha = args
        p = params(*head, reset, "ge", surrogate, surrogate_alpha)
        return replace(p, multi=True, max_spikes=int(max_spikes), v_min=None if v_min is None else float(v_min))

    return build


_MULTI = ("float v_th, float v_reset, float v_init, str reset, int max_spikes, float? v_min, str surrogate, "
          "float surrogate_alpha")
_LIF = "float alpha, float beta, float gamma, " + _COMMON
_IF = "float beta, float gamma, " + _COMMON
_CUBA = "float alpha_syn, float beta_syn, float gamma_syn, float alpha, float beta, float gamma, " + _COMMON
_TER = "float alpha, float beta, float gamma, " + _TERNARY
_LIF_M = "float alpha, float beta, float gamma, " + _MULTI
_IF_M = "float beta, float gamma, " + _MULTI
_CUBA_M = "float alpha_syn, float beta_syn, float gamma_syn, float alpha, float beta, float gamma, " + _MULTI

OP_SPECS: tuple[_OpSpec, ...] = (
    _OpSpec("lif", f"lif(Tensor x_seq, Tensor? v0, {_LIF}) -> (Tensor, Tensor)", True, False, _lif_params),
    _OpSpec("if_", f"if_(Tensor x_seq, Tensor? v0, {_IF}) -> (Tensor, Tensor)", True, False, _if_params),
    _OpSpec(
        "cuba_lif",
        f"cuba_lif(Tensor x_seq, Tensor? i0, Tensor? v0, {_CUBA}) -> (Tensor, Tensor, Tensor)",
        True,
        True,
        _cuba_params,
    ),
    _OpSpec(
        "ternary_lif",
        f"ternary_lif(Tensor x_seq, Tensor? v0, {_TER}) -> (Tensor, Tensor)",
        True,
        False,
        _ternary_params,
    ),
    _OpSpec("lif_step", f"lif_step(Tensor x, Tensor v, {_LIF}) -> (Tensor, Tensor)", False, False, _lif_params),
    _OpSpec("if_step", f"if_step(Tensor x, Tensor v, {_IF}) -> (Tensor, Tensor)", False, False, _if_params),
    _OpSpec(
        "cuba_lif_step",
        f"cuba_lif_step(Tensor x, Tensor i, Tensor v, {_CUBA}) -> (Tensor, Tensor, Tensor)",
        False,
        True,
        _cuba_params,
    ),
    _OpSpec(
        "ternary_lif_step",
        f"ternary_lif_step(Tensor x, Tensor v, {_TER}) -> (Tensor, Tensor)",
        False,
        False,
        _ternary_params,
    ),
    _OpSpec("lif_multi", f"lif_multi(Tensor x_seq, Tensor? v0, {_LIF_M}) -> (Tensor, Tensor)", True, False,
            _multi(_lif_params)),
    _OpSpec("if_multi", f"if_multi(Tensor x_seq, Tensor? v0, {_IF_M}) -> (Tensor, Tensor)", True, False,
            _multi(_if_params)),
    _OpSpec("cuba_lif_multi", f"cuba_lif_multi(Tensor x_seq, Tensor? i0, Tensor? v0, {_CUBA_M}) -> (Tensor, Tensor, Tensor)",
            True, True, _multi(_cuba_params)),
    _OpSpec("lif_multi_step", f"lif_multi_step(Tensor x, Tensor v, {_LIF_M}) -> (Tensor, Tensor)", False, False,
            _multi(_lif_params)),
    _OpSpec("if_multi_step", f"if_multi_step(Tensor x, Tensor v, {_IF_M}) -> (Tensor, Tensor)", False, False,
            _multi(_if_params)),
    _OpSpec("cuba_lif_multi_step",
            f"cuba_lif_multi_step(Tensor x, Tensor i, Tensor v, {_CUBA_M}) -> (Tensor, Tensor, Tensor)",
            False, True, _multi(_cuba_params)),
)


def _split(spec: _OpSpec, args: tuple) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, NeuronParams]:
    if spec.cuba:
        x, i0, v0, *rest = args
    else:
        x, v0, *rest = args
        i0 = None
    p = spec.params(*rest)
    p.check()
    if not spec.multi_step:
        x = x.unsqueeze(0)
    return x, i0, v0, p


def _outputs(spec: _OpSpec, s: torch.Tensor, i: torch.Tensor | None, v: torch.Tensor) -> tuple[torch.Tensor, ...]:
    if not spec.multi_step:
        s = s[0]
    # custom ops may not return aliases of their inputs
    v = v.clone()
    if spec.cuba and i is not None:
        return s, i.clone(), v
    return s, v


def _make_kernel(spec: _OpSpec):
    def kernel(*args):
        x, i0, v0, p = _split(spec, args)
        with torch.no_grad():
            s, i, v = scan(x, i0, v0, p)
        return _outputs(spec, s, i, v)

    return kernel


def _make_fake(spec: _OpSpec):
    def fake(*args):
        x = args[0]
        state_shape = x.shape[1:] if spec.multi_step else x.shape
        n_states = 2 if spec.cuba else 1
        return (x.new_empty(x.shape), *(x.new_empty(state_shape) for _ in range(n_states)))

    return fake


def _make_setup_context(spec: _OpSpec):
    def setup_context(ctx, inputs, output) -> None:
        ctx.op_inputs = inputs
        tensors = [t for t in inputs if isinstance(t, torch.Tensor)]
        ctx.save_for_backward(*tensors)

    return setup_context


def _make_backward(spec: _OpSpec):
    def backward(ctx, *grads):
        inputs = list(ctx.op_inputs)
        saved = iter(ctx.saved_tensors)
        for k, a in enumerate(inputs):
            if isinstance(a, torch.Tensor):
                inputs[k] = next(saved)
        n_tensor = 3 if spec.cuba else 2
        leaves: list[torch.Tensor | None] = []
        with torch.enable_grad():
            for k in range(n_tensor):
                t = inputs[k]
                if t is not None:
                    t = t.detach().requires_grad_(True)
                inputs[k] = t
                leaves.append(t)
            x, i0, v0, p = _split(spec, tuple(inputs))
            s, i, v = scan(x, i0, v0, p, differentiable=True)
            outs = _outputs(spec, s, i, v)
            pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o.requires_grad]
            wanted = [t for t in leaves if t is not None]
            got = (
                torch.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True)
                if pairs
                else [None] * len(wanted)
            )
        it = iter(got)
        tensor_grads = [None if t is None else next(it) for t in leaves]
        n_rest = len(ctx.op_inputs) - n_tensor
        return (*tensor_grads, *([None] * n_rest))

    return backward


def _register() -> torch.library.Library:
    lib = torch.library.Library("snnc", "DEF")
    for spec in OP_SPECS:
        lib.define(spec.schema)
        qual = f"snnc::{spec.name}"
        lib.impl(spec.name, _make_kernel(spec), "CompositeExplicitAutograd")
        torch.library.register_fake(qual, _make_fake(spec), lib=lib)
        torch.library.register_autograd(qual, _make_backward(spec), setup_context=_make_setup_context(spec), lib=lib)
    return lib


_LIB = _register()

NEURON_OPS = tuple(f"snnc.{spec.name}" for spec in OP_SPECS)
"""The qualified names (``torch.ops.snnc.<name>``) of every neuron op registered here."""


def call(
    x: torch.Tensor,
    p: NeuronParams,
    *,
    multi_step: bool,
    v: torch.Tensor | None = None,
    i: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Dispatch ``p`` to the matching ``torch.ops.snnc`` op; returns ``(spikes, i, v)``.

    Single-step ops need an explicit state: missing ``v`` / ``i`` start at ``v_init`` / 0.
    """
    p.check()
    tail_common = (p.v_th, p.v_reset, p.v_init, p.reset)
    sg = (p.surrogate, p.surrogate_alpha)
    ops = torch.ops.snnc
    if not multi_step:
        if v is None:
            v = torch.full_like(x, p.v_init)
        if p.syn is not None and i is None:
            i = torch.zeros_like(x)
    if p.multi:
        tail = (*tail_common, int(p.max_spikes), p.v_min, *sg)
        if p.syn is not None:
            op = ops.cuba_lif_multi if multi_step else ops.cuba_lif_multi_step
            s, i_out, v_out = op(x, i, v, *p.syn, p.alpha, p.beta, p.gamma, *tail)
            return s, i_out, v_out
        if p.alpha == 1.0:
            op = ops.if_multi if multi_step else ops.if_multi_step
            s, v_out = op(x, v, p.beta, p.gamma, *tail)
            return s, None, v_out
        op = ops.lif_multi if multi_step else ops.lif_multi_step
        s, v_out = op(x, v, p.alpha, p.beta, p.gamma, *tail)
        return s, None, v_out
    if p.ternary:
        op = ops.ternary_lif if multi_step else ops.ternary_lif_step
        s, v_out = op(x, v, p.alpha, p.beta, p.gamma, *tail_common, *sg)
        return s, None, v_out
    if p.syn is not None:
        op = ops.cuba_lif if multi_step else ops.cuba_lif_step
        s, i_out, v_out = op(x, i, v, *p.syn, p.alpha, p.beta, p.gamma, *tail_common, p.cmp, *sg)
        return s, i_out, v_out
    if p.alpha == 1.0:
        op = ops.if_ if multi_step else ops.if_step
        s, v_out = op(x, v, p.beta, p.gamma, *tail_common, p.cmp, *sg)
        return s, None, v_out
    op = ops.lif if multi_step else ops.lif_step
    s, v_out = op(x, v, p.alpha, p.beta, p.gamma, *tail_common, p.cmp, *sg)
    return s, None, v_out
