"""Builtin attributes, printed exactly as MLIR's generic form spells them.

=====================  ==========================================  =====================
class                  text                                        Python value (.value)
=====================  ==========================================  =====================
IntegerAttr            ``5 : i64``                                 int
FloatAttr              ``1.000000e+00 : f32``                      float (rounded to the type)
BoolAttr               ``true`` / ``false``                        bool
StringAttr             ``"text"``                                  str
UnitAttr               ``unit`` (bare name inside a dictionary)    None
ArrayAttr              ``[1 : i64, "a"]``                          tuple of attributes
DenseArrayAttr         ``array<i64: 1, 2>``                        tuple of int/float
DictionaryAttr         ``{a = 1 : i64}``                           dict (sorted by name)
TypeAttr               ``tensor<2xf32>``                           Type
DenseElementsAttr      ``dense<[1.0, 2.0]> : tensor<2xf32>``       numpy array
DenseResourceAttr      ``dense_resource<w0> : tensor<4x3xf32>``    numpy array (the blob)
SymbolRefAttr          ``@main``                                   str
OpaqueAttr             ``#dialect<...>`` kept as text              str
=====================  ==========================================  =====================

Floats print as MLIR does: ``%.6e`` when that reads back to the same value, else the
shortest text that does (so print -> parse is exact); infinities and NaNs as the hex bit
pattern (``0x7F800000``).  ``dense_resource`` blobs are little-endian with a 4-byte
alignment header, as MLIR writes them in the ``{-# dialect_resources ... #-}`` section.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .diagnostics import quote_string
from .types import (
    FloatType,
    TensorType,
    Type,
    f32,
    f64,
    i1,
    i64,
    numpy_dtype,
)


class Attribute:
    """Base class of attributes.  ``str(attr)`` is its MLIR text."""

    @property
    def value(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


# --------------------------------------------------------------------------- scalars


# --------------------------------------------------------------------------- MLIR float text

_PRECISION = {16: 11, 32: 24, 64: 53}
_EXP_BITS = {16: 5, 32: 8, 64: 11}


def _float_bits(v: float, width: int) -> int:
    if width == 64:
        return struct.unpack("<Q", struct.pack("<d", v))[0]
    if width == 32:
        return struct.unpack("<I", struct.pack("<f", v))[0]
    return int(np.array(v, dtype=np.float16).view(np.uint16))


def _apfloat_to_string(bits: int, width: int, precision: int, max_padding: int, truncate_zero: bool) -> str:
    """A port of LLVM's ``IEEEFloat::toString`` for finite IEEE values of ``width`` bits."""
    mant_bits = _PRECISION[width] - 1
    exp_bits = _EXP_BITS[width]
    negative = bool(bits >> (width - 1))
    biased = (bits >> mant_bits) & ((1 << exp_bits) - 1)
    frac = bits & ((1 << mant_bits) - 1)
    sign = "-" if negative else ""
    if biased == 0 and frac == 0:
        if not max_padding:
            if truncate_zero:
                return sign + "0.0E+0"
            return sign + "0.0" + "0" * max(precision - 1, 0) + "e+00"
        return sign + "0"
    bias = (1 << (exp_bits - 1)) - 1
    if biased == 0:  # denormal
        significand = frac
        exp = 1 - bias - mant_bits
    else:
        significand = frac | (1 << mant_bits)
        exp = biased - bias - mant_bits
    if not precision:
        precision = 2 + _PRECISION[width] * 59 // 196
    tz = (significand & -significand).bit_length() - 1
    exp += tz
    significand >>= tz
    if exp > 0:
        significand <<= exp
        exp = 0
    elif exp < 0:
        significand *= 5 ** (-exp)
    # AdjustToPrecision (APInt): drop decimal digits beyond what the precision needs (truncating).
    nbits = significand.bit_length()
    bits_required = (precision * 196 + 58) // 59
    if nbits > bits_required:
        tens = (nbits - bits_required) * 59 // 196
        if tens:
            exp += tens
            significand //= 10**tens
    digits = str(significand)  # most significant first
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    buf = list(reversed(stripped))  # least significant first, as LLVM's buffer
    # AdjustToPrecision (digits): round half up to `precision` significant digits.
    n = len(buf)
    if n > precision:
        first = n - precision
        if buf[first - 1] < "5":
            while first < n and buf[first] == "0":
                first += 1
            exp += first
            buf = buf[first:]
        else:
            i = first
            while i != n:
                if buf[i] == "9":
                    first += 1
                    i += 1
                else:
                    buf[i] = chr(ord(buf[i]) + 1)
                    break
            if first == n:
                exp += first
                buf = ["1"]
            else:
                exp += first
                buf = buf[first:]
    nd = len(buf)
    if not max_padding:
        scientific = True
    elif exp >= 0:
        scientific = exp > max_padding or nd + exp > precision
    else:
        msd = exp + nd - 1
        scientific = False if msd >= 0 else -msd > max_padding
    out = [sign]
    if scientific:
        exp += nd - 1
        out.append(buf[nd - 1])
        out.append(".")
        if nd == 1 and truncate_zero:
            out.append("0")
        else:
            out.extend(buf[nd - 1 - i] for i in range(1, nd))
        if not truncate_zero and precision > nd - 1:
            out.append("0" * (precision - nd + 1))
        out.append("E" if truncate_zero else "e")
        out.append("+" if exp >= 0 else "-")
        e = str(abs(exp))
        if not truncate_zero and len(e) < 2:
            e = "0" + e
        out.append(e)
        return "".join(out)
    if exp >= 0:
        out.extend(reversed(buf))
        out.append("0" * exp)
        return "".join(out)
    whole = exp + nd
    rev = list(reversed(buf))
    if whole > 0:
        out.extend(rev[:whole])
        out.append(".")
        out.extend(rev[whole:])
    else:
        out.append("0.")
        out.append("0" * (-whole))
        out.extend(rev)
    return "".join(out)


def format_float(v: float, t: Type) -> str:
    """MLIR's text of a float of type ``t`` (a port of ``printFloatValue`` in MLIR's AsmPrinter).

    ``%.6e``-style (LLVM ``APFloat::toString(6, 0, false)``) when that reads back to the same
    bits, else APFloat's shortest round-trip form when it has a ``.``, else the bit pattern in
    hexadecimal (``0x7F800000``; also used for infinities and NaNs).
    """
    width = t.width if isinstance(t, FloatType) and not t.brain else 64
    if width not in _PRECISION:
        width = 64
    cast = _float_caster(width)
    v = cast(v)
    bits = _float_bits(v, width)
    if math.isfinite(v):
        s = _apfloat_to_string(bits, width, 6, 0, False)
        if _float_bits(cast(float(s)), width) == bits:
            return s
        s = _apfloat_to_string(bits, width, 0, 3, True)
        if "." in s:
            return s
    return f"0x{bits:X}"


def _float_caster(width: int):
    if width == 64:
        return float
    if width == 32:
        return lambda x: float(np.float32(x))
    return lambda x: float(np.float16(x))


def round_float(v: float, t: Type) -> float:
    """``v`` rounded to the precision of float type ``t``."""
    width = t.width if isinstance(t, FloatType) else 64
    return _float_caster(width)(v)


@dataclass(frozen=True)
class IntegerAttr(Attribute):
    int_value: int
    type: Type = i64

    @property
    def value(self) -> int:
        return self.int_value

    def __str__(self) -> str:
        return f"{self.int_value} : {self.type}"


@dataclass(frozen=True)
class FloatAttr(Attribute):
    float_value: float
    type: Type = f64

    def __post_init__(self) -> None:
        object.__setattr__(self, "float_value", round_float(float(self.float_value), self.type))

    @property
    def value(self) -> float:
        return self.float_value

    def __str__(self) -> str:
        return f"{format_float(self.float_value, self.type)} : {self.type}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FloatAttr) or other.type != self.type:
            return False
        a, b = self.float_value, other.float_value
        return a == b or (math.isnan(a) and math.isnan(b))

    def __hash__(self) -> int:
        return hash((self.type, struct.pack("<d", self.float_value)))


@dataclass(frozen=True)
class BoolAttr(Attribute):
    bool_value: bool

    @property
    def value(self) -> bool:
        return self.bool_value

    def __str__(self) -> str:
        return "true" if self.bool_value else "false"


@dataclass(frozen=True)
class StringAttr(Attribute):
    string: str

    @property
    def value(self) -> str:
        return self.string

    def __str__(self) -> str:
        return quote_string(self.string)


@dataclass(frozen=True)
class UnitAttr(Attribute):
    @property
    def value(self) -> None:
        return None

    def __str__(self) -> str:
        return "unit"


@dataclass(frozen=True)
class SymbolRefAttr(Attribute):
    symbol: str

    @property
    def value(self) -> str:
        return self.symbol

    def __str__(self) -> str:
        if _is_bare_identifier(self.symbol):
            return f"@{self.symbol}"
        return "@" + quote_string(self.symbol)


@dataclass(frozen=True)
class TypeAttr(Attribute):
    type: Type

    @property
    def value(self) -> Type:
        return self.type

    def __str__(self) -> str:
        return str(self.type)


@dataclass(frozen=True)
class OpaqueAttr(Attribute):
    """An attribute of another dialect kept verbatim (``#torch.foo<...>``)."""

    text: str

    @property
    def value(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True)
class ArrayAttr(Attribute):
    elements: tuple[Attribute, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "elements", tuple(self.elements))

    @property
    def value(self) -> tuple[Attribute, ...]:
        return self.elements

    def __str__(self) -> str:
        return "[" + ", ".join(str(e) for e in self.elements) + "]"


@dataclass(frozen=True)
class DenseArrayAttr(Attribute):
    """``array<i64: 1, 2>``: a dense array of integers or floats (MLIR's DenseI64ArrayAttr...)."""

    element_type: Type
    elements: tuple[int | float, ...]

    def __post_init__(self) -> None:
        if isinstance(self.element_type, FloatType):
            vals: tuple[int | float, ...] = tuple(round_float(float(x), self.element_type) for x in self.elements)
        else:
            vals = tuple(int(x) for x in self.elements)
        object.__setattr__(self, "elements", vals)

    @property
    def value(self) -> tuple[int | float, ...]:
        return self.elements

    def __str__(self) -> str:
        if not self.elements:
            return f"array<{self.element_type}>"
        if isinstance(self.element_type, FloatType):
            body = ", ".join(format_float(float(x), self.element_type) for x in self.elements)
        elif self.element_type == i1:
            body = ", ".join("true" if x else "false" for x in self.elements)
        else:
            body = ", ".join(str(int(x)) for x in self.elements)
        return f"array<{self.element_type}: {body}>"


@dataclass(frozen=True)
class DictionaryAttr(Attribute):
    entries: tuple[tuple[str, Attribute], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(sorted(self.entries, key=lambda kv: kv[0])))

    @property
    def value(self) -> dict[str, Attribute]:
        return dict(self.entries)

    def __str__(self) -> str:
        return "{" + ", ".join(format_named_attr(k, v) for k, v in self.entries) + "}"


def format_named_attr(name: str, attr: Attribute) -> str:
    key = name if _is_bare_identifier(name) else quote_string(name)
    if isinstance(attr, UnitAttr):
        return key
    return f"{key} = {attr}"


def _is_bare_identifier(s: str) -> bool:
    if not s or not (s[0].isalpha() or s[0] == "_"):
        return False
    return all(c.isalnum() or c in "_$." for c in s) and s.isascii()


# --------------------------------------------------------------------------- tensors


def _check_tensor_data(type_: TensorType, data: np.ndarray) -> np.ndarray:
    dtype = numpy_dtype(type_.element)
    arr = np.asarray(data)
    if arr.shape != type_.shape:
        if arr.size == type_.num_elements:
            arr = arr.reshape(type_.shape)
        else:
            raise ValueError(f"data of shape {arr.shape} does not fit {type_}")
    arr = np.ascontiguousarray(arr.astype(dtype, copy=False))
    if isinstance(data, np.ndarray) and np.shares_memory(arr, data):
        arr = arr.copy()  # never freeze (or alias) the caller's array
    arr.setflags(write=False)
    return arr


def _format_element(x: Any, elt: Type) -> str:
    if isinstance(elt, FloatType):
        return format_float(float(x), elt)
    if elt == i1:
        return "true" if bool(x) else "false"
    return str(int(x))


def _format_nested(arr: np.ndarray, elt: Type) -> str:
    if arr.ndim == 0:
        return _format_element(arr.item(), elt)
    return "[" + ", ".join(_format_nested(sub, elt) for sub in arr) + "]"


class _TensorAttr(Attribute):
    type: TensorType
    data: np.ndarray

    @property
    def value(self) -> np.ndarray:
        return self.data

    def _key(self) -> tuple[Any, ...]:
        return (type(self).__name__, self.type, self.data.tobytes())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _TensorAttr) and self._key() == other._key() and self._extra_eq(other)

    def _extra_eq(self, other: _TensorAttr) -> bool:
        return True

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass(frozen=True, eq=False)
class DenseElementsAttr(_TensorAttr):
    """``dense<...> : tensor<...>``; printed as a splat when all elements are equal."""

    type: TensorType
    data: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _check_tensor_data(self.type, self.data))

    def is_splat(self) -> bool:
        flat = self.data.reshape(-1)
        return flat.size > 0 and bool(np.all(flat == flat[0])) and not (
            isinstance(self.type.element, FloatType) and np.any(np.isnan(flat))
        )

    def __str__(self) -> str:
        if self.is_splat():
            body = _format_element(self.data.reshape(-1)[0], self.type.element)
        else:
            body = _format_nested(self.data, self.type.element)
        return f"dense<{body}> : {self.type}"


@dataclass(frozen=True, eq=False)
class DenseResourceAttr(_TensorAttr):
    """``dense_resource<handle> : tensor<...>``: a tensor stored in the module's resource blobs.

    The blob bytes are held here (``data``); the printer writes them to the
    ``{-# dialect_resources: { builtin: { handle: "0x..." } } #-}`` section.
    """

    handle: str
    type: TensorType
    data: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _check_tensor_data(self.type, self.data))

    def _extra_eq(self, other: _TensorAttr) -> bool:
        return isinstance(other, DenseResourceAttr) and other.handle == self.handle

    def __hash__(self) -> int:
        return hash((self.handle,) + self._key())

    def __str__(self) -> str:
        handle = self.handle if _is_resource_key(self.handle) else quote_string(self.handle)
        return f"dense_resource<{handle}> : {self.type}"

    def blob_hex(self) -> str:
        """The blob as MLIR writes it: ``0x`` + LE u32 alignment + little-endian data."""
        return encode_blob(self.data, self.type)


def _is_resource_key(s: str) -> bool:
    return bool(s) and (s[0].isalpha() or s[0] == "_") and all(c.isalnum() or c in "_$.-" for c in s) and s.isascii()


def blob_alignment(type_: TensorType) -> int:
    return max(1, numpy_dtype(type_.element).itemsize)


def encode_blob(data: np.ndarray, type_: TensorType) -> str:
    arr = np.ascontiguousarray(data.astype(numpy_dtype(type_.element).newbyteorder("<"), copy=False))
    # MLIR writes an empty blob with alignment 0.
    header = struct.pack("<I", blob_alignment(type_) if arr.size else 0)
    return "0x" + (header + arr.tobytes()).hex().upper()


def decode_blob(text: str, type_: TensorType) -> np.ndarray:
    """Inverse of :func:`encode_blob`; raises ``ValueError`` on a malformed blob."""
    if not text.startswith("0x"):
        raise ValueError("resource blob must start with '0x'")
    try:
        raw = bytes.fromhex(text[2:])
    except ValueError:
        raise ValueError("resource blob is not valid hexadecimal") from None
    if len(raw) < 4:
        raise ValueError("resource blob is shorter than its 4-byte alignment header")
    dtype = numpy_dtype(type_.element).newbyteorder("<")
    body = raw[4:]
    expected = type_.num_elements * dtype.itemsize
    if len(body) != expected:
        raise ValueError(f"resource blob holds {len(body)} bytes but {type_} needs {expected}")
    return np.frombuffer(body, dtype=dtype).astype(dtype.newbyteorder("="))


# --------------------------------------------------------------------------- helpers


def attr_from_python(v: Any) -> Attribute:
    """Convenience conversion: bool/int/float/str/list/Type/ndarray/Attribute -> Attribute."""
    if isinstance(v, Attribute):
        return v
    if isinstance(v, bool):
        return BoolAttr(v)
    if isinstance(v, int):
        return IntegerAttr(v, i64)
    if isinstance(v, float):
        return FloatAttr(v, f64)
    if isinstance(v, str):
        return StringAttr(v)
    if isinstance(v, Type):
        return TypeAttr(v)
    if isinstance(v, dict):
        return DictionaryAttr(tuple((k, attr_from_python(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        if all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return DenseArrayAttr(i64, tuple(v))
        return ArrayAttr(tuple(attr_from_python(x) for x in v))
    raise TypeError(f"cannot convert {type(v).__name__} to an attribute")


def f32_attr(v: float) -> FloatAttr:
    return FloatAttr(v, f32)


def i64_attr(v: int) -> IntegerAttr:
    return IntegerAttr(int(v), i64)


def i64_array(vals: Any) -> DenseArrayAttr:
    return DenseArrayAttr(i64, tuple(int(x) for x in vals))
