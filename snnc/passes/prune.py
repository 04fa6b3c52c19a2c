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

Structured pruning removes output channel ``c`` of a synapse ``S`` (``nn.linear`` on a
[N] input, ``nn.conv2d`` with groups = 1) together with every op of its channel region: the
values computed channel-wise from ``S``'s result (``nn.batch_norm``, the neurons
``snn.lif / if / cuba_lif / li / integrator``, ``snn.delay``, ``nn.relu``, the pools, a
scalar ``nn.scale``), whose per-channel parameters are sliced.  The region's consumers
lose the matching input channels: ``nn.conv2d`` (groups = 1) ``weight[:, c]``,
``nn.linear`` ``weight[:, c]`` and, behind ``nn.flatten`` of a [C, H, W] value, the block
of ``H*W`` columns of channel ``c``.  A layer is NOT a candidate (it is left whole) when its
region reaches anything else: a graph output (the interface would change), ``nn.add``
(shortcuts), ``nn.concat``, ``nn.matmul`` (attention), reshapes, a grouped conv.  This is
the conservative choice for shortcuts (see docs/compression.md); graphs from
snnc's importers have their residual streams in such ops.

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
from ..ir.attributes import FloatAttr
from ..ir.builtin import ModuleOp
from ..ir.core import Operation, Value
from ..ir.diagnostics import error
from ..ir.types import TensorType
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
_SCALAR_ATTRS = {"eps", "reset", "cmp", "steps", "kernel_size", "stride", "padding"}


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

        names = {op.operands[0]: f"in{i}" for i, op in enumerate(syn_ops)}
        res = run_graph(_graphs(module)[0], dict(calibration), batched=True, probe=True, value_names=names)
        acs = macs = 0.0
        for i, op in enumerate(syn_ops):
            x = np.asarray(res.probes[f"in{i}"])  # [T, B, *in]
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

    def summary(self) -> str:
        lines = [f"prune ({self.options}):",
                 f"  before: {self.before.row()}",
                 f"  after:  {self.after.row()}"]
        for k, v in self.removed.items():
            lines.append(f"  {k}: {v} channel(s) removed")
        for k, v in self.skipped.items():
            lines.append(f"  {k}: not pruned ({v})")
        if self.sparsity:
            lines.append(f"  weight sparsity {100 * self.sparsity:.1f} %")
        return "\n".join(lines)


# =========================================================================== channel regions


@dataclass
class _Layer:
    synapse: Operation
    label: str
    channels: int
    region: list[Operation]  # channel-wise ops after the synapse
    consumers: list[tuple[Operation, int]]  # (synapse consumer, block size per channel: 1 or H*W)
    flattens: list[Operation]
    spiking: Value | None  # the spike value of the region's neuron (svs / dead)
    scores: np.ndarray | None = None


def _region(syn: Operation) -> tuple[_Layer | None, str]:
    t = syn.results[0].type
    assert isinstance(t, TensorType)
    if syn.op_name == "nn.linear" and len(t.shape) != 1:
        return None, "linear over tokens"
    if syn.op_name in ("nn.conv2d", "nn.conv1d") and syn.attr("groups") != 1:  # type: ignore[attr-defined]
        return None, "grouped conv"
    channels = t.shape[0]
    region: list[Operation] = []
    consumers: list[tuple[Operation, int]] = []
    flattens: list[Operation] = []
    spiking: Value | None = None
    work = [syn.results[0]]
    while work:
        v = work.pop()
        for u in v.users:
            if u.op_name in CHANNELWISE and len(u.operands) == 1:
                if u.op_name == "nn.scale":
                    s = tensor_attr_array(u, "scale")
                    if s is not None and s.size != 1 and (s.ndim < len(t.shape) or s.shape[0] != channels):
                        return None, "nn.scale with a non-channel scale"
                region.append(u)
                if u.op_name in SPIKING and spiking is None:
                    spiking = u.results[0]
                work.append(u.results[0])
            elif u.op_name in SYNAPSES and u.operands[0] is v:
                if u.op_name != "nn.linear" and u.attr("groups") != 1:  # type: ignore[attr-defined]
                    return None, f"feeds a grouped {u.op_name}"
                if u.op_name == "nn.linear" and len(v.type.shape) != 1:  # type: ignore[attr-defined]
                    return None, "feeds a linear over a multi-axis value"
                consumers.append((u, 1))
            elif u.op_name == "nn.flatten" and len(v.type.shape) >= 2:  # type: ignore[attr-defined]
                ft = u.results[0].type
                assert isinstance(ft, TensorType)
                if len(ft.shape) != 1:
                    return None, "partial flatten"
                block = int(np.prod(v.type.shape[1:]))  # type: ignore[attr-defined]
                for w in u.results[0].users:
                    if w.op_name != "nn.linear":
                        return None, f"flatten feeds {w.op_name}"
                    consumers.append((w, block))
                flattens.append(u)
            else:
                return None, f"reaches {u.op_name}"
    if not consumers:
        return None, "no synapse consumes it"
    return _Layer(syn, "", channels, region, consumers, flattens, spiking), ""


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


def _set_channels(v: Value, n: int) -> None:
    t = v.type
    assert isinstance(t, TensorType)
    v.type = TensorType((n, *t.shape[1:]), t.element)


def _apply(layer: _Layer, keep: np.ndarray) -> None:
    c = layer.channels
    syn = layer.synapse
    for name in ("weight", "bias"):
        _slice_attr(syn, name, keep, 0, c)
    _set_channels(syn.results[0], len(keep))
    for op in layer.region:
        rank = len(op.results[0].type.shape)  # type: ignore[attr-defined]
        for name in list(op.attributes):
            if name in _SCALAR_ATTRS:
                continue
            a = op.attributes[name]
            if isinstance(getattr(a, "type", None), TensorType):
                arr = tensor_attr_array(op, name)
                # per-channel parameter: full rank with the channel axis first, or [C] of a batch norm
                if arr is not None and (arr.ndim == rank or op.op_name == "nn.batch_norm") and arr.shape[0] == c:
                    _slice_attr(op, name, keep, 0, c)
        _set_channels(op.results[0], len(keep))
    for f in layer.flattens:
        t = f.results[0].type
        assert isinstance(t, TensorType)
        block = t.shape[0] // c
        f.results[0].type = TensorType((block * len(keep),), t.element)
    for u, block in layer.consumers:
        w = tensor_attr_array(u, "weight")
        assert w is not None
        cols = (keep[:, None] * block + np.arange(block)[None, :]).ravel()
        a = u.get_attr("weight")
        u.set_attr("weight", weight_attr(np.take(w, cols, axis=1), a.type.element, hint="weight"))  # type: ignore[union-attr]


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
        skipped: dict[str, str] = {}
        sparsity = 0.0
        if self.ratio > 0:
            if self.structured:
                for g in graphs:
                    self._structured(g, cal if len(graphs) == 1 else None, removed, skipped)
            else:
                sparsity = self._unstructured(graphs)
        after = model_stats(module, cal)
        self.report = PruneReport(self.pipeline_text(), before, after, removed, skipped, sparsity)
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
                    removed: dict[str, int], skipped: dict[str, str]) -> None:
        layers: list[_Layer] = []
        for i, op in enumerate(o for o in g.body.ops if o.op_name in SYNAPSES):
            label = f"{op.op_name}#{i}"
            layer, why = _region(op)
            if layer is None:
                skipped[label] = why
                continue
            if self.criterion in (Criterion.svs, Criterion.dead) and layer.spiking is None:
                skipped[label] = "no spiking neuron after it"
                continue
            layer.label = label
            layers.append(layer)
        if not layers:
            return
        self._score(g, layers, cal)
        keeps = self._select(layers)
        for layer, keep in zip(layers, keeps, strict=True):
            if len(keep) < layer.channels:
                _apply(layer, keep)
                removed[layer.label] = layer.channels - len(keep)

    def _score(self, g: Operation, layers: list[_Layer], cal: dict[str, np.ndarray] | None) -> None:
        if self.criterion in (Criterion.l1, Criterion.l2):
            for layer in layers:
                w = tensor_attr_array(layer.synapse, "weight")
                assert w is not None
                rows = np.abs(w.reshape(w.shape[0], -1))
                s = rows.sum(axis=1) if self.criterion is Criterion.l1 else np.sqrt((rows**2).sum(axis=1))
                if self.scope is Scope.global_:
                    s = s / (rows.shape[1] if self.criterion is Criterion.l1 else np.sqrt(rows.shape[1]))
                layer.scores = s
            return
        from ..interp.core import run_graph

        assert cal is not None
        names = {layer.spiking: f"s{i}" for i, layer in enumerate(layers) if layer.spiking is not None}
        res = run_graph(g, cal, batched=True, probe=True, value_names=names)
        for i, layer in enumerate(layers):
            spikes = np.asarray(res.probes[f"s{i}"]).astype(np.float64)  # [T, B, C, ...]
            if self.criterion is Criterion.svs:
                layer.scores = svs_channel_scores(spikes)
            else:
                layer.scores = np.abs(spikes).reshape(spikes.shape[0], spikes.shape[1], spikes.shape[2], -1).sum(axis=(0, 1, 3))

    def _select(self, layers: list[_Layer]) -> list[np.ndarray]:
        """Kept channel indices per layer (sorted); ties broken by channel index (stable)."""
        def n_prune(layer: _Layer, n: int) -> int:
            n = min(n, layer.channels - 1)  # keep at least one channel
            if self.criterion is Criterion.dead:
                n = min(n, int(np.sum(layer.scores == 0)))  # type: ignore[operator]
            return max(n, 0)

        drop: list[set[int]] = [set() for _ in layers]
        if self.scope is Scope.layer:
            for k, layer in enumerate(layers):
                n = n_prune(layer, int(np.floor(self.ratio * layer.channels)))
                order = np.argsort(layer.scores, kind="stable")  # type: ignore[arg-type]
                drop[k] = set(order[:n].tolist())
        else:
            total = sum(layer.channels for layer in layers)
            budget = int(np.floor(self.ratio * total))
            cands = sorted((float(layer.scores[c]), k, c) for k, layer in enumerate(layers)  # type: ignore[index]
                           for c in range(layer.channels))
            for score, k, c in cands:
                if budget == 0:
                    break
                layer = layers[k]
                if len(drop[k]) >= layer.channels - 1:
                    continue
                if self.criterion is Criterion.dead and score != 0:
                    continue
                drop[k].add(c)
                budget -= 1
        return [np.array([c for c in range(layer.channels) if c not in d], dtype=np.int64)
                for layer, d in zip(layers, drop, strict=True)]

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
