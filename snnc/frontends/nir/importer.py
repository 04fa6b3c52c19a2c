"""NIR graph -> one ``snn.graph`` in a module.

The importer works in four stages, each reporting bad input as a diagnostic located at
the file and the node (``model.nir: error: node 'lif1': ...``):

1. **Flatten** nested ``NIRGraph`` nodes.  A node ``n`` inside sub-graph ``s`` becomes
   ``s.n``; the sub-graph's own Input/Output nodes become pass-throughs.  An edge end
   naming a sub-graph means its single Input node (edge into it) or its single Output
   node (edge out of it); ``s.n`` names an inner node directly.  Edge ends are resolved
   exactly first, so flat names that contain dots (``lif1.lif``) work as well.
2. **Recurrence.**  NIR's convention is that an edge closing a cycle carries the value
   of the previous time step.  The back edges are those found by a depth-first search
   that starts at the top-level Input nodes (sorted by name), then at any node not yet
   reached (in node order), visiting a node's successors in edge-list order; each back
   edge ``u -> v`` gets an ``snn.delay {steps = 1}`` on ``u``'s value (one delay per
   source node).  This is the edge nirtorch (Norse's NIR import) reads from the
   previous step, so both run the same equations.
3. **Shapes.**  Per-sample shapes flow from the Input nodes along the other edges in
   topological order (ties broken by node order); every node's declared
   ``input_type``/``output_type``, when present, must agree.
4. **Ops.**  A per-node-type dispatch table builds the ops (see docs/nir.md for the
   table).  Several edges into one node are summed with ``nn.add``.

Graph inputs and outputs are numbered by the sorted names of the top-level Input and
Output nodes; ``snn.input``/``snn.output`` carry the node name.
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nir
import numpy as np

from ... import dialects as _dialects  # noqa: F401  (registers the nn and snn ops)
from ...dialects.common import weight_attr
from ...ir.attributes import DenseArrayAttr, FloatAttr, IntegerAttr, StringAttr
from ...ir.builder import Builder
from ...ir.builtin import ModuleOp
from ...ir.core import Block, Operation, Region, Value
from ...ir.diagnostics import DiagnosticError, FileLoc, error
from ...ir.types import TensorType, f32, f64, i1, i64
from ...ir.verifier import verify
from . import discretize
from .loader import read_graph

#: Time step used when neither the ``dt`` argument nor the graph's metadata gives one
#: (seconds; the step of every graph in the NIR paper).
DEFAULT_DT = 1e-4

#: Graph attributes the importer records (read back by the exporter).
DT_ATTR = "nir.dt"
SCHEME_ATTR = "nir.discretization"

Shape = tuple[int, ...]


@dataclass
class _Node:
    name: str  # qualified name
    node: Any  # the nir node
    kind: str  # NIR type name, or "Pass" for a sub-graph's Input/Output


@dataclass
class _Flat:
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # top-level Input nodes
    outputs: list[str] = field(default_factory=list)  # top-level Output nodes


def import_nir(
    source: str | os.PathLike[str] | nir.NIRGraph,
    *,
    dt: float | None = None,
    discretization: str | None = None,
) -> ModuleOp:
    """Import a NIR graph (a ``.nir`` file or a ``nir.NIRGraph``) as a module holding one
    ``snn.graph`` named ``main``.

    ``dt`` (seconds) precedence: the ``dt`` argument, else ``graph.metadata["dt"]``, else
    :data:`DEFAULT_DT`.  ``discretization`` is ``"euler"`` (forward Euler, as Norse) or
    ``"exact"`` (exponential); None means ``graph.metadata["discretization"]`` (what
    :func:`export_nir` records) else ``"euler"``.  The module is verified before it is
    returned.
    """
    if isinstance(source, nir.NIRGraph):
        fname = "<NIRGraph>"
        graph = source
    elif isinstance(source, (str, os.PathLike)):
        fname = os.fspath(source)
        graph = read_graph(source)
    else:
        raise error(f"cannot import a {type(source).__name__}: expected a path or a nir.NIRGraph", FileLoc("<input>"))
    if not isinstance(graph, nir.NIRGraph):
        raise error(f"top-level node is a {type(graph).__name__}, not a NIRGraph", FileLoc(fname))
    return _Importer(fname, graph, dt, discretization).run()


def resolve_dt(graph: nir.NIRGraph, dt: float | None, fname: str) -> float:
    """The time step: explicit argument > metadata ``dt`` > :data:`DEFAULT_DT`."""
    if dt is None:
        meta = graph.metadata if isinstance(graph.metadata, dict) else {}
        if "dt" in meta:
            try:
                dt = float(np.asarray(meta["dt"]).reshape(()))
            except (TypeError, ValueError):
                raise error(f"metadata 'dt' is not a number: {meta['dt']!r}", FileLoc(fname)) from None
        else:
            dt = DEFAULT_DT
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise error(f"time step dt must be a positive finite number, got {dt!r}", FileLoc(fname))
    return float(dt)


class _Importer:
    def __init__(self, fname: str, graph: nir.NIRGraph, dt: float | None, scheme: str | None) -> None:
        if scheme is None:
            meta = graph.metadata if isinstance(graph.metadata, dict) else {}
            scheme = str(meta.get("discretization", "euler"))
        if scheme not in discretize.SCHEMES:
            raise error(f"unknown discretization '{scheme}' (expected one of {', '.join(discretize.SCHEMES)})",
                        FileLoc(fname))
        self.fname = fname
        self.graph = graph
        self.scheme = scheme
        self.dt = resolve_dt(graph, dt, fname)
        self.flat = _Flat()
        self.values: dict[str, Value] = {}
        self.ops: dict[str, Operation] = {}
        self.in_shape: dict[str, Shape] = {}
        self.out_shape: dict[str, Shape] = {}

    def loc(self, node: str | None = None) -> FileLoc:
        return FileLoc(self.fname, node)

    def err(self, node: str | None, msg: str) -> DiagnosticError:
        return error(msg, self.loc(node))

    # ------------------------------------------------------------------ driver

    def run(self) -> ModuleOp:
        self._flatten(self.graph, "", top=True)
        self._resolve_edges()
        order, back = self._order()
        self._infer_shapes(order, back)
        module = ModuleOp.empty()
        block = Block()
        Builder.at_end(module.body).op(
            "snn.graph",
            attributes={
                "sym_name": StringAttr("main"),
                DT_ATTR: FloatAttr(self.dt, f64),
                SCHEME_ATTR: StringAttr(self.scheme),
            },
            regions=[Region([block])],
            location=self.loc(),
        )
        self.block = block
        self._build(order, back)
        verify(module)
        return module

    # ------------------------------------------------------------------ 1. flatten

    def _flatten(self, graph: nir.NIRGraph, prefix: str, top: bool) -> None:
        if not isinstance(graph.nodes, dict):
            raise self.err(prefix.rstrip(".") or None, "graph 'nodes' is not a dictionary")
        for name, node in graph.nodes.items():
            qual = prefix + str(name)
            if qual in self.flat.nodes:
                raise self.err(qual, "node name clashes with another node after flattening sub-graphs")
            if isinstance(node, nir.NIRGraph):
                self.flat.nodes[qual] = _Node(qual, node, "NIRGraph")
                self._flatten(node, qual + ".", top=False)
                continue
            kind = type(node).__name__
            if not isinstance(node, nir.NIRNode) or kind not in _BUILDERS:
                raise self.err(qual, f"unknown node type '{kind}'")
            if kind in ("Input", "Output") and not top:
                kind = "Pass"
            self.flat.nodes[qual] = _Node(qual, node, kind)
            if top and kind == "Input":
                self.flat.inputs.append(qual)
            if top and kind == "Output":
                self.flat.outputs.append(qual)
        for e in graph.edges:
            try:
                src, dst = (str(x) for x in e)
            except (TypeError, ValueError):
                raise self.err(prefix.rstrip(".") or None, f"malformed edge {e!r}") from None
            self.flat.edges.append((prefix + src, prefix + dst))
        self.flat.inputs.sort()
        self.flat.outputs.sort()

    def _resolve(self, name: str, role: str, edge: tuple[str, str]) -> str:
        node = self.flat.nodes.get(name)
        if node is None:
            other = edge[1] if role == "src" else edge[0]
            raise self.err(
                other if other in self.flat.nodes else name,
                f"edge '{edge[0]}' -> '{edge[1]}' names node '{name}', which does not exist",
            )
        if node.kind != "NIRGraph":
            return name
        sub: nir.NIRGraph = node.node
        want = nir.Input if role == "dst" else nir.Output
        ends = sorted(k for k, n in sub.nodes.items() if isinstance(n, want))
        if len(ends) != 1:
            what = "Input" if role == "dst" else "Output"
            raise self.err(
                name,
                f"edge '{edge[0]}' -> '{edge[1]}' names a sub-graph with {len(ends)} {what} nodes; "
                f"name one of them ('{name}.<node>')",
            )
        return self._resolve(f"{name}.{ends[0]}", role, edge)

    def _resolve_edges(self) -> None:
        resolved: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for e in self.flat.edges:
            r = (self._resolve(e[0], "src", e), self._resolve(e[1], "dst", e))
            if self.flat.nodes[r[0]].kind == "Output":
                raise self.err(r[0], f"edge '{e[0]}' -> '{e[1]}' leaves an Output node")
            if self.flat.nodes[r[1]].kind == "Input":
                raise self.err(r[1], f"edge '{e[0]}' -> '{e[1]}' enters an Input node")
            if r in seen:
                raise self.err(r[1], f"duplicate edge '{e[0]}' -> '{e[1]}'")
            seen.add(r)
            resolved.append(r)
        self.flat.edges = resolved
        # Sub-graph container nodes carry no computation.
        self.flat.nodes = {k: v for k, v in self.flat.nodes.items() if v.kind != "NIRGraph"}
        if not self.flat.inputs:
            raise self.err(None, "graph has no Input node")

    # ------------------------------------------------------------------ 2. order and back edges

    def _order(self) -> tuple[list[str], set[tuple[str, str]]]:
        names = list(self.flat.nodes)
        position = {n: i for i, n in enumerate(names)}
        succ: dict[str, list[str]] = {n: [] for n in names}
        for s, d in self.flat.edges:
            succ[s].append(d)
        # Iterative DFS: white (absent) / grey (on stack) / black (done).
        color: dict[str, int] = {}
        back: set[tuple[str, str]] = set()
        roots = list(self.flat.inputs) + [n for n in names if n not in self.flat.inputs]
        for root in roots:
            if root in color:
                continue
            color[root] = 1
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                node, i = stack[-1]
                if i < len(succ[node]):
                    stack[-1] = (node, i + 1)
                    nxt = succ[node][i]
                    c = color.get(nxt, 0)
                    if c == 0:
                        color[nxt] = 1
                        stack.append((nxt, 0))
                    elif c == 1:
                        back.add((node, nxt))
                else:
                    color[node] = 2
                    stack.pop()
        # Topological order of the forward edges, ties by node order.
        indeg = {n: 0 for n in names}
        fsucc: dict[str, list[str]] = {n: [] for n in names}
        for s, d in self.flat.edges:
            if (s, d) not in back:
                fsucc[s].append(d)
                indeg[d] += 1
        heap = [(position[n], n) for n in names if indeg[n] == 0]
        heapq.heapify(heap)
        order: list[str] = []
        while heap:
            _, n = heapq.heappop(heap)
            order.append(n)
            for d in fsucc[n]:
                indeg[d] -= 1
                if indeg[d] == 0:
                    heapq.heappush(heap, (position[d], d))
        assert len(order) == len(names), "removing DFS back edges leaves an acyclic graph"
        return order, back

    # ------------------------------------------------------------------ 3. shapes

    def _preds(self, name: str) -> list[tuple[str, bool]]:
        """(source, is_back_edge) of every edge into ``name``, in edge order."""
        return [(s, (s, d) in self._back) for s, d in self.flat.edges if d == name]

    def _infer_shapes(self, order: list[str], back: set[tuple[str, str]]) -> None:
        self._back = back
        for name in order:
            n = self.flat.nodes[name]
            preds = self._preds(name)
            declared = _declared(n.node, "input_type", "input")
            if n.kind == "Input":
                if declared is None:
                    raise self.err(name, "Input node has no shape")
                shape = declared
            else:
                fwd = [s for s, is_back in preds if not is_back]
                if not preds:
                    raise self.err(name, f"{n.kind} node has no incoming edge")
                if fwd:
                    shape = self.out_shape[fwd[0]]
                    for s in fwd[1:]:
                        if self.out_shape[s] != shape:
                            raise self.err(
                                name,
                                f"shape mismatch: edges into it carry {_fmt(shape)} (from '{fwd[0]}') "
                                f"and {_fmt(self.out_shape[s])} (from '{s}')",
                            )
                elif declared is not None:
                    shape = declared
                else:
                    raise self.err(name, "cannot infer its input shape (reached only through recurrent edges)")
                if declared is not None and declared != shape:
                    src = fwd[0] if fwd else preds[0][0]
                    raise self.err(
                        name,
                        f"shape mismatch: edge '{src}' -> '{name}' carries {_fmt(shape)} "
                        f"but the node's input_type is {_fmt(declared)}",
                    )
            self.in_shape[name] = shape
            out = _SHAPES[n.kind](self, n, shape)
            out_decl = _declared(n.node, "output_type", "output")
            if out_decl is not None and out_decl != out and n.kind not in ("Input", "Output", "Pass"):
                raise self.err(
                    name, f"shape mismatch: the node computes {_fmt(out)} but its output_type is {_fmt(out_decl)}"
                )
            self.out_shape[name] = out
        for s, d in back:
            if self.out_shape[s] != self.in_shape[d]:
                raise self.err(
                    d,
                    f"shape mismatch: recurrent edge '{s}' -> '{d}' carries {_fmt(self.out_shape[s])} "
                    f"but the node takes {_fmt(self.in_shape[d])}",
                )

    # ------------------------------------------------------------------ 4. ops

    def _build(self, order: list[str], back: set[tuple[str, str]]) -> None:
        self.delays: dict[str, Operation] = {}
        for name in order:
            n = self.flat.nodes[name]
            b = Builder.at_end(self.block, self.loc(name))
            x = None if n.kind == "Input" else self._sum_inputs(b, name)
            val = _BUILDERS[n.kind](self, b, n, x)
            if val is not None:
                self.values[name] = val
        # Close the cycles: each delay reads its source node's value.
        for src, d in self.delays.items():
            d.set_operand(0, self.values[src])

    def _delay_of(self, src: str) -> Value:
        """The ``snn.delay`` on ``src``'s value (created on first use; its operand is set
        once ``src`` is built, which is later: ``src`` closes a cycle)."""
        d = self.delays.get(src)
        if d is None:
            t = TensorType(self.out_shape[src], self._elem_of(src))
            d = Builder.at_end(self.block, self.loc(src)).op(
                "snn.delay", [Value(t)], [t], {"steps": IntegerAttr(1, i64)}
            )
            self.delays[src] = d
        return d.result

    def _elem_of(self, name: str):
        """Element type of ``name``'s output value (known before it is built)."""
        kind = self.flat.nodes[name].kind
        if kind in ("LIF", "IF", "CubaLIF", "Threshold"):
            return i1
        if kind in ("Flatten", "Pass", "Delay"):
            preds = self._preds(name)
            if len(preds) == 1:
                src, is_back = preds[0]
                return self._elem_of(src)
        return f32

    def _sum_inputs(self, b: Builder, name: str) -> Value:
        """The node's input: the sum (``nn.add`` chain, edge order) of every incoming edge."""
        vals = [self._delay_of(s) if is_back else self.values[s] for s, is_back in self._preds(name)]
        acc = vals[0]
        for v in vals[1:]:
            acc = b.op("nn.add", [acc, v], [TensorType(self.in_shape[name], f32)]).result
        return acc

    # ------------------------------------------------------------------ parameters

    def array(self, n: _Node, attr: str, shape: Shape | None = None, *, positive: bool = False) -> np.ndarray:
        raw = getattr(n.node, attr, None)
        if raw is None:
            raise self.err(n.name, f"{n.kind} node lacks parameter '{attr}'")
        try:
            arr = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise self.err(n.name, f"parameter '{attr}' is not numeric") from None
        if not np.all(np.isfinite(arr)):
            raise self.err(n.name, f"parameter '{attr}' holds non-finite values")
        if positive and not np.all(arr > 0):
            bad = float(arr.reshape(-1)[np.argmax(~(arr.reshape(-1) > 0))])
            raise self.err(n.name, f"parameter '{attr}' must be positive, got {bad:g}")
        if shape is not None and not _broadcasts(arr.shape, shape):
            raise self.err(
                n.name,
                f"shape mismatch: parameter '{attr}' has shape {_fmt(arr.shape)}, "
                f"which does not fit the input shape {_fmt(shape)}",
            )
        return arr

    def leaky(self, n: _Node, tau_name: str, tau: np.ndarray, r: np.ndarray, v_leak: np.ndarray):
        if self.scheme == "euler":
            ratio = self.dt / tau
            if np.any(ratio > 1):
                raise self.err(
                    n.name,
                    f"forward Euler is unstable for '{tau_name}' = {float(np.min(tau)):g} < dt = {self.dt:g} "
                    "(dt/tau > 1); use discretization='exact' or a smaller dt",
                )
        return discretize.leaky(tau, r, v_leak, self.dt, self.scheme)


# =========================================================================== helpers


def _declared(node: Any, attr: str, key: str) -> Shape | None:
    t = getattr(node, attr, None)
    if not isinstance(t, dict):
        return None
    v = t.get(key)
    if v is None and len(t) == 1:
        v = next(iter(t.values()))
    if v is None:
        return None
    try:
        arr = np.asarray(v).reshape(-1)
        return tuple(int(d) for d in arr)
    except (TypeError, ValueError):
        return None


def _fmt(shape: Any) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _broadcasts(src: Shape, dst: Shape) -> bool:
    if len(src) > len(dst):
        return False
    for a, b in zip(reversed(src), reversed(dst)):
        if a != b and a != 1:
            return False
    return True


def param_attr(arr: np.ndarray, hint: str) -> Any:
    """A neuron parameter: a float64 ``FloatAttr`` when uniform, else a float64 tensor."""
    arr = np.asarray(arr, dtype=np.float64)
    flat = arr.reshape(-1)
    if flat.size == 0 or bool(np.all(flat == flat[0])):
        return FloatAttr(float(flat[0]) if flat.size else 0.0, f64)
    return weight_attr(arr, f64, hint=hint)


def _weight(arr: Any, hint: str) -> Any:
    a = np.asarray(arr)
    elt = f64 if a.dtype == np.float64 else f32
    return weight_attr(a.astype(np.float64 if elt == f64 else np.float32), elt, hint=hint)


def _ints(v: Any, n: int, what: str, imp: _Importer, node: str) -> tuple[int, ...]:
    """``v`` (a scalar or ``n`` values) as ``n`` integers."""
    try:
        arr = np.asarray(v, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise imp.err(node, f"'{what}' must hold integers, got {v!r}") from None
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.size != n:
        raise imp.err(node, f"'{what}' must have 1 or {n} values, got {arr.size}")
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.rint(arr)):
        raise imp.err(node, f"'{what}' must hold integers, got {v!r}")
    return tuple(int(x) for x in arr)


# --------------------------------------------------------------------------- shapes per node type


def _same(imp: _Importer, n: _Node, s: Shape) -> Shape:
    return s


def _shape_affine(imp: _Importer, n: _Node, s: Shape) -> Shape:
    w = np.asarray(n.node.weight)
    if w.ndim != 2:
        raise imp.err(n.name, f"only 2-d weights are supported, got shape {_fmt(w.shape)}")
    if not s or s[-1] != w.shape[1]:
        raise imp.err(n.name, f"shape mismatch: input {_fmt(s)} does not match weight {_fmt(w.shape)} ([out, in])")
    return s[:-1] + (int(w.shape[0]),)


def _conv_geometry(imp: _Importer, n: _Node, s: Shape, nd: int):
    node = n.node
    w = np.asarray(node.weight)
    if w.ndim != nd + 2:
        raise imp.err(n.name, f"weight must be {nd + 2}-d [Cout, Cin/groups, k...], got shape {_fmt(w.shape)}")
    groups = int(np.asarray(node.groups).reshape(()))
    if len(s) != nd + 1:
        raise imp.err(n.name, f"shape mismatch: input {_fmt(s)} is not [C, {'L' if nd == 1 else 'H, W'}]")
    if groups < 1 or s[0] != w.shape[1] * groups:
        raise imp.err(n.name, f"shape mismatch: input has {s[0]} channels, weight expects {w.shape[1]} x {groups} groups")
    stride = _ints(node.stride, nd, "stride", imp, n.name)
    dilation = _ints(node.dilation, nd, "dilation", imp, n.name)
    k = tuple(int(d) for d in w.shape[2:])
    pad = node.padding
    if isinstance(pad, (str, bytes)):
        pad = pad.decode() if isinstance(pad, bytes) else pad
        if pad == "valid":
            pads = tuple((0, 0) for _ in range(nd))
        elif pad == "same":
            if any(st != 1 for st in stride):
                raise imp.err(n.name, "padding 'same' with a stride other than 1 is not supported")
            pads = tuple((dl * (kk - 1) // 2, dl * (kk - 1) - dl * (kk - 1) // 2) for dl, kk in zip(dilation, k))
        else:
            raise imp.err(n.name, f"padding must be an integer, 'same' or 'valid', got '{pad}'")
    else:
        p = _ints(pad, nd, "padding", imp, n.name)
        pads = tuple((x, x) for x in p)
    if any(x < 1 for x in stride) or any(x < 1 for x in dilation) or any(lo < 0 or hi < 0 for lo, hi in pads):
        raise imp.err(n.name, "stride and dilation must be >= 1 and padding >= 0")
    out = []
    for i in range(nd):
        size = (s[1 + i] + pads[i][0] + pads[i][1] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1
        if size < 1:
            raise imp.err(n.name, f"input {_fmt(s)} is too small for kernel {_fmt(k)}")
        out.append(size)
    bias = getattr(node, "bias", None)
    return w, bias, stride, pads, dilation, groups, (int(w.shape[0]), *out)


def _shape_conv1d(imp: _Importer, n: _Node, s: Shape) -> Shape:
    return _conv_geometry(imp, n, s, 1)[-1]


def _shape_conv2d(imp: _Importer, n: _Node, s: Shape) -> Shape:
    return _conv_geometry(imp, n, s, 2)[-1]


def _pool_geometry(imp: _Importer, n: _Node, s: Shape):
    node = n.node
    if len(s) != 3:
        raise imp.err(n.name, f"shape mismatch: input {_fmt(s)} is not [C, H, W]")
    k = _ints(node.kernel_size, 2, "kernel_size", imp, n.name)
    st = _ints(node.stride, 2, "stride", imp, n.name)
    p = _ints(node.padding, 2, "padding", imp, n.name)
    if any(x < 1 for x in k + st) or any(x < 0 for x in p):
        raise imp.err(n.name, "kernel_size and stride must be >= 1 and padding >= 0")
    out = [s[0]]
    for i in range(2):
        size = (s[1 + i] + 2 * p[i] - k[i]) // st[i] + 1
        if size < 1:
            raise imp.err(n.name, f"input {_fmt(s)} is too small for kernel {_fmt(k)}")
        out.append(size)
    return k, st, p, tuple(out)


def _shape_pool(imp: _Importer, n: _Node, s: Shape) -> Shape:
    return _pool_geometry(imp, n, s)[-1]


def _flatten_dims(imp: _Importer, n: _Node, s: Shape) -> tuple[int, int]:
    rank = len(s)
    start = int(np.asarray(n.node.start_dim).reshape(()))
    end = int(np.asarray(n.node.end_dim).reshape(()))
    start = start + rank if start < 0 else start
    end = end + rank if end < 0 else end
    if not (0 <= start <= end < rank):
        raise imp.err(n.name, f"start_dim/end_dim ({n.node.start_dim}, {n.node.end_dim}) do not fit input {_fmt(s)}")
    return start, end


def _shape_flatten(imp: _Importer, n: _Node, s: Shape) -> Shape:
    start, end = _flatten_dims(imp, n, s)
    return s[:start] + (int(np.prod(s[start : end + 1])),) + s[end + 1 :]


_SHAPES: dict[str, Callable[[_Importer, _Node, Shape], Shape]] = {
    "Input": _same,
    "Output": _same,
    "Pass": _same,
    "Affine": _shape_affine,
    "Linear": _shape_affine,
    "Scale": _same,
    "Conv1d": _shape_conv1d,
    "Conv2d": _shape_conv2d,
    "SumPool2d": _shape_pool,
    "AvgPool2d": _shape_pool,
    "Flatten": _shape_flatten,
    "Delay": _same,
    "Threshold": _same,
    "I": _same,
    "IF": _same,
    "LI": _same,
    "LIF": _same,
    "CubaLI": _same,
    "CubaLIF": _same,
}


# --------------------------------------------------------------------------- builders per node type
#
# Each builder gets the importer, a Builder located at the node, the node and its (summed)
# input value, and returns the node's output value (None for Output nodes).


def _t(imp: _Importer, name: str, elt=f32) -> TensorType:
    return TensorType(imp.out_shape[name], elt)


def _op(imp: _Importer, b: Builder, name: str, x: Value, out_type: TensorType, attrs: dict[str, Any]) -> Value:
    return b.op(name, [x], [out_type], attrs).result


def _build_input(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    idx = imp.flat.inputs.index(n.name)
    return b.op("snn.input", [], [_t(imp, n.name)], {"name": StringAttr(n.name), "index": IntegerAttr(idx, i64)}).result


def _build_output(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> None:
    assert x is not None
    idx = imp.flat.outputs.index(n.name)
    b.op("snn.output", [x], [], {"name": StringAttr(n.name), "index": IntegerAttr(idx, i64)})
    return None


def _build_pass(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    return x


def _build_affine(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    attrs: dict[str, Any] = {"weight": _weight(n.node.weight, n.name + "_weight")}
    imp.array(n, "weight")
    if n.kind == "Affine":
        bias = imp.array(n, "bias")
        if bias.shape != (int(np.asarray(n.node.weight).shape[0]),):
            raise imp.err(n.name, f"shape mismatch: bias {_fmt(bias.shape)} does not match weight {_fmt(np.asarray(n.node.weight).shape)}")
        attrs["bias"] = _weight(n.node.bias, n.name + "_bias")
    return _op(imp, b, "nn.linear", x, _t(imp, n.name), attrs)


def _build_scale(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    s = imp.array(n, "scale", imp.in_shape[n.name])
    return _op(imp, b, "nn.scale", x, _t(imp, n.name), {"scale": param_attr(s, n.name + "_scale")})


def _build_conv(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    nd = 1 if n.kind == "Conv1d" else 2
    w, bias, stride, pads, dilation, groups, _ = _conv_geometry(imp, n, imp.in_shape[n.name], nd)
    imp.array(n, "weight")
    flat_pad = [p for pair in pads for p in pair]
    padding = [lo for lo, _ in pads] if all(lo == hi for lo, hi in pads) else flat_pad
    attrs: dict[str, Any] = {
        "weight": _weight(w, n.name + "_weight"),
        "stride": DenseArrayAttr(i64, stride),
        "padding": DenseArrayAttr(i64, tuple(padding)),
        "dilation": DenseArrayAttr(i64, dilation),
        "groups": IntegerAttr(groups, i64),
    }
    if bias is not None:
        barr = imp.array(n, "bias")
        if barr.shape != (int(w.shape[0]),):
            raise imp.err(n.name, f"shape mismatch: bias {_fmt(barr.shape)} does not match {int(w.shape[0])} output channels")
        attrs["bias"] = _weight(bias, n.name + "_bias")
    return _op(imp, b, "nn.conv1d" if nd == 1 else "nn.conv2d", x, _t(imp, n.name), attrs)


def _build_pool(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    k, st, p, _ = _pool_geometry(imp, n, imp.in_shape[n.name])
    name = "nn.sum_pool2d" if n.kind == "SumPool2d" else "nn.avg_pool2d"
    attrs = {"kernel_size": DenseArrayAttr(i64, k), "stride": DenseArrayAttr(i64, st), "padding": DenseArrayAttr(i64, p)}
    return _op(imp, b, name, x, _t(imp, n.name), attrs)


def _build_flatten(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    start, end = _flatten_dims(imp, n, imp.in_shape[n.name])
    elt = x.type.element if isinstance(x.type, TensorType) else f32
    attrs = {"start_dim": IntegerAttr(start, i64), "end_dim": IntegerAttr(end, i64)}
    return _op(imp, b, "nn.flatten", x, _t(imp, n.name, elt), attrs)


def _build_delay(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    d = imp.array(n, "delay", imp.in_shape[n.name])
    steps = d / imp.dt
    rounded = np.rint(steps)
    if np.any(np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)):
        raise imp.err(n.name, f"delay {d.reshape(-1)[0]:g} s is not a whole number of time steps of dt = {imp.dt:g} s")
    if np.any(rounded != rounded.reshape(-1)[0]):
        raise imp.err(n.name, "per-element delays of different lengths are not supported (snn.delay has one 'steps')")
    k = int(rounded.reshape(-1)[0]) if rounded.size else 0
    if k < 0:
        raise imp.err(n.name, f"delay must be non-negative, got {d.reshape(-1)[0]:g}")
    if k == 0:
        return _build_pass(imp, b, n, x)
    return _op(imp, b, "snn.delay", x, x.type, {"steps": IntegerAttr(k, i64)})  # type: ignore[arg-type]


def _build_threshold(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    th = imp.array(n, "threshold", imp.in_shape[n.name])
    attrs = {"theta": param_attr(th, n.name + "_threshold"), "cmp": StringAttr("gt")}
    return _op(imp, b, "snn.threshold", x, _t(imp, n.name, i1), attrs)


def _spiking(imp: _Importer, n: _Node, shape: Shape) -> dict[str, Any]:
    vth = imp.array(n, "v_threshold", shape)
    vr = getattr(n.node, "v_reset", None)
    vreset = np.zeros_like(vth) if vr is None else imp.array(n, "v_reset", shape)
    return {
        "v_th": param_attr(vth, n.name + "_v_th"),
        "v_reset": param_attr(vreset, n.name + "_v_reset"),
        "reset": StringAttr("hard"),
        "cmp": StringAttr("gt"),
    }


def _build_i(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    r = imp.array(n, "r", imp.in_shape[n.name])
    attrs = {"beta": param_attr(r, n.name + "_beta"), "gamma": FloatAttr(0.0, f64)}
    return _op(imp, b, "snn.integrator", x, _t(imp, n.name), attrs)


def _build_if(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    shape = imp.in_shape[n.name]
    r = imp.array(n, "r", shape)
    attrs = {"beta": param_attr(r, n.name + "_beta"), "gamma": FloatAttr(0.0, f64), **_spiking(imp, n, shape)}
    return _op(imp, b, "snn.if", x, _t(imp, n.name, i1), attrs)


def _leaky_attrs(imp: _Importer, n: _Node, tau_name: str, shape: Shape, suffix: str = "") -> dict[str, Any]:
    tau = imp.array(n, tau_name, shape, positive=True)
    r = imp.array(n, "r", shape) if suffix == "" else None
    v_leak = imp.array(n, "v_leak", shape)
    if suffix == "_syn":
        w_in = getattr(n.node, "w_in", None)
        gain = np.ones_like(tau) if w_in is None else imp.array(n, "w_in", shape)
        alpha, beta, _ = imp.leaky(n, tau_name, tau, gain, np.zeros_like(tau))
        gamma = np.zeros(())
        rest = None
    else:
        assert r is not None
        alpha, beta, gamma = imp.leaky(n, tau_name, tau, r, v_leak)
        rest = rest_potential(alpha, gamma)
    attrs = {
        "alpha" + suffix: param_attr(alpha, f"{n.name}_alpha{suffix}"),
        "beta" + suffix: param_attr(beta, f"{n.name}_beta{suffix}"),
        "gamma" + suffix: param_attr(gamma, f"{n.name}_gamma{suffix}"),
    }
    if rest is not None:
        # The membrane starts at rest, as in Norse (v = v_leak).  It is computed from the
        # coefficients (gamma / (1 - alpha) equals v_leak up to rounding) so that an
        # exported and re-imported neuron starts from the very same value.
        attrs["v_init"] = param_attr(rest, f"{n.name}_v_init")
    return attrs


def rest_potential(alpha: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """The fixed point ``gamma / (1 - alpha)`` of ``v = alpha*v + gamma`` (zero input)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    gamma = np.broadcast_to(np.asarray(gamma, dtype=np.float64), alpha.shape)
    one_minus = 1.0 - alpha
    safe = np.where(one_minus != 0, one_minus, 1.0)
    return np.where(one_minus != 0, gamma / safe, 0.0)


def _build_li(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    shape = imp.in_shape[n.name]
    attrs = _leaky_attrs(imp, n, "tau", shape)
    return _op(imp, b, "snn.li", x, _t(imp, n.name), attrs)


def _build_lif(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    shape = imp.in_shape[n.name]
    attrs = {**_leaky_attrs(imp, n, "tau", shape), **_spiking(imp, n, shape)}
    return _op(imp, b, "snn.lif", x, _t(imp, n.name, i1), attrs)


def _build_cuba(imp: _Importer, b: Builder, n: _Node, x: Value | None) -> Value:
    assert x is not None
    shape = imp.in_shape[n.name]
    attrs = {**_leaky_attrs(imp, n, "tau_syn", shape, "_syn"), **_leaky_attrs(imp, n, "tau_mem", shape)}
    attrs["i_init"] = FloatAttr(0.0, f64)
    if n.kind == "CubaLIF":
        attrs.update(_spiking(imp, n, shape))
        return _op(imp, b, "snn.cuba_lif", x, _t(imp, n.name, i1), attrs)
    return _op(imp, b, "snn.cuba_li", x, _t(imp, n.name), attrs)


_BUILDERS: dict[str, Callable[[_Importer, Builder, _Node, Value | None], Value | None]] = {
    "Input": _build_input,
    "Output": _build_output,
    "Pass": _build_pass,
    "Affine": _build_affine,
    "Linear": _build_affine,
    "Scale": _build_scale,
    "Conv1d": _build_conv,
    "Conv2d": _build_conv,
    "SumPool2d": _build_pool,
    "AvgPool2d": _build_pool,
    "Flatten": _build_flatten,
    "Delay": _build_delay,
    "Threshold": _build_threshold,
    "I": _build_i,
    "IF": _build_if,
    "LI": _build_li,
    "LIF": _build_lif,
    "CubaLI": _build_cuba,
    "CubaLIF": _build_cuba,
}
