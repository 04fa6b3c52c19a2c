"""Spike-driven attention (SEEDS.md facts 3-5) and encoders."""

from __future__ import annotations

import pytest
import torch

import snnc.nn as snn
from snnc.ir.diagnostics import DiagnosticError


def _spikes(shape, p=0.5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g, dtype=torch.float64) < p).to(torch.float64)


def test_fact3_meta_sdsa_scale_equals_integer_threshold():
    t, b, n, c, heads = 4, 2, 6, 16, 2
    q, k, v = (_spikes((t, b, n, c), seed=s) for s in range(3))
    attn = snn.MetaSDSA(num_heads=heads, scale=0.125, v_th=0.5)
    out = attn(q, k, v)
    # the integer Q(K^T V) against threshold 4, same LIF dynamics (tau 2, hard reset 0)
    qh = q.reshape(t, b, n, heads, c // heads).transpose(2, 3)
    kh = k.reshape(t, b, n, heads, c // heads).transpose(2, 3)
    vh = v.reshape(t, b, n, heads, c // heads).transpose(2, 3)
    x_int = qh @ (kh.transpose(-2, -1) @ vh)
    assert torch.equal(x_int, x_int.round())
    out_int = snn.LIF.from_tau(2.0, v_th=4.0, v_reset=0.0)(x_int).transpose(2, 3).reshape(t, b, n, c)
    torch.testing.assert_close(out, out_int, rtol=0, atol=0)
    assert 0 < out.sum() < out.numel()


def test_fact3_all_ones_first_step_spikes():
    q = k = v = torch.ones(1, 1, 3, 8, dtype=torch.float64)
    attn = snn.MetaSDSA(num_heads=1)
    x = q[0, 0] @ (k[0, 0].transpose(0, 1) @ v[0, 0])
    assert torch.all(x == 24)
    assert torch.all(attn(q, k, v) == 1)


def test_default_meta_sdsa_has_8_heads_and_scale():
    attn = snn.MetaSDSA()
    assert attn.num_heads == 8 and attn.scale == 0.125
    with pytest.raises(DiagnosticError, match="do not split into 8 heads"):
        attn(*(torch.zeros(1, 1, 2, 12),) * 3)


def test_fact4_sdsa_v1_first_step_mask():
    t, b, n, c = 3, 2, 5, 8
    q, k, v = (_spikes((t, b, n, c), p=0.3, seed=10 + s) for s in range(3))
    out = snn.SDSAv1(num_heads=2)(q, k, v)
    count = (k[0] * v[0]).sum(dim=1, keepdim=True)  # [B, 1, C]
    mask = (count >= 1).to(q.dtype)  # tau 2: 0.5*count >= 0.5
    torch.testing.assert_close(out[0], q[0] * mask, rtol=0, atol=0)
    # later steps follow the LIF over the counts
    lif = snn.LIF.from_tau(2.0, v_th=0.5, v_reset=0.0)
    mask_all = lif((k * v).sum(dim=2, keepdim=True))
    torch.testing.assert_close(out, q * mask_all, rtol=0, atol=0)


def test_fact5_bestformer_map_first_step_and_soft_reset():
    q = _spikes((1, 6, 8), seed=20)
    k = _spikes((1, 6, 8), seed=21)
    qk = q @ k.transpose(-2, -1)  # [1, N, N] integer
    lif = snn.LIF.from_tau(2.0, v_th=1.0, v_reset=None)  # soft reset, v_th = 1
    a = lif(qk.unsqueeze(0))[0, 0]
    torch.testing.assert_close(a, (qk[0] >= 2).to(a.dtype), rtol=0, atol=0)
    h = qk[0] / 2
    torch.testing.assert_close(lif.v[0], torch.where(h >= 1, h - 1, h), rtol=0, atol=0)


def test_saccadic_attention_reading():
    t, b, n, c = 3, 2, 4, 8
    q, k, v = (_spikes((t, b, n, c), seed=30 + s) for s in range(3))
    attn = snn.SaccadicSpikeSelfAttention(time_steps=t, num_heads=2, theta=1.0).double()
    out = attn(q, k, v)
    assert out.shape == (t, b, n, c)
    # step 1/2 by hand for head 0: running mean of the per-patch relevance, thresholded
    qh = q[..., :4]
    kh = k[..., :4]
    a = (qh * kh.sum(dim=2, keepdim=True)).sum(-1) / n  # [T, B, N]
    acc = torch.cumsum(a, 0) / torch.arange(1, t + 1, dtype=a.dtype).reshape(t, 1, 1)
    heads = q.reshape(t, b, n, 2, 4).transpose(2, 3)
    m = attn.saccade_mask(heads, k.reshape(t, b, n, 2, 4).transpose(2, 3))
    torch.testing.assert_close(m[:, :, 0, :, 0], (acc >= 1.0).to(a.dtype), rtol=0, atol=0)
    # the saccade weight is learnable through the surrogate
    attn.saccade_weight.requires_grad_(True)
    snn.reset_net(attn)
    attn(q, k, v).sum().backward()
    assert attn.saccade_weight.grad is not None and attn.saccade_weight.grad.abs().sum() > 0
    with pytest.raises(DiagnosticError, match="built for T = 3"):
        attn(q[:2], k[:2], v[:2])


def test_direct_and_rate_encoders():
    x = torch.rand(3, 5, dtype=torch.float64)
    d = snn.DirectEncoder(4)(x)
    assert d.shape == (4, 3, 5) and torch.equal(d[2], x)
    enc = snn.RateEncoder(200, seed=7)
    r1 = enc(x)
    enc.reseed()
    r2 = enc(x)
    assert torch.equal(r1, r2) and set(r1.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(r1, snn.RateEncoder(200, seed=8)(x))
    torch.testing.assert_close(r1.mean(0), x, atol=0.15, rtol=0)


def test_ternary_encoder_reading():
    x = torch.tensor([[0.9, -0.4, 0.0, 0.25]], dtype=torch.float64)
    enc = snn.TernaryEncoder(8, theta_scale=0.5)
    s = enc(x)
    theta = enc.thresholds(x)
    assert theta.item() == pytest.approx(0.5 * 0.3875)
    assert set(s.unique().tolist()) <= {-1.0, 0.0, 1.0}
    recon = theta * s.sum(0)
    assert torch.all((recon - x).abs() < theta)
    # a signal that rises then falls emits +1 then -1
    seq = torch.tensor([0.0, 1.0, 2.0, 1.0, 0.0], dtype=torch.float64).reshape(5, 1, 1)
    enc2 = snn.TernaryEncoder(5, theta_scale=1.0)
    # theta = mean |x| over time = 0.8: d = 0, 1, 1.2, -0.6, -1.6 against r = 0, 0, 0.8, 1.6, 1.6
    out = enc2(seq, sequence=True)
    assert out.shape == seq.shape
    assert out.flatten().tolist() == [0.0, 1.0, 1.0, 0.0, -1.0]
