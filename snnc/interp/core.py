"""The reference interpreter: runs an ``snn.graph`` for T time steps in numpy.

It is the executable definition of the IR's semantics: every pass is validated by
interpreting before and after, every backend by comparing with it.

Conventions
-----------
* Values carry a leading batch axis ``B`` inside the interpreter: a value of IR type
  ``tensor<4x3xf32>`` is a numpy array of shape ``[B, 4, 3]``.
* Float tensors are held in the run's float dtype (``float32`` or ``float64``,
  chosen per run, whatever the IR's float width); spike tensors as ``bool`` (``i1``)
  or ``int8`` (``si2``, values -1/0/+1); other integer tensors in their own dtype.
* A graph is evaluated T times.  Within one step ops run in :func:`step_order`;
  a ``DELAYED`` op (``snn.delay``) yields the value its operand had at the previous
  step (its initial state at step 0), so it is evaluated first and updated after
  the step.

Kernels
-------
Each dialect's semantics live in one module (``snnc/interp/nn.py``,
``snnc/interp/snn.py``...), registering a kernel per op name::

    @kernel("nn.add")
    def add(op, inputs, ctx):                       # stateless
        return [inputs[0] + inputs[1]]

    @stateful_kernel("snn.lif")
    class LIF:
        def init(self, op, ctx) -> State             # state at t = 0, arrays [B, ...]
        def step(self, op, inputs, state, ctx) -> (outputs, new_state)

A kernel of a ``DELAYED`` op also defines ``read(self, op, state, ctx) -> outputs``
(its results at this step, read before anything else runs); its ``step`` is called
after the rest of the step with this step's operands and returns ``(None, new_state)``.

``ctx`` is a :class:`RunContext` (batch size, float dtype, step index, the module
for resource lookups).  Kernels must not mutate their inputs or the state they receive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..ir.core import Operation, Value
from ..ir.diagnostics import DiagnosticError, error
from ..ir.graph import step_order
from ..ir.opdef import Trait, has_trait
from ..ir.types import FloatType, TensorType, Type, numpy_dtype


@dataclass
class RunContext:
    batch: int
    float_dtype: np.dtype
    step: int = 0
    num_steps: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def array_dtype(self, t: Type) -> np.dtype:
        """The numpy dtype that holds values of IR type ``t`` in this run."""
        elt = t.element if isinstance(t, TensorType) else t
        if isinstance(elt, FloatType):
            return self.float_dtype
        return numpy_dtype(elt)


StatelessKernel = Callable[[Operation, list[np.ndarray], RunContext], list[np.ndarray]]


class StatefulKernel(Protocol):
    def init(self, op: Operation, ctx: RunContext) -> Any: ...

    def step(self, op: Operation, inputs: list[np.ndarray], state: Any, ctx: RunContext) -> tuple[list[np.ndarray], Any]: ...


_STATELESS: dict[str, StatelessKernel] = {}
_STATEFUL: dict[str, StatefulKernel] = {}


def kernel(name: str) -> Callable[[StatelessKernel], StatelessKernel]:
    def deco(fn: StatelessKernel) -> StatelessKernel:
        if name in _STATELESS or name in _STATEFUL:
            raise TypeError(f"kernel for {name} registered twice")
        _STATELESS[name] = fn
        return fn

    return deco


def stateful_kernel(name: str) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        if name in _STATELESS or name in _STATEFUL:
            raise TypeError(f"kernel for {name} registered twice")
        _STATEFUL[name] = cls()
        return cls

    return deco


def has_kernel(name: str) -> bool:
    _load_dialect_kernels()
    return name in _STATELESS or name in _STATEFUL


def stateless_kernel(name: str) -> StatelessKernel | None:
    """The kernel of a stateless op (used for constant folding), or None."""
    _load_dialect_kernels()
    return _STATELESS.get(name)


def _load_dialect_kernels() -> None:
    # Importing the kernel modules registers them (one module per dialect).
    from . import nn as _nn  # noqa: F401
    from . import snn as _snn  # noqa: F401

    try:
        from . import spike as _spike  # noqa: F401
    except ImportError:  # the integer dialect arrives with its own module
        pass


@dataclass
class RunResult:
    """Outputs keyed by ``snn.output`` name, each ``[T, B, *shape]`` (or ``[T, *shape]``
    when the run was unbatched); ``probes`` maps value names to their per-step values and
    ``states`` maps value names to the per-step state of the op defining them (after the
    step), when probing was requested."""

    outputs: dict[str, np.ndarray]
    probes: dict[str, np.ndarray] = field(default_factory=dict)
    states: dict[str, Any] = field(default_factory=dict)


def graph_inputs(graph: Operation) -> list[Operation]:
    """The graph's input ops, sorted by their ``index`` attribute."""
    ins = [op for op in graph.body.ops if has_trait(op, Trait.GRAPH_INPUT)]
    return sorted(ins, key=lambda op: op.attr("index"))  # type: ignore[attr-defined]


def graph_outputs(graph: Operation) -> list[Operation]:
    outs = [op for op in graph.body.ops if has_trait(op, Trait.GRAPH_OUTPUT)]
    return sorted(outs, key=lambda op: op.attr("index"))  # type: ignore[attr-defined]


def run_graph(
    graph: Operation,
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray] | np.ndarray,
    *,
    dtype: Any = np.float64,
    batched: bool = False,
    probe: bool = False,
    value_names: Mapping[Value, str] | None = None,
) -> RunResult:
    """Run ``graph`` (an op with the GRAPH_REGION trait) for T steps.

    ``inputs``: one array per graph input (by name, by position, or a single array),
    each ``[T, *shape]`` or, with ``batched=True``, ``[T, B, *shape]``.
    ``probe=True`` records every value (and neuron state) at every step, keyed by
    ``value_names`` (default: the printer's ``%N`` numbering).
    """
    _load_dialect_kernels()
    float_dtype = np.dtype(dtype)
    if float_dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError("dtype must be float32 or float64")
    in_ops = graph_inputs(graph)
    out_ops = graph_outputs(graph)
    arrays = _bind_inputs(graph, in_ops, inputs)

    # Shapes: [T, B, *shape]
    T = None
    B = None
    for op, arr in zip(in_ops, arrays, strict=True):
        t_type = op.result.type
        assert isinstance(t_type, TensorType)
        expect = t_type.shape
        got = arr.shape[2:] if batched else arr.shape[1:]
        if tuple(got) != tuple(expect) or arr.ndim < 1:
            lead = "[T, B, " if batched else "[T, "
            raise error(
                f"input '{op.attr('name')}' must have shape {lead}{', '.join(map(str, expect))}], got {list(arr.shape)}",  # type: ignore[attr-defined]
                op.location,
            )
        if T is None:
            T = arr.shape[0]
        elif arr.shape[0] != T:
            raise error(f"inputs disagree on the number of time steps ({T} vs {arr.shape[0]})", op.location)
        b = arr.shape[1] if batched else 1
        if B is None:
            B = b
        elif b != B:
            raise error(f"inputs disagree on the batch size ({B} vs {b})", op.location)
    if T is None:
        raise ValueError("cannot infer the number of time steps from a graph without inputs; pass one array per input")
    B = B or 1
    ctx = RunContext(batch=B, float_dtype=float_dtype, num_steps=T)

    order = step_order(graph.body)
    for op in order:
        if not has_kernel(op.op_name):
            raise op.emit_error("has no interpreter semantics (unsupported by 'snnc run')")
    states: dict[int, Any] = {}
    for op in order:
        if op.op_name in _STATEFUL:
            states[id(op)] = _STATEFUL[op.op_name].init(op, ctx)

    names: Mapping[Value, str] = value_names if value_names is not None else (_default_names(graph) if probe else {})
    out_series: dict[str, list[np.ndarray]] = {o.attr("name"): [] for o in out_ops}  # type: ignore[attr-defined]
    probe_series: dict[str, list[np.ndarray]] = {}
    state_series: dict[str, list[Any]] = {}
    in_index = {id(op): i for i, op in enumerate(in_ops)}

    for t in range(T):
        ctx.step = t
        env: dict[Value, np.ndarray] = {}
        # Delayed ops publish last step's value first.
        for op in order:
            if has_trait(op, Trait.DELAYED):
                env_vals = _STATEFUL[op.op_name].read(op, states[id(op)], ctx)  # type: ignore[attr-defined]
                for r, v in zip(op.results, env_vals, strict=True):
                    env[r] = v
        for op in order:
            if has_trait(op, Trait.GRAPH_INPUT):
                arr = arrays[in_index[id(op)]][t]
                if not batched:
                    arr = arr[None, ...]
                env[op.result] = arr.astype(ctx.array_dtype(op.result.type), copy=False)
                continue
            if has_trait(op, Trait.DELAYED):
                continue
            ins = [env[v] for v in op.operands]
            if op.op_name in _STATEFUL:
                outs, new_state = _STATEFUL[op.op_name].step(op, ins, states[id(op)], ctx)
                states[id(op)] = new_state
            else:
                outs = _STATELESS[op.op_name](op, ins, ctx)
            _check_outputs(op, outs, ctx)
            for r, v in zip(op.results, outs, strict=True):
                env[r] = v
            if has_trait(op, Trait.GRAPH_OUTPUT):
                out_series[op.attr("name")].append(ins[0] if batched else ins[0][0])  # type: ignore[attr-defined]
        # Delayed ops take this step's operand for the next step.
        for op in order:
            if has_trait(op, Trait.DELAYED):
                ins = [env[v] for v in op.operands]
                _, new_state = _STATEFUL[op.op_name].step(op, ins, states[id(op)], ctx)
                states[id(op)] = new_state
        if probe:
            for v, val in env.items():
                name = names.get(v)
                if name is not None:
                    probe_series.setdefault(name, []).append(val if batched else val[0])
            for op in order:
                if id(op) in states and op.results:
                    name = names.get(op.results[0])
                    if name is not None:
                        st = states[id(op)]
                        state_series.setdefault(name, []).append(_unbatch_state(st) if not batched else st)

    outputs = {k: np.stack(v) if v else np.zeros((0,)) for k, v in out_series.items()}
    for o in out_ops:
        outputs[o.attr("name")] = apply_readout(outputs[o.attr("name")], str(o.attr("readout")), float_dtype)  # type: ignore[attr-defined]
    probes = {k: np.stack(v) for k, v in probe_series.items()}
    return RunResult(outputs=outputs, probes=probes, states=state_series)


def apply_readout(series: np.ndarray, readout: str, float_dtype: np.dtype) -> np.ndarray:
    """An output's series ``[T, ...]`` read out over time (``snn.output``'s ``readout``)."""
    if readout == "none":
        return series
    if readout == "last":
        return series[-1]
    vals = series.astype(float_dtype) if series.dtype.kind in "biu" else series
    return vals.sum(axis=0) if readout == "sum" else vals.mean(axis=0)


def _unbatch_state(st: Any) -> Any:
    if isinstance(st, np.ndarray):
        return st[0]
    if isinstance(st, dict):
        return {k: _unbatch_state(v) for k, v in st.items()}
    if isinstance(st, (list, tuple)):
        return type(st)(_unbatch_state(v) for v in st)
    return st


def _check_outputs(op: Operation, outs: list[np.ndarray], ctx: RunContext) -> None:
    if len(outs) != len(op.results):
        raise RuntimeError(f"internal error: kernel for {op.op_name} returned {len(outs)} values for {len(op.results)} results")
    for r, v in zip(op.results, outs, strict=True):
        t = r.type
        if isinstance(t, TensorType):
            want = (ctx.batch, *t.shape)
            if tuple(v.shape) != want:
                raise RuntimeError(f"internal error: kernel for {op.op_name} produced shape {v.shape}, IR type says {want}")
            if v.dtype != ctx.array_dtype(t):
                raise RuntimeError(f"internal error: kernel for {op.op_name} produced dtype {v.dtype}, expected {ctx.array_dtype(t)}")


def _bind_inputs(
    graph: Operation, in_ops: list[Operation], inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray] | np.ndarray
) -> list[np.ndarray]:
    if isinstance(inputs, np.ndarray):
        inputs = [inputs]
    if isinstance(inputs, Mapping):
        arrays = []
        names = [op.attr("name") for op in in_ops]  # type: ignore[attr-defined]
        for op, name in zip(in_ops, names, strict=True):
            if name not in inputs:
                raise error(f"no value given for graph input '{name}'", op.location)
            arrays.append(np.asarray(inputs[name]))
        extra = set(inputs) - set(names)
        if extra:
            raise error(f"unknown graph input(s): {', '.join(sorted(extra))}", graph.location)
        return arrays
    seq = [np.asarray(a) for a in inputs]
    if len(seq) != len(in_ops):
        raise error(f"graph takes {len(in_ops)} input(s), {len(seq)} given", graph.location)
    return seq


def _default_names(graph: Operation) -> dict[Value, str]:
    from ..ir.printer import value_names

    return value_names(graph)


__all__ = [
    "RunContext",
    "RunResult",
    "kernel",
    "stateful_kernel",
    "has_kernel",
    "stateless_kernel",
    "run_graph",
    "graph_inputs",
    "graph_outputs",
    "DiagnosticError",
]
