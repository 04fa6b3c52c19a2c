"""A module that uses every nn and snn op (for the IRDL and CLI tests), built without the parser."""

from __future__ import annotations

import numpy as np

import snnc.dialects  # noqa: F401  (registers the ops)
from snnc.dialects.snn import Graph
from snnc.ir import Block, Builder, DenseArrayAttr, DenseElementsAttr, FloatAttr, ModuleOp, f32, i1, i64, tensor, verify
from snnc.ir.core import Region
from snnc.ir.opdef import make_op


def _w(*shape: int, seed: int = 0) -> DenseElementsAttr:
    arr = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return DenseElementsAttr(tensor(shape, f32), arr)


def _a(*v: int) -> DenseArrayAttr:
    return DenseArrayAttr(i64, v)


def every_op_module() -> ModuleOp:
    m = ModuleOp.empty()
    g = Graph.build("main")
    m.body.append(g)
    b = Builder.at_end(g.body)
    T = tensor

    def op(opname, operands, rtype, **attrs):
        o = b.op(opname, operands, [] if rtype is None else [rtype], attrs)
        return o.results[0] if o.results else None

    x0 = op("snn.input", [], T((2, 4, 4)), name="x0", index=0)
    x1 = op("snn.input", [], T((2, 8)), name="x1", index=1)
    c = op("nn.conv2d", [x0], T((3, 4, 4)), weight=_w(3, 2, 3, 3), padding=_a(1, 1))
    bn = op("nn.batch_norm", [c], T((3, 4, 4)), mean=_w(3, seed=1), var=DenseElementsAttr(T((3,)), np.ones(3)))
    sp = op("nn.sum_pool2d", [bn], T((3, 2, 2)), kernel_size=_a(2, 2), stride=_a(2, 2))
    ap = op("nn.avg_pool2d", [bn], T((3, 2, 2)), kernel_size=_a(2, 2), stride=_a(2, 2))
    mp = op("nn.max_pool2d", [bn], T((3, 2, 2)), kernel_size=_a(2, 2), stride=_a(2, 2))
    s = op("nn.add", [op("nn.sub", [sp, ap], T((3, 2, 2))), mp], T((3, 2, 2)))
    fl = op("nn.flatten", [s], T((12,)), start_dim=0, end_dim=-1)
    lin = op("nn.linear", [fl], T((5,)), weight=_w(5, 12, seed=2), bias=_w(5, seed=3))
    # a recurrence: h = relu(lin + delay(spk)); spk = lif(h)
    delay = b.op("snn.delay", [lin], [T((5,), i1)], {"steps": 1})
    h = op("nn.relu", [op("nn.add", [lin, delay.results[0]], T((5,)))], T((5,)))
    spk = op("snn.lif", [h], T((5,), i1), alpha=FloatAttr(0.9, f32), v_th=FloatAttr(0.5, f32))
    delay.set_operand(0, spk)
    sc = op("nn.scale", [h], T((5,)), scale=FloatAttr(0.5, f32))
    k = op("nn.constant", [], T((5,)), value=_w(5, seed=4))
    mu = op("nn.mul", [sc, k], T((5,)))
    mm = op("nn.matmul", [mu, op("nn.constant", [], T((5, 5)), value=_w(5, 5, seed=5))], T((5,)))
    rs = op("nn.reshape", [mm], T((1, 5)))
    tr = op("nn.transpose", [rs], T((5, 1)), perm=_a(1, 0))
    cat = op("nn.concat", [tr, tr], T((10, 1)), axis=0)
    sm = op("nn.sum", [cat], T((1,)), axes=_a(0), keepdim=False)
    mn = op("nn.mean", [cat], T((10,)), axes=_a(1), keepdim=False)
    c1 = op("nn.conv1d", [x1], T((3, 6)), weight=_w(3, 2, 3, seed=6))
    s_if = op("snn.if", [c1], T((3, 6), i1), v_th=FloatAttr(0.5, f32))
    s_cl = op("snn.cuba_lif", [c1], T((3, 6), i1), alpha_syn=FloatAttr(0.8, f32), alpha=FloatAttr(0.9, f32))
    v_li = op("snn.li", [mn], T((10,)), alpha=FloatAttr(0.9, f32))
    v_cli = op("snn.cuba_li", [mn], T((10,)), alpha_syn=FloatAttr(0.8, f32), alpha=FloatAttr(0.9, f32))
    v_int = op("snn.integrator", [sm], T((1,)))
    # a causal time filter over 4 steps (lower-triangular weight; the CLI test runs T = 4)
    op("snn.causal_filter", [mn], T((10,)), weight=DenseElementsAttr(T((4, 4)), np.tril(np.ones((4, 4))) / 2))
    th = op("snn.threshold", [v_li], T((10,), i1), theta=FloatAttr(0.1, f32))
    # a fuse-lif unit (snn.fused, its region ending in snn.yield): scale -> lif.  One operand type and one
    # result type: IRDL binds a variadic group to one type, so mixed-type units fail its check (docs/passes.md)
    unit = Block([T((10,))])
    sc2 = unit.append(make_op("nn.scale", [unit.args[0]], [T((10,))], {"scale": FloatAttr(2.0, f32)})).results[0]
    lf = unit.append(make_op("snn.lif", [sc2], [T((10,), i1)], {"alpha": FloatAttr(0.5, f32)})).results[0]
    unit.append(make_op("snn.yield", [lf], []))
    b.op("snn.fused", [mn], [T((10,), i1)], {"kind": "lif", "name": "lif_0"}, [Region([unit])])
    # spike-driven attention (attention-mask-add): AND, AND + popcount, masked accumulation
    s_and = op("nn.spike_and", [s_if, s_if], T((3, 6), i1))
    cnt = op("nn.and_popcount", [s_and, s_if], T((1, 6)), axes=_a(0), keepdim=True)
    op("nn.masked_accumulate", [s_and, op("nn.transpose", [cnt], T((6, 1)), perm=_a(1, 0))], T((3, 1)))
    outs = [("spk", spk), ("if", s_if), ("cuba_lif", s_cl), ("li", v_li), ("cuba_li", v_cli), ("int", v_int), ("th", th)]
    for i, (name, v) in enumerate(outs):
        op("snn.output", [v], None, name=name, index=i)
    verify(m)
    return m
