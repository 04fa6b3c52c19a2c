"""``canonicalize``: dead-code elimination, constant folding and identity removal.

Algorithm.  For every block in the module (the module body and each ``snn.graph`` body),
repeat until nothing changes (or ``max-iterations`` sweeps, which is an error: every
rewrite below removes an op or replaces a non-constant op by a constant, so a correct
pattern set always converges):

1. **Identity and local patterns** (:data:`PATTERNS`, a table of ``op name ->
   [pattern functions]``).  A pattern looks at one op and either returns ``None`` (no
   match) or the values that replace the op's results; the driver rewires the uses and
   erases the op.  Every pattern only fires when the replacement has exactly the op's
   result type.
2. **Constant folding**: an op with the ``PURE`` trait (not itself ``CONSTANT``) whose
   operands are all results of ``CONSTANT`` ops and that has an interpreter kernel is
   evaluated once with that kernel and replaced by an ``nn.constant``.  The kernel runs
   in the precision of the result type (f32 results are computed in float32, f64 in
   float64), so a float32 interpretation of the folded module is bit-identical to the
   unfolded one; in a float64 run the folded value differs by at most the rounding of the
   result to its IR type.  Results with more than ``fold-limit`` elements are not folded
   (they would bloat the text); folded tensors are inline ``dense<>`` up to 16 elements,
   else ``dense_resource<>`` blobs with a content-derived handle.
3. **Dead-code elimination** (mark and sweep, so dead cycles through delays go too).
   An op is *removable* when it has the ``PURE``, ``CONSTANT`` or ``STATEFUL`` trait and
   none of ``GRAPH_INPUT`` / ``GRAPH_OUTPUT``, and has no regions.  Every other op is a
   *root* (``snn.output``, ``snn.input`` (it defines the graph's signature), ops of
   unknown dialects, ops with regions).  An op is *live* when it is a root or one of its
   results is used by a live op; removable ops that are not live are erased.  So a
   neuron or delay whose spikes never reach an ``snn.output`` (directly or through other
   ops) is removed: its state is not observable through the graph's outputs.  (This
   changes what a probe of intermediate values would show; graph outputs are
   unchanged, and that is what translation validation checks.)

Identity patterns: ``nn.reshape`` / ``nn.flatten`` to the operand's own type;
``nn.transpose`` with the identity permutation; ``nn.scale`` by 1; ``nn.add`` /
``nn.sub`` of a zero constant (``0 + x`` too); ``nn.mul`` by a constant one (either
side); ``nn.concat`` of a single operand; ``nn.relu(nn.relu(x))`` -> ``nn.relu(x)``;
``nn.reshape(nn.reshape(x))`` / ``nn.reshape(nn.flatten(x))`` -> one ``nn.reshape``;
``nn.transpose(nn.transpose(x))`` -> one transpose with the composed permutation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..ir.attributes import DenseArrayAttr, DenseElementsAttr, DenseResourceAttr, FloatAttr
from ..ir.builtin import ModuleOp
from ..ir.core import Block, Operation, Value
from ..ir.diagnostics import error
from ..ir.opdef import Trait, has_trait, make_op
from ..ir.types import FloatType, TensorType, i64
from .manager import Pass

#: A pattern: ``(op) -> replacement values`` (one per result) or None when it does not apply.
#: Patterns may create new ops (inserted before ``op``); they must not erase anything.
Pattern = Callable[[Operation], Sequence[Value] | None]


# --------------------------------------------------------------------------- helpers


def constant_value(v: Value) -> np.ndarray | None:
    """The value of ``v`` when it is the result of a ``CONSTANT`` op (``nn.constant``)."""
    d = v.defining_op()
    if d is None or not has_trait(d, Trait.CONSTANT):
        return None
    a = d.get_attr("value")
    if isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        return np.asarray(a.data)
    return None


def _is_const(v: Value, x: float) -> bool:
    c = constant_value(v)
    return c is not None and c.size > 0 and bool(np.all(c == x))


def _same_type(op: Operation, v: Value) -> bool:
    return len(op.results) == 1 and op.results[0].type == v.type


def _int_tuple(op: Operation, name: str) -> tuple[int, ...] | None:
    a = op.get_attr(name)
    if isinstance(a, DenseArrayAttr):
        return tuple(int(x) for x in a.elements)
    return None


def _insert_before(anchor: Operation, new: Operation) -> Operation:
    assert anchor.parent is not None
    anchor.parent.insert_before(anchor, new)
    return new


# --------------------------------------------------------------------------- patterns


def fold_same_type(op: Operation) -> Sequence[Value] | None:
    """reshape / flatten whose result type equals the operand type: the operand."""
    x = op.operands[0] if op.operands else None
    if x is not None and _same_type(op, x):
        return [x]
    return None


def fold_identity_transpose(op: Operation) -> Sequence[Value] | None:
    perm = _int_tuple(op, "perm")
    x = op.operands[0]
    if perm is not None and perm == tuple(range(len(perm))) and _same_type(op, x):
        return [x]
    return None


def fold_transpose_transpose(op: Operation) -> Sequence[Value] | None:
    """transpose(transpose(x, p), q) -> transpose(x, p[q]) (or x when that is the identity)."""
    inner = op.operands[0].defining_op()
    if inner is None or inner.op_name != "nn.transpose":
        return None
    p, q = _int_tuple(inner, "perm"), _int_tuple(op, "perm")
    if p is None or q is None or len(p) != len(q):
        return None
    composed = tuple(p[i] for i in q)
    x = inner.operands[0]
    if composed == tuple(range(len(composed))) and _same_type(op, x):
        return [x]
    new = make_op(
        "nn.transpose", [x], [op.results[0].type], {"perm": DenseArrayAttr(i64, composed)}, location=op.location
    )
    return [_insert_before(op, new).results[0]]


def fold_reshape_chain(op: Operation) -> Sequence[Value] | None:
    """reshape(reshape(x)) and reshape(flatten(x)) -> reshape(x)."""
    inner = op.operands[0].defining_op()
    if inner is None or inner.op_name not in ("nn.reshape", "nn.flatten"):
        return None
    x = inner.operands[0]
    if _same_type(op, x):
        return [x]
    new = make_op("nn.reshape", [x], [op.results[0].type], {}, location=op.location)
    return [_insert_before(op, new).results[0]]


def fold_scale_by_one(op: Operation) -> Sequence[Value] | None:
    a = op.get_attr("scale")
    x = op.operands[0]
    if isinstance(a, FloatAttr):
        ones = a.value == 1.0
    elif isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        ones = a.data.size > 0 and bool(np.all(a.data == 1))
    else:
        return None
    if ones and _same_type(op, x):
        return [x]
    return None


def fold_add_zero(op: Operation) -> Sequence[Value] | None:
    a, b = op.operands
    if _is_const(b, 0.0) and _same_type(op, a):
        return [a]
    if _is_const(a, 0.0) and _same_type(op, b):
        return [b]
    return None


def fold_sub_zero(op: Operation) -> Sequence[Value] | None:
    a, b = op.operands
    if _is_const(b, 0.0) and _same_type(op, a):
        return [a]
    return None


def fold_mul_one(op: Operation) -> Sequence[Value] | None:
    a, b = op.operands
    if _is_const(b, 1.0) and _same_type(op, a):
        return [a]
    if _is_const(a, 1.0) and _same_type(op, b):
        return [b]
    return None


def fold_single_concat(op: Operation) -> Sequence[Value] | None:
    if len(op.operands) == 1 and _same_type(op, op.operands[0]):
        return [op.operands[0]]
    return None


def fold_relu_relu(op: Operation) -> Sequence[Value] | None:
    inner = op.operands[0].defining_op()
    if inner is not None and inner.op_name == "nn.relu" and _same_type(op, inner.results[0]):
        return [inner.results[0]]
    return None


def _single_use(v: Value) -> bool:
    return len(list(v.uses)) == 1


def _conv_params(op: Operation) -> tuple[int, tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]:
    from ..dialects.common import int_tuple
    from ..dialects.nn import spatial_padding

    n = 2 if op.op_name == "nn.conv2d" else 1
    return int(op.attr("groups")), int_tuple(op, "stride"), int_tuple(op, "dilation"), spatial_padding(op, n)  # type: ignore[arg-type]


def _weight_bias(op: Operation) -> tuple[np.ndarray, np.ndarray | None]:
    w = constant_attr(op, "weight")
    assert w is not None
    return w, constant_attr(op, "bias")


def constant_attr(op: Operation, name: str) -> np.ndarray | None:
    a = op.get_attr(name)
    if isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        return np.asarray(a.data)
    return None


def _rebuild(op: Operation, x: Value, w: np.ndarray, b: np.ndarray, result_type, like: Operation, **overrides) -> Value:
    """A copy of synapse op ``like`` on input ``x`` with weight ``w``, bias ``b`` (at ``like``'s weight precision)."""
    from ..dialects.common import weight_attr

    wt = like.get_attr("weight")
    el = wt.type.element  # type: ignore[union-attr]
    attrs = dict(like.attributes)
    attrs.update(overrides)
    attrs["weight"] = weight_attr(np.asarray(w, np.float64), el, hint="folded")
    attrs["bias"] = weight_attr(np.asarray(b, np.float64), el, hint="folded")
    new = make_op(like.op_name, [x], [result_type], attrs, location=op.location)
    return _insert_before(op, new).results[0]


def fold_batch_norm(op: Operation) -> Sequence[Value] | None:
    """BN whose input is a single-use conv1d/conv2d (or a linear with a rank-1 result): one layer.

    ``BN(W x + b) = (s W) x + (s b + beta - mean s)`` per output channel (channel axis 0 of BN,
    which is the conv's output-channel axis, and the linear's feature axis only at rank 1).
    """
    from .compose_linear import fold_bn

    syn = op.operands[0].defining_op()
    if syn is None or syn.op_name not in ("nn.conv1d", "nn.conv2d", "nn.linear") or not _single_use(syn.results[0]):
        return None
    if syn.op_name == "nn.linear" and len(syn.results[0].type.shape) != 1:  # type: ignore[union-attr]
        return None
    if syn.results[0].type != op.results[0].type:
        return None
    bn = {k: constant_attr(op, k) for k in ("mean", "var", "weight", "bias")}
    if bn["mean"] is None or bn["var"] is None:
        return None
    bn["eps"] = float(op.attr("eps"))  # type: ignore[arg-type]
    w, b = _weight_bias(syn)
    w2, b2 = fold_bn(w, b, bn)
    return [_rebuild(op, syn.operands[0], w2, b2, op.results[0].type, syn)]


def _param_array(op: Operation, name: str, default: float) -> np.ndarray:
    a = op.get_attr(name)
    if a is None:
        return np.asarray(default, np.float64)
    if isinstance(a, FloatAttr):
        return np.asarray(a.value, np.float64)
    if isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        return np.asarray(a.data, np.float64)
    return np.asarray(float(op.attr(name)), np.float64)  # type: ignore[arg-type]


def fold_bn_into_neuron(op: Operation) -> Sequence[Value] | None:
    """``snn.lif`` / ``snn.if`` fed by a single-use BN that could not fold into weights: gain and drive.

    ``v' = alpha v + beta (s x + b) + gamma = alpha v + (beta s) x + (beta b + gamma)``, so BN becomes
    the neuron's per-channel input gain ``beta' = beta s`` and drive ``gamma' = gamma + beta b``
    (tensors ``[C, 1, ...]`` broadcast over the neuron shape); threshold and state are unchanged.
    """
    from ..dialects.common import weight_attr
    from .compose_linear import bn_affine

    bn_op = op.operands[0].defining_op()
    if bn_op is None or bn_op.op_name != "nn.batch_norm" or not _single_use(bn_op.results[0]):
        return None
    t = bn_op.results[0].type
    if not isinstance(t, TensorType) or not isinstance(t.element, FloatType) or len(t.shape) < 1:
        return None
    bn = {k: constant_attr(bn_op, k) for k in ("mean", "var", "weight", "bias")}
    if bn["mean"] is None or bn["var"] is None:
        return None
    bn["eps"] = float(bn_op.attr("eps"))  # type: ignore[arg-type]
    s, b = bn_affine(bn)
    shape = (len(s),) + (1,) * (len(t.shape) - 1)
    beta, gamma = _param_array(op, "beta", 1.0), _param_array(op, "gamma", 0.0)
    try:
        new_beta = np.broadcast_to(beta, shape) * s.reshape(shape) if beta.ndim <= len(shape) else None
        new_gamma = gamma + beta * b.reshape(shape)
    except ValueError:
        return None
    if new_beta is None or new_gamma.ndim > len(t.shape):
        return None
    attrs = dict(op.attributes)
    attrs["beta"] = weight_attr(np.asarray(new_beta, np.float64), t.element, hint="folded")
    attrs["gamma"] = weight_attr(np.asarray(new_gamma, np.float64), t.element, hint="folded")
    new = make_op(op.op_name, [bn_op.operands[0]], [r.type for r in op.results], attrs, location=op.location)
    return list(_insert_before(op, new).results)


def compose_conv_chain(op: Operation) -> Sequence[Value] | None:
    """conv2d B whose input is a single-use conv2d A, no neuron between, as one conv2d.

    Two exact cases: A is 1x1 (groups 1, stride 1; any padding, its ring is A's bias) and B has no
    padding (RepConv's conv1x1 -> dw3x3); or B is 1x1 (groups 1, stride 1, no padding) after any A
    (RepConv's and SepConv's dw -> pw).  Depthwise weights become dense: the composed conv costs more
    FLOPs, but it sees A's input (spikes) instead of real values.
    """
    from .compose_linear import compose_pointwise_then, compose_then_pointwise

    a = op.operands[0].defining_op()
    if a is None or a.op_name != "nn.conv2d" or not _single_use(a.results[0]):
        return None
    ga, sa, da, pa = _conv_params(a)
    gb, sb, db, pb = _conv_params(op)
    wa, ba = _weight_bias(a)
    wb, bb = _weight_bias(op)
    a_pw = wa.shape[2:] == (1, 1) and ga == 1 and sa == (1, 1)
    b_pw = wb.shape[2:] == (1, 1) and gb == 1 and sb == (1, 1) and pb == ((0, 0), (0, 0))
    if a_pw and pb == ((0, 0), (0, 0)):
        w, b = compose_pointwise_then(wa, ba, wb, bb, gb)
        over = {"padding": a.get_attr("padding") or DenseArrayAttr(i64, (0, 0)), "groups": a.get_attr("groups") or 1}
        for k in ("stride", "dilation"):
            if op.get_attr(k) is not None:
                over[k] = op.get_attr(k)
        return [_rebuild(op, a.operands[0], w, b, op.results[0].type, op, **over)]
    if b_pw:
        w, b = compose_then_pointwise(wa, ba, ga, wb, bb)
        over = {k: a.get_attr(k) for k in ("padding", "stride", "dilation") if a.get_attr(k) is not None}
        over["groups"] = op.get_attr("groups") or 1
        return [_rebuild(op, a.operands[0], w, b, op.results[0].type, op, **over)]
    return None


#: The pattern table: op name -> patterns tried in order.
PATTERNS: dict[str, tuple[Pattern, ...]] = {
    "nn.reshape": (fold_same_type, fold_reshape_chain),
    "nn.flatten": (fold_same_type,),
    "nn.transpose": (fold_identity_transpose, fold_transpose_transpose),
    "nn.scale": (fold_scale_by_one,),
    "nn.add": (fold_add_zero,),
    "nn.sub": (fold_sub_zero,),
    "nn.mul": (fold_mul_one,),
    "nn.concat": (fold_single_concat,),
    "nn.relu": (fold_relu_relu,),
    "nn.batch_norm": (fold_batch_norm,),
    "snn.lif": (fold_bn_into_neuron,),
    "snn.if": (fold_bn_into_neuron,),
}

#: Patterns of ``compose-linear`` (on top of :data:`PATTERNS`): conv chains with no neuron between.
COMPOSE_PATTERNS: dict[str, tuple[Pattern, ...]] = {**PATTERNS, "nn.conv2d": (compose_conv_chain,)}


# --------------------------------------------------------------------------- folding


def fold_constants(op: Operation, limit: int) -> Sequence[Value] | None:
    """Evaluate a PURE op whose operands are all constants; None when it does not apply."""
    if not has_trait(op, Trait.PURE) or has_trait(op, Trait.CONSTANT) or op.regions or not op.results:
        return None
    if not op.operands or any(constant_value(v) is None for v in op.operands):
        return None
    types = [r.type for r in op.results]
    if not all(isinstance(t, TensorType) and t.num_elements <= limit for t in types):
        return None
    from ..interp import core as interp_core

    if not interp_core.has_kernel(op.op_name):
        return None
    fn = interp_core.stateless_kernel(op.op_name)
    if fn is None:
        return None
    float_widths = [t.element.width for t in types if isinstance(t.element, FloatType)]  # type: ignore[union-attr]
    dtype = np.float64 if float_widths and max(float_widths) > 32 else np.float32
    ctx = interp_core.RunContext(batch=1, float_dtype=np.dtype(dtype), num_steps=1)
    inputs = []
    for v in op.operands:
        arr = constant_value(v)
        assert arr is not None
        inputs.append(arr.astype(ctx.array_dtype(v.type), copy=False)[None, ...])
    outs = fn(op, inputs, ctx)
    from ..dialects.common import weight_attr

    new_values: list[Value] = []
    for r, out in zip(op.results, outs, strict=True):
        t = r.type
        assert isinstance(t, TensorType)
        data = np.asarray(out)[0]
        attr = weight_attr(data, t.element, hint="folded")
        c = make_op("nn.constant", [], [t], {"value": attr}, location=op.location)
        new_values.append(_insert_before(op, c).results[0])
    return new_values


# --------------------------------------------------------------------------- dead code


def is_removable(op: Operation) -> bool:
    """Whether DCE may erase ``op`` when nothing live uses it (see the module docstring)."""
    if op.regions or has_trait(op, Trait.GRAPH_INPUT) or has_trait(op, Trait.GRAPH_OUTPUT):
        return False
    return has_trait(op, Trait.PURE) or has_trait(op, Trait.CONSTANT) or has_trait(op, Trait.STATEFUL)


def eliminate_dead_code(block: Block) -> int:
    """Erase the removable ops of ``block`` that no root reaches; return how many."""
    live: set[int] = set()
    work = [op for op in block.ops if not is_removable(op)]
    for op in work:
        live.add(id(op))
    in_block = {id(op) for op in block.ops}
    while work:
        op = work.pop()
        for nested in op.walk():
            for v in nested.operands:
                d = v.defining_op()
                if d is not None and id(d) in in_block and id(d) not in live:
                    live.add(id(d))
                    work.append(d)
    dead = [op for op in block.ops if id(op) not in live]
    for op in dead:  # drop operands first: dead ops may use each other (cycles)
        op.drop_operands()
    for op in dead:
        op.erase(check_uses=False)
    return len(dead)


# --------------------------------------------------------------------------- the pass


@dataclass
class Canonicalize(Pass):
    """Dead-code elimination, constant folding and identity removal, to a fixed point."""

    name: ClassVar[str] = "canonicalize"

    max_iterations: int = field(default=20, metadata={"help": "sweeps over a block before giving up (an error)"})
    fold: bool = field(default=True, metadata={"help": "fold PURE ops with constant operands"})
    dce: bool = field(default=True, metadata={"help": "remove ops whose results reach no graph output"})
    fold_limit: int = field(default=1 << 16, metadata={"help": "largest result (elements) that is folded"})
    fold_bn: bool = field(
        default=True, metadata={"help": "fold batch norm into the preceding conv/linear, else into the next neuron's gain"}
    )

    patterns: ClassVar[dict[str, tuple[Pattern, ...]]] = PATTERNS

    def check_options(self) -> str | None:
        if self.max_iterations < 1:
            return "max-iterations must be at least 1"
        if self.fold_limit < 0:
            return "fold-limit must not be negative"
        return None

    def run(self, module: ModuleOp) -> None:
        blocks = [b for op in module.walk() for r in op.regions for b in r.blocks]
        for block in blocks:
            self.run_on_block(block)

    def run_on_block(self, block: Block) -> int:
        """Canonicalize one block to a fixed point; return the number of rewrites."""
        total = 0
        for _ in range(self.max_iterations):
            changed = self._sweep(block)
            if self.dce:
                changed += eliminate_dead_code(block)
            total += changed
            if not changed:
                return total
        raise error(
            f"canonicalize did not reach a fixed point in {self.max_iterations} sweeps "
            "(raise max-iterations, or report a looping pattern)",
            block.parent_op.location if block.parent_op is not None else None,
        )

    def _sweep(self, block: Block) -> int:
        changed = 0
        for op in list(block.ops):
            if op.parent is not block:
                continue  # erased earlier in this sweep
            replacement = None
            for pattern in self.patterns.get(op.op_name, ()):
                if pattern in (fold_batch_norm, fold_bn_into_neuron) and not self.fold_bn:
                    continue
                replacement = pattern(op)
                if replacement is not None:
                    break
            if replacement is None and self.fold:
                replacement = fold_constants(op, self.fold_limit)
            if replacement is None:
                continue
            for r, v in zip(op.results, replacement, strict=True):
                for u in list(r.uses):
                    u.operation.set_operand(u.index, v)
            op.erase()
            changed += 1
        return changed


__all__ = [
    "Canonicalize",
    "PATTERNS",
    "COMPOSE_PATTERNS",
    "Pattern",
    "compose_conv_chain",
    "fold_batch_norm",
    "fold_bn_into_neuron",
    "constant_value",
    "eliminate_dead_code",
    "fold_constants",
    "is_removable",
]
