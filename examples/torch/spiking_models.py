"""Small spiking models written the SpikingJelly way, for ``snnc import`` and the tests.

Each factory returns a model in ``eval()`` mode; every model is multi-step: input
``[T, B, C, H, W]`` (time layout ``TB``).  Import one with::

    snnc import examples/torch/spiking_models.py:meta_spikeformer_tiny \\
        --input-shape 4,1,3,16,16 --time-layout TB -o m.mlir

* :func:`conv_bn_lif` -- conv -> BN -> LIF -> pool -> linear -> LIF (SpikingJelly neurons);
* :func:`sdt_v1_block` -- one Spike-driven Transformer v1 encoder block (SDSA:
  ``LIF_{0.5}(sum_tokens(K AND V))`` then ``Q AND mask``, MLP, membrane shortcuts);
* :func:`meta_spikeformer_tiny` -- a Meta-SpikeFormer-shaped network: conv stem, SepConv
  and channel conv blocks, RepConv Q/K/V, SDSA ``LIF_{0.5}(0.125 * Q (K^T V))``, MLP,
  membrane shortcuts, head ``mean_HW -> LIF -> Linear -> mean over T``.

RepConv with Meta-SpikeFormer's ``BNAndPadLayer`` (BN, then pad with the BN of 0) is written
as ``conv1x1(padding=1) -> BN``: the bias-free 1x1 conv of the zero padding is 0, whose BN is
exactly the pad value, so the function is the same without in-place slice assignments.
"""

from __future__ import annotations

import torch
from spikingjelly.activation_based import layer, neuron
from torch import nn


def _lif(v_th: float = 1.0) -> nn.Module:
    return neuron.LIFNode(tau=2.0, v_threshold=v_th, detach_reset=True, step_mode="m")


def _seq(*mods: nn.Module) -> nn.Module:
    return layer.SeqToANNContainer(*mods)


def _randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(2 * torch.rand(m.num_features, generator=g) + 1.0)
                m.bias.copy_(torch.rand(m.num_features, generator=g) - 0.1)
    return model.eval()


class ConvBNLIF(nn.Module):
    def __init__(self, channels: int = 4, classes: int = 5) -> None:
        super().__init__()
        self.stem = _seq(nn.Conv2d(2, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        self.lif1 = _lif()
        self.pool = _seq(nn.MaxPool2d(2))
        self.fc = _seq(nn.Flatten(), nn.Linear(channels * 4 * 4, classes))
        self.lif2 = _lif()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lif2(self.fc(self.pool(self.lif1(self.stem(x)))))


def conv_bn_lif() -> nn.Module:
    """Input ``[T, B, 2, 8, 8]``; output spikes ``[T, B, 5]``."""
    torch.manual_seed(0)
    m = ConvBNLIF()
    with torch.no_grad():
        m.fc[1].weight.mul_(12)  # enough drive for the output layer to fire
    return _randomize_bn(m)


# --------------------------------------------------------------------------- Spike-driven Transformer v1


class SDSAv1(nn.Module):
    """Spike-driven self-attention of Spike-driven Transformer v1 (conv form), ``x: [T, B, C, H, W]``."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.shortcut_lif = _lif()
        self.q = _seq(nn.Conv2d(dim, dim, 1, bias=False), nn.BatchNorm2d(dim))
        self.k = _seq(nn.Conv2d(dim, dim, 1, bias=False), nn.BatchNorm2d(dim))
        self.v = _seq(nn.Conv2d(dim, dim, 1, bias=False), nn.BatchNorm2d(dim))
        self.q_lif, self.k_lif, self.v_lif = _lif(), _lif(), _lif()
        self.talking_heads_lif = _lif(0.5)
        self.proj = _seq(nn.Conv2d(dim, dim, 1), nn.BatchNorm2d(dim))

    def _heads(self, s: torch.Tensor) -> torch.Tensor:
        T, B, C, H, W = s.shape
        return s.flatten(3).transpose(-1, -2).reshape(T, B, H * W, self.heads, C // self.heads).permute(0, 1, 3, 2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B, C, H, W = x.shape
        s = self.shortcut_lif(x)
        q = self._heads(self.q_lif(self.q(s)))
        k = self._heads(self.k_lif(self.k(s)))
        v = self._heads(self.v_lif(self.v(s)))
        kv = k.mul(v).sum(dim=-2, keepdim=True)  # [T, B, h, 1, d]: per channel, tokens where K AND V
        kv = self.talking_heads_lif(kv)
        y = q.mul(kv)  # Q AND mask
        y = y.transpose(3, 4).reshape(T, B, C, H, W)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, dim: int, ratio: int = 4) -> None:
        super().__init__()
        self.lif1 = _lif()
        self.fc1 = _seq(nn.Conv2d(dim, dim * ratio, 1), nn.BatchNorm2d(dim * ratio))
        self.lif2 = _lif()
        self.fc2 = _seq(nn.Conv2d(dim * ratio, dim, 1), nn.BatchNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.lif2(self.fc1(self.lif1(x))))


class SDTv1Block(nn.Module):
    """``U += SDSA(U); U += MLP(U)`` (membrane shortcuts)."""

    def __init__(self, dim: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.attn = SDSAv1(dim, heads)
        self.mlp = MLP(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.mlp(x)


def sdt_v1_block() -> nn.Module:
    """Input (membrane) ``[T, B, 8, 4, 4]``; output membrane ``[T, B, 8, 4, 4]``."""
    torch.manual_seed(1)
    return _randomize_bn(SDTv1Block(), seed=1)


# --------------------------------------------------------------------------- Meta-SpikeFormer


class RepConv(nn.Module):
    """``conv1x1 -> BN (pad with BN(0)) -> dw3x3 -> pw1x1 -> BN``: linear, same H x W."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cin, 1, padding=1, bias=False),
            nn.BatchNorm2d(cin),
            nn.Conv2d(cin, cin, 3, groups=cin, bias=False),
            nn.Conv2d(cin, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class SepConv(nn.Module):
    """``LIF -> pw1x1(C->2C) -> BN -> LIF -> dw7x7 -> pw1x1(2C->C) -> BN``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.lif1 = _lif()
        self.pw1 = _seq(nn.Conv2d(dim, 2 * dim, 1, bias=False), nn.BatchNorm2d(2 * dim))
        self.lif2 = _lif()
        self.dw_pw = _seq(
            nn.Conv2d(2 * dim, 2 * dim, 7, padding=3, groups=2 * dim, bias=False),
            nn.Conv2d(2 * dim, dim, 1, bias=False),
            nn.BatchNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dw_pw(self.lif2(self.pw1(self.lif1(x))))


class ConvBlock(nn.Module):
    """``U += SepConv(U); U += BN(conv3x3(LIF(BN(conv3x3(LIF(U))))))``."""

    def __init__(self, dim: int, ratio: int = 4) -> None:
        super().__init__()
        self.sep = SepConv(dim)
        self.lif1 = _lif()
        self.conv1 = _seq(nn.Conv2d(dim, dim * ratio, 3, padding=1, bias=False), nn.BatchNorm2d(dim * ratio))
        self.lif2 = _lif()
        self.conv2 = _seq(nn.Conv2d(dim * ratio, dim, 3, padding=1, bias=False), nn.BatchNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.sep(x)
        return x + self.conv2(self.lif2(self.conv1(self.lif1(x))))


class MetaSDSA(nn.Module):
    """Meta-SpikeFormer SDSA: ``O = LIF_{0.5}(0.125 * Q (K^T V))`` per head; Q, K, V from RepConv+BN+LIF."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.head_lif = _lif()
        self.q = _seq(RepConv(dim, dim), nn.BatchNorm2d(dim))
        self.k = _seq(RepConv(dim, dim), nn.BatchNorm2d(dim))
        self.v = _seq(RepConv(dim, dim), nn.BatchNorm2d(dim))
        self.q_lif, self.k_lif, self.v_lif = _lif(), _lif(), _lif()
        self.attn_lif = _lif(0.5)
        self.proj = _seq(RepConv(dim, dim), nn.BatchNorm2d(dim))

    def _heads(self, s: torch.Tensor) -> torch.Tensor:
        T, B, C, H, W = s.shape
        return s.flatten(3).transpose(-1, -2).reshape(T, B, H * W, self.heads, C // self.heads).permute(0, 1, 3, 2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B, C, H, W = x.shape
        s = self.head_lif(x)
        q = self._heads(self.q_lif(self.q(s)))
        k = self._heads(self.k_lif(self.k(s)))
        v = self._heads(self.v_lif(self.v(s)))
        kv = k.transpose(-2, -1) @ v  # [T, B, h, d, d]: integer counts
        y = (q @ kv) * 0.125  # [T, B, h, N, d]
        y = y.transpose(3, 4).reshape(T, B, C, H * W)
        y = self.attn_lif(y).reshape(T, B, C, H, W)
        return self.proj(y)


class TransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attn = MetaSDSA(dim, heads)
        self.mlp = MLP(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.mlp(x)


class MetaSpikeFormerTiny(nn.Module):
    """Stages: 3x3/s2 stem + ConvBlock; LIF + 3x3/s2 + ConvBlock; LIF + 3x3/s2 + 2 transformer blocks; head."""

    def __init__(self, widths: tuple[int, int, int] = (4, 8, 8), heads: int = 2, classes: int = 5) -> None:
        super().__init__()
        c0, c1, c2 = widths
        self.down1 = _seq(nn.Conv2d(3, c0, 3, stride=2, padding=1), nn.BatchNorm2d(c0))
        self.block1 = ConvBlock(c0)
        self.down2_lif = _lif()
        self.down2 = _seq(nn.Conv2d(c0, c1, 3, stride=2, padding=1), nn.BatchNorm2d(c1))
        self.block2 = ConvBlock(c1)
        self.down3_lif = _lif()
        self.down3 = _seq(nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.BatchNorm2d(c2))
        self.blocks = nn.Sequential(TransformerBlock(c2, heads), TransformerBlock(c2, heads))
        self.head_lif = _lif()
        self.head = nn.Linear(c2, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block1(self.down1(x))
        x = self.block2(self.down2(self.down2_lif(x)))
        x = self.blocks(self.down3(self.down3_lif(x)))
        x = x.flatten(3).mean(3)  # global average pool of the membrane: [T, B, C]
        x = self.head(self.head_lif(x))
        return x.mean(0)  # readout: mean over T


def meta_spikeformer_tiny() -> nn.Module:
    """Input ``[T, B, 3, 16, 16]``; output logits ``[B, 5]`` (mean over T)."""
    torch.manual_seed(2)
    return _randomize_bn(MetaSpikeFormerTiny(), seed=2)
