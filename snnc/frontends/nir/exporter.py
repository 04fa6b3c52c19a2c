"""``snn.graph`` -> NIR graph: the inverse of :mod:`snnc.frontends.nir.importer`.

Every op becomes one NIR node (named after the NIR node it came from when the op's
location says so, else ``<kind>_<n>``) except:

* ``nn.add`` becomes several edges into each consumer (NIR sums the edges into a node);
* an ``snn.delay`` that lies on a cycle becomes a plain (recurrent) edge: NIR's
  convention is that the edge closing a cycle carries the previous step's value.  A
  cycle delay of ``k > 1`` steps keeps a ``nir.Delay`` of ``(k-1)*dt``.  A delay on no
  cycle becomes a ``nir.Delay`` of ``k*dt`` seconds.

The exporter then runs the importer's depth-first search on the graph it built and
checks that it finds exactly the recurrent edges it meant (trying the natural edge
order, then forward edges first): otherwise the re-imported graph would place its
delays elsewhere, so it reports a diagnostic instead of writing a different network.

Neuron coefficients are turned back into time constants with :mod:`.discretize`'s
inverse (exact to the bit for what the importer produced); ``dt`` and the scheme come
from the ``dt`` argument, else the graph's ``nir.dt`` / ``nir.discretization``
attributes, else :data:`DEFAULT_DT` and ``euler``.  Ops without a NIR counterpart, and
neuron variants NIR cannot state (soft reset, ``>=`` comparison, constant drive on a
synapse...), are reported as diagnostics located at the op.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import nir
import numpy as np

from ... import dialects as _dialects  # noqa: F401
from ...dialects.snn import find_graph
from ...ir.attributes import DenseElementsAttr, DenseResourceAttr, FloatAttr
from ...ir.core import Operation, Value
from ...ir.diagnostics import DiagnosticError, FileLoc, error
from ...ir.types import TensorType
from . import discretize
from .importer import DEFAULT_DT, DT_ATTR, SCHEME_ATTR, rest_potential

Source = tuple[str, bool]  # (NIR node name, edge is recurrent)


def export_nir(module: Operation, *, dt: float | None = None, graph: str | None = None) -> nir.NIRGraph:
    """Convert the module's ``snn.graph`` (or the one named ``graph``) to a ``nir.NIRGraph``.

    ``dt`` overrides the graph's recorded ``nir.dt``.  The graph's ``metadata`` records
    ``dt`` and ``discretization``."""
    g = find_graph(module, graph)
    return _Exporter(g, dt).run()


def write_nir(module: Operation, path: str | os.PathLike[str], dt: float | None = None) -> None:
    """Export the module (see :func:`export_nir`) and write it as a ``.nir`` file."""
    graph = export_nir(module, dt=dt)
    try:
        nir.write(os.fspath(path), graph)
    except OSError as e:
        raise error(f"cannot write NIR file: {e}", FileLoc(os.fspath(path))) from None


class _Exporter:
    def __init__(self, graph: Operation, dt: float | None) -> None:
        self.g = graph
        if dt is None:
            a = graph.get_attr(DT_ATTR)
            dt = float(a.value) if isinstance(a, FloatAttr) else DEFAULT_DT
        if not (np.isfinite(dt) and dt > 0):
            raise error(f"time step dt must be positive, got {dt!r}", graph.location)
        self.dt = float(dt)
        s = graph.get_attr(SCHEME_ATTR)
        self.scheme = str(s.value) if s is not None else "euler"
        if self.scheme not in discretize.SCHEMES:
            raise graph.emit_error(f"attribute '{SCHEME_ATTR}' must be one of {', '.join(discretize.SCHEMES)}")
        self.nodes: dict[str, Any] = {}
        self.names: dict[int, str] = {}  # id(op) -> node name
        self.sources: dict[Value, list[Source]] = {}
        self.counter = 0
        self.edges: list[tuple[str, str, bool]] = []

    # ------------------------------------------------------------------ driver

    def run(self) -> nir.NIRGraph:
        ops = list(self.g.body.ops)
        used: set[str] = set()
        for op in ops:  # names first: Input/Output names, then source node names, then fresh ones
            if op.op_name in ("snn.input", "snn.output"):
                used.add(str(op.attr("name")))  # type: ignore[attr-defined]
        for op in ops:
            if op.op_name in _NODE_BUILDERS and op.op_name not in ("snn.input", "snn.output"):
                self.names[id(op)] = self._name_for(op, used)
            elif op.op_name in ("snn.input", "snn.output"):
                self.names[id(op)] = str(op.attr("name"))  # type: ignore[attr-defined]
        for op in ops:
            if op.op_name in ("nn.add", "snn.delay"):
                continue
            builder = _NODE_BUILDERS.get(op.op_name)
            if builder is None:
                raise op.emit_error("has no NIR equivalent; cannot export this graph to NIR")
            name = self.names[id(op)]
            self.nodes[name] = builder(self, op)
            for v in op.operands:
                for src, rec in self._sources(v, set()):
                    self.edges.append((src, name, rec))
        seen: set[tuple[str, str]] = set()
        for s, d, _ in self.edges:
            if (s, d) in seen:
                raise error(
                    f"NIR cannot express two edges from '{s}' into '{d}' (the sum of a value with itself)",
                    self.g.location,
                )
            seen.add((s, d))
        edges = self._order_edges()
        meta = {"dt": self.dt, "discretization": self.scheme}
        return nir.NIRGraph(nodes=self.nodes, edges=edges, metadata=meta, type_check=False)

    def _name_for(self, op: Operation, used: set[str]) -> str:
        loc = op.location
        if isinstance(loc, FileLoc) and loc.node and loc.node not in used:
            used.add(loc.node)
            return loc.node
        base = op.op_name.split(".", 1)[1]
        while True:
            cand = f"{base}_{self.counter}"
            self.counter += 1
            if cand not in used:
                used.add(cand)
                return cand

    def _fresh(self, base: str) -> str:
        taken = set(self.nodes) | set(self.names.values())
        while True:
            cand = f"{base}_{self.counter}"
            self.counter += 1
            if cand not in taken:
                return cand

    # ------------------------------------------------------------------ values -> edge sources

    def _sources(self, v: Value, visiting: set[int]) -> list[Source]:
        """The NIR nodes whose (summed) outputs make up ``v``."""
        if v in self.sources:
            return self.sources[v]
        op = v.defining_op()
        if op is None or op.parent is not self.g.body:
            raise error("value is not defined by an op of the graph; cannot export", self.g.location)
        if id(op) in visiting:
            raise op.emit_error("lies on a cycle of nn.add/snn.delay ops with no NIR node on it; cannot export")
        visiting = visiting | {id(op)}
        if op.op_name == "nn.add":
            for x in op.operands:
                if x.type != op.result.type and not (
                    isinstance(x.type, TensorType) and x.type.shape == op.result.type.shape  # type: ignore[union-attr]
                ):
                    raise op.emit_error("broadcasting nn.add has no NIR equivalent (NIR sums edges of equal shape)")
            out = [s for x in op.operands for s in self._sources(x, visiting)]
        elif op.op_name == "snn.delay":
            steps = int(op.attr("steps"))  # type: ignore[attr-defined]
            on_cycle = self._on_cycle(op)
            inner = self._sources(op.operand("input"), visiting)  # type: ignore[attr-defined]
            k = steps - 1 if on_cycle else steps
            if k > 0:
                name = self._fresh("delay")
                self.nodes[name] = nir.Delay(delay=np.full(_shape(op.result), k * self.dt, dtype=np.float64))
                for src, rec in inner:
                    self.edges.append((src, name, rec))
                inner = [(name, False)]
            if on_cycle:
                if any(rec for _, rec in inner):
                    raise op.emit_error("two one-step delays in a row on a cycle have no NIR equivalent")
                inner = [(src, True) for src, _ in inner]
            out = inner
        else:
            out = [(self.names[id(op)], False)]
        self.sources[v] = out
        return out

    def _on_cycle(self, delay: Operation) -> bool:
        """Whether the delay's result reaches its own operand (through any ops)."""
        start = delay.operands[0].defining_op()
        target = delay
        stack = [start]
        seen: set[int] = set()
        while stack:
            op = stack.pop()
            if op is None or id(op) in seen:
                continue
            if op is target:
                return True
            seen.add(id(op))
            for x in op.operands:
                stack.append(x.defining_op())
        return False

    # ------------------------------------------------------------------ edge order and the recurrence check

    def _order_edges(self) -> list[tuple[str, str]]:
        want = {(s, d) for s, d, rec in self.edges if rec}
        natural = [(s, d) for s, d, _ in self.edges]
        fwd_first = [(s, d) for s, d, rec in self.edges if not rec] + [(s, d) for s, d, rec in self.edges if rec]
        inputs = sorted(n for n, node in self.nodes.items() if isinstance(node, nir.Input))
        for order in (natural, fwd_first):
            if _dfs_back_edges(list(self.nodes), inputs, order) == want:
                return order
        got = _dfs_back_edges(list(self.nodes), inputs, fwd_first)
        raise error(
            "the graph's recurrence cannot be written in NIR's convention: a reader searching depth-first from the "
            f"inputs would delay {sorted(got)} instead of {sorted(want)}",
            self.g.location,
        )

    # ------------------------------------------------------------------ parameters

    def param(self, op: Operation, name: str, shape: tuple[int, ...]) -> np.ndarray:
        a = op.get_attr(name)
        if a is None:
            v = op.attr(name)  # type: ignore[attr-defined]
            arr = np.asarray(v, dtype=np.float64)
        elif isinstance(a, FloatAttr):
            arr = np.asarray(a.value, dtype=np.float64)
        elif isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
            arr = np.asarray(a.data, dtype=np.float64)
        else:
            raise op.emit_error(f"parameter '{name}' is not a float or a float tensor")
        return np.broadcast_to(arr, shape).astype(np.float64)

    def require(self, op: Operation, cond: bool, what: str) -> None:
        if not cond:
            raise op.emit_error(f"{what}; NIR has no equivalent, cannot export")

    def spiking(self, op: Operation, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        self.require(op, op.attr("spike_fn") == "single",  # type: ignore[attr-defined]
                     "spike_fn = 'multi' (a graded spike count per step; NIR neurons emit one spike per step)")
        self.require(op, op.get_attr("v_min") is None, "a membrane lower bound v_min (Sinabs' min_v_mem)")
        self.require(op, op.attr("reset") == "hard", f"reset = '{op.attr('reset')}' (NIR neurons reset to v_reset)")  # type: ignore[attr-defined]
        self.require(op, op.attr("cmp") == "gt", "cmp = 'ge' (NIR neurons fire on v > v_threshold)")  # type: ignore[attr-defined]
        return {"v_threshold": self.param(op, "v_th", shape), "v_reset": self.param(op, "v_reset", shape)}

    def leaky(self, op: Operation, shape: tuple[int, ...], suffix: str = "") -> tuple[np.ndarray, ...]:
        alpha = self.param(op, "alpha" + suffix, shape)
        beta = self.param(op, "beta" + suffix, shape)
        gamma = self.param(op, "gamma" + suffix, shape)
        ok = (alpha > 0) & (alpha < 1) if self.scheme == "exact" else (alpha < 1) & (alpha >= 0)
        self.require(op, bool(np.all(ok)), f"'alpha{suffix}' outside the range a positive time constant gives")
        return discretize.invert_leaky(alpha, beta, gamma, self.dt, self.scheme)

    def check_rest(self, op: Operation, shape: tuple[int, ...]) -> None:
        """NIR neurons start at rest: ``v_init`` must be the importer's ``gamma / (1 - alpha)``."""
        rest = rest_potential(self.param(op, "alpha", shape), self.param(op, "gamma", shape))
        self.check_init(op, "v_init", rest, shape, "the rest potential gamma / (1 - alpha) (= v_leak)")

    def check_init(self, op: Operation, name: str, expected: np.ndarray, shape: tuple[int, ...], what: str) -> None:
        init = self.param(op, name, shape)
        ok = np.allclose(init, expected, rtol=1e-12, atol=0.0)
        self.require(op, bool(ok), f"'{name}' differs from {what} (NIR graphs start every neuron at rest)")


def _shape(v: Value) -> tuple[int, ...]:
    t = v.type
    if not isinstance(t, TensorType):
        raise error(f"value of type {t} is not a tensor; cannot export", None)
    return tuple(t.shape)


def _dfs_back_edges(names: list[str], inputs: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The importer's depth-first search (same roots, same successor order)."""
    succ: dict[str, list[str]] = {n: [] for n in names}
    for s, d in edges:
        succ.setdefault(s, []).append(d)
        succ.setdefault(d, [])
    color: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in inputs + [n for n in succ if n not in inputs]:
        if root in color:
            continue
        color[root] = 1
        stack = [(root, 0)]
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
    return back


# --------------------------------------------------------------------------- per-op node builders


def _in_shape(op: Operation) -> tuple[int, ...]:
    return _shape(op.operands[0])


def _ex_input(ex: _Exporter, op: Operation) -> Any:
    return nir.Input(input_type={"input": np.array(_shape(op.result), dtype=np.int64)})


def _ex_output(ex: _Exporter, op: Operation) -> Any:
    return nir.Output(output_type={"output": np.array(_in_shape(op), dtype=np.int64)})


def _tensor(op: Operation, name: str) -> np.ndarray | None:
    a = op.get_attr(name)
    if a is None:
        return None
    if not isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        raise op.emit_error(f"attribute '{name}' must be a tensor to export")
    return np.array(a.data)


def _ex_linear(ex: _Exporter, op: Operation) -> Any:
    w = _tensor(op, "weight")
    b = _tensor(op, "bias")
    assert w is not None
    if b is None:
        return nir.Linear(weight=w)
    return nir.Affine(weight=w, bias=b)


def _ex_scale(ex: _Exporter, op: Operation) -> Any:
    return nir.Scale(scale=ex.param(op, "scale", _in_shape(op)))


def _sym_padding(ex: _Exporter, op: Operation, n: int) -> tuple[int, ...]:
    pad = tuple(int(x) for x in op.attr("padding"))  # type: ignore[attr-defined]
    if len(pad) == n:
        return pad
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(n)]
    ex.require(op, all(lo == hi for lo, hi in pairs), "asymmetric padding")
    return tuple(lo for lo, _ in pairs)


def _conv_padding(ex: _Exporter, op: Operation, nd: int, w: np.ndarray, stride, dil) -> Any:
    """Symmetric padding as integers; torch's 'same' (extra zero at the end) as "same"."""
    pad = tuple(int(x) for x in op.attr("padding"))  # type: ignore[attr-defined]
    if len(pad) == 2 * nd:
        pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(nd)]
        if any(lo != hi for lo, hi in pairs):
            same = all(
                s == 1 and lo == d * (k - 1) // 2 and hi == d * (k - 1) - d * (k - 1) // 2
                for (lo, hi), s, d, k in zip(pairs, stride, dil, w.shape[2:])
            )
            ex.require(op, same, "asymmetric padding (other than torch's 'same')")
            return ("same",)
    return _sym_padding(ex, op, nd)


def _ex_conv(ex: _Exporter, op: Operation) -> Any:
    nd = 1 if op.op_name == "nn.conv1d" else 2
    w = _tensor(op, "weight")
    assert w is not None
    b = _tensor(op, "bias")
    if b is None:
        b = np.zeros(w.shape[0], dtype=w.dtype)
    shape = _in_shape(op)
    stride = tuple(int(x) for x in op.attr("stride"))  # type: ignore[attr-defined]
    dil = tuple(int(x) for x in op.attr("dilation"))  # type: ignore[attr-defined]
    pad = _conv_padding(ex, op, nd, w, stride, dil)
    groups = int(op.attr("groups"))  # type: ignore[attr-defined]
    if pad == ("same",):
        pad = ("same",) * nd
    if nd == 1:
        return nir.Conv1d(input_shape=int(shape[1]), weight=w, stride=stride[0], padding=pad[0], dilation=dil[0],
                          groups=groups, bias=b)
    return nir.Conv2d(input_shape=(int(shape[1]), int(shape[2])), weight=w, stride=stride,
                      padding="same" if pad[0] == "same" else pad,
                      dilation=dil, groups=groups, bias=b)


def _ex_pool(ex: _Exporter, op: Operation) -> Any:
    cls = nir.SumPool2d if op.op_name == "nn.sum_pool2d" else nir.AvgPool2d
    node = cls(
        kernel_size=np.array(op.attr("kernel_size"), dtype=np.int64),  # type: ignore[attr-defined]
        stride=np.array(op.attr("stride"), dtype=np.int64),  # type: ignore[attr-defined]
        padding=np.array(_sym_padding(ex, op, 2), dtype=np.int64),
    )
    node.input_type = {"input": np.array(_in_shape(op), dtype=np.int64)}
    node.output_type = {"output": np.array(_shape(op.result), dtype=np.int64)}
    return node


def _ex_flatten(ex: _Exporter, op: Operation) -> Any:
    shape = _in_shape(op)
    rank = len(shape)
    start = int(op.attr("start_dim"))  # type: ignore[attr-defined]
    end = int(op.attr("end_dim"))  # type: ignore[attr-defined]
    start = start + rank if start < 0 else start
    end = end + rank if end < 0 else end
    return nir.Flatten(input_type={"input": np.array(shape, dtype=np.int64)}, start_dim=start, end_dim=end)


def _ex_threshold(ex: _Exporter, op: Operation) -> Any:
    ex.require(op, op.attr("cmp") == "gt", "cmp = 'ge' (NIR's Threshold fires on x > threshold)")  # type: ignore[attr-defined]
    return nir.Threshold(threshold=ex.param(op, "theta", _in_shape(op)))


def _ex_integrator(ex: _Exporter, op: Operation) -> Any:
    shape = _in_shape(op)
    ex.require(op, bool(np.all(ex.param(op, "gamma", shape) == 0)), "a constant drive 'gamma' != 0")
    ex.check_init(op, "v_init", np.zeros(shape), shape, "0")
    return nir.I(r=ex.param(op, "beta", shape))


def _ex_if(ex: _Exporter, op: Operation) -> Any:
    shape = _in_shape(op)
    ex.require(op, bool(np.all(ex.param(op, "gamma", shape) == 0)), "a constant drive 'gamma' != 0")
    ex.check_init(op, "v_init", np.zeros(shape), shape, "0")
    return nir.IF(r=ex.param(op, "beta", shape), **ex.spiking(op, shape))


def _ex_li(ex: _Exporter, op: Operation) -> Any:
    shape = _in_shape(op)
    tau, r, v_leak = ex.leaky(op, shape)
    ex.check_rest(op, shape)
    return nir.LI(tau=tau, r=r, v_leak=v_leak)


def _ex_lif(ex: _Exporter, op: Operation) -> Any:
    shape = _in_shape(op)
    alpha = ex.param(op, "alpha", shape)
    if bool(np.all(alpha == 1)):
        return _ex_if(ex, op)
    tau, r, v_leak = ex.leaky(op, shape)
    ex.check_rest(op, shape)
    return nir.LIF(tau=tau, r=r, v_leak=v_leak, **ex.spiking(op, shape))


def _cuba(ex: _Exporter, op: Operation) -> dict[str, np.ndarray]:
    shape = _in_shape(op)
    ex.require(op, bool(np.all(ex.param(op, "gamma_syn", shape) == 0)), "a constant current drive 'gamma_syn' != 0")
    ex.check_init(op, "i_init", np.zeros(shape), shape, "0")
    tau_syn, w_in, _ = ex.leaky(op, shape, "_syn")
    tau_mem, r, v_leak = ex.leaky(op, shape)
    ex.check_rest(op, shape)
    return {"tau_syn": tau_syn, "tau_mem": tau_mem, "r": r, "v_leak": v_leak, "w_in": w_in}


def _ex_cuba_li(ex: _Exporter, op: Operation) -> Any:
    return nir.CubaLI(**_cuba(ex, op))


def _ex_cuba_lif(ex: _Exporter, op: Operation) -> Any:
    p = _cuba(ex, op)
    return nir.CubaLIF(**p, **ex.spiking(op, _in_shape(op)))


_NODE_BUILDERS: dict[str, Callable[[_Exporter, Operation], Any]] = {
    "snn.input": _ex_input,
    "snn.output": _ex_output,
    "nn.linear": _ex_linear,
    "nn.scale": _ex_scale,
    "nn.conv1d": _ex_conv,
    "nn.conv2d": _ex_conv,
    "nn.sum_pool2d": _ex_pool,
    "nn.avg_pool2d": _ex_pool,
    "nn.flatten": _ex_flatten,
    "snn.threshold": _ex_threshold,
    "snn.integrator": _ex_integrator,
    "snn.if": _ex_if,
    "snn.li": _ex_li,
    "snn.lif": _ex_lif,
    "snn.cuba_li": _ex_cuba_li,
    "snn.cuba_lif": _ex_cuba_lif,
}

__all__ = ["DiagnosticError", "export_nir", "write_nir"]
