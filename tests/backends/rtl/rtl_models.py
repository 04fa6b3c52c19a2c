"""Small float models for the RTL backend tests, built without the parser (lowered by quantize)."""

from __future__ import annotations

import numpy as np

import snnc.dialects  # noqa: F401  (registers the ops)
from snnc.dialects.snn import Graph
from snnc.ir import (
    Builder,
    DenseArrayAttr,
    DenseElementsAttr,
    FloatAttr,
    ModuleOp,
    StringAttr,
    f32,
    i1,
    i64,
    si2,
    tensor,
    verify,
)


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


def cropped_cnn_sinabs(path, hw: int = 10) -> ModuleOp:
    """The NIR golden cnn_sinabs (trained weights, same op sequence: conv k5 s2 - IF - conv k3 - IF - sum pool 2 -
    conv k3 - IF - sum pool 2 - flatten - linear - IF - linear - IF) on a cropped 2 x hw x hw input.

    The convolutions keep their weights; the first linear layer keeps the columns of the (channel, row, col)
    positions that remain after the crop (its input is 8 x q x q with q = hw // 8 + ..., see below)."""
    from snnc.dialects.snn import find_graph
    from snnc.driver import load_module

    src = find_graph(load_module(path))
    ops = [o for o in src.body.ops if o.op_name in ("nn.conv2d", "nn.linear", "snn.if")]
    convs = [o for o in ops if o.op_name == "nn.conv2d"]
    lins = [o for o in ops if o.op_name == "nn.linear"]
    iff = next(o for o in ops if o.op_name == "snn.if")

    def arr(o, name):
        return np.asarray(o.get_attr(name).data, dtype=np.float32)

    def attr(a):
        return DenseElementsAttr(tensor(a.shape, f32), a)

    g, T = _G(), tensor
    if_attrs = {k: iff.get_attr(k) for k in ("beta", "cmp", "gamma", "reset", "v_reset", "v_th")}
    h1 = (hw + 2 - 5) // 2 + 1
    h2 = h1 // 2
    h3 = h2 // 2
    x = g.op("snn.input", [], T((2, hw, hw), f32), name="input", index=0)
    c1 = g.op("nn.conv2d", [x], T((16, h1, h1)), weight=attr(arr(convs[0], "weight")), padding=_a(1, 1),
              stride=_a(2, 2))
    s1 = g.op("snn.if", [c1], T((16, h1, h1), i1), **if_attrs)
    c2 = g.op("nn.conv2d", [s1], T((16, h1, h1)), weight=attr(arr(convs[1], "weight")), padding=_a(1, 1))
    s2 = g.op("snn.if", [c2], T((16, h1, h1), i1), **if_attrs)
    p2 = g.op("nn.sum_pool2d", [s2], T((16, h2, h2)), kernel_size=_a(2, 2), stride=_a(2, 2))
    c3 = g.op("nn.conv2d", [p2], T((8, h2, h2)), weight=attr(arr(convs[2], "weight")), padding=_a(1, 1))
    s3 = g.op("snn.if", [c3], T((8, h2, h2), i1), **if_attrs)
    p3 = g.op("nn.sum_pool2d", [s3], T((8, h3, h3)), kernel_size=_a(2, 2), stride=_a(2, 2))
    fl = g.op("nn.flatten", [p3], T((8 * h3 * h3,)), start_dim=0, end_dim=-1)
    w1 = arr(lins[0], "weight").reshape(256, 8, 4, 4)[:, :, :h3, :h3].reshape(256, -1)
    l1 = g.op("nn.linear", [fl], T((256,)), weight=attr(np.ascontiguousarray(w1)), bias=attr(arr(lins[0], "bias")))
    s4 = g.op("snn.if", [l1], T((256,), i1), **if_attrs)
    l2 = g.op("nn.linear", [s4], T((10,)), weight=attr(arr(lins[1], "weight")))
    s5 = g.op("snn.if", [l2], T((10,), i1), **if_attrs)
    return g.done([("output", s5), ("conv1_spikes", s1)])


def cuba_model() -> ModuleOp:
    """A CUBA LIF layer (synaptic current compartment before the membrane): quantize gives a spike.li."""
    g, T = _G(), tensor
    x = g.op("snn.input", [], T((4,), i1), name="x", index=0)
    lin = g.op("nn.linear", [x], T((3,)), weight=_w(3, 4, seed=6))
    s = g.op("snn.cuba_lif", [lin], T((3,), i1), alpha_syn=FloatAttr(0.5, f32), alpha=FloatAttr(0.75, f32))
    return g.done([("out", s)])


def ternary_model(sizes=(8, 12, 5), seed: int = 3) -> ModuleOp:
    """QT-SNN style: ternary spike input x [8] (si2) -> linear -> ternary LIF (si2 spikes, soft reset, alpha 0.875)
    -> linear -> binary LIF; outputs both layers' spikes (the hidden layer's -1 spikes reach the output layer as
    events that subtract their weights)."""
    g, T = _G(), tensor
    x = g.op("snn.input", [], T((sizes[0],), si2), name="x", index=0)
    lin = g.op("nn.linear", [x], T((sizes[1],)), weight=_w(sizes[1], sizes[0], seed=seed, scale=0.8))
    h = g.op("snn.lif", [lin], T((sizes[1],), si2), alpha=FloatAttr(0.875, f32), v_th=FloatAttr(1.0, f32),
             reset=StringAttr("soft"))
    lin2 = g.op("nn.linear", [h], T((sizes[2],)), weight=_w(sizes[2], sizes[1], seed=seed + 1, scale=0.7))
    s = g.op("snn.lif", [lin2], T((sizes[2],), i1), alpha=FloatAttr(0.875, f32), v_th=FloatAttr(1.0, f32))
    return g.done([("hidden", h), ("out", s)])
