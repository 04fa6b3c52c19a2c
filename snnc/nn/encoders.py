"""Input encoders: a static input ``[B, ...]`` to a sequence ``[T, B, ...]``.

* :class:`DirectEncoder`: the real-valued input repeated ``T`` times (Meta-SpikeFormer: the
  first conv sees real pixels).
* :class:`RateEncoder`: Bernoulli spikes with probability ``clamp(x, 0, 1)``, drawn from a
  ``torch.Generator`` seeded with ``seed`` (deterministic; :meth:`RateEncoder.reseed`
  restarts the stream).
* :class:`TernaryEncoder`: threshold-adaptive ternary delta encoder (QT-SNN; OUR READING).
"""

from __future__ import annotations

import torch
from torch import nn

from snnc.ir.diagnostics import error


def _check_t(time_steps: int) -> int:
    if int(time_steps) < 1:
        raise error(f"time_steps must be >= 1, got {time_steps}")
    return int(time_steps)


class DirectEncoder(nn.Module):
    """``out[t] = x`` for ``t < T``."""

    def __init__(self, time_steps: int) -> None:
        super().__init__()
        self.time_steps = _check_t(time_steps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(0).repeat(self.time_steps, *([1] * x.dim()))


class RateEncoder(nn.Module):
    """``out[t] = (u[t] < clamp(x, 0, 1))`` with ``u[t] ~ U[0, 1)`` from a seeded CPU generator."""

    def __init__(self, time_steps: int, seed: int = 0) -> None:
        super().__init__()
        self.time_steps = _check_t(time_steps)
        self.seed = int(seed)
        self.generator = torch.Generator().manual_seed(self.seed)

    def reseed(self) -> None:
        self.generator = torch.Generator().manual_seed(self.seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = torch.rand((self.time_steps, *x.shape), generator=self.generator, dtype=x.dtype)
        return (u.to(x.device) < x.clamp(0, 1).unsqueeze(0)).to(x.dtype)


class TernaryEncoder(nn.Module):
    """Threshold-adaptive ternary encoder (QT-SNN; formula not published, this is our reading).

    A delta modulator with a per-sample adaptive threshold:
    ``theta = theta_scale * mean(|x|)`` over each sample's features (and time steps, for a
    sequence; ``theta = 1`` for an all-zero sample).  With the reference ``r[-1] = 0`` and ``d[t] = x[t] - r[t-1]``:
    ``s[t] = +1`` if ``d >= theta``, ``-1`` if ``d <= -theta``, else 0; ``r[t] = r[t-1] + theta*s[t]``.
    A static input is held for all ``T`` steps (``x[t] = x``); pass ``sequence=True`` to encode a
    ``[T, B, ...]`` signal.  ``theta * sum_t s[t]`` approximates the input to within ``theta``
    once ``T`` is large enough, so the layer after the encoder multiplies its weights by
    :meth:`thresholds`.
    """

    def __init__(self, time_steps: int, theta_scale: float = 0.5) -> None:
        super().__init__()
        self.time_steps = _check_t(time_steps)
        if not theta_scale > 0:
            raise error(f"theta_scale must be > 0, got {theta_scale}")
        self.theta_scale = float(theta_scale)

    def thresholds(self, x: torch.Tensor) -> torch.Tensor:
        """``theta`` per sample, shaped to broadcast against ``x [B, ...]``."""
        m = x.abs().flatten(1).mean(dim=1) if x.dim() > 1 else x.abs().mean().reshape(1)
        theta = torch.where(m > 0, self.theta_scale * m, torch.ones_like(m))
        return theta.reshape(-1, *([1] * (x.dim() - 1))) if x.dim() > 1 else theta

    def forward(self, x: torch.Tensor, sequence: bool = False) -> torch.Tensor:
        seq = x if sequence else x.unsqueeze(0).expand(self.time_steps, *x.shape)
        theta = self.thresholds(seq.movedim(0, -1) if sequence else x)
        if sequence and seq.dim() > 1:
            theta = theta.reshape(-1, *([1] * (seq.dim() - 2)))
        r = torch.zeros_like(seq[0])
        out = []
        for xt in seq:
            d = xt - r
            s = (d >= theta).to(x.dtype) - (d <= -theta).to(x.dtype)
            r = r + theta * s
            out.append(s)
        return torch.stack(out)
