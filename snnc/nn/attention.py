"""Spike-driven self-attention cores on spike tensors (``SEEDS.md``, "Spike-driven attention").

All modules take ``q, k, v`` spike tensors ``[T, B, N, C]`` (time, batch, tokens, channels),
split ``C`` into ``num_heads`` heads of ``C / num_heads`` channels, and return ``[T, B, N, C]``.
Products of spike tensors are ANDs and sums are spike counts, so everything before the
neuron is integer arithmetic.  The attention neurons are SpikingJelly LIFs
(:meth:`snnc.nn.LIF.from_tau`: tau 2, ``v_th = 0.5``, hard reset to 0), multi-step.
The Q/K/V projections (conv1x1/RepConv + BN + LIF) are ordinary layers and not part of these
modules.
"""

from __future__ import annotations

import torch
from torch import nn

from snnc.ir.diagnostics import error
from snnc.nn.neurons import LIF
from snnc.nn.surrogate import heaviside


def _split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    if x.dim() != 4:
        raise error(f"attention inputs must be [T, B, N, C], got shape {tuple(x.shape)}")
    t, b, n, c = x.shape
    if c % num_heads:
        raise error(f"{c} channels do not split into {num_heads} heads")
    return x.reshape(t, b, n, num_heads, c // num_heads).transpose(2, 3)  # [T, B, H, N, D]


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    t, b, h, n, d = x.shape
    return x.transpose(2, 3).reshape(t, b, n, h * d)


class SDSAv1(nn.Module):
    """Spike-driven Transformer v1 SDSA (code form).

    Per head and channel ``d``: ``kv[t, d] = LIF_{v_th=0.5}(sum_n K[t, n, d] AND V[t, n, d])``,
    ``out[t, n, d] = Q[t, n, d] AND kv[t, d]``.  Linear in the number of tokens.  (The paper
    writes ``SN(SUM_c(Q*K))*V``: the same with Q and V swapped.)  Heads do not change the
    result (everything is per channel); ``num_heads`` only checks the channel split.
    """

    def __init__(self, num_heads: int = 8, v_th: float = 0.5, tau: float = 2.0) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.kv_lif = LIF.from_tau(tau, decay_input=True, v_th=v_th, v_reset=0.0, step_mode="m")

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        qh, kh, vh = (_split_heads(a, self.num_heads) for a in (q, k, v))
        kv = (kh * vh).sum(dim=-2, keepdim=True)  # [T, B, H, 1, D] spike counts
        mask = self.kv_lif(kv)
        return _merge_heads(qh * mask)


class MetaSDSA(nn.Module):
    """Meta-SpikeFormer SDSA (final model, code form).

    Per head: ``X = Q (K^T V) * scale`` (``K^T V`` an integer ``D x D`` count matrix; ``Q x``
    it adds the rows selected by Q's spikes), ``O = LIF_{v_th=0.5}(X)``.  Defaults: 8 heads,
    ``scale = 0.125``.  Because the LIF is linear below threshold and resets to 0,
    ``0.125 * X`` against 0.5 spikes exactly as the integer ``X`` against 4.
    """

    def __init__(self, num_heads: int = 8, scale: float = 0.125, v_th: float = 0.5, tau: float = 2.0) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = float(scale)
        self.attn_lif = LIF.from_tau(tau, decay_input=True, v_th=v_th, v_reset=0.0, step_mode="m")

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        qh, kh, vh = (_split_heads(a, self.num_heads) for a in (q, k, v))
        kv = kh.transpose(-2, -1) @ vh  # [T, B, H, D, D]
        x = (qh @ kv) * self.scale
        return _merge_heads(self.attn_lif(x))


class SaccadicSpikeSelfAttention(nn.Module):
    """SNN-ViT saccadic spike self-attention: OUR READING (no published code; docs/neurons.md).

    1. Spike-distribution relevance of each patch, linear in N:
       ``a[t, n] = sum_d Q[t, n, d] * Ksum[t, d] / N`` with ``Ksum[t, d] = sum_m K[t, m, d]``
       (the row sums of ``Q K^T`` without forming the N x N map; mean AND-count per key).
    2. Saccadic neuron: the salience is integrated over time by a learnable lower-triangular
       ``W [T, T]`` (initialised to the running mean, ``W[t, t'] = 1/(t+1)`` for ``t' <= t``):
       ``A[t, n] = sum_{t' <= t} W[t, t'] a[t', n]``; patch ``n`` is fixated at step ``t`` iff
       ``A[t, n] >= theta`` (surrogate gradient through the step).  With W fixed this is a
       linear filter then a threshold; dividing by ``W[t, t]`` folds the current step's weight
       into the threshold (``theta / W[t, t]``) for inference.
    3. Re-associated linear attention over the fixated patches:
       ``O = LIF_{v_th}((M * Q) (K^T V) * scale)``.
    """

    def __init__(
        self, time_steps: int, num_heads: int = 8, theta: float = 1.0, scale: float = 0.125, v_th: float = 0.5
    ) -> None:
        super().__init__()
        if time_steps < 1:
            raise error(f"time_steps must be >= 1, got {time_steps}")
        self.num_heads = num_heads
        self.theta = float(theta)
        self.scale = float(scale)
        w = torch.tril(torch.ones(time_steps, time_steps)) / torch.arange(1, time_steps + 1).unsqueeze(1)
        self.saccade_weight = nn.Parameter(w)
        self.attn_lif = LIF.from_tau(2.0, decay_input=True, v_th=v_th, v_reset=0.0, step_mode="m")

    def saccade_mask(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """The fixation spikes ``M [T, B, H, N, 1]`` of step 2 (inputs already split into heads)."""
        t_len, n = q.shape[0], q.shape[-2]
        if t_len != self.saccade_weight.shape[0]:
            raise error(f"this attention was built for T = {self.saccade_weight.shape[0]}, got T = {t_len}")
        ksum = k.sum(dim=-2, keepdim=True)  # [T, B, H, 1, D]
        a = (q * ksum).sum(dim=-1) / n  # [T, B, H, N]
        w = torch.tril(self.saccade_weight).to(a.dtype)
        acc = torch.einsum("ts,sbhn->tbhn", w, a)
        return heaviside(acc - self.theta, "ge").unsqueeze(-1)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        qh, kh, vh = (_split_heads(a, self.num_heads) for a in (q, k, v))
        m = self.saccade_mask(qh, kh)
        kv = kh.transpose(-2, -1) @ vh
        x = ((m * qh) @ kv) * self.scale
        return _merge_heads(self.attn_lif(x))
