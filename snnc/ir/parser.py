"""Parse MLIR generic-form text (snnc's and torch-mlir's) into snnc IR.

One lark grammar (``grammar.lark``, LALR(1) with a contextual lexer).  The lark pass
builds types, attributes and locations directly and a light syntax tree of operations;
a second pass walks that tree top-down, creates blocks, values and ops (registered op
classes through :func:`snnc.ir.opdef.make_op`) and resolves SSA names with MLIR's
scoping rules: a region sees the values of the regions around it, forward references are
allowed (graph regions) and resolved when the name is defined, names still undefined when
the outermost region closes are errors.

Every problem with the input is a :class:`~snnc.ir.diagnostics.DiagnosticError` located at
the offending token (``file:line:col: error: ...``); lark's own exceptions never escape.

``parse_module(text, filename)`` returns a :class:`~snnc.ir.builtin.ModuleOp`: the single
top-level ``builtin.module``, or a new module wrapping the top-level ops (MLIR's implicit
module).  Parsing does not run the verifier.
"""

from __future__ import annotations

import importlib
import math
import os
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

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
    OpaqueAttr,
    StringAttr,
    SymbolRefAttr,
    TypeAttr,
    UnitAttr,
    decode_blob,
)
from .builtin import ModuleOp
from .core import Block, Operation, Region, Value
from .diagnostics import (
    CallSiteLoc,
    Diagnostic,
    DiagnosticError,
    FileLineColLoc,
    FusedLoc,
    Location,
    NameLoc,
    UnknownLoc,
    error,
)
from .opdef import OpDef, make_op
from .types import (
    FloatType,
    FunctionType,
    IndexType,
    IntegerType,
    NoneType,
    OpaqueType,
    TensorType,
    Type,
    f64,
    i1,
    i64,
    numpy_dtype,
)

__all__ = ["parse_module", "parse_file", "parse_type", "parse_attribute"]

_GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")


# --------------------------------------------------------------------------- syntax records


@dataclass
class _OpSyntax:
    name: Token
    start: Token
    result_defs: list[Token]
    operands: list[Token]
    properties: list[tuple[str, Attribute]] | None
    regions: list[_RegionSyntax]
    attributes: list[tuple[str, Attribute]]
    fn_type: FunctionType
    fn_token: Token | None
    loc: Any  # Location or _LocAlias tree or None


@dataclass
class _BlockSyntax:
    label: Token | None
    args: list[tuple[Token, Type, Any]]
    ops: list[_OpSyntax]


@dataclass
class _RegionSyntax:
    blocks: list[_BlockSyntax]


@dataclass(frozen=True)
class _LocAlias(Location):
    """``#loc3`` before its definition is known (resolved after the whole file is read)."""

    name: str
    line: int
    col: int

    def to_mlir(self) -> str:  # pragma: no cover - never printed
        return self.name


@dataclass(frozen=True, eq=False)
class _PendingResource(Attribute):
    """``dense_resource<h>`` before the resource section (at the end of the file) is read."""

    handle: str
    type: TensorType
    line: int
    col: int

    @property
    def value(self) -> Any:  # pragma: no cover - never exposed
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - never exposed
        return f"dense_resource<{self.handle}>"


@dataclass
class _Tagged:
    tag: str
    value: Any
    token: Token | None = None


@dataclass
class _Meta:
    blobs: dict[str, tuple[str, Token]] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def unescape_string(tok: str) -> str:
    """The value of an MLIR string literal (with its quotes): ``\\n \\t \\" \\\\ \\XX``."""
    body = tok[1:-1]
    if "\\" not in body:
        return body
    out = bytearray()
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < n else ""
        if nxt in ('"', "\\"):
            out += nxt.encode()
            i += 2
        elif nxt == "n":
            out += b"\n"
            i += 2
        elif nxt == "t":
            out += b"\t"
            i += 2
        elif i + 2 < n and all(c in "0123456789abcdefABCDEF" for c in body[i + 1 : i + 3]):
            out.append(int(body[i + 1 : i + 3], 16))
            i += 3
        else:
            raise ValueError("unknown escape in string literal")
    return out.decode("utf-8", "surrogateescape")


def _float_from_bits(bits: int, t: FloatType) -> float:
    if t.brain:
        return struct.unpack("<f", struct.pack("<I", (bits & 0xFFFF) << 16))[0]
    if t.width == 64:
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    if t.width == 32:
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    return float(np.array(bits, dtype=np.uint16).view(np.float16))


def _int_in_type(value: int, t: Type) -> int | None:
    """``value`` as stored in integer type ``t`` (signless wraps to signed), or None if out of range."""
    if isinstance(t, IndexType):
        return value if -(2**63) <= value < 2**64 else None
    assert isinstance(t, IntegerType)
    w = t.width
    if t.signedness == "u":
        return value if 0 <= value < 2**w else None
    if t.signedness == "s":
        return value if -(2 ** (w - 1)) <= value < 2 ** (w - 1) else None
    if w == 1:
        if value in (0, 1, -1):
            return value & 1
        return None
    if not (-(2 ** (w - 1)) <= value < 2**w):
        return None
    value &= (1 << w) - 1
    return value - (1 << w) if value >= 2 ** (w - 1) else value


def _tok_loc(filename: str, tok: Token | Any) -> FileLineColLoc:
    return FileLineColLoc(filename, getattr(tok, "line", 0) or 0, getattr(tok, "column", 0) or 0)


# --------------------------------------------------------------------------- lark pass


class _Fail(Exception):
    """A located problem found inside a lark callback (turned into a DiagnosticError)."""

    def __init__(self, message: str, tok: Any, notes: list[tuple[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tok = tok
        self.notes = notes or []


@v_args(inline=True)
class _Builder(Transformer):
    """Builds types/attributes/locations and op syntax records during the LALR parse."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.attr_aliases: dict[str, Attribute] = {}
        self.loc_aliases: dict[str, Any] = {}
        self.alias_tokens: dict[str, Token] = {}
        self.meta = _Meta()

    # ------------------------------------------------------------------ top level

    def start(self, *items: Any) -> list[_OpSyntax]:
        return [x for x in items if isinstance(x, _OpSyntax)]

    def alias_def(self, name: Token, value: Any) -> None:
        key = str(name)
        if "<" in key:
            raise _Fail("expected an alias name", name)
        if key in self.alias_tokens:
            raise _Fail(f"redefinition of alias '{key}'", name)
        self.alias_tokens[key] = name
        if isinstance(value, _Tagged) and value.tag == "loc":
            self.loc_aliases[key] = value.value
        else:
            self.attr_aliases[key] = value
        return None

    # ------------------------------------------------------------------ operations

    def operation(self, *children: Any) -> _OpSyntax:
        result_defs: list[Token] = []
        operands: list[Token] = []
        props = None
        regions: list[_RegionSyntax] = []
        attrs: list[tuple[str, Attribute]] = []
        fn = None
        fn_tok = None
        loc = None
        name = None
        for c in children:
            if isinstance(c, Token) and c.type == "STRING":
                name = c
            elif isinstance(c, FunctionType):
                fn = c
            elif isinstance(c, _Tagged):
                if c.tag == "results":
                    result_defs = c.value
                elif c.tag == "operands":
                    operands = c.value
                elif c.tag == "props":
                    props = c.value
                elif c.tag == "regions":
                    regions = c.value
                elif c.tag == "attrs":
                    attrs = c.value
                elif c.tag == "loc":
                    loc = c.value
                elif c.tag == "successors":
                    raise _Fail("block successors are not supported by snnc", c.token)
        assert name is not None and isinstance(fn, FunctionType)
        start = result_defs[0] if result_defs else name
        return _OpSyntax(name, start, result_defs, operands, props, regions, attrs, fn, fn_tok, loc)

    def result_defs(self, *toks: Token) -> _Tagged:
        return _Tagged("results", list(toks))

    def value_uses(self, *toks: Token) -> _Tagged:
        return _Tagged("operands", list(toks))

    def successors(self, *toks: Token) -> _Tagged:
        return _Tagged("successors", list(toks), toks[0])

    def properties(self, *entries: Any) -> _Tagged:
        return _Tagged("props", self._entries(entries))

    def attr_dict(self, *entries: Any) -> _Tagged:
        return _Tagged("attrs", self._entries(entries))

    def _entries(self, entries: tuple[Any, ...]) -> list[tuple[str, Attribute]]:
        out: list[tuple[str, Attribute]] = []
        seen: set[str] = set()
        for e in entries:
            if e is None:
                continue
            key, value, tok = e
            if key in seen:
                raise _Fail(f"duplicate key '{key}' in dictionary attribute", tok)
            seen.add(key)
            out.append((key, value))
        return out

    def named_attr(self, key: Token, value: Any = None) -> tuple[str, Attribute, Token]:
        name = self._string(key) if key.type == "STRING" else str(key)
        if not name:
            raise _Fail("expected valid attribute name", key)
        return (name, UnitAttr() if value is None else value, key)

    def regions(self, *regions: _RegionSyntax) -> _Tagged:
        return _Tagged("regions", list(regions))

    def region(self, *children: Any) -> _RegionSyntax:
        entry_ops = [c for c in children if isinstance(c, _OpSyntax)]
        blocks = [c for c in children if isinstance(c, _BlockSyntax)]
        if entry_ops or not blocks:
            if entry_ops or blocks:
                blocks.insert(0, _BlockSyntax(None, [], entry_ops))
        return _RegionSyntax(blocks)

    def block(self, label: Token, *rest: Any) -> _BlockSyntax:
        args: list[tuple[Token, Type, Any]] = []
        ops: list[_OpSyntax] = []
        for r in rest:
            if isinstance(r, _Tagged) and r.tag == "args":
                args = r.value
            elif isinstance(r, _OpSyntax):
                ops.append(r)
        return _BlockSyntax(label, args, ops)

    def block_args(self, *args: Any) -> _Tagged:
        return _Tagged("args", [a for a in args if a is not None])

    def block_arg(self, tok: Token, type_: Type, loc: Any = None) -> tuple[Token, Type, Any]:
        if "#" in tok:
            raise _Fail("expected SSA value name without a result number", tok)
        return (tok, type_, loc.value if isinstance(loc, _Tagged) else None)

    # ------------------------------------------------------------------ types

    def tensor_type(self, start: Token, element: Type) -> TensorType:
        dims = start[len("tensor<") :].split("x")[:-1]
        shape = tuple(-1 if d == "?" else int(d) for d in dims)
        return TensorType(shape, element)

    def float_type(self, tok: Token) -> FloatType:
        return FloatType(16, brain=True) if tok == "bf16" else FloatType(int(tok[1:]))

    def int_type(self, tok: Token) -> IntegerType:
        s = str(tok)
        sign = s[0] if s[0] in "su" else ""
        width = int(s[len(sign) + 1 :])
        if width > 65536:
            raise _Fail("integer bitwidth is limited to 65536 bits", tok)
        return IntegerType(width, sign)

    def index_type(self) -> IndexType:
        return IndexType()

    def none_type(self) -> NoneType:
        return NoneType()

    def opaque_type(self, tok: Token) -> OpaqueType:
        dialect, body = str(tok)[1:].split(".", 1)
        return OpaqueType(dialect, body)

    def function_type(self, *children: Any) -> _Tagged:
        *ins, results = children
        return FunctionType(tuple(t for t in ins if t is not None), tuple(results))

    def fn_results(self, *types: Any) -> list[Type]:
        return [t for t in types if t is not None]

    # ------------------------------------------------------------------ attributes

    def _type_of(self, t: Any) -> Type:
        return t

    def int_attr(self, tok: Token, type_: Any = None) -> Attribute:
        t = i64 if type_ is None else self._type_of(type_)
        value = int(tok)
        if isinstance(t, FloatType):
            raise _Fail(
                "unexpected decimal integer literal for a floating point value",
                tok,
                [("add a trailing dot to make the literal a float", tok)],
            )
        if not isinstance(t, (IntegerType, IndexType)):
            raise _Fail(f"integer literal not valid for specified type '{t}'", tok)
        v = _int_in_type(value, t)
        if v is None:
            raise _Fail(f"integer constant out of range for attribute of type '{t}'", tok)
        if t == i1:
            return BoolAttr(bool(v))
        return IntegerAttr(v, t)

    def float_attr(self, tok: Token, type_: Any = None) -> Attribute:
        t = f64 if type_ is None else self._type_of(type_)
        if not isinstance(t, FloatType):
            raise _Fail(f"floating point value not valid for specified type '{t}'", tok)
        if t.brain:
            raise _Fail("bf16 attributes are not supported by snnc", tok)
        return FloatAttr(self._float_literal(tok, t), t)

    def _float_literal(self, tok: Token, t: FloatType) -> float:
        value = float(tok)
        with np.errstate(all="ignore"):
            rounded = float(np.array(value, dtype=numpy_dtype(t)))
        if math.isfinite(value) and not math.isfinite(rounded):
            raise _Fail(f"floating point value too large for attribute of type '{t}'", tok)
        return value

    def hex_attr(self, tok: Token, type_: Any = None) -> Attribute:
        t = i64 if type_ is None else self._type_of(type_)
        bits = int(str(tok), 16)
        if isinstance(t, FloatType):
            if bits.bit_length() > t.width or t.brain:
                raise _Fail(f"hexadecimal float constant out of range for type '{t}'", tok)
            return FloatAttr(_float_from_bits(bits, t), t)
        return self.int_attr(Token("INT_LIT", str(bits), line=tok.line, column=tok.column), t)

    def true_attr(self) -> BoolAttr:
        return BoolAttr(True)

    def false_attr(self) -> BoolAttr:
        return BoolAttr(False)

    def string_attr(self, tok: Token) -> StringAttr:
        return StringAttr(self._string(tok))

    def _string(self, tok: Token) -> str:
        try:
            return unescape_string(str(tok))
        except ValueError as exc:
            raise _Fail(str(exc), tok) from None

    def unit_attr(self) -> UnitAttr:
        return UnitAttr()

    def array_attr(self, *elems: Any) -> ArrayAttr:
        return ArrayAttr(tuple(e for e in elems if e is not None))

    def dict_attr(self, *entries: Any) -> DictionaryAttr:
        return DictionaryAttr(tuple(self._entries(entries)))

    def dense_array_attr(self, start: Token, elt: Type, *elems: Any) -> DenseArrayAttr:
        vals: list[int | float] = []
        toks = [e for e in elems if e is not None]
        for e in toks:
            vals.append(self._scalar_value(e, elt, "array"))
        if not isinstance(elt, (IntegerType, FloatType)) or (isinstance(elt, FloatType) and elt.brain):
            raise _Fail(f"unsupported element type '{elt}' in dense array", start)
        return DenseArrayAttr(elt, tuple(vals))

    def _scalar_value(self, tok: Token, elt: Type, what: str) -> int | float:
        kind = tok.type
        if isinstance(elt, FloatType):
            if kind == "FLOAT_LIT":
                if elt.brain:
                    raise _Fail("bf16 elements are not supported by snnc", tok)
                return self._float_literal(tok, elt)
            if kind == "HEX_LIT":
                return _float_from_bits(int(str(tok), 16), elt)
            if kind == "INT_LIT":
                raise _Fail(
                    "unexpected decimal integer literal for a floating point value",
                    tok,
                    [("add a trailing dot to make the literal a float", tok)],
                )
            raise _Fail(f"expected a floating point value in {what} of '{elt}'", tok)
        if isinstance(elt, IntegerType):
            if kind in ("TRUE", "FALSE"):
                if elt.width != 1:
                    raise _Fail(f"expected integer elements in {what} of '{elt}'", tok)
                return 1 if kind == "TRUE" else 0
            if kind in ("INT_LIT", "HEX_LIT"):
                raw = int(str(tok), 16) if kind == "HEX_LIT" else int(tok)
                v = _int_in_type(raw, elt)
                if v is None:
                    raise _Fail("integer constant out of range for type", tok)
                return v
            raise _Fail(f"expected an integer value in {what} of '{elt}'", tok)
        raise _Fail(f"unsupported element type '{elt}'", tok)

    def dense_hex(self, tok: Token) -> _Tagged:
        return _Tagged("hex", tok)

    def dense_body(self, elem: Any) -> Any:
        return elem

    def dense_list(self, *elems: Any) -> list[Any]:
        return [e for e in elems if e is not None]

    def dense_attr(self, start: Token, body: Any, type_: Any) -> Attribute:
        t = self._type_of(type_)
        if not isinstance(t, TensorType):
            raise _Fail(f"dense elements need a tensor type, got '{t}'", start)
        if any(d < 0 for d in t.shape):
            raise _Fail(f"dense elements need a static shape, got '{t}'", start)
        try:
            dtype = numpy_dtype(t.element)
        except TypeError:
            raise _Fail(f"unsupported element type '{t.element}' in dense elements", start) from None
        n = t.num_elements
        if body is None:
            if n != 0:
                raise _Fail(f"parsed zero elements, but type ({t}) expected at least 1", start)
            return DenseElementsAttr(t, np.zeros(t.shape, dtype=dtype))
        if isinstance(body, _Tagged):
            return DenseElementsAttr(t, self._dense_from_hex(body.value, t, dtype))
        if isinstance(body, Token):
            v = self._scalar_value(body, t.element, "dense elements")
            return DenseElementsAttr(t, np.full(t.shape, v, dtype=dtype))
        # nested lists: check the shape, then convert the leaves
        shape: list[int] = []
        level: Any = body
        while isinstance(level, list):
            shape.append(len(level))
            if not level:
                break
            level = level[0]
        leaves: list[Token] = []
        self._flatten(body, tuple(shape), 0, leaves, start)
        if tuple(shape) != t.shape:
            raise _Fail(
                f"inferred shape of elements literal ([{', '.join(map(str, shape))}]) does not match type ([{', '.join(map(str, t.shape))}])",
                start,
            )
        vals = [self._scalar_value(x, t.element, "dense elements") for x in leaves]
        return DenseElementsAttr(t, np.array(vals, dtype=dtype).reshape(t.shape))

    def _flatten(self, node: Any, shape: tuple[int, ...], depth: int, out: list[Token], start: Token) -> None:
        if isinstance(node, list):
            if depth >= len(shape) or len(node) != shape[depth]:
                raise _Fail("tensor literal is invalid; ranks are not consistent between elements", start)
            for x in node:
                self._flatten(x, shape, depth + 1, out, start)
        else:
            if depth != len(shape):
                raise _Fail("tensor literal is invalid; ranks are not consistent between elements", node)
            out.append(node)

    def _dense_from_hex(self, tok: Token, t: TensorType, dtype: np.dtype) -> np.ndarray:
        text = self._string(tok)
        if not text.startswith("0x"):
            raise _Fail("expected a hex string '0x...' in dense elements", tok)
        try:
            raw = bytes.fromhex(text[2:])
        except ValueError:
            raise _Fail("dense hex string is not valid hexadecimal", tok) from None
        size = dtype.itemsize
        n = t.num_elements
        if len(raw) == size * n:
            count = n
        elif len(raw) == size and n > 0:
            count = 1
        else:
            raise _Fail(f"elements hex data size is invalid for provided type: {len(raw)} bytes for '{t}'", tok)
        arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<"), count=count).astype(dtype)
        if isinstance(t.element, IntegerType) and 1 < t.element.width < 8:
            w = t.element.width
            u = arr.view(np.uint8) & ((1 << w) - 1)
            if t.element.signedness != "u":
                arr = np.where(u >= (1 << (w - 1)), u.astype(np.int16) - (1 << w), u).astype(dtype)
            else:
                arr = u.astype(dtype)
        if count == 1:
            arr = np.full(t.shape, arr[0], dtype=dtype)
        return arr.reshape(t.shape)

    def resource_attr(self, start: Token, handle: Token, type_: Any) -> Attribute:
        t = self._type_of(type_)
        if not isinstance(t, TensorType) or any(d < 0 for d in t.shape):
            raise _Fail(f"dense_resource needs a statically shaped tensor type, got '{t}'", start)
        try:
            numpy_dtype(t.element)
        except TypeError:
            raise _Fail(f"unsupported element type '{t.element}' in dense_resource", start) from None
        key = self._string(handle) if handle.type == "STRING" else str(handle)
        return _PendingResource(key, t, handle.line or 0, handle.column or 0)

    def symref_attr(self, tok: Token) -> SymbolRefAttr:
        body = str(tok)[1:]
        return SymbolRefAttr(
            self._string(Token("STRING", body, line=tok.line, column=tok.column)) if body.startswith('"') else body
        )

    def hash_attr(self, tok: Token) -> Attribute:
        key = str(tok)
        if key in self.attr_aliases:
            return self.attr_aliases[key]
        return OpaqueAttr(key)

    def type_attr(self, t: Any) -> TypeAttr:
        return TypeAttr(self._type_of(t))

    # ------------------------------------------------------------------ locations

    def location(self, loc: Any) -> _Tagged:
        return _Tagged("loc", loc)

    def loc_unknown(self) -> Location:
        return UnknownLoc()

    def loc_flc(self, file: Token, line: Token, col: Token) -> Location:
        return FileLineColLoc(self._string(file), int(line), int(col))

    def loc_name(self, name: Token, child: Any = None) -> Location:
        return NameLoc(self._string(name), child)

    def loc_callsite(self, callee: Any, caller: Any) -> Location:
        return CallSiteLoc(callee, caller)

    def loc_fused(self, metadata: Any, *locs: Any) -> Location:
        return FusedLoc(tuple(locs))

    def loc_alias(self, tok: Token) -> Location:
        return _LocAlias(str(tok), tok.line or 0, tok.column or 0)

    # ------------------------------------------------------------------ metadata

    def file_metadata(self, *groups: Any) -> None:
        return None

    def meta_group(self, name: Token, *dialects: Any) -> None:
        if str(name) != "dialect_resources":
            return None
        for d in dialects:
            if d is None:
                continue
            dname, entries = d
            if dname != "builtin":
                continue
            for key, value in entries:
                k = self._string(key) if key.type == "STRING" else str(key)
                if k in self.meta.blobs:
                    raise _Fail(f"duplicate resource key '{k}'", key)
                if value.type != "STRING":
                    raise _Fail(f"expected a hex blob string for resource '{k}'", value)
                self.meta.blobs[k] = (self._string(value), value)
        return None

    def meta_dialect(self, name: Token, *entries: Any) -> tuple[str, list[tuple[Token, Token]]]:
        return (str(name), [e for e in entries if e is not None])

    def meta_entry(self, key: Token, value: Token) -> tuple[Token, Token]:
        return (key, value)


_LARK: Lark | None = None
_BUILDER = _Builder()
# The LALR parser runs the builder's callbacks while it parses (no parse tree is built);
# the builder holds per-parse state, so parses are serialised.
_LOCK = threading.Lock()


def _lark() -> Lark:
    global _LARK
    if _LARK is None:
        _LARK = Lark(
            _GRAMMAR_PATH.read_text(encoding="utf-8"),
            parser="lalr",
            lexer="contextual",
            propagate_positions=False,
            maybe_placeholders=True,
            transformer=_BUILDER,
        )
    return _LARK


# --------------------------------------------------------------------------- syntax errors

_TOKEN_TEXT = {
    "LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "EQUAL": "'='",
    "LESSTHAN": "'<'",
    "MORETHAN": "'>'",
    "STRING": "string literal",
    "RESULT_DEF": "SSA value",
    "VALUE_USE": "SSA value",
    "CARET_ID": "block label",
    "BARE_ID": "identifier",
    "SYMREF": "symbol reference",
    "HASH_ID": "'#' alias or attribute",
    "OPAQUE_TYPE": "dialect type",
    "TENSOR_START": "type",
    "FLOAT_TYPE": "type",
    "INT_TYPE": "type",
    "FLOAT_LIT": "float literal",
    "INT_LIT": "integer literal",
    "HEX_LIT": "integer literal",
    "ARRAY_START": "attribute",
    "DENSE_START": "attribute",
    "DENSE_RESOURCE_START": "attribute",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "$END": "end of input",
}


def _expected_text(parser: Lark, names: set[str]) -> str:
    readable: set[str] = set()
    for n in names:
        if n in _TOKEN_TEXT:
            readable.add(_TOKEN_TEXT[n])
            continue
        term = parser.get_terminal(n) if n in {t.name for t in parser.terminals} else None
        if term is not None and term.pattern.type == "str":
            readable.add(f"'{term.pattern.value}'")
        else:
            readable.add(n.lower())
    items = sorted(readable)
    if len(items) == 1:
        return f"expected {items[0]}"
    if len(items) <= 6:
        return "expected one of " + ", ".join(items)
    return ""


def _syntax_error(exc: UnexpectedInput, filename: str, text: str) -> DiagnosticError:
    line = getattr(exc, "line", None) or 0
    col = getattr(exc, "column", None) or 0
    parser = _lark()
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            nlines = text.split("\n")
            line, col = len(nlines), len(nlines[-1]) + 1
            found = "unexpected end of input"
        else:
            found = f"unexpected '{tok}'"
        exp = _expected_text(parser, set(exc.expected))
        msg = exp if exp else found
        expected = set(exc.expected)
        if tok.type == "BARE_ID" and "STRING" in expected and ("RESULT_DEF" in expected or expected == {"STRING"}):
            exp = (
                f"custom operation syntax ('{_short(str(tok))}') is not supported: expected a quoted "
                "operation name, as MLIR's generic form prints it (--mlir-print-op-generic)"
            )
            tok = Token("$CUSTOM", "", line=tok.line, column=tok.column)
        if tok.type == "$CUSTOM":
            msg = exp
        elif exp and tok.type != "$END":
            msg = f"{exp}, got '{_short(str(tok))}'"
        elif exp:
            msg = f"{exp}, got end of input"
    elif isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if 0 <= exc.pos_in_stream < len(text) else ""
        allowed = getattr(exc, "allowed", None) or set()
        exp = _expected_text(parser, set(allowed)) if allowed else ""
        if ch == '"':
            msg = "unterminated string literal (or a newline inside it)"
        else:
            msg = f"unexpected character '{_short(ch)}'" + (f"; {exp}" if exp else "")
    elif isinstance(exc, UnexpectedEOF):
        nlines = text.split("\n")
        line, col = len(nlines), len(nlines[-1]) + 1
        msg = "unexpected end of input"
    else:  # pragma: no cover - lark has no other UnexpectedInput
        msg = "syntax error"
    return error(msg, FileLineColLoc(filename, max(line, 1), max(col, 1)))


def _short(s: str) -> str:
    s = s.replace("\n", "\\n")
    return s if len(s) <= 40 else s[:37] + "..."


# --------------------------------------------------------------------------- IR pass


class _Scope:
    def __init__(self, parent: _Scope | None) -> None:
        self.parent = parent
        self.defs: dict[str, tuple[list[Value], Token]] = {}
        # name -> index -> (placeholder, first-use token)
        self.forward: dict[str, dict[int, tuple[Value, Token]]] = {}


class _IRBuilder:
    def __init__(
        self,
        filename: str,
        loc_aliases: dict[str, Any],
        alias_tokens: dict[str, Token],
        blobs: dict[str, tuple[str, Token]],
    ) -> None:
        self.filename = filename
        self.loc_aliases = loc_aliases
        self.alias_tokens = alias_tokens
        self.blobs = blobs
        self.resolved_locs: dict[str, Location] = {}
        self.decoded: dict[tuple[str, TensorType], DenseResourceAttr] = {}
        # Dialects snnc itself defines (ops declared in snnc's own modules): an unknown op
        # name in one of them is an error; every other dialect is accepted generically.
        self.owned = {
            name.split(".", 1)[0]
            for name, cls in OpDef.registry.items()
            if "." in name and cls.__module__.startswith("snnc.")
        } - {"builtin"}  # builtin.unrealized_conversion_cast & co. are MLIR's, kept generically

    def fail(self, message: str, tok: Any, notes: list[tuple[str, Any]] | None = None) -> DiagnosticError:
        diag = Diagnostic("error", message, _tok_loc(self.filename, tok))
        for text, ntok in notes or []:
            diag.notes.append(Diagnostic("note", text, _tok_loc(self.filename, ntok)))
        return DiagnosticError(diag)

    # ------------------------------------------------------------------ locations & resources

    def loc(self, loc: Any, stack: tuple[str, ...] = ()) -> Location:
        if isinstance(loc, _LocAlias):
            if loc.name in self.resolved_locs:
                return self.resolved_locs[loc.name]
            if loc.name not in self.loc_aliases:
                raise error(f"undefined location alias '{loc.name}'", FileLineColLoc(self.filename, loc.line, loc.col))
            if loc.name in stack:
                raise error(
                    f"location alias '{loc.name}' refers to itself", FileLineColLoc(self.filename, loc.line, loc.col)
                )
            out = self.loc(self.loc_aliases[loc.name], stack + (loc.name,))
            self.resolved_locs[loc.name] = out
            return out
        if isinstance(loc, NameLoc) and loc.child is not None:
            return NameLoc(loc.name, self.loc(loc.child, stack))
        if isinstance(loc, CallSiteLoc):
            return CallSiteLoc(self.loc(loc.callee, stack), self.loc(loc.caller, stack))
        if isinstance(loc, FusedLoc):
            return FusedLoc(tuple(self.loc(x, stack) for x in loc.locations))
        return loc

    def attr(self, a: Attribute) -> Attribute:
        if isinstance(a, _PendingResource):
            key = (a.handle, a.type)
            if key in self.decoded:
                return self.decoded[key]
            where = FileLineColLoc(self.filename, a.line, a.col)
            if a.handle not in self.blobs:
                raise error(f"unknown resource handle '{a.handle}'", where)
            text, tok = self.blobs[a.handle]
            try:
                data = decode_blob(text, a.type)
            except ValueError as exc:
                raise error(f"malformed resource blob '{a.handle}': {exc}", _tok_loc(self.filename, tok)) from None
            out = DenseResourceAttr(a.handle, a.type, data)
            self.decoded[key] = out
            return out
        if isinstance(a, ArrayAttr):
            if any(isinstance(e, (_PendingResource, ArrayAttr, DictionaryAttr)) for e in a.elements):
                return ArrayAttr(tuple(self.attr(e) for e in a.elements))
            return a
        if isinstance(a, DictionaryAttr):
            if any(isinstance(v, (_PendingResource, ArrayAttr, DictionaryAttr)) for _, v in a.entries):
                return DictionaryAttr(tuple((k, self.attr(v)) for k, v in a.entries))
            return a
        return a

    # ------------------------------------------------------------------ SSA names

    @staticmethod
    def split_use(tok: Token) -> tuple[str, int]:
        s = str(tok)
        if "#" in s:
            name, num = s.split("#", 1)
            return name, int(num)
        return s, 0

    def lookup(self, scope: _Scope, tok: Token, t: Type) -> Value:
        name, idx = self.split_use(tok)
        s: _Scope | None = scope
        while s is not None:
            if name in s.defs:
                vals, _ = s.defs[name]
                if idx >= len(vals):
                    raise self.fail(f"reference to invalid result number '{tok}'", tok)
                v = vals[idx]
                if v.type != t:
                    raise self.fail(
                        f"use of value '{tok}' expects different type than prior uses: '{t}' vs '{v.type}'", tok
                    )
                return v
            s = s.parent
        s = scope
        while s is not None:
            fw = s.forward.get(name)
            if fw is not None and idx in fw:
                v, _ = fw[idx]
                if v.type != t:
                    raise self.fail(
                        f"use of value '{tok}' expects different type than prior uses: '{t}' vs '{v.type}'", tok
                    )
                return v
            s = s.parent
        placeholder = Value(t)
        scope.forward.setdefault(name, {})[idx] = (placeholder, tok)
        return placeholder

    def define(self, scope: _Scope, tok: Token, name: str, values: list[Value]) -> None:
        s: _Scope | None = scope
        while s is not None:
            if name in s.defs:
                _, prev = s.defs[name]
                raise self.fail(f"redefinition of SSA value '{name}'", tok, [("previously defined here", prev)])
            s = s.parent
        scope.defs[name] = (values, tok)
        fw = scope.forward.pop(name, None)
        if fw:
            for idx, (ph, use_tok) in sorted(fw.items()):
                if idx >= len(values):
                    raise self.fail(f"reference to invalid result number '{use_tok}'", use_tok)
                real = values[idx]
                if real.type != ph.type:
                    shown = name if len(values) == 1 else f"{name}#{idx}"
                    raise self.fail(
                        f"definition of SSA value '{shown}' has type '{real.type}'",
                        tok,
                        [(f"previously used here with type '{ph.type}'", use_tok)],
                    )
                ph.replace_all_uses_with(real)

    def close(self, scope: _Scope) -> None:
        """Hand the scope's unresolved forward references to its parent (or report them)."""
        if not scope.forward:
            return
        parent = scope.parent
        if parent is None:
            first = min(
                ((tok, name, idx) for name, fw in scope.forward.items() for idx, (_, tok) in fw.items()),
                key=lambda x: ((x[0].line or 0), (x[0].column or 0)),
            )
            raise self.fail(f"use of undefined value '{first[0]}'", first[0])
        for name, fw in scope.forward.items():
            for idx, (ph, tok) in fw.items():
                pf = parent.forward.setdefault(name, {})
                if idx in pf:
                    other, _ = pf[idx]
                    if other.type != ph.type:
                        raise self.fail(
                            f"use of value '{tok}' expects different type than prior uses: '{ph.type}' vs '{other.type}'",
                            tok,
                        )
                    ph.replace_all_uses_with(other)
                else:
                    pf[idx] = (ph, tok)
        scope.forward = {}

    # ------------------------------------------------------------------ ops

    def op_name(self, syn: _OpSyntax) -> str:
        try:
            return unescape_string(str(syn.name))
        except ValueError as exc:
            raise self.fail(str(exc), syn.name) from None

    def build_op(self, syn: _OpSyntax, scope: _Scope) -> Operation:
        name = self.op_name(syn)
        if not name or "." not in name:
            raise self.fail(f"invalid operation name '{name}'", syn.name)
        dialect = name.split(".", 1)[0]
        if dialect in self.owned and name not in OpDef.registry:
            raise self.fail(f"unknown operation '{name}'", syn.name)
        fn = syn.fn_type
        if len(fn.inputs) != len(syn.operands):
            raise self.fail(
                f"expected {len(syn.operands)} operand type{'s' if len(syn.operands) != 1 else ''} but had {len(fn.inputs)}",
                syn.fn_token or syn.name,
            )
        counts: list[tuple[Token, str, int]] = []
        for tok in syn.result_defs:
            s = str(tok)
            if ":" in s:
                base, n = s.split(":", 1)
                if int(n) == 0:
                    raise self.fail("expected named operation to have at least 1 result", tok)
                counts.append((tok, base, int(n)))
            else:
                counts.append((tok, s, 1))
        total = sum(c for _, _, c in counts)
        if syn.result_defs and total != len(fn.results):
            raise self.fail(f"operation defines {len(fn.results)} results but was provided {total} to bind", syn.start)
        operands = [self.lookup(scope, tok, t) for tok, t in zip(syn.operands, fn.inputs)]
        regions = [self.build_region(r, scope, name) for r in syn.regions]
        location = self.loc(syn.loc) if syn.loc is not None else _tok_loc(self.filename, syn.start)
        attrs = {k: self.attr(v) for k, v in syn.attributes}
        props = None if syn.properties is None else {k: self.attr(v) for k, v in syn.properties}
        try:
            op = make_op(name, operands, fn.results, attrs, regions, location)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"cannot build '{name}': {exc}", syn.name) from None
        if props is not None:
            op.properties = props
        pos = 0
        for tok, base, n in counts:
            self.define(scope, tok, base, list(op.results[pos : pos + n]))
            pos += n
        return op

    def build_region(self, syn: _RegionSyntax, parent: _Scope, op_name: str) -> Region:
        scope = _Scope(parent)
        region = Region()
        labels: dict[str, Token] = {}
        for b in syn.blocks:
            block = Block()
            region.add_block(block)
            if b.label is not None:
                lab = str(b.label)
                if lab in labels:
                    raise self.fail(f"redefinition of block '{lab}'", b.label)
                labels[lab] = b.label
            for tok, t, loc in b.args:
                arg = block.add_arg(t, self.loc(loc) if loc is not None else _tok_loc(self.filename, tok))
                self.define(scope, tok, str(tok), [arg])
            for o in b.ops:
                block.append(self.build_op(o, scope))
        if not region.blocks and self.needs_block(op_name):
            region.add_block(Block())
        self.close(scope)
        return region

    @staticmethod
    def needs_block(op_name: str) -> bool:
        """Ops whose body is one block even when it is empty (MLIR prints that block as ``{}``)."""
        if op_name == "builtin.module":
            return True
        cls = OpDef.registry.get(op_name)
        return cls is not None and cls.num_regions > 0 and any(t.value == "graph_region" for t in cls.traits)


# --------------------------------------------------------------------------- entry points


def _ensure_dialects() -> None:
    try:
        importlib.import_module("snnc.dialects")
    except ModuleNotFoundError as exc:  # pragma: no cover - the dialects package is part of snnc
        if exc.name != "snnc.dialects":
            raise


def _parse_tree(text: str, filename: str) -> tuple[list[_OpSyntax], _Builder]:
    parser = _lark()
    builder = _BUILDER
    builder.reset()
    try:
        ops = parser.parse(text)
    except _Fail as exc:
        raise _fail_to_error(exc, filename) from None
    except UnexpectedInput as exc:
        raise _syntax_error(exc, filename, text) from None
    except LarkError as exc:
        inner = getattr(exc, "orig_exc", None)
        if isinstance(inner, _Fail):
            raise _fail_to_error(inner, filename) from None
        if isinstance(inner, DiagnosticError):
            raise inner from None
        raise error(f"syntax error: {exc}", FileLineColLoc(filename, 1, 1)) from None
    return ops, builder


def _fail_to_error(exc: _Fail, filename: str) -> DiagnosticError:
    diag = Diagnostic("error", exc.message, _tok_loc(filename, exc.tok))
    for text, tok in exc.notes:
        diag.notes.append(Diagnostic("note", text, _tok_loc(filename, tok)))
    return DiagnosticError(diag)


def parse_module(text: str, filename: str = "<string>") -> ModuleOp:
    """Parse MLIR generic-form text into a module (see the module docstring)."""
    _ensure_dialects()
    if not isinstance(text, str):
        raise TypeError("parse_module expects a str")
    with _LOCK:
        try:
            ops_syn, b = _parse_tree(text, filename)
        except RecursionError:
            _BUILDER.reset()
            raise error("input nests too deeply", FileLineColLoc(filename, 1, 1)) from None
        irb = _IRBuilder(filename, b.loc_aliases, b.alias_tokens, b.meta.blobs)
        b.reset()
    try:
        root = _Scope(None)
        if len(ops_syn) == 1 and irb.op_name(ops_syn[0]) == "builtin.module" and not ops_syn[0].result_defs:
            op = irb.build_op(ops_syn[0], root)
            irb.close(root)
            if not isinstance(op, ModuleOp):  # pragma: no cover - make_op builds ModuleOp
                raise irb.fail("expected a builtin.module", ops_syn[0].name)
            return op
        body = Block()
        for syn in ops_syn:
            body.append(irb.build_op(syn, root))
        irb.close(root)
        module = ModuleOp(regions=[Region([body])], location=FileLineColLoc(filename, 1, 1))
        return module
    except RecursionError:
        raise error("input nests too deeply", FileLineColLoc(filename, 1, 1)) from None


def parse_file(path: str | os.PathLike[str]) -> ModuleOp:
    """Parse the MLIR file at ``path``; diagnostics name the path as given."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise error(f"file is not valid UTF-8 (byte {exc.start})", FileLineColLoc(p, 0, 0)) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", FileLineColLoc(p, 0, 0)) from None
    return parse_module(text, p)


def _parse_fragment(text: str, wrap: str, getter: Any) -> Any:
    module = parse_module(wrap.replace("@@", text))
    return getter(module.body.ops[0])


def parse_type(text: str) -> Type:
    """Parse one type (``tensor<2xf32>``, ``!torch.int``...)."""
    return _parse_fragment(text, '"text.fragment"() {t = @@} : () -> ()', lambda op: op.attributes["t"].value)


def parse_attribute(text: str) -> Attribute:
    """Parse one attribute (``1 : i64``, ``dense<1.0> : tensor<2xf32>``...)."""
    return _parse_fragment(text, '"text.fragment"() {a = @@} : () -> ()', lambda op: op.attributes["a"])
