"""``attention-mask-add``: products with a spike operand become masks and additions.

Spike-driven attention (``SEEDS.md``, "Spike-driven attention") multiplies binary spike tensors
with each other and with integer counts.  Types say which operand is a spike tensor (``i1``), so
every such product is rewritten into an op that needs no multiplier:

* ``nn.sum(nn.mul(a, b))`` with ``a``, ``b`` binary spikes (the mul used only by the sum) ->
  ``nn.and_popcount(a, b) {axes, keepdim}``: SDSA v1's ``sum over tokens of (K AND V)``;
* ``nn.mul(a, b)`` of two binary spike tensors -> ``nn.spike_and(a, b)``.  Its result is ``i1``
  when every consumer (through ``nn.reshape``/``nn.flatten``/``nn.transpose``, which are retyped
  to ``i1`` too) accepts spikes and is not a graph output; otherwise it keeps the float type
  (the same 0.0/1.0 values);
* ``nn.matmul(s, x)`` with ``s`` binary spikes ``[..., M, K]`` and ``x`` ``[..., K, N]`` of the
  same rank and leading dimensions -> ``nn.masked_accumulate(s, x)``: rows of ``x`` selected by
  ``s`` and added (spike ``x``: AND + popcount, Meta-SpikeFormer's ``K^T V``; counts: ``Q (K^T V)``);
* ``nn.matmul(x, s)`` with only the right operand binary spikes ->
  ``transpose(nn.masked_accumulate(transpose(s), transpose(x)))`` (last two axes swapped);
* ``nn.sum(nn.mul(s, x))`` over the last axis only, with ``s`` binary spikes of the full product
  shape ``[..., M, K]`` and ``x`` non-spike ``[..., 1, K]`` (a per-``K`` vector shared by the
  ``M`` rows, e.g. the saccadic attention's ``sum_d Q[n, d] Ksum[d]``) ->
  ``nn.masked_accumulate(s, transpose(x))`` reshaped to the sum's shape.

Every other product is left as it is: a product of two non-spike tensors remains (the
``spike-driven`` check names it), and so do ternary (``si2``) products and spike x real
elementwise products that are not reduced.  Scales after the attention (Meta-SpikeFormer's
``* 0.125``) stay as ``nn.scale``; ``quantize`` folds them into the integer threshold of the
following neuron.  In float64 the rewritten ops compute the same values as the products they
replace (counts are exact integers; ``nn.masked_accumulate`` evaluates the same sums as
``nn.matmul``), so spikes are identical (translation validation: tests/passes/test_attention_mask_add.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..ir.attributes import DenseArrayAttr
from ..ir.builtin import ModuleOp
from ..ir.core import Operation, Value
from ..ir.opdef import OpDef, Trait, has_trait, make_op
from ..ir.types import TensorType, i1, i64, is_spike_tensor
from .manager import Pass

_LAYOUT = ("nn.reshape", "nn.flatten", "nn.transpose")


def _is_binary(v: Value) -> bool:
    t = v.type
    return isinstance(t, TensorType) and t.element == i1


def _shape(v: Value) -> tuple[int, ...]:
    t = v.type
    assert isinstance(t, TensorType)
    return tuple(t.shape)


def _insert(anchor: Operation, name: str, operands, result_type, attrs=None) -> Operation:
    op = make_op(name, list(operands), [result_type], attrs or {}, location=anchor.location)
    anchor.parent.insert_before(anchor, op)  # type: ignore[union-attr]
    return op


def _swap_last(anchor: Operation, v: Value) -> Value:
    t = v.type
    assert isinstance(t, TensorType)
    r = len(t.shape)
    perm = (*range(r - 2), r - 1, r - 2)
    shape = (*t.shape[:-2], t.shape[-1], t.shape[-2])
    return _insert(anchor, "nn.transpose", [v], t.with_shape(shape), {"perm": DenseArrayAttr(i64, perm)}).results[0]


def _accepts_spikes(user: Operation, index: int) -> bool:
    """Does ``user`` accept an ``i1`` tensor as operand ``index`` (by its op definition)?"""
    if has_trait(user, Trait.GRAPH_OUTPUT):
        return False
    cls = OpDef.registry.get(user.op_name)
    if cls is None:
        return False
    defs = cls.operand_defs()
    if any(d.variadic or d.optional for d in defs) or index >= len(defs):
        return False
    t = user.operands[index].type
    assert isinstance(t, TensorType)
    return bool(defs[index].constraint.predicate(t.with_element(i1)))


def _spike_chain(v: Value) -> list[Operation] | None:
    """The layout ops between ``v`` and its consumers if every consumer accepts spikes, else None."""
    chain: list[Operation] = []
    for user in v.users:
        idx = [i for i, o in enumerate(user.operands) if o is v]
        if user.op_name in _LAYOUT:
            rest = _spike_chain(user.results[0])
            if rest is None:
                return None
            chain += [user, *rest]
        elif not all(_accepts_spikes(user, i) for i in idx):
            return None
    return chain


def _single_use_mul(op: Operation) -> Operation | None:
    m = op.operands[0].defining_op()
    if m is None or m.op_name != "nn.mul" or len(m.results[0].users) != 1:
        return None
    return m


@dataclass
class AttentionMaskAdd(Pass):
    """Rewrite products with a binary spike operand into AND/popcount and masked accumulation."""

    name: ClassVar[str] = "attention-mask-add"

    #: (op name before, op name after) of every rewrite made by the last run
    rewrites: list = field(default_factory=list, init=False, repr=False, compare=False)

    def run(self, module: ModuleOp) -> None:
        self.rewrites = []
        for g in [op for op in module.walk() if op.op_name == "snn.graph"]:
            # sums of products first (a mul under a sum is a count, not an AND), then the remaining
            # ANDs (their i1 results make more matmul operands spikes), then the matmuls
            for name, rewrite in (("nn.sum", self._sum), ("nn.mul", self._mul), ("nn.matmul", self._matmul)):
                for op in [o for o in g.walk() if o.op_name == name]:  # (snn.fused regions of fuse-lif too)
                    if op.parent is not None:  # (not erased by an earlier rewrite)
                        rewrite(op)

    def _replace(self, old: Operation, new: Value) -> None:
        self.rewrites.append((old.op_name, new.owner.op_name))  # type: ignore[union-attr]
        old.results[0].replace_all_uses_with(new)
        old.erase()

    # ------------------------------------------------------------------ patterns

    def _sum(self, op: Operation) -> None:
        m = _single_use_mul(op)
        if m is None:
            return
        a, b = m.operands
        rt = op.results[0].type
        if _is_binary(a) and _is_binary(b):
            attrs = {k: op.get_attr(k) for k in ("axes", "keepdim") if op.get_attr(k) is not None}
            new = _insert(op, "nn.and_popcount", [a, b], rt, attrs)
            self._replace(op, new.results[0])
            m.erase()
            return
        # spike x vector, summed over the last axis: a masked accumulation in matmul form
        if _is_binary(b) and not _is_binary(a):
            a, b = b, a
        if not _is_binary(a) or is_spike_tensor(b.type):
            return
        p, x = _shape(m.results[0]), _shape(b)
        axes = op.reduced_axes()  # type: ignore[attr-defined]
        if (len(p) < 2 or _shape(a) != p or axes != (len(p) - 1,) or len(x) != len(p)
                or x[-2] != 1 or x[:-2] != p[:-2] or x[-1] != p[-1]):
            return
        xt = _swap_last(op, b)
        acc_t = rt.with_shape((*p[:-1], 1))  # type: ignore[attr-defined]
        acc = _insert(op, "nn.masked_accumulate", [a, xt], acc_t)
        out = acc.results[0]
        if tuple(rt.shape) != tuple(acc_t.shape):  # type: ignore[attr-defined]
            out = _insert(op, "nn.reshape", [out], rt).results[0]
        self.rewrites.append(("nn.mul", "nn.masked_accumulate"))
        op.results[0].replace_all_uses_with(out)
        op.erase()
        m.erase()

    def _matmul(self, op: Operation) -> None:
        a, b = op.operands
        sa, sb = _shape(a), _shape(b)
        if len(sa) < 2 or len(sa) != len(sb) or sa[:-2] != sb[:-2]:
            return
        rt = op.results[0].type
        if _is_binary(a):
            new = _insert(op, "nn.masked_accumulate", [a, b], rt)
            self._replace(op, new.results[0])
        elif _is_binary(b) and not is_spike_tensor(a.type):
            st, xt = _swap_last(op, b), _swap_last(op, a)
            acc_t = rt.with_shape((*sb[:-2], sb[-1], sa[-2]))  # type: ignore[attr-defined]
            acc = _insert(op, "nn.masked_accumulate", [st, xt], acc_t).results[0]
            self.rewrites.append(("nn.matmul", "nn.masked_accumulate"))
            op.results[0].replace_all_uses_with(_swap_last(op, acc))
            op.erase()

    def _mul(self, op: Operation) -> None:
        a, b = op.operands
        if not (_is_binary(a) and _is_binary(b)):
            return
        rt = op.results[0].type
        assert isinstance(rt, TensorType)
        chain = _spike_chain(op.results[0])
        new = _insert(op, "nn.spike_and", [a, b], rt.with_element(i1) if chain is not None else rt)
        self._replace(op, new.results[0])
        for lay in chain or []:
            t = lay.results[0].type
            assert isinstance(t, TensorType)
            re = _insert(lay, lay.op_name, list(lay.operands), t.with_element(i1), dict(lay.attributes))
            lay.results[0].replace_all_uses_with(re.results[0])
            lay.erase()


__all__ = ["AttentionMaskAdd"]
