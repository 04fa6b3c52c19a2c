"""Print snnc IR as MLIR generic-form text, byte for byte as MLIR prints it.

The output is what ``torch-mlir-opt --allow-unregistered-dialect --mlir-print-op-generic``
prints for the same module:

* ``%0 = "dialect.op"(%a, %b) <{props}> ({ regions }) {attrs} : (types) -> type``, two
  spaces of indentation per nesting level, attributes sorted by name;
* values numbered as MLIR's ``SSANameState`` numbers them: the values defined directly in a
  region first, then nested regions taken from a stack (last pushed first) with the counters
  running on (``%argN`` for entry-block arguments, ``%N`` for results and for arguments of
  other blocks; a multi-result op is ``%N:k``, its results ``%N#i``);
* block labels ``^bbN(%arg0: type):`` when a block has arguments or is not the first one
  (MLIR adds ``  // no predecessors`` to a non-entry block that nothing branches to);
* floats through :func:`snnc.ir.attributes.format_float` (a port of MLIR's
  ``printFloatValue``); ``dense<...>`` as a splat when all elements have the same bits,
  ``dense<>`` when empty, and as a hex string when it has more than 100 elements;
* ``{-# dialect_resources: { builtin: { handle: "0x..." } } #-}`` after the module for the
  ``dense_resource`` blobs, in order of first use.  Two different blobs under one handle get
  ``handle_1``, ``handle_2``... (printing never changes the IR).

``locations=True`` appends ``loc(...)`` to every op and block argument (``loc(unknown)``
where nothing is known), so the text reads back with the same locations.
"""

from __future__ import annotations

from .attributes import (
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseElementsAttr,
    DenseResourceAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    UnitAttr,
    encode_blob,
    format_float,
)
from .core import Block, Operation, Region, Value
from .diagnostics import Location, UnknownLoc, quote_string
from .types import FloatType, IndexType, IntegerType, Type, f64, i1, i64

__all__ = ["print_module", "print_op", "value_names", "print_attribute", "print_type"]

#: MLIR prints a non-splat dense attribute with more elements than this as a hex string.
HEX_THRESHOLD = 100


# --------------------------------------------------------------------------- names


def _is_bare_identifier(s: str) -> bool:
    if not s or not s.isascii() or not (s[0].isalpha() or s[0] == "_"):
        return False
    return all(c.isalnum() or c in "_$." for c in s)


def keyword_or_string(s: str) -> str:
    """MLIR's ``printKeywordOrString``: bare when ``s`` is an identifier, else quoted."""
    return s if _is_bare_identifier(s) else quote_string(s)


def _number_values(top: Operation) -> tuple[dict[Value, str], dict[Block, str]]:
    """Value and block names as MLIR's SSANameState assigns them (see the module docstring)."""
    names: dict[Value, str] = {}
    blocks: dict[Block, str] = {}
    next_value = 0
    next_arg = 0

    def number_op(op: Operation) -> None:
        nonlocal next_value
        if not op.results:
            return
        base = f"%{next_value}"
        next_value += 1
        if len(op.results) == 1:
            names[op.results[0]] = base
        else:
            for r in op.results:
                names[r] = f"{base}#{r.index}"

    stack: list[Region] = list(top.regions)
    number_op(top)
    while stack:
        region = stack.pop()
        for bi, block in enumerate(region.blocks):
            blocks[block] = f"^bb{bi}"
            for a in block.args:
                if bi == 0:
                    names[a] = f"%arg{next_arg}"
                    next_arg += 1
                else:
                    names[a] = f"%{next_value}"
                    next_value += 1
            for op in block.ops:
                number_op(op)
        for block in region.blocks:
            for op in block.ops:
                stack.extend(op.regions)
    return names, blocks


def value_names(op: Operation) -> dict[Value, str]:
    """The ``%N`` / ``%N#i`` / ``%argN`` name of every value in ``op``, as :func:`print_module` prints it."""
    return _number_values(op)[0]


# --------------------------------------------------------------------------- attributes


class _Resources:
    """Assigns printed names to ``dense_resource`` blobs (deduplicating handles)."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, Type, bytes], str] = {}
        self.used: set[str] = set()
        self.claimed: set[str] = set()
        self.entries: list[tuple[str, str]] = []  # (printed name, blob hex)
        self.originals: set[str] = set()
        self.hex_cache: dict[int, tuple[DenseResourceAttr, str]] = {}

    def collect(self, attr: Attribute) -> None:
        if isinstance(attr, DenseResourceAttr):
            self.originals.add(attr.handle)
        elif isinstance(attr, ArrayAttr):
            for e in attr.elements:
                self.collect(e)
        elif isinstance(attr, DictionaryAttr):
            for _, v in attr.entries:
                self.collect(v)

    def name(self, attr: DenseResourceAttr) -> str:
        cached = self.hex_cache.get(id(attr))
        if cached is None:
            cached = (attr, encode_blob(attr.data, attr.type))
            self.hex_cache[id(attr)] = cached
        blob = cached[1]
        key = (attr.handle, attr.type, blob.encode())
        found = self.by_key.get(key)
        if found is not None:
            return found
        # The same blob bytes under the same handle (another type view) share nothing; a
        # handle is claimed by its first blob, later different blobs get a suffix.
        name = attr.handle
        if name in self.claimed:
            k = 1
            while f"{attr.handle}_{k}" in self.claimed or f"{attr.handle}_{k}" in self.originals:
                k += 1
            name = f"{attr.handle}_{k}"
        self.claimed.add(name)
        self.by_key[key] = name
        self.entries.append((name, blob))
        return name


def _element_text(x: object, elt: Type) -> str:
    if isinstance(elt, FloatType):
        return format_float(float(x), elt)  # type: ignore[arg-type]
    if elt == i1:
        return "true" if bool(x) else "false"
    return str(int(x))  # type: ignore[call-overload]


def _dense_hex(attr: DenseElementsAttr) -> str:
    data = attr.data
    elt = attr.type.element
    if isinstance(elt, IntegerType) and 1 < elt.width < 8:
        raw = (data.astype("u1") & ((1 << elt.width) - 1)).astype("u1").tobytes()
    else:
        raw = data.astype(data.dtype.newbyteorder("<"), copy=False).tobytes()
    return '"0x' + raw.hex().upper() + '"'


def _is_bitwise_splat(attr: DenseElementsAttr) -> bool:
    data = attr.data
    if data.size == 0:
        return False
    raw = data.tobytes()
    size = data.dtype.itemsize
    return raw == raw[:size] * data.size


def _print_dense(attr: DenseElementsAttr) -> str:
    t = attr.type
    elt = t.element
    if t.num_elements == 0:
        body = ""
    elif _is_bitwise_splat(attr):
        body = _element_text(attr.data.reshape(-1)[0], elt)
    elif t.num_elements > HEX_THRESHOLD:
        body = _dense_hex(attr)
    else:
        body = _nested(attr.data, elt)
    return f"dense<{body}> : {t}"


def _nested(arr, elt: Type) -> str:  # type: ignore[no-untyped-def]
    if arr.ndim == 0:
        return _element_text(arr.item(), elt)
    if arr.ndim == 1:
        return "[" + ", ".join(_element_text(x, elt) for x in arr.tolist()) + "]"
    return "[" + ", ".join(_nested(sub, elt) for sub in arr) + "]"


def _print_int(attr: IntegerAttr) -> str:
    t = attr.type
    v = attr.int_value
    if isinstance(t, IntegerType):
        if t.width == 1 and t.signedness == "":
            return "true" if v & 1 else "false"
        if t.signedness == "":
            w = t.width
            v &= (1 << w) - 1
            if v >= 1 << (w - 1):
                v -= 1 << w
    elif not isinstance(t, IndexType):
        return str(attr)
    return f"{v} : {t}"


def print_attribute(attr: Attribute, resources: _Resources | None = None, elide: bool = False) -> str:
    """MLIR text of ``attr`` (resource handles renamed through ``resources`` when given).

    ``elide`` is MLIR's ``AttrTypeElision::May`` (elements of an array): ``i64`` integers and
    ``f64`` floats (unless printed in hex) drop their ``: type``.
    """
    if elide and isinstance(attr, IntegerAttr) and attr.type == i64:
        return _print_int(attr).rsplit(" : ", 1)[0]
    if elide and isinstance(attr, FloatAttr) and attr.type == f64:
        text = format_float(attr.float_value, f64)
        if not text.startswith("0x"):
            return text
    if isinstance(attr, DenseResourceAttr):
        name = resources.name(attr) if resources is not None else attr.handle
        return f"dense_resource<{keyword_or_string(name)}> : {attr.type}"
    if isinstance(attr, DenseElementsAttr):
        return _print_dense(attr)
    if isinstance(attr, IntegerAttr):
        return _print_int(attr)
    if isinstance(attr, ArrayAttr):
        return "[" + ", ".join(print_attribute(e, resources, elide=True) for e in attr.elements) + "]"
    if isinstance(attr, DictionaryAttr):
        return "{" + _named_attrs(attr.entries, resources) + "}"
    if isinstance(attr, BoolAttr):
        return "true" if attr.bool_value else "false"
    return str(attr)


def _named_attrs(entries, resources: _Resources | None) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for k, v in sorted(entries, key=lambda kv: kv[0]):
        key = keyword_or_string(k)
        if isinstance(v, UnitAttr):
            parts.append(key)
        else:
            parts.append(f"{key} = {print_attribute(v, resources)}")
    return ", ".join(parts)


def print_type(t: Type) -> str:
    return str(t)


def _loc_text(loc: Location | None) -> str:
    return f"loc({(loc if loc is not None else UnknownLoc()).to_mlir()})"


# --------------------------------------------------------------------------- ops


class _Printer:
    def __init__(self, top: Operation, locations: bool) -> None:
        self.names, self.block_names = _number_values(top)
        self.locations = locations
        self.resources = _Resources()
        for op in top.walk():
            for a in (op.properties or {}).values():
                self.resources.collect(a)
            for a in op.attributes.values():
                self.resources.collect(a)
        self.out: list[str] = []

    def name(self, v: Value) -> str:
        n = self.names.get(v)
        if n is None:
            # A value defined outside the printed op (printing a nested op alone).
            return "<<UNKNOWN SSA VALUE>>"
        return n

    def op(self, op: Operation, indent: int) -> None:
        w = self.out.append
        w(" " * indent)
        if op.results:
            first = self.names[op.results[0]].split("#")[0]
            w(first if len(op.results) == 1 else f"{first}:{len(op.results)}")
            w(" = ")
        w(quote_string(op.op_name))
        w("(")
        w(", ".join(self.name(v) for v in op.operands))
        w(")")
        if op.properties is not None:
            w(" <{")
            w(_named_attrs(op.properties.items(), self.resources))
            w("}>")
        if op.regions:
            w(" (")
            for i, region in enumerate(op.regions):
                if i:
                    w(", ")
                self.region(region, indent)
            w(")")
        if op.attributes:
            w(" {")
            w(_named_attrs(op.attributes.items(), self.resources))
            w("}")
        w(" : (")
        w(", ".join(str(v.type) for v in op.operands))
        w(") -> ")
        rtypes = [r.type for r in op.results]
        if len(rtypes) == 1 and not _is_function_type(rtypes[0]):
            w(str(rtypes[0]))
        else:
            w("(" + ", ".join(str(t) for t in rtypes) + ")")
        if self.locations:
            w(" " + _loc_text(op.location))

    def region(self, region: Region, indent: int) -> None:
        w = self.out.append
        w("{\n")
        for bi, block in enumerate(region.blocks):
            if bi > 0 or block.args:
                w(" " * indent)
                w(self.block_names[block])
                if block.args:
                    w("(")
                    parts = []
                    for a in block.args:
                        s = f"{self.names[a]}: {a.type}"
                        if self.locations:
                            s += " " + _loc_text(a.location)
                        parts.append(s)
                    w(", ".join(parts))
                    w(")")
                w(":")
                if bi > 0:
                    w("  // no predecessors")
                w("\n")
            for op in block.ops:
                self.op(op, indent + 2)
                w("\n")
        w(" " * indent)
        w("}")


def _is_function_type(t: Type) -> bool:
    from .types import FunctionType

    return isinstance(t, FunctionType)


def print_op(op: Operation, *, locations: bool = False) -> str:
    """The generic text of ``op`` alone (no resource section, no trailing newline)."""
    p = _Printer(op, locations)
    p.op(op, 0)
    return "".join(p.out)


def print_module(op: Operation, *, locations: bool = False) -> str:
    """MLIR generic text of ``op`` (normally a ModuleOp) and its resource section."""
    p = _Printer(op, locations)
    p.op(op, 0)
    p.out.append("\n")
    if p.resources.entries:
        p.out.append("\n{-#\n  dialect_resources: {\n    builtin: {\n")
        lines = [f'      {keyword_or_string(name)}: "{blob}"' for name, blob in p.resources.entries]
        p.out.append(",\n".join(lines))
        p.out.append("\n    }\n  }\n#-}\n")
    return "".join(p.out)
