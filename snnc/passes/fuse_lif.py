"""``fuse-lif``: group each synapse -> (BN) -> (shortcut add) -> neuron chain into one ``snn.fused`` unit.

A unit is what one core executes per step: the synapse(s) feeding a neuron, the stateless
ops between them (BN, scales, membrane shortcut adds, layout ops, reductions) and the neuron.
The pass changes only the grouping, never the arithmetic: every op moves unchanged into the
region of an ``snn.fused`` op (see its docstring in :mod:`snnc.dialects.snn`), so the
interpretation before and after is identical in every bit.

Units, built per ``snn.graph`` in this order:

1. **Neuron units** (``kind`` = the neuron: ``lif``, ``if``, ``cuba_lif``, ``li``, ``cuba_li``,
   ``integrator``, ``threshold``), one per neuron, neurons taken in step order (inputs first).
   From the neuron's input the pass walks backwards through

   * the *post-synaptic stage*: any stateless op (``PURE``, not a constant, not already in a
     unit) -- BN, ``nn.scale``, ``nn.add``/``nn.sub`` (a **membrane shortcut** is such an add:
     its other operand, a membrane/real tensor from elsewhere, becomes an operand of the
     unit), layout ops, reductions.  A synapse (``nn.conv1d``, ``nn.conv2d``, ``nn.linear``,
     ``nn.matmul``) ends this stage on its path: it is taken and its operands start
   * the *pre-synaptic stage*: stateless non-synapse ops whose every user is already in the
     unit (layout ops, pooling, a **spike shortcut** ``nn.add`` of two spike tensors feeding
     the synapse); a second synapse ends the path (its result is an operand of the unit).

   Neurons, delays, graph I/O and ops already in a unit are never taken.  Constants are taken
   only when every user is in the unit.  A post-synaptic op whose result is also used outside
   the unit (e.g. the membrane shortcut's sum, which the next block adds to again) stays in
   the unit and its value is **yielded** as an extra result after the neuron's output.  If
   yielding would close a cycle without a delay through the unit, the unit is rebuilt taking
   only ops whose every user is in the unit.
2. **Stateless units** (``kind = "stateless"``): of the remaining stateless ops, each op whose
   single user is another remaining stateless op joins that user's group; every group of at
   least two non-constant ops becomes one unit (e.g. the reshape/transpose chains and the
   ``K^T V`` matmul of spike-driven attention).

Ops keep their relative step order inside a unit; the unit's operands are the values
flowing in (in first-use order), its results the neuron's output then the yielded values.
:func:`unfuse` inlines every unit back (what ``quantize`` and ``snnc report`` do first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..ir.builtin import ModuleOp
from ..ir.core import Block, Operation, Region, Value
from ..ir.graph import step_order
from ..ir.opdef import Trait, has_trait
from .manager import Pass

#: Synapses: a path of the backward walk takes at most one of them after the neuron (the
#: attention-mask-add forms of nn.matmul count as synapses too).
SYNAPSES = frozenset({"nn.conv1d", "nn.conv2d", "nn.linear", "nn.matmul", "nn.masked_accumulate", "nn.and_popcount"})


def _neuron_kind(op: Operation) -> str | None:
    from ..dialects.snn import FUSED_KINDS, _Neuron

    if isinstance(op, _Neuron):
        kind = op.op_name.split(".", 1)[1]
        return kind if kind in FUSED_KINDS else None
    return None


def _free_stateless(op: Operation, taken: set[Operation]) -> bool:
    """A stateless op the walk may take: pure, not an I/O op, not in a unit yet."""
    return (op not in taken and has_trait(op, Trait.PURE) and not has_trait(op, Trait.CONSTANT)
            and _neuron_kind(op) is None and op.parent is not None)


@dataclass
class _Unit:
    kind: str
    root: Operation
    members: list[Operation]


class _Fuser:
    def __init__(self, graph: Operation) -> None:
        self.g = graph
        self.block: Block = graph.body
        order = step_order(self.block)
        self.pos = {op: i for i, op in enumerate(order)}
        self.order = order
        self.taken: set[Operation] = set()
        self.names = {str(op.attr("name")) for op in self.block.ops if op.op_name == "snn.fused"}  # type: ignore[attr-defined]
        self.counter = 0
        self.units: list[Operation] = []

    # ------------------------------------------------------------------ neuron units

    def neuron_unit(self, neuron: Operation, strict: bool) -> set[Operation]:
        """The ops of the unit ending in ``neuron`` (see the module docstring)."""
        unit: set[Operation] = {neuron}
        # (value, stage): stage "post" before the first synapse on the path, "pre" after it
        work: list[tuple[Value, str]] = [(v, "post") for v in neuron.operands]
        while work:
            v, stage = work.pop()
            p = v.defining_op()
            if p is None or p in unit or p.parent is not self.block:
                continue
            if has_trait(p, Trait.CONSTANT):
                if all(u in unit for u in v.users):
                    unit.add(p)
                continue
            if not _free_stateless(p, self.taken):
                continue
            users_inside = all(u.operation in unit for r in p.results for u in r.uses)
            if stage == "post":
                if strict and not users_inside:
                    continue
                unit.add(p)
                nxt = "pre" if p.op_name in SYNAPSES else "post"
            else:
                if p.op_name in SYNAPSES or not users_inside:
                    continue
                unit.add(p)
                nxt = "pre"
            work.extend((o, nxt) for o in p.operands)
        # a constant taken early may have lost its claim if a user stayed outside
        changed = True
        while changed:
            changed = False
            for p in list(unit):
                if has_trait(p, Trait.CONSTANT) and not all(u.operation in unit for u in p.results[0].uses):
                    unit.discard(p)
                    changed = True
        return unit

    def closes_cycle(self, unit: set[Operation]) -> bool:
        """Would contracting ``unit`` into one op create a delay-free cycle?

        True iff some value leaving the unit reaches, through ops outside the unit and
        without passing a delay, an op outside the unit that produces one of its inputs.
        """
        sources = {v.defining_op() for op in unit for v in op.operands}
        sources = {s for s in sources if s is not None and s not in unit}
        if not sources:
            return False
        stack = [u.operation for op in unit for r in op.results for u in r.uses if u.operation not in unit]
        seen: set[int] = set()
        while stack:
            op = stack.pop()
            if id(op) in seen:
                continue
            seen.add(id(op))
            if op in sources:
                return True
            if has_trait(op, Trait.DELAYED):
                continue
            stack.extend(u.operation for r in op.results for u in r.uses)
        return False

    # ------------------------------------------------------------------ building the op

    def _name(self, kind: str) -> str:
        while True:
            n = f"{kind}_{self.counter}"
            self.counter += 1
            if n not in self.names:
                self.names.add(n)
                return n

    def build(self, kind: str, root: Operation, unit: set[Operation]) -> Operation:
        from ..dialects.snn import Fused, Yield

        members = sorted(unit, key=lambda op: self.pos[op])
        inputs: list[Value] = []
        seen_in: set[int] = set()
        for op in members:
            for v in op.operands:
                d = v.defining_op()
                if (d is None or d not in unit) and id(v) not in seen_in:
                    seen_in.add(id(v))
                    inputs.append(v)
        outs: list[Value] = []
        if kind != "stateless":
            outs.append(root.results[0])
        for op in members:
            for r in op.results:
                if r in outs:
                    continue
                if any(u.operation not in unit for u in r.uses):
                    outs.append(r)
        body = Block([v.type for v in inputs])
        anchor = members[-1]
        fused = Fused.create(inputs, [r.type for r in outs], {"kind": kind, "name": self._name(kind)},
                             [Region([body])], location=root.location)
        self.block.insert_before(anchor, fused)
        arg_of = {id(v): a for v, a in zip(inputs, body.args, strict=True)}
        # outside users switch to the unit's results
        for r, new in zip(outs, fused.results, strict=True):
            new.name_hint = r.name_hint
            for u in list(r.uses):
                if u.operation not in unit:
                    u.operation.set_operand(u.index, new)
        for op in members:
            op.detach()
            for i, v in enumerate(op.operands):
                a = arg_of.get(id(v))
                if a is not None and (v.defining_op() is None or v.defining_op() not in unit):
                    op.set_operand(i, a)
            body.append(op)
        body.append(Yield.create(outs, [], location=root.location))
        self.taken.update(unit)
        self.units.append(fused)
        return fused

    # ------------------------------------------------------------------ driver

    def run(self) -> None:
        for op in self.order:
            kind = _neuron_kind(op)
            if kind is None or op.parent is not self.block:
                continue
            unit = self.neuron_unit(op, strict=False)
            if self.closes_cycle(unit):
                unit = self.neuron_unit(op, strict=True)
            self.build(kind, op, unit)
        self.stateless_units()

    def stateless_units(self) -> None:
        rest = [op for op in self.order if op.parent is self.block and _free_stateless(op, self.taken)]
        parent: dict[Operation, Operation] = {op: op for op in rest}

        def find(x: Operation) -> Operation:
            while parent[x] is not x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for op in rest:
            users = {id(u.operation): u.operation for r in op.results for u in r.uses}
            if len(users) == 1:
                (user,) = users.values()
                if user in parent:
                    parent[find(op)] = find(user)
        groups: dict[Operation, list[Operation]] = {}
        for op in rest:
            groups.setdefault(find(op), []).append(op)
        for root, members in sorted(groups.items(), key=lambda kv: self.pos[kv[0]]):
            if len(members) < 2:
                continue
            unit = set(members)
            for op in members:  # constants used only inside the group
                for v in op.operands:
                    d = v.defining_op()
                    if d is not None and d.parent is self.block and has_trait(d, Trait.CONSTANT) and d not in self.taken \
                            and all(u.operation in unit for u in v.uses):
                        unit.add(d)
            self.build("stateless", root, unit)


@dataclass
class FuseLif(Pass):
    """Group synapse -> (BN) -> (shortcut add) -> neuron chains (and stateless chains) into snn.fused units."""

    name: ClassVar[str] = "fuse-lif"

    def run(self, module: ModuleOp) -> None:
        from ..dialects.snn import Graph

        for g in [op for op in module.body.ops if isinstance(op, Graph)]:
            _Fuser(g).run()


def fused_ops(module: Operation) -> list[Operation]:
    """Every ``snn.fused`` op in ``module``."""
    return [op for op in module.walk() if op.op_name == "snn.fused"]


def unfuse(module: Operation) -> dict[Operation, str]:
    """Inline every ``snn.fused`` op: its region's ops replace it, in order, at its place.

    Returns ``{inlined op: unit name}`` (what :mod:`snnc.analysis.report` groups rows by).
    The network is unchanged (``snn.fused`` is defined as its region's ops in order).
    """
    unit_of: dict[Operation, str] = {}
    for f in fused_ops(module):
        block = f.parent
        assert block is not None
        body = f.body
        name = str(f.attr("name"))  # type: ignore[attr-defined]
        for a, v in zip(body.args, f.operands, strict=True):
            a.replace_all_uses_with(v)
        y = body.ops[-1]
        for op in list(body.ops[:-1]):
            op.detach()
            block.insert_before(f, op)
            unit_of[op] = name
        for r, v in zip(f.results, y.operands, strict=True):
            r.replace_all_uses_with(v)
        f.erase()
    return unit_of


__all__ = ["FuseLif", "SYNAPSES", "fused_ops", "unfuse"]
