"""SSA values, operations, blocks and regions, with use-def lists.

The structure is MLIR's: an :class:`Operation` has operands (SSA :class:`Value` s),
typed results, a dictionary of attributes, optionally MLIR "properties" (the
``<{...}>`` inherent attributes that newer MLIR prints in generic form) and regions;
a :class:`Region` holds :class:`Block` s; a block holds block arguments and an ordered
list of operations.

Every value knows its uses (``value.uses``, a list of :class:`Use`), so rewrites are
``value.replace_all_uses_with(other)`` and ``op.erase()``.

Operations of registered dialects are instances of their op class (see
:mod:`snnc.ir.opdef`); an op of an unknown dialect (``torch.aten.mm``) is a plain
:class:`Operation` that keeps its name, so any generic MLIR text can be read,
transformed and printed back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .attributes import Attribute, attr_from_python
from .diagnostics import DiagnosticError, Location, UnknownLoc, error
from .types import Type

if TYPE_CHECKING:  # pragma: no cover
    pass


@dataclass(frozen=True)
class Use:
    """``operation.operands[index]`` is the used value."""

    operation: Operation
    index: int


class Value:
    """An SSA value: an op result or a block argument."""

    __slots__ = ("type", "uses", "name_hint")

    def __init__(self, type_: Type, name_hint: str | None = None) -> None:
        self.type: Type = type_
        self.uses: list[Use] = []
        self.name_hint = name_hint

    @property
    def owner(self) -> Operation | Block:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def users(self) -> list[Operation]:
        """Distinct operations that use this value, in use order."""
        seen: dict[int, Operation] = {}
        for u in self.uses:
            seen.setdefault(id(u.operation), u.operation)
        return list(seen.values())

    def has_uses(self) -> bool:
        return bool(self.uses)

    def replace_all_uses_with(self, new: Value) -> None:
        if new is self:
            return
        for use in list(self.uses):
            use.operation.set_operand(use.index, new)

    def defining_op(self) -> Operation | None:
        return None


class OpResult(Value):
    __slots__ = ("op", "index")

    def __init__(self, type_: Type, op: Operation, index: int) -> None:
        super().__init__(type_)
        self.op = op
        self.index = index

    @property
    def owner(self) -> Operation:
        return self.op

    def defining_op(self) -> Operation | None:
        return self.op

    def __repr__(self) -> str:
        return f"<OpResult #{self.index} of {self.op.name}: {self.type}>"


class BlockArgument(Value):
    __slots__ = ("block", "index", "location")

    def __init__(self, type_: Type, block: Block, index: int, location: Location | None = None) -> None:
        super().__init__(type_)
        self.block = block
        self.index = index
        self.location = location

    @property
    def owner(self) -> Block:
        return self.block

    def __repr__(self) -> str:
        return f"<BlockArgument #{self.index}: {self.type}>"


class Operation:
    """A generic operation.  Registered ops subclass it (see :mod:`snnc.ir.opdef`)."""

    #: The op name for registered op classes (``"snn.lif"``); generic ops set ``self._name``.
    name: ClassVar[str] = ""

    def __init__(
        self,
        operands: Sequence[Value] = (),
        result_types: Sequence[Type] = (),
        attributes: dict[str, Attribute | Any] | None = None,
        regions: Sequence[Region] = (),
        location: Location | None = None,
        properties: dict[str, Attribute | Any] | None = None,
        name: str | None = None,
    ) -> None:
        if name is not None:
            self._name = name
        elif not type(self).name:
            raise TypeError("a generic Operation needs a name")
        self._operands: list[Value] = []
        for v in operands:
            self._append_operand(v)
        self.results: list[OpResult] = [OpResult(t, self, i) for i, t in enumerate(result_types)]
        self.attributes: dict[str, Attribute] = {k: attr_from_python(v) for k, v in (attributes or {}).items()}
        self.properties: dict[str, Attribute] | None = (
            None if properties is None else {k: attr_from_python(v) for k, v in properties.items()}
        )
        self.regions: list[Region] = []
        for r in regions:
            self.add_region(r)
        self.location: Location = location if location is not None else UnknownLoc()
        self.parent: Block | None = None

    # ------------------------------------------------------------------ identity

    @property
    def op_name(self) -> str:
        n = getattr(self, "_name", None)
        return n if n is not None else type(self).name

    @property
    def dialect(self) -> str:
        return self.op_name.split(".", 1)[0]

    def __repr__(self) -> str:
        return f"<{self.op_name} at {self.location.to_mlir() if not isinstance(self.location, UnknownLoc) else '?'}>"

    # ------------------------------------------------------------------ operands

    @property
    def operands(self) -> tuple[Value, ...]:
        return tuple(self._operands)

    def _append_operand(self, v: Value) -> None:
        if not isinstance(v, Value):
            raise TypeError(f"operand must be a Value, got {type(v).__name__}")
        v.uses.append(Use(self, len(self._operands)))
        self._operands.append(v)

    def set_operand(self, index: int, value: Value) -> None:
        old = self._operands[index]
        old.uses = [u for u in old.uses if not (u.operation is self and u.index == index)]
        self._operands[index] = value
        value.uses.append(Use(self, index))

    def set_operands(self, values: Sequence[Value]) -> None:
        self.drop_operands()
        for v in values:
            self._append_operand(v)

    def drop_operands(self) -> None:
        for i, v in enumerate(self._operands):
            v.uses = [u for u in v.uses if not (u.operation is self and u.index == i)]
        self._operands = []

    # ------------------------------------------------------------------ results

    @property
    def result(self) -> OpResult:
        if len(self.results) != 1:
            raise ValueError(f"{self.op_name} has {len(self.results)} results, not one")
        return self.results[0]

    @property
    def result_types(self) -> tuple[Type, ...]:
        return tuple(r.type for r in self.results)

    # ------------------------------------------------------------------ attributes

    def get_attr(self, name: str) -> Attribute | None:
        if name in self.attributes:
            return self.attributes[name]
        if self.properties is not None and name in self.properties:
            return self.properties[name]
        return None

    def set_attr(self, name: str, value: Attribute | Any) -> None:
        self.attributes[name] = attr_from_python(value)

    # ------------------------------------------------------------------ regions

    def add_region(self, region: Region) -> Region:
        if region.parent is not None:
            raise ValueError("region already belongs to an operation")
        region.parent = self
        self.regions.append(region)
        return region

    @property
    def body(self) -> Block:
        """The single block of the single region (graph and module ops)."""
        if not self.regions or not self.regions[0].blocks:
            raise ValueError(f"{self.op_name} has no body block")
        return self.regions[0].blocks[0]

    def walk(self) -> Iterator[Operation]:
        """This op and every op nested in it, pre-order."""
        yield self
        for region in self.regions:
            for block in region.blocks:
                for op in list(block.ops):
                    yield from op.walk()

    # ------------------------------------------------------------------ structure

    @property
    def parent_op(self) -> Operation | None:
        if self.parent is None or self.parent.parent is None:
            return None
        return self.parent.parent.parent

    def detach(self) -> None:
        if self.parent is not None:
            self.parent.ops.remove(self)
            self.parent = None

    def erase(self, *, check_uses: bool = True) -> None:
        """Remove this op: drop its operands' uses and detach it.  Results must be unused."""
        if check_uses:
            for r in self.results:
                if r.uses:
                    raise ValueError(f"cannot erase {self.op_name}: result #{r.index} still has uses")
        for region in self.regions:
            for block in region.blocks:
                for op in list(block.ops):
                    op.erase(check_uses=False)
        self.drop_operands()
        self.detach()

    def replace_with(self, values: Sequence[Value]) -> None:
        """Replace every result's uses with ``values`` and erase this op."""
        if len(values) != len(self.results):
            raise ValueError("replace_with needs one value per result")
        for r, v in zip(self.results, values, strict=True):
            r.replace_all_uses_with(v)
        self.erase()

    def clone(self, mapping: dict[Value, Value] | None = None) -> Operation:
        """A deep copy; operands are looked up in ``mapping`` (values not in it are kept)."""
        mapping = {} if mapping is None else mapping
        new_regions = [r.clone(mapping) for r in self.regions]
        cls = type(self)
        new = cls.__new__(cls)
        Operation.__init__(
            new,
            operands=[mapping.get(v, v) for v in self._operands],
            result_types=self.result_types,
            attributes=dict(self.attributes),
            regions=new_regions,
            location=self.location,
            properties=None if self.properties is None else dict(self.properties),
            name=getattr(self, "_name", None),
        )
        for old_r, new_r in zip(self.results, new.results, strict=True):
            mapping[old_r] = new_r
            new_r.name_hint = old_r.name_hint
        return new

    # ------------------------------------------------------------------ diagnostics

    def emit_error(self, message: str) -> DiagnosticError:
        """A diagnostic located at this op, to ``raise``: ``'snn.lif' op <message>``."""
        return error(f"'{self.op_name}' op {message}", self.location)

    def verify_(self) -> None:
        """Op-specific verification; registered ops override it."""


class Block:
    """An ordered list of operations with typed arguments."""

    def __init__(self, arg_types: Iterable[Type] = ()) -> None:
        self.args: list[BlockArgument] = []
        self.ops: list[Operation] = []
        self.parent: Region | None = None
        for t in arg_types:
            self.add_arg(t)

    def add_arg(self, t: Type, location: Location | None = None) -> BlockArgument:
        arg = BlockArgument(t, self, len(self.args), location)
        self.args.append(arg)
        return arg

    def append(self, op: Operation) -> Operation:
        self._adopt(op)
        self.ops.append(op)
        return op

    def insert(self, index: int, op: Operation) -> Operation:
        self._adopt(op)
        self.ops.insert(index, op)
        return op

    def insert_before(self, anchor: Operation, op: Operation) -> Operation:
        return self.insert(self.index_of(anchor), op)

    def insert_after(self, anchor: Operation, op: Operation) -> Operation:
        return self.insert(self.index_of(anchor) + 1, op)

    def index_of(self, op: Operation) -> int:
        for i, o in enumerate(self.ops):
            if o is op:
                return i
        raise ValueError(f"{op.op_name} is not in this block")

    def _adopt(self, op: Operation) -> None:
        if op.parent is not None:
            raise ValueError(f"{op.op_name} already belongs to a block")
        op.parent = self

    @property
    def parent_op(self) -> Operation | None:
        return self.parent.parent if self.parent is not None else None

    def clone(self, mapping: dict[Value, Value]) -> Block:
        new = Block()
        for a in self.args:
            na = new.add_arg(a.type, a.location)
            mapping[a] = na
        # Graph regions allow forward references: create results first, then fix operands.
        clones = [op.clone(mapping) for op in self.ops]
        for op in clones:
            for i, v in enumerate(op.operands):
                if v in mapping:
                    op.set_operand(i, mapping[v])
            new.append(op)
        return new


class Region:
    def __init__(self, blocks: Iterable[Block] = ()) -> None:
        self.blocks: list[Block] = []
        self.parent: Operation | None = None
        for b in blocks:
            self.add_block(b)

    def add_block(self, block: Block) -> Block:
        if block.parent is not None:
            raise ValueError("block already belongs to a region")
        block.parent = self
        self.blocks.append(block)
        return block

    def clone(self, mapping: dict[Value, Value]) -> Region:
        return Region([b.clone(mapping) for b in self.blocks])
