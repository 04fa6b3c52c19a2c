"""The verifier: structural checks of every op, then each op's own ``verify_``.

Checks, in order, for every op in a module (pre-order):

1. operand and result counts and type constraints of registered ops;
2. required attributes present, attribute kinds, ``choices`` and ``check`` predicates;
3. region count;
4. the op's own ``verify_`` (shape rules, parameter ranges);
5. for ops with the ``GRAPH_REGION`` trait: every operand is defined in the same
   graph (or above it) and every cycle passes through an op with the ``DELAYED`` trait
   (see :func:`snnc.ir.graph.step_order`).

The first failure raises a :class:`DiagnosticError` located at the op.
"""

from __future__ import annotations

from .attributes import Attribute
from .core import BlockArgument, Operation
from .diagnostics import DiagnosticError
from .graph import step_order
from .opdef import Attr, OpDef, Trait


def verify(root: Operation) -> None:
    """Verify ``root`` and everything nested in it; raise on the first error."""
    for op in root.walk():
        verify_op(op)


def verify_op(op: Operation) -> None:
    if isinstance(op, OpDef):
        _verify_signature(op)
        _verify_attributes(op)
        cls = type(op)
        if cls.num_regions != len(op.regions):
            raise op.emit_error(f"expects {cls.num_regions} region(s), has {len(op.regions)}")
        op.verify_()
        if cls.has_trait(Trait.GRAPH_REGION):
            _verify_graph_scope(op)
            step_order(op.body)  # raises on a cycle without a delay


def _count_rule(defs, count: int, what: str, op: Operation) -> None:
    fixed = sum(1 for d in defs if not (d.variadic or getattr(d, "optional", False)))
    optional = [d for d in defs if getattr(d, "optional", False)]
    variadic = [d for d in defs if d.variadic]
    if variadic:
        ok = count >= fixed
        expect = f"at least {fixed}"
    elif optional:
        ok = fixed <= count <= fixed + len(optional)
        expect = f"{fixed} to {fixed + len(optional)}"
    else:
        ok = count == fixed
        expect = str(fixed)
    if not ok:
        raise op.emit_error(f"expects {expect} {what}(s), has {count}")


def _verify_signature(op: OpDef) -> None:
    cls = type(op)
    odefs = cls.operand_defs()
    rdefs = cls.result_defs()
    _count_rule(odefs, len(op.operands), "operand", op)
    _count_rule(rdefs, len(op.results), "result", op)
    segs = op._segments(odefs, len(op.operands))
    for d in odefs:
        for i, v in enumerate(op.operands[segs[d.name]]):
            if not d.constraint(v.type):
                idx = segs[d.name].start + i
                raise op.emit_error(f"operand #{idx} ('{d.name}') must be {d.constraint.description}, got {v.type}")
    rsegs = op._segments(rdefs, len(op.results))
    for d in rdefs:
        for i, r in enumerate(op.results[rsegs[d.name]]):
            if not d.constraint(r.type):
                idx = rsegs[d.name].start + i
                raise op.emit_error(f"result #{idx} ('{d.name}') must be {d.constraint.description}, got {r.type}")


def _kind_names(d: Attr) -> str:
    kinds = d.kind if isinstance(d.kind, tuple) else (d.kind,)
    return " or ".join(k.__name__ for k in kinds)


def _verify_attributes(op: OpDef) -> None:
    declared = {d.name: d for d in type(op).attr_defs()}
    for d in declared.values():
        a: Attribute | None = op.get_attr(d.name)
        if a is None:
            if d.required:
                raise op.emit_error(f"requires attribute '{d.name}'")
            continue
        if not isinstance(a, d.kind):
            raise op.emit_error(f"attribute '{d.name}' must be {_kind_names(d)}, got {a}")
        if d.choices is not None and a.value not in d.choices:
            opts = ", ".join(repr(c) for c in d.choices)
            raise op.emit_error(f"attribute '{d.name}' must be one of {opts}, got {a}")
        if d.check is not None and not d.check(a):
            raise op.emit_error(f"attribute '{d.name}' {d.check_doc or 'is invalid'}, got {a}")


def _verify_graph_scope(graph: OpDef) -> None:
    """Every operand used inside the graph is defined inside it (graphs are isolated)."""
    for op in graph.walk():
        if op is graph:
            continue
        for i, v in enumerate(op.operands):
            owner = v.block.parent_op if isinstance(v, BlockArgument) else v.op.parent_op  # type: ignore[attr-defined]
            inside = False
            cur = owner
            while cur is not None:
                if cur is graph:
                    inside = True
                    break
                cur = cur.parent_op
            if not inside:
                raise op.emit_error(f"operand #{i} is defined outside the enclosing '{graph.op_name}'")


__all__ = ["verify", "verify_op", "DiagnosticError"]
