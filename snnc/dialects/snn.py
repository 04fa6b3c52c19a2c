"""The ``snn`` dialect: networks (``snn.graph``), their inputs and outputs, neurons and delays.

An ``snn.graph`` holds ONE time step of a network in a graph region.  The interpreter
evaluates it T times; stateful ops (neurons, delays, causal filters) carry their state from
one step to the next.  A cycle must pass through an ``snn.delay`` (its result at step t is its operand
at step t-1).

Neuron equations are NIR-style discrete updates at step ``t`` (``x[t]`` the input):
first integrate, then compare with the threshold, then reset.  Parameters are a float
(one value for every neuron) or a float tensor broadcastable to the neuron shape.
Spike outputs are ``i1`` (0/1); where a neuron allows ``si2`` (ternary) outputs it emits
``+1`` when ``cmp(v, v_th)``, ``-1`` when ``cmp(-v, v_th)`` and 0 otherwise.
"""

from __future__ import annotations

import numpy as np

from ..ir.attributes import IntegerAttr, StringAttr
from ..ir.builtin import ModuleOp
from ..ir.core import Block, Operation, Region
from ..ir.diagnostics import error
from ..ir.opdef import (
    AnyTensor,
    Attr,
    Dialect,
    FloatTensor,
    OpDef,
    Operand,
    Result,
    SpikeTensor,
    Trait,
)
from ..ir.types import TensorType, is_float_tensor, is_spike_tensor
from .common import (
    PARAM_ATTR_KINDS,
    TENSOR_ATTR_KINDS,
    check_param_broadcast,
    fmt_shape,
    is_float_param,
    is_float_tensor_attr,
    param_array,
    tensor_attr_array,
)
from .nn import FloatOrSpikeTensor

RESETS = ("hard", "soft", "none")
COMPARISONS = ("ge", "gt")
#: Spike functions of the spiking neurons: one spike per step, or a graded spike count.
SPIKE_FNS = ("single", "multi")
#: Readouts over time of an ``snn.output``.
READOUTS = ("none", "sum", "mean", "last")


def _param(name: str, doc: str, default: float | None | object = ...) -> Attr:
    if default is ...:
        return Attr(name, PARAM_ATTR_KINDS, doc=doc, check=is_float_param, check_doc="must be a float or a float tensor")
    return Attr(name, PARAM_ATTR_KINDS, default=default, doc=doc, check=is_float_param,
                check_doc="must be a float or a float tensor")


_SPIKING_ATTRS: tuple[Attr, ...] = (
    _param("v_th", "firing threshold", 1.0),
    _param("v_reset", "membrane value after a hard reset", 0.0),
    Attr("reset", StringAttr, default="hard", choices=RESETS, doc="what a spike does to the membrane"),
    Attr("cmp", StringAttr, default="ge", choices=COMPARISONS, doc="fire when v >= v_th ('ge') or v > v_th ('gt')"),
    Attr("spike_fn", StringAttr, default="single", choices=SPIKE_FNS,
         doc="'single': one spike (i1/si2 result); 'multi': a graded spike count (float result, see snn.lif)"),
    Attr("max_spikes", IntegerAttr, default=None, doc="cap of the multi-spike count (none: unbounded)",
         check=lambda a: a.value >= 1, check_doc="must be >= 1"),
    _param("v_min", "lower bound of the membrane after the reset: v = relu(v - v_min) + v_min (absent: none)", None),
)


#: The current-based neurons' parameters (snn.cuba_lif, snn.cuba_li).
_CUBA_PARAMS: tuple[Attr, ...] = (
        _param("alpha_syn", "synaptic current decay"),
        _param("beta_syn", "input gain of the current", 1.0),
        _param("gamma_syn", "constant current drive per step", 0.0),
        _param("alpha", "membrane decay"),
        _param("beta", "current gain of the membrane", 1.0),
        _param("gamma", "constant membrane drive per step", 0.0),
)


def _shape(v) -> tuple[int, ...]:
    t = v.type
    assert isinstance(t, TensorType)
    return tuple(t.shape)


class _Neuron(OpDef):
    """Base of the neurons.

    Common verifier: result shape = input shape, every parameter broadcasts to it.
    """

    def verify_(self) -> None:
        x = _shape(self.operands[0])
        r = _shape(self.results[0])
        if r != x:
            raise self.emit_error(f"result shape {fmt_shape(r)} must equal the input shape {fmt_shape(x)}")
        for d in type(self).attr_defs():
            if d.kind is PARAM_ATTR_KINDS and self.get_attr(d.name) is not None:
                check_param_broadcast(self, d.name, x)
        if any(d.name == "spike_fn" for d in type(self).attr_defs()):
            self._verify_spike_fn()

    def _verify_spike_fn(self) -> None:
        """The result type follows ``spike_fn``: spikes (i1/si2) for "single", a float count for "multi"."""
        rt = self.results[0].type
        if self.attr("spike_fn") == "single":
            if not is_spike_tensor(rt):
                raise self.emit_error(f"result must be a spike tensor (i1 or si2) with spike_fn = \"single\", got {rt}")
            if self.get_attr("max_spikes") is not None:
                raise self.emit_error("max_spikes needs spike_fn = \"multi\"")
            return
        if not is_float_tensor(rt):
            raise self.emit_error(f"result of a multi-spike neuron (spike_fn = \"multi\") is the spike count as a float "
                                  f"tensor, got {rt}")
        if self.attr("cmp") != "ge":
            raise self.emit_error("a multi-spike neuron fires n >= 1 spikes exactly when v >= v_th: cmp must be \"ge\"")
        if not np.all(param_array(self, "v_th", np.float64) > 0):
            raise self.emit_error("a multi-spike neuron needs v_th > 0 (the count is v / v_th)")


# =========================================================================== graph structure


class Graph(OpDef):
    """A network: one region with one block (no block arguments) describing ONE time step.

    The body is a graph region: operands may refer to values defined later in the block,
    and every cycle must pass through an ``snn.delay``.  Its inputs are the ``snn.input``
    ops (indices ``0..n-1``, unique names), its outputs the ``snn.output`` ops (likewise).
    Running the graph for T steps evaluates the body T times; stateful ops keep their
    state between steps.

    Example::

        "snn.graph"() ({
          %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2xf32>
          %1 = "snn.lif"(%0) {alpha = 9.000000e-01 : f32} : (tensor<2xf32>) -> tensor<2xi1>
          "snn.output"(%1) {index = 0 : i64, name = "spikes"} : (tensor<2xi1>) -> ()
        }) {sym_name = "main"} : () -> ()
    """

    name = "snn.graph"
    operands = ()
    results = ()
    attributes = (Attr("sym_name", StringAttr, doc="the network's name"),)
    num_regions = 1
    traits = frozenset({Trait.GRAPH_REGION})

    @classmethod
    def build(cls, name: str) -> Graph:
        """A graph named ``name`` with an empty body."""
        return cls(regions=[Region([Block()])], attributes={"sym_name": StringAttr(name)})

    @property
    def sym_name(self) -> str:
        return str(self.attr("sym_name"))

    def inputs(self) -> list[Input]:
        """The ``snn.input`` ops, sorted by index."""
        ins = [op for op in self.body.ops if isinstance(op, Input)]
        return sorted(ins, key=lambda op: int(op.attr("index")))

    def outputs(self) -> list[Output]:
        """The ``snn.output`` ops, sorted by index."""
        outs = [op for op in self.body.ops if isinstance(op, Output)]
        return sorted(outs, key=lambda op: int(op.attr("index")))

    def verify_(self) -> None:
        region = self.regions[0]
        if len(region.blocks) != 1:
            raise self.emit_error(f"expects one block in its region, has {len(region.blocks)}")
        if self.body.args:
            raise self.emit_error("body block takes no arguments")
        # The graph is verified before the ops in it: check the I/O ops' own attributes
        # first, so a missing 'index' is reported as such and not as a bad numbering.
        from ..ir.verifier import verify_op

        for op in self.body.ops:
            if isinstance(op, (Input, Output)):
                verify_op(op)
        for kind, ops in (("input", self.inputs()), ("output", self.outputs())):
            names: dict[str, Operation] = {}
            indices: dict[int, Operation] = {}
            for op in ops:
                n, i = str(op.attr("name")), int(op.attr("index"))
                if i < 0:
                    raise op.emit_error(f"index must be >= 0, got {i}")
                if n in names:
                    raise op.emit_error(f"duplicate {kind} name '{n}' in graph '{self.sym_name}'")
                if i in indices:
                    raise op.emit_error(f"duplicate {kind} index {i} in graph '{self.sym_name}'")
                names[n] = op
                indices[i] = op
            expect = list(range(len(ops)))
            got = sorted(indices)
            if got != expect:
                missing = sorted(set(expect) - set(got))
                bad = next(op for op in ops if int(op.attr("index")) not in expect)
                raise bad.emit_error(
                    f"{kind} indices must be 0..{len(ops) - 1} without gaps; index {int(bad.attr('index'))} "
                    f"leaves {missing[0]} unused"
                )


def _check_in_graph(op: OpDef) -> None:
    parent = op.parent_op
    if not isinstance(parent, Graph):
        where = f"'{parent.op_name}'" if parent is not None else "no parent"
        raise op.emit_error(f"must be directly inside an 'snn.graph', found in {where}")


class Input(OpDef):
    """Graph input number ``index`` (``0..n-1``), named ``name``.

    At step t its result is the t-th slice of that input's data (``[T, *shape]``).

    Example::

        %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3x32x32xf32>
    """

    name = "snn.input"
    operands = ()
    results = (Result("result", AnyTensor),)
    attributes = (
        Attr("name", StringAttr, doc="input name (unique in the graph)"),
        Attr("index", IntegerAttr, doc="position among the inputs"),
    )
    traits = frozenset({Trait.GRAPH_INPUT})

    def verify_(self) -> None:
        _check_in_graph(self)
        if int(self.attr("index")) < 0:
            raise self.emit_error(f"index must be >= 0, got {int(self.attr('index'))}")
        if not str(self.attr("name")):
            raise self.emit_error("name must not be empty")


class Output(OpDef):
    """Graph output number ``index``, named ``name``.

    Its operand at every step is recorded (the run returns ``[T, *shape]`` per output).
    ``readout`` says how the recorded series is read out over time: ``"none"`` (default:
    every step, ``[T, *shape]``), ``"sum"`` (``sum_t y[t]``), ``"mean"`` (``(1/T) sum_t y[t]``)
    or ``"last"`` (``y[T-1]``); the last three give ``[*shape]`` (spikes count as 0/1, ternary
    as -1/0/+1; sums and means are floats of the run's precision).

    Example::

        "snn.output"(%3) {index = 0 : i64, name = "spikes"} : (tensor<10xi1>) -> ()
        "snn.output"(%4) {index = 1 : i64, name = "logits", readout = "mean"} : (tensor<10xf32>) -> ()
    """

    name = "snn.output"
    operands = (Operand("input", AnyTensor),)
    results = ()
    attributes = (
        Attr("name", StringAttr, doc="output name (unique in the graph)"),
        Attr("index", IntegerAttr, doc="position among the outputs"),
        Attr("readout", StringAttr, default="none", choices=READOUTS, doc="readout over time: none, sum, mean or last"),
    )
    traits = frozenset({Trait.GRAPH_OUTPUT})

    def verify_(self) -> None:
        _check_in_graph(self)
        if int(self.attr("index")) < 0:
            raise self.emit_error(f"index must be >= 0, got {int(self.attr('index'))}")
        if not str(self.attr("name")):
            raise self.emit_error("name must not be empty")


# =========================================================================== neurons


class LIF(_Neuron):
    """Leaky integrate-and-fire neuron (NIR ``LIF`` after discretisation).

    State ``v`` (membrane after reset), ``v[-1] = v_init``.  At step t::

        v'   = alpha * v[t-1] + beta * x[t] + gamma          # integrate
        s[t] = cmp(v', v_th)                                 # compare: v' >= v_th ('ge') or v' > v_th ('gt')
        v[t] = v_reset        where s[t]   (reset = "hard")
               v' - v_th      where s[t]   (reset = "soft", subtract)
               v'             otherwise, and always for reset = "none"

    With an ``si2`` result, ``s[t] = +1`` where ``cmp(v', v_th)``, ``-1`` where
    ``cmp(-v', v_th)``, else 0; a soft reset subtracts ``s[t] * v_th``, a hard reset sets
    ``v_reset`` where ``s[t] != 0``.

    Multi-spike (``spike_fn = "multi"``, Sinabs' ``MultiSpike`` / ``MaxSpike``): the result is
    the spike COUNT of the step, a float tensor holding 0, 1, 2, ... (``v' / v_th`` is one IEEE
    division in the run's float type; ``max_spikes`` absent = no cap)::

        n[t] = min(trunc(v' / v_th), max_spikes)   where v' > 0,   0 elsewhere
        v[t] = v' - n[t] * v_th                    (reset = "soft", Sinabs' MembraneSubtract)
               v_reset where n[t] > 0, else v'     (reset = "hard", Sinabs' MembraneReset(0))
               v'                                  (reset = "none")

    ``n[t] >= 1`` exactly when ``v' >= v_th``: a multi-spike neuron needs ``cmp = "ge"`` and
    ``v_th > 0``.  Downstream ops consume the count as a float activation (``W n``).

    ``v_min`` (optional, Sinabs' ``min_v_mem``) bounds the membrane from below after the reset,
    evaluated exactly as Sinabs does: ``v[t] = (max(v[t] - v_min, 0)) + v_min`` (two roundings,
    so not always bit-equal to ``max(v[t], v_min)``).  The same holds for snn.if / snn.cuba_lif.

    NIR's ``tau dv/dt = (v_leak - v) + r I`` with forward Euler step ``dt`` gives
    ``alpha = 1 - dt/tau``, ``beta = r dt/tau``, ``gamma = v_leak dt/tau``.  SpikingJelly's
    LIF (tau, decay_input) is ``alpha = 1 - 1/tau, beta = 1/tau, gamma = v_reset/tau``; Q-SNN's is
    ``alpha = 0.5, beta = 1, cmp = "gt"``.

    Example::

        %1 = "snn.lif"(%0) {alpha = 5.000000e-01 : f32, beta = 5.000000e-01 : f32, cmp = "ge",
               reset = "hard", v_th = 1.000000e+00 : f32} : (tensor<4xf32>) -> tensor<4xi1>
    """

    name = "snn.lif"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("spikes", FloatOrSpikeTensor, doc="spikes (i1/si2), or the float spike count with spike_fn = \"multi\""),)
    attributes = (
        _param("alpha", "membrane decay (v multiplier)"),
        _param("beta", "input gain", 1.0),
        _param("gamma", "constant drive per step", 0.0),
        *_SPIKING_ATTRS,
        _param("v_init", "membrane before the first step", 0.0),
    )
    traits = frozenset({Trait.STATEFUL})


class IF(_Neuron):
    """Integrate-and-fire neuron: ``snn.lif`` with ``alpha = 1`` (NIR ``IF``).

    State ``v``, ``v[-1] = v_init``.  At step t::

        v'   = v[t-1] + beta * x[t] + gamma
        s[t] = cmp(v', v_th)
        v[t] = reset(v', s[t])        (hard / soft / none, as snn.lif)

    ``spike_fn = "multi"``: the result is the float spike count
    ``n[t] = min(trunc(v' / v_th), max_spikes)`` where ``v' > 0`` (else 0), and the soft reset
    subtracts ``n[t] * v_th`` (exactly as snn.lif).

    Example::

        %1 = "snn.if"(%0) {reset = "soft", v_th = 1.000000e+00 : f32} : (tensor<4xf32>) -> tensor<4xi1>
    """

    name = "snn.if"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("spikes", FloatOrSpikeTensor, doc="spikes, or the float spike count (spike_fn = \"multi\")"),)
    attributes = (
        _param("beta", "input gain", 1.0),
        _param("gamma", "constant drive per step", 0.0),
        *_SPIKING_ATTRS,
        _param("v_init", "membrane before the first step", 0.0),
    )
    traits = frozenset({Trait.STATEFUL})


class CubaLIF(_Neuron):
    """Current-based LIF neuron: a synaptic current feeding a LIF membrane (NIR ``CubaLIF``).

    State ``i`` (synaptic current) and ``v`` (membrane after reset), ``i[-1] = i_init``,
    ``v[-1] = v_init``.  At step t::

        i[t] = alpha_syn * i[t-1] + beta_syn * x[t] + gamma_syn
        v'   = alpha * v[t-1] + beta * i[t] + gamma          # uses the NEW current (as Norse)
        s[t] = cmp(v', v_th)
        v[t] = reset(v', s[t])        (hard / soft / none, as snn.lif; i is not reset)

    ``spike_fn = "multi"``: the result is the float spike count
    ``n[t] = min(trunc(v' / v_th), max_spikes)`` where ``v' > 0`` (else 0), and the soft reset
    subtracts ``n[t] * v_th`` (exactly as snn.lif).

    Example::

        %1 = "snn.cuba_lif"(%0) {alpha = 9.000000e-01 : f32, alpha_syn = 8.000000e-01 : f32}
               : (tensor<4xf32>) -> tensor<4xi1>
    """

    name = "snn.cuba_lif"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("spikes", FloatOrSpikeTensor, doc="spikes, or the float spike count (spike_fn = \"multi\")"),)
    attributes = (
        *_CUBA_PARAMS,
        *_SPIKING_ATTRS,
        _param("i_init", "current before the first step", 0.0),
        _param("v_init", "membrane before the first step", 0.0),
    )
    traits = frozenset({Trait.STATEFUL})


class LI(_Neuron):
    """Leaky integrator (NIR ``LI``): no threshold, outputs the membrane.

    State ``v``, ``v[-1] = v_init``.  At step t::

        v[t] = alpha * v[t-1] + beta * x[t] + gamma ;   y[t] = v[t]

    Example::

        %1 = "snn.li"(%0) {alpha = 9.000000e-01 : f32, beta = 1.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
    """

    name = "snn.li"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("v", FloatTensor),)
    attributes = (
        _param("alpha", "membrane decay"),
        _param("beta", "input gain", 1.0),
        _param("gamma", "constant drive per step", 0.0),
        _param("v_init", "membrane before the first step", 0.0),
    )
    traits = frozenset({Trait.STATEFUL})


class CubaLI(_Neuron):
    """Current-based leaky integrator (NIR ``CubaLI``): outputs the membrane.

    State ``i``, ``v``; ``i[-1] = i_init``, ``v[-1] = v_init``.  At step t::

        i[t] = alpha_syn * i[t-1] + beta_syn * x[t] + gamma_syn
        v[t] = alpha * v[t-1] + beta * i[t] + gamma ;   y[t] = v[t]

    Example::

        %1 = "snn.cuba_li"(%0) {alpha = 9.000000e-01 : f32, alpha_syn = 8.000000e-01 : f32}
               : (tensor<4xf32>) -> tensor<4xf32>
    """

    name = "snn.cuba_li"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("v", FloatTensor),)
    attributes = (
        *_CUBA_PARAMS,
        _param("i_init", "current before the first step", 0.0),
        _param("v_init", "membrane before the first step", 0.0),
    )
    traits = frozenset({Trait.STATEFUL})


class Integrator(_Neuron):
    """Perfect integrator (NIR ``I``): outputs the accumulated value.

    State ``v``, ``v[-1] = v_init``.  At step t::

        v[t] = v[t-1] + beta * x[t] + gamma ;   y[t] = v[t]

    Example::

        %1 = "snn.integrator"(%0) {beta = 1.000000e+00 : f32} : (tensor<4xf32>) -> tensor<4xf32>
    """

    name = "snn.integrator"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("v", FloatTensor),)
    attributes = (
        _param("beta", "input gain", 1.0),
        _param("gamma", "constant drive per step", 0.0),
        _param("v_init", "value before the first step", 0.0),
    )
    traits = frozenset({Trait.STATEFUL})


class Threshold(_Neuron):
    """Stateless threshold (NIR ``Threshold``): ``s[t] = cmp(x[t], theta)``.

    ``cmp`` is ``x >= theta`` ("ge") or ``x > theta`` ("gt").  With an ``si2`` result,
    ``s = +1`` where ``cmp(x, theta)``, ``-1`` where ``cmp(-x, theta)``, else 0.

    Example::

        %1 = "snn.threshold"(%0) {theta = 5.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xi1>
    """

    name = "snn.threshold"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("spikes", SpikeTensor),)
    attributes = (
        _param("theta", "threshold"),
        Attr("cmp", StringAttr, default="ge", choices=COMPARISONS, doc="'ge' (>=) or 'gt' (>)"),
    )
    traits = frozenset({Trait.PURE})


class Delay(OpDef):
    """Delay by ``steps >= 1`` time steps: ``y[t] = x[t - steps]``, zero before.

    For ``t < steps`` the result is zero (false for spikes).

    State: the last ``steps`` operand values (a queue).  Being ``DELAYED``, its result at
    step t does not depend on its operand at step t, so it may close a cycle: every
    recurrence in a graph passes through an ``snn.delay``.

    Example::

        %1 = "snn.delay"(%0) {steps = 1 : i64} : (tensor<4xi1>) -> tensor<4xi1>
    """

    name = "snn.delay"
    operands = (Operand("input", AnyTensor),)
    results = (Result("result", AnyTensor),)
    attributes = (
        Attr("steps", IntegerAttr, default=1, doc="delay in time steps (>= 1)", check=lambda a: a.value >= 1,
             check_doc="must be >= 1"),
    )
    traits = frozenset({Trait.DELAYED, Trait.STATEFUL})

    def verify_(self) -> None:
        if self.results[0].type != self.operands[0].type:
            raise self.emit_error(
                f"result type {self.results[0].type} must equal the operand type {self.operands[0].type}"
            )


class CausalFilter(OpDef):
    """Causal time filter with a lower-triangular weight ``W [T, T]`` over the first ``T`` steps.

    At step ``t`` (counted from 0 at the start of a run)::

        y[t] = sum_{t' = 0..t} W[t, t'] * x[t']          for t = 0 .. T-1

    elementwise over the operand's shape (every element filtered independently, the same
    ``W``).  The sum runs over ``t' = 0, 1, .., t`` in that order; a spike (``i1``) operand
    counts as 0/1.  ``W`` must be lower-triangular (every entry above the diagonal exactly 0;
    the verifier rejects others): the filter never reads a future step.  Used by the SNN-ViT
    saccadic attention (``snnc.nn.SaccadicSpikeSelfAttention``'s ``A = tril(W) a``).

    State: the step counter and the past operand values ``x[0..t-1]``.  The filter is defined
    for ``T`` steps only (its weight has no row for step ``T``): evaluating it at step
    ``t >= T`` is a runtime error naming the op (the interpreter reports it; run the model for
    at most ``T`` steps, as the PyTorch module it comes from).

    Example::

        %1 = "snn.causal_filter"(%0) {weight = dense<[[1.0, 0.0], [0.5, 0.5]]> : tensor<2x2xf64>}
               : (tensor<4xf64>) -> tensor<4xf64>
    """

    name = "snn.causal_filter"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("result", FloatTensor),)
    attributes = (
        Attr("weight", TENSOR_ATTR_KINDS, doc="[T, T], lower-triangular: row t weighs steps 0..t",
             check=is_float_tensor_attr, check_doc="must hold floats"),
    )
    traits = frozenset({Trait.STATEFUL})

    def verify_(self) -> None:
        x = _shape(self.operands[0])
        r = _shape(self.results[0])
        if r != x:
            raise self.emit_error(f"result shape {fmt_shape(r)} must equal the input shape {fmt_shape(x)}")
        xt, rt = self.operands[0].type, self.results[0].type
        if is_float_tensor(xt) and xt.element != rt.element:  # type: ignore[attr-defined]
            raise self.emit_error(f"operand element type {xt.element} must equal the result's {rt.element}")  # type: ignore[attr-defined]
        w = tensor_attr_array(self, "weight")
        assert w is not None
        if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] < 1:
            raise self.emit_error(f"weight must be square [T, T] with T >= 1, got shape {fmt_shape(w.shape)}")
        upper = np.argwhere(np.triu(w, 1) != 0)
        if len(upper):
            i, j = (int(a) for a in upper[0])
            raise self.emit_error(
                f"weight must be lower-triangular (the filter may not read future steps): weight[{i}, {j}] = "
                f"{float(w[i, j])!r} lies above the diagonal"
            )


# =========================================================================== fused units

#: ``snn.fused`` kinds: the neuron a unit ends in, or "stateless" (a chain of stateless ops).
FUSED_KINDS = ("lif", "if", "cuba_lif", "li", "cuba_li", "integrator", "threshold", "stateless")


class Fused(OpDef):
    """A fused unit (what one core executes): a single-block region of ops run in order.

    Produced by ``fuse-lif``.  The region has one block whose arguments stand for the
    operands (argument ``i`` is operand ``i``, same type) and whose last op is an
    ``snn.yield``; result ``j`` is the yield's operand ``j`` (same type).  The region is
    isolated: its ops use only the block arguments and earlier results of the block
    (SSA order, no forward references, no ``snn.delay``, no graph I/O ops).

    Semantics, exactly: at every step t, bind the block arguments to the operands' values
    at step t, evaluate the region's ops in block order (each with its own semantics and,
    for neurons, its own state carried from step t-1 to step t), and return the yield's
    operands.  Inlining the region in place of the op (``snnc.passes.fuse_lif.unfuse``)
    gives the same network.

    ``kind`` names the unit: the neuron it ends in (``"lif"``, ``"if"``, ``"cuba_lif"``,
    ``"li"``, ``"cuba_li"``, ``"integrator"``, ``"threshold"``: the region holds exactly one
    neuron op, of that kind, and result 0 is its output) or ``"stateless"`` (no neuron:
    a chain of stateless ops).  ``name`` is a label unique in the graph.

    Example::

        %3:2 = "snn.fused"(%0, %1) ({
        ^bb0(%arg0: tensor<4xi1>, %arg1: tensor<2xf32>):
          %4 = "nn.linear"(%arg0) {weight = dense<1.0> : tensor<2x4xf32>} : (tensor<4xi1>) -> tensor<2xf32>
          %5 = "nn.add"(%arg1, %4) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
          %6 = "snn.lif"(%5) {alpha = 5.000000e-01 : f32} : (tensor<2xf32>) -> tensor<2xi1>
          "snn.yield"(%6, %5) : (tensor<2xi1>, tensor<2xf32>) -> ()
        }) {kind = "lif", name = "lif_0"} : (tensor<4xi1>, tensor<2xf32>) -> (tensor<2xi1>, tensor<2xf32>)
    """

    name = "snn.fused"
    operands = (Operand("inputs", AnyTensor, variadic=True, doc="values flowing into the unit"),)
    results = (Result("results", AnyTensor, variadic=True, doc="values flowing out (the neuron's output first)"),)
    attributes = (
        Attr("kind", StringAttr, choices=FUSED_KINDS, doc="the neuron the unit ends in, or 'stateless'"),
        Attr("name", StringAttr, doc="the unit's label (unique in the graph)"),
    )
    num_regions = 1
    traits = frozenset({Trait.STATEFUL})

    def verify_(self) -> None:
        from ..ir.core import BlockArgument

        region = self.regions[0]
        if len(region.blocks) != 1:
            raise self.emit_error(f"expects one block in its region, has {len(region.blocks)}")
        block = region.blocks[0]
        if len(block.args) != len(self.operands):
            raise self.emit_error(f"region takes {len(block.args)} argument(s) for {len(self.operands)} operand(s)")
        for i, (a, v) in enumerate(zip(block.args, self.operands, strict=True)):
            if a.type != v.type:
                raise self.emit_error(f"region argument #{i} has type {a.type}, operand #{i} has type {v.type}")
        if not block.ops or not isinstance(block.ops[-1], Yield):
            raise self.emit_error("region must end with an 'snn.yield'")
        defined: set[int] = set()
        neurons = []
        for op in block.ops:
            for i, v in enumerate(op.operands):
                ok = (isinstance(v, BlockArgument) and v.block is block) or id(v) in defined
                if not ok:
                    raise op.emit_error(f"operand #{i} is not a region argument or an earlier result of the "
                                        f"enclosing 'snn.fused' (the unit's region is isolated and in order)")
            if isinstance(op, (Input, Output, Delay, Graph)):
                raise op.emit_error("may not appear in an 'snn.fused' region")
            if isinstance(op, Yield) and op is not block.ops[-1]:
                raise op.emit_error("must be the last op of its 'snn.fused' region")
            if isinstance(op, _Neuron):
                neurons.append(op)
            defined.update(id(r) for r in op.results)
        y = block.ops[-1]
        if [v.type for v in y.operands] != [r.type for r in self.results]:
            raise self.emit_error(f"yields ({', '.join(str(v.type) for v in y.operands)}) but its results are "
                                  f"({', '.join(str(r.type) for r in self.results)})")
        kind = str(self.attr("kind"))
        if kind == "stateless":
            if neurons:
                raise self.emit_error(f"kind 'stateless' holds a neuron ('{neurons[0].op_name}')")
        else:
            if len(neurons) != 1 or neurons[0].op_name != f"snn.{kind}":
                held = ", ".join(f"'{n.op_name}'" for n in neurons) or "no neuron"
                raise self.emit_error(f"kind '{kind}' must hold exactly one neuron, an 'snn.{kind}'; holds {held}")
            if not y.operands or y.operands[0] is not neurons[0].results[0]:
                raise self.emit_error("result #0 must be the neuron's output")


class Yield(OpDef):
    """Terminator of an ``snn.fused`` region: its operands are the unit's results, in order.

    Example::

        "snn.yield"(%6, %5) : (tensor<2xi1>, tensor<2xf32>) -> ()
    """

    name = "snn.yield"
    operands = (Operand("values", AnyTensor, variadic=True, doc="the unit's results"),)
    results = ()

    def verify_(self) -> None:
        if not isinstance(self.parent_op, Fused):
            where = f"'{self.parent_op.op_name}'" if self.parent_op is not None else "no parent"
            raise self.emit_error(f"must be inside an 'snn.fused', found in {where}")


# =========================================================================== helpers


def find_graph(module: Operation, name: str | None = None) -> Graph:
    """The module's single ``snn.graph``, or the one named ``name``; a diagnostic otherwise."""
    if isinstance(module, Graph) and (name is None or module.sym_name == name):
        return module
    ops = module.body.ops if isinstance(module, ModuleOp) or module.regions else []
    graphs = [op for op in ops if isinstance(op, Graph)]
    if name is not None:
        for g in graphs:
            if g.sym_name == name:
                return g
        have = ", ".join(f"'{g.sym_name}'" for g in graphs) or "none"
        raise error(f"no 'snn.graph' named '{name}' in the module (graphs: {have})", module.location)
    if not graphs:
        raise error("the module holds no 'snn.graph'", module.location)
    if len(graphs) > 1:
        have = ", ".join(f"'{g.sym_name}'" for g in graphs)
        raise error(f"the module holds {len(graphs)} 'snn.graph' ops ({have}); name the one to use", module.location)
    return graphs[0]


OPS: tuple[type[OpDef], ...] = (
    Graph,
    Input,
    Output,
    LIF,
    IF,
    CubaLIF,
    LI,
    CubaLI,
    Integrator,
    Threshold,
    Delay,
    CausalFilter,
    Fused,
    Yield,
)

DIALECT = Dialect("snn", "spiking networks: graphs of one time step, neurons, delays", OPS)

__all__ = [c.__name__ for c in OPS] + ["DIALECT", "OPS", "RESETS", "COMPARISONS", "FUSED_KINDS", "find_graph"]
