"""Recurrent LIF (snnTorch ``RLeaky`` dynamics) as torch custom ops ``snnc::rlif`` / ``snnc::rlif_step``.

One step, for the stored (pre-reset) membrane ``mem`` and the previous step's spikes ``spk``::

    r[t]   = (mem[t-1] > v_th)                              # the delayed reset (= spk[t-1])
    base   = alpha*mem[t-1] + x[t] + R(spk[t-1])           # R: the recurrent connection
    mem[t] = base - v_th*r[t]   ("subtract")
           | base - r[t]*base   ("zero": the membrane is 0 for the whole step after a spike)
           | base               ("none")
    spk[t] = (mem[t] > v_th)

``R`` is ``rec``: ``"linear"`` (``spk @ w.T + b``, snnTorch ``all_to_all=True, linear_features``),
``"one_to_one"`` (``spk * w``, ``w`` a scalar or per-neuron ``V``; ``all_to_all=False``) or
``"conv2d"`` (``conv2d(spk, w, b)`` with padding ``k // 2``).  ``mem[-1] = 0``, ``spk[-1] = 0``.
This is snnTorch's ``RLeaky`` (``reset_delay=True``) term for term, in its order of operations.

The IR form (``convert-torch-to-snn``) is the neuron's input fed by its own delayed spikes
``d = snn.delay(s)``::

    xr = nn.add(x, R(d))                    R: nn.linear / nn.scale / nn.conv2d on d
    subtract: snn.lif{reset="none"}(nn.sub(xr, nn.scale(d, v_th)))
    zero:     snn.lif{reset="hard", v_reset=0}(nn.sub(xr, nn.mul(d, xr)))
    none:     snn.lif{reset="none"}(xr)
    (alpha, beta = 1, gamma = 0, cmp = "gt")

which gives the same spikes (the sums are associated differently: float64 spikes identical on
the tested inputs).  Backward: BPTT with the surrogate of :mod:`snnc.nn.surrogate` on the spike;
the reset term is detached, as snnTorch's is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from snnc.ir.diagnostics import error
from snnc.nn.surrogate import DEFAULT_ALPHA, check_surrogate, heaviside

RECURRENT_KINDS = ("linear", "one_to_one", "conv2d")
RECURRENT_RESETS = ("subtract", "zero", "none")


def check_recurrent(rec: str, reset: str, w: torch.Tensor, b: torch.Tensor | None) -> None:
    if rec not in RECURRENT_KINDS:
        raise error(f"unknown recurrent connection '{rec}': expected one of {', '.join(RECURRENT_KINDS)}")
    if reset not in RECURRENT_RESETS:
        raise error(f"unknown reset '{reset}': expected one of {', '.join(RECURRENT_RESETS)}")
    if rec == "linear" and (w.dim() != 2 or w.shape[0] != w.shape[1]):
        raise error(f"a linear recurrent weight must be square [N, N], got {tuple(w.shape)}")
    if rec == "conv2d" and (w.dim() != 4 or w.shape[0] != w.shape[1]):
        raise error(f"a conv2d recurrent weight must be [C, C, kh, kw], got {tuple(w.shape)}")
    if rec == "one_to_one" and (w.dim() > 1 or b is not None):
        raise error(f"a one-to-one recurrent weight V must be a scalar or a vector without bias, got {tuple(w.shape)}")


def recurrent_term(spk: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, rec: str) -> torch.Tensor:
    if rec == "linear":
        return F.linear(spk, w, b)
    if rec == "one_to_one":
        return spk * w
    kh, kw = w.shape[2], w.shape[3]
    return F.conv2d(spk, w, b, padding=(kh // 2, kw // 2))


def rscan(
    x_seq: torch.Tensor,
    spk: torch.Tensor | None,
    mem: torch.Tensor | None,
    w: torch.Tensor,
    b: torch.Tensor | None,
    rec: str,
    alpha: float,
    v_th: float,
    reset: str,
    surrogate: str = "atan",
    surrogate_alpha: float = 2.0,
    *,
    differentiable: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the recurrent neuron over ``x_seq [T, ...]``; returns ``(spikes [T, ...], mem_last)``."""
    check_recurrent(rec, reset, w, b)
    if x_seq.dim() < 1 or x_seq.shape[0] < 1:
        raise error(f"a multi-step neuron input needs a leading time axis of length >= 1, got {tuple(x_seq.shape)}")
    dt = x_seq.dtype
    spk = torch.zeros_like(x_seq[0]) if spk is None else spk.to(dt)
    mem = torch.zeros_like(x_seq[0]) if mem is None else mem.to(dt)
    w = w.to(dt)
    b = None if b is None else b.to(dt)
    out = []
    for x in x_seq:
        r = (mem.detach() - v_th > 0).to(dt)
        base = alpha * mem + x + recurrent_term(spk, w, b, rec)
        if reset == "subtract":
            mem = base - r * v_th
        elif reset == "zero":
            mem = base - r * base
        else:
            mem = base
        h = mem - v_th
        spk = heaviside(h if differentiable else h.detach(), "gt", surrogate, surrogate_alpha)
        out.append(spk)
    return torch.stack(out), mem


# --------------------------------------------------------------------------- custom ops

_TAIL = "str rec, float alpha, float v_th, str reset, str surrogate, float surrogate_alpha"
_SCHEMAS = {
    "rlif": f"rlif(Tensor x_seq, Tensor w, Tensor? b, {_TAIL}) -> (Tensor, Tensor)",
    "rlif_step": f"rlif_step(Tensor x, Tensor spk, Tensor mem, Tensor w, Tensor? b, {_TAIL}) -> (Tensor, Tensor)",
}
_N_TENSOR = {"rlif": 3, "rlif_step": 5}


def _run(name: str, args: tuple, differentiable: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if name == "rlif":
        x, w, b, *rest = args
        s, mem = rscan(x, None, None, w, b, *rest, differentiable=differentiable)
        return s, mem.clone()
    x, spk, mem, w, b, *rest = args
    s, mem = rscan(x.unsqueeze(0), spk, mem, w, b, *rest, differentiable=differentiable)
    return s[0], mem.clone()


def _kernel(name: str):
    def kernel(*args):
        with torch.no_grad():
            return _run(name, args, False)

    return kernel


def _fake(name: str):
    def fake(x, *args):
        state = x.shape[1:] if name == "rlif" else x.shape
        return x.new_empty(x.shape), x.new_empty(state)

    return fake


def _setup(ctx, inputs, output) -> None:
    ctx.op_inputs = inputs
    ctx.save_for_backward(*[t for t in inputs if isinstance(t, torch.Tensor)])


def _backward(name: str):
    n_tensor = _N_TENSOR[name]

    def backward(ctx, *grads):
        inputs = list(ctx.op_inputs)
        saved = iter(ctx.saved_tensors)
        for k, a in enumerate(inputs):
            if isinstance(a, torch.Tensor):
                inputs[k] = next(saved)
        leaves: list[torch.Tensor | None] = []
        with torch.enable_grad():
            for k in range(n_tensor):
                t = inputs[k]
                if t is not None:
                    t = t.detach().requires_grad_(True)
                inputs[k] = t
                leaves.append(t)
            outs = _run(name, tuple(inputs), True)
            pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o.requires_grad]
            wanted = [t for t in leaves if t is not None]
            got = (
                torch.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True)
                if pairs
                else [None] * len(wanted)
            )
        it = iter(got)
        tensor_grads = [None if t is None else next(it) for t in leaves]
        return (*tensor_grads, *([None] * (len(ctx.op_inputs) - n_tensor)))

    return backward


def _register() -> torch.library.Library:
    lib = torch.library.Library("snnc", "FRAGMENT")
    for name, schema in _SCHEMAS.items():
        lib.define(schema)
        lib.impl(name, _kernel(name), "CompositeExplicitAutograd")
        torch.library.register_fake(f"snnc::{name}", _fake(name), lib=lib)
        torch.library.register_autograd(f"snnc::{name}", _backward(name), setup_context=_setup, lib=lib)
    return lib


_LIB = _register()

RECURRENT_OPS = tuple(f"snnc.{n}" for n in _SCHEMAS)


# --------------------------------------------------------------------------- module


class RecurrentLIF(nn.Module):
    """LIF with a recurrent connection from its own previous spikes (snnTorch ``RLeaky`` dynamics).

    ``alpha``: membrane decay; ``v_th``: threshold (spike where ``mem > v_th``); ``reset``:
    ``"subtract"`` / ``"zero"`` / ``"none"`` as snnTorch's delayed reset (module docstring).
    The recurrent connection is ``recurrent`` (an ``nn.Linear(N, N)``, an ``nn.Conv2d(C, C, k)``
    with padding ``k // 2``) or, when ``V`` is given instead, one-to-one ``spk * V``.

    ``step_mode="m"``: input ``[T, B, ...]`` -> spikes ``[T, B, ...]`` (one ``snnc.rlif`` node);
    ``step_mode="s"``: input ``[B, ...]``, one ``snnc.rlif_step``; the state ``(spk, mem)`` is
    kept across calls until :meth:`reset_state` (not read or written while ``torch.export`` traces).
    """

    def __init__(
        self,
        alpha: float,
        v_th: float = 1.0,
        reset: str = "subtract",
        *,
        recurrent: nn.Module | None = None,
        V: float | torch.Tensor | None = None,
        step_mode: str = "m",
        surrogate: str = "atan",
        surrogate_alpha: float | None = None,
    ) -> None:
        super().__init__()
        if step_mode not in ("s", "m"):
            raise error(f"step_mode must be 's' or 'm', got '{step_mode}'")
        check_surrogate(surrogate)
        if (recurrent is None) == (V is None):
            raise error("RecurrentLIF needs exactly one of `recurrent` (nn.Linear / nn.Conv2d) or `V` (one-to-one)")
        if recurrent is not None:
            if isinstance(recurrent, nn.Linear):
                self.rec = "linear"
            elif isinstance(recurrent, nn.Conv2d):
                k = recurrent.kernel_size
                if (
                    recurrent.stride != (1, 1)
                    or recurrent.dilation != (1, 1)
                    or recurrent.groups != 1
                    or (recurrent.padding != (k[0] // 2, k[1] // 2))
                ):
                    raise error("a conv2d recurrent connection needs stride 1, dilation 1, groups 1, padding k // 2")
                self.rec = "conv2d"
            else:
                raise error(f"unsupported recurrent connection {type(recurrent).__name__} (nn.Linear or nn.Conv2d)")
            self.recurrent = recurrent
        else:
            self.rec = "one_to_one"
            self.recurrent = None
            self.V = nn.Parameter(torch.as_tensor(V, dtype=torch.get_default_dtype()).clone().detach())
        self.alpha, self.v_th, self.reset_mode = float(alpha), float(v_th), reset
        self.step_mode = step_mode
        self.surrogate = surrogate
        self.surrogate_alpha = DEFAULT_ALPHA[surrogate] if surrogate_alpha is None else float(surrogate_alpha)
        check_recurrent(self.rec, reset, *self._weights())
        self.spk: torch.Tensor | None = None
        self.mem: torch.Tensor | None = None

    def _weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.recurrent is None:
            return self.V, None
        return self.recurrent.weight, self.recurrent.bias

    def reset_state(self) -> None:
        self.spk = None
        self.mem = None

    reset = reset_state

    def _tail(self) -> tuple:
        return (self.rec, self.alpha, self.v_th, self.reset_mode, self.surrogate, self.surrogate_alpha)

    def step(self, x: torch.Tensor, spk: torch.Tensor, mem: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step from an explicit state: ``(spk, mem)`` after it."""
        w, b = self._weights()
        return torch.ops.snnc.rlif_step(x, spk, mem, w, b, *self._tail())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        exporting = torch.compiler.is_exporting()
        w, b = self._weights()
        if self.step_mode == "m":
            if not exporting and self.mem is not None and self.mem.shape == x.shape[1:]:
                spikes = []
                for xt in x:
                    s, self.mem = self.step(xt, self.spk, self.mem)  # type: ignore[arg-type]
                    self.spk = s
                    spikes.append(s)
                return torch.stack(spikes)
            s, mem = torch.ops.snnc.rlif(x, w, b, *self._tail())
            if not exporting:
                self.spk, self.mem = s[-1], mem
            return s
        spk, mem = (None, None) if exporting else (self.spk, self.mem)
        if mem is None or mem.shape != x.shape:
            spk, mem = torch.zeros_like(x), torch.zeros_like(x)
        s, mem = self.step(x, spk, mem)  # type: ignore[arg-type]
        if not exporting:
            self.spk, self.mem = s, mem
        return s

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, v_th={self.v_th}, reset={self.reset_mode}, rec={self.rec}, "
            f"step_mode={self.step_mode}, surrogate={self.surrogate}"
        )


__all__ = ["RECURRENT_OPS", "RecurrentLIF", "recurrent_term", "rscan"]
