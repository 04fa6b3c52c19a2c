"""Reference kernels of the ``snn`` dialect: neurons, threshold, delay.

Neuron state is a dict of arrays ``[B, *shape]`` in the run's float dtype: ``{"v"}`` for
``snn.lif``/``snn.if``/``snn.li``/``snn.integrator``, ``{"i", "v"}`` for the current-based
neurons; ``v`` is the membrane AFTER the reset.  ``snn.delay`` keeps a tuple of the last
``steps`` operand values (oldest first); ``snn.causal_filter`` the step counter and the past
operands.  ``snn.input``/``snn.output`` are handled by the
driver (:func:`snnc.interp.core.run_graph`); ``snn.output`` has a no-op kernel.
"""

from __future__ import annotations

import numpy as np

from ..dialects.common import param_array, tensor_attr_array
from ..ir.core import Operation
from ..ir.types import TensorType, si2
from .core import RunContext, kernel, stateful_kernel

State = dict[str, np.ndarray]


def _params(op: Operation, names: tuple[str, ...], ctx: RunContext) -> dict[str, np.ndarray]:
    cache = ctx.extra.setdefault("snn.param_cache", {})
    key = id(op)
    if key not in cache:
        cache[key] = {n: param_array(op, n, ctx.float_dtype) for n in names}
    return cache[key]


def _shape(op: Operation) -> tuple[int, ...]:
    t = op.results[0].type
    assert isinstance(t, TensorType)
    return tuple(t.shape)


def _full(op: Operation, value: np.ndarray, ctx: RunContext) -> np.ndarray:
    """``value`` broadcast to ``[B, *shape]`` as a fresh array."""
    return np.array(np.broadcast_to(value, (ctx.batch, *_shape(op))), dtype=ctx.float_dtype)


def _x(inputs: list[np.ndarray], ctx: RunContext) -> np.ndarray:
    return inputs[0].astype(ctx.float_dtype, copy=False)


def fire(op: Operation, v: np.ndarray, v_th: np.ndarray, ctx: RunContext) -> np.ndarray:
    """Spikes of membrane ``v``: bool for ``i1`` results, int8 -1/0/+1 for ``si2``; for a
    multi-spike neuron (``spike_fn = "multi"``) the count ``min(trunc(v / v_th), max_spikes)``
    where ``v > 0`` (else 0) in ``v``'s float dtype."""
    if op.get_attr("spike_fn") is not None and op.attr("spike_fn") == "multi":  # type: ignore[attr-defined]
        n = np.where(v > 0, np.trunc(v / v_th), v.dtype.type(0))
        cap = op.attr("max_spikes")  # type: ignore[attr-defined]
        if cap is not None:
            n = np.minimum(n, v.dtype.type(cap))
        return n.astype(v.dtype, copy=False)
    strict = op.attr("cmp") == "gt"  # type: ignore[attr-defined]
    cmp = np.greater if strict else np.greater_equal
    pos = cmp(v, v_th)
    if op.results[0].type.element == si2:  # type: ignore[attr-defined]
        neg = cmp(-v, v_th)
        return pos.astype(np.int8) - neg.astype(np.int8)
    return pos


def reset(op: Operation, v: np.ndarray, s: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """Membrane after the reset chosen by the op's ``reset`` attribute."""
    mode = op.attr("reset")  # type: ignore[attr-defined]
    if mode == "soft":
        v = v - s.astype(v.dtype) * p["v_th"]  # s: 0/1, -1/0/+1 or the multi-spike count
    elif mode == "hard":
        v = np.where(s != 0, p["v_reset"].astype(v.dtype), v)
    if op.get_attr("v_min") is not None:  # Sinabs' min_v_mem: relu(v - v_min) + v_min
        vmin = param_array(op, "v_min", v.dtype)
        v = np.maximum(v - vmin, v.dtype.type(0)) + vmin
    return v


_SPIKE = ("v_th", "v_reset")


class _Neuron:
    params: tuple[str, ...] = ()
    state_init: tuple[tuple[str, str], ...] = (("v", "v_init"),)

    def init(self, op: Operation, ctx: RunContext) -> State:
        p = _params(op, self.params, ctx)
        return {name: _full(op, p[init], ctx) for name, init in self.state_init}


@stateful_kernel("snn.lif")
class LIF(_Neuron):
    params = ("alpha", "beta", "gamma", *_SPIKE, "v_init")

    def step(self, op: Operation, inputs: list[np.ndarray], state: State, ctx: RunContext) -> tuple[list[np.ndarray], State]:
        p = _params(op, self.params, ctx)
        v = p["alpha"] * state["v"] + p["beta"] * _x(inputs, ctx) + p["gamma"]
        s = fire(op, v, p["v_th"], ctx)
        return [s], {"v": reset(op, v, s, p)}


@stateful_kernel("snn.if")
class IF(_Neuron):
    params = ("beta", "gamma", *_SPIKE, "v_init")

    def step(self, op: Operation, inputs: list[np.ndarray], state: State, ctx: RunContext) -> tuple[list[np.ndarray], State]:
        p = _params(op, self.params, ctx)
        v = state["v"] + p["beta"] * _x(inputs, ctx) + p["gamma"]
        s = fire(op, v, p["v_th"], ctx)
        return [s], {"v": reset(op, v, s, p)}


@stateful_kernel("snn.cuba_lif")
class CubaLIF(_Neuron):
    params = ("alpha_syn", "beta_syn", "gamma_syn", "alpha", "beta", "gamma", *_SPIKE, "i_init", "v_init")
    state_init = (("i", "i_init"), ("v", "v_init"))

    def step(self, op: Operation, inputs: list[np.ndarray], state: State, ctx: RunContext) -> tuple[list[np.ndarray], State]:
        p = _params(op, self.params, ctx)
        i = p["alpha_syn"] * state["i"] + p["beta_syn"] * _x(inputs, ctx) + p["gamma_syn"]
        v = p["alpha"] * state["v"] + p["beta"] * i + p["gamma"]
        s = fire(op, v, p["v_th"], ctx)
        return [s], {"i": i, "v": reset(op, v, s, p)}


@stateful_kernel("snn.li")
class LI(_Neuron):
    params = ("alpha", "beta", "gamma", "v_init")

    def step(self, op: Operation, inputs: list[np.ndarray], state: State, ctx: RunContext) -> tuple[list[np.ndarray], State]:
        p = _params(op, self.params, ctx)
        v = p["alpha"] * state["v"] + p["beta"] * _x(inputs, ctx) + p["gamma"]
        return [v], {"v": v}


@stateful_kernel("snn.cuba_li")
class CubaLI(_Neuron):
    params = ("alpha_syn", "beta_syn", "gamma_syn", "alpha", "beta", "gamma", "i_init", "v_init")
    state_init = (("i", "i_init"), ("v", "v_init"))

    def step(self, op: Operation, inputs: list[np.ndarray], state: State, ctx: RunContext) -> tuple[list[np.ndarray], State]:
        p = _params(op, self.params, ctx)
        i = p["alpha_syn"] * state["i"] + p["beta_syn"] * _x(inputs, ctx) + p["gamma_syn"]
        v = p["alpha"] * state["v"] + p["beta"] * i + p["gamma"]
        return [v], {"i": i, "v": v}


@stateful_kernel("snn.integrator")
class Integrator(_Neuron):
    params = ("beta", "gamma", "v_init")

    def step(self, op: Operation, inputs: list[np.ndarray], state: State, ctx: RunContext) -> tuple[list[np.ndarray], State]:
        p = _params(op, self.params, ctx)
        v = state["v"] + p["beta"] * _x(inputs, ctx) + p["gamma"]
        return [v], {"v": v}


@kernel("snn.threshold")
def threshold(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    p = _params(op, ("theta",), ctx)
    return [fire(op, _x(inputs, ctx), p["theta"], ctx)]


@stateful_kernel("snn.delay")
class Delay:
    """A queue of the last ``steps`` operand values; reads the oldest."""

    def init(self, op: Operation, ctx: RunContext) -> tuple[np.ndarray, ...]:
        t = op.results[0].type
        zero = np.zeros((ctx.batch, *_shape(op)), dtype=ctx.array_dtype(t))
        return tuple(zero for _ in range(int(op.attr("steps"))))  # type: ignore[attr-defined]

    def read(self, op: Operation, state: tuple[np.ndarray, ...], ctx: RunContext) -> list[np.ndarray]:
        return [state[0]]

    def step(
        self, op: Operation, inputs: list[np.ndarray], state: tuple[np.ndarray, ...], ctx: RunContext
    ) -> tuple[None, tuple[np.ndarray, ...]]:
        return None, (*state[1:], inputs[0])


@stateful_kernel("snn.causal_filter")
class CausalFilter:
    """State ``(t, past)``: the step counter and the past operands ``[t, B, *shape]`` (float)."""

    def init(self, op: Operation, ctx: RunContext) -> tuple[int, np.ndarray]:
        return 0, np.zeros((0, ctx.batch, *_shape(op)), dtype=ctx.float_dtype)

    def step(self, op: Operation, inputs: list[np.ndarray], state: tuple[int, np.ndarray],
             ctx: RunContext) -> tuple[list[np.ndarray], tuple[int, np.ndarray]]:
        t, past = state
        w = _weight(op, ctx)
        if t >= w.shape[0]:
            raise op.emit_error(
                f"step {t} is past the last step {w.shape[0] - 1} of this causal filter (weight [{w.shape[0]}, "
                f"{w.shape[0]}]): run the model for at most {w.shape[0]} steps"
            )
        xs = np.concatenate([past, _x(inputs, ctx)[None]], axis=0)  # [t+1, B, *shape]
        y = (w[t, : t + 1] @ xs.reshape(t + 1, -1)).reshape(xs.shape[1:])
        return [y.astype(ctx.float_dtype, copy=False)], (t + 1, xs)


def _weight(op: Operation, ctx: RunContext) -> np.ndarray:
    cache = ctx.extra.setdefault("snn.param_cache", {})
    key = (id(op), "weight")
    if key not in cache:
        cache[key] = tensor_attr_array(op, "weight", ctx.float_dtype)
    return cache[key]


@kernel("snn.output")
def output(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    return []


@kernel("snn.input")
def input_(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    # The driver binds graph inputs itself; this kernel only declares that they have semantics.
    raise RuntimeError("internal error: snn.input is bound by run_graph, not evaluated")


@stateful_kernel("snn.fused")
class Fused:
    """A fused unit: the region's ops in block order; state = the inner stateful ops' states."""

    def _plan(self, op: Operation, ctx: RunContext) -> list[tuple[Operation, bool]]:
        from .core import _STATEFUL, _STATELESS

        cache = ctx.extra.setdefault("snn.fused_plan", {})
        plan = cache.get(id(op))
        if plan is None:
            plan = []
            for inner in op.body.ops[:-1]:
                if inner.op_name in _STATEFUL:
                    plan.append((inner, True))
                elif inner.op_name in _STATELESS:
                    plan.append((inner, False))
                else:
                    raise inner.emit_error("has no interpreter semantics (unsupported by 'snnc run')")
            cache[id(op)] = plan
        return plan

    def init(self, op: Operation, ctx: RunContext) -> dict[int, object]:
        from .core import _STATEFUL

        return {i: _STATEFUL[inner.op_name].init(inner, ctx)
                for i, (inner, stateful) in enumerate(self._plan(op, ctx)) if stateful}

    def step(self, op: Operation, inputs: list[np.ndarray], state: dict[int, object],
             ctx: RunContext) -> tuple[list[np.ndarray], dict[int, object]]:
        from .core import _STATEFUL, _STATELESS, _check_outputs

        env = dict(zip(op.body.args, inputs, strict=True))
        new_state: dict[int, object] = {}
        for i, (inner, stateful) in enumerate(self._plan(op, ctx)):
            ins = [env[v] for v in inner.operands]
            if stateful:
                outs, new_state[i] = _STATEFUL[inner.op_name].step(inner, ins, state[i], ctx)
            else:
                outs = _STATELESS[inner.op_name](inner, ins, ctx)
            _check_outputs(inner, outs, ctx)
            for r, v in zip(inner.results, outs, strict=True):
                env[r] = v
        return [env[v] for v in op.body.ops[-1].operands], new_state


__all__ = ["fire", "reset"]
