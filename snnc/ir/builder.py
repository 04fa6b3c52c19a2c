"""Builder: creates ops at an insertion point.

    b = Builder.at_end(graph.body)
    x = b.create(snn.Input, result_types=[tensor((4,))], attributes={"name": "x", "index": 0}).result
    y = b.op("nn.add", [x, x], [x.type]).result      # by name (generic op if unregistered)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from .core import Block, Operation, Region, Value
from .diagnostics import Location
from .opdef import OpDef, make_op
from .types import Type

OpT = TypeVar("OpT", bound=OpDef)


class Builder:
    def __init__(self, block: Block, index: int | None = None, location: Location | None = None) -> None:
        self.block = block
        self.index = index  # None: append at the end
        self.location = location

    @classmethod
    def at_end(cls, block: Block, location: Location | None = None) -> Builder:
        return cls(block, None, location)

    @classmethod
    def before(cls, op: Operation, location: Location | None = None) -> Builder:
        assert op.parent is not None, "op is not in a block"
        return cls(op.parent, op.parent.index_of(op), location if location is not None else op.location)

    @classmethod
    def after(cls, op: Operation, location: Location | None = None) -> Builder:
        assert op.parent is not None, "op is not in a block"
        return cls(op.parent, op.parent.index_of(op) + 1, location if location is not None else op.location)

    def insert(self, op: Operation) -> Operation:
        if self.index is None:
            self.block.append(op)
        else:
            self.block.insert(self.index, op)
            self.index += 1
        return op

    def create(
        self,
        cls: type[OpT],
        operands: Sequence[Value] = (),
        result_types: Sequence[Type] = (),
        attributes: dict[str, Any] | None = None,
        regions: Sequence[Region] = (),
        location: Location | None = None,
    ) -> OpT:
        op = cls.create(operands, result_types, attributes, regions, location if location is not None else self.location)
        self.insert(op)
        return op

    def op(
        self,
        name: str,
        operands: Sequence[Value] = (),
        result_types: Sequence[Type] = (),
        attributes: dict[str, Any] | None = None,
        regions: Sequence[Region] = (),
        location: Location | None = None,
    ) -> Operation:
        op = make_op(name, operands, result_types, attributes, regions, location if location is not None else self.location)
        self.insert(op)
        return op
