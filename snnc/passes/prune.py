"""``prune``: structured (channels / neurons) and unstructured (weights) pruning of float graphs.

    pm = PassManager([Prune(ratio=0.5, criterion="svs", calibration=x)])   # x: [T, (B,) *shape]
    pm.run(module)
    print(pm.passes[0].report.summary())      # parameters, synapses, energy before and after

Options: ``ratio`` (fraction of channels / weights to remove, 0 <= ratio < 1; 0 changes
nothing), ``criterion`` (``l1``, ``l2``: norm of a channel's weights; ``svs``: QP-SNN's
score, the number of singular values > 1e-6 of the channel's time-averaged spike map,
averaged over the calibration batch; ``dead``: channels that never fire on the calibration
inputs, at most ``ratio`` of a layer), ``scope`` (``layer``: ``ratio`` of every layer;
``global``: ``ratio`` of all candidate channels ranked together, l1/l2 scores divided by
the fan-in so layers compare), ``structured`` (true: remove channels; false: zero the
smallest-magnitude weights of every nn.linear / nn.conv2d, per layer or globally).

Structured pruning works on channel classes: the values that share one channel index space.
A class is a synapse's result (``nn.linear``: last axis, also over tokens ``[N, C]``;
``nn.conv1d/2d`` with groups = 1: first axis) with every op computed channel-wise from it
(``nn.batch_norm``, the neurons ``snn.lif / if / cuba_lif / li / integrator``, ``snn.delay``,
``nn.relu``, the pools, ``nn.scale``, ``snn.threshold``), whose per-channel parameters are
sliced, and **shortcuts**: ``nn.add`` of two same-shape values puts both operands and the
result in one class, so a channel is removed from every branch feeding the add or from none;
the class's producers (all synapses) are pruned together, a channel's score being the sum of
its producers' scores.  The class's consumers lose the matching input channels:
``nn.conv2d`` (groups = 1) ``weight[:, c]``, ``nn.linear`` ``weight[:, c]``, behind
``nn.flatten`` of ``[C, H, W]`` the block of ``H*W`` columns of channel ``c``.
**Concatenation** along the channel axis: operand channel ``c`` is result channel
``offset + c``; the result's class (derived, not scored itself) keeps the kept channels of
every operand (all of an operand that cannot shrink) and its consumers lose those columns.
Also per channel (axis-0 classes only): a depthwise conv (groups = channels; its weight rows
are sliced and ``groups`` follows), a reshape keeping axis 0, a sum/mean over other axes
(global pooling).
**Attention heads** (SDSAv1 / MetaSDSA as snnc.import_torch emits them, token and conv form):
Q/K/V ``[N, C]`` reshaped to ``[N, H, D]`` and transposed to ``[H, N, D]`` (conv form:
``[C, H, W] -> [C, HW] -> [HW, C] -> [HW, H, D] -> [H, HW, D]``), an attention core computed
head by head (``nn.mul``, ``nn.sum``/``mean`` not over heads, ``nn.matmul``, transposes keeping
the head axis first, ``nn.scale``, neurons), merged back by transpose ``[1, 0, 2]`` + reshape
to ``[N, H*D]`` (conv form: transpose ``[0, 2, 1]`` + reshape to ``[H*D, ...]``) and read by
the projection: ``floor(ratio x H)`` whole heads are removed per core (in both
scopes) with their ``D`` Q/K/V channels (rows of the three projections) and the
projection's ``D`` input columns; Q/K/V channels are never removed one by one.  Head scores:
l1/l2 the summed Q/K/V row norms of the head; svs the rank of the head's time-averaged
``[N, D]`` output map; dead the head's output activity.  ``dead`` scores a channel by the
activity of every class value read outside the class (and what a concat result's consumers
read of it), so removing a dead channel never changes an output on the calibration inputs.
A class is NOT pruned (reported with the reason) when it reaches a graph output, a shortcut
from a value that cannot shrink (a graph input, a grouped conv, a matmul), a reshape or any
other op, a grouped conv, or a linear over another axis; what feeds a concat or an
attention core whose result cannot shrink is not pruned either.

The report counts, before and after: parameters (weight + bias + per-channel parameters
of nn/snn ops; non-zero weights separately), synapses (non-zero weights x output
positions: synaptic operations per step of a dense input) and, with calibration inputs,
the seed papers' energy ``E = 4.6 pJ x MACs + 0.9 pJ x ACs`` per sample (ACs: input spikes
x the non-zero fan-out they reach, an integer-valued input such as a pooled spike count as
that many spikes; MACs: non-zero real-valued inputs x the same).  snnc/analysis is
not there yet; the counting is :func:`model_stats` below.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..analysis.energy import DEFAULT_ENERGY
from ..dialects.common import tensor_attr_array, weight_attr
from ..ir.attributes import FloatAttr, IntegerAttr
from ..ir.builtin import ModuleOp
from ..ir.core import Operation, Value
from ..ir.diagnostics import error
from ..ir.types import TensorType, i64
from .manager import Pass

#: Singular values above this count in the svs score (QP-SNN).
SVS_TOL = 1e-6

SYNAPSES = ("nn.linear", "nn.conv2d", "nn.conv1d")
NEURONS = ("snn.lif", "snn.if", "snn.cuba_lif", "snn.li", "snn.cuba_li", "snn.integrator")
SPIKING = ("snn.lif", "snn.if", "snn.cuba_lif")
#: channel-wise ops with one operand (per-channel tensor attributes get sliced)
CHANNELWISE = NEURONS + ("nn.batch_norm", "snn.delay", "nn.relu", "nn.scale",
                         "nn.avg_pool2d", "nn.sum_pool2d", "nn.max_pool2d", "snn.threshold")
#: params of channel-wise ops that are never per channel
_SCALAR_ATTRS = {"eps", "reset", "cmp", "steps", "kernel_size", "stride", "padding", "dilation", "groups"}


class Criterion(enum.Enum):
    l1 = "l1"
    l2 = "l2"
    svs = "svs"
    dead = "dead"


class Scope(enum.Enum):
    layer = "layer"
    global_ = "global"


# =========================================================================== scores


def svs_score(spike_map: np.ndarray, tol: float = SVS_TOL) -> int:
    """Number of singular values > ``tol`` of a 2-D (time-averaged) spike map (QP-SNN)."""
    m = np.atleast_2d(np.asarray(spike_map, dtype=np.float64))
    if m.size == 0:
        return 0
    return int(np.sum(np.linalg.svd(m, compute_uv=False) > tol))


def svs_channel_scores(spikes: np.ndarray) -> np.ndarray:
    """Per-channel svs score of spikes ``[T, B, C, *spatial]``: mean over B of the score of the
    time-averaged map of each channel (a [N] layer's 'map' is its 1x1 rate)."""
    s = np.asarray(spikes, dtype=np.float64).mean(axis=0)  # [B, C, ...]
    b, c = s.shape[:2]
    out = np.zeros(c)
    for j in range(c):
        out[j] = np.mean([svs_score(s[i, j].reshape(s.shape[2] if s.ndim > 3 else 1, -1)) for i in range(b)])
    return out


# =========================================================================== statistics


@dataclass
class ModelStats:
    params: int = 0
    nonzero_weights: int = 0
    weights: int = 0
    synapses: int = 0  # non-zero weights x output positions (synaptic ops per step, dense input)
    energy_pj: float | None = None  # per sample, with calibration inputs
    acs: float | None = None
    macs: float | None = None

    def row(self) -> str:
        e = "n/a (no calibration)" if self.energy_pj is None else f"{self.energy_pj / 1e3:.3f} nJ"
        return (f"params {self.params}, non-zero weights {self.nonzero_weights}/{self.weights}, "
                f"synapses/step {self.synapses}, energy/sample {e}")


def _graphs(module: ModuleOp) -> list[Operation]:
    from ..dialects.snn import Graph

    return [op for op in module.body.ops if isinstance(op, Graph)]


def _fanout(op: Operation) -> tuple[np.ndarray, int]:
    """(non-zero weights, output positions) of a synapse op."""
    w = tensor_attr_array(op, "weight")
    assert w is not None
    out_t = op.results[0].type
    assert isinstance(out_t, TensorType)
    if op.op_name == "nn.linear":
        positions = int(np.prod(out_t.shape[:-1])) if len(out_t.shape) > 1 else 1
    else:
        positions = int(np.prod(out_t.shape[1:]))
    return w, positions


def model_stats(module: ModuleOp, calibration: Mapping[str, np.ndarray] | None = None) -> ModelStats:
    """Parameters, synapses and (with calibration inputs ``[T, B, *shape]``) energy per sample."""
    st = ModelStats()
    syn_ops: list[Operation] = []
    for g in _graphs(module):
        for op in g.body.ops:
            for name, a in op.attributes.items():
                if name in ("weight", "bias") or (op.op_name in CHANNELWISE and name not in _SCALAR_ATTRS):
                    if isinstance(getattr(a, "type", None), TensorType):
                        st.params += int(np.prod(a.type.shape))  # type: ignore[attr-defined]
                    elif isinstance(a, FloatAttr):
                        st.params += 1
            if op.op_name in SYNAPSES:
                w, pos = _fanout(op)
                nz = int(np.count_nonzero(w))
                st.weights += int(w.size)
                st.nonzero_weights += nz
                st.synapses += nz * pos
                syn_ops.append(op)
    if calibration is not None and len(_graphs(module)) == 1:
        from ..interp.core import run_graph

        names: dict[Value, str] = {}
        for op in syn_ops:  # synapses sharing an input share its probe
            names.setdefault(op.operands[0], f"in{len(names)}")
        res = run_graph(_graphs(module)[0], dict(calibration), batched=True, probe=True, value_names=names)
        acs = macs = 0.0
        for op in syn_ops:
            x = np.asarray(res.probes[names[op.operands[0]]])  # [T, B, *in]
            batch = x.shape[1]
            w, pos = _fanout(op)
            # synaptic ops of one unit of input: the non-zero weights it reaches x positions / inputs
            n_in = int(np.prod(op.operands[0].type.shape))  # type: ignore[attr-defined]
            per_input = int(np.count_nonzero(w)) * pos / max(n_in, 1)
            xf = x.astype(np.float64)
            if x.dtype == np.bool_ or x.dtype == np.int8 or np.all(xf == np.rint(xf)):
                # spikes, ternary spikes, and integer-valued inputs (pooled spike counts, event
                # counts): |x| additions of the weight per input
                acs += float(np.abs(xf).sum()) / batch * per_input
            else:
                macs += float(np.count_nonzero(x)) / batch * per_input
        st.acs, st.macs = acs, macs
        st.energy_pj = DEFAULT_ENERGY.energy_pj(macs, acs)
    return st


# =========================================================================== report


@dataclass
class PruneReport:
    options: str
    before: ModelStats
    after: ModelStats
    removed: dict[str, int] = field(default_factory=dict)  # layer -> channels removed
    skipped: dict[str, str] = field(default_factory=dict)  # layer -> why it is not a candidate
    sparsity: float = 0.0  # unstructured: zero weights / weights after
    heads_removed: dict[str, int] = field(default_factory=dict)  # attention core -> heads removed

    def summary(self) -> str:
        lines = [f"prune ({self.options}):",
                 f"  before: {self.before.row()}",
                 f"  after:  {self.after.row()}"]
        for k, v in self.removed.items():
            lines.append(f"  {k}: {v} channel(s) removed")
        for k, v in self.heads_removed.items():
            lines.append(f"  {k}: {v} head(s) removed")
        for k, v in self.skipped.items():
            lines.append(f"  {k}: not pruned ({v})")
        if self.sparsity:
            lines.append(f"  weight sparsity {100 * self.sparsity:.1f} %")
        return "\n".join(lines)


# =========================================================================== channel classes

#: ops whose only operand may carry the head axis through an attention core (per head, axis 0)
_HEADWISE_UNARY = NEURONS + ("nn.scale", "snn.delay", "nn.relu", "snn.threshold")


def _shape(v: Value) -> tuple[int, ...]:
    t = v.type
    assert isinstance(t, TensorType)
    return tuple(t.shape)


def _retype(v: Value, axis: int, n: int) -> None:
    t = v.type
    assert isinstance(t, TensorType)
    s = list(t.shape)
    s[axis] = n
    v.type = TensorType(tuple(s), t.element)


def _prunable_synapse(op: Operation) -> str:
    """'' when ``op`` may lose output channels (rows), else why not."""
    if op.op_name in ("nn.conv2d", "nn.conv1d") and op.attr("groups") != 1:  # type: ignore[attr-defined]
        return f"grouped {op.op_name}"
    return ""


def _synapse_axis(op: Operation) -> int:
    """The channel axis of a synapse's result: the last for nn.linear (features, also over
    tokens [N, C]), the first for a conv ([C, H, W] / [C, L])."""
    return len(_shape(op.results[0])) - 1 if op.op_name == "nn.linear" else 0


class _UF:
    def __init__(self) -> None:
        self.parent: dict[Value, Value] = {}

    def find(self, v: Value) -> Value:
        self.parent.setdefault(v, v)
        while self.parent[v] is not v:
            self.parent[v] = self.parent[self.parent[v]]
            v = self.parent[v]
        return v

    def union(self, a: Value, b: Value) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            self.parent[rb] = ra


@dataclass
class _Class:
    """Values that share one channel index space: a synapse's result, everything computed from
    it channel-wise (batch norm, neurons, delays, pools, scale), and what ``nn.add`` joins to it
    (shortcuts: every branch of the add is in the class, so a channel is removed from all
    branches or from none)."""

    values: list[Value]
    axis: int
    n: int
    producers: list[Operation] = field(default_factory=list)  # synapses whose rows are the channels
    members: list[Operation] = field(default_factory=list)  # channel-wise ops and adds inside
    consumers: list[tuple[Operation, int]] = field(default_factory=list)  # (synapse, columns per channel)
    flattens: list[Operation] = field(default_factory=list)
    concat_out: list[tuple[Operation, int]] = field(default_factory=list)  # (nn.concat, offset of this class)
    concat_src: Operation | None = None  # this class is an nn.concat's result
    head_split: list[Operation] = field(default_factory=list)  # nn.reshape [N, C] -> [N, H, D] (Q/K/V)
    head_merge: Operation | None = None  # nn.reshape [N, H, D] -> [N, C] (attention output)
    boundary: list[Value] = field(default_factory=list)  # values read outside the class
    blocked: str = ""
    label: str = ""
    scores: np.ndarray | None = None
    keep: np.ndarray | None = None

    @property
    def free(self) -> bool:
        """Pruned by its own scores (not tied to heads, not a concat result)."""
        return (not self.blocked and bool(self.producers) and self.concat_src is None
                and not self.head_split and self.head_merge is None)


@dataclass
class _Heads:
    """An attention core between head splits and merges: values with the head axis first."""

    values: list[Value]
    n: int  # heads
    d: int  # channels per head
    ops: list[Operation] = field(default_factory=list)
    splits: list[Operation] = field(default_factory=list)  # the first nn.reshape of each split
    merges: list[Operation] = field(default_factory=list)  # the nn.reshape of each merge
    chains: list[tuple[Value, int, int]] = field(default_factory=list)  # split values between class and core
    merge_axis: dict[Operation, int] = field(default_factory=dict)  # merge reshape -> merged channel axis
    blocked: str = ""
    label: str = ""
    scores: np.ndarray | None = None
    keep: np.ndarray | None = None


def _param_axis(arr: np.ndarray, rank: int, axis: int, n: int, op: Operation) -> int | None:
    """The axis of a (broadcast, right-aligned) parameter along a value's channel axis, or None
    if it does not vary along it; raises ValueError if it cannot be sliced."""
    if op.op_name == "nn.batch_norm" and arr.ndim == 1 and arr.shape[0] == n and axis == 0:
        return 0
    a = axis - (rank - arr.ndim)
    if a < 0 or arr.shape[a] == 1:
        return None
    if arr.shape[a] == n:
        return a
    raise ValueError(f"{op.op_name} parameter of shape {list(arr.shape)} does not follow the channel axis")


def _depthwise(op: Operation) -> bool:
    """A depthwise conv (groups = in = out channels): per channel, like a neuron."""
    if op.op_name not in ("nn.conv2d", "nn.conv1d") or not op.operands:
        return False
    a, r = _shape(op.operands[0]), _shape(op.results[0])
    g = op.attr("groups")  # type: ignore[attr-defined]
    return len(a) == len(r) and a[0] == r[0] == g and g > 1


def _axis0_preserving(op: Operation) -> bool:
    """A reshape keeping axis 0, or a sum/mean over other axes (global pooling): per channel for a
    class whose channel axis is 0 (a channels-last class through it is refused by the caller)."""
    if op.op_name not in ("nn.reshape", "nn.mean", "nn.sum") or len(op.operands) != 1 or not op.results:
        return False
    a, r = _shape(op.operands[0]), _shape(op.results[0])
    if len(a) < 2 or len(r) < 1 or a[0] != r[0]:
        return False
    if op.op_name == "nn.reshape":
        return len(r) >= 2
    axes = [int(x) % len(a) for x in op.attr("axes")]  # type: ignore[attr-defined]
    return bool(axes) and 0 not in axes


def _op_params(op: Operation) -> list[str]:
    return [k for k, a in op.attributes.items()
            if k not in _SCALAR_ATTRS and isinstance(getattr(a, "type", None), TensorType)]


def _check_params(op: Operation, rank: int, axis: int, n: int) -> str:
    if _depthwise(op):
        return ""  # weight [C, 1, k..] and bias [C] along axis 0 (channels-last is refused by the caller)
    for k in _op_params(op):
        arr = tensor_attr_array(op, k)
        if arr is None:
            continue
        try:
            _param_axis(arr, rank, axis, n, op)
        except ValueError as e:
            return str(e)
    return ""


def _slice_params(op: Operation, rank: int, axis: int, n: int, keep: np.ndarray) -> None:
    if _depthwise(op):
        for k in ("weight", "bias"):
            _slice_attr(op, k, keep, 0, n)
        op.set_attr("groups", IntegerAttr(len(keep), i64))
        return
    for k in _op_params(op):
        arr = tensor_attr_array(op, k)
        if arr is None:
            continue
        a = _param_axis(arr, rank, axis, n, op)
        if a is not None:
            attr = op.get_attr(k)
            op.set_attr(k, weight_attr(np.take(arr, keep, axis=a), attr.type.element, hint=k))  # type: ignore[union-attr]


def _sole_user(v: Value, name: str) -> Operation | None:
    users = list(v.users)
    return users[0] if len(users) == 1 and users[0].op_name == name else None


def _perm(op: Operation) -> list[int]:
    return [int(x) for x in op.attr("perm")]  # type: ignore[attr-defined]


def _is_split(op: Operation) -> tuple[int, int, list[tuple[Value, int, int]], Operation] | None:
    """A head split starting at ``nn.reshape`` ``op``: (heads H, channels per head D, the chain's
    values as (value, axis carrying the heads, channels per unit of that axis), the final
    transpose whose result is ``[H, N, D]``), or None.  Two forms:
    tokens ``[N, C] -> reshape [N, H, D] -> transpose [1, 0, 2]``;
    conv ``[C, H, W] -> reshape [C, HW] -> transpose [1, 0] -> reshape [HW, H, D] -> transpose [1, 0, 2]``."""
    if op.op_name != "nn.reshape":
        return None
    a, r = _shape(op.operands[0]), _shape(op.results[0])
    chain: list[tuple[Value, int, int]] = []
    cur = op
    if len(a) == 3 and len(r) == 2 and r[0] == a[0] and r[1] == a[1] * a[2]:  # conv form
        t = _sole_user(op.results[0], "nn.transpose")
        if t is None or _perm(t) != [1, 0]:
            return None
        r2 = _sole_user(t.results[0], "nn.reshape")
        if r2 is None:
            return None
        chain = [(op.results[0], 0, 0), (t.results[0], 1, 0)]
        cur, a, r = r2, _shape(t.results[0]), _shape(r2.results[0])
    if len(a) != 2 or len(r) != 3 or r[0] != a[0] or r[1] * r[2] != a[1] or r[1] < 2:
        return None
    tr = _sole_user(cur.results[0], "nn.transpose")
    if tr is None or _perm(tr) != [1, 0, 2]:
        return None
    h, d = r[1], r[2]
    chain = [(v, ax, d) for v, ax, _ in chain] + [(cur.results[0], 1, 1)]
    return h, d, chain, tr


def _is_merge(op: Operation) -> tuple[Operation, int] | None:
    """A head merge at ``nn.transpose`` ``op`` of ``[H, N, D]``: (the reshape, the merged value's
    channel axis), or None.  Tokens: ``transpose [1, 0, 2] -> reshape [N, H*D]`` (axis 1);
    conv: ``transpose [0, 2, 1] -> reshape [H*D, ...]`` (axis 0)."""
    if op.op_name != "nn.transpose" or len(_shape(op.results[0])) != 3:
        return None
    r = _sole_user(op.results[0], "nn.reshape")
    if r is None:
        return None
    s, o = _shape(op.results[0]), _shape(r.results[0])
    if _perm(op) == [1, 0, 2] and len(o) == 2 and o[0] == s[0] and o[1] == s[1] * s[2]:
        return r, 1
    if _perm(op) == [0, 2, 1] and len(o) >= 2 and o[0] == s[0] * s[1] and int(np.prod(o[1:])) == s[2]:
        return r, 0
    return None


def _headwise(op: Operation, inside: set[Value]) -> str:
    """'' when ``op`` computes head by head on operands with the head axis first."""
    for v in op.operands:
        if v not in inside:
            return f"{op.op_name} mixes in a value from outside the attention core"
    rank = len(_shape(op.results[0])) if op.results else 0
    n = _shape(op.operands[0])[0]
    if any(len(_shape(v)) != rank or _shape(v)[0] != n for v in op.operands) or not op.results \
            or _shape(op.results[0])[0] != n:
        return f"{op.op_name} changes the head axis"
    name = op.op_name
    if name == "nn.transpose":
        return "" if list(op.attr("perm"))[0] == 0 else "a transpose moves the head axis"  # type: ignore[attr-defined]
    if name in ("nn.sum", "nn.mean"):
        axes = [int(a) % rank for a in op.attr("axes")]  # type: ignore[attr-defined]
        return "" if 0 not in axes and bool(op.attr("keepdim")) else f"{name} over the head axis"  # type: ignore[attr-defined]
    if name in ("nn.matmul", "nn.mul", "nn.add", "nn.sub") and len(op.operands) == 2:
        return ""
    if name in _HEADWISE_UNARY and len(op.operands) == 1:
        return _check_params(op, rank, 0, n)
    return f"attention core reaches {name}"


def _find_heads(g: Operation) -> tuple[list[_Heads], dict[Operation, _Heads]]:
    """Attention cores: from each head split, the values computed head by head (program order)
    up to the merges; an op that is not head-wise blocks its core."""
    uf = _UF()
    inside: set[Value] = set()
    splits: list[tuple[Operation, tuple[int, int]]] = []
    merges: list[tuple[Operation, Value]] = []
    core_ops: list[tuple[Operation, Value]] = []
    blocked: list[tuple[Value, str]] = []
    split_t: set[Operation] = set()
    chains: dict[Operation, list[tuple[Value, int, int]]] = {}
    merge_axis: dict[Operation, int] = {}
    for op in g.body.ops:
        if op in split_t:  # inside a split chain found earlier
            continue
        sp_ = _is_split(op)
        if sp_ is not None:
            hh, dd, chain, t = sp_
            splits.append((op, (hh, dd)))
            chains[op] = chain
            for v, _, _ in chain:
                d = v.defining_op()
                assert d is not None
                split_t.add(d)
            split_t.add(t)
            uf.union(op.results[0], t.results[0])
            inside.add(t.results[0])
            continue
        ins = [v for v in op.operands if v in inside]
        if not ins:
            continue
        mg = _is_merge(op)
        if mg is not None and len(op.operands) == 1:
            merges.append((mg[0], ins[0]))
            merge_axis[mg[0]] = mg[1]
            continue
        for v in ins[1:]:
            uf.union(ins[0], v)
        why = _headwise(op, inside)
        if why:
            blocked.append((ins[0], why))
            continue
        core_ops.append((op, ins[0]))
        for r in op.results:
            inside.add(r)
            uf.union(ins[0], r)
    groups: dict[Value, _Heads] = {}
    for op, hd in splits:
        h = groups.setdefault(uf.find(op.results[0]), _Heads([], hd[0], hd[1]))
        h.splits.append(op)
        h.chains.extend(chains[op])
        if (h.n, h.d) != hd:
            h.blocked = "head splits disagree on heads x channels"
    for v in sorted(inside, key=lambda v: _order(g, v)):
        groups[uf.find(v)].values.append(v)
    for u, v in core_ops:
        groups[uf.find(v)].ops.append(u)
    for m, v in merges:
        h = groups[uf.find(v)]
        h.merges.append(m)
        h.merge_axis[m] = merge_axis[m]
        if _shape(m.results[0])[merge_axis[m]] != h.n * h.d:
            h.blocked = h.blocked or "a merge disagrees on heads x channels"
    for v, why in blocked:
        h = groups[uf.find(v)]
        h.blocked = h.blocked or why
    heads = list(groups.values())
    for k, h in enumerate(heads):
        h.label = f"attention#{k}"
        if not h.merges:
            h.blocked = h.blocked or "no head merge"
    by_reshape = {op: h for h in heads for op in h.splits + h.merges}
    return heads, by_reshape


def _order(g: Operation, v: Value) -> int:
    d = v.defining_op()
    return g.body.index_of(d) if d is not None else -1


def _classes(g: Operation, heads_by_reshape: dict[Operation, _Heads]) -> list[_Class]:
    """Partition the graph's values into channel classes and find each class's producers,
    members, consumers and why it cannot shrink (if so)."""
    uf = _UF()
    internal: set[Operation] = set()
    for op in g.body.ops:
        if op.op_name in CHANNELWISE and len(op.operands) == 1 and op.results:
            if len(_shape(op.operands[0])) == len(_shape(op.results[0])):
                uf.union(op.operands[0], op.results[0])
                internal.add(op)
        elif op.op_name == "nn.add" and len(op.operands) == 2 \
                and _shape(op.operands[0]) == _shape(op.operands[1]) == _shape(op.results[0]):
            uf.union(op.operands[0], op.operands[1])
            uf.union(op.operands[0], op.results[0])
            internal.add(op)
        elif _depthwise(op) or _axis0_preserving(op) and _is_split(op) is None and op not in heads_by_reshape:
            uf.union(op.operands[0], op.results[0])  # per channel (axis 0 only; checked below)
            internal.add(op)
    by_root: dict[Value, list[Value]] = {}
    for op in g.body.ops:
        for r in op.results:
            by_root.setdefault(uf.find(r), []).append(r)
    classes: list[_Class] = []
    for vals in by_root.values():
        head = vals[0]
        d0 = head.defining_op()
        # the channel axis: from a synapse producer, a concat, a head merge; else unprunable
        axis, why = 0, ""
        cls = _Class(vals, 0, 0)
        for v in vals:
            d = v.defining_op()
            assert d is not None
            if d in internal:
                cls.members.append(d)
                continue
            if d.op_name in SYNAPSES:
                w = _prunable_synapse(d)
                if w:
                    why = why or w
                cls.producers.append(d)
            elif d.op_name == "nn.concat":
                cls.concat_src = d
            elif d in heads_by_reshape and d.op_name == "nn.reshape" and d in heads_by_reshape[d].merges:
                cls.head_merge = d
            else:
                why = why or (f"shortcut from {d.op_name}" if len(vals) > 1 else f"produced by {d.op_name}")
        if d0 is None:
            continue
        rank = len(_shape(head))
        if cls.producers:
            axes = {_synapse_axis(p) - (len(_shape(p.results[0])) - rank) for p in cls.producers}
            axis = axes.pop() if len(axes) == 1 else -1
        elif cls.concat_src is not None:
            axis = int(cls.concat_src.attr("axis")) % rank  # type: ignore[attr-defined]
            if axis != 0 and axis != rank - 1:
                why = why or "concat along a non-channel axis"
        elif cls.head_merge is not None:
            axis = heads_by_reshape[cls.head_merge].merge_axis[cls.head_merge]
        if sum(bool(x) for x in (cls.producers, cls.concat_src, cls.head_merge)) > 1:
            why = why or "joins channels of different origins"
        if axis < 0:
            why = why or "producers disagree on the channel axis"
            axis = 0
        cls.axis, cls.n = axis, _shape(head)[axis] if rank else 0
        if not why:
            for m in cls.members:
                why = why or _check_params(m, len(_shape(m.results[0])), axis, cls.n)
                if axis != 0 and (m.op_name in ("nn.avg_pool2d", "nn.sum_pool2d", "nn.max_pool2d")
                                  or _depthwise(m) or _axis0_preserving(m)):
                    why = why or f"{m.op_name} on a channels-last value"
        for v in vals:
            ext = [u for u in v.users if u not in internal]
            if ext:
                cls.boundary.append(v)
            for u in ext:
                rv = len(_shape(v))
                if u.op_name in SYNAPSES and u.operands[0] is v:
                    if u.op_name != "nn.linear" and (u.attr("groups") != 1 or axis != 0):  # type: ignore[attr-defined]
                        why = why or f"feeds a grouped {u.op_name}"
                    elif u.op_name == "nn.linear" and axis != rv - 1:
                        why = why or "feeds a linear over another axis"
                    cls.consumers.append((u, 1))
                elif u.op_name == "nn.flatten" and axis == 0 and rv >= 2 and len(_shape(u.results[0])) == 1:
                    block = int(np.prod(_shape(v)[1:]))
                    for w in u.results[0].users:
                        if w.op_name != "nn.linear":
                            why = why or f"flatten feeds {w.op_name}"
                        cls.consumers.append((w, block))
                    cls.flattens.append(u)
                elif u.op_name == "nn.flatten":
                    why = why or "partial flatten"
                elif u.op_name == "nn.concat" and int(u.attr("axis")) % rv == axis:  # type: ignore[attr-defined]
                    for i, w in enumerate(u.operands):
                        if w is v:
                            cls.concat_out.append((u, sum(_shape(x)[axis] for x in u.operands[:i])))
                elif u in heads_by_reshape and u in heads_by_reshape[u].splits:
                    cls.head_split.append(u)
                    if axis != (rv - 1 if rv == 2 else 0):
                        why = why or "its head split runs along another axis"
                elif u.op_name == "snn.output":
                    why = why or "reaches a graph output"
                else:
                    why = why or f"reaches {u.op_name}"
        if not (cls.consumers or cls.concat_out or cls.head_split):
            why = why or "no synapse consumes it"
        cls.blocked = why
        cls.label = "+".join(f"{p.op_name}#{_syn_index(g, p)}" for p in cls.producers) or (
            f"{d0.op_name}@{g.body.index_of(d0)}")
        classes.append(cls)
    # a blocked concat result or attention core blocks what feeds it, and back
    changed = True
    by_concat = {c.concat_src: c for c in classes if c.concat_src is not None}
    while changed:
        changed = False
        for c in classes:
            for cat, _ in c.concat_out:
                out = by_concat.get(cat)
                if out is not None and out.blocked and not c.blocked:
                    c.blocked, changed = f"feeds nn.concat whose result {out.blocked}", True
            for sp_ in c.head_split:
                h = heads_by_reshape[sp_]
                if c.blocked and not h.blocked:
                    h.blocked, changed = f"Q/K/V {c.label}: {c.blocked}", True
                elif h.blocked and not c.blocked:
                    c.blocked, changed = f"feeds {h.label}, which {h.blocked}", True
            if c.head_merge is not None:
                h = heads_by_reshape[c.head_merge]
                if c.blocked and not h.blocked:
                    h.blocked, changed = f"its output {c.blocked}", True
            if c.concat_src is not None and c.blocked:
                for w in c.concat_src.operands:
                    for c2 in classes:
                        if w in c2.values and not c2.blocked:
                            c2.blocked, changed = f"feeds nn.concat whose result {c.blocked}", True
    return classes


def _syn_index(g: Operation, op: Operation) -> int:
    return [o for o in g.body.ops if o.op_name in SYNAPSES].index(op)


def _apply_class(c: _Class, keep: np.ndarray) -> None:
    n = c.n
    for p in c.producers:
        for name in ("weight", "bias"):
            _slice_attr(p, name, keep, 0, n)
    for m in c.members:
        _slice_params(m, len(_shape(m.results[0])), c.axis, n, keep)
    for v in c.values:
        _retype(v, c.axis, len(keep))
    for f in c.flattens:
        t = f.results[0].type
        assert isinstance(t, TensorType)
        f.results[0].type = TensorType((t.shape[0] // n * len(keep),), t.element)
    for u, block in c.consumers:
        w = tensor_attr_array(u, "weight")
        assert w is not None
        cols = (keep[:, None] * block + np.arange(block)[None, :]).ravel()
        a = u.get_attr("weight")
        u.set_attr("weight", weight_attr(np.take(w, cols, axis=1), a.type.element, hint="weight"))  # type: ignore[union-attr]


def _apply_heads(h: _Heads, keep: np.ndarray) -> None:
    for op in h.ops:
        _slice_params(op, len(_shape(op.results[0])), 0, h.n, keep)
    for v in h.values:
        _retype(v, 0, len(keep))
    for v, ax, per in h.chains:  # the split's reshapes/transposes before the core
        _retype(v, ax, len(keep) * per)
    for m in h.merges:
        t = m.operands[0].defining_op()
        assert t is not None
        _retype(t.results[0], 1 if h.merge_axis[m] == 1 else 0, len(keep))  # [N, H, D] or [H, D, N]


def _slice_attr(op: Operation, name: str, keep: np.ndarray, axis: int, channels: int) -> None:
    a = op.get_attr(name)
    if a is None or not isinstance(getattr(a, "type", None), TensorType):
        return
    arr = tensor_attr_array(op, name)
    assert arr is not None
    if arr.ndim <= axis or arr.shape[axis] != channels:
        return  # scalar-like / broadcast along the channel axis: unchanged
    new = np.take(arr, keep, axis=axis)
    op.set_attr(name, weight_attr(new, a.type.element, hint=name))  # type: ignore[union-attr]


# =========================================================================== the pass


@dataclass
class _PruneOptions(Pass):
    ratio: float = field(default=0.0, metadata={"help": "fraction of channels (or weights) to remove, 0 <= ratio < 1"})
    criterion: Criterion = field(default=Criterion.l1, metadata={"help": "channel score"})
    scope: Scope = field(default=Scope.layer, metadata={"help": "ratio per layer or over all layers"})
    structured: bool = field(default=True, metadata={"help": "remove channels (true) or zero weights (false)"})
    calibration_file: str = field(default="", metadata={"help": ".npy (one input) or .npz (by input name) calibration data"})
    print_report: bool = field(default=False, metadata={"help": "print parameters / synapses / energy before and after to stderr"})

    def check_options(self) -> str:
        if not 0.0 <= self.ratio < 1.0:
            return f"ratio must be in [0, 1), got {self.ratio}"
        if not self.structured and self.criterion not in (Criterion.l1, Criterion.l2):
            return "unstructured pruning is by weight magnitude: criterion l1 or l2"
        return ""


class Prune(_PruneOptions):
    """Prune output channels (structured) or weights (unstructured) of nn.linear / nn.conv2d."""

    name: ClassVar[str] = "prune"

    def __init__(self, *args: Any, calibration: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.criterion, str):
            self.criterion = Criterion(self.criterion)
        if isinstance(self.scope, str):
            self.scope = Scope(self.scope)
        #: calibration data: an array (one graph input) or a mapping name -> array, [T, *shape] or [T, B, *shape]
        self.calibration = calibration
        self.report: PruneReport | None = None

    def run(self, module: ModuleOp) -> None:
        problem = self.check_options()
        if problem:
            raise error(f"prune: {problem}")
        graphs = _graphs(module)
        cal = self._calibration(graphs) if graphs else None
        if self.criterion in (Criterion.svs, Criterion.dead) and cal is None:
            raise error(f"prune: criterion '{self.criterion.value}' needs calibration inputs (--calibration X.npy)")
        before = model_stats(module, cal)
        removed: dict[str, int] = {}
        heads_removed: dict[str, int] = {}
        skipped: dict[str, str] = {}
        sparsity = 0.0
        if self.ratio > 0:
            if self.structured:
                for g in graphs:
                    self._structured(g, cal if len(graphs) == 1 else None, removed, skipped, heads_removed)
            else:
                sparsity = self._unstructured(graphs)
        after = model_stats(module, cal)
        self.report = PruneReport(self.pipeline_text(), before, after, removed, skipped, sparsity,
                                  heads_removed)
        if self.print_report:
            import sys

            sys.stderr.write(self.report.summary() + "\n")

    # ------------------------------------------------------------------ calibration

    def _calibration(self, graphs: list[Operation]) -> dict[str, np.ndarray] | None:
        from ..interp.core import graph_inputs

        data: Any = self.calibration
        if data is None and self.calibration_file:
            path = Path(self.calibration_file)
            if not path.exists():
                raise error(f"prune: calibration file '{path}' does not exist")
            loaded = np.load(path)
            data = dict(loaded) if isinstance(loaded, np.lib.npyio.NpzFile) else loaded
        if data is None or len(graphs) != 1:
            return None
        ins = graph_inputs(graphs[0])
        if not isinstance(data, Mapping):
            if len(ins) != 1:
                raise error("prune: the graph has several inputs; give calibration data by input name")
            data = {ins[0].attr("name"): data}  # type: ignore[attr-defined]
        out = {}
        for op in ins:
            name = op.attr("name")  # type: ignore[attr-defined]
            if name not in data:
                raise error(f"prune: no calibration data for graph input '{name}'")
            arr = np.asarray(data[name])
            shape = op.results[0].type.shape  # type: ignore[attr-defined]
            if arr.ndim == len(shape) + 1:
                arr = arr[:, None]
            if arr.ndim != len(shape) + 2 or tuple(arr.shape[2:]) != tuple(shape):
                raise error(f"prune: calibration data for '{name}' must be [T, *{list(shape)}] or "
                            f"[T, B, *{list(shape)}], got {list(arr.shape)}")
            out[name] = arr
        return out

    # ------------------------------------------------------------------ structured

    def _structured(self, g: Operation, cal: dict[str, np.ndarray] | None,
                    removed: dict[str, int], skipped: dict[str, str], heads_removed: dict[str, int]) -> None:
        heads, by_reshape = _find_heads(g)
        classes = _classes(g, by_reshape)
        free: list[_Class] = []
        for c in classes:
            if not c.producers:
                continue
            if c.blocked:
                skipped[c.label] = c.blocked
            elif c.free:
                if self.criterion is Criterion.svs and not self._spiking(c):
                    skipped[c.label] = "no spiking neuron after it"
                    continue
                free.append(c)
        live_heads = []
        for h in heads:
            if h.blocked:
                skipped[h.label] = h.blocked
            else:
                live_heads.append(h)
        if not free and not live_heads:
            return
        self._score(g, classes, free, live_heads, cal)
        self._select(free, live_heads)
        # derived keeps: Q/K/V and attention outputs from their heads, concat results from their parts
        for h in live_heads:
            assert h.keep is not None
            if len(h.keep) == h.n:
                continue
            chans = (h.keep[:, None] * h.d + np.arange(h.d)[None, :]).ravel()
            for c in classes:
                if any(s in h.splits for s in c.head_split) or (c.head_merge is not None and c.head_merge in h.merges):
                    c.keep = chans
            heads_removed[h.label] = h.n - len(h.keep)
            _apply_heads(h, h.keep)
        by_value = {v: c for c in classes for v in c.values}
        for c in sorted((c for c in classes if c.concat_src is not None and not c.blocked),
                        key=lambda c: g.body.index_of(c.concat_src)):  # type: ignore[arg-type]
            parts, off = [], 0
            assert c.concat_src is not None
            for w in c.concat_src.operands:
                cw = by_value.get(w)
                k = cw.keep if cw is not None and cw.keep is not None else np.arange(_shape(w)[c.axis])
                parts.append(off + k)
                off += _shape(w)[c.axis]
            c.keep = np.concatenate(parts)
        for c in classes:
            if c.keep is not None and len(c.keep) < c.n:
                if c.free:
                    removed[c.label] = c.n - len(c.keep)
                _apply_class(c, c.keep)

    def _spiking(self, c: _Class) -> list[Value]:
        vals = [v for v in c.values if v.defining_op() is not None and v.defining_op().op_name in SPIKING]  # type: ignore[union-attr]
        return [v for v in vals if v in c.boundary] or vals

    def _score(self, g: Operation, classes: list[_Class], free: list[_Class], heads: list[_Heads],
               cal: dict[str, np.ndarray] | None) -> None:
        tied = {id(h): [c for c in classes if any(s in h.splits for s in c.head_split)] for h in heads}
        merged = {id(h): [c for c in classes if c.head_merge is not None and c.head_merge in h.merges] for h in heads}
        if self.criterion in (Criterion.l1, Criterion.l2):
            def norms(c: _Class, normalize: bool) -> np.ndarray:
                s = np.zeros(c.n)
                for p in c.producers:
                    w = tensor_attr_array(p, "weight")
                    assert w is not None
                    rows = np.abs(w.reshape(w.shape[0], -1))
                    r = rows.sum(axis=1) if self.criterion is Criterion.l1 else np.sqrt((rows**2).sum(axis=1))
                    if normalize:
                        r = r / (rows.shape[1] if self.criterion is Criterion.l1 else np.sqrt(rows.shape[1]))
                    s = s + r
                return s

            for c in free:
                c.scores = norms(c, self.scope is Scope.global_)
            for h in heads:
                h.scores = sum((norms(c, False).reshape(h.n, h.d).sum(axis=1) for c in tied[id(h)]), np.zeros(h.n))
            return
        from ..interp.core import run_graph

        assert cal is not None
        probe: dict[Value, str] = {}
        for c in classes:
            for v in c.boundary + (self._spiking(c) if c in free else []):
                probe.setdefault(v, f"p{len(probe)}")
        res = run_graph(g, cal, batched=True, probe=True, value_names=probe)

        def act(v: Value, axis: int) -> np.ndarray:
            x = np.abs(np.asarray(res.probes[probe[v]]).astype(np.float64))  # [T, B, *shape]
            x = np.moveaxis(x, 2 + axis, 0)
            return x.reshape(x.shape[0], -1).sum(axis=1)

        def dead_score(c: _Class) -> np.ndarray:
            s = sum((act(v, c.axis) for v in c.boundary), np.zeros(c.n))
            by_cat = {c2.concat_src: c2 for c2 in classes if c2.concat_src is not None}
            for cat, off in c.concat_out:  # what the concat result's consumers read of these channels
                out = by_cat.get(cat)
                if out is not None:
                    s = s + dead_score(out)[off:off + c.n]
            return s

        for c in free:
            if self.criterion is Criterion.dead:
                c.scores = dead_score(c)
            else:
                spikes = [np.moveaxis(np.asarray(res.probes[probe[v]]).astype(np.float64), 2 + c.axis, 2)
                          for v in self._spiking(c) if v in probe]
                c.scores = np.mean([svs_channel_scores(s) for s in spikes], axis=0)
        for h in heads:
            outs = [(v, c.axis) for c in merged[id(h)] for v in c.boundary]
            if self.criterion is Criterion.dead:
                s = sum((act(v, ax) for v, ax in outs), np.zeros(h.n * h.d))
                for c in tied[id(h)]:  # Q/K/V values also read outside the attention core
                    for v in c.boundary:
                        if any(u not in h.splits and u.op_name not in CHANNELWISE and u.op_name != "nn.add"
                               for u in v.users):
                            s = s + act(v, c.axis)
                h.scores = s.reshape(h.n, h.d).sum(axis=1)
            else:  # svs of each head's [N, D] time-averaged output map
                sc = np.zeros(h.n)
                for v, ax in outs:
                    x = np.asarray(res.probes[probe[v]]).astype(np.float64).mean(axis=0)  # [B, *shape]
                    x = np.moveaxis(x, 1 + ax, -1)
                    x = x.reshape(x.shape[0], -1, x.shape[-1])  # [B, N, C]
                    for k in range(h.n):
                        sc[k] += np.mean([svs_score(x[b, :, k * h.d:(k + 1) * h.d]) for b in range(x.shape[0])])
                h.scores = sc / max(len(outs), 1)

    def _select(self, layers: list[_Class], heads: list[_Heads]) -> None:
        """Kept channel (head) indices per class (attention core), sorted; ties broken by index
        (stable).  Heads are chosen per attention core in both scopes."""
        def n_prune(n_all: int, scores: np.ndarray, n: int) -> int:
            n = min(n, n_all - 1)  # keep at least one channel / head
            if self.criterion is Criterion.dead:
                n = min(n, int(np.sum(scores == 0)))
            return max(n, 0)

        def keep_of(n_all: int, drop: set[int]) -> np.ndarray:
            return np.array([c for c in range(n_all) if c not in drop], dtype=np.int64)

        for h in heads:
            assert h.scores is not None
            n = n_prune(h.n, h.scores, int(np.floor(self.ratio * h.n)))
            h.keep = keep_of(h.n, set(np.argsort(h.scores, kind="stable")[:n].tolist()))
        if self.scope is Scope.layer:
            for layer in layers:
                assert layer.scores is not None
                n = n_prune(layer.n, layer.scores, int(np.floor(self.ratio * layer.n)))
                layer.keep = keep_of(layer.n, set(np.argsort(layer.scores, kind="stable")[:n].tolist()))
            return
        drop: list[set[int]] = [set() for _ in layers]
        budget = int(np.floor(self.ratio * sum(layer.n for layer in layers)))
        cands = sorted((float(layer.scores[c]), k, c) for k, layer in enumerate(layers)  # type: ignore[index]
                       for c in range(layer.n))
        for score, k, c in cands:
            if budget == 0:
                break
            if len(drop[k]) >= layers[k].n - 1:
                continue
            if self.criterion is Criterion.dead and score != 0:
                continue
            drop[k].add(c)
            budget -= 1
        for layer, d in zip(layers, drop, strict=True):
            layer.keep = keep_of(layer.n, d)

    # ------------------------------------------------------------------ unstructured

    def _unstructured(self, graphs: list[Operation]) -> float:
        syn = [op for g in graphs for op in g.body.ops if op.op_name in SYNAPSES]
        ws = [tensor_attr_array(op, "weight") for op in syn]
        mag = [np.abs(w) if self.criterion is Criterion.l1 else w**2 for w in ws]  # type: ignore[operator]
        if self.scope is Scope.global_ and syn:
            allm = np.sort(np.concatenate([m.ravel() for m in mag]), kind="stable")
            n = int(np.floor(self.ratio * allm.size))
            thr = [allm[n - 1] if n > 0 else -1.0] * len(syn)
            masks = [m > t for m, t in zip(mag, thr, strict=True)]
        else:
            masks = []
            for m in mag:
                flat = m.ravel()
                n = int(np.floor(self.ratio * flat.size))
                keep = np.ones(flat.size, dtype=bool)
                keep[np.argsort(flat, kind="stable")[:n]] = False
                masks.append(keep.reshape(m.shape))
        zeros = total = 0
        for op, w, keep in zip(syn, ws, masks, strict=True):
            new = np.where(keep, w, 0.0)  # type: ignore[arg-type]
            a = op.get_attr("weight")
            op.set_attr("weight", weight_attr(new, a.type.element, hint="weight"))  # type: ignore[union-attr]
            zeros += int(new.size - np.count_nonzero(new))
            total += int(new.size)
        return zeros / total if total else 0.0


__all__ = ["Prune", "PruneReport", "ModelStats", "Criterion", "Scope", "model_stats", "svs_score",
           "svs_channel_scores", "SVS_TOL"]
