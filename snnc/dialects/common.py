"""Attribute helpers shared by the ``nn`` and ``snn`` dialects.

* Parameters (neuron constants, ``nn.scale``'s factor) are a :class:`FloatAttr` (one value
  for every element) or a float tensor attribute (:class:`DenseElementsAttr` or
  :class:`DenseResourceAttr`) broadcastable to the op's shape; :func:`param_array` reads
  either as a numpy array.
* Weights are tensor attributes: :func:`weight_attr` builds a ``dense<...>`` for at most
  :data:`INLINE_MAX_ELEMENTS` elements and a ``dense_resource<...>`` blob otherwise, whose
  handle is derived from the content (so building the same module twice prints the same
  text, and two different blobs never share a handle).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..ir.attributes import (
    Attribute,
    DenseArrayAttr,
    DenseElementsAttr,
    DenseResourceAttr,
    FloatAttr,
    IntegerAttr,
)
from ..ir.core import Operation
from ..ir.types import FloatType, IntegerType, TensorType, Type, element_type_of_dtype, f32, i64

#: Tensors with at most this many elements are stored inline as ``dense<...>``.
INLINE_MAX_ELEMENTS = 16

#: Attribute kinds of a tensor-valued attribute (weights, biases).
TENSOR_ATTR_KINDS: tuple[type[Attribute], ...] = (DenseElementsAttr, DenseResourceAttr)
#: Attribute kinds of a float parameter: a scalar, or a tensor broadcastable to the op's shape.
PARAM_ATTR_KINDS: tuple[type[Attribute], ...] = (FloatAttr, DenseElementsAttr, DenseResourceAttr)


def is_float_param(a: Attribute) -> bool:
    """``check`` predicate: a FloatAttr or a tensor attribute with float elements."""
    if isinstance(a, FloatAttr):
        return True
    return isinstance(a, (DenseElementsAttr, DenseResourceAttr)) and isinstance(a.type.element, FloatType)


def is_float_tensor_attr(a: Attribute) -> bool:
    return isinstance(a, (DenseElementsAttr, DenseResourceAttr)) and isinstance(a.type.element, FloatType)


def is_i64_array(a: Attribute) -> bool:
    return isinstance(a, DenseArrayAttr) and a.element_type == i64


def is_i64(a: Attribute) -> bool:
    return isinstance(a, IntegerAttr) and isinstance(a.type, IntegerType)


# --------------------------------------------------------------------------- reading


def param_value(op: Operation, name: str) -> float | np.ndarray | None:
    """The Python value of a parameter attribute (its declared default when absent)."""
    return op.attr(name)  # type: ignore[attr-defined]


def param_shape(op: Operation, name: str) -> tuple[int, ...]:
    """Shape of a parameter: ``()`` for a scalar."""
    a = op.get_attr(name)
    if isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        return tuple(a.type.shape)
    return ()


def param_array(op: Operation, name: str, dtype: Any = np.float64) -> np.ndarray:
    """A parameter (scalar or tensor) as a numpy array of ``dtype`` (0-d for a scalar)."""
    v = op.attr(name)  # type: ignore[attr-defined]
    if v is None:
        raise KeyError(f"{op.op_name}: parameter '{name}' has no value")
    return np.asarray(v, dtype=dtype)


def tensor_attr_shape(op: Operation, name: str) -> tuple[int, ...] | None:
    """Shape of an optional tensor attribute, or None when it is absent."""
    a = op.get_attr(name)
    if isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        return tuple(a.type.shape)
    return None


def tensor_attr_array(op: Operation, name: str, dtype: Any = np.float64) -> np.ndarray | None:
    a = op.get_attr(name)
    if isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        return np.asarray(a.data, dtype=dtype)
    return None


def int_tuple(op: Operation, name: str) -> tuple[int, ...]:
    v = op.attr(name)  # type: ignore[attr-defined]
    return tuple(int(x) for x in v)


# --------------------------------------------------------------------------- shapes


def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    """numpy's broadcast of two shapes, or None when they do not broadcast."""
    out: list[int] = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(reversed(out))


def broadcasts_to(src: Sequence[int], dst: Sequence[int]) -> bool:
    """True when an array of shape ``src`` broadcasts to exactly ``dst``."""
    return broadcast_shape(src, dst) == tuple(dst) and len(src) <= len(dst)


def fmt_shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def check_param_broadcast(op: Operation, name: str, shape: Sequence[int]) -> None:
    """Raise a diagnostic if parameter ``name`` does not broadcast to ``shape``."""
    ps = param_shape(op, name)
    if not broadcasts_to(ps, shape):
        raise op.emit_error(f"parameter '{name}' of shape {fmt_shape(ps)} does not broadcast to {fmt_shape(shape)}")


def tensor_shape(t: Type) -> tuple[int, ...]:
    assert isinstance(t, TensorType)
    return tuple(t.shape)


# --------------------------------------------------------------------------- building


_HANDLE_CHARS = re.compile(r"[^A-Za-z0-9_]")


def resource_handle(data: np.ndarray, type_: TensorType, hint: str = "blob") -> str:
    """A deterministic resource handle: ``<hint>_<12 hex digits of a content hash>``."""
    h = hashlib.sha256()
    h.update(str(type_).encode())
    h.update(np.ascontiguousarray(data).tobytes())
    base = _HANDLE_CHARS.sub("_", hint) or "blob"
    if not (base[0].isalpha() or base[0] == "_"):
        base = "_" + base
    return f"{base}_{h.hexdigest()[:12]}"


def weight_attr(
    data: Any,
    element: Type | None = None,
    *,
    hint: str = "blob",
    inline_max: int = INLINE_MAX_ELEMENTS,
) -> DenseElementsAttr | DenseResourceAttr:
    """A tensor attribute holding ``data``: inline ``dense`` when it has at most
    ``inline_max`` elements, else a ``dense_resource`` with a content-derived handle.

    ``element`` is the element type (default: f32 for float data, else from the dtype).
    """
    # a copy: the attribute freezes its array, the caller's must stay writable
    arr = np.array(data)
    if element is None:
        element = f32 if np.issubdtype(arr.dtype, np.floating) else element_type_of_dtype(arr.dtype)
    t = TensorType(tuple(arr.shape), element)
    if arr.size <= inline_max:
        return DenseElementsAttr(t, arr)
    attr = DenseElementsAttr(t, arr)  # converts to the element dtype first
    return DenseResourceAttr(resource_handle(attr.data, t, hint), t, attr.data)


def float_param(value: Any, element: Type = f32, *, hint: str = "param") -> Attribute:
    """A parameter attribute: FloatAttr for a scalar, else a tensor attribute."""
    if isinstance(value, Attribute):
        return value
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return FloatAttr(float(arr), element)
    return weight_attr(arr, element, hint=hint)


__all__ = [
    "INLINE_MAX_ELEMENTS",
    "PARAM_ATTR_KINDS",
    "TENSOR_ATTR_KINDS",
    "broadcast_shape",
    "broadcasts_to",
    "check_param_broadcast",
    "float_param",
    "fmt_shape",
    "int_tuple",
    "is_float_param",
    "is_float_tensor_attr",
    "is_i64",
    "is_i64_array",
    "param_array",
    "param_shape",
    "param_value",
    "resource_handle",
    "tensor_attr_array",
    "tensor_attr_shape",
    "tensor_shape",
    "weight_attr",
]
