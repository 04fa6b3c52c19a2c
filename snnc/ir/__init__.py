"""The snnc IR core: types, attributes, values, ops, blocks, regions, text, verifier.

Knows nothing about spikes: dialects (``snnc.dialects``) declare the ops.
"""

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
)
from .builder import Builder
from .builtin import ModuleOp
from .core import Block, BlockArgument, Operation, OpResult, Region, Use, Value
from .diagnostics import (
    CallSiteLoc,
    Diagnostic,
    DiagnosticError,
    FileLineColLoc,
    FileLoc,
    FusedLoc,
    Location,
    NameLoc,
    SnncError,
    UnknownLoc,
    error,
)
from .graph import step_order
from .opdef import Attr, Dialect, OpDef, Operand, Result, Trait, TypeConstraint, make_op
from .types import (
    FloatType,
    FunctionType,
    IndexType,
    IntegerType,
    NoneType,
    OpaqueType,
    TensorType,
    Type,
    f16,
    f32,
    f64,
    i1,
    i8,
    i16,
    i32,
    i64,
    si2,
    tensor,
    ternary,
)
from .parser import parse_file, parse_module
from .printer import print_module, value_names
from .verifier import verify

__all__ = [name for name in dir() if not name.startswith("_")]
