"""Builtin types, printed exactly as MLIR prints them.

``f16 f32 f64 bf16``, ``i1 i8 i16 i32 i64`` (signless), ``si2`` (signed 2-bit: the
element type of ternary spike tensors, values in {-1, 0, +1}), ``ui8``..., ``index``,
``none``, ``tensor<2x3xf32>`` (``?`` for a dynamic dimension), function types
``(a, b) -> c``, and opaque dialect types ``!torch.vtensor<[4,3],f32>`` kept as text.

Types are immutable values: compare with ``==``, use as dict keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class Type:
    """Base class of all types."""

    def __str__(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class FloatType(Type):
    width: int
    brain: bool = False  # bf16

    def __str__(self) -> str:
        return "bf16" if self.brain else f"f{self.width}"


@dataclass(frozen=True)
class IntegerType(Type):
    """``iN`` (signless), ``siN`` (signed) or ``uiN`` (unsigned)."""

    width: int
    signedness: str = ""  # "" | "s" | "u"

    def __str__(self) -> str:
        return f"{self.signedness}i{self.width}"

    @property
    def is_unsigned(self) -> bool:
        return self.signedness == "u"

    def value_range(self) -> tuple[int, int]:
        """Inclusive range of values (signless integers are read as signed, i1 as 0/1)."""
        if self.width == 1 and self.signedness != "s":
            return (0, 1)
        if self.is_unsigned:
            return (0, 2**self.width - 1)
        return (-(2 ** (self.width - 1)), 2 ** (self.width - 1) - 1)


@dataclass(frozen=True)
class IndexType(Type):
    def __str__(self) -> str:
        return "index"


@dataclass(frozen=True)
class NoneType(Type):
    def __str__(self) -> str:
        return "none"


@dataclass(frozen=True)
class TensorType(Type):
    """A ranked tensor; ``-1`` in ``shape`` is a dynamic dimension (``?``)."""

    shape: tuple[int, ...]
    element: Type

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))

    def __str__(self) -> str:
        dims = "".join(("?" if d < 0 else str(d)) + "x" for d in self.shape)
        return f"tensor<{dims}{self.element}>"

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def with_shape(self, shape: tuple[int, ...]) -> TensorType:
        return TensorType(tuple(shape), self.element)

    def with_element(self, element: Type) -> TensorType:
        return TensorType(self.shape, element)


@dataclass(frozen=True)
class FunctionType(Type):
    inputs: tuple[Type, ...]
    results: tuple[Type, ...]

    def __str__(self) -> str:
        ins = "(" + ", ".join(str(t) for t in self.inputs) + ")"
        if len(self.results) == 1 and not isinstance(self.results[0], FunctionType):
            outs = str(self.results[0])
        else:
            outs = "(" + ", ".join(str(t) for t in self.results) + ")"
        return f"{ins} -> {outs}"


@dataclass(frozen=True)
class OpaqueType(Type):
    """A type of another dialect kept as text: ``!dialect.body`` (``body`` may hold ``<...>``)."""

    dialect: str
    body: str

    def __str__(self) -> str:
        return f"!{self.dialect}.{self.body}"


# Common instances.
f16 = FloatType(16)
f32 = FloatType(32)
f64 = FloatType(64)
i1 = IntegerType(1)
i8 = IntegerType(8)
i16 = IntegerType(16)
i32 = IntegerType(32)
i64 = IntegerType(64)
si2 = IntegerType(2, "s")
#: Element type of ternary spike tensors ({-1, 0, +1}).
ternary = si2
index = IndexType()


def tensor(shape: tuple[int, ...] | list[int], element: Type = f32) -> TensorType:
    return TensorType(tuple(shape), element)


def is_spike_element(t: Type) -> bool:
    """Binary (``i1``) or ternary (``si2``) spike element type."""
    return t == i1 or t == si2


def is_spike_tensor(t: Type) -> bool:
    return isinstance(t, TensorType) and is_spike_element(t.element)


def is_float_tensor(t: Type) -> bool:
    return isinstance(t, TensorType) and isinstance(t.element, FloatType)


def is_int_tensor(t: Type) -> bool:
    return isinstance(t, TensorType) and isinstance(t.element, IntegerType)


_NP_DTYPES: dict[Type, np.dtype] = {
    f16: np.dtype(np.float16),
    f32: np.dtype(np.float32),
    f64: np.dtype(np.float64),
    i1: np.dtype(np.bool_),
    si2: np.dtype(np.int8),
    i8: np.dtype(np.int8),
    i16: np.dtype(np.int16),
    i32: np.dtype(np.int32),
    i64: np.dtype(np.int64),
    IntegerType(8, "s"): np.dtype(np.int8),
    IntegerType(16, "s"): np.dtype(np.int16),
    IntegerType(32, "s"): np.dtype(np.int32),
    IntegerType(64, "s"): np.dtype(np.int64),
    IntegerType(8, "u"): np.dtype(np.uint8),
    IntegerType(16, "u"): np.dtype(np.uint16),
    IntegerType(32, "u"): np.dtype(np.uint32),
    IntegerType(64, "u"): np.dtype(np.uint64),
}


def numpy_dtype(t: Type) -> np.dtype:
    """The numpy dtype that stores elements of type ``t`` (i1 -> bool, si2 -> int8)."""
    try:
        return _NP_DTYPES[t]
    except KeyError:
        if isinstance(t, IntegerType):
            if t.width <= 8:
                return np.dtype(np.uint8 if t.is_unsigned else np.int8)
            if t.width <= 16:
                return np.dtype(np.uint16 if t.is_unsigned else np.int16)
            if t.width <= 32:
                return np.dtype(np.uint32 if t.is_unsigned else np.int32)
            if t.width <= 64:
                return np.dtype(np.uint64 if t.is_unsigned else np.int64)
        raise TypeError(f"no numpy dtype for type {t}") from None


def element_type_of_dtype(dtype: np.dtype) -> Type:
    """The MLIR element type for a numpy dtype (bool -> i1)."""
    dtype = np.dtype(dtype)
    table = {
        np.dtype(np.float16): f16,
        np.dtype(np.float32): f32,
        np.dtype(np.float64): f64,
        np.dtype(np.bool_): i1,
        np.dtype(np.int8): i8,
        np.dtype(np.int16): i16,
        np.dtype(np.int32): i32,
        np.dtype(np.int64): i64,
        np.dtype(np.uint8): IntegerType(8, "u"),
        np.dtype(np.uint16): IntegerType(16, "u"),
        np.dtype(np.uint32): IntegerType(32, "u"),
        np.dtype(np.uint64): IntegerType(64, "u"),
    }
    try:
        return table[dtype]
    except KeyError:
        raise TypeError(f"no MLIR element type for numpy dtype {dtype}") from None
