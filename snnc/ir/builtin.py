"""The ``builtin`` dialect: ``builtin.module``.

A module holds one region with one block of top-level ops (``snn.graph`` networks,
or ``func.func`` from torch-mlir).  The text form is MLIR's generic one::

    "builtin.module"() ({
      ...
    }) : () -> ()
"""

from __future__ import annotations

from collections.abc import Iterator

from .attributes import StringAttr
from .core import Block, Operation, Region
from .opdef import Attr, OpDef


class ModuleOp(OpDef):
    """A top-level container of operations (MLIR's ``builtin.module``).

    Semantics: none by itself; holds ops in one block.  ``sym_name`` is optional.
    """

    name = "builtin.module"
    attributes = (Attr("sym_name", StringAttr, default=None, doc="optional module name"),)
    num_regions = 1

    @classmethod
    def empty(cls) -> ModuleOp:
        m = cls(regions=[Region([Block()])])
        return m

    @property
    def ops(self) -> list[Operation]:
        return self.body.ops

    def top_level(self, name: str) -> Iterator[Operation]:
        for op in self.body.ops:
            if op.op_name == name:
                yield op

    def verify_(self) -> None:
        if len(self.regions) != 1 or len(self.regions[0].blocks) != 1:
            raise self.emit_error("expects one region with one block")
        if self.body.args:
            raise self.emit_error("body block takes no arguments")
