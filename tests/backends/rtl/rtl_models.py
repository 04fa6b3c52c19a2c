"""Small float models for the RTL backend tests, built without the parser (lowered by quantize)."""

from __future__ import annotations

import numpy as np

import snnc.dialects  # noqa: F401  (registers the ops)
from snnc.dialects.snn import Graph
from snnc.ir import Builder, DenseArrayAttr, DenseElementsAttr, FloatAttr, ModuleOp, f32, i1, i64, tensor, verify


def _w(*shape: int, seed: int = 0, scale: float = 1.0) -> DenseElementsAttr:
    arr = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)
    return DenseElementsAttr(tensor(shape, f32), arr)


def _a(*v: int) -> DenseArrayAttr:
    return DenseArrayAttr(i64, v)


class _G:
    def __init__(self):
        self.m = ModuleOp.empty()
        g = Graph.build("main")
        self.m.body.append(g)
        self.b = Builder.at_end(g.body)

    def op(self, opname, operands, rtype, **attrs):
        o = self.b.op(opname, operands, [] if rtype is None else [rtype], attrs)
        return o.results[0] if o.results else None

    def done(self, outs) -> ModuleOp:
        for i, (name, v) in enumerate(outs):
            self.op("snn.output", [v], None, name=name, index=i)
        verify(self.m)
        return self.m


def conv_model(spike_input: bool = False) -> ModuleOp:
    """x [2, 6, 6] -> conv2d(2->4, k3, p1) -> LIF (alpha 0.75: shift leak k = 2) -> sum_pool2d(2) -> flatten
    -> linear(36 -> 5) -> LIF (alpha 1: no leak); outputs the spikes of both LIF layers."""
    g, T = _G(), tensor
    x = g.op("snn.input", [], T((2, 6, 6), i1 if spike_input else f32), name="x", index=0)
    c = g.op("nn.conv2d", [x], T((4, 6, 6)), weight=_w(4, 2, 3, 3, seed=1), padding=_a(1, 1))
    s1 = g.op("snn.lif", [c], T((4, 6, 6), i1), alpha=FloatAttr(0.75, f32), v_th=FloatAttr(1.0, f32))
    p = g.op("nn.sum_pool2d", [s1], T((4, 3, 3)), kernel_size=_a(2, 2), stride=_a(2, 2))
    fl = g.op("nn.flatten", [p], T((36,)), start_dim=0, end_dim=-1)
    lin = g.op("nn.linear", [fl], T((5,)), weight=_w(5, 36, seed=2, scale=0.5))
    s2 = g.op("snn.lif", [lin], T((5,), i1), alpha=FloatAttr(1.0, f32), v_th=FloatAttr(1.0, f32))
    return g.done([("conv_spikes", s1), ("out", s2)])


def chain_model(sizes=(12, 20, 20, 6), alpha: float = 0.5, seed: int = 0) -> ModuleOp:
    """Spike input -> (linear -> LIF) per layer; outputs the last layer's spikes."""
    g, T = _G(), tensor
    v = g.op("snn.input", [], T((sizes[0],), i1), name="x", index=0)
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        lin = g.op("nn.linear", [v], T((b,)), weight=_w(b, a, seed=seed + k, scale=1.5 / np.sqrt(a) * 2))
        v = g.op("snn.lif", [lin], T((b,), i1), alpha=FloatAttr(alpha, f32), v_th=FloatAttr(1.0, f32))
    return g.done([("out", v)])


def lif_mul_model() -> ModuleOp:
    """A LIF with alpha 0.9 (not 1 - 2^-k): quantize gives it the mul leak."""
    g, T = _G(), tensor
    x = g.op("snn.input", [], T((4,), i1), name="x", index=0)
    lin = g.op("nn.linear", [x], T((3,)), weight=_w(3, 4, seed=5))
    s = g.op("snn.lif", [lin], T((3,), i1), alpha=FloatAttr(0.9, f32), v_th=FloatAttr(1.0, f32))
    return g.done([("out", s)])
