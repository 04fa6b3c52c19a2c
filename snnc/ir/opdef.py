"""Declaring ops: one class per op, registered from the class itself.

An op is declared once::

    class LIF(OpDef):
        \"\"\"Leaky integrate-and-fire neuron ... (exact equations here) ...\"\"\"
        name = "snn.lif"
        operands = (Operand("input", FloatTensor),)
        results = (Result("spikes", SpikeTensor),)
        attributes = (
            Attr("alpha", FloatAttr, doc="membrane decay"),
            Attr("reset", StringAttr, default="hard", choices=("hard", "soft", "none")),
        )
        traits = frozenset({Trait.STATEFUL})

        def verify_(self) -> None:
            if ...: raise self.emit_error("alpha must be in [0, 1]")

Defining the class registers it (``OpDef.registry["snn.lif"]``); the parser builds an
instance of it for ``"snn.lif"(...)``.  The generic verifier
(:func:`snnc.ir.verifier.verify`) checks operand/result counts and type constraints,
required attributes, attribute kinds and choices, then calls ``verify_``.

Attribute values are read with ``op.attr("alpha")`` (the Python value, or the
declared default) and operands/results by name: ``op.operand("input")``,
``op.result_named("spikes")``; variadic operands by ``op.operand_group("inputs")``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .attributes import Attribute
from .core import Operation, OpResult, Region, Value
from .diagnostics import Location
from .types import (
    FloatType,
    IntegerType,
    TensorType,
    Type,
    is_spike_tensor,
)


class Trait(enum.Enum):
    """Properties of ops that generic code (verifier, interpreter, passes) relies on."""

    #: Results at step t are the operands at step t-1 (``snn.delay``): breaks cycles.
    DELAYED = "delayed"
    #: Carries state from step to step (neurons, delays).
    STATEFUL = "stateful"
    #: No side effects and no state: removable when unused, foldable when operands are constant.
    PURE = "pure"
    #: Holds a graph region (forward references allowed, cycles must pass a DELAYED op).
    GRAPH_REGION = "graph_region"
    #: Graph input / output markers.
    GRAPH_INPUT = "graph_input"
    GRAPH_OUTPUT = "graph_output"
    #: A constant: results are determined by attributes alone.
    CONSTANT = "constant"


# --------------------------------------------------------------------------- constraints


@dataclass(frozen=True)
class TypeConstraint:
    """A named predicate on types, e.g. ``FloatTensor``."""

    description: str
    predicate: Callable[[Type], bool]

    def __call__(self, t: Type) -> bool:
        return self.predicate(t)


AnyType = TypeConstraint("any type", lambda t: True)
AnyTensor = TypeConstraint("tensor", lambda t: isinstance(t, TensorType))
FloatTensor = TypeConstraint("float tensor", lambda t: isinstance(t, TensorType) and isinstance(t.element, FloatType))
IntTensor = TypeConstraint("integer tensor", lambda t: isinstance(t, TensorType) and isinstance(t.element, IntegerType))
SpikeTensor = TypeConstraint("spike tensor (i1 or si2 elements)", is_spike_tensor)
#: Float tensors or spike tensors (what float-level synapses accept).
NumericTensor = AnyTensor


@dataclass(frozen=True)
class Operand:
    name: str
    constraint: TypeConstraint = AnyTensor
    variadic: bool = False
    optional: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Result:
    name: str
    constraint: TypeConstraint = AnyTensor
    variadic: bool = False
    doc: str = ""


_NO_DEFAULT = object()


@dataclass(frozen=True)
class Attr:
    """An attribute declaration.

    ``kind`` is the Attribute class (or tuple of classes) the value must be;
    ``default`` (a Python value) makes it optional; ``choices`` restricts the Python
    value; ``check`` is an extra predicate on the attribute with its ``check_doc``.
    """

    name: str
    kind: type[Attribute] | tuple[type[Attribute], ...]
    default: Any = field(default=_NO_DEFAULT)
    choices: tuple[Any, ...] | None = None
    doc: str = ""
    check: Callable[[Attribute], bool] | None = None
    check_doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT


# --------------------------------------------------------------------------- OpDef


class OpDef(Operation):
    """Base class of registered ops."""

    registry: ClassVar[dict[str, type[OpDef]]] = {}

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    # Subclasses declare ``operands``, ``results`` and ``attributes`` (tuples of
    # Operand/Result/Attr); __init_subclass__ moves them to ``_operand_defs`` etc.
    num_regions: ClassVar[int] = 0
    traits: ClassVar[frozenset[Trait]] = frozenset()

    # The instance attributes ``operands``/``results``/``attributes`` of Operation
    # shadow the declarations above on instances; declarations are read from the
    # class through these accessors.
    @classmethod
    def operand_defs(cls) -> tuple[Operand, ...]:
        return cls.__dict__.get("_operand_defs", ())

    @classmethod
    def result_defs(cls) -> tuple[Result, ...]:
        return cls.__dict__.get("_result_defs", ())

    @classmethod
    def attr_defs(cls) -> tuple[Attr, ...]:
        return cls.__dict__.get("_attr_defs", ())

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Move declarations out of the way of Operation's instance attributes.
        for decl, store in (("operands", "_operand_defs"), ("results", "_result_defs"), ("attributes", "_attr_defs")):
            value = cls.__dict__.get(decl)
            if value is not None and not isinstance(value, property):
                setattr(cls, store, tuple(value))
                delattr(cls, decl)
            elif store not in cls.__dict__:
                # inherit from a parent OpDef
                for base in cls.__mro__[1:]:
                    if store in base.__dict__:
                        setattr(cls, store, base.__dict__[store])
                        break
        if cls.name:
            if cls.name in OpDef.registry and OpDef.registry[cls.name] is not cls:
                raise TypeError(f"op {cls.name} declared twice")
            OpDef.registry[cls.name] = cls
            if not cls.summary and cls.__doc__:
                cls.summary = cls.__doc__.strip().splitlines()[0]

    # ------------------------------------------------------------------ creation

    @classmethod
    def create(
        cls,
        operands: Sequence[Value] = (),
        result_types: Sequence[Type] = (),
        attributes: dict[str, Any] | None = None,
        regions: Sequence[Region] = (),
        location: Location | None = None,
    ) -> OpDef:
        """Build an instance; attributes may be given as Python values or Attributes."""
        return cls(operands=operands, result_types=result_types, attributes=attributes, regions=regions, location=location)

    # ------------------------------------------------------------------ accessors

    def attr(self, name: str) -> Any:
        """The Python value of attribute ``name``, or its declared default."""
        a = self.get_attr(name)
        if a is not None:
            return a.value
        for d in type(self).attr_defs():
            if d.name == name:
                if d.required:
                    raise KeyError(f"{self.op_name}: required attribute '{name}' is missing")
                return d.default
        raise KeyError(f"{self.op_name} declares no attribute '{name}'")

    def _segments(self, defs: Sequence[Operand | Result], count: int) -> dict[str, slice]:
        """Split ``count`` values among declarations (at most one variadic/optional group)."""
        variable = [i for i, d in enumerate(defs) if d.variadic or getattr(d, "optional", False)]
        fixed = len(defs) - len(variable)
        out: dict[str, slice] = {}
        if len(variable) > 1:
            raise TypeError(f"{self.op_name}: more than one variadic group is not supported")
        var_len = count - fixed
        pos = 0
        for d in defs:
            n = var_len if (d.variadic or getattr(d, "optional", False)) else 1
            out[d.name] = slice(pos, pos + max(n, 0))
            pos += max(n, 0)
        return out

    def operand(self, name: str) -> Value:
        sl = self._segments(type(self).operand_defs(), len(self._operands))[name]
        vals = self._operands[sl]
        if len(vals) != 1:
            raise KeyError(f"{self.op_name}: operand '{name}' is absent or variadic")
        return vals[0]

    def optional_operand(self, name: str) -> Value | None:
        sl = self._segments(type(self).operand_defs(), len(self._operands))[name]
        vals = self._operands[sl]
        return vals[0] if vals else None

    def operand_group(self, name: str) -> list[Value]:
        sl = self._segments(type(self).operand_defs(), len(self._operands))[name]
        return list(self._operands[sl])

    def result_named(self, name: str) -> OpResult:
        sl = self._segments(type(self).result_defs(), len(self.results))[name]
        return self.results[sl][0]

    @classmethod
    def has_trait(cls, trait: Trait) -> bool:
        return trait in cls.traits


def lookup_op(name: str) -> type[OpDef] | None:
    return OpDef.registry.get(name)


def has_trait(op: Operation, trait: Trait) -> bool:
    return isinstance(op, OpDef) and trait in type(op).traits


def make_op(
    name: str,
    operands: Sequence[Value] = (),
    result_types: Sequence[Type] = (),
    attributes: dict[str, Any] | None = None,
    regions: Sequence[Region] = (),
    location: Location | None = None,
    properties: dict[str, Any] | None = None,
) -> Operation:
    """Build an op by name: an instance of its registered class, else a generic op."""
    cls = OpDef.registry.get(name)
    if cls is not None and properties is None:
        return cls(operands=operands, result_types=result_types, attributes=attributes, regions=regions, location=location)
    op = Operation(
        operands=operands,
        result_types=result_types,
        attributes=attributes,
        regions=regions,
        location=location,
        properties=properties,
        name=name,
    )
    return op


@dataclass(frozen=True)
class Dialect:
    """A dialect: its name, a one-line description and its op classes."""

    name: str
    description: str
    ops: tuple[type[OpDef], ...]
