"""IRDL definitions generated from the OpDef classes (``snnc irdl``).

For every registered dialect (ops grouped by the prefix of their name, ``builtin``
excluded) this prints an ``irdl.dialect`` with one ``irdl.operation`` per op:

* operands and results with their names; a variadic group is ``variadic``, an optional
  operand ``optional``;
* type constraints: ``irdl.any`` for the "any type" constraint, otherwise
  ``irdl.base "!builtin.tensor"`` (every tensor constraint snnc declares: float, spike,
  integer... are predicates on the element type that IRDL's base constraint cannot say;
  the comment after the operand names the exact snnc constraint);
* the **required** attributes (those without a default) under ``irdl.attributes`` with the
  base of the attribute kind (``#builtin.float``, ``#builtin.integer``,
  ``#builtin.string``, ``#builtin.dense_array``, ``#builtin.dense_typed_elements`` for
  ``dense<...>``, ``#builtin.dense_resource_elements``...; several allowed kinds become
  ``irdl.any_of``).  Optional attributes are listed in a comment: the IRDL of the MLIR
  that torch-mlir ships has no optional attributes, and extra (discardable) attributes
  are accepted anyway;
* ops with regions (``snn.graph``): an ``irdl.region`` each.

Limits found by running ``torch-mlir-opt --irdl-file`` (tests/cli/test_irdl.py):

1. An IRDL-defined op's regions are SSACFG regions with a required terminator: IRDL can
   declare neither ``NoTerminator`` nor a graph region kind.  So an IRDL-registered
   ``snn.graph`` rejects every real module ("block with no terminator"), and forward
   references inside it fail dominance ("operand #0 does not dominate this use").
2. A dialect registered through IRDL rejects unknown ops of its own namespace, even with
   ``--allow-unregistered-dialect``, so ``snn.graph`` cannot simply be left out either.

Hence :func:`generate_irdl` takes ``include_region_ops``: the full output (default) is
the faithful description; with ``include_region_ops=False`` region ops are left out, and
checking a module with real MLIR then needs its ``snn.graph`` ops renamed into a dialect
IRDL does not define (the test does this), whose region MLIR treats as opaque, so the
forward references of graph regions parse and every inner op is checked against IRDL.
"""

from __future__ import annotations

from collections import defaultdict

from .attributes import (
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseArrayAttr,
    DenseElementsAttr,
    DenseResourceAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    SymbolRefAttr,
    TypeAttr,
    UnitAttr,
)
from .opdef import AnyType, Attr, OpDef, Operand, Result

#: IRDL base name of each attribute class (as the MLIR in torch-mlir names them).
ATTR_BASES: dict[type[Attribute], str] = {
    IntegerAttr: "#builtin.integer",
    BoolAttr: "#builtin.integer",  # MLIR's BoolAttr is an i1 IntegerAttr
    FloatAttr: "#builtin.float",
    StringAttr: "#builtin.string",
    ArrayAttr: "#builtin.array",
    DenseArrayAttr: "#builtin.dense_array",
    DictionaryAttr: "#builtin.dictionary",
    TypeAttr: "#builtin.type",
    UnitAttr: "#builtin.unit",
    SymbolRefAttr: "#builtin.symbol_ref",
    DenseElementsAttr: "#builtin.dense_typed_elements",
    DenseResourceAttr: "#builtin.dense_resource_elements",
}


class _Body:
    """The constraint values of one ``irdl.operation``.

    Every operand, result and attribute gets its OWN constraint value: in IRDL, two uses
    of one constraint value must be satisfied by the same type (or attribute), so sharing
    ``%0`` between an operand and a result would demand equal types.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.n = 0

    def constraint(self, text: str) -> str:
        name = f"%{self.n}"
        self.lines.append(f"{name} = {text}")
        self.n += 1
        return name


def _type_constraint(b: _Body, d: Operand | Result) -> str:
    if d.constraint is AnyType:
        return b.constraint("irdl.any")
    return b.constraint('irdl.base "!builtin.tensor"')


def _attr_constraint(b: _Body, d: Attr) -> str:
    kinds = d.kind if isinstance(d.kind, tuple) else (d.kind,)
    bases: list[str] = []
    for k in kinds:
        base = next((v for c, v in ATTR_BASES.items() if issubclass(k, c)), None)
        if base is None:
            return b.constraint("irdl.any")
        if base not in bases:
            bases.append(base)
    vals = [b.constraint(f'irdl.base "{base}"') for base in bases]
    if len(vals) == 1:
        return vals[0]
    return b.constraint(f"irdl.any_of({', '.join(vals)})")


def _values(b: _Body, defs: tuple[Operand, ...] | tuple[Result, ...]) -> tuple[str, list[str]]:
    items, notes = [], []
    for d in defs:
        c = _type_constraint(b, d)
        mod = "variadic " if d.variadic else ("optional " if getattr(d, "optional", False) else "")
        items.append(f"{d.name}: {mod}{c}")
        notes.append(f"{d.name}: {d.constraint.description}")
    return ", ".join(items), notes


def _summary(cls: type[OpDef]) -> str:
    """The first sentence of the op's docstring, on one line."""
    para = (cls.__doc__ or "").strip().split("\n\n")[0]
    text = " ".join(ln.strip() for ln in para.splitlines()).rstrip(":")
    cut = text.find(". ")
    return text[: cut + 1] if cut >= 0 else text


def _operation(cls: type[OpDef], include_regions: bool) -> list[str]:
    short = cls.name.split(".", 1)[1]
    b = _Body()
    body: list[str] = []
    summary = _summary(cls)
    head = [f"// {summary}"] if summary else []
    odefs, rdefs = cls.operand_defs(), cls.result_defs()
    if odefs:
        text, notes = _values(b, odefs)
        body.append(f"irdl.operands({text})")
        head.append("// operands: " + "; ".join(notes))
    if rdefs:
        text, notes = _values(b, rdefs)
        body.append(f"irdl.results({text})")
        head.append("// results: " + "; ".join(notes))
    required = [d for d in cls.attr_defs() if d.required]
    optional = [d for d in cls.attr_defs() if not d.required]
    if required:
        entries = ", ".join(f'"{d.name}" = {_attr_constraint(b, d)}' for d in required)
        body.insert(0, f"irdl.attributes {{{entries}}}")
    if optional:
        head.append("// optional attributes: " + ", ".join(d.name for d in optional))
    if cls.num_regions and include_regions:
        regs = [b.constraint("irdl.region") for _ in range(cls.num_regions)]
        body.append(f"irdl.regions({', '.join(f'r{i}: {r}' for i, r in enumerate(regs))})")
    lines = [*head, f"irdl.operation @{short} {{"]
    lines += ["  " + ln for ln in b.lines + body]
    lines.append("}")
    return lines


def generate_irdl(*, include_region_ops: bool = True, dialects: tuple[str, ...] | None = None) -> str:
    """IRDL text for the registered dialects (all but ``builtin``), deterministic order."""
    from .. import dialects as _register  # noqa: F401  (registers the ops)

    by_dialect: dict[str, list[type[OpDef]]] = defaultdict(list)
    for name, cls in OpDef.registry.items():
        d = name.split(".", 1)[0]
        if d == "builtin" or (dialects is not None and d not in dialects):
            continue
        if cls.num_regions and not include_region_ops:
            continue
        by_dialect[d].append(cls)
    out = [
        "// IRDL definitions of the snnc dialects, generated from the op classes (snnc irdl).",
        "// Element types, shapes and attribute values are checked by snnc's verifier only.",
    ]
    for d in sorted(by_dialect):
        out.append(f"irdl.dialect @{d} {{")
        for cls in sorted(by_dialect[d], key=lambda c: c.name):
            out += ["  " + ln for ln in _operation(cls, include_region_ops)]
        out.append("}")
    return "\n".join(out) + "\n"


__all__ = ["ATTR_BASES", "generate_irdl"]
