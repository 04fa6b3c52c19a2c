"""The ``nn`` dialect: float tensor math of one time step (synapses, pooling, shapes).

Every op is ``PURE``.  Shapes are per sample (no batch axis, NIR's convention): a 2-d
convolution takes ``[Cin, H, W]``, a linear layer ``[..., in]``.  Operands of synapse-like
ops may be float or spike tensors (spikes count as 0.0/1.0, ternary spikes as -1/0/+1);
results are float tensors.  Weights, biases and other constants are attributes
(``dense<...>`` or ``dense_resource<...>``), never operands.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ir.attributes import BoolAttr, DenseArrayAttr, FloatAttr, IntegerAttr
from ..ir.opdef import (
    Attr,
    Dialect,
    FloatTensor,
    OpDef,
    Operand,
    Result,
    Trait,
    TypeConstraint,
)
from ..ir.types import TensorType, i1, is_float_tensor, is_spike_tensor, si2
from .common import (
    PARAM_ATTR_KINDS,
    TENSOR_ATTR_KINDS,
    broadcast_shape,
    broadcasts_to,
    fmt_shape,
    int_tuple,
    is_float_param,
    is_float_tensor_attr,
    is_i64_array,
    param_shape,
    tensor_attr_shape,
)

#: Float tensors and spike tensors (what synapses accept).
FloatOrSpikeTensor = TypeConstraint(
    "float or spike tensor", lambda t: is_float_tensor(t) or is_spike_tensor(t)
)

_PURE = frozenset({Trait.PURE})


def _shape(v) -> tuple[int, ...]:
    t = v.type
    assert isinstance(t, TensorType)
    return tuple(t.shape)


def _norm_axis(op: OpDef, axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise op.emit_error(f"{what} {axis} is out of range for rank {rank}")
    return axis % rank


def _check_float_elements(op: OpDef) -> None:
    """Float operands must have the result's element type."""
    rt = op.results[0].type
    assert isinstance(rt, TensorType)
    for i, v in enumerate(op.operands):
        t = v.type
        if is_float_tensor(t) and t.element != rt.element:  # type: ignore[attr-defined]
            raise op.emit_error(
                f"operand #{i} has element type {t.element} but the result has {rt.element}"  # type: ignore[attr-defined]
            )


def _check_result_shape(op: OpDef, expect: Sequence[int]) -> None:
    got = _shape(op.results[0])
    if tuple(got) != tuple(expect):
        raise op.emit_error(f"result shape {fmt_shape(got)} does not match the expected shape {fmt_shape(expect)}")


def _positive(op: OpDef, name: str, vals: Sequence[int], n: int) -> None:
    if len(vals) != n:
        raise op.emit_error(f"attribute '{name}' must have {n} value(s), got {len(vals)}")
    if any(v < 1 for v in vals):
        raise op.emit_error(f"attribute '{name}' must be positive, got {fmt_shape(vals)}")


def spatial_padding(op: OpDef, n: int) -> tuple[tuple[int, int], ...]:
    """``padding`` as ((lo, hi), ...) per spatial dimension.

    ``n`` values pad both sides of each dimension equally; ``2n`` values give
    ``lo_0, hi_0, lo_1, hi_1, ...``.
    """
    pad = int_tuple(op, "padding")
    if len(pad) == n:
        pairs = tuple((p, p) for p in pad)
    elif len(pad) == 2 * n:
        pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(n))
    else:
        raise op.emit_error(f"attribute 'padding' must have {n} or {2 * n} values, got {len(pad)}")
    if any(p < 0 for pair in pairs for p in pair):
        raise op.emit_error(f"attribute 'padding' must be non-negative, got {fmt_shape(pad)}")
    return pairs


def window_output_size(size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int = 1) -> int:
    """``floor((size + lo + hi - dilation*(kernel-1) - 1) / stride) + 1`` (torch's rule)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


# =========================================================================== ops


class Constant(OpDef):
    """A constant tensor: ``result = value``.

    The result type equals the type of ``value`` (a ``dense`` or ``dense_resource``
    attribute of any element type).  Inside an ``snn.graph`` the value is the same at
    every time step.

    Example::

        %0 = "nn.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    """

    name = "nn.constant"
    operands = ()
    results = (Result("result"),)
    attributes = (Attr("value", TENSOR_ATTR_KINDS, doc="the tensor"),)
    traits = frozenset({Trait.PURE, Trait.CONSTANT})

    def verify_(self) -> None:
        a = self.get_attr("value")
        if a.type != self.results[0].type:  # type: ignore[union-attr]
            raise self.emit_error(f"result type {self.results[0].type} does not match the value's type {a.type}")  # type: ignore[union-attr]


class Linear(OpDef):
    """Affine map over the last axis: ``y[..., o] = sum_i x[..., i] * weight[o, i] + bias[o]``.

    ``weight`` is ``[out, in]``, ``bias`` (optional, zero when absent) ``[out]``.  The input
    is ``[..., in]`` (rank >= 1), the result ``[..., out]`` (NIR ``Affine``; ``Linear`` without bias).

    Example::

        %1 = "nn.linear"(%0) {bias = dense<0.5> : tensor<2xf32>,
               weight = dense<[[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]> : tensor<2x3xf32>}
               : (tensor<3xf32>) -> tensor<2xf32>
    """

    name = "nn.linear"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("result", FloatTensor),)
    attributes = (
        Attr("weight", TENSOR_ATTR_KINDS, doc="[out, in]", check=is_float_tensor_attr, check_doc="must hold floats"),
        Attr("bias", TENSOR_ATTR_KINDS, default=None, doc="[out] (optional)", check=is_float_tensor_attr,
             check_doc="must hold floats"),
    )
    traits = _PURE

    def verify_(self) -> None:
        _check_float_elements(self)
        x = _shape(self.operands[0])
        w = tensor_attr_shape(self, "weight")
        assert w is not None
        if len(w) != 2:
            raise self.emit_error(f"weight must be 2-d [out, in], got shape {fmt_shape(w)}")
        if len(x) < 1:
            raise self.emit_error("input must have rank >= 1")
        if x[-1] != w[1]:
            raise self.emit_error(f"input has {x[-1]} features but weight {fmt_shape(w)} expects {w[1]}")
        b = tensor_attr_shape(self, "bias")
        if b is not None and b != (w[0],):
            raise self.emit_error(f"bias shape {fmt_shape(b)} does not match the {w[0]} output features")
        _check_result_shape(self, (*x[:-1], w[0]))


class _ConvBase(OpDef):
    spatial: int = 0

    def verify_(self) -> None:
        n = self.spatial
        _check_float_elements(self)
        x = _shape(self.operands[0])
        if len(x) != n + 1:
            raise self.emit_error(f"input must have rank {n + 1} [Cin, {'L' if n == 1 else 'H, W'}], got {fmt_shape(x)}")
        w = tensor_attr_shape(self, "weight")
        assert w is not None
        if len(w) != n + 2:
            raise self.emit_error(f"weight must have rank {n + 2} [Cout, Cin/groups, kernel...], got {fmt_shape(w)}")
        groups = int(self.attr("groups"))
        if groups < 1:
            raise self.emit_error(f"groups must be >= 1, got {groups}")
        cout, cin_g = w[0], w[1]
        if x[0] != cin_g * groups:
            raise self.emit_error(
                f"input has {x[0]} channels but weight {fmt_shape(w)} with groups={groups} expects {cin_g * groups}"
            )
        if cout % groups != 0:
            raise self.emit_error(f"output channels {cout} are not divisible by groups={groups}")
        b = tensor_attr_shape(self, "bias")
        if b is not None and b != (cout,):
            raise self.emit_error(f"bias shape {fmt_shape(b)} does not match the {cout} output channels")
        stride = int_tuple(self, "stride")
        dil = int_tuple(self, "dilation")
        _positive(self, "stride", stride, n)
        _positive(self, "dilation", dil, n)
        pads = spatial_padding(self, n)
        out = []
        for d in range(n):
            o = window_output_size(x[1 + d], w[2 + d], stride[d], pads[d], dil[d])
            if o < 1:
                raise self.emit_error(
                    f"kernel {fmt_shape(w[2:])} with dilation {fmt_shape(dil)} does not fit the padded input {fmt_shape(x[1:])}"
                )
            out.append(o)
        _check_result_shape(self, (cout, *out))


def _conv_attrs(n: int) -> tuple[Attr, ...]:
    return (
        Attr("weight", TENSOR_ATTR_KINDS, doc="[Cout, Cin/groups, " + ("k]" if n == 1 else "kh, kw]"),
             check=is_float_tensor_attr, check_doc="must hold floats"),
        Attr("bias", TENSOR_ATTR_KINDS, default=None, doc="[Cout] (optional)", check=is_float_tensor_attr,
             check_doc="must hold floats"),
        Attr("stride", DenseArrayAttr, default=(1,) * n, doc=f"{n} value(s)", check=is_i64_array,
             check_doc="must be array<i64>"),
        Attr("padding", DenseArrayAttr, default=(0,) * n, doc=f"{n} (both sides) or {2 * n} (lo, hi per dim) values",
             check=is_i64_array, check_doc="must be array<i64>"),
        Attr("dilation", DenseArrayAttr, default=(1,) * n, doc=f"{n} value(s)", check=is_i64_array,
             check_doc="must be array<i64>"),
        Attr("groups", IntegerAttr, default=1, doc="channel groups"),
    )


class Conv1d(_ConvBase):
    """1-d cross-correlation (torch's ``conv1d``) with zero padding.

    ``x: [Cin, L]``, ``weight: [Cout, Cin/groups, K]``, ``bias: [Cout]`` (optional)::

        y[o, l] = bias[o] + sum_{c, k} w[o, c, k] * xpad[g*Cin/groups + c, l*stride + k*dilation]

    where ``g = o // (Cout/groups)`` and ``xpad`` is ``x`` with ``padding`` zeros before
    and after (or ``lo, hi`` when ``padding`` has 2 values).  Output length
    ``floor((L + lo + hi - dilation*(K-1) - 1) / stride) + 1`` (at least 1).

    Example::

        %1 = "nn.conv1d"(%0) {weight = dense<1.0> : tensor<4x2x3xf32>, padding = array<i64: 1>}
               : (tensor<2x10xf32>) -> tensor<4x10xf32>
    """

    name = "nn.conv1d"
    spatial = 1
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("result", FloatTensor),)
    attributes = _conv_attrs(1)
    traits = _PURE


class Conv2d(_ConvBase):
    """2-d cross-correlation (torch's ``conv2d``) with zero padding.

    ``x: [Cin, H, W]``, ``weight: [Cout, Cin/groups, KH, KW]``, ``bias: [Cout]`` (optional)::

        y[o, i, j] = bias[o] + sum_{c, p, q} w[o, c, p, q]
                     * xpad[g*Cin/groups + c, i*s0 + p*d0, j*s1 + q*d1]

    where ``g = o // (Cout/groups)``, ``(s0, s1) = stride``, ``(d0, d1) = dilation`` and
    ``xpad`` is ``x`` zero-padded by ``padding`` (2 values: both sides of H and of W;
    4 values: ``top, bottom, left, right``).  Output size per spatial dimension
    ``floor((n + lo + hi - d*(k-1) - 1) / s) + 1`` (at least 1).

    Example::

        %1 = "nn.conv2d"(%0) {padding = array<i64: 1, 1>, stride = array<i64: 2, 2>,
               weight = dense_resource<w_0123456789ab> : tensor<8x3x3x3xf32>}
               : (tensor<3x32x32xf32>) -> tensor<8x16x16xf32>
    """

    name = "nn.conv2d"
    spatial = 2
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("result", FloatTensor),)
    attributes = _conv_attrs(2)
    traits = _PURE


class BatchNorm(OpDef):
    """Batch normalisation in inference form over channel axis 0.

    ::

        y[c, ...] = (x[c, ...] - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]

    ``mean``, ``var``, ``weight`` and ``bias`` are ``[C]`` where ``C = x.shape[0]``
    (``weight`` defaults to ones, ``bias`` to zeros); the result has the input's shape.

    Example::

        %1 = "nn.batch_norm"(%0) {eps = 1.000000e-05 : f64, mean = dense<0.0> : tensor<2xf32>,
               var = dense<1.0> : tensor<2xf32>} : (tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
    """

    name = "nn.batch_norm"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("result", FloatTensor),)
    attributes = (
        Attr("mean", TENSOR_ATTR_KINDS, doc="running mean [C]", check=is_float_tensor_attr, check_doc="must hold floats"),
        Attr("var", TENSOR_ATTR_KINDS, doc="running variance [C]", check=is_float_tensor_attr,
             check_doc="must hold floats"),
        Attr("weight", TENSOR_ATTR_KINDS, default=None, doc="scale [C] (default ones)", check=is_float_tensor_attr,
             check_doc="must hold floats"),
        Attr("bias", TENSOR_ATTR_KINDS, default=None, doc="shift [C] (default zeros)", check=is_float_tensor_attr,
             check_doc="must hold floats"),
        Attr("eps", FloatAttr, default=1e-5, doc="added to the variance", check=lambda a: a.value >= 0,
             check_doc="must be >= 0"),
    )
    traits = _PURE

    def verify_(self) -> None:
        _check_float_elements(self)
        x = _shape(self.operands[0])
        if len(x) < 1:
            raise self.emit_error("input must have rank >= 1 (channels first)")
        for name in ("mean", "var", "weight", "bias"):
            s = tensor_attr_shape(self, name)
            if s is not None and s != (x[0],):
                raise self.emit_error(f"'{name}' has shape {fmt_shape(s)} but the input has {x[0]} channels")
        _check_result_shape(self, x)


class _Elementwise(OpDef):
    operands = (Operand("lhs", FloatOrSpikeTensor), Operand("rhs", FloatOrSpikeTensor))
    results = (Result("result", FloatTensor),)
    traits = _PURE

    def verify_(self) -> None:
        _check_float_elements(self)
        a, b = _shape(self.operands[0]), _shape(self.operands[1])
        s = broadcast_shape(a, b)
        if s is None:
            raise self.emit_error(f"operand shapes {fmt_shape(a)} and {fmt_shape(b)} do not broadcast")
        _check_result_shape(self, s)


class Add(_Elementwise):
    """Elementwise sum with numpy broadcasting: ``result = lhs + rhs``.

    The result shape is the broadcast of the operand shapes.

    Example::

        %2 = "nn.add"(%0, %1) : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    """

    name = "nn.add"


class Sub(_Elementwise):
    """Elementwise difference with numpy broadcasting: ``result = lhs - rhs``.

    Example::

        %2 = "nn.sub"(%0, %1) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    """

    name = "nn.sub"


class Mul(_Elementwise):
    """Elementwise product with numpy broadcasting: ``result = lhs * rhs``.

    Example::

        %2 = "nn.mul"(%0, %1) : (tensor<4xi1>, tensor<4xf32>) -> tensor<4xf32>
    """

    name = "nn.mul"


class Scale(OpDef):
    """Multiplication by a constant: ``result = input * scale`` (NIR ``Scale``).

    ``scale`` is a float or a float tensor that broadcasts to the input's shape; the
    result has the input's shape.

    Example::

        %1 = "nn.scale"(%0) {scale = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : (tensor<3xf32>) -> tensor<3xf32>
    """

    name = "nn.scale"
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("result", FloatTensor),)
    attributes = (Attr("scale", PARAM_ATTR_KINDS, doc="factor (scalar or broadcastable tensor)", check=is_float_param,
                       check_doc="must be a float or a float tensor"),)
    traits = _PURE

    def verify_(self) -> None:
        _check_float_elements(self)
        x = _shape(self.operands[0])
        s = param_shape(self, "scale")
        if not broadcasts_to(s, x):
            raise self.emit_error(f"scale of shape {fmt_shape(s)} does not broadcast to the input shape {fmt_shape(x)}")
        _check_result_shape(self, x)


class MatMul(OpDef):
    """Matrix product with numpy ``matmul`` semantics on the per-sample shapes.

    1-d ``lhs`` ``[K]`` is a row vector, 1-d ``rhs`` ``[K]`` a column vector (the added
    axis is removed from the result); leading axes broadcast.  ``lhs [..., M, K]`` times
    ``rhs [..., K, N]`` gives ``[broadcast(...), M, N]``.

    Example::

        %2 = "nn.matmul"(%0, %1) : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
    """

    name = "nn.matmul"
    operands = (Operand("lhs", FloatOrSpikeTensor), Operand("rhs", FloatOrSpikeTensor))
    results = (Result("result", FloatTensor),)
    traits = _PURE

    def verify_(self) -> None:
        _check_float_elements(self)
        a, b = _shape(self.operands[0]), _shape(self.operands[1])
        if not a or not b:
            raise self.emit_error("operands of matmul must have rank >= 1")
        a2 = (1, *a) if len(a) == 1 else a
        b2 = (*b, 1) if len(b) == 1 else b
        if a2[-1] != b2[-2]:
            raise self.emit_error(f"contraction dimensions differ: {fmt_shape(a)} x {fmt_shape(b)}")
        lead = broadcast_shape(a2[:-2], b2[:-2])
        if lead is None:
            raise self.emit_error(f"batch dimensions of {fmt_shape(a)} and {fmt_shape(b)} do not broadcast")
        out = (*lead, *([a2[-2]] if len(a) > 1 else []), *([b2[-1]] if len(b) > 1 else []))
        _check_result_shape(self, out)


class _Pool2d(OpDef):
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("result", FloatTensor),)
    attributes = (
        Attr("kernel_size", DenseArrayAttr, doc="[kh, kw]", check=is_i64_array, check_doc="must be array<i64>"),
        Attr("stride", DenseArrayAttr, doc="[sh, sw]", check=is_i64_array, check_doc="must be array<i64>"),
        Attr("padding", DenseArrayAttr, default=(0, 0), doc="2 (both sides) or 4 (top, bottom, left, right) values",
             check=is_i64_array, check_doc="must be array<i64>"),
    )
    traits = _PURE

    def verify_(self) -> None:
        _check_float_elements(self)
        x = _shape(self.operands[0])
        if len(x) != 3:
            raise self.emit_error(f"input must have rank 3 [C, H, W], got {fmt_shape(x)}")
        k = int_tuple(self, "kernel_size")
        s = int_tuple(self, "stride")
        _positive(self, "kernel_size", k, 2)
        _positive(self, "stride", s, 2)
        pads = spatial_padding(self, 2)
        if self.op_name == "nn.max_pool2d" and any(p > kk // 2 for pair, kk in zip(pads, k) for p in pair):
            raise self.emit_error(f"padding must be at most half the kernel size {fmt_shape(k)}")
        out = []
        for d in range(2):
            o = window_output_size(x[1 + d], k[d], s[d], pads[d])
            if o < 1:
                raise self.emit_error(f"kernel {fmt_shape(k)} does not fit the padded input {fmt_shape(x[1:])}")
            out.append(o)
        _check_result_shape(self, (x[0], *out))


class SumPool2d(_Pool2d):
    """Sum over 2-d windows (NIR ``SumPool2d``), zero padding.

    ::

        y[c, i, j] = sum_{p < kh, q < kw} xpad[c, i*sh + p, j*sw + q]

    Output size ``floor((n + lo + hi - k) / s) + 1`` per spatial dimension (floor rounding).

    Example::

        %1 = "nn.sum_pool2d"(%0) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
               : (tensor<4x8x8xf32>) -> tensor<4x4x4xf32>
    """

    name = "nn.sum_pool2d"


class AvgPool2d(_Pool2d):
    """Mean over 2-d windows, zero padding counted in the divisor.

    As torch's ``avg_pool2d`` with ``count_include_pad=True`` (NIR ``AvgPool2d``)::

        y[c, i, j] = (1 / (kh*kw)) * sum_{p < kh, q < kw} xpad[c, i*sh + p, j*sw + q]

    Output size as for ``nn.sum_pool2d``.

    Example::

        %1 = "nn.avg_pool2d"(%0) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
               : (tensor<4x8x8xf32>) -> tensor<4x4x4xf32>
    """

    name = "nn.avg_pool2d"


class MaxPool2d(_Pool2d):
    """Maximum over 2-d windows.

    Padding is ``-inf`` (never selected) and may be at most half the kernel size
    (torch's rule)::

        y[c, i, j] = max_{p < kh, q < kw} xpad[c, i*sh + p, j*sw + q]

    Output size as for ``nn.sum_pool2d``.  On binary spikes (``i1``) the maximum is the
    OR of the window and the result stays ``i1`` (padding is 0, never selected over a
    spike); float inputs give float results; ternary spikes are not accepted.

    Example::

        %1 = "nn.max_pool2d"(%0) {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>,
               stride = array<i64: 2, 2>} : (tensor<4x8x8xf32>) -> tensor<4x4x4xf32>
        %3 = "nn.max_pool2d"(%2) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
               : (tensor<4x8x8xi1>) -> tensor<4x4x4xi1>
    """

    name = "nn.max_pool2d"
    results = (Result("result"),)

    def verify_(self) -> None:
        it = self.operands[0].type
        rt = self.results[0].type
        if isinstance(it, TensorType) and it.element == i1:
            if not (isinstance(rt, TensorType) and rt.element == i1):
                raise self.emit_error(f"max pooling of i1 spikes gives i1 spikes, not {rt}")
        elif isinstance(it, TensorType) and it.element == si2:
            raise self.emit_error("max pooling of ternary (si2) spikes is not defined")
        elif not is_float_tensor(rt):
            raise self.emit_error(f"result must be a float tensor, got {rt}")
        super().verify_()


class Flatten(OpDef):
    """Merge the per-sample axes ``start_dim..end_dim`` into one (row-major order).

    Both ends are inclusive; negative values count from the end (torch's ``flatten``
    without the batch axis).

    ``[2, 3, 4]`` with ``start_dim = 0, end_dim = -1`` becomes ``[24]``; with
    ``start_dim = 1`` it becomes ``[2, 12]``.  Element type is kept.

    Example::

        %1 = "nn.flatten"(%0) {end_dim = -1 : i64, start_dim = 0 : i64} : (tensor<2x3x4xi1>) -> tensor<24xi1>
    """

    name = "nn.flatten"
    operands = (Operand("input"),)
    results = (Result("result"),)
    attributes = (
        Attr("start_dim", IntegerAttr, default=0, doc="first axis merged"),
        Attr("end_dim", IntegerAttr, default=-1, doc="last axis merged (inclusive)"),
    )
    traits = _PURE

    def verify_(self) -> None:
        x = _shape(self.operands[0])
        if self.results[0].type.element != self.operands[0].type.element:  # type: ignore[attr-defined]
            raise self.emit_error("result element type must equal the input's")
        rank = max(len(x), 1)
        s = _norm_axis(self, int(self.attr("start_dim")), rank, "start_dim")
        e = _norm_axis(self, int(self.attr("end_dim")), rank, "end_dim")
        if s > e:
            raise self.emit_error(f"start_dim {s} is after end_dim {e}")
        if not x:
            _check_result_shape(self, (1,))
            return
        n = 1
        for d in x[s : e + 1]:
            n *= d
        _check_result_shape(self, (*x[:s], n, *x[e + 1 :]))


class Reshape(OpDef):
    """Reinterpret the elements in row-major order with the result type's shape.

    The element count and the element type must be unchanged.

    Example::

        %1 = "nn.reshape"(%0) : (tensor<2x6xf32>) -> tensor<3x4xf32>
    """

    name = "nn.reshape"
    operands = (Operand("input"),)
    results = (Result("result"),)
    traits = _PURE

    def verify_(self) -> None:
        a, r = self.operands[0].type, self.results[0].type
        assert isinstance(a, TensorType) and isinstance(r, TensorType)
        if a.element != r.element:
            raise self.emit_error("result element type must equal the input's")
        if a.num_elements != r.num_elements:
            raise self.emit_error(f"cannot reshape {a.num_elements} elements {fmt_shape(a.shape)} into {fmt_shape(r.shape)}")


class Transpose(OpDef):
    """Permute the per-sample axes: ``result.shape[i] = input.shape[perm[i]]``.

    As numpy's ``transpose(x, perm)``.

    Example::

        %1 = "nn.transpose"(%0) {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    """

    name = "nn.transpose"
    operands = (Operand("input"),)
    results = (Result("result"),)
    attributes = (Attr("perm", DenseArrayAttr, doc="a permutation of 0..rank-1", check=is_i64_array,
                       check_doc="must be array<i64>"),)
    traits = _PURE

    def verify_(self) -> None:
        x = _shape(self.operands[0])
        perm = int_tuple(self, "perm")
        if sorted(perm) != list(range(len(x))):
            raise self.emit_error(f"perm {fmt_shape(perm)} is not a permutation of the {len(x)} input axes")
        if self.results[0].type.element != self.operands[0].type.element:  # type: ignore[attr-defined]
            raise self.emit_error("result element type must equal the input's")
        _check_result_shape(self, tuple(x[p] for p in perm))


class Concat(OpDef):
    """Join tensors along ``axis`` (negative counts from the end), numpy's ``concatenate``.

    All inputs have the same rank, element type and sizes except along ``axis``; the
    result's ``axis`` size is the sum.

    Example::

        %2 = "nn.concat"(%0, %1) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<6x3xf32>
    """

    name = "nn.concat"
    operands = (Operand("inputs", variadic=True),)
    results = (Result("result"),)
    attributes = (Attr("axis", IntegerAttr, default=0, doc="axis to join along"),)
    traits = _PURE

    def verify_(self) -> None:
        if not self.operands:
            raise self.emit_error("needs at least one input")
        shapes = [_shape(v) for v in self.operands]
        elt = self.operands[0].type.element  # type: ignore[attr-defined]
        rank = len(shapes[0])
        if rank == 0:
            raise self.emit_error("cannot concatenate rank-0 tensors")
        ax = _norm_axis(self, int(self.attr("axis")), rank)
        total = 0
        for i, (v, s) in enumerate(zip(self.operands, shapes)):
            if v.type.element != elt:  # type: ignore[attr-defined]
                raise self.emit_error(f"input #{i} has element type {v.type.element}, input #0 has {elt}")  # type: ignore[attr-defined]
            if len(s) != rank or any(s[d] != shapes[0][d] for d in range(rank) if d != ax):
                raise self.emit_error(
                    f"input #{i} shape {fmt_shape(s)} does not match {fmt_shape(shapes[0])} outside axis {ax}"
                )
            total += s[ax]
        if self.results[0].type.element != elt:  # type: ignore[attr-defined]
            raise self.emit_error("result element type must equal the inputs'")
        out = list(shapes[0])
        out[ax] = total
        _check_result_shape(self, out)


class ReLU(OpDef):
    """Rectifier: ``result = max(input, 0)`` elementwise.

    Example::

        %1 = "nn.relu"(%0) : (tensor<4xf32>) -> tensor<4xf32>
    """

    name = "nn.relu"
    operands = (Operand("input", FloatTensor),)
    results = (Result("result", FloatTensor),)
    traits = _PURE

    def verify_(self) -> None:
        _check_float_elements(self)
        _check_result_shape(self, _shape(self.operands[0]))


class _Reduce(OpDef):
    operands = (Operand("input", FloatOrSpikeTensor),)
    results = (Result("result", FloatTensor),)
    attributes = (
        Attr("axes", DenseArrayAttr, default=(), doc="axes to reduce (empty: all axes)", check=is_i64_array,
             check_doc="must be array<i64>"),
        Attr("keepdim", BoolAttr, default=False, doc="keep reduced axes with size 1"),
    )
    traits = _PURE

    def reduced_axes(self) -> tuple[int, ...]:
        x = _shape(self.operands[0])
        axes = int_tuple(self, "axes")
        if not axes:
            return tuple(range(len(x)))
        norm = tuple(_norm_axis(self, a, len(x)) for a in axes)
        if len(set(norm)) != len(norm):
            raise self.emit_error(f"axes {fmt_shape(axes)} repeat an axis")
        return tuple(sorted(norm))

    def verify_(self) -> None:
        _check_float_elements(self)
        x = _shape(self.operands[0])
        axes = self.reduced_axes()
        keep = bool(self.attr("keepdim"))
        out = [1 if d in axes else n for d, n in enumerate(x)] if keep else [n for d, n in enumerate(x) if d not in axes]
        _check_result_shape(self, out)


class Sum(_Reduce):
    """Sum over ``axes`` (all axes when empty); ``keepdim`` keeps them with size 1.

    Example::

        %1 = "nn.sum"(%0) {axes = array<i64: 1>} : (tensor<4x3xf32>) -> tensor<4xf32>
    """

    name = "nn.sum"


class Mean(_Reduce):
    """Arithmetic mean over ``axes`` (all axes when empty); ``keepdim`` keeps them with size 1.

    Example::

        %1 = "nn.mean"(%0) {axes = array<i64: 1, 2>, keepdim = true} : (tensor<4x3x3xf32>) -> tensor<4x1x1xf32>
    """

    name = "nn.mean"


# =========================================================================== spike-driven attention (mask and add)

#: Binary spike tensors (``i1``): the masks of the attention ops.
BinarySpikeTensor = TypeConstraint(
    "binary (i1) spike tensor", lambda t: isinstance(t, TensorType) and t.element == i1
)


def _reduced_shape(op: OpDef, x: Sequence[int], axes: Sequence[int], keep: bool) -> list[int]:
    norm = tuple(_norm_axis(op, a, len(x)) for a in axes) if axes else tuple(range(len(x)))
    if len(set(norm)) != len(norm):
        raise op.emit_error(f"axes {fmt_shape(axes)} repeat an axis")
    return [1 if d in norm else n for d, n in enumerate(x)] if keep else [n for d, n in enumerate(x) if d not in norm]


class SpikeAnd(OpDef):
    """Logical AND of two binary spike tensors, numpy broadcasting: ``result = lhs & rhs``.

    The product of two ``i1`` spike tensors (spike-driven attention's ``Q AND mask``).  The
    result shape is the broadcast of the operand shapes; its element type is ``i1`` (the
    AND as spikes) or a float type (the same 0.0/1.0 values, where a consumer needs floats).

    Example::

        %2 = "nn.spike_and"(%0, %1) : (tensor<2x16x4xi1>, tensor<2x1x4xi1>) -> tensor<2x16x4xi1>
    """

    name = "nn.spike_and"
    operands = (Operand("lhs", BinarySpikeTensor), Operand("rhs", BinarySpikeTensor))
    results = (Result("result"),)
    traits = _PURE

    def verify_(self) -> None:
        rt = self.results[0].type
        if not (isinstance(rt, TensorType) and (rt.element == i1 or is_float_tensor(rt))):
            raise self.emit_error(f"result must be an i1 or float tensor, got {rt}")
        a, b = _shape(self.operands[0]), _shape(self.operands[1])
        s = broadcast_shape(a, b)
        if s is None:
            raise self.emit_error(f"operand shapes {fmt_shape(a)} and {fmt_shape(b)} do not broadcast")
        _check_result_shape(self, s)


class AndPopcount(OpDef):
    """Count of coinciding spikes: ``result = sum over axes of (lhs AND rhs)`` (exact integers).

    ``lhs`` and ``rhs`` are ``i1`` spike tensors that broadcast (numpy rules) to a shape ``P``;
    ``axes`` index ``P`` (negative counts from the end; empty: every axis); ``keepdim`` keeps
    the reduced axes with size 1.  The result is a float tensor holding the integer counts
    ``0 .. prod(P[axes])`` (exact in any float type up to 2^24 for f32).  This is
    ``nn.sum(nn.mul(lhs, rhs))`` of spikes, i.e. SDSA v1's ``sum over tokens of (K AND V)``:
    one AND per element pair and one +1 per coincidence, no multiplication.

    Example::

        %2 = "nn.and_popcount"(%0, %1) {axes = array<i64: 1>, keepdim = true}
               : (tensor<2x16x4xi1>, tensor<2x16x4xi1>) -> tensor<2x1x4xf64>
    """

    name = "nn.and_popcount"
    operands = (Operand("lhs", BinarySpikeTensor), Operand("rhs", BinarySpikeTensor))
    results = (Result("result", FloatTensor),)
    attributes = (
        Attr("axes", DenseArrayAttr, default=(), doc="axes of the broadcast shape to count over (empty: all)",
             check=is_i64_array, check_doc="must be array<i64>"),
        Attr("keepdim", BoolAttr, default=False, doc="keep counted axes with size 1"),
    )
    traits = _PURE

    def broadcast_shape(self) -> tuple[int, ...]:
        a, b = _shape(self.operands[0]), _shape(self.operands[1])
        s = broadcast_shape(a, b)
        if s is None:
            raise self.emit_error(f"operand shapes {fmt_shape(a)} and {fmt_shape(b)} do not broadcast")
        return tuple(s)

    def reduced_axes(self) -> tuple[int, ...]:
        p = self.broadcast_shape()
        axes = int_tuple(self, "axes")
        if not axes:
            return tuple(range(len(p)))
        return tuple(sorted(_norm_axis(self, a, len(p)) for a in axes))

    def verify_(self) -> None:
        p = self.broadcast_shape()
        _check_result_shape(self, _reduced_shape(self, p, int_tuple(self, "axes"), bool(self.attr("keepdim"))))


class MaskedAccumulate(OpDef):
    """Matrix product with a binary spike left operand, as selection and addition of rows.

    ``mask`` is ``i1`` ``[..., M, K]``, ``values`` ``[..., K, N]`` (float numbers, or ``i1`` /
    ``si2`` spikes read as 0/1 and -1/0/+1) with the same leading (batch) dimensions, rank
    >= 2; the result is the float tensor ``[..., M, N]``::

        result[..., m, n] = sum over k with mask[..., m, k] = 1 of values[..., k, n]

    i.e. ``nn.matmul(mask, values)`` computed without a multiplication: row ``m`` of the result
    adds the rows of ``values`` that spike ``m`` of the mask selects (one addition per selected
    element).  With spike ``values`` every term is an AND and the sum a popcount (Meta-SpikeFormer's
    ``K^T V``); with integer counts it is ``Q (K^T V)``.  In float64 the sums are those of
    ``nn.matmul`` (exact for integer counts).

    Example::

        %2 = "nn.masked_accumulate"(%0, %1) : (tensor<2x16x4xi1>, tensor<2x4x4xf64>) -> tensor<2x16x4xf64>
    """

    name = "nn.masked_accumulate"
    operands = (Operand("mask", BinarySpikeTensor), Operand("values", FloatOrSpikeTensor))
    results = (Result("result", FloatTensor),)
    traits = _PURE

    def verify_(self) -> None:
        _check_float_elements(self)
        a, b = _shape(self.operands[0]), _shape(self.operands[1])
        if len(a) < 2 or len(a) != len(b) or a[:-2] != b[:-2] or a[-1] != b[-2]:
            raise self.emit_error(f"operand shapes {fmt_shape(a)} and {fmt_shape(b)} are not [..., M, K] and [..., K, N]")
        _check_result_shape(self, (*a[:-1], b[-1]))


OPS: tuple[type[OpDef], ...] = (
    Constant,
    Linear,
    Conv1d,
    Conv2d,
    BatchNorm,
    Add,
    Sub,
    Mul,
    Scale,
    MatMul,
    SumPool2d,
    AvgPool2d,
    MaxPool2d,
    Flatten,
    Reshape,
    Transpose,
    Concat,
    ReLU,
    Sum,
    Mean,
    SpikeAnd,
    AndPopcount,
    MaskedAccumulate,
)

DIALECT = Dialect("nn", "float tensor math of one time step: synapses, pooling, shape ops", OPS)

__all__ = [c.__name__ for c in OPS] + ["DIALECT", "OPS", "BinarySpikeTensor", "FloatOrSpikeTensor", "spatial_padding", "window_output_size"]
