"""``convert-torch-to-snn``: the torch dialect (torch-mlir's import of a ``torch.export``
program, weights bound by :mod:`snnc.frontends.torch_importer`) into one ``snn.graph``.

The function ``main`` computes the model on inputs with leading time/batch axes; the graph
computes ONE time step of ONE sample.  Every torch value is tracked as its IR value plus
its *lead*: the leading axes that are time (``T``), batch (``B``), the two merged
(``TB``, SpikingJelly's ``flatten(0, 1)``) or an inserted size-1 axis (``1``).  The IR
value's shape is the torch shape without the lead.  The layout of the inputs' lead comes
from ``time-layout`` (``step``: ``[B, ...]``; ``TB``: ``[T, B, ...]``; ``BT``: ``[B, T, ...]``).

Rules (each violation is a diagnostic at the op's Python source line):

* ops act on the per-sample axes only; an op that reduces, concatenates, indexes or moves
  data across the batch axis is rejected, and so is any op that mixes time steps,
  except a final readout: ``mean``/``sum`` over ``T`` or selecting the last step
  (``x[-1]``), which may only be followed by shape ops and affine ops (linear, conv,
  batch norm, scaling; for ``sum`` only bias-free ones) before an output.  The readout
  becomes the ``snn.output``'s ``readout`` attribute.  The one other time mixing accepted is
  a causal time filter, ``einsum("ts,sbhn->tbhn", tril(W), x)`` with a constant
  lower-triangular ``W [T, T]`` over the model's time axis (SNN-ViT saccadic attention):
  it becomes ``snn.causal_filter``;
* multi-step neurons (``torch.ops.snnc.lif`` etc.) need the time axis first in their
  input; single-step neurons (``lif_step`` etc.) reject an input that still carries ``T``;
  a neuron's initial state must be the neuron's rest value (``v_init``, current 0), and its
  returned state may not be used;
* reshapes regroup the lead (``[T, B] <-> [T*B]``) or reshape the per-sample axes, never both.

Each aten op has one small converter in :data:`CONVERTERS`; an op without one is reported
as ``unsupported PyTorch operation 'aten.x'`` at the innermost Python frame of the model's
own code.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from ..dialects import nn, snn
from ..ir.attributes import (
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseElementsAttr,
    DenseResourceAttr,
    FloatAttr,
    IntegerAttr,
    StringAttr,
)
from ..ir.builder import Builder
from ..ir.builtin import ModuleOp
from ..ir.core import Operation, Value
from ..ir.diagnostics import CallSiteLoc, DiagnosticError, FileLineColLoc, FusedLoc, Location, NameLoc, error
from ..ir.types import (
    FloatType,
    IntegerType,
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
    is_spike_tensor,
    numpy_dtype,
    si2,
)
from .manager import Pass

TIME_LAYOUTS = ("step", "TB", "BT")
READOUTS = ("none", "sum", "mean", "last")

_VTENSOR = re.compile(r"^vtensor<\[([^\]]*)\],([a-z0-9]+)>$")
_ELEMENTS: dict[str, Type] = {
    "f32": f32,
    "f64": f64,
    "f16": f16,
    "i1": i1,
    "si8": i8,
    "si16": i16,
    "si32": i32,
    "si64": i64,
    "ui8": IntegerType(8, "u"),
}


def torch_tensor_type(t: Type) -> tuple[tuple[int, ...], Type] | None:
    """``(shape, element)`` of a ``!torch.vtensor<[..],dtype>``, None for other types."""
    if not isinstance(t, OpaqueType) or t.dialect != "torch":
        return None
    m = _VTENSOR.match(t.body.replace(" ", ""))
    if m is None:
        return None
    dims = tuple(-1 if d == "?" else int(d) for d in m.group(1).split(",") if d != "")
    elt = _ELEMENTS.get(m.group(2))
    if elt is None:
        return None
    return dims, elt


# =========================================================================== values


_NOT_CONST = object()


@dataclass
class TV:
    """A converted torch value.

    Tensors: ``value`` (the IR value, shape = ``sizes[len(lead):]``) with ``lead`` kinds, or
    ``array`` (a constant tensor, no lead), or ``fill`` (a constant-filled tensor of
    ``sizes``).  Non-tensors: ``const`` (int, float, bool, str, None or a list).
    """

    value: Value | None = None
    lead: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()
    element: Type | None = None
    array: np.ndarray | None = None
    attr: Attribute | None = None
    fill: float | None = None
    const: Any = _NOT_CONST
    readout: str | None = None

    @property
    def is_tensor(self) -> bool:
        return self.value is not None

    @property
    def is_const_tensor(self) -> bool:
        return self.array is not None or self.fill is not None

    @property
    def sample(self) -> tuple[int, ...]:
        return self.sizes[len(self.lead) :]

    def const_array(self) -> np.ndarray:
        if self.array is not None:
            return self.array
        assert self.fill is not None
        return np.full(self.sizes, self.fill, dtype=numpy_dtype(self.element or f32))


# =========================================================================== locations


def _frames(loc: Location | None) -> list[FileLineColLoc]:
    """The file/line frames of a location, innermost first."""
    if loc is None:
        return []
    if isinstance(loc, FileLineColLoc):
        return [loc]
    if isinstance(loc, CallSiteLoc):
        return _frames(loc.callee) + _frames(loc.caller)
    if isinstance(loc, NameLoc):
        return _frames(loc.child)
    if isinstance(loc, FusedLoc):
        out: list[FileLineColLoc] = []
        for sub in loc.locations:
            out += _frames(sub)
        return out
    return []


def _library_dirs() -> tuple[str, ...]:
    dirs = []
    try:
        import torch

        dirs.append(os.path.dirname(os.path.abspath(torch.__file__)))
    except ImportError:  # pragma: no cover
        pass
    dirs.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # snnc/
    return tuple(d + os.sep for d in dirs)


def user_location(loc: Location | None) -> Location | None:
    """The innermost frame of ``loc`` in the model's own code (not torch's, not snnc's)."""
    frames = _frames(loc)
    libs = _library_dirs()
    for f in frames:
        if not os.path.abspath(f.file).startswith(libs) and "site-packages" not in f.file:
            return FileLineColLoc(f.file, f.line, max(f.col, 1))
    for f in frames:
        if not os.path.abspath(f.file).startswith(libs):
            return FileLineColLoc(f.file, f.line, max(f.col, 1))
    return frames[0] if frames else loc


def _where(loc: Location | None) -> str:
    u = user_location(loc)
    if isinstance(u, FileLineColLoc):
        return f" (from {u.file}:{u.line})"
    return ""


# =========================================================================== context


@dataclass
class Ctx:
    builder: Builder
    op: Operation
    layout: str
    readout: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loc(self) -> Location:
        return self.op.location

    @property
    def ir_loc(self) -> Location:
        """Location of the ops built for this torch op: the model's own line first (what diagnostics of
        later passes show), then the full call stack torch.export recorded."""
        user = user_location(self.loc)
        if user is None or user == self.loc.file_line_col():
            return self.loc
        return FusedLoc((user, self.loc))

    def fail(self, message: str) -> DiagnosticError:
        return error(message + _where(self.loc), user_location(self.loc))

    def name(self) -> str:
        n = self.op.op_name
        if n == "torch.operator":
            p = self.op.get_attr("name")
            n = str(p.value) if p is not None else n
        return n[len("torch.") :] if n.startswith("torch.") else n

    def result_info(self, index: int = 0) -> tuple[tuple[int, ...], Type]:
        info = torch_tensor_type(self.op.results[index].type)
        if info is None:
            raise self.fail(f"'{self.name()}' result #{index} is not a tensor of a supported element type")
        return info

    def create(self, cls: type, operands: Sequence[Value], shape: Sequence[int], element: Type, **attrs: Any) -> Value:
        attributes = {k: v for k, v in attrs.items() if v is not None}
        op = self.builder.create(cls, operands, [TensorType(tuple(shape), element)], attributes, location=self.ir_loc)
        return op.results[0]


Converter = Callable[[Ctx, list[TV]], list[TV]]
CONVERTERS: dict[str, Converter] = {}


def converts(*names: str) -> Callable[[Converter], Converter]:
    def deco(fn: Converter) -> Converter:
        for n in names:
            CONVERTERS[n] = fn
        return fn

    return deco


# --------------------------------------------------------------------------- helpers


def _float_elt(ctx: Ctx, element: Type) -> Type:
    if isinstance(element, FloatType):
        return element
    return f32


def _scalar(ctx: Ctx, tv: TV, what: str) -> Any:
    if tv.const is _NOT_CONST:
        if tv.is_const_tensor and tv.const_array().size == 1:
            return tv.const_array().reshape(()).item()
        raise ctx.fail(f"'{ctx.name()}': {what} must be a constant")
    return tv.const


def _ints(ctx: Ctx, tv: TV, what: str) -> list[int]:
    v = _scalar(ctx, tv, what)
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v]
    return [int(v)]


def _tensor(ctx: Ctx, tv: TV, what: str = "operand") -> TV:
    if tv.value is None:
        raise ctx.fail(f"'{ctx.name()}': the {what} must be computed from the model's inputs (constant folding of this op is not supported)")
    return tv


def _materialize(ctx: Ctx, tv: TV, target_rank: int | None = None) -> Value:
    """An IR value for a tensor operand (a constant becomes ``nn.constant`` without its size-1 leading axes)."""
    if tv.value is not None:
        return tv.value
    arr = tv.const_array()
    if target_rank is not None:
        while arr.ndim > target_rank:
            if arr.shape[0] != 1:
                raise ctx.fail(f"'{ctx.name()}': a constant of shape {list(tv.sizes)} varies along the time or batch axis")
            arr = arr[0]
    if arr.ndim == 0 and (target_rank is None or target_rank >= 1):
        arr = arr.reshape(1)  # broadcasts the same; keeps constants at rank >= 1
    elt = tv.element if tv.element is not None else f32
    attr = _const_attr(arr, elt, "const")
    op = ctx.builder.create(nn.Constant, [], [attr.type], {"value": attr}, location=ctx.ir_loc)
    return op.results[0]


def _const_attr(arr: np.ndarray, elt: Type, hint: str) -> DenseElementsAttr | DenseResourceAttr:
    from ..dialects.common import weight_attr

    return weight_attr(np.asarray(arr, dtype=numpy_dtype(elt)), elt, hint=hint)


def _weight(ctx: Ctx, tv: TV, what: str) -> Attribute:
    """A parameter operand as a tensor attribute (the bound ``dense_resource`` when unchanged)."""
    if tv.array is None:
        raise ctx.fail(f"'{ctx.name()}': the {what} must be a parameter or constant of the model, not computed from the inputs")
    if tv.attr is not None:
        return tv.attr
    elt = tv.element if tv.element is not None else f32
    return _const_attr(tv.array, elt, what)


def _const_result(ctx: Ctx, arr: np.ndarray) -> TV:
    shape, elt = ctx.result_info()
    arr = np.asarray(arr, dtype=numpy_dtype(elt)).reshape(shape)
    return TV(array=arr, sizes=tuple(shape), element=elt)


def _norm(ctx: Ctx, axis: int, rank: int) -> int:
    if not -max(rank, 1) <= axis < max(rank, 1):
        raise ctx.fail(f"'{ctx.name()}': axis {axis} is out of range for rank {rank}")
    return axis % max(rank, 1)


def _lead_sizes(tv: TV) -> tuple[int, ...]:
    return tv.sizes[: len(tv.lead)]


def _check_readout_ok(ctx: Ctx, tvs: Sequence[TV], allowed: str) -> str | None:
    """The readout carried by the operands, if this op may carry it ('shape', 'affine', 'bias-free')."""
    modes = {tv.readout for tv in tvs if tv.readout is not None}
    if not modes:
        return None
    if len(modes) > 1:
        raise ctx.fail(f"'{ctx.name()}' combines values read out over time in different ways ({', '.join(sorted(modes))})")
    mode = modes.pop()
    ok = allowed == "shape" or (allowed == "affine" and mode in ("mean", "last")) or allowed == "bias-free"
    if not ok:
        raise ctx.fail(
            f"'{ctx.name()}' uses a value that was reduced over time ({mode}); only shape ops and affine ops may "
            "follow a readout over time (the graph computes one time step)"
        )
    return mode


def _with(tv: TV, value: Value, sizes: Sequence[int], lead: tuple[str, ...] | None = None, readout: str | None = None) -> TV:
    return TV(
        value=value,
        lead=tv.lead if lead is None else lead,
        sizes=tuple(sizes),
        element=value.type.element if isinstance(value.type, TensorType) else None,  # type: ignore[union-attr]
        readout=readout,
    )


# =========================================================================== structural ops


@converts("constant.int", "constant.float", "constant.bool", "constant.str", "constant.number")
def _constant(ctx: Ctx, args: list[TV]) -> list[TV]:
    a = ctx.op.get_attr("value")
    v = a.value if a is not None else None
    if isinstance(a, IntegerAttr) and isinstance(a.type, IntegerType) and a.type.width == 1:
        v = bool(v)
    return [TV(const=v)]


@converts("constant.none")
def _none(ctx: Ctx, args: list[TV]) -> list[TV]:
    return [TV(const=None)]


@converts("constant.device")
def _device(ctx: Ctx, args: list[TV]) -> list[TV]:
    return [TV(const=str(ctx.op.get_attr("value").value))]  # type: ignore[union-attr]


@converts("prim.ListConstruct")
def _list(ctx: Ctx, args: list[TV]) -> list[TV]:
    if all(a.const is not _NOT_CONST for a in args):
        return [TV(const=[a.const for a in args])]
    return [TV(const=list(args))]


@converts("vtensor.literal")
def _literal(ctx: Ctx, args: list[TV]) -> list[TV]:
    a = ctx.op.get_attr("value")
    if not isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        raise ctx.fail("'vtensor.literal' needs a dense tensor value")
    shape, elt = ctx.result_info()
    arr = np.asarray(a.data).reshape(shape)
    attr = a if a.type.element == elt and tuple(a.type.shape) == tuple(shape) else None
    return [TV(array=arr, attr=attr, sizes=tuple(shape), element=elt)]


# =========================================================================== identity-like


@converts(
    "aten.dropout", "aten.clone", "aten.contiguous", "aten.detach", "aten.alias", "aten.lift_fresh_copy",
    "aten.feature_dropout", "aten.native_dropout", "aten.lift_fresh", "aten.detach_",
)
def _identity(ctx: Ctx, args: list[TV]) -> list[TV]:
    x = args[0]
    if ctx.name() in ("aten.dropout", "aten.feature_dropout", "aten.native_dropout") and len(args) >= 3:
        if args[2].const is True:
            raise ctx.fail(f"'{ctx.name()}' in training mode: call model.eval() before importing")
    out = [replace(x)]
    if len(ctx.op.results) == 2:  # native_dropout returns (out, mask)
        out.append(TV(const=None))
    return out


@converts("aten.to.dtype", "aten._to_copy", "aten.to.dtype_layout", "aten.type_as", "prims.convert_element_type")
def _to(ctx: Ctx, args: list[TV]) -> list[TV]:
    x = args[0]
    shape, elt = ctx.result_info()
    if x.is_const_tensor:
        return [_const_result(ctx, x.const_array())]
    x = _tensor(ctx, x)
    if isinstance(elt, FloatType) and x.element is not None and isinstance(x.element, FloatType) and x.element != elt:
        raise ctx.fail(f"'{ctx.name()}' converts {x.element} to {elt}; mixed float precisions are not supported")
    if not isinstance(elt, FloatType) and not is_spike_tensor(x.value.type):  # type: ignore[union-attr]
        raise ctx.fail(f"'{ctx.name()}' converts to {elt}; only float tensors are supported")
    return [replace(x)]


@converts("aten._assert_tensor_metadata", "aten._assert_scalar", "aten.sym_constrain_range_for_size",
          "aten._assert_async.msg")
def _assertion(ctx: Ctx, args: list[TV]) -> list[TV]:
    """Shape/dtype assertions torch.export records: checked at export time, no runtime effect."""
    return [TV(const=None) for _ in ctx.op.results]


# =========================================================================== elementwise


def _binary_const(ctx: Ctx, a: TV, b: TV, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> list[TV]:
    shape, elt = ctx.result_info()
    dt = numpy_dtype(elt)
    x = a.const_array() if a.is_const_tensor else np.asarray(a.const, dtype=dt)
    y = b.const_array() if b.is_const_tensor else np.asarray(b.const, dtype=dt)
    return [_const_result(ctx, fn(x.astype(dt), y.astype(dt)))]


def _elementwise(ctx: Ctx, a: TV, b: TV, kind: str) -> list[TV]:
    """``a (+|-|*) b`` where at least one operand is computed from the inputs."""
    shape, elt = ctx.result_info()
    felt = _float_elt(ctx, elt)
    mode = _check_readout_ok(ctx, [a, b], "shape" if kind == "mul" else "affine")
    if kind == "mul" and mode is not None and a.is_tensor and b.is_tensor:
        raise ctx.fail(
            f"'{ctx.name()}' multiplies a value read out over time ({mode}) by another computed tensor; only "
            "products with constants may follow a readout"
        )
    if kind != "mul" and not (a.is_tensor and b.is_tensor) and mode == "sum":
        raise ctx.fail(f"'{ctx.name()}' adds a constant to a value summed over time")
    # Scalars and constants broadcast into the per-sample shape.
    if not b.is_tensor and not b.is_const_tensor:
        c = float(b.const)
        x = _tensor(ctx, a)
        if kind == "mul":
            v = ctx.create(nn.Scale, [x.value], x.sample, felt, scale=FloatAttr(c, felt))  # type: ignore[list-item]
            return [_with(x, v, shape, readout=mode)]
        b = TV(array=np.full((1,), c, dtype=numpy_dtype(felt)), sizes=(1,), element=felt)
    if not a.is_tensor and not a.is_const_tensor:
        c = float(a.const)
        a = TV(array=np.full((1,), c, dtype=numpy_dtype(felt)), sizes=(1,), element=felt)
    # constants take the result's float type (torch does not promote on 0-d tensors)
    a, b = (
        TV(array=t.const_array().astype(numpy_dtype(felt)), sizes=t.sizes, element=felt) if t.is_const_tensor else t
        for t in (a, b)
    )
    ref = a if a.is_tensor else b
    for t in (a, b):
        if t.is_tensor and t is not ref:
            if t.lead != ref.lead or _lead_sizes(t) != _lead_sizes(ref):
                raise ctx.fail(
                    f"'{ctx.name()}' combines tensors with different time/batch axes ({list(t.sizes)} and {list(ref.sizes)})"
                )
    k = len(ref.lead)
    if len(shape) < k:
        raise ctx.fail(f"'{ctx.name()}': result rank {len(shape)} drops the time/batch axes")
    out_sample = tuple(shape[k:])
    rank = len(out_sample)
    lhs = _materialize(ctx, a, rank)
    rhs = _materialize(ctx, b, rank)
    cls = {"add": nn.Add, "sub": nn.Sub, "mul": nn.Mul}[kind]
    v = ctx.create(cls, [lhs, rhs], out_sample, felt)
    return [_with(ref, v, shape, readout=mode)]


def _alpha_ok(ctx: Ctx, args: list[TV]) -> None:
    if len(args) > 2 and args[2].const not in (1, 1.0, None, _NOT_CONST):
        raise ctx.fail(f"'{ctx.name()}' with alpha = {args[2].const} is not supported (only alpha = 1)")


@converts("aten.add.Tensor", "aten.add.Scalar", "aten.add")
def _add(ctx: Ctx, args: list[TV]) -> list[TV]:
    _alpha_ok(ctx, args)
    a, b = args[0], args[1]
    if not a.is_tensor and not b.is_tensor:
        return _binary_const(ctx, a, b, np.add)
    return _elementwise(ctx, a, b, "add")


@converts("aten.sub.Tensor", "aten.sub.Scalar", "aten.sub", "aten.rsub.Scalar")
def _sub(ctx: Ctx, args: list[TV]) -> list[TV]:
    _alpha_ok(ctx, args)
    a, b = args[0], args[1]
    if ctx.name() == "aten.rsub.Scalar":
        a, b = b, a
    if not a.is_tensor and not b.is_tensor:
        return _binary_const(ctx, a, b, np.subtract)
    return _elementwise(ctx, a, b, "sub")


@converts("aten.mul.Tensor", "aten.mul.Scalar", "aten.mul")
def _mul(ctx: Ctx, args: list[TV]) -> list[TV]:
    a, b = args[0], args[1]
    if not a.is_tensor and not b.is_tensor:
        return _binary_const(ctx, a, b, np.multiply)
    if not a.is_tensor:
        a, b = b, a
    return _elementwise(ctx, a, b, "mul")


@converts("aten.div.Tensor", "aten.div.Scalar", "aten.div")
def _div(ctx: Ctx, args: list[TV]) -> list[TV]:
    a, b = args[0], args[1]
    if not a.is_tensor and not b.is_tensor:
        return _binary_const(ctx, a, b, np.divide)
    if b.is_tensor:
        raise ctx.fail(f"'{ctx.name()}' divides by a tensor computed from the inputs, which the nn dialect cannot express")
    _, elt = ctx.result_info()
    dt = numpy_dtype(_float_elt(ctx, elt))
    inv = np.asarray(1, dtype=dt) / (b.const_array().astype(dt) if b.is_const_tensor else np.asarray(b.const, dtype=dt))
    recip = TV(array=np.asarray(inv), sizes=tuple(np.shape(inv)), element=_float_elt(ctx, elt)) if b.is_const_tensor else TV(const=float(inv))
    return _elementwise(ctx, a, recip, "mul")


@converts("aten.neg")
def _neg(ctx: Ctx, args: list[TV]) -> list[TV]:
    if not args[0].is_tensor:
        return [_const_result(ctx, -args[0].const_array())]
    return _elementwise(ctx, args[0], TV(const=-1.0), "mul")


def _unary_const(fn: Callable[[np.ndarray], np.ndarray]) -> Converter:
    def conv(ctx: Ctx, args: list[TV]) -> list[TV]:
        if not args[0].is_const_tensor:
            raise ctx.fail(f"'{ctx.name()}' on a tensor computed from the inputs is not supported by the nn dialect")
        return [_const_result(ctx, fn(args[0].const_array()))]

    return conv


for _n, _f in (("aten.sqrt", np.sqrt), ("aten.rsqrt", lambda x: 1 / np.sqrt(x)), ("aten.reciprocal", lambda x: 1 / x)):
    CONVERTERS[_n] = _unary_const(_f)


@converts("aten.relu")
def _relu(ctx: Ctx, args: list[TV]) -> list[TV]:
    if args[0].is_const_tensor:
        return [_const_result(ctx, np.maximum(args[0].const_array(), 0))]
    x = _tensor(ctx, args[0])
    _check_readout_ok(ctx, [x], "none")
    shape, elt = ctx.result_info()
    if is_spike_tensor(x.value.type):  # type: ignore[union-attr]
        return [replace(x)]
    v = ctx.create(nn.ReLU, [x.value], x.sample, _float_elt(ctx, elt))  # type: ignore[list-item]
    return [_with(x, v, shape)]


# =========================================================================== layers


def _need_sample_rank(ctx: Ctx, x: TV, rank: int, what: str) -> None:
    if len(x.sample) != rank or len(x.lead) != len(x.sizes) - rank:
        raise ctx.fail(
            f"'{ctx.name()}' expects one batch axis and a {what} sample, got shape {list(x.sizes)} with "
            f"leading axes {list(x.lead) or 'none'}"
        )
    if len(x.lead) != 1:
        raise ctx.fail(
            f"'{ctx.name()}' on an input with leading axes {list(x.lead)}: merge time and batch first "
            "(x.flatten(0, 1), as SpikingJelly's SeqToANNContainer does)"
        )


def _conv(ctx: Ctx, x: TV, w: TV, b: TV | None, stride: list[int], padding: Any, dilation: list[int], groups: int) -> list[TV]:
    x = _tensor(ctx, x, "input")
    mode = _check_readout_ok(ctx, [x], "affine" if b is not None and b.const is _NOT_CONST else "bias-free")
    wa = _weight(ctx, w, "weight")
    n = len(wa.type.shape) - 2  # type: ignore[union-attr]
    if n not in (1, 2):
        raise ctx.fail(f"'{ctx.name()}': only 1-d and 2-d convolutions are supported, got {n}-d")
    _need_sample_rank(ctx, x, n + 1, f"[C, {'L' if n == 1 else 'H, W'}]")
    k = wa.type.shape[2:]  # type: ignore[union-attr]
    stride = list(stride) * n if len(stride) == 1 else list(stride)
    dilation = list(dilation) * n if len(dilation) == 1 else list(dilation)
    if isinstance(padding, str):
        if padding == "valid":
            pad = [0] * n
        elif padding == "same":
            pad = []
            for d in range(n):
                total = dilation[d] * (k[d] - 1)
                pad += [total // 2, total - total // 2]
        else:
            raise ctx.fail(f"'{ctx.name()}': unknown padding '{padding}'")
    else:
        pad = list(padding) * n if len(padding) == 1 else list(padding)
    shape, elt = ctx.result_info()
    cls = nn.Conv1d if n == 1 else nn.Conv2d
    bias = None if b is None or b.const is None else _weight(ctx, b, "bias")
    v = ctx.create(
        cls, [x.value], shape[1:], _float_elt(ctx, elt),  # type: ignore[list-item]
        weight=wa, bias=bias, stride=stride, padding=pad, dilation=dilation, groups=int(groups),
    )
    return [_with(x, v, shape, readout=mode)]


@converts("aten.conv2d", "aten.conv1d", "aten.conv2d.padding", "aten.conv1d.padding")
def _conv_nd(ctx: Ctx, args: list[TV]) -> list[TV]:
    x, w, b = args[0], args[1], args[2]
    stride = _ints(ctx, args[3], "stride") if len(args) > 3 else [1]
    padding = _scalar(ctx, args[4], "padding") if len(args) > 4 else [0]
    if not isinstance(padding, str):
        padding = [int(p) for p in (padding if isinstance(padding, list) else [padding])]
    dilation = _ints(ctx, args[5], "dilation") if len(args) > 5 else [1]
    groups = int(_scalar(ctx, args[6], "groups")) if len(args) > 6 else 1
    return _conv(ctx, x, w, b, stride, padding, dilation, groups)


@converts("aten.convolution", "aten._convolution")
def _convolution(ctx: Ctx, args: list[TV]) -> list[TV]:
    if _scalar(ctx, args[6], "transposed"):
        raise ctx.fail("transposed convolution is not supported")
    return _conv(
        ctx, args[0], args[1], args[2], _ints(ctx, args[3], "stride"), _ints(ctx, args[4], "padding"),
        _ints(ctx, args[5], "dilation"), int(_scalar(ctx, args[8], "groups")),
    )


def _linear(ctx: Ctx, x: TV, weight: Attribute, bias: Attribute | None) -> list[TV]:
    x = _tensor(ctx, x, "input")
    mode = _check_readout_ok(ctx, [x], "affine" if bias is not None else "bias-free")
    if not x.sample:
        raise ctx.fail(f"'{ctx.name()}' needs a per-sample feature axis; the input {list(x.sizes)} has none")
    shape, elt = ctx.result_info()
    v = ctx.create(nn.Linear, [x.value], (*x.sample[:-1], shape[-1]), _float_elt(ctx, elt), weight=weight, bias=bias)  # type: ignore[list-item]
    return [_with(x, v, shape, readout=mode)]


@converts("aten.linear")
def _linear_op(ctx: Ctx, args: list[TV]) -> list[TV]:
    b = args[2] if len(args) > 2 and args[2].const is not None else None
    return _linear(ctx, args[0], _weight(ctx, args[1], "weight"), None if b is None else _weight(ctx, b, "bias"))


def _transposed_weight(ctx: Ctx, w: TV) -> Attribute:
    if w.array is None or w.array.ndim != 2:
        raise ctx.fail(f"'{ctx.name()}': the right operand must be a 2-d parameter")
    elt = w.element if w.element is not None else f32
    return _const_attr(np.ascontiguousarray(w.array.T), elt, "weight")


@converts("aten.addmm")
def _addmm(ctx: Ctx, args: list[TV]) -> list[TV]:
    bias, x, w = args[0], args[1], args[2]
    for extra in args[3:]:
        if extra.const not in (1, 1.0, _NOT_CONST, None):
            raise ctx.fail("'aten.addmm' with beta/alpha != 1 is not supported")
    if bias.array is None or bias.array.ndim != 1:
        raise ctx.fail("'aten.addmm': the bias must be a 1-d parameter")
    return _linear(ctx, x, _transposed_weight(ctx, w), _weight(ctx, bias, "bias"))


@converts("aten.mm", "aten.matmul", "aten.bmm")
def _matmul(ctx: Ctx, args: list[TV]) -> list[TV]:
    a, b = args[0], args[1]
    if not a.is_tensor and not b.is_tensor:
        return _binary_const(ctx, a, b, np.matmul)
    if a.is_tensor and b.array is not None and b.array.ndim == 2:
        return _linear(ctx, a, _transposed_weight(ctx, b), None)
    if not a.is_tensor or not b.is_tensor:
        raise ctx.fail(f"'{ctx.name()}': a constant left operand or a constant right operand of rank != 2 is not supported")
    _check_readout_ok(ctx, [a, b], "none")
    if a.lead != b.lead or _lead_sizes(a) != _lead_sizes(b) or len(a.sizes) != len(b.sizes):
        raise ctx.fail(f"'{ctx.name()}' multiplies tensors with different time/batch axes ({list(a.sizes)} and {list(b.sizes)})")
    if len(a.sample) < 2 or len(b.sample) < 2:
        raise ctx.fail(f"'{ctx.name()}' needs matrices in the per-sample axes, got {list(a.sizes)} and {list(b.sizes)}")
    shape, elt = ctx.result_info()
    k = len(a.lead)
    v = ctx.create(nn.MatMul, [a.value, b.value], shape[k:], _float_elt(ctx, elt))  # type: ignore[list-item]
    return [_with(a, v, shape)]


def _batch_norm(ctx: Ctx, x: TV, w: TV, b: TV, mean: TV, var: TV, eps: float) -> TV:
    x = _tensor(ctx, x, "input")
    mode = _check_readout_ok(ctx, [x], "affine")
    if len(x.lead) != 1 or len(x.sizes) < 2:
        raise ctx.fail(
            f"'{ctx.name()}' expects [batch, C, ...] with one batch axis, got shape {list(x.sizes)} with leading axes "
            f"{list(x.lead) or 'none'}: merge time and batch first (x.flatten(0, 1))"
        )
    shape, elt = ctx.result_info()
    felt = _float_elt(ctx, elt)
    v = ctx.create(
        nn.BatchNorm, [x.value], x.sample, felt,  # type: ignore[list-item]
        mean=_weight(ctx, mean, "running_mean"), var=_weight(ctx, var, "running_var"),
        weight=None if w.const is None else _weight(ctx, w, "weight"),
        bias=None if b.const is None else _weight(ctx, b, "bias"),
        eps=FloatAttr(float(eps), f64),
    )
    return _with(x, v, shape, readout=mode)


@converts("aten.batch_norm")
def _bn(ctx: Ctx, args: list[TV]) -> list[TV]:
    x, w, b, mean, var, training, _momentum, eps = args[:8]
    if training.const is True:
        raise ctx.fail("'aten.batch_norm' in training mode: call model.eval() before importing")
    if mean.const is None or var.const is None:
        raise ctx.fail("'aten.batch_norm' without running statistics (track_running_stats=False) is not supported")
    return [_batch_norm(ctx, x, w, b, mean, var, float(_scalar(ctx, eps, "eps")))]


@converts("aten._native_batch_norm_legit_no_training")
def _bn_legit(ctx: Ctx, args: list[TV]) -> list[TV]:
    x, w, b, mean, var, _momentum, eps = args[:7]
    out = _batch_norm(ctx, x, w, b, mean, var, float(_scalar(ctx, eps, "eps")))
    return [out, TV(const=None), TV(const=None)]


def _pool_args(ctx: Ctx, args: list[TV]) -> tuple[list[int], list[int], list[int]]:
    k = _ints(ctx, args[1], "kernel_size")
    k = k * 2 if len(k) == 1 else k
    s = _ints(ctx, args[2], "stride") if len(args) > 2 and args[2].const not in (None, []) else []
    s = (s * 2 if len(s) == 1 else s) or list(k)
    p = _ints(ctx, args[3], "padding") if len(args) > 3 else [0]
    p = p * 2 if len(p) == 1 else p
    return k, s, p


def _pool_input(ctx: Ctx, x: TV) -> TV:
    x = _tensor(ctx, x, "input")
    _check_readout_ok(ctx, [x], "none" if ctx.name().startswith("aten.max") else "affine")
    _need_sample_rank(ctx, x, 3, "[C, H, W]")
    return x


@converts("aten.max_pool2d")
def _max_pool(ctx: Ctx, args: list[TV]) -> list[TV]:
    x = _pool_input(ctx, args[0])
    k, s, p = _pool_args(ctx, args)
    if len(args) > 4 and any(d != 1 for d in _ints(ctx, args[4], "dilation")):
        raise ctx.fail("'aten.max_pool2d' with dilation != 1 is not supported")
    if len(args) > 5 and args[5].const is True:
        raise ctx.fail("'aten.max_pool2d' with ceil_mode=True is not supported")
    shape, elt = ctx.result_info()
    # Max pooling of binary spikes is an OR: the result stays a spike tensor.
    in_t = x.value.type
    out_elt = i1 if isinstance(in_t, TensorType) and in_t.element == i1 else _float_elt(ctx, elt)
    v = ctx.create(nn.MaxPool2d, [x.value], shape[1:], out_elt, kernel_size=k, stride=s, padding=p)  # type: ignore[list-item]
    return [_with(x, v, shape)]


@converts("aten.avg_pool2d")
def _avg_pool(ctx: Ctx, args: list[TV]) -> list[TV]:
    x = _pool_input(ctx, args[0])
    k, s, p = _pool_args(ctx, args)
    if len(args) > 4 and args[4].const is True:
        raise ctx.fail("'aten.avg_pool2d' with ceil_mode=True is not supported")
    if len(args) > 5 and args[5].const is False and any(p):
        raise ctx.fail("'aten.avg_pool2d' with count_include_pad=False and padding is not supported")
    if len(args) > 6 and args[6].const is not None:
        raise ctx.fail("'aten.avg_pool2d' with divisor_override is not supported")
    shape, elt = ctx.result_info()
    v = ctx.create(nn.AvgPool2d, [x.value], shape[1:], _float_elt(ctx, elt), kernel_size=k, stride=s, padding=p)  # type: ignore[list-item]
    return [_with(x, v, shape, readout=args[0].readout)]


@converts("aten.adaptive_avg_pool2d", "aten._adaptive_avg_pool2d")
def _adaptive_avg(ctx: Ctx, args: list[TV]) -> list[TV]:
    x = _pool_input(ctx, args[0])
    out = _ints(ctx, args[1], "output_size")
    out = out * 2 if len(out) == 1 else out
    c, h, w = x.sample
    shape, elt = ctx.result_info()
    if out == [1, 1]:
        v = ctx.create(nn.Mean, [x.value], (c, 1, 1), _float_elt(ctx, elt), axes=[1, 2], keepdim=BoolAttr(True))  # type: ignore[list-item]
    elif h % out[0] == 0 and w % out[1] == 0:
        k = [h // out[0], w // out[1]]
        v = ctx.create(nn.AvgPool2d, [x.value], (c, *out), _float_elt(ctx, elt), kernel_size=k, stride=k)  # type: ignore[list-item]
    else:
        raise ctx.fail(f"'{ctx.name()}': output size {out} does not divide the input {h}x{w}")
    return [_with(x, v, shape, readout=args[0].readout)]


# =========================================================================== shape ops


def _reshaped(ctx: Ctx, x: TV, out_shape: tuple[int, ...]) -> TV:
    """``x`` viewed as ``out_shape``: regroup the lead or reshape the per-sample axes."""
    if x.is_const_tensor:
        return TV(array=x.const_array().reshape(out_shape), sizes=out_shape, element=x.element)
    x = _tensor(ctx, x)
    lead, lsz, sample = x.lead, _lead_sizes(x), x.sample
    cands: list[tuple[tuple[str, ...], int]] = []
    # 1. regroup the lead, keep the sample
    r = len(sample)
    if len(out_shape) >= r and tuple(out_shape[len(out_shape) - r :]) == sample:
        new_l = tuple(out_shape[: len(out_shape) - r])
        kinds = _regroup(lead, lsz, new_l)
        if kinds is not None:
            cands.append((kinds, len(new_l)))
    # 2. keep the lead, reshape the sample
    k = len(lead)
    if tuple(out_shape[:k]) == lsz:
        cands.append((lead, k))
    if not cands:
        raise ctx.fail(
            f"'{ctx.name()}' reshapes {list(x.sizes)} to {list(out_shape)}, mixing the time/batch axes "
            f"({', '.join(lead) or 'none'}) with the per-sample axes"
        )
    kinds, nk = cands[0]
    new_sample = tuple(out_shape[nk:])
    if new_sample == sample:
        return TV(value=x.value, lead=kinds, sizes=out_shape, element=x.element, readout=x.readout)
    elt = x.value.type.element  # type: ignore[union-attr]
    v = ctx.create(nn.Reshape, [x.value], new_sample, elt)  # type: ignore[list-item]
    return TV(value=v, lead=kinds, sizes=out_shape, element=elt, readout=x.readout)


def _regroup(lead: tuple[str, ...], sizes: tuple[int, ...], new: tuple[int, ...]) -> tuple[str, ...] | None:
    """Kinds of a regrouped lead of sizes ``new`` (merging adjacent axes or splitting them back)."""
    if math.prod(sizes) != math.prod(new):
        return None
    if tuple(new) == tuple(sizes):
        return lead
    # drop / add size-1 axes of kind "1"
    core = [(kd, s) for kd, s in zip(lead, sizes) if not (kd == "1" and s == 1)]
    core_k = tuple(kd for kd, _ in core)
    core_s = tuple(s for _, s in core)
    if len(new) == 1:
        return ("".join(k for k in core_k if k != "1") or "1",)
    merged = "".join(core_k)
    if len(core_k) == 1 and len(merged) == len(new) and all(c in "TB" for c in merged):
        # split a merged "TB" back into "T", "B" if the sizes fit
        return tuple(merged)
    if tuple(s for s in new if s != 1) == tuple(s for s in core_s if s != 1):
        out: list[str] = []
        it = iter(core_k)
        for s in new:
            if s != 1 or len(out) < len(core_k):
                k = next(it, None)
                if k is None:  # more non-trivial axes than lead kinds: not a regrouping
                    return None
                out.append(k)
            else:
                out.append("1")
        return tuple(out) if len(out) == len(new) else None
    return None


@converts("aten.view", "aten.reshape", "aten._unsafe_view", "aten.flatten.using_ints", "aten.unflatten.int",
          "aten.expand_as")
def _view(ctx: Ctx, args: list[TV]) -> list[TV]:
    shape, _ = ctx.result_info()
    if ctx.name() == "aten.expand_as" and tuple(args[0].sizes) != tuple(shape):
        raise ctx.fail("'aten.expand_as' that broadcasts is not supported")
    return [_reshaped(ctx, args[0], tuple(shape))]


@converts("aten.unsqueeze", "aten.squeeze.dim", "aten.squeeze.dims", "aten.squeeze")
def _squeeze(ctx: Ctx, args: list[TV]) -> list[TV]:
    x = args[0]
    shape, _ = ctx.result_info()
    if x.is_const_tensor:
        return [TV(array=x.const_array().reshape(shape), sizes=tuple(shape), element=x.element)]
    x = _tensor(ctx, x)
    k = len(x.lead)
    if ctx.name() == "aten.unsqueeze":
        d = _norm(ctx, int(_scalar(ctx, args[1], "dim")), len(shape))
        if d < k:
            lead = x.lead[:d] + ("1",) + x.lead[d:]
            return [TV(value=x.value, lead=lead, sizes=tuple(shape), element=x.element, readout=x.readout)]
        return [_sample_reshape(ctx, x, tuple(shape), k)]
    dims = _ints(ctx, args[1], "dim") if len(args) > 1 else [i for i, s in enumerate(x.sizes) if s == 1]
    dims = [_norm(ctx, d, len(x.sizes)) for d in dims]
    dims = [d for d in dims if x.sizes[d] == 1]
    lead_drop = [d for d in dims if d < k]
    for d in lead_drop:
        if x.lead[d] not in ("1",):
            raise ctx.fail(
                f"'{ctx.name()}' removes the {x.lead[d]} axis (size 1 in the example input); give example inputs "
                "with more than one time step and batch sample, or index the axis explicitly"
            )
    lead = tuple(kd for i, kd in enumerate(x.lead) if i not in lead_drop)
    return [_sample_reshape(ctx, replace(x, lead=lead), tuple(shape), len(lead))]


def _sample_reshape(ctx: Ctx, x: TV, shape: tuple[int, ...], k: int) -> TV:
    new_sample = shape[k:]
    if new_sample == x.sample:
        return TV(value=x.value, lead=x.lead[:k] if len(x.lead) >= k else x.lead, sizes=shape, element=x.element, readout=x.readout)
    elt = x.value.type.element  # type: ignore[union-attr]
    v = ctx.create(nn.Reshape, [x.value], new_sample, elt)  # type: ignore[list-item]
    return TV(value=v, lead=x.lead[:k], sizes=shape, element=elt, readout=x.readout)


def _permute(ctx: Ctx, x: TV, perm: list[int]) -> list[TV]:
    shape, _ = ctx.result_info()
    if x.is_const_tensor:
        return [TV(array=np.transpose(x.const_array(), perm), sizes=tuple(shape), element=x.element)]
    x = _tensor(ctx, x)
    k = len(x.lead)
    if sorted(perm[:k]) != list(range(k)):
        raise ctx.fail(
            f"'{ctx.name()}' moves a time/batch axis ({', '.join(x.lead)}) among the per-sample axes (permutation {perm})"
        )
    lead = tuple(x.lead[p] for p in perm[:k])
    sperm = [p - k for p in perm[k:]]
    if sperm == sorted(sperm):
        return [TV(value=x.value, lead=lead, sizes=tuple(shape), element=x.element, readout=x.readout)]
    elt = x.value.type.element  # type: ignore[union-attr]
    v = ctx.create(nn.Transpose, [x.value], shape[k:], elt, perm=sperm)  # type: ignore[list-item]
    return [TV(value=v, lead=lead, sizes=tuple(shape), element=elt, readout=x.readout)]


@converts("aten.permute")
def _permute_op(ctx: Ctx, args: list[TV]) -> list[TV]:
    rank = len(args[0].sizes)
    return _permute(ctx, args[0], [_norm(ctx, d, rank) for d in _ints(ctx, args[1], "dims")])


@converts("aten.transpose.int", "aten.t", "aten.numpy_T", "aten.movedim.int")
def _transpose(ctx: Ctx, args: list[TV]) -> list[TV]:
    rank = len(args[0].sizes)
    perm = list(range(rank))
    if ctx.name() in ("aten.t", "aten.numpy_T"):
        perm = perm[::-1]
    elif ctx.name() == "aten.movedim.int":
        s = _norm(ctx, int(_scalar(ctx, args[1], "source")), rank)
        d = _norm(ctx, int(_scalar(ctx, args[2], "destination")), rank)
        perm.pop(s)
        perm.insert(d, s)
    else:
        a = _norm(ctx, int(_scalar(ctx, args[1], "dim0")), rank)
        b = _norm(ctx, int(_scalar(ctx, args[2], "dim1")), rank)
        perm[a], perm[b] = perm[b], perm[a]
    return _permute(ctx, args[0], perm)


@converts("aten.cat", "aten.concat")
def _cat(ctx: Ctx, args: list[TV]) -> list[TV]:
    items = args[0].const
    if not isinstance(items, list) or not items:
        raise ctx.fail(f"'{ctx.name()}' needs a list of tensors")
    dim = int(_scalar(ctx, args[1], "dim")) if len(args) > 1 else 0
    shape, elt = ctx.result_info()
    if all(isinstance(t, TV) and t.is_const_tensor for t in items):
        return [_const_result(ctx, np.concatenate([t.const_array() for t in items], axis=dim))]
    ref = next(t for t in items if isinstance(t, TV) and t.is_tensor)
    d = _norm(ctx, dim, len(shape))
    k = len(ref.lead)
    if d < k:
        raise ctx.fail(f"'{ctx.name()}' concatenates along the {ref.lead[d]} axis; only per-sample axes may be joined")
    _check_readout_ok(ctx, items, "shape")
    vals = []
    float_any = any(not is_spike_tensor(t.value.type) for t in items if t.is_tensor)  # type: ignore[union-attr]
    for t in items:
        if t.is_tensor and (t.lead != ref.lead or _lead_sizes(t) != _lead_sizes(ref)):
            raise ctx.fail(f"'{ctx.name()}' joins tensors with different time/batch axes")
        v = _materialize(ctx, t, len(shape) - k)
        if float_any and is_spike_tensor(v.type):
            felt = _float_elt(ctx, elt)
            v = ctx.create(nn.Scale, [v], v.type.shape, felt, scale=FloatAttr(1.0, felt))  # type: ignore[attr-defined]
        vals.append(v)
    out_elt = vals[0].type.element  # type: ignore[attr-defined]
    v = ctx.create(nn.Concat, vals, shape[k:], out_elt, axis=d - k)
    return [TV(value=v, lead=ref.lead, sizes=tuple(shape), element=out_elt, readout=ref.readout)]


# =========================================================================== reductions and readouts


def _reduce(ctx: Ctx, args: list[TV], kind: str) -> list[TV]:
    x = args[0]
    shape, elt = ctx.result_info()
    rank = len(x.sizes)
    dims_tv = args[1] if len(args) > 1 else TV(const=None)
    dims = list(range(rank)) if dims_tv.const in (None, []) else [_norm(ctx, d, rank) for d in _ints(ctx, dims_tv, "dim")]
    keep = bool(args[2].const) if len(args) > 2 and args[2].const is not _NOT_CONST else False
    if x.is_const_tensor:
        fn = np.mean if kind == "mean" else np.sum
        return [_const_result(ctx, fn(x.const_array(), axis=tuple(dims), keepdims=keep))]
    x = _tensor(ctx, x)
    k = len(x.lead)
    lead_dims = [d for d in dims if d < k]
    sample_dims = [d - k for d in dims if d >= k]
    readout = x.readout
    lead = list(x.lead)
    for d in lead_dims:
        kind_d = x.lead[d]
        if kind_d == "1":
            continue
        if kind_d != "T":
            raise ctx.fail(
                f"'{ctx.name()}' reduces over the {kind_d} axis: only a readout over time ({kind} over T) may "
                "reduce a leading axis, never over the batch"
            )
        if readout is not None:
            raise ctx.fail(f"'{ctx.name()}' reduces over time twice")
        readout = kind
    if not lead_dims and readout is not None:
        _check_readout_ok(ctx, [x], "affine" if kind == "mean" else "shape")
    new_lead = tuple(("1" if keep else None) if i in lead_dims else kd for i, kd in enumerate(lead))
    new_lead = tuple(kd for kd in new_lead if kd is not None)
    value = x.value
    if sample_dims:
        cls = nn.Mean if kind == "mean" else nn.Sum
        out_sample = shape[len(new_lead) :]
        value = ctx.create(cls, [value], out_sample, _float_elt(ctx, elt), axes=sample_dims, keepdim=BoolAttr(keep))  # type: ignore[list-item]
    else:
        out_sample = shape[len(new_lead) :]
        if tuple(out_sample) != tuple(x.sample):
            raise ctx.fail(f"internal error: reduction of {list(x.sizes)} to {list(shape)}")
    return [TV(value=value, lead=new_lead, sizes=tuple(shape), element=value.type.element, readout=readout)]  # type: ignore[union-attr]


@converts("aten.mean.dim", "aten.mean")
def _mean(ctx: Ctx, args: list[TV]) -> list[TV]:
    return _reduce(ctx, args, "mean")


@converts("aten.sum.dim_IntList", "aten.sum")
def _sum(ctx: Ctx, args: list[TV]) -> list[TV]:
    return _reduce(ctx, args, "sum")


@converts("aten.select.int")
def _select(ctx: Ctx, args: list[TV]) -> list[TV]:
    x = _tensor(ctx, args[0])
    shape, _ = ctx.result_info()
    d = _norm(ctx, int(_scalar(ctx, args[1], "dim")), len(x.sizes))
    idx = int(_scalar(ctx, args[2], "index"))
    k = len(x.lead)
    if d >= k:
        raise ctx.fail(f"'{ctx.name()}' indexes a per-sample axis, which the nn dialect cannot express")
    if x.lead[d] != "T" or idx not in (-1, x.sizes[d] - 1):
        raise ctx.fail(
            f"'{ctx.name()}' indexes the {x.lead[d]} axis at {idx}: only the last time step (x[-1]) may be selected, "
            "as a readout"
        )
    if x.readout is not None:
        raise ctx.fail(f"'{ctx.name()}' reads out over time twice")
    lead = x.lead[:d] + x.lead[d + 1 :]
    return [TV(value=x.value, lead=lead, sizes=tuple(shape), element=x.element, readout="last")]


# =========================================================================== time filters and thresholds


@converts("aten.tril", "aten.triu")
def _tri(ctx: Ctx, args: list[TV]) -> list[TV]:
    """``tril``/``triu`` of a parameter or constant (folded); on a computed tensor it is unsupported."""
    x = args[0]
    k = int(_scalar(ctx, args[1], "diagonal")) if len(args) > 1 and args[1].const is not None else 0
    if not x.is_const_tensor:
        raise ctx.fail(f"'{ctx.name()}' of a tensor computed from the inputs is not supported (only of a parameter)")
    fn = np.tril if ctx.name() == "aten.tril" else np.triu
    return [_const_result(ctx, fn(x.const_array(), k))]


_EINSUM_TERM = re.compile(r"^[a-zA-Z]+$")


@converts("aten.einsum")
def _einsum(ctx: Ctx, args: list[TV]) -> list[TV]:
    """The time-mixing einsum of a causal filter: ``W [T, T]`` (a constant) times a tensor over its
    time axis, ``"ts,sbhn->tbhn"`` (any labels, either operand order, ``W`` or ``W^T``).  It becomes
    ``snn.causal_filter`` (``y[t] = sum_{s<=t} W[t, s] x[s]``) when ``W`` is lower-triangular and
    of the model's time length.  Other einsums are rejected."""
    eq = str(_scalar(ctx, args[0], "equation")).replace(" ", "")
    ops = args[1].const if isinstance(args[1].const, list) else None
    if ops is None or len(ops) != 2 or "->" not in eq:
        raise ctx.fail(f"'{ctx.name()}' with equation '{eq}': only a two-operand einsum over the time axis (a causal "
                       "time filter, e.g. 'ts,sbhn->tbhn') is supported")
    ins, out = eq.split("->")
    terms = ins.split(",")
    if len(terms) != 2 or not all(_EINSUM_TERM.match(t) for t in (*terms, out)) or "." in eq:
        raise ctx.fail(f"'{ctx.name()}' with equation '{eq}': only explicit two-operand equations are supported")
    if all(isinstance(o, TV) and o.is_const_tensor for o in ops):  # parameters only: folded
        return [_const_result(ctx, np.einsum(eq, *(o.const_array() for o in ops)))]
    wi = 0 if isinstance(ops[0], TV) and ops[0].is_const_tensor else 1
    w, x = ops[wi], ops[1 - wi]
    wl, xl = terms[wi], terms[1 - wi]
    generic = (f"'{ctx.name()}' with equation '{eq}': only a causal filter over the time axis is supported "
               "(a constant lower-triangular [T, T] matrix times a tensor over its time axis, e.g. 'ts,sbhn->tbhn')")
    if not (isinstance(w, TV) and w.is_const_tensor and isinstance(x, TV) and x.is_tensor) or len(wl) != 2:
        raise ctx.fail(generic)
    if len(xl) != len(x.sizes) or len(set(xl)) != len(xl) or len(out) != len(xl):
        raise ctx.fail(generic)
    if wl[0] == wl[1]:
        raise ctx.fail(generic)
    # The contracted label: in W and x, not in the output; the output has W's other label in its place.
    contracted = [c for c in wl if c in xl and c not in out]
    if len(contracted) != 1:
        raise ctx.fail(generic)
    c = contracted[0]
    other = wl[1] if wl[0] == c else wl[0]
    i = xl.index(c)
    if other in xl or out != xl[:i] + other + xl[i + 1 :]:
        raise ctx.fail(generic)
    if i >= len(x.lead) or x.lead[i] != "T":
        where = f"the {x.lead[i]} axis" if i < len(x.lead) else "a per-sample axis"
        raise ctx.fail(f"'{ctx.name()}' with equation '{eq}' mixes {where} with a constant matrix; only a causal "
                       "filter over the model's time axis (T) is supported")
    _check_readout_ok(ctx, [x], "none")
    wa = w.const_array()
    weight = wa if wl[0] == other else wa.T  # weight[t, s]: output step t, input step s
    t_len = x.sizes[i]
    if weight.shape != (t_len, t_len):
        raise ctx.fail(f"'{ctx.name()}': the time filter's matrix has shape {list(weight.shape)}, expected "
                       f"[{t_len}, {t_len}] for {t_len} time steps")
    upper = np.argwhere(np.triu(weight, 1) != 0)
    if len(upper):
        a, b = (int(v) for v in upper[0])
        raise ctx.fail(f"'{ctx.name()}' mixes time steps non-causally: step {a} reads step {b} (weight "
                       f"{float(weight[a, b])!r}); only a lower-triangular time filter (torch.tril) can run step by step")
    shape, elt = ctx.result_info()
    felt = _float_elt(ctx, elt)
    v = ctx.create(snn.CausalFilter, [x.value], x.sample, felt,  # type: ignore[list-item]
                   weight=_const_attr(weight, felt, "causal_filter_weight"))
    return [_with(x, v, shape)]


@converts("aten.ge.Scalar", "aten.gt.Scalar")
def _compare_scalar(ctx: Ctx, args: list[TV]) -> list[TV]:
    """``x >= c`` / ``x > c`` of a computed tensor: ``snn.threshold`` (a bool/spike result)."""
    x = args[0]
    if x.is_const_tensor:
        fn = np.greater_equal if ctx.name() == "aten.ge.Scalar" else np.greater
        return [_const_result(ctx, fn(x.const_array(), float(_scalar(ctx, args[1], "threshold"))))]
    x = _tensor(ctx, x)
    _check_readout_ok(ctx, [x], "none")
    shape, _ = ctx.result_info()
    c = float(_scalar(ctx, args[1], "threshold"))
    felt = x.element if isinstance(x.element, FloatType) else f32
    v = ctx.create(snn.Threshold, [x.value], x.sample, i1,  # type: ignore[list-item]
                   theta=FloatAttr(c, felt), cmp=StringAttr("ge" if ctx.name() == "aten.ge.Scalar" else "gt"))
    return [_with(x, v, shape)]


# =========================================================================== state initialisers


@converts("aten.zeros_like", "aten.ones_like", "aten.full_like", "aten.zeros", "aten.ones", "aten.full",
          "aten.new_zeros", "aten.new_ones", "aten.new_full", "aten.empty_like")
def _fill(ctx: Ctx, args: list[TV]) -> list[TV]:
    shape, elt = ctx.result_info()
    n = ctx.name()
    if "zeros" in n:
        val = 0.0
    elif "ones" in n:
        val = 1.0
    elif n == "aten.full_like":
        val = float(_scalar(ctx, args[1], "fill value"))
    elif n in ("aten.full", "aten.new_full"):
        val = float(_scalar(ctx, args[1 if n == "aten.full" else 2], "fill value"))
    else:
        raise ctx.fail(f"'{n}' (uninitialised memory) is not supported")
    return [TV(fill=val, sizes=tuple(shape), element=elt)]


# =========================================================================== neurons


@dataclass(frozen=True)
class _NeuronSig:
    multi_step: bool
    kind: str  # lif | if | cuba | ternary
    n_state: int  # state operands after x
    multi_spike: bool = False  # the *_multi ops: a spike count per step (snn spike_fn = "multi")


_NEURONS = {
    "snnc.lif": _NeuronSig(True, "lif", 1),
    "snnc.if_": _NeuronSig(True, "if", 1),
    "snnc.cuba_lif": _NeuronSig(True, "cuba", 2),
    "snnc.ternary_lif": _NeuronSig(True, "ternary", 1),
    "snnc.lif_step": _NeuronSig(False, "lif", 1),
    "snnc.if_step": _NeuronSig(False, "if", 1),
    "snnc.cuba_lif_step": _NeuronSig(False, "cuba", 2),
    "snnc.ternary_lif_step": _NeuronSig(False, "ternary", 1),
    "snnc.lif_multi": _NeuronSig(True, "lif", 1, True),
    "snnc.if_multi": _NeuronSig(True, "if", 1, True),
    "snnc.cuba_lif_multi": _NeuronSig(True, "cuba", 2, True),
    "snnc.lif_multi_step": _NeuronSig(False, "lif", 1, True),
    "snnc.if_multi_step": _NeuronSig(False, "if", 1, True),
    "snnc.cuba_lif_multi_step": _NeuronSig(False, "cuba", 2, True),
}
_PARAM_NAMES = {
    "lif": ("alpha", "beta", "gamma", "v_th", "v_reset", "v_init", "reset", "cmp"),
    "if": ("beta", "gamma", "v_th", "v_reset", "v_init", "reset", "cmp"),
    "cuba": ("alpha_syn", "beta_syn", "gamma_syn", "alpha", "beta", "gamma", "v_th", "v_reset", "v_init", "reset", "cmp"),
    "ternary": ("alpha", "beta", "gamma", "v_th", "v_reset", "v_init", "reset"),
}


def _neuron(ctx: Ctx, args: list[TV]) -> list[TV]:
    sig = _NEURONS[ctx.name()]
    x = _tensor(ctx, args[0], "input")
    if x.readout is not None:
        raise ctx.fail(
            f"neuron '{ctx.name()}' takes a value read out over time ({x.readout}); only a final readout may mix time steps"
        )
    if sig.multi_step:
        if not x.lead or x.lead[0] != "T":
            raise ctx.fail(
                f"multi-step neuron '{ctx.name()}' needs the time axis first in its input, got leading axes "
                f"{list(x.lead) or 'none'} (shape {list(x.sizes)}); is the time layout right?"
            )
        out_lead = x.lead
    else:
        if any("T" in kd for kd in x.lead):
            raise ctx.fail(
                f"single-step neuron '{ctx.name()}' gets an input with a time axis (leading axes {list(x.lead)}): it "
                "would treat the time steps as independent samples"
            )
        out_lead = x.lead
    names = _PARAM_NAMES[sig.kind]
    if sig.multi_spike:  # cmp is "ge"; max_spikes (0: no cap) and v_min (None: none) follow reset
        names = (*names[: names.index("cmp")], "max_spikes", "v_min")
    raw = [a.const for a in args[1 + sig.n_state : 1 + sig.n_state + len(names)]]
    p = dict(zip(names, raw, strict=True))
    # Initial state must be the rest state.
    states = args[1 : 1 + sig.n_state]
    state_names = ("i0", "v0") if sig.kind == "cuba" else ("v0",)
    rest = {"i0": 0.0, "v0": float(p["v_init"])}
    for name, st in zip(state_names, states, strict=True):
        if st.const is None:
            continue
        if st.fill is None or st.fill != rest[name]:
            raise ctx.fail(
                f"neuron '{ctx.name()}': the initial {'current' if name == 'i0' else 'membrane'} must be the neuron's "
                f"rest value {rest[name]} (a state carried in from outside the model cannot be imported)"
            )
    live = ctx.extra.get("live", set())
    for r in ctx.op.results[1:]:
        if any(id(u.operation) in live for u in r.uses):
            raise ctx.fail(
                f"neuron '{ctx.name()}': its returned state (membrane / current) is used by the model; the IR "
                "neurons output spikes only"
            )
    shape, elt = ctx.result_info()
    felt = _float_elt(ctx, elt)
    reset = str(p["reset"])
    sample = x.sample

    def fa(name: str) -> FloatAttr:
        return FloatAttr(float(p[name]), felt)

    attrs: dict[str, Any] = {"v_th": fa("v_th"), "v_reset": fa("v_reset"), "v_init": fa("v_init")}
    if sig.kind != "ternary" and not sig.multi_spike:
        attrs["cmp"] = StringAttr(str(p["cmp"]))
    out_elt = si2 if sig.kind == "ternary" else i1
    if sig.multi_spike:  # the spike count, a float of the model's type
        out_elt = felt
        attrs["spike_fn"] = StringAttr("multi")
        if int(p["max_spikes"]) > 0:
            attrs["max_spikes"] = IntegerAttr(int(p["max_spikes"]), i64)
        if p["v_min"] is not None:
            attrs["v_min"] = fa("v_min")
        if reset not in ("hard", "soft", "none"):
            raise ctx.fail(f"neuron '{ctx.name()}': reset '{reset}' is not defined for a multi-spike neuron")
    xin = x.value
    assert xin is not None
    if sig.kind == "cuba":
        if reset == "soft_delayed":
            raise ctx.fail(
                f"neuron '{ctx.name()}': snnTorch's subtract reset with a synaptic current (soft_delayed) is not "
                "supported by the importer; use reset_mechanism='none'"
            )
        attrs.update(alpha_syn=fa("alpha_syn"), beta_syn=fa("beta_syn"), gamma_syn=fa("gamma_syn"),
                     alpha=fa("alpha"), beta=fa("beta"), gamma=fa("gamma"), i_init=FloatAttr(0.0, felt))
        cls: type = snn.CubaLIF
    elif sig.kind == "if":
        attrs.update(beta=fa("beta"), gamma=fa("gamma"))
        cls = snn.IF
    else:
        attrs.update(alpha=fa("alpha"), beta=fa("beta"), gamma=fa("gamma"))
        cls = snn.LIF
    if reset == "hard_delayed":
        reset = "hard"  # spikes equal "hard" exactly (snnc.nn.ops)
    if reset == "soft_delayed":
        # h[t] = alpha*v[t-1] + beta*x[t] + gamma - v_th*s[t-1], no reset: subtract v_th*s[t-1] from the input
        if float(p.get("beta", 1.0)) != 1.0:
            raise ctx.fail(f"neuron '{ctx.name()}': a delayed subtract reset needs an input gain beta = 1")
        attrs["reset"] = StringAttr("none")
        if sig.kind == "if":
            attrs.pop("alpha", None)
        # the delay closes a cycle: build the neuron first, then its input
        b = ctx.builder
        spike_t = TensorType(tuple(sample), out_elt)
        float_t = TensorType(tuple(sample), felt)
        placeholder = xin  # replaced below
        neuron = b.create(cls, [placeholder], [spike_t], attrs, location=ctx.ir_loc)
        delay = b.create(snn.Delay, [neuron.results[0]], [spike_t], {"steps": IntegerAttr(1, i64)}, location=ctx.ir_loc)
        scaled = b.create(nn.Scale, [delay.results[0]], [float_t], {"scale": fa("v_th")}, location=ctx.ir_loc)
        diff = b.create(nn.Sub, [xin, scaled.results[0]], [float_t], {}, location=ctx.ir_loc)
        neuron.set_operand(0, diff.results[0])
        v = neuron.results[0]
    else:
        attrs["reset"] = StringAttr(reset)
        v = ctx.create(cls, [xin], sample, out_elt, **attrs)
    out = TV(value=v, lead=out_lead, sizes=tuple(shape), element=out_elt)
    rest_out = [TV(const=None) for _ in ctx.op.results[1:]]
    return [out, *rest_out]


for _name in _NEURONS:
    CONVERTERS[_name] = _neuron


# --------------------------------------------------------------------------- recurrent LIF (snnTorch RLeaky)


def _recurrent_neuron(ctx: Ctx, args: list[TV]) -> list[TV]:
    """``snnc.rlif`` / ``snnc.rlif_step`` -> the neuron fed by its own delayed spikes (snnc.nn.recurrent)::

        d = snn.delay(s);  xr = nn.add(x, R(d))   R: nn.linear | nn.conv2d | nn.scale (one-to-one V)
        subtract: s = snn.lif{none}(xr) with v_th subtracted from R's self-connection (W - v_th I,
                  the conv's centre tap, V - v_th): x + R(d) - v_th d in one op
        zero:     s = snn.lif{hard, v_reset 0}(nn.sub(xr, nn.mul(d, xr)))
        none:     s = snn.lif{none}(xr)
    """
    multi = ctx.name() == "snnc.rlif"
    x = _tensor(ctx, args[0], "input")
    if x.readout is not None:
        raise ctx.fail(f"neuron '{ctx.name()}' takes a value read out over time ({x.readout})")
    if multi and (not x.lead or x.lead[0] != "T"):
        raise ctx.fail(
            f"multi-step neuron '{ctx.name()}' needs the time axis first in its input, got leading axes "
            f"{list(x.lead) or 'none'} (shape {list(x.sizes)}); is the time layout right?"
        )
    if not multi and any("T" in kd for kd in x.lead):
        raise ctx.fail(
            f"single-step neuron '{ctx.name()}' gets an input with a time axis (leading axes {list(x.lead)})"
        )
    k = 1 if multi else 3
    if not multi:
        for what, st in (("spikes", args[1]), ("membrane", args[2])):
            if st.fill is None or st.fill != 0.0:
                raise ctx.fail(
                    f"neuron '{ctx.name()}': the initial {what} must be 0 (a state carried in from outside the model "
                    "cannot be imported)"
                )
    w_tv, b_tv = args[k], args[k + 1]
    rec, alpha, v_th, reset = (_scalar(ctx, a, n) for a, n in zip(args[k + 2 : k + 6], ("rec", "alpha", "v_th", "reset")))
    live = ctx.extra.get("live", set())
    if any(id(u.operation) in live for u in ctx.op.results[1].uses):
        raise ctx.fail(f"neuron '{ctx.name()}': its returned membrane is used by the model; the IR neurons output spikes only")
    shape, elt = ctx.result_info()
    felt = _float_elt(ctx, elt)
    sample = tuple(x.sample)
    xin = x.value
    assert xin is not None
    b = ctx.builder
    loc = ctx.ir_loc
    spike_t = TensorType(sample, i1)
    float_t = TensorType(sample, felt)
    attrs: dict[str, Any] = {
        "alpha": FloatAttr(float(alpha), felt), "beta": FloatAttr(1.0, felt), "gamma": FloatAttr(0.0, felt),
        "v_th": FloatAttr(float(v_th), felt), "v_reset": FloatAttr(0.0, felt), "v_init": FloatAttr(0.0, felt),
        "cmp": StringAttr("gt"), "reset": StringAttr("hard" if reset == "zero" else "none"),
    }  # fmt: skip
    neuron = b.create(snn.LIF, [xin], [spike_t], attrs, location=loc)  # input set below: the delay closes a cycle
    d = b.create(snn.Delay, [neuron.results[0]], [spike_t], {"steps": IntegerAttr(1, i64)}, location=loc).results[0]
    bias = None if b_tv.const is None else _weight(ctx, b_tv, "recurrent bias")
    # subtract: x + R(d) - v_th*d = x + R'(d), the threshold folded into R's self-connection (its diagonal
    # / centre tap / V), so that quantize sees a neuron fed by nn.add(x, nn.linear(snn.delay(s)))
    fold = float(v_th) if reset == "subtract" else 0.0
    if rec in ("linear", "conv2d"):
        if w_tv.array is None:
            raise ctx.fail(f"'{ctx.name()}': the recurrent weight must be a parameter or constant of the model")
        w_arr = np.array(w_tv.array, copy=True)
        n = w_arr.shape[0]
        if rec == "linear":
            w_arr[np.arange(n), np.arange(n)] -= w_arr.dtype.type(fold)
        else:
            kh, kw = w_arr.shape[2], w_arr.shape[3]
            if kh % 2 == 0 or kw % 2 == 0:
                raise ctx.fail(f"'{ctx.name()}': a conv2d recurrence needs an odd kernel size, got {kh}x{kw}")
            w_arr[np.arange(n), np.arange(n), kh // 2, kw // 2] -= w_arr.dtype.type(fold)
        elt = w_tv.element if w_tv.element is not None else f32
        w = w_tv.attr if fold == 0.0 and w_tv.attr is not None else _const_attr(w_arr, elt, "recurrent_weight")
        if rec == "linear":
            battrs = {"weight": w} if bias is None else {"weight": w, "bias": bias}
            r = b.create(nn.Linear, [d], [float_t], battrs, location=loc).results[0]
        else:
            cattrs: dict[str, Any] = {"weight": w, "stride": [1, 1], "padding": [kh // 2, kw // 2], "dilation": [1, 1], "groups": 1}
            if bias is not None:
                cattrs["bias"] = bias
            r = b.create(nn.Conv2d, [d], [float_t], cattrs, location=loc).results[0]
    elif rec == "one_to_one":
        arr = w_tv.array
        if arr is None:
            raise ctx.fail(f"'{ctx.name()}': the recurrent weight V must be a parameter or constant of the model")
        arr = np.asarray(arr - arr.dtype.type(fold))
        if arr.size == 1 and arr.ndim <= 1:
            scale: Attribute = FloatAttr(float(arr.reshape(()).item()), felt)
        else:
            scale = _const_attr(arr, w_tv.element if w_tv.element is not None else f32, "V")
        r = b.create(nn.Scale, [d], [float_t], {"scale": scale}, location=loc).results[0]
    else:
        raise ctx.fail(f"'{ctx.name()}': unknown recurrent connection '{rec}'")
    xr = b.create(nn.Add, [xin, r], [float_t], {}, location=loc).results[0]
    if reset == "zero":
        gated = b.create(nn.Mul, [d, xr], [float_t], {}, location=loc).results[0]
        y = b.create(nn.Sub, [xr, gated], [float_t], {}, location=loc).results[0]
    elif reset in ("subtract", "none"):
        y = xr
    else:
        raise ctx.fail(f"'{ctx.name()}': unknown reset '{reset}'")
    neuron.set_operand(0, y)
    out = TV(value=neuron.results[0], lead=x.lead, sizes=tuple(shape), element=i1)
    return [out, TV(const=None)]


CONVERTERS["snnc.rlif"] = _recurrent_neuron
CONVERTERS["snnc.rlif_step"] = _recurrent_neuron


# =========================================================================== the pass


def _lead_of(layout: str, shape: tuple[int, ...], name: str, loc: Location) -> tuple[str, ...]:
    lead = {"step": ("B",), "TB": ("T", "B"), "BT": ("B", "T")}[layout]
    if len(shape) < len(lead):
        raise error(f"input '{name}' of shape {list(shape)} has no {'/'.join(lead)} axes for time layout '{layout}'", loc)
    return lead


@dataclass
class ConvertTorchToSnn(Pass):
    """Convert the torch dialect function ``main`` (from the PyTorch frontend) into one ``snn.graph``."""

    name: ClassVar[str] = "convert-torch-to-snn"
    time_layout: str = field(
        default="", metadata={"help": "leading axes of the inputs: step ([B, ...]), TB ([T, B, ...]) or BT ([B, T, ...]); "
                                      "default: the function's snnc.time_layout attribute, else step"}
    )
    readout: str = field(
        default="", metadata={"help": "readout over time of outputs that keep a time axis: none, sum, mean or last "
                                      "(default: the function's snnc.readout attribute, else none)"}
    )
    graph_name: str = field(default="main", metadata={"help": "sym_name of the snn.graph"})

    def run(self, module: ModuleOp) -> None:
        funcs = [op for op in module.ops if op.op_name == "func.func"]
        if not funcs:
            raise error("convert-torch-to-snn: the module has no func.func (torch dialect) to convert", module.location)
        func = funcs[0]
        layout = self.time_layout or _str_attr(func, "snnc.time_layout", "step")
        readout = self.readout or _str_attr(func, "snnc.readout", "none")
        if layout not in TIME_LAYOUTS:
            raise error(f"unknown time layout '{layout}' (expected one of: {', '.join(TIME_LAYOUTS)})", func.location)
        if readout not in READOUTS:
            raise error(f"unknown readout '{readout}' (expected one of: {', '.join(READOUTS)})", func.location)
        graph = convert_function(func, layout=layout, readout=readout, graph_name=self.graph_name)
        for op in list(module.ops):
            if op.op_name == "func.func":
                op.erase(check_uses=False)
        module.body.append(graph)


def _str_attr(op: Operation, name: str, default: str) -> str:
    a = op.get_attr(name)
    return str(a.value) if isinstance(a, StringAttr) else default


def _live_ops(block) -> set[int]:
    """Ids of the ops whose results the function's return (transitively) needs."""
    live: set[int] = set()
    work = [op for op in block.ops if op.op_name == "func.return"]
    while work:
        op = work.pop()
        for v in op.operands:
            d = v.defining_op()
            if d is not None and id(d) not in live:
                live.add(id(d))
                work.append(d)
    return live


def convert_function(func: Operation, *, layout: str, readout: str, graph_name: str = "main") -> snn.Graph:
    graph = snn.Graph.build(graph_name)
    b = Builder.at_end(graph.body)
    names_attr = func.get_attr("snnc.input_names")
    names = [str(a.value) for a in names_attr.value] if isinstance(names_attr, ArrayAttr) else []
    env: dict[Value, TV] = {}
    block = func.body
    for i, arg in enumerate(block.args):
        name = names[i] if i < len(names) else f"input{i}"
        info = torch_tensor_type(arg.type)
        loc = arg.location or func.location
        if info is None:
            raise error(f"input '{name}' of type {arg.type} is not a tensor", loc)
        shape, elt = info
        if any(d < 0 for d in shape):
            raise error(f"input '{name}' has a dynamic shape {list(shape)}: export the model with static shapes", loc)
        lead = _lead_of(layout, shape, name, loc)
        sample = shape[len(lead) :]
        inp = b.create(snn.Input, [], [TensorType(sample, elt)], {"name": StringAttr(name), "index": IntegerAttr(i, i64)}, location=loc)
        env[arg] = TV(value=inp.results[0], lead=lead, sizes=shape, element=elt)
    live = _live_ops(block)
    outputs: list[tuple[TV, Location]] = []
    for op in block.ops:
        if op.op_name == "func.return":
            outputs = [(env[v], op.location) for v in op.operands]
            break
        if id(op) not in live:  # computes nothing the outputs need (e.g. a discarded neuron state)
            continue
        ctx = Ctx(b, op, layout, readout, extra={"live": live})
        conv = CONVERTERS.get(ctx.name())
        if conv is None:
            raise ctx.fail(f"unsupported PyTorch operation '{ctx.name()}'")
        args = []
        for v in op.operands:
            if v not in env:
                raise ctx.fail(f"'{ctx.name()}' uses a value the converter does not know")
            args.append(env[v])
        results = conv(ctx, args)
        if len(results) != len(op.results):
            raise ctx.fail(f"internal error: converter of '{ctx.name()}' returned {len(results)} values for {len(op.results)} results")
        for r, tv in zip(op.results, results, strict=True):
            env[r] = tv
    if not outputs:
        raise error("the model returns no tensor", func.location)
    for i, (tv, loc) in enumerate(outputs):
        name = "output" if len(outputs) == 1 else f"output{i}"
        if tv.value is None:
            raise error(f"output #{i} does not depend on the model's inputs", user_location(loc) or loc)
        mode = tv.readout
        has_t = any("T" in kd for kd in tv.lead)
        if mode is None:
            mode = readout if (has_t or layout == "step") else "none"
        elif readout not in ("none", mode):
            raise error(
                f"output #{i}: the model itself reads out over time with '{mode}', but readout '{readout}' was requested",
                user_location(loc) or loc,
            )
        if mode is not None and mode != "none" and tv.readout is None and not has_t and layout != "step":
            mode = "none"
        attrs: dict[str, Any] = {"name": StringAttr(name), "index": IntegerAttr(i, i64)}
        if mode and mode != "none":
            attrs["readout"] = StringAttr(mode)
        b.create(snn.Output, [tv.value], [], attrs, location=loc)
    return graph


__all__ = ["CONVERTERS", "ConvertTorchToSnn", "READOUTS", "TIME_LAYOUTS", "convert_function", "torch_tensor_type", "user_location"]
