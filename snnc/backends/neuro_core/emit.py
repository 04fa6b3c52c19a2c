"""Map an integer ``spike`` graph (after ``canonicalize,quantize``) onto neuro-core cores.

Every ``spike.lif`` (binary spikes) is a layer of chip neurons.  Its input must be a *linear* function of
sources -- spikes of earlier ``spike.lif`` layers, spike graph inputs, or quantized / integer graph inputs --
built from ``spike.accumulate``, ``spike.accumulate_dense``, ``spike.accumulate_conv2d`` (expanded into its dense
[out, in] synapse matrix), ``spike.sum_pool2d`` (a synapse matrix of ones, composed into the next synapse),
layout ops (``nn.flatten``, ``nn.reshape``) and ``spike.add`` of several such terms.  The composed integer matrix
per (layer, source) is the synapse table; its nonzero entries are the synapses.

Exactness: a layer fed by one synapse op directly from its source keeps the IR's accumulator width, and the chip
adds events in increasing axon order (= increasing input index), so saturation happens as in the IR.  A composed
input (pool into conv, several terms summed) is mapped only when its worst case ``sum |w| * max|x|`` fits every
intermediate width and the accumulator, so no saturation can occur on either side and the sums are equal; otherwise
a diagnostic.  Real-valued graph inputs are quantized on the host (``spike.quantize``'s scale and width are in the
configuration) and sent as graded events (payload x adds ``x * w``).

Not mappable (a diagnostic at the op): ``spike.li`` / ``spike.requant`` / ``snn.delay`` / ``spike.max_pool2d`` /
attention ops (``spike.and``, ``spike.popcount``, ``spike.matmul``), ternary (``si2``) neurons, float ops, and
outputs that are not spikes of a LIF layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...dialects.common import int_tuple
from ...ir.diagnostics import DiagnosticError, error

LAYOUT_OPS = ("nn.flatten", "nn.reshape")
#: ops that become layers of chip neurons: spike.lif; spike.max_pool2d of binary spikes as a relay layer of OR
#: neurons (weight 1 from each window element, v_th = 1, hard reset to 0, no leak: fires iff a spike arrives);
#: spike.and as stateless AND neurons (weight 1 from each operand element, v_th = 2, the membrane cleared every step);
#: a spike.li that is not a current compartment as graded neurons (they send their membrane); a spike.dequantize of
#: a synaptic sum, and a spike.requant whose integer result feeds further synapses (a materialized sum), as graded
#: relay neurons (membrane cleared every step: they send the sum); spike.matmul of spikes (K^T V) and of spikes by
#: such a product (Q (K^T V)) as AND neurons over every product term, whose spikes the result sums; see _is_layer
LAYER_OPS = ("spike.lif", "spike.max_pool2d", "spike.and", "spike.li", "spike.dequantize", "spike.requant",
             "spike.matmul")
#: params row 17 (neuron output mode): 0 spikes, 1 multi-spike count, 2 graded (the neuron sends v' itself)
MODE_GRADED = 2
WHY = {
    "spike.requant": "the chip shifts a whole dendritic branch (axon group) once, after its synaptic sum; a shift "
                     "inside a composed synapse has no chip equivalent",
    "snn.delay": "the chip delays a whole dendritic branch (axon group); a delay inside a composed synapse has "
                 "no chip equivalent",
    "nn.constant": "a constant is only mapped as the bias of a dendritic branch (spike.add of a synaptic sum and a "
                   "constant)",
    "spike.matmul": "only products of spikes (K^T V) and of spikes by such a product (Q (K^T V)) map to AND neurons",
}
#: ops the mapping understands (anything else in the graph is a diagnostic at the op)
KNOWN_OPS = {"snn.input", "snn.output", "spike.quantize", "spike.lif", "spike.li", "spike.accumulate",
             "spike.accumulate_dense", "spike.accumulate_conv2d", "spike.sum_pool2d", "spike.add", "spike.requant",
             "snn.delay", "nn.constant", "nn.transpose", "spike.max_pool2d", "spike.and", "spike.popcount",
             "spike.dequantize", "spike.matmul", *LAYOUT_OPS}
SYNAPSE_OPS = ("spike.accumulate", "spike.accumulate_dense", "spike.accumulate_conv2d")


@dataclass
class NeuroCoreArtifact:
    out_dir: Path
    report: dict
    cores: int
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class _Source:
    key: int  # id of the defining op
    kind: str  # "layer" | "spikes" | "quantized" | "integer"
    size: int
    bound: int | np.ndarray  # max |x| (or per element, for graded relays)
    layer: int = -1  # layer index for kind "layer"
    input_index: int = -1


def _loc(op):
    return getattr(op, "location", None)


def _conv_matrix(op, in_shape, out_shape, weight, groups, stride, pads, dilation) -> np.ndarray:
    """Dense [out, in] matrix of a (grouped) cross-correlation, zero padding (vectorised index arithmetic:
    ``im2col`` of the input index map gives, per output position and kernel tap, the input element it reads)."""
    from ...interp.spike import im2col

    C, H, W = in_shape
    cout, cg, kh, kw = weight.shape
    og = cout // groups
    P = int(np.prod(out_shape[1:]))
    K = cg * kh * kw
    M = np.zeros((cout * P, C * H * W), dtype=np.int64)
    idx = (np.arange(C * H * W, dtype=np.int64) + 1).reshape(1, C, H, W)
    for g in range(groups):
        cols, _ = im2col(idx[:, g * cg:(g + 1) * cg], (kh, kw), stride, pads, dilation)  # [1, K, P], 0 = padding
        cols = np.asarray(cols[0], dtype=np.int64)
        wg = np.asarray(weight[g * og:(g + 1) * og], dtype=np.int64).reshape(og, K)
        rows = ((g * og + np.arange(og, dtype=np.int64))[:, None, None] * P
                + np.arange(P, dtype=np.int64)[None, None, :])  # [og, 1, P]
        rows = np.broadcast_to(rows, (og, K, P))
        src = np.broadcast_to(cols[None], (og, K, P))
        val = np.broadcast_to(wg[:, :, None], (og, K, P))
        ok = (src > 0) & (val != 0)
        # distinct taps of one output read distinct inputs (padding excluded), so plain assignment is exact
        M[rows[ok], src[ok] - 1] = val[ok]
    return M


def _int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer product; through float64 BLAS when every partial sum stays below 2^53 (then exact)."""
    if a.size and b.size and int(np.abs(a).max()) * int(np.abs(b).max()) * a.shape[1] < (1 << 53):
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a @ b


class _Tracer:
    def __init__(self, target):
        self.target = target
        self.sources: dict[int, _Source] = {}
        self.layers: list = []  # spike.lif ops
        self.layer_of: dict[int, int] = {}
        self.inputs: list = []  # (snn.input op, kind, quantize op or None)
        self.memo: dict[int, tuple[dict[int, np.ndarray], np.ndarray, bool]] = {}
        self.layer_bound: dict[int, int] = {}  # worst |value| a graded layer sends
        # snn.delay inside a synapse tree: the delays (in steps) of the paths to the sources met, relative to the
        # traced value (a linear tree delays uniformly iff one delay is met; see _term)
        self.leaf_delays: set[int] = set()
        self.path_delay = 0
        self.memo_rel: dict[int, set[int]] = {}

    def source_of_value(self, v):
        from ...dialects import spike as sp
        from ...ir.types import TensorType, i1

        d = v.defining_op()
        if d is None:
            raise error("neuro-core: a block argument cannot feed a synapse")
        if id(d) in self.layer_of:
            li = self.layer_of[id(d)]
            if d.op_name == "spike.matmul":  # an AND layer: the matmul's value is a sum of its spikes (see trace)
                return None
            return self._src(id(d), "layer", int(np.prod(v.type.shape)), self.layer_bound.get(li, _spike_bound(d)),
                             layer=li)
        if d.op_name == "snn.input":
            t = v.type
            assert isinstance(t, TensorType)
            if not hasattr(t.element, "width") or t.element.__class__.__name__ != "IntegerType":
                raise error(f"neuro-core cannot take the real-valued input '{d.attr('name')}' directly: it must be "
                            "quantized (spike.quantize) by the host", _loc(d))
            kind = "spikes" if t.element == i1 else "integer"
            return self._src(id(d), kind, int(np.prod(t.shape)), sp.value_bound(t), inp=(d, kind, None))
        if d.op_name == "spike.quantize":
            g = d.operands[0].defining_op()
            if g is None or g.op_name != "snn.input":
                raise error("neuro-core: spike.quantize of an inner value needs a host in the loop; only graph "
                            "inputs may be quantized", _loc(d))
            return self._src(id(d), "quantized", int(np.prod(v.type.shape)), sp.value_bound(v.type), inp=(g, "quantized", d))
        return None

    def _src(self, key, kind, size, bound, layer=-1, inp=None):
        if key not in self.sources:
            s = _Source(key, kind, size, bound, layer)
            if inp is not None:
                s.input_index = len(self.inputs)
                self.inputs.append(inp)
            self.sources[key] = s
        return self.sources[key]

    def trace(self, v):
        """(matrices {source key: [n_v, n_src]}, worst-case |value| per element, the first op that may saturate)."""

        src = self.source_of_value(v)
        n = int(np.prod(v.type.shape))
        if src is not None:
            self.leaf_delays.add(self.path_delay)
            return ({src.key: np.eye(n, dtype=np.int64)},
                    np.broadcast_to(np.asarray(src.bound, dtype=np.int64), (n,)).copy(), None)
        d = v.defining_op()
        if id(d) in self.memo:
            self.leaf_delays |= {self.path_delay + r for r in self.memo_rel[id(d)]}
            return self.memo[id(d)]
        outer_leaves, outer_pd = self.leaf_delays, self.path_delay
        self.leaf_delays, self.path_delay = set(), 0
        res = self._trace_op(v, d, n)
        rel = self.leaf_delays
        self.leaf_delays, self.path_delay = outer_leaves | {outer_pd + r for r in rel}, outer_pd
        self.memo_rel[id(d)] = rel
        self.memo[id(d)] = res
        return res

    def _trace_op(self, v, d, n):
        from ...dialects import spike as sp
        from ...dialects.common import int_tuple
        from ...dialects.nn import spatial_padding

        name = d.op_name
        if name in ("spike.accumulate", "spike.accumulate_dense", "spike.accumulate_conv2d", "spike.sum_pool2d"):
            inner, ib, idirect = self.trace(d.operands[0])  # idirect: the first op that may saturate
            if name == "spike.sum_pool2d":
                C = v.type.shape[0]
                kh, kw = int_tuple(d, "kernel_size")
                Wm = np.ones((C, 1, kh, kw), dtype=np.int64)
                W = _conv_matrix(d, tuple(d.operands[0].type.shape), tuple(v.type.shape), Wm, C,
                                 int_tuple(d, "stride"), spatial_padding(d, 2), (1, 1))
            elif name == "spike.accumulate_conv2d":
                W = _conv_matrix(d, tuple(d.operands[0].type.shape), tuple(v.type.shape),
                                 np.asarray(d.get_attr("weight").data, dtype=np.int64), int(d.attr("groups")),
                                 int_tuple(d, "stride"), spatial_padding(d, 2), int_tuple(d, "dilation"))
            else:
                W = np.asarray(d.get_attr("weight").data, dtype=np.int64)
                rows = int(np.prod(d.operands[0].type.shape[:-1]))
                if rows > 1:  # a batch of rows [..., in] -> [..., out] (token-major linear): one W per row
                    W = np.kron(np.eye(rows, dtype=np.int64), W)
            if self.source_of_value(d.operands[0]) is not None:  # inner is the identity: no product needed
                mats = {k: W for k in inner}
            else:
                mats = {k: _int_matmul(W, m) for k, m in inner.items()}
            res = (mats, np.abs(W) @ ib, idirect)
        elif name in LAYOUT_OPS:
            res = self.trace(d.operands[0])
        elif name == "snn.delay":  # delays commute with the linear ops (zero initial state); see _term
            self.path_delay += int(d.attr("steps"))
            res = self.trace(d.operands[0])
            self.path_delay -= int(d.attr("steps"))
        elif name == "spike.matmul":
            if id(d) not in self.layer_of:
                raise error("neuro-core: this spike.matmul is only mapped inside Q (K^T V) (its value is not kept)",
                            _loc(d))
            _, out_idx, n_and, _ = _matmul_spec(d)
            key = self._src(id(d), "layer", n_and, 1, layer=self.layer_of[id(d)]).key
            S = np.zeros((int(np.prod(v.type.shape)), n_and), dtype=np.int64)
            S[out_idx, np.arange(n_and)] = 1
            res = ({key: S}, S.sum(axis=1), None)
        elif name == "spike.popcount":  # a sum over axes: each output row is the sum of its input rows
            mats, ib, isat = self.trace(d.operands[0])
            shp = tuple(d.operands[0].type.shape)
            coords = np.array(np.unravel_index(np.arange(int(np.prod(shp))), shp))
            keep = [a for a in range(len(shp)) if a not in set(d.reduced_axes())]
            oshape = tuple(shp[a] for a in keep)
            dst = np.ravel_multi_index(tuple(coords[keep]), oshape) if keep else np.zeros(coords.shape[1], dtype=np.int64)
            nout = int(np.prod(v.type.shape))
            summed = {}
            for k, m in mats.items():
                acc = np.zeros((nout, m.shape[1]), dtype=np.int64)
                np.add.at(acc, dst, m)
                summed[k] = acc
            bsum = np.zeros(nout, dtype=np.int64)
            np.add.at(bsum, dst, ib)
            res = (summed, bsum, isat)
        elif name == "nn.transpose":  # a permutation of elements: rows of the composed tables move
            mats, ib, isat = self.trace(d.operands[0])
            shp = tuple(d.operands[0].type.shape)
            perm = np.transpose(np.arange(int(np.prod(shp))).reshape(shp), int_tuple(d, "perm")).reshape(-1)
            res = ({k: m[perm] for k, m in mats.items()}, ib[perm], isat)
        elif name == "spike.add":
            a, ab, asat = self.trace(d.operands[0])
            b, bb, bsat = self.trace(d.operands[1])
            mats = dict(a)
            for k, m in b.items():
                mats[k] = mats[k] + m if k in mats else m
            res = (mats, ab + bb, asat or bsat)
        else:
            why = WHY.get(name, "the chip has no such operation" if name.startswith("spike.")
                          else "a float operation (the chip is integer-only; lower with canonicalize,quantize first)")
            raise error(f"neuro-core cannot run '{name}': {why}", _loc(d))
        if name not in LAYOUT_OPS and name != "nn.transpose" and res[2] is None:
            lo, hi = sp.signed_range(sp.width(v.type))
            if res[1].size and int(res[1].max()) > hi:
                res = (res[0], res[1], d)
        return res


def _param(op, name, n, default=0):
    v = op.attr(name)
    return np.broadcast_to(np.asarray(default if v is None else v, dtype=np.int64), op.results[0].type.shape).reshape(n)



@dataclass
class _Group:
    """One dendritic branch (axon group) of a layer: a linear synapse table, then optional requant, bias, delay."""
    mats: dict[int, np.ndarray]
    lin_bound: int  # worst |linear sum|
    sat_op: object  # first op that may saturate inside a composed table, or None
    direct: bool  # one synapse op straight from its source (keeps the IR's saturation order)
    acc_ir: int  # IR width of the linear sum
    op: object = None  # the op defining the linear sum (for locations)
    delay: int = 0
    shift: int = 0
    rounding: str = "none"
    out_ir: int = 0
    bias: np.ndarray | None = None
    bias_first: bool = False  # the bias is added before the requant (at bias_ir bits)
    bias_ir: int = 0
    chip_acc: int = 0
    chip_out: int = 0
    chip_bias: int = 0
    lin_vec: np.ndarray | None = None  # worst |linear sum| per neuron

    def stage_vec(self, n: int) -> np.ndarray:
        """Worst |a| per neuron after requant and bias (as stage_bounds, element by element)."""
        b = np.minimum(np.broadcast_to(self.lin_bound if self.lin_vec is None else self.lin_vec, (n,)),
                       1 << (self.acc_ir - 1)).astype(np.int64)
        babs = np.abs(np.broadcast_to(self.bias, (n,))) if self.bias is not None else 0
        if self.bias is not None and self.bias_first:
            b = np.minimum(b + babs, 1 << (self.bias_ir - 1))
        if self.rounding != "none":
            b = b << -self.shift if self.shift < 0 else -(-b // (1 << self.shift)) + 1
            b = np.minimum(b, 1 << (self.out_ir - 1))
        if self.bias is not None and not self.bias_first:
            b = np.minimum(b + babs, 1 << (self.out_ir - 1))
        return b

    def stage_bounds(self) -> tuple[int, int]:
        """(worst |a| after the linear sum, worst |a| after requant and bias)."""
        b = min(self.lin_bound, 1 << (self.acc_ir - 1))
        lin = b
        bmax = int(np.abs(self.bias).max(initial=0)) if self.bias is not None else 0
        if self.bias is not None and self.bias_first:
            b = min(b + bmax, 1 << (self.bias_ir - 1))
        if self.rounding != "none":
            b = b << -self.shift if self.shift < 0 else -(-b // (1 << self.shift)) + 1
            b = min(b, 1 << (self.out_ir - 1))
        if self.bias is not None and not self.bias_first:
            b = min(b + bmax, 1 << (self.out_ir - 1))
        return lin, b

    def bias_bound(self) -> int:
        """Worst |a| right after a bias added first."""
        b = min(self.lin_bound, 1 << (self.acc_ir - 1))
        return min(b + int(np.abs(self.bias).max(initial=0)), 1 << (self.bias_ir - 1))


def _chip_width(ir_bits: int, worst: int, core: dict, what: str, op) -> int:
    """The IR width when the core has it (saturation then replicates exactly); else the core's accumulator width
    when the worst case cannot saturate on either side; else a diagnostic naming the resource and the excess."""
    cb = int(core["accumulator_bits"])
    if ir_bits <= cb:
        return ir_bits
    if worst <= (1 << (cb - 1)) - 1:
        return cb
    need = int(worst).bit_length() + 1
    raise error(f"neuro-core: {what} may reach {worst} in its {ir_bits}-bit sum, beyond the core's {cb}-bit "
                f"accumulator (needs {need} bits, excess {need - cb})", _loc(op))


def _through_layout(v, delays: bool = False):
    """``v`` with flatten / reshape ops (which keep the element order), and with ``delays`` snn.delay, stripped."""
    d = v.defining_op()
    while d is not None and (d.op_name in LAYOUT_OPS or (delays and d.op_name == "snn.delay")):
        v = d.operands[0]
        d = v.defining_op()
    return v


def _branch_ops(v, seen=None) -> bool:
    """Whether the linear input tree of ``v`` has a delay, requant or constant (then it splits into groups)."""
    seen = set() if seen is None else seen
    d = v.defining_op()
    if d is None or id(d) in seen or d.op_name in ("snn.input", "spike.quantize") or _is_layer(d):
        return False
    seen.add(id(d))
    if d.op_name in ("snn.delay", "spike.requant", "nn.constant"):
        return True
    return any(_branch_ops(o, seen) for o in d.operands)


def _constant(v):
    d = v.defining_op()
    if d is not None and d.op_name == "nn.constant":
        return np.asarray(d.get_attr("value").data, dtype=np.int64)
    return None


def _term(tr, v, n: int) -> _Group:
    from ...dialects import spike as sp

    d = v.defining_op()
    name = d.op_name if d is not None else ""
    if name == "snn.delay":
        gr = _term(tr, d.operands[0], n)
        gr.delay += int(d.attr("steps"))
        return gr
    if name == "spike.requant":
        gr = _term(tr, d.operands[0], n)
        if gr.delay or gr.rounding != "none":
            raise error("neuro-core: a branch is requantized after its delay or another requant; the chip "
                        "shifts the synaptic sum (plus bias) once", _loc(d))
        if gr.bias is not None:  # linear sum + bias, then requant
            gr.bias_first, gr.bias_ir = True, gr.out_ir
        gr.shift, gr.rounding, gr.out_ir = int(d.attr("shift")), str(d.attr("rounding")), sp.width(v.type)
        return gr
    if name == "spike.add":
        cl, cr = _constant(d.operands[0]), _constant(d.operands[1])
        if (cl is None) != (cr is None):
            gr = _term(tr, d.operands[1] if cl is not None else d.operands[0], n)
            if gr.delay or gr.bias is not None:
                raise error("neuro-core: a branch bias is added after the branch's delay or bias", _loc(d))
            c = cl if cl is not None else cr
            gr.bias = np.broadcast_to(c, v.type.shape).reshape(n).astype(np.int64)
            gr.out_ir = sp.width(v.type)
            return gr
    tr.leaf_delays = set()
    mats, bound, sat_op = tr.trace(v)
    if len(tr.leaf_delays) > 1:
        raise error(f"neuro-core: a synaptic sum mixes paths delayed by {sorted(tr.leaf_delays)} steps; the chip delays "
                    "a whole branch (split it with spike.add)", _loc(d))
    direct = (d is not None and name in SYNAPSE_OPS
              and tr.source_of_value(_through_layout(d.operands[0], delays=True)) is not None)
    w = sp.width(v.type)
    return _Group(mats, int(bound.max(initial=0)), sat_op, direct, w, d, out_ir=w, lin_vec=bound,
                  delay=next(iter(tr.leaf_delays), 0))


def _splits(v) -> bool:
    """Whether ``v`` is a spike.add that _terms splits into several branches."""
    d = v.defining_op()
    if d is None or d.op_name != "spike.add":
        return False
    cl, cr = _constant(d.operands[0]), _constant(d.operands[1])
    if cl is None and cr is None:  # every sum of two terms is split into branches (exact: see _layer_groups)
        return True
    if (cl is None) != (cr is None):
        return _splits(d.operands[1] if cl is not None else d.operands[0])
    return False


def _terms(tr, v, n: int, out: list, add_widths: list, left_deep: list) -> None:
    """Split a neuron input into branches, in the order the chip adds them (left to right); ``left_deep`` gets
    False when an addition's right operand is itself a sum of branches (the chip's order then differs)."""
    from ...dialects import spike as sp

    d = v.defining_op()
    if d is not None and d.op_name == "spike.add" and _splits(v):
        lhs, rhs = d.operands
        cl, cr = _constant(lhs), _constant(rhs)
        add_widths.append(sp.width(v.type))
        if cl is None and cr is None:
            if _splits(rhs):
                left_deep.append(False)
            _terms(tr, lhs, n, out, add_widths, left_deep)
            _terms(tr, rhs, n, out, add_widths, left_deep)
        else:  # a sum of branches plus a constant: the constant is a branch of its own (no axons, a bias)
            _terms(tr, rhs if cl is not None else lhs, n, out, add_widths, left_deep)
            c = cl if cl is not None else cr
            w = sp.width(v.type)
            out.append(_Group({}, 0, None, True, w, d, out_ir=w,
                              bias=np.broadcast_to(c, v.type.shape).reshape(n).astype(np.int64)))
    else:
        out.append(_term(tr, v, n))


def _layer_groups(tr, x, core, li: int, lop) -> tuple[list[_Group], int]:
    """The axon groups feeding neuron input ``x`` of layer ``li`` and the width they are added in on the chip."""
    from ...dialects import spike as sp

    n = int(np.prod(x.type.shape))
    add_widths: list[int] = []
    left_deep: list[bool] = []
    groups: list[_Group] = []
    if _branch_ops(x) or _splits(x):
        _terms(tr, x, n, groups, add_widths, left_deep)
    else:
        groups.append(_term(tr, x, n))
    total = 0
    for gr in groups:
        if gr.sat_op is not None and not gr.direct:
            raise error(f"neuro-core: '{gr.sat_op.op_name}' may saturate (its worst case exceeds its width) inside a "
                        "composed synapse; the chip sums it in one accumulator, so the result could differ from the "
                        "IR's saturation order", _loc(gr.sat_op))
        if gr.delay == 0:
            for k in gr.mats:
                src = tr.sources[k]
                if src.kind == "layer" and src.layer >= li:
                    raise error("neuro-core: a layer feeds itself or an earlier layer without a delay",
                                _loc(tr.layers[li]))
        lin, fin = gr.stage_bounds()
        gr.chip_acc = _chip_width(gr.acc_ir, lin, core, f"layer {li}'s synaptic sum", gr.op or lop)
        if gr.bias_first:
            gr.chip_bias = _chip_width(gr.bias_ir, gr.bias_bound(), core, f"layer {li}'s branch plus bias",
                                       gr.op or lop)
        gr.chip_out = (_chip_width(gr.out_ir, fin, core, f"layer {li}'s branch after requant/bias", gr.op or lop)
                       if (gr.rounding != "none" or gr.bias is not None) else gr.chip_acc)
        total += fin
    A_ir = sp.width(x.type)
    if len(groups) == 1:
        return groups, groups[0].chip_out
    A = _chip_width(A_ir, total, core, f"layer {li}'s input (sum of {len(groups)} branches)", lop)
    # the chip folds x = sat_A(x + a_g) left to right: the IR's saturating additions give the same result when
    # none can saturate, or when the sum is left-deep with every addition at the width A
    fits = total <= (1 << (min(add_widths, default=A) - 1)) - 1
    if len(groups) > 2 and not fits and not (all(left_deep or [True]) and set(add_widths) == {A}):
        raise error(f"neuro-core: {len(groups)} branches of layer {li} may saturate in their sums (worst {total}) "
                    "in an order the chip's left-to-right addition does not follow", _loc(lop))
    return groups, A


def _undelayed(tr, v, op):
    tr.leaf_delays = set()
    res = tr.trace(v)
    if tr.leaf_delays - {0}:
        raise error(f"neuro-core: {op.op_name} of delayed spikes is not mapped (relay neurons have no delay)", _loc(op))
    return res


def _pool_group(tr, op, li: int) -> _Group:
    """The synapse table of a max-pool relay layer: weight 1 from each (unpadded) window element."""
    from ...dialects.common import int_tuple
    from ...dialects.nn import spatial_padding

    mats, ib, isat = _undelayed(tr, op.operands[0], op)
    if isat is not None or int(ib.max(initial=0)) > 1:
        raise error("neuro-core: spike.max_pool2d is mapped as OR neurons on binary spikes only", _loc(op))
    C = op.results[0].type.shape[0]
    kh, kw = int_tuple(op, "kernel_size")
    W = _conv_matrix(op, tuple(op.operands[0].type.shape), tuple(op.results[0].type.shape),
                     np.ones((C, 1, kh, kw), dtype=np.int64), C, int_tuple(op, "stride"), spatial_padding(op, 2), (1, 1))
    direct = tr.source_of_value(op.operands[0]) is not None
    comp = {k: (W if direct else _int_matmul(W, m)) for k, m in mats.items()}
    bits = max(int(kh * kw).bit_length() + 1, 2)
    return _Group(comp, kh * kw, None, True, bits, op, out_ir=bits, chip_acc=bits, chip_out=bits)


def _pack(pm, cores: list, core: dict) -> int:
    """Share physical cores between small pieces (of any layers): a piece alone on its core moves onto the core of
    the piece it exchanges the most traffic with, when the neurons, input axons and synapse memory (dense table
    bits) of everything on that core still fit.  Pieces keep their own tables (logical cores; they run in the
    recorded order within a step); ``pm.core_of`` is updated.  Returns the number of pieces moved."""
    P = len(cores)
    wbits = int(core["weight_bits"])
    need = [(int(w.shape[1]), int(w.shape[0]), int(w.shape[0]) * int(w.shape[1]) * wbits) for w, _ in cores]
    cap = (int(core["neurons"]), int(core["fan_in"]), int(core["synapse_memory_bits"]))
    on: dict[int, list[int]] = {}
    for p in range(P):
        on.setdefault(int(pm.core_of[p]), []).append(p)
    partners: dict[int, dict[int, float]] = {p: {} for p in range(P)}
    for (a, b), w in pm.traffic.items():
        if a != b:
            partners[int(a)][int(b)] = partners[int(a)].get(int(b), 0.0) + float(w)
            partners[int(b)][int(a)] = partners[int(b)].get(int(a), 0.0) + float(w)
    moved = 0
    for p in sorted(range(P), key=lambda q: (need[q][0], q)):
        c0 = int(pm.core_of[p])
        if len(on[c0]) > 1:
            continue
        for q, _w in sorted(partners[p].items(), key=lambda kv: (-kv[1], kv[0])):
            c = int(pm.core_of[q])
            if c == c0:
                continue
            tot = [sum(need[r][k] for r in on[c]) + need[p][k] for k in range(3)]
            if all(t <= m for t, m in zip(tot, cap, strict=True)):
                on[c0].remove(p)
                on[c].append(p)
                pm.core_of[p] = c
                moved += 1
                break
    return moved


def _is_layer(op) -> bool:
    """Whether ``op`` becomes a layer of chip neurons (see LAYER_OPS)."""
    if op.op_name in ("spike.lif", "spike.max_pool2d", "spike.and"):
        return True
    if op.op_name == "spike.li":  # a current compartment when it feeds spike.lif neurons
        return not any(u.op_name == "spike.lif" for u in op.results[0].users)
    if op.op_name == "spike.requant":  # a materialized sum: its integer value feeds further synapses
        return any(_feeds_synapse(u) for u in op.results[0].users)
    if op.op_name == "spike.matmul":  # an AND layer unless it is the inner K^T V of Q (K^T V) and nothing else
        if op.operands[0].type.element != i1_type():
            return False
        return not op.results[0].users or any(not (u.op_name == "spike.matmul" and u.operands[1] is op.results[0])
                                              for u in op.results[0].users)
    if op.op_name == "spike.dequantize":  # a relay unless it reads a layer's values directly
        v = op.operands[0]
        d = v.defining_op()
        while d is not None and d.op_name in LAYOUT_OPS:
            d = d.operands[0].defining_op()
        return d is None or not _is_layer(d) or d.op_name == "spike.matmul"  # AND neurons are not the values
    return False


def i1_type():
    from ...ir.types import i1

    return i1


def _feeds_synapse(u) -> bool:
    if u.op_name in LAYOUT_OPS or u.op_name == "nn.transpose":
        return any(_feeds_synapse(w) for w in u.results[0].users)
    return u.op_name in (*SYNAPSE_OPS, "spike.sum_pool2d", "spike.popcount", "spike.matmul", "spike.and")


def _matmul_spec(op):
    """AND neurons of a spike.matmul: ([(operand value, operand element per neuron)], output element per neuron,
    neurons, threshold).  ``a @ b`` (spikes x spikes): a neuron per (batch, n, k, m), inputs a[n, k] and b[k, m];
    ``a @ (b @ c)``: a neuron per (batch, n, k, l, m), inputs a[n, k], b[k, l], c[l, m]; the result element
    (batch, n, m) sums its neurons' spikes."""
    a, r = op.operands
    d = r.defining_op()
    i1 = i1_type()
    if a.type.element != i1:
        raise error("neuro-core: spike.matmul needs spikes on the left to map to AND neurons", _loc(op))
    if r.type.element == i1:
        facs = [a, r]
    elif d is not None and d.op_name == "spike.matmul" and all(x.type.element == i1 for x in d.operands):
        facs = [a, *d.operands]
    else:
        raise error("neuro-core cannot run 'spike.matmul' of spikes by an integer that is not a product of spikes: "
                    "only K^T V and Q (K^T V) map to AND neurons", _loc(op))
    shapes = [tuple(x.type.shape) for x in facs]
    batch = shapes[0][:-2]
    if any(sh[:-2] != batch for sh in shapes):
        raise error("neuro-core: spike.matmul with broadcast batch axes is not mapped", _loc(op))
    B = int(np.prod(batch))
    dims = [shapes[0][-2]] + [sh[-1] for sh in shapes]  # N, K, (L,) M
    grid = np.indices((B, *dims)).reshape(len(dims) + 1, -1)
    bi = grid[0]
    idx = [((bi * shapes[j][-2] + grid[1 + j]) * shapes[j][-1] + grid[2 + j]) for j in range(len(facs))]
    N, M = dims[0], dims[-1]
    out_idx = (bi * N + grid[1]) * M + grid[-1]
    return list(zip(facs, idx, strict=True)), out_idx, grid.shape[1], len(facs)


def _matmul_group(tr, op, li: int) -> _Group:
    facs, _, n_and, thr = _matmul_spec(op)
    comp: dict[int, np.ndarray] = {}
    for x, idx in facs:
        mats, ib, isat = _undelayed(tr, x, op)
        if isat is not None or int(ib.max(initial=0)) > 1 or any(
                (m < 0).any() or (m.sum(axis=1) > 1).any() for m in mats.values()):
            raise error("neuro-core: spike.matmul is mapped as AND neurons on binary spikes only", _loc(op))
        for k, m in mats.items():
            comp[k] = comp[k] + m[idx] if k in comp else m[idx]
    return _Group(comp, thr, None, True, 4, op, out_ir=4, chip_acc=4, chip_out=4)


def _layer_n(op) -> int:
    return _matmul_spec(op)[2] if op.op_name == "spike.matmul" else int(np.prod(op.results[0].type.shape))


def _and_group(tr, op, li: int) -> _Group:
    """AND neurons: weight 1 from the (broadcast) element of each operand; both operands binary spikes."""
    shape = tuple(op.results[0].type.shape)
    n = int(np.prod(shape))
    comp: dict[int, np.ndarray] = {}
    for x in op.operands:
        mats, ib, isat = _undelayed(tr, x, op)
        xs = tuple(x.type.shape)
        if isat is not None or int(ib.max(initial=0)) > 1 or any(
                (m < 0).any() or (m.sum(axis=1) > 1).any() for m in mats.values()):
            raise error("neuro-core: spike.and is mapped as AND neurons on binary spikes only", _loc(op))
        idx = np.broadcast_to(np.arange(int(np.prod(xs))).reshape((1,) * (len(shape) - len(xs)) + xs), shape).reshape(n)
        for k, m in mats.items():
            comp[k] = comp[k] + m[idx] if k in comp else m[idx]
    return _Group(comp, 2, None, True, 4, op, out_ir=4, chip_acc=4, chip_out=4)


def _is_multi(op) -> bool:
    return op.op_name == "spike.lif" and op.get_attr("spike_fn") is not None and op.attr("spike_fn") == "multi"


def _spike_bound(op) -> int:
    """Largest |spike| a layer sends: 1, or a multi-spike neuron's count cap ``min(max_spikes, 2^(W-1) - 1)``."""
    from ...dialects import spike as sp

    if op.op_name in ("spike.li", "spike.dequantize"):  # graded neurons send a value of their result width
        return 1 << (sp.width(op.results[0].type if op.op_name == "spike.li" else op.operands[0].type) - 1)
    if not _is_multi(op):
        return 1
    cap = sp.signed_range(sp.width(op.results[0].type))[1]
    m = op.attr("max_spikes")
    return cap if m is None else min(int(m), cap)


def _mode(op, attr: str, allowed, li: int) -> str:
    mode = str(op.attr(attr))
    if mode not in allowed:
        raise error(f"neuro-core cannot run {attr.replace('_', ' ')} '{mode}' in layer {li} (the core has "
                    f"{', '.join(allowed)})", _loc(op))
    return mode


def _neuron_params(op, p: np.ndarray, _s: int, n: int, core: dict, li: int) -> None:
    """Rows 0 (v_th), 2 (bias), 3 (leak shift), 6-8 (mul leak) of a spike.lif / spike.li."""
    if op.op_name == "spike.lif":
        p[0] = _param(op, "v_th", n)
    p[2] = _param(op, "bias", n)
    mode = _mode(op, "leak_mode", core["leak_modes"], li)
    if mode == "shift":
        p[3] = _param(op, "leak_shift", n)
    elif mode == "mul":
        p[6] = 1
        p[7] = _param(op, "decay", n)
        p[8] = int(op.attr("frac_bits"))


def emit(module, target="neuro-core", out_dir=".", *, inputs: dict[str, np.ndarray] | None = None,
         seed: int = 0, pack: bool = True) -> NeuroCoreArtifact:
    """Write the configuration and ``report.json`` for ``module`` (integer spike IR) into ``out_dir``.

    ``inputs`` (named graph inputs [T, *shape], e.g. the calibration data): the report's energy comes from a
    simulated run on them; otherwise from expected activity (every neuron updated each step, 10 % firing)."""
    from ...dialects import spike as sp
    from ...dialects.snn import find_graph
    from ...ir.types import i1, si2
    from ...passes.place import Layer, LayerGraph, place
    from ...sim import DEFAULT_CYCLES, PARAM_ROWS, PARAM_ROWS_MULTI, write_config
    from ...targets import load_target

    tgt = load_target(target) if isinstance(target, str) else target
    if tgt.kind != "neuro-core":
        raise error(f"target '{tgt.name}' is not a neuro-core target (kind '{tgt.kind}')")
    core = tgt["core"]
    wmax = (1 << (core["weight_bits"] - 1)) - 1
    out = Path(out_dir)
    g = find_graph(module)
    tr = _Tracer(tgt)
    for op in g.body.ops:  # register every layer first: delayed (recurrent) synapses refer forward
        if not _is_layer(op):
            continue
        if _is_multi(op):
            if int(np.min(_param(op, "v_th", 1 if not op.results[0].type.shape else
                                 int(np.prod(op.results[0].type.shape))))) < 1:
                raise error("neuro-core: a multi-spike spike.lif needs v_th >= 1 (the count divides by it)", _loc(op))
        elif op.op_name == "spike.lif" and op.results[0].type.element not in (i1, si2):
            raise error("neuro-core: spike.lif result must be i1 or si2 spikes", _loc(op))
        if op.results[0].type.element == si2 and not core.get("ternary", False):
            raise error(f"neuro-core: target '{tgt.name}' has no ternary neurons (core.ternary = false); this "
                        "spike.lif fires si2 spikes", _loc(op))
        tr.layer_of[id(op)] = len(tr.layers)
        tr.layers.append(op)
    if not tr.layers:
        raise error("neuro-core: the graph has no spike.lif layer to map")
    for op in g.body.ops:  # every other op must feed a layer or be a layout op / boundary op the tracer knows
        if op.op_name not in KNOWN_OPS:
            why = WHY.get(op.op_name, "the chip has no such operation" if op.op_name.startswith("spike.")
                          else "a float operation (the chip is integer-only; lower with canonicalize,quantize first)")
            raise error(f"neuro-core cannot run '{op.op_name}': {why}", _loc(op))
    layer_in: list[list[_Group]] = []
    currents: list = []  # per layer: the spike.li current compartment or None
    combine: list[int] = []  # per layer: the chip width its branches are added in
    input_requant: dict[int, dict] = {}  # per relay layer: a requant of its summed branches
    for op in tr.layers:
        x = op.operands[0]
        d = x.defining_op()
        li = None
        if op.op_name in ("spike.max_pool2d", "spike.and", "spike.matmul"):
            groups = [{"spike.max_pool2d": _pool_group, "spike.and": _and_group,
                       "spike.matmul": _matmul_group}[op.op_name](tr, op, len(layer_in))]
            currents.append(None)
            layer_in.append(groups)
            combine.append(groups[0].chip_acc)
            continue
        if op.op_name in ("spike.li", "spike.dequantize", "spike.requant"):  # graded neurons
            currents.append(None)
            # a requant relay's input is its own (requantized) branch, or a sum of branches requantized once;
            # the others read their operand
            if op.op_name == "spike.requant" and _splits(x):  # a requantized sum of branches
                groups, A = _layer_groups(tr, x, core, len(layer_in), op)
                from ...dialects import spike as sp

                rb = sp.width(op.results[0].type)
                sh = int(op.attr("shift"))
                tot = min(sum(gr.stage_bounds()[1] for gr in groups), 1 << (A - 1))
                rq_bound = min(tot << -sh if sh < 0 else -(-tot // (1 << sh)) + 1, 1 << (rb - 1))
                input_requant[len(layer_in)] = {"shift": sh, "rounding": str(op.attr("rounding")),
                                                "bits": _chip_width(rb, rq_bound, core, "a requantized sum", op)}
            else:
                groups, A = _layer_groups(tr, op.results[0] if op.op_name == "spike.requant" else x, core,
                                          len(layer_in), op)
            if op.op_name != "spike.li":  # the worst |value| each relay neuron sends (per neuron)
                nn_ = _layer_n(op)
                vec = np.minimum(sum(gr.stage_vec(nn_) for gr in groups), 1 << (A - 1))
                if len(layer_in) in input_requant:
                    irq = input_requant[len(layer_in)]
                    sh = irq["shift"]
                    vec = np.minimum(vec << -sh if sh < 0 else -(-vec // (1 << sh)) + 1, rq_bound)
                tr.layer_bound[len(layer_in)] = vec
            layer_in.append(groups)
            combine.append(A)
            continue
        if d is not None and d.op_name == "spike.li":
            li = d
            others = [u for u in d.results[0].users if u is not op]
            if others:
                raise error("neuro-core: a spike.li that feeds a spike.lif is the neuron's current compartment; its "
                            f"value cannot also feed '{others[0].op_name}'", _loc(d))
            x = d.operands[0]
        currents.append(li)
        groups, A = _layer_groups(tr, x, core, len(layer_in), op)
        layer_in.append(groups)
        combine.append(A)
    # outputs
    out_specs = []
    for o in g.outputs():
        v = o.operands[0]
        d = v.defining_op()
        scale = None
        while d is not None and (d.op_name in LAYOUT_OPS or (d.op_name == "spike.dequantize" and id(d) not in tr.layer_of)):
            if d.op_name == "spike.dequantize":
                from ...dialects.common import param_array

                scale = np.broadcast_to(param_array(d, "scale", np.float64), d.results[0].type.shape)
            v = d.operands[0]
            d = v.defining_op()
        if d is not None and d.op_name == "spike.dequantize":
            from ...dialects.common import param_array

            scale = np.broadcast_to(param_array(d, "scale", np.float64), d.results[0].type.shape)
        if d is None or id(d) not in tr.layer_of or d.op_name == "spike.matmul":
            nm = d.op_name if d is not None else "a block argument"
            raise error(f"neuro-core cannot produce graph output '{o.attr('name')}' from '{nm}': chip outputs are "
                        "the spikes or graded values of a layer of neurons", _loc(o))
        out_specs.append((str(o.attr("name")), list(o.operands[0].type.shape), tr.layer_of[id(d)], scale,
                          str(o.attr("readout") or "none")))
    layers, widths, params, core_groups = [], [], [], []
    for li, (op, groups, cur) in enumerate(zip(tr.layers, layer_in, currents, strict=True)):
        n = _layer_n(op)
        for gr in groups:
            for m in gr.mats.values():
                if m.size and int(np.abs(m).max()) > wmax:
                    raise error(f"neuro-core: layer {li} ('spike.lif') has a synaptic weight {int(np.abs(m).max())} "
                                f"beyond the core's {core['weight_bits']}-bit weights (excess "
                                f"{int(np.abs(m).max()) - wmax})", _loc(op))
        if op.op_name in ("spike.and", "spike.dequantize", "spike.li", "spike.requant", "spike.matmul"):
            A = combine[li]
            p = np.zeros((PARAM_ROWS_MULTI, n), dtype=np.int64)
            if op.op_name == "spike.li":  # graded membrane readout: the spike.li's own leak and bias
                N = int(op.attr("membrane_bits"))
                if N > core["membrane_bits"]:
                    raise error(f"neuro-core: layer {li} needs {N}-bit membranes, the core has "
                                f"{core['membrane_bits']} (excess {N - core['membrane_bits']} bits)", _loc(op))
                _neuron_params(op, p, 0, n, core, li)
            else:  # the membrane is cleared every step (mul leak with decay 0): v' = sat_N(input)
                N = A
                p[6], p[7], p[8] = 1, 0, 1
            if op.op_name in ("spike.and", "spike.matmul"):
                p = p[:PARAM_ROWS]
                p[0] = layer_in[li][0].lin_bound  # fires iff every input spikes (2 or 3 inputs)
            else:
                p[17] = MODE_GRADED
            params.append(p)
            widths.append((N, A))
            allm = [m for gr in layer_in[li] for m in gr.mats.values()]
            fan = max((int(np.count_nonzero(np.hstack(allm), axis=1).max(initial=0)) if allm else 0), 1)
            layers.append(Layer(f"{op.op_name}#{li}", n, fan))
            continue
        if op.op_name == "spike.max_pool2d":  # OR relay neurons
            A = combine[li]
            p = np.zeros((PARAM_ROWS, n), dtype=np.int64)
            p[0], p[4] = 1, 1  # v_th 1 (ge), hard reset to 0, no leak
            params.append(p)
            widths.append((A, A))
            layers.append(Layer(f"spike.max_pool2d#{li}", n, int(np.prod(int_tuple(op, "kernel_size")))))
            continue
        N = int(op.attr("membrane_bits"))
        if N > core["membrane_bits"]:
            raise error(f"neuro-core: layer {li} needs {N}-bit membranes, the core has {core['membrane_bits']} "
                        f"(excess {N - core['membrane_bits']} bits)", _loc(op))
        A = combine[li]
        p = np.zeros((PARAM_ROWS, n), dtype=np.int64)
        _neuron_params(op, p, 0, n, core, li)
        p[1] = _param(op, "v_reset", n)
        p[4] = {"none": 0, "hard": 1, "soft": 2}[_mode(op, "reset", core["reset_modes"], li)]
        p[5] = 1 if op.attr("cmp") == "gt" else 0
        p[9] = 1 if op.results[0].type.element == si2 else 0
        if _is_multi(op):  # graded spike counts (rows 17, 18)
            p = np.concatenate([p, np.zeros((PARAM_ROWS_MULTI - PARAM_ROWS, n), dtype=np.int64)])
            p[17], p[18] = 1, _spike_bound(op)
            if op.get_attr("v_min") is not None:
                p[19], p[20] = 1, _param(op, "v_min", n)
        if cur is not None:
            Ni = int(cur.attr("membrane_bits"))
            if Ni > core["membrane_bits"]:
                raise error(f"neuro-core: layer {li}'s current compartment needs {Ni} bits, the core has "
                            f"{core['membrane_bits']} (excess {Ni - core['membrane_bits']} bits)", _loc(cur))
            q = np.zeros((PARAM_ROWS, n), dtype=np.int64)
            _neuron_params(cur, q, 0, n, core, li)
            p[10], p[11], p[12], p[13], p[14], p[15], p[16] = 1, Ni, q[2], q[6], q[3], q[7], q[8]
        params.append(p)
        widths.append((N, A))
        core_groups.append(groups)
        allm = [m for gr in groups for m in gr.mats.values()]
        fan = max((int(np.count_nonzero(np.hstack(allm), axis=1).max(initial=0)) if allm else 0), 1)
        layers.append(Layer(f"spike.lif#{li}", n, fan))
    edges = sorted({(tr.sources[k].layer, li) for li, groups in enumerate(layer_in) for gr in groups
                    for k in gr.mats if tr.sources[k].kind == "layer"})
    graph = LayerGraph(layers, edges)
    try:
        pm = place(graph, tgt)
    except DiagnosticError as exc:  # locate the placement diagnostic at the layer it names
        import re

        msg = exc.diagnostics[0].message
        hit = re.search(r"#(\d+)'", msg)
        where_op = tr.layers[int(hit.group(1))] if hit else tr.layers[0]
        raise error(f"neuro-core: {msg}", _loc(where_op)) from None
    cols = tgt["mesh"]["cols"]
    # cores in (layer, piece) order: that is the per-step order (topological)
    n_pieces = len(pm.piece_layer)
    piece_core = list(range(n_pieces))
    where: list[np.ndarray] = []  # per layer: [neurons, 2] = (core id, local neuron)
    for li, layer in enumerate(layers):
        w = np.zeros((layer.neurons, 2), dtype=np.int64)
        for p in np.nonzero(pm.piece_layer == li)[0]:
            s, z = int(pm.piece_start[p]), int(pm.piece_size[p])
            w[s:s + z, 0] = piece_core[p]
            w[s:s + z, 1] = np.arange(z)
        where.append(w)
    cores, routes, in_routes = [], [], {k: [] for k in range(len(tr.inputs))}
    core_extra: list[dict] = []
    group_files: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
    synapses = 0
    src_keys = sorted(tr.sources, key=lambda k: (tr.sources[k].kind != "layer", tr.sources[k].layer,
                                                 tr.sources[k].input_index))
    for p in range(n_pieces):
        li = int(pm.piece_layer[p])
        s, z = int(pm.piece_start[p]), int(pm.piece_size[p])
        blocks, axon, axon_group = [], 0, []
        for gi, gr in enumerate(layer_in[li]):
            for k in src_keys:
                if k not in gr.mats:
                    continue
                m = gr.mats[k][s:s + z]
                used = np.nonzero(np.any(m != 0, axis=0))[0]
                if len(used) == 0:
                    continue
                blocks.append(m[:, used].T)
                axon_group.extend([gi] * len(used))
                src = tr.sources[k]
                for a, j in enumerate(used.tolist()):
                    if src.kind == "layer":
                        sc, sn = where[src.layer][j]
                        routes.append((int(sc), int(sn), p, axon + a))
                    else:
                        in_routes[src.input_index].append((j, p, axon + a))
                axon += len(used)
        if axon > core["fan_in"]:
            raise error(f"neuro-core: a piece of layer '{layers[li].name}' needs {axon} input axons, the core has "
                        f"{core['fan_in']} (excess {axon - core['fan_in']})", _loc(tr.layers[li]))
        wt = np.vstack(blocks) if blocks else np.zeros((0, z), dtype=np.int64)
        synapses += int(np.count_nonzero(wt))
        cores.append((wt, params[li][:, s:s + z]))
        groups = layer_in[li]
        if li in input_requant:
            extra_rq = {"input_requant": input_requant[li]}
        else:
            extra_rq = {}
        if len(groups) > 1 or groups[0].delay or groups[0].rounding != "none" or groups[0].bias is not None:
            entry = {"groups": [{"delay": gr.delay, "acc_bits": gr.chip_acc, "shift": gr.shift,
                                 "rounding": gr.rounding, "out_bits": gr.chip_out} for gr in groups]}
            if any(gr.bias_first for gr in groups):
                entry["group_bias_first"] = [gr.bias_first for gr in groups]
                for gd, gr in zip(entry["groups"], groups, strict=True):
                    if gr.bias_first:
                        gd["bias_bits"] = gr.chip_bias
            group_files[p] = (np.asarray(axon_group, dtype=np.int64), None)
            if any(gr.bias is not None for gr in groups):
                entry["group_bias"] = True
                gb = np.zeros((len(groups), z), dtype=np.int64)
                for gi, gr in enumerate(groups):
                    if gr.bias is not None:
                        gb[gi] = gr.bias[s:s + z]
                group_files[p] = (group_files[p][0], gb)
            core_extra.append({**entry, **extra_rq})
        else:
            core_extra.append(extra_rq)
    routes.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    shared = _pack(pm, cores, core) if pack else 0
    positions = [divmod(int(pm.core_of[p]), cols) for p in range(n_pieces)]
    out.mkdir(parents=True, exist_ok=True)
    from ...dialects.common import param_array

    in_specs = []
    for k, (iop, kind, q) in enumerate(tr.inputs):
        shape = list(iop.results[0].type.shape)
        spec = {"name": str(iop.attr("name")), "shape": shape, "kind": kind, "routes": f"input{k}_routes.npy"}
        if q is not None:
            spec["bits"] = sp.width(q.results[0].type)
            np.save(out / f"input{k}_scale.npy", np.broadcast_to(param_array(q, "scale", np.float64), shape).copy())
        np.save(out / f"input{k}_routes.npy", np.asarray(in_routes[k], dtype=np.int64).reshape(-1, 3))
        in_specs.append(spec)
    for k, iop in enumerate(g.inputs()):
        if not any(s["name"] == str(iop.attr("name")) for s in in_specs):  # an unused input: nothing to route
            np.save(out / f"input_unused{k}_routes.npy", np.zeros((0, 3), dtype=np.int64))
            in_specs.append({"name": str(iop.attr("name")), "shape": list(iop.results[0].type.shape),
                             "kind": "spikes", "routes": f"input_unused{k}_routes.npy"})
    o_specs = []
    for k, (name, shape, li, scale, readout) in enumerate(out_specs):
        np.save(out / f"output{k}_neurons.npy", where[li])
        o_specs.append({"name": name, "shape": shape, "neurons": f"output{k}_neurons.npy"})
        if readout != "none":
            o_specs[-1]["readout"] = readout
        if scale is not None:  # a real-valued output: the host multiplies the graded integer by the scale
            np.save(out / f"output{k}_scale.npy", np.asarray(scale, dtype=np.float64).reshape(shape))
            o_specs[-1]["scale"] = f"output{k}_scale.npy"
    energy = dict(tgt["energy"])
    write_config(out, cores, routes, list(range(n_pieces)), weight_bits=core["weight_bits"],
                 membrane_bits=core["membrane_bits"], accumulator_bits=core["accumulator_bits"],
                 mesh=(tgt["mesh"]["rows"], cols), positions=positions, core_widths=[widths[int(pm.piece_layer[p])]
                                                                                     for p in range(n_pieces)],
                 extra={"energy": energy, "inputs": in_specs, "outputs": o_specs, "target": tgt.name,
                        "cycles": dict(DEFAULT_CYCLES),
                        **({"physical_cores": int(len(np.unique(pm.core_of)))} if shared else {})},
                 core_extra=core_extra)
    for pc, (ag, gb) in group_files.items():
        np.save(out / f"core{pc}_axon_group.npy", ag)
        if gb is not None:
            np.save(out / f"core{pc}_group_bias.npy", gb)
    rep = pm.report(graph)
    rep["synapses"] = synapses
    rep["routes"] = len(routes)
    if inputs is not None:
        from ...sim import run_config

        _, res = run_config(out, inputs)
        rep.update({"energy_pj": float(res.energy_pj or 0.0), "energy_basis": f"simulated run of {res.steps} steps "
                    "on the given inputs", "sim_steps": res.steps, "synaptic_ops": res.synaptic_ops,
                    "packets": res.packets, "hops": res.hops})
    else:
        rate = 0.1
        syn_per_step = rate * synapses
        packets = rate * len({(r[0], r[1], r[2]) for r in routes})
        hop_sum = rate * sum(abs(positions[r[0]][0] - positions[r[2]][0]) + abs(positions[r[0]][1] - positions[r[2]][1])
                             for r in {(r[0], r[1], r[2]) for r in routes})
        e = (syn_per_step * energy["synaptic_op_pj"] + graph.neurons * energy["neuron_update_pj"]
             + packets * energy["packet_pj"] + hop_sum * energy["hop_pj"])
        rep.update({"energy_pj": float(e), "energy_basis": "expected per time step: every neuron updated, "
                    f"{int(rate * 100)} % of neurons firing (no inputs given)"})
    (out / "report.json").write_text(json.dumps(rep, indent=1, sort_keys=True) + "\n")
    return NeuroCoreArtifact(out, rep, n_pieces, {"config": out / "config.json", "report": out / "report.json"})
