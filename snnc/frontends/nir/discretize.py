"""Time discretisation of NIR's continuous-time neurons, and its inverse.

NIR states each neuron as an ODE; snnc's neuron ops are the discrete updates
``v[t] = alpha*v[t-1] + beta*x[t] + gamma``.  For a leaky stage
``tau * dv/dt = (v_leak - v) + r*x`` with step ``dt``:

=============  ==========================  =================  ====================
scheme         alpha                       beta               gamma
=============  ==========================  =================  ====================
``euler``      ``1 - dt/tau``              ``r * dt/tau``     ``v_leak * dt/tau``
``exact``      ``exp(-dt/tau)``            ``r*(1 - alpha)``  ``v_leak*(1 - alpha)``
=============  ==========================  =================  ====================

``euler`` is forward Euler exactly as Norse's ``lif_box_feed_forward_step`` /
``li_box_feed_forward_step`` write it (``v + dt*tau_inv*((v_leak - v) + x)``);
``exact`` integrates the ODE exactly with the input held constant over the step
(zero-order hold).  Integrators without a leak (NIR ``I`` and ``IF``) use
``beta = r`` in both schemes, as Norse's ``iaf_feed_forward_step`` (``v + x``),
Sinabs and snnTorch do (see docs/nir.md).

All arithmetic is float64.  The inverse functions (used by the exporter) return
float64 parameters that the forward functions map back to *exactly* the same
coefficients (they search a few ulps around the algebraic inverse), so
NIR -> snnc -> NIR -> snnc reproduces the coefficients bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SCHEMES = ("euler", "exact")


def leaky(tau: np.ndarray, r: np.ndarray, v_leak: np.ndarray, dt: float, scheme: str) -> tuple[np.ndarray, ...]:
    """(alpha, beta, gamma) of ``tau dv/dt = (v_leak - v) + r x`` for one step ``dt``."""
    tau = np.asarray(tau, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    v_leak = np.asarray(v_leak, dtype=np.float64)
    k = _k(tau, dt, scheme)
    alpha = _alpha(k, scheme)
    one_minus = k if scheme == "euler" else 1.0 - alpha
    return alpha, r * one_minus, v_leak * one_minus


def _k(tau: np.ndarray, dt: float, scheme: str) -> np.ndarray:
    return np.float64(dt) / tau


def _alpha(k: np.ndarray, scheme: str) -> np.ndarray:
    if scheme == "euler":
        return 1.0 - k
    return np.exp(-k)


def invert_leaky(
    alpha: np.ndarray,
    beta: np.ndarray,
    gamma: np.ndarray,
    dt: float,
    scheme: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tau, r, v_leak) such that :func:`leaky` gives back exactly (alpha, beta, gamma).

    Requires ``alpha < 1`` elementwise (``alpha == 1`` has no time constant)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    beta = np.broadcast_to(np.asarray(beta, dtype=np.float64), alpha.shape)
    gamma = np.broadcast_to(np.asarray(gamma, dtype=np.float64), alpha.shape)
    if scheme == "euler":
        tau0 = dt / (1.0 - alpha)
    else:
        tau0 = -dt / np.log(alpha)
    tau = _solve(lambda t: _alpha(_k(t, dt, scheme), scheme), alpha, tau0)
    k = _k(tau, dt, scheme)
    one_minus = k if scheme == "euler" else 1.0 - _alpha(k, scheme)
    r = _solve(lambda x: x * one_minus, beta, beta / one_minus)
    v_leak = _solve(lambda x: x * one_minus, gamma, gamma / one_minus)
    return tau, r, v_leak


def _solve(f: Callable[[np.ndarray], np.ndarray], target: np.ndarray, x0: np.ndarray, ulps: int = 16) -> np.ndarray:
    """Elementwise: the float64 nearest ``x0`` (within ``ulps`` steps) with ``f(x) == target``.

    Elements with no such neighbour keep ``x0`` (their coefficient then differs from the
    target by rounding only)."""
    x0 = np.array(x0, dtype=np.float64)
    out = x0.copy()
    found = f(x0) == target
    lo = x0.copy()
    hi = x0.copy()
    for _ in range(ulps):
        if bool(np.all(found)):
            break
        lo = np.nextafter(lo, -np.inf)
        hi = np.nextafter(hi, np.inf)
        for cand in (lo, hi):
            hit = (~found) & (f(cand) == target)
            out = np.where(hit, cand, out)
            found = found | hit
    return out
