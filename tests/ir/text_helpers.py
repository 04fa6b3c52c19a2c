"""Helpers for the IR text tests: locating real MLIR, and hypothesis strategies for random modules."""

from __future__ import annotations

import math
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from snnc.ir import (
    ArrayAttr,
    Block,
    BoolAttr,
    DenseArrayAttr,
    DenseElementsAttr,
    DenseResourceAttr,
    DictionaryAttr,
    FloatAttr,
    FloatType,
    FunctionType,
    IndexType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    NoneType,
    OpaqueAttr,
    OpaqueType,
    Region,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    TypeAttr,
    UnitAttr,
)
from snnc.ir.core import Operation
from snnc.ir.diagnostics import CallSiteLoc, FileLineColLoc, FusedLoc, NameLoc, UnknownLoc
from snnc.ir.types import numpy_dtype

REPO = Path(__file__).resolve().parents[2]
MLIR_FLAGS = ("--allow-unregistered-dialect", "--mlir-print-op-generic")


def find_mlir_opt() -> str | None:
    """``torch-mlir-opt`` from the venv, PATH, or the torch_mlir wheel's ``_mlir_libs``."""
    candidates = [REPO / ".venv" / "bin", Path(sys.executable).parent]
    path = os.pathsep.join([str(c) for c in candidates] + [os.environ.get("PATH", "")])
    found = shutil.which("torch-mlir-opt", path=path)
    if found:
        return found
    try:
        import torch_mlir  # noqa: PLC0415
    except ImportError:
        return None
    for base in getattr(torch_mlir, "__path__", []):
        exe = Path(base) / "_mlir_libs" / "torch-mlir-opt"
        if exe.is_file() and os.access(exe, os.X_OK):
            return str(exe)
    return None


def run_mlir_opt(exe: str, text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([exe, *MLIR_FLAGS, *extra], input=text, capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------- strategies

SCALAR_INT_TYPES = [
    IntegerType(1),
    IntegerType(8),
    IntegerType(16),
    IntegerType(32),
    IntegerType(64),
    IntegerType(8, "s"),
    IntegerType(32, "u"),
    IntegerType(2, "s"),
]
FLOAT_TYPES = [FloatType(16), FloatType(32), FloatType(64)]
OPAQUE_TYPES = [
    OpaqueType("torch", "int"),
    OpaqueType("torch", "vtensor<[2,3],f32>"),
    OpaqueType("torch", "list<int>"),
    OpaqueType("foo", 'bar<a<b, "s>">, c>'),
    OpaqueType("foo", "fn<(i32) -> i32>"),
]

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_$.]{0,8}", fullmatch=True)
names = st.one_of(identifiers, st.text(min_size=1, max_size=8))


def scalar_types() -> st.SearchStrategy:
    return st.sampled_from(SCALAR_INT_TYPES + FLOAT_TYPES + [IndexType(), NoneType()])


def tensor_types(elements: st.SearchStrategy | None = None, static: bool = False) -> st.SearchStrategy:
    dims = st.integers(0, 4) if static else st.one_of(st.integers(0, 4), st.just(-1))
    elt = elements if elements is not None else st.sampled_from(SCALAR_INT_TYPES + FLOAT_TYPES)
    return st.builds(lambda shape, e: TensorType(tuple(shape), e), st.lists(dims, max_size=3), elt)


def types() -> st.SearchStrategy:
    base = st.one_of(scalar_types(), tensor_types(), st.sampled_from(OPAQUE_TYPES))
    fn = st.builds(
        lambda i, r: FunctionType(tuple(i), tuple(r)), st.lists(base, max_size=2), st.lists(base, max_size=2)
    )
    return st.one_of(base, base, base, fn)


def _finite_float(bits_strategy, width: int) -> st.SearchStrategy:
    def conv(bits: int) -> float:
        if width == 64:
            return struct.unpack("<d", struct.pack("<Q", bits))[0]
        if width == 32:
            return struct.unpack("<f", struct.pack("<I", bits))[0]
        return float(np.array(bits, dtype=np.uint16).view(np.float16))

    return bits_strategy.map(conv).filter(math.isfinite)


def float_values(t: FloatType) -> st.SearchStrategy:
    nice = st.sampled_from([0.0, -0.0, 1.0, 0.5, -2.5, 0.1, 1e-10, 3.14159] + ([123456789.0] if t.width > 16 else []))
    return st.one_of(nice, _finite_float(st.integers(0, 2**t.width - 1), t.width))


def int_values(t: IntegerType) -> st.SearchStrategy:
    lo, hi = t.value_range()
    if t.width == 1:
        return st.integers(0, 1)
    return st.integers(lo, hi)


@st.composite
def dense_data(draw, t: TensorType, big: bool = True) -> np.ndarray:  # type: ignore[no-untyped-def]
    n = t.num_elements
    elt = t.element
    kind = draw(st.sampled_from(["random", "splat", "random"]))
    if isinstance(elt, FloatType):
        vals = float_values(elt)
    else:
        vals = int_values(elt)
    if kind == "splat" or n == 0:
        v = draw(vals)
        return np.full(t.shape, v, dtype=numpy_dtype(elt))
    data = draw(st.lists(vals, min_size=n, max_size=n))
    return np.array(data, dtype=numpy_dtype(elt)).reshape(t.shape)


@st.composite
def dense_elements(draw) -> DenseElementsAttr:  # type: ignore[no-untyped-def]
    elt = draw(st.sampled_from([e for e in SCALAR_INT_TYPES if e.width in (1, 8, 16, 32, 64)] + FLOAT_TYPES))
    if draw(st.integers(0, 5)) == 0:
        shape: tuple[int, ...] = (draw(st.integers(101, 130)),)  # hex form
    else:
        shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    t = TensorType(shape, elt)
    return DenseElementsAttr(t, draw(dense_data(t)))


@st.composite
def resources(draw) -> DenseResourceAttr:  # type: ignore[no-untyped-def]
    elt = draw(st.sampled_from([IntegerType(8), IntegerType(32), IntegerType(1), FloatType(32), FloatType(64)]))
    t = TensorType(tuple(draw(st.lists(st.integers(0, 3), max_size=2))), elt)
    handle = draw(st.sampled_from(["w", "w_1", "blob.x", "a-b", "torch_tensor_3_torch.float32_1"]))
    return DenseResourceAttr(handle, t, draw(dense_data(t)))


@st.composite
def dense_arrays(draw) -> DenseArrayAttr:  # type: ignore[no-untyped-def]
    elt = draw(
        st.sampled_from(
            [IntegerType(1), IntegerType(8), IntegerType(32), IntegerType(64), FloatType(32), FloatType(64)]
        )
    )
    vals = float_values(elt) if isinstance(elt, FloatType) else int_values(elt)
    return DenseArrayAttr(elt, tuple(draw(st.lists(vals, max_size=4))))


@st.composite
def int_attrs(draw) -> IntegerAttr | BoolAttr:  # type: ignore[no-untyped-def]
    t = draw(st.sampled_from(SCALAR_INT_TYPES + [IndexType()]))
    if isinstance(t, IndexType):
        return IntegerAttr(draw(st.integers(-(2**63), 2**63 - 1)), t)
    if t.width == 1:
        return BoolAttr(draw(st.booleans()))
    return IntegerAttr(draw(int_values(t)), t)


@st.composite
def float_attrs(draw) -> FloatAttr:  # type: ignore[no-untyped-def]
    t = draw(st.sampled_from(FLOAT_TYPES))
    return FloatAttr(draw(float_values(t)), t)


def leaf_attributes() -> st.SearchStrategy:
    return st.one_of(
        int_attrs(),
        float_attrs(),
        st.builds(BoolAttr, st.booleans()),
        st.builds(StringAttr, st.text(max_size=12)),
        st.just(UnitAttr()),
        dense_arrays(),
        st.builds(TypeAttr, types()),
        dense_elements(),
        resources(),
        st.builds(SymbolRefAttr, names),
        st.sampled_from([OpaqueAttr('#foo<"x">'), OpaqueAttr("#foo.bar<1, [2]>"), OpaqueAttr("#xdialect.x<a<b>>")]),
    )


def attributes() -> st.SearchStrategy:
    return st.recursive(
        leaf_attributes(),
        lambda inner: st.one_of(
            st.builds(lambda xs: ArrayAttr(tuple(xs)), st.lists(inner, max_size=3)),
            st.builds(lambda d: DictionaryAttr(tuple(d.items())), st.dictionaries(names, inner, max_size=3)),
        ),
        max_leaves=6,
    )


def locations(fused: bool = True) -> st.SearchStrategy:
    flc = st.builds(FileLineColLoc, st.text(min_size=1, max_size=8), st.integers(0, 500), st.integers(0, 80))
    base = st.one_of(st.just(UnknownLoc()), flc, st.builds(NameLoc, names, st.one_of(st.none(), flc)))
    loc = st.one_of(base, st.builds(CallSiteLoc, base, base))
    if fused:
        loc = st.one_of(
            loc, st.builds(lambda xs: FusedLoc(tuple(xs)), st.lists(flc, min_size=2, max_size=3, unique=True))
        )
    return loc


OP_NAMES = ["test.op", "test.other", "foo.bar.baz", "xdialect.op"]  # not registered in torch-mlir-opt


@st.composite
def modules(draw, with_locations: bool = False, max_depth: int = 2, mlir_dominance: bool = False) -> ModuleOp:  # type: ignore[no-untyped-def]
    """A random module of unregistered ops: nested regions, blocks with arguments, forward
    references, multi-result ops, properties, every kind of attribute, resource blobs.

    ``mlir_dominance``: no forward references inside multi-block regions, where MLIR checks
    SSA dominance for unregistered ops (single-block regions and the module body are graph-like).
    """
    loc_strategy = locations() if with_locations else st.just(UnknownLoc())
    attr_dicts = st.dictionaries(identifiers | names, attributes(), max_size=3)

    def make_block(visible: list, depth: int, entry: bool, min_ops: int = 0, ssa: bool = False):  # type: ignore[no-untyped-def]
        block = Block()
        nargs = draw(st.integers(0, 2)) if depth else 0  # the module body takes no arguments
        for _ in range(nargs):
            block.add_arg(draw(types()), draw(loc_strategy))
        specs = []
        for _ in range(draw(st.integers(max(min_ops, 0 if depth else 1), 4))):
            specs.append(
                Operation(
                    result_types=draw(st.lists(types(), max_size=3)),
                    attributes=draw(attr_dicts),
                    properties=draw(st.one_of(st.none(), attr_dicts)),
                    location=draw(loc_strategy),
                    name=draw(st.sampled_from(OP_NAMES)),
                )
            )
        pool = visible + list(block.args) + [r for op in specs for r in op.results]
        if ssa:
            pool = visible + list(block.args)
        for op in specs:
            if depth < max_depth and draw(st.integers(0, 3)) == 0:
                own = set(op.results)
                for _ in range(draw(st.integers(1, 2))):
                    region = Region()
                    nblocks = draw(st.integers(0, 2))
                    for bi in range(nblocks):
                        # MLIR wants an op (a terminator) in every block of a multi-block region.
                        region.add_block(
                            make_block(
                                [v for v in pool if v not in own],
                                depth + 1,
                                bi == 0,
                                min_ops=1 if nblocks > 1 else 0,
                                ssa=mlir_dominance and nblocks > 1,
                            )
                        )
                    op.add_region(region)
            if pool:
                operands = draw(st.lists(st.sampled_from(pool), max_size=3))
                op.set_operands(operands)
            block.append(op)
            if ssa:
                pool = pool + list(op.results)
        return block

    module = ModuleOp(regions=[Region([make_block([], 0, True)])], location=draw(loc_strategy))
    return module
