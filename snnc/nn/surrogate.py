"""Surrogate-gradient spike functions.

The forward pass is the exact Heaviside comparison of the IR (``cmp = "ge"``: ``x >= 0``;
``cmp = "gt"``: ``x > 0``), so a trained model computes in PyTorch exactly what the
compiled one computes.  Only the backward pass is smoothed, as in SpikingJelly's
``surrogate.ATan`` / ``surrogate.Sigmoid``:

* ``atan`` (SpikingJelly default ``alpha = 2``):
  ``d/dx = (alpha / 2) / (1 + (pi / 2 * alpha * x)^2)``
* ``sigmoid`` (SpikingJelly default ``alpha = 4``):
  ``d/dx = alpha * sigmoid(alpha * x) * (1 - sigmoid(alpha * x))``

``x`` is the membrane minus the threshold.  The surrogate choice never changes a forward
result.
"""

from __future__ import annotations

import math

import torch

from snnc.ir.diagnostics import error

SURROGATES = ("atan", "sigmoid")
DEFAULT_ALPHA = {"atan": 2.0, "sigmoid": 4.0}
CMPS = ("ge", "gt")


def check_surrogate(name: str) -> None:
    if name not in SURROGATES:
        raise error(f"unknown surrogate '{name}': expected one of {', '.join(SURROGATES)}")


def check_cmp(cmp: str) -> None:
    if cmp not in CMPS:
        raise error(f"unknown comparison '{cmp}': expected 'ge' (v >= v_th) or 'gt' (v > v_th)")


def surrogate_grad(x: torch.Tensor, name: str, alpha: float) -> torch.Tensor:
    """The surrogate derivative of the Heaviside step at ``x``."""
    if name == "atan":
        return (alpha / 2.0) / (1.0 + (math.pi / 2.0 * alpha * x) ** 2)
    sg = torch.sigmoid(alpha * x)
    return alpha * sg * (1.0 - sg)


class _Heaviside(torch.autograd.Function):
    @staticmethod
    def forward(x: torch.Tensor, cmp: str, name: str, alpha: float) -> torch.Tensor:  # type: ignore[override]
        return (x >= 0 if cmp == "ge" else x > 0).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:  # type: ignore[override]
        x, _cmp, name, alpha = inputs
        ctx.save_for_backward(x)
        ctx.name = name
        ctx.alpha = alpha

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * surrogate_grad(x, ctx.name, ctx.alpha), None, None, None


def heaviside(x: torch.Tensor, cmp: str = "ge", surrogate: str = "atan", alpha: float | None = None) -> torch.Tensor:
    """Exact step ``cmp(x, 0)`` in the forward pass (same dtype as ``x``), surrogate in backward."""
    check_cmp(cmp)
    check_surrogate(surrogate)
    a = DEFAULT_ALPHA[surrogate] if alpha is None else float(alpha)
    if not (torch.is_grad_enabled() and x.requires_grad):
        return (x >= 0 if cmp == "ge" else x > 0).to(x.dtype)
    return _Heaviside.apply(x, cmp, surrogate, a)


def ternary(x: torch.Tensor, v_th: float, surrogate: str = "atan", alpha: float | None = None) -> torch.Tensor:
    """``+1`` where ``x >= v_th``, ``-1`` where ``x <= -v_th``, else ``0`` (``v_th > 0``).

    Backward: the sum of the two surrogate branches (``d/dx H(x - v_th) + d/dx H(-x - v_th)``).
    """
    return heaviside(x - v_th, "ge", surrogate, alpha) - heaviside(-x - v_th, "ge", surrogate, alpha)
