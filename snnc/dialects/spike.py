"""The ``spike`` dialect: integer spiking networks whose semantics are exact to the bit.

This is the level the C backend, the chip simulator and the RTL core implement; the
contract they share is ``integer.md`` (reproduced in ``docs/spike.md``).  Every value
inside the step is an integer tensor: spikes are ``i1`` (0/1) or ``si2`` (-1/0/+1),
accumulators and membranes are signed ``iN`` (signless integers are read as two's
complement).  Notation used by every docstring:

* ``sat_N(x) = min(max(x, -2^(N-1)), 2^(N-1) - 1)`` (saturation to N signed bits);
* ``x >>> k`` is an arithmetic right shift: ``floor(x / 2^k)`` (rounds toward minus infinity);
* the width of a result type (``tensor<10xi24>`` -> 24) is the saturation width of the op
  that produces it: an accumulator declared ``i24`` saturates at 24 bits after EVERY addition.

Weights are integer tensor attributes (``dense``/``dense_resource`` with an ``iW`` element
type: ``i8`` for 8-bit weights, ``i4``, ``i2`` for ternary and binary {-1, +1} weights);
the verifier checks every weight lies in the W-bit signed range.  Neuron parameters are an
``IntegerAttr`` (one value for every neuron) or an integer tensor attribute broadcastable
to the neuron shape (per-neuron values).

Only :class:`Quantize` and :class:`Dequantize` touch floats: they mark the graph boundary
(the host converts real-valued inputs once per step, and reads real-valued outputs); the
step itself is integer adds, shifts, compares and, for the dense path of real-valued
inputs and the ``mul`` leak mode, integer multiplies.

The interpreter (``snnc/interp/spike.py``) computes in int64 and checks that no
intermediate leaves the int64 range (the verifiers bound every width so that it cannot).
"""

from __future__ import annotations

from ..ir.attributes import (
    BoolAttr,
    DenseArrayAttr,
    DenseElementsAttr,
    DenseResourceAttr,
    IntegerAttr,
    StringAttr,
)
from ..ir.opdef import (
    Attr,
    Dialect,
    FloatTensor,
    OpDef,
    Operand,
    Result,
    SpikeTensor,
    Trait,
    TypeConstraint,
)
from ..ir.types import IntegerType, TensorType, i1, is_int_tensor, is_spike_tensor, si2
from .common import (
    PARAM_ATTR_KINDS,
    TENSOR_ATTR_KINDS,
    broadcast_shape,
    broadcasts_to,
    fmt_shape,
    int_tuple,
    is_float_param,
    is_i64_array,
    param_shape,
)
from .nn import spatial_padding, window_output_size

RESETS = ("hard", "soft", "none")
COMPARISONS = ("ge", "gt")
LEAK_MODES = ("shift", "none", "mul")
ROUNDINGS = ("floor", "half_up")

#: Largest accumulator / membrane width: every intermediate of the interpreter and of a
#: C implementation with int64 arithmetic stays below 2^62 (sums of at most 4 such values).
MAX_WIDTH = 48
#: Largest ``frac_bits`` of the ``mul`` leak (membrane_bits + frac_bits + 1 <= 62).
MAX_FRAC_BITS = 13

#: Integer tensors that are not spikes (accumulators, membranes, quantized inputs).
IntValueTensor = TypeConstraint(
    "integer tensor (not i1/si2)", lambda t: is_int_tensor(t) and not is_spike_tensor(t)
)
#: Spike tensors or integer tensors.
SpikeOrIntTensor = TypeConstraint("spike or integer tensor", is_int_tensor)

INT_PARAM_ATTR_KINDS = (IntegerAttr, DenseElementsAttr, DenseResourceAttr)


def is_int_param(a) -> bool:
    if isinstance(a, IntegerAttr):
        return True
    return isinstance(a, (DenseElementsAttr, DenseResourceAttr)) and isinstance(a.type.element, IntegerType)


def is_int_tensor_attr(a) -> bool:
    return isinstance(a, (DenseElementsAttr, DenseResourceAttr)) and isinstance(a.type.element, IntegerType)


def _iparam(name: str, doc: str, default: int | None | object = ...) -> Attr:
    if default is ...:
        return Attr(name, INT_PARAM_ATTR_KINDS, doc=doc, check=is_int_param, check_doc="must be an integer or an integer tensor")
    return Attr(name, INT_PARAM_ATTR_KINDS, default=default, doc=doc, check=is_int_param,
                check_doc="must be an integer or an integer tensor")


def _shape(v) -> tuple[int, ...]:
    t = v.type
    assert isinstance(t, TensorType)
    return tuple(t.shape)


def width(t) -> int:
    """Bit width of an integer tensor type's element (i1 -> 1, si2 -> 2, iN -> N)."""
    assert isinstance(t, TensorType) and isinstance(t.element, IntegerType)
    return t.element.width


def signed_range(bits: int) -> tuple[int, int]:
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def value_bound(t) -> int:
    """Largest magnitude a value of integer tensor type ``t`` can have."""
    assert isinstance(t, TensorType) and isinstance(t.element, IntegerType)
    lo, hi = t.element.value_range()
    return max(abs(lo), abs(hi))


def _param_values(op: OpDef, name: str):
    import numpy as np

    return np.asarray(op.attr(name), dtype=np.int64)


def _check_int_result(op: OpDef, what: str = "result", lo: int = 2, hi: int = MAX_WIDTH) -> int:
    t = op.results[0].type
    assert isinstance(t, TensorType)
    if not isinstance(t.element, IntegerType) or t.element.is_unsigned or t.element in (i1, si2):
        raise op.emit_error(f"{what} must have a signed iN element type (not i1/si2/uiN), got {t.element}")
    w = t.element.width
    if not lo <= w <= hi:
        raise op.emit_error(f"{what} width {w} must be in {lo}..{hi}")
    return w


def _check_result_shape(op: OpDef, expect) -> None:
    got = _shape(op.results[0])
    if tuple(got) != tuple(expect):
        raise op.emit_error(f"result shape {fmt_shape(got)} does not match the expected shape {fmt_shape(expect)}")


def _check_weight(op: OpDef, rank: int) -> tuple[int, ...]:
    """Weight must be an iW tensor of the given rank whose values fit W signed bits."""
    import numpy as np

    a = op.get_attr("weight")
    assert a is not None
    if not is_int_tensor_attr(a):
        raise op.emit_error(f"weight must hold integers, got element type {a.type.element}")  # type: ignore[union-attr]
    elt = a.type.element  # type: ignore[union-attr]
    if elt in (i1,) or elt.is_unsigned:
        raise op.emit_error(f"weight element type must be a signed iW (W >= 2), got {elt}")
    w = tuple(a.type.shape)  # type: ignore[union-attr]
    if len(w) != rank:
        raise op.emit_error(f"weight must have rank {rank}, got shape {fmt_shape(w)}")
    data = np.asarray(a.data, dtype=np.int64)  # type: ignore[union-attr]
    lo, hi = signed_range(elt.width)
    if data.size and (int(data.min()) < lo or int(data.max()) > hi):
        raise op.emit_error(f"weight values must lie in [{lo}, {hi}] ({elt.width}-bit signed), got "
                            f"[{int(data.min())}, {int(data.max())}]")
    acc = width(op.results[0].type)
    if elt.width > acc:
        raise op.emit_error(f"weight width {elt.width} exceeds the accumulator width {acc}")
    return w


def weight_bits(op: OpDef) -> int:
    a = op.get_attr("weight")
    return a.type.element.width  # type: ignore[union-attr]


# =========================================================================== boundary


class Quantize(OpDef):
    """Real-valued input -> integer (graph boundary): ``y = sat_B(rint(x * scale))``.

    ``rint`` rounds half to even (numpy/IEEE ``nearbyint``), ``B`` is the result width.
    ``scale`` is a float or a float tensor broadcastable to the input shape.  This op runs
    where the inputs enter the integer network (the host of a microcontroller, the
    encoder of a chip): it is the only op whose operand is a float, and it is never part of
    an integer step function.  Its result feeds ``spike.accumulate_dense`` /
    ``spike.accumulate_conv2d`` (the multiply path of the encoding layer).

    Example::

        %1 = "spike.quantize"(%0) {scale = 6.350000e+01 : f64} : (tensor<4xf32>) -> tensor<4xi8>
    """

    name = "spike.quantize"
    operands = (Operand("input", FloatTensor),)
    results = (Result("result", IntValueTensor),)
    attributes = (
        Attr("scale", PARAM_ATTR_KINDS, doc="integer units per real unit", check=is_float_param,
             check_doc="must be a float or a float tensor"),
    )
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        _check_int_result(self, "result", 2, 32)
        x = _shape(self.operands[0])
        _check_result_shape(self, x)
        if not broadcasts_to(param_shape(self, "scale"), x):
            raise self.emit_error(f"scale of shape {fmt_shape(param_shape(self, 'scale'))} does not broadcast to {fmt_shape(x)}")


class Dequantize(OpDef):
    """Integer -> real value (graph boundary, for reading integer membranes out): ``y = x * scale``.

    Computed in the run's float dtype.  Like ``spike.quantize`` it is outside the integer
    step: a backend returns the integer and leaves the multiplication to the host.

    Example::

        %2 = "spike.dequantize"(%1) {scale = 1.562500e-02 : f64} : (tensor<4xi16>) -> tensor<4xf32>
    """

    name = "spike.dequantize"
    operands = (Operand("input", SpikeOrIntTensor),)
    results = (Result("result", FloatTensor),)
    attributes = (
        Attr("scale", PARAM_ATTR_KINDS, doc="real units per integer unit", check=is_float_param,
             check_doc="must be a float or a float tensor"),
    )
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        x = _shape(self.operands[0])
        _check_result_shape(self, x)
        if not broadcasts_to(param_shape(self, "scale"), x):
            raise self.emit_error(f"scale of shape {fmt_shape(param_shape(self, 'scale'))} does not broadcast to {fmt_shape(x)}")


# =========================================================================== synapses


class Accumulate(OpDef):
    """Event-driven dense synapse: integer weights ``[out, in]`` x a spike vector.

    For every leading index and every output ``o`` (``A`` = the result width)::

        acc = 0
        for i in 0 .. in-1 (increasing input index = axon order):
            if x[..., i] != 0:  acc = sat_A(acc + x[..., i] * weight[o, i])
        y[..., o] = acc

    ``x`` is ``i1`` (an event adds the weight) or ``si2`` (an event of value -1 subtracts
    it).  Saturation after every addition, in increasing input order, is integer.md's step
    1; when ``sum_i |weight[o, i]| <= 2^(A-1) - 1`` no saturation can occur and the result
    is the plain sum.  No bias here: a bias is the neuron's ``bias``.

    Example::

        %1 = "spike.accumulate"(%0) {weight = dense<[[1, -2, 3]]> : tensor<1x3xi8>}
               : (tensor<3xi1>) -> tensor<1xi32>
    """

    name = "spike.accumulate"
    operands = (Operand("input", SpikeTensor),)
    results = (Result("result", IntValueTensor),)
    attributes = (
        Attr("weight", TENSOR_ATTR_KINDS, doc="[out, in] signed W-bit integers", check=is_int_tensor_attr,
             check_doc="must hold integers"),
    )
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        _check_int_result(self, "accumulator")
        w = _check_weight(self, 2)
        x = _shape(self.operands[0])
        if len(x) < 1:
            raise self.emit_error("input must have rank >= 1")
        if x[-1] != w[1]:
            raise self.emit_error(f"input has {x[-1]} features but weight {fmt_shape(w)} expects {w[1]}")
        _check_result_shape(self, (*x[:-1], w[0]))


class AccumulateDense(OpDef):
    """Multiply-accumulate synapse for non-spike integer inputs (the encoding layer).

    ``x`` is an integer tensor ``[..., in]`` (e.g. the result of ``spike.quantize``);
    ``A`` = the result width::

        acc = 0
        for i in 0 .. in-1 (increasing):  acc = sat_A(acc + x[..., i] * weight[o, i])
        y[..., o] = acc

    Each product is exact (the verifier demands ``width(x) + W <= 62`` so it fits int64);
    the accumulator saturates after every addition in increasing input order, as
    ``spike.accumulate`` does for events.

    Example::

        %2 = "spike.accumulate_dense"(%1) {weight = dense<[[3, -1]]> : tensor<1x2xi8>}
               : (tensor<2xi8>) -> tensor<1xi32>
    """

    name = "spike.accumulate_dense"
    operands = (Operand("input", IntValueTensor),)
    results = (Result("result", IntValueTensor),)
    attributes = Accumulate.attr_defs()
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        _check_int_result(self, "accumulator")
        w = _check_weight(self, 2)
        x = _shape(self.operands[0])
        if len(x) < 1:
            raise self.emit_error("input must have rank >= 1")
        if x[-1] != w[1]:
            raise self.emit_error(f"input has {x[-1]} features but weight {fmt_shape(w)} expects {w[1]}")
        if width(self.operands[0].type) + weight_bits(self) > 62:
            raise self.emit_error("input width + weight width must be <= 62 (exact int64 products)")
        _check_result_shape(self, (*x[:-1], w[0]))


class AccumulateConv2d(OpDef):
    """2-d convolution into an integer accumulator (torch cross-correlation, zero padding).

    ``x`` is ``[Cin, H, W]``, spikes (``i1``/``si2``: events add or subtract the weight) or
    integers (products, exact as in ``spike.accumulate_dense``).  ``weight`` is
    ``[Cout, Cin/groups, KH, KW]``.  For output ``(o, p, q)`` with group ``g = o / (Cout/groups)``::

        acc = 0
        for c in the group's input channels (increasing), ky in 0..KH-1, kx in 0..KW-1:
            (y, x) = (p*sh + ky*dh - pad_top, q*sw + kx*dw - pad_left)
            if (y, x) inside the input:  acc = sat_A(acc + in[c, y, x] * weight[o, c - g*Cin/g, ky, kx])
        out[o, p, q] = acc

    The loop order (c, ky, kx) visits inputs in increasing flat index ``c*H*W + y*W + x``
    (integer.md's axon order).  ``A`` = the result width.  The output size follows torch:
    ``floor((H + pads - dh*(KH-1) - 1) / sh) + 1``.

    Example::

        %1 = "spike.accumulate_conv2d"(%0) {dilation = array<i64: 1, 1>, groups = 1 : i64,
               padding = array<i64: 1, 1>, stride = array<i64: 1, 1>, weight = dense<1> : tensor<4x2x3x3xi8>}
               : (tensor<2x8x8xi1>) -> tensor<4x8x8xi32>
    """

    name = "spike.accumulate_conv2d"
    operands = (Operand("input", SpikeOrIntTensor),)
    results = (Result("result", IntValueTensor),)
    attributes = (
        *Accumulate.attr_defs(),
        Attr("stride", DenseArrayAttr, default=(1, 1), doc="[sh, sw]", check=is_i64_array, check_doc="must be array<i64>"),
        Attr("padding", DenseArrayAttr, default=(0, 0), doc="2 or 4 values (as nn.conv2d)", check=is_i64_array,
             check_doc="must be array<i64>"),
        Attr("dilation", DenseArrayAttr, default=(1, 1), doc="[dh, dw]", check=is_i64_array,
             check_doc="must be array<i64>"),
        Attr("groups", IntegerAttr, default=1, doc="channel groups"),
    )
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        _check_int_result(self, "accumulator")
        w = _check_weight(self, 4)
        x = _shape(self.operands[0])
        if len(x) != 3:
            raise self.emit_error(f"input must have rank 3 [Cin, H, W], got {fmt_shape(x)}")
        if not is_spike_tensor(self.operands[0].type) and width(self.operands[0].type) + weight_bits(self) > 62:
            raise self.emit_error("input width + weight width must be <= 62 (exact int64 products)")
        groups = int(self.attr("groups"))
        if groups < 1:
            raise self.emit_error(f"groups must be >= 1, got {groups}")
        if x[0] != w[1] * groups or w[0] % groups:
            raise self.emit_error(f"input has {x[0]} channels but weight {fmt_shape(w)} with groups={groups} "
                                  f"expects {w[1] * groups} (and Cout divisible by groups)")
        stride, dil = int_tuple(self, "stride"), int_tuple(self, "dilation")
        for name, vals in (("stride", stride), ("dilation", dil)):
            if len(vals) != 2 or any(v < 1 for v in vals):
                raise self.emit_error(f"attribute '{name}' must be 2 positive values, got {fmt_shape(vals)}")
        pads = spatial_padding(self, 2)
        out = [window_output_size(x[1 + d], w[2 + d], stride[d], pads[d], dil[d]) for d in range(2)]
        if min(out) < 1:
            raise self.emit_error(f"kernel {fmt_shape(w[2:])} does not fit the padded input {fmt_shape(x[1:])}")
        _check_result_shape(self, (w[0], *out))


class SumPool2d(OpDef):
    """Sum pooling of spikes or integers: ``y[c, p, q] = sat_R(sum of the window)``.

    Window ``[p*sh - pad_top, +KH) x [q*sw - pad_left, +KW)``, zero padding; ``R`` = the
    result width.  For spike inputs (``i1``) the sum is a count in ``0..KH*KW``; the
    verifier demands that the result width holds the largest possible sum of the input
    type (so saturation never acts on spikes).  Output size as ``nn.sum_pool2d``.

    Example::

        %1 = "spike.sum_pool2d"(%0) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
               : (tensor<4x8x8xi1>) -> tensor<4x4x4xi8>
    """

    name = "spike.sum_pool2d"
    operands = (Operand("input", SpikeOrIntTensor),)
    results = (Result("result", IntValueTensor),)
    attributes = (
        Attr("kernel_size", DenseArrayAttr, doc="[kh, kw]", check=is_i64_array, check_doc="must be array<i64>"),
        Attr("stride", DenseArrayAttr, doc="[sh, sw]", check=is_i64_array, check_doc="must be array<i64>"),
        Attr("padding", DenseArrayAttr, default=(0, 0), doc="2 or 4 values", check=is_i64_array,
             check_doc="must be array<i64>"),
    )
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        r = _check_int_result(self, "result", 2, 62)
        x = _shape(self.operands[0])
        if len(x) != 3:
            raise self.emit_error(f"input must have rank 3 [C, H, W], got {fmt_shape(x)}")
        k, s = int_tuple(self, "kernel_size"), int_tuple(self, "stride")
        for name, vals in (("kernel_size", k), ("stride", s)):
            if len(vals) != 2 or any(v < 1 for v in vals):
                raise self.emit_error(f"attribute '{name}' must be 2 positive values, got {fmt_shape(vals)}")
        pads = spatial_padding(self, 2)
        need = value_bound(self.operands[0].type) * k[0] * k[1]
        if is_spike_tensor(self.operands[0].type) and need > signed_range(r)[1]:
            raise self.emit_error(f"result width {r} cannot hold a window sum of {need} spikes")
        out = [window_output_size(x[1 + d], k[d], s[d], pads[d]) for d in range(2)]
        if min(out) < 1:
            raise self.emit_error(f"kernel {fmt_shape(k)} does not fit the padded input {fmt_shape(x[1:])}")
        _check_result_shape(self, (x[0], *out))


class MaxPool2d(OpDef):
    """Max pooling of binary spikes: the OR of each window, ``i1`` in and out.

    ``y[c, p, q] = OR over the window [p*sh - pad_top, +KH) x [q*sw - pad_left, +KW)
    of x``; padding is 0 (never selected).  Output size as ``nn.sum_pool2d``.  The
    integer form of ``nn.max_pool2d`` on ``i1`` spikes (no arithmetic at all).

    Example::

        %1 = "spike.max_pool2d"(%0) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
               : (tensor<4x8x8xi1>) -> tensor<4x4x4xi1>
    """

    name = "spike.max_pool2d"
    operands = (Operand("input", SpikeTensor),)
    results = (Result("result", SpikeTensor),)
    attributes = SumPool2d.attr_defs()
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        x = _shape(self.operands[0])
        if self.operands[0].type.element != i1 or self.results[0].type.element != i1:  # type: ignore[attr-defined]
            raise self.emit_error("takes and gives binary (i1) spikes")
        if len(x) != 3:
            raise self.emit_error(f"input must have rank 3 [C, H, W], got {fmt_shape(x)}")
        k, s = int_tuple(self, "kernel_size"), int_tuple(self, "stride")
        for name, vals in (("kernel_size", k), ("stride", s)):
            if len(vals) != 2 or any(v < 1 for v in vals):
                raise self.emit_error(f"attribute '{name}' must be 2 positive values, got {fmt_shape(vals)}")
        pads = spatial_padding(self, 2)
        out = [window_output_size(x[1 + d], k[d], s[d], pads[d]) for d in range(2)]
        if min(out) < 1:
            raise self.emit_error(f"kernel {fmt_shape(k)} does not fit the padded input {fmt_shape(x[1:])}")
        _check_result_shape(self, (x[0], *out))


class Add(OpDef):
    """Saturating integer sum with numpy broadcasting: ``y = sat_R(lhs + rhs)``, R = result width.

    Operands are integer tensors (accumulators, e.g. a feed-forward and a recurrent
    accumulator feeding one neuron; or spike tensors counting as 0/1 and -1/0/+1).  Equal to
    one accumulator over both event sets whenever neither saturates.

    Example::

        %3 = "spike.add"(%1, %2) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
    """

    name = "spike.add"
    operands = (Operand("lhs", SpikeOrIntTensor), Operand("rhs", SpikeOrIntTensor))
    results = (Result("result", IntValueTensor),)
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        _check_int_result(self, "result", 2, 62)
        a, b = _shape(self.operands[0]), _shape(self.operands[1])
        s = broadcast_shape(a, b)
        if s is None:
            raise self.emit_error(f"operand shapes {fmt_shape(a)} and {fmt_shape(b)} do not broadcast")
        for i, v in enumerate(self.operands):
            if width(v.type) > 62:
                raise self.emit_error(f"operand #{i} is wider than 62 bits")
        _check_result_shape(self, s)


class Requant(OpDef):
    """Requantising shift: ``y = sat_R(round(x / 2^shift))``, R = the result width.

    ``rounding = "floor"``: ``x >>> shift`` (toward minus infinity);
    ``rounding = "half_up"``: ``(x + 2^(shift-1)) >>> shift`` (ties toward plus infinity),
    identical to floor when ``shift = 0``.  ``-62 <= shift <= 62``; a negative shift is an exact
    left shift ``y = sat_R(x * 2^-shift)`` (rounding plays no part), and the verifier demands
    ``width(x) - shift <= 62`` so that the product is exact in 64 bits.

    Example::

        %2 = "spike.requant"(%1) {rounding = "half_up", shift = 4 : i64} : (tensor<8xi32>) -> tensor<8xi8>
    """

    name = "spike.requant"
    operands = (Operand("input", IntValueTensor),)
    results = (Result("result", IntValueTensor),)
    attributes = (
        Attr("shift", IntegerAttr, doc="right shift amount (-62..62; negative: exact left shift)"),
        Attr("rounding", StringAttr, default="floor", choices=ROUNDINGS, doc="floor or half_up"),
    )
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        _check_int_result(self, "result", 2, 62)
        k = int(self.attr("shift"))
        if not -62 <= k <= 62:
            raise self.emit_error(f"shift must be in -62..62, got {k}")
        if width(self.operands[0].type) > 62:
            raise self.emit_error("input is wider than 62 bits")
        if k < 0 and width(self.operands[0].type) - k > 62:
            raise self.emit_error(f"a left shift by {-k} of a {width(self.operands[0].type)}-bit input exceeds 62 bits")
        _check_result_shape(self, _shape(self.operands[0]))


# =========================================================================== spike-driven attention


class And(OpDef):
    """Logical AND of two binary spike tensors, numpy broadcasting: ``y = lhs & rhs`` (``i1``).

    The product of two binary spike tensors (spike-driven attention: ``Q AND K``).

    Example::

        %2 = "spike.and"(%0, %1) : (tensor<3x8xi1>, tensor<8xi1>) -> tensor<3x8xi1>
    """

    name = "spike.and"
    operands = (Operand("lhs", SpikeTensor), Operand("rhs", SpikeTensor))
    results = (Result("result", SpikeTensor),)
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        for i, v in enumerate((*self.operands, self.results[0])):
            if v.type.element != i1:  # type: ignore[attr-defined]
                what = "result" if i == 2 else f"operand #{i}"
                raise self.emit_error(f"{what} must be an i1 spike tensor, got {v.type}")
        a, b = _shape(self.operands[0]), _shape(self.operands[1])
        s = broadcast_shape(a, b)
        if s is None:
            raise self.emit_error(f"operand shapes {fmt_shape(a)} and {fmt_shape(b)} do not broadcast")
        _check_result_shape(self, s)


class Popcount(OpDef):
    """Number of spikes over ``axes``: ``y = sum over axes of x`` (exact).

    ``x`` is ``i1`` (a count of ones) or ``si2`` (the signed sum of -1/0/+1 events).  Empty
    ``axes`` reduces every axis; ``keepdim`` keeps reduced axes with size 1.  The verifier
    demands that the result width holds the largest possible count (the product of the
    reduced dimensions), so no saturation exists.  With ``spike.and`` this computes
    ``K^T V`` of spike-driven attention as integers.

    Example::

        %2 = "spike.popcount"(%1) {axes = array<i64: 0>} : (tensor<3x8xi1>) -> tensor<8xi8>
    """

    name = "spike.popcount"
    operands = (Operand("input", SpikeTensor),)
    results = (Result("result", IntValueTensor),)
    attributes = (
        Attr("axes", DenseArrayAttr, default=(), doc="axes to reduce (empty: all)", check=is_i64_array,
             check_doc="must be array<i64>"),
        Attr("keepdim", BoolAttr, default=False, doc="keep reduced axes with size 1"),
    )
    traits = frozenset({Trait.PURE})

    def reduced_axes(self) -> tuple[int, ...]:
        x = _shape(self.operands[0])
        axes = int_tuple(self, "axes")
        if not axes:
            return tuple(range(len(x)))
        for a in axes:
            if not -len(x) <= a < len(x):
                raise self.emit_error(f"axis {a} is out of range for rank {len(x)}")
        norm = tuple(sorted(a % len(x) for a in axes))
        if len(set(norm)) != len(norm):
            raise self.emit_error(f"axes {fmt_shape(axes)} repeat an axis")
        return norm

    def verify_(self) -> None:
        r = _check_int_result(self, "result", 2, 62)
        x = _shape(self.operands[0])
        axes = self.reduced_axes()
        n = 1
        for d in axes:
            n *= x[d]
        if n > signed_range(r)[1]:
            raise self.emit_error(f"result width {r} cannot hold a count of up to {n}")
        keep = bool(self.attr("keepdim"))
        out = [1 if d in axes else s for d, s in enumerate(x)] if keep else [s for d, s in enumerate(x) if d not in axes]
        _check_result_shape(self, out)


class Matmul(OpDef):
    """Product of a binary spike matrix and an integer (or spike) matrix: the rows of ``rhs``
    selected by ``lhs``'s spikes are added.

    ``lhs`` is ``i1`` ``[..., n, k]``, ``rhs`` is ``i1`` (0/1) or a signed integer ``[..., k, m]``
    with the same leading (batch) dimensions; ``y[..., i, j] = sum over k' with
    lhs[..., i, k'] = 1 of rhs[..., k', j]`` (exact: the verifier demands that the result width
    holds ``k * max|rhs|``, so no saturation exists).  Spike-driven attention: ``K^T V`` with
    both operands spikes (AND + count), then ``Q (K^T V)`` adding the count rows Q selects.

    Example::

        %2 = "spike.matmul"(%0, %1) : (tensor<2x4x16xi1>, tensor<2x16x4xi1>) -> tensor<2x4x4xi8>
    """

    name = "spike.matmul"
    operands = (Operand("lhs", SpikeTensor), Operand("rhs", SpikeOrIntTensor))
    results = (Result("result", IntValueTensor),)
    traits = frozenset({Trait.PURE})

    def verify_(self) -> None:
        r = _check_int_result(self, "result", 2, 62)
        if self.operands[0].type.element != i1:  # type: ignore[attr-defined]
            raise self.emit_error(f"lhs must be an i1 spike tensor, got {self.operands[0].type}")
        a, b = _shape(self.operands[0]), _shape(self.operands[1])
        if len(a) < 2 or len(a) != len(b) or a[:-2] != b[:-2] or a[-1] != b[-2]:
            raise self.emit_error(f"operand shapes {fmt_shape(a)} and {fmt_shape(b)} are not [..., n, k] and [..., k, m]")
        rt = self.operands[1].type
        bound = 1 if rt.element in (i1, si2) else value_bound(rt)  # type: ignore[attr-defined]
        if width(rt) > 62:
            raise self.emit_error("rhs is wider than 62 bits")
        if a[-1] * bound > signed_range(r)[1]:
            raise self.emit_error(f"result width {r} cannot hold a sum of up to {a[-1]} x {bound}")
        _check_result_shape(self, (*a[:-1], b[-1]))


# =========================================================================== neurons


class _IntNeuron(OpDef):
    """Shared attributes and verifier of the integer neurons (leak, bias, membrane width)."""

    def membrane_bits(self) -> int:
        return int(self.attr("membrane_bits"))

    def verify_(self) -> None:
        x = _shape(self.operands[0])
        _check_result_shape(self, x)
        if width(self.operands[0].type) > MAX_WIDTH:
            raise self.emit_error(f"input width {width(self.operands[0].type)} exceeds {MAX_WIDTH}")
        N = self.membrane_bits()
        if not 2 <= N <= MAX_WIDTH:
            raise self.emit_error(f"membrane_bits must be in 2..{MAX_WIDTH}, got {N}")
        lo, hi = signed_range(N)
        for d in type(self).attr_defs():
            if d.kind is INT_PARAM_ATTR_KINDS and self.get_attr(d.name) is not None:
                ps = param_shape(self, d.name)
                if not broadcasts_to(ps, x):
                    raise self.emit_error(f"parameter '{d.name}' of shape {fmt_shape(ps)} does not broadcast to {fmt_shape(x)}")
        for name in ("v_th", "v_reset", "bias"):
            if any(d.name == name for d in type(self).attr_defs()):
                v = _param_values(self, name)
                if v.size and (int(v.min()) < lo or int(v.max()) > hi):
                    raise self.emit_error(f"{name} must fit {N} signed bits [{lo}, {hi}], got [{int(v.min())}, {int(v.max())}]")
        mode = self.attr("leak_mode")
        if mode == "shift":
            k = _param_values(self, "leak_shift")
            if k.size and (int(k.min()) < 0 or int(k.max()) >= N):
                raise self.emit_error(f"leak_shift must be in 0..{N - 1}, got [{int(k.min())}, {int(k.max())}]")
        if mode == "mul":
            f = int(self.attr("frac_bits"))
            if not 1 <= f <= MAX_FRAC_BITS or N + f + 1 > 62:
                raise self.emit_error(f"frac_bits must be in 1..{MAX_FRAC_BITS} with membrane_bits + frac_bits <= 61, got {f}")
            if self.get_attr("decay") is None:
                raise self.emit_error("leak_mode 'mul' needs a 'decay'")
            a = _param_values(self, "decay")
            if a.size and (int(a.min()) < 0 or int(a.max()) > (1 << f)):
                raise self.emit_error(f"decay must be in 0..2^frac_bits = {1 << f}, got [{int(a.min())}, {int(a.max())}]")


_LEAK_ATTRS = (
    Attr("membrane_bits", IntegerAttr, default=16, doc="N: membrane width (saturation)"),
    Attr("leak_mode", StringAttr, default="shift", choices=LEAK_MODES, doc="shift | none | mul"),
    _iparam("leak_shift", "k of the shift leak (0: no leak)", 0),
    _iparam("decay", "a of the mul leak: v*a/2^frac_bits is kept", None),
    Attr("frac_bits", IntegerAttr, default=8, doc="f: fractional bits of decay (mul leak)"),
    _iparam("bias", "constant added every step (N-bit)", 0),
)



class LIF(_IntNeuron):
    """Integer leaky integrate-and-fire neuron, exactly integer.md steps 2-5.

    Input ``acc``: the step's accumulator (any signed integer tensor of width <= 48).
    State ``v`` (N-bit membrane after reset), ``v = 0`` before the first step.  At step t::

        v'   = sat_N(v - leak + acc + bias)
        s    = (v' >= v_th)  for cmp "ge",   (v' > v_th)  for cmp "gt"
               si2 result (ternary): s = -1 where not the above and v' <= -v_th
        v    = hard: (s != 0) ? v_reset : v'
               soft: s == 1 ? sat_N(v' - v_th) : s == -1 ? sat_N(v' + v_th) : v'
               none: v'

    Multi-spike (``spike_fn = "multi"``, the integer form of ``snn.lif``'s graded spikes): the
    result is the spike COUNT, a signed integer tensor ``iW`` (W >= 2; not i1/si2), with
    ``cmp = "ge"`` and ``v_th >= 1``::

        n    = (v' >= v_th) ? min(v' / v_th, max_spikes, 2^(W-1) - 1) : 0   (v' / v_th: integer
               division, v' > 0 so it is the floor; max_spikes absent: no cap)
        v    = hard: (n != 0) ? v_reset : v'
               soft: v' - n * v_th        (in [0, v'], no saturation needed)
               none: v'
        v    = max(v, v_min)              (only with v_min: Sinabs' min_v_mem, N-bit)

    Leak (``v`` the state before the step, ``N = membrane_bits``)::

        leak_mode "shift":  leak = (k == 0) ? 0 : v >>> k          (k = leak_shift, 0 <= k < N)
                            i.e. v - leak = ceil(v * (1 - 2^-k)) for k >= 1
        leak_mode "none":   leak = 0
        leak_mode "mul":    leak = v - ((v * a + 2^(f-1)) >>> f)   (a = decay in 0..2^f, f = frac_bits >= 1)
                            i.e. v - leak = round_half_up(v * a / 2^f)
    ``v_th``, ``v_reset``, ``bias`` are N-bit signed integers; every integer parameter is
    scalar or per neuron (a tensor broadcastable to the shape).

    Example::

        %2 = "spike.lif"(%1) {leak_shift = 1 : i64, membrane_bits = 16 : i64, v_th = 64 : i64}
               : (tensor<4xi32>) -> tensor<4xi1>
    """

    name = "spike.lif"
    operands = (Operand("input", IntValueTensor),)
    results = (Result("spikes", SpikeOrIntTensor, doc="i1/si2 spikes, or the iW spike count (spike_fn = \"multi\")"),)
    attributes = (
        *_LEAK_ATTRS,
        _iparam("v_th", "firing threshold (N-bit)"),
        _iparam("v_reset", "membrane after a hard reset (N-bit)", 0),
        Attr("reset", StringAttr, default="hard", choices=RESETS, doc="hard | soft | none"),
        Attr("cmp", StringAttr, default="ge", choices=COMPARISONS, doc="ge (>=) or gt (>)"),
        Attr("spike_fn", StringAttr, default="single", choices=("single", "multi"),
             doc="single: one spike (i1/si2); multi: the spike count (iW result)"),
        Attr("max_spikes", IntegerAttr, default=None, doc="cap of the multi-spike count (absent: none)",
             check=lambda a: a.value >= 1, check_doc="must be >= 1"),
        _iparam("v_min", "lower bound of the membrane after the reset (N-bit; multi-spike only; absent: none)", None),
    )
    traits = frozenset({Trait.STATEFUL})

    def verify_(self) -> None:
        super().verify_()
        rt = self.results[0].type
        if self.attr("spike_fn") == "single":
            if not is_spike_tensor(rt):
                raise self.emit_error(f"result must be i1 or si2 spikes with spike_fn = \"single\", got {rt}")
            if self.get_attr("max_spikes") is not None or self.get_attr("v_min") is not None:
                raise self.emit_error("max_spikes and v_min need spike_fn = \"multi\"")
            return
        if self.get_attr("v_min") is not None:
            lo, hi = signed_range(self.membrane_bits())
            m = _param_values(self, "v_min")
            if m.size and (int(m.min()) < lo or int(m.max()) > hi):
                raise self.emit_error(f"v_min must fit {self.membrane_bits()} signed bits")
        if is_spike_tensor(rt) or width(rt) > 62:
            raise self.emit_error(f"the spike count of a multi-spike neuron is a signed integer tensor iW (2 <= W <= 62), "
                                  f"got {rt}")
        if self.attr("cmp") != "ge":
            raise self.emit_error("a multi-spike neuron fires n >= 1 spikes exactly when v >= v_th: cmp must be \"ge\"")
        v = _param_values(self, "v_th")
        if v.size and int(v.min()) < 1:
            raise self.emit_error(f"a multi-spike neuron needs v_th >= 1 (the count is v / v_th), got {int(v.min())}")


class LI(_IntNeuron):
    """Integer leaky integrator: the neuron without threshold; outputs the membrane.

    State ``v`` (N-bit), 0 before the first step.  At step t::

        v = sat_N(v - leak + x + bias) ;   y = v

    Leak (``v`` the state before the step, ``N = membrane_bits``)::

        leak_mode "shift":  leak = (k == 0) ? 0 : v >>> k          (k = leak_shift, 0 <= k < N)
                            i.e. v - leak = ceil(v * (1 - 2^-k)) for k >= 1
        leak_mode "none":   leak = 0
        leak_mode "mul":    leak = v - ((v * a + 2^(f-1)) >>> f)   (a = decay in 0..2^f, f = frac_bits >= 1)
                            i.e. v - leak = round_half_up(v * a / 2^f)
    The result type's element must be ``iN`` with ``N = membrane_bits``.  Used for
    ``snn.li`` / ``snn.integrator`` (read out through ``spike.dequantize``) and as the
    synaptic current of a current-based LIF (``spike.li`` feeding ``spike.lif``).

    Example::

        %2 = "spike.li"(%1) {leak_mode = "mul", decay = 230 : i64, frac_bits = 8 : i64, membrane_bits = 16 : i64}
               : (tensor<4xi32>) -> tensor<4xi16>
    """

    name = "spike.li"
    operands = (Operand("input", IntValueTensor),)
    results = (Result("v", IntValueTensor),)
    attributes = _LEAK_ATTRS
    traits = frozenset({Trait.STATEFUL})

    def verify_(self) -> None:
        super().verify_()
        if width(self.results[0].type) != self.membrane_bits():
            raise self.emit_error(f"result width {width(self.results[0].type)} must equal membrane_bits {self.membrane_bits()}")


OPS: tuple[type[OpDef], ...] = (
    Quantize,
    Dequantize,
    Accumulate,
    AccumulateDense,
    AccumulateConv2d,
    SumPool2d,
    MaxPool2d,
    Add,
    Requant,
    And,
    Popcount,
    Matmul,
    LIF,
    LI,
)

DIALECT = Dialect("spike", "integer spiking networks with bit-exact semantics (integer.md)", OPS)

__all__ = [c.__name__ for c in OPS] + [
    "COMPARISONS",
    "DIALECT",
    "LEAK_MODES",
    "MAX_FRAC_BITS",
    "MAX_WIDTH",
    "OPS",
    "RESETS",
    "ROUNDINGS",
    "signed_range",
    "value_bound",
    "width",
]
