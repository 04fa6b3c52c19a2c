"""Reference kernels of the ``nn`` dialect (numpy; values carry a leading batch axis).

Every kernel computes in the run's float dtype (``ctx.float_dtype``); spike operands
(``bool``/``int8``) are converted to that dtype first.  Convolutions loop over kernel
offsets only (one BLAS matrix product per offset, never a loop over positions); pooling
reduces a ``sliding_window_view`` of the padded input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..dialects import nn
from ..dialects.common import int_tuple, param_array, tensor_attr_array
from ..ir.core import Operation
from ..ir.types import TensorType
from .core import RunContext, kernel


def _f(x: np.ndarray, ctx: RunContext) -> np.ndarray:
    return x.astype(ctx.float_dtype, copy=False)


def _cached(op: Operation, key: str, ctx: RunContext, make: Any) -> Any:
    """Per-run cache of converted attributes (weights are converted once, not every step)."""
    cache = ctx.extra.setdefault("nn.attr_cache", {})
    k = (id(op), key)
    if k not in cache:
        cache[k] = make()
    return cache[k]


def _tensor(op: Operation, name: str, ctx: RunContext) -> np.ndarray | None:
    return _cached(op, name, ctx, lambda: tensor_attr_array(op, name, ctx.float_dtype))


def _rshape(op: Operation) -> tuple[int, ...]:
    t = op.results[0].type
    assert isinstance(t, TensorType)
    return tuple(t.shape)


def _align(x: np.ndarray, rank: int) -> np.ndarray:
    """Insert size-1 axes after the batch axis so ``x`` has per-sample rank ``rank``
    (numpy broadcasting must align per-sample axes, not the batch axis)."""
    missing = rank - (x.ndim - 1)
    if missing <= 0:
        return x
    return x.reshape(x.shape[:1] + (1,) * missing + x.shape[1:])


# --------------------------------------------------------------------------- constants, linear


@kernel("nn.constant")
def constant(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    t = op.results[0].type
    value = _cached(op, "value", ctx, lambda: np.asarray(op.attr("value")).astype(ctx.array_dtype(t)))  # type: ignore[attr-defined]
    return [np.broadcast_to(value, (ctx.batch, *value.shape))]


@kernel("nn.linear")
def linear(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    w = _tensor(op, "weight", ctx)
    b = _tensor(op, "bias", ctx)
    assert w is not None
    y = _f(inputs[0], ctx) @ w.T
    if b is not None:
        y = y + b
    return [y]


# --------------------------------------------------------------------------- convolution


def _pad(x: np.ndarray, pads: tuple[tuple[int, int], ...], value: float = 0.0) -> np.ndarray:
    if not any(p for pair in pads for p in pair):
        return x
    width = [(0, 0)] * (x.ndim - len(pads)) + list(pads)
    return np.pad(x, width, mode="constant", constant_values=value)


def _windows(
    x: np.ndarray, kernel_size: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> np.ndarray:
    """Windows over the last ``n`` axes: ``[..., *out, *kernel]`` (a strided view)."""
    n = len(kernel_size)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
    axes = tuple(range(x.ndim - n, x.ndim))
    win = sliding_window_view(x, span, axis=axes)
    lead = (slice(None),) * (x.ndim - n)
    sel = lead + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)
    return win[sel]


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride, padding, dilation, groups: int) -> np.ndarray:
    """torch-style n-d cross-correlation: ``x [B, Cin, *S]``, ``w [Cout, Cin/g, *K]``.

    One strided view of the padded input per kernel offset; each offset adds a grouped
    matrix product ``[G, B*out, Cin/g] @ [G, Cin/g, Cout/g]`` (BLAS), or, for a depthwise
    convolution (one input and one output channel per group), an elementwise product.
    """
    n = w.ndim - 2
    xp = _pad(x, padding)
    B, cin = x.shape[0], x.shape[1]
    cout = w.shape[0]
    ks = tuple(w.shape[2:])
    out = tuple((xp.shape[2 + d] - dilation[d] * (ks[d] - 1) - 1) // stride[d] + 1 for d in range(n))
    G = groups
    cg, og = cin // G, cout // G
    P = int(np.prod(out))
    dtype = np.result_type(x, w)

    def shifted(off: tuple[int, ...]) -> np.ndarray:
        sl = tuple(
            slice(o * dilation[d], o * dilation[d] + stride[d] * (out[d] - 1) + 1, stride[d]) for d, o in enumerate(off)
        )
        return xp[(slice(None), slice(None), *sl)]  # [B, Cin, *out]

    if cg == 1 and og == 1:  # depthwise
        y = np.zeros((B, cout, *out), dtype=dtype)
        for off in np.ndindex(*ks):
            y += shifted(off) * w[(slice(None), 0, *off)].reshape((cout,) + (1,) * n)
    else:
        wg = w.reshape(G, og, cg, *ks)
        acc = np.zeros((G, B * P, og), dtype=dtype)
        for off in np.ndindex(*ks):
            xs = shifted(off).reshape(B, G, cg, P).transpose(1, 0, 3, 2).reshape(G, B * P, cg)
            acc += np.matmul(xs, wg[(slice(None), slice(None), slice(None), *off)].transpose(0, 2, 1))
        y = acc.reshape(G, B, P, og).transpose(1, 0, 3, 2).reshape(B, cout, *out)
    if b is not None:
        y = y + b.reshape((cout,) + (1,) * n)
    return y


def _conv_kernel(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    n = op.spatial  # type: ignore[attr-defined]
    w = _tensor(op, "weight", ctx)
    b = _tensor(op, "bias", ctx)
    assert w is not None
    pads = nn.spatial_padding(op, n)  # type: ignore[arg-type]
    y = conv(
        _f(inputs[0], ctx), w, b, int_tuple(op, "stride"), pads, int_tuple(op, "dilation"), int(op.attr("groups"))  # type: ignore[attr-defined]
    )
    return [y]


kernel("nn.conv1d")(_conv_kernel)
kernel("nn.conv2d")(_conv_kernel)


# --------------------------------------------------------------------------- normalisation, elementwise


@kernel("nn.batch_norm")
def batch_norm(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    x = _f(inputs[0], ctx)

    def coeffs() -> tuple[np.ndarray, np.ndarray]:
        mean = tensor_attr_array(op, "mean", np.float64)
        var = tensor_attr_array(op, "var", np.float64)
        weight = tensor_attr_array(op, "weight", np.float64)
        bias = tensor_attr_array(op, "bias", np.float64)
        assert mean is not None and var is not None
        c = mean.shape[0]
        weight = np.ones(c) if weight is None else weight
        bias = np.zeros(c) if bias is None else bias
        eps = float(op.attr("eps"))  # type: ignore[attr-defined]
        inv = 1.0 / np.sqrt(var + eps)
        return mean, (inv * weight), bias

    mean, mul, bias = _cached(op, "bn", ctx, coeffs)
    shape = (-1,) + (1,) * (x.ndim - 2)
    dt = ctx.float_dtype
    y = (x - mean.astype(dt).reshape(shape)) * mul.astype(dt).reshape(shape) + bias.astype(dt).reshape(shape)
    return [y.astype(dt, copy=False)]


def _binary(fn: Any) -> Any:
    def k(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
        rank = len(_rshape(op))
        a = _align(_f(inputs[0], ctx), rank)
        b = _align(_f(inputs[1], ctx), rank)
        return [fn(a, b)]

    return k


kernel("nn.add")(_binary(np.add))
kernel("nn.sub")(_binary(np.subtract))
kernel("nn.mul")(_binary(np.multiply))


@kernel("nn.scale")
def scale(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    s = _cached(op, "scale", ctx, lambda: param_array(op, "scale", ctx.float_dtype))
    return [_f(inputs[0], ctx) * s]


@kernel("nn.matmul")
def matmul(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    a = _f(inputs[0], ctx)
    b = _f(inputs[1], ctx)
    a_vec = a.ndim == 2
    b_vec = b.ndim == 2
    if a_vec:
        a = a[:, None, :]
    if b_vec:
        b = b[:, :, None]
    rank = max(a.ndim, b.ndim) - 1
    y = np.matmul(_align(a, rank), _align(b, rank))
    if a_vec:
        y = y[..., 0, :]
    if b_vec:
        y = y[..., 0]
    return [y.reshape((ctx.batch, *_rshape(op)))]


# --------------------------------------------------------------------------- pooling


def _pool_windows(op: Operation, x: np.ndarray, pad_value: float) -> np.ndarray:
    k = int_tuple(op, "kernel_size")
    s = int_tuple(op, "stride")
    pads = nn.spatial_padding(op, 2)  # type: ignore[arg-type]
    return _windows(_pad(x, pads, pad_value), k, s, (1, 1))  # [B, C, OH, OW, KH, KW]


@kernel("nn.sum_pool2d")
def sum_pool2d(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    return [_pool_windows(op, _f(inputs[0], ctx), 0.0).sum(axis=(-2, -1))]


@kernel("nn.avg_pool2d")
def avg_pool2d(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    k = int_tuple(op, "kernel_size")
    total = _pool_windows(op, _f(inputs[0], ctx), 0.0).sum(axis=(-2, -1))
    return [(total / (k[0] * k[1])).astype(ctx.float_dtype, copy=False)]


@kernel("nn.max_pool2d")
def max_pool2d(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    x = inputs[0]
    if x.dtype == np.bool_:  # binary spikes: OR over the window
        return [_pool_windows(op, x, False).max(axis=(-2, -1))]
    return [_pool_windows(op, _f(x, ctx), -np.inf).max(axis=(-2, -1))]


# --------------------------------------------------------------------------- shapes


def _reshape_kernel(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    return [inputs[0].reshape((ctx.batch, *_rshape(op)))]


kernel("nn.flatten")(_reshape_kernel)
kernel("nn.reshape")(_reshape_kernel)


@kernel("nn.transpose")
def transpose(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    perm = int_tuple(op, "perm")
    return [np.transpose(inputs[0], (0, *(p + 1 for p in perm)))]


@kernel("nn.concat")
def concat(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    rank = len(_rshape(op))
    axis = int(op.attr("axis")) % rank  # type: ignore[attr-defined]
    return [np.concatenate(inputs, axis=axis + 1)]


@kernel("nn.relu")
def relu(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    x = _f(inputs[0], ctx)
    return [np.maximum(x, np.zeros((), dtype=x.dtype))]


def _reduce(fn: Any) -> Any:
    def k(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
        axes = tuple(a + 1 for a in op.reduced_axes())  # type: ignore[attr-defined]
        y = fn(_f(inputs[0], ctx), axis=axes, keepdims=bool(op.attr("keepdim")))  # type: ignore[attr-defined]
        return [np.asarray(y, dtype=ctx.float_dtype).reshape((ctx.batch, *_rshape(op)))]

    return k


kernel("nn.sum")(_reduce(np.sum))
kernel("nn.mean")(_reduce(np.mean))


# --------------------------------------------------------------------------- spike-driven attention


@kernel("nn.spike_and")
def spike_and(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    rank = len(_rshape(op))
    y = np.logical_and(_align(inputs[0], rank), _align(inputs[1], rank))
    return [y.astype(ctx.array_dtype(op.results[0].type), copy=False)]


@kernel("nn.and_popcount")
def and_popcount(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    rank = len(op.broadcast_shape())  # type: ignore[attr-defined]
    both = np.logical_and(_align(inputs[0], rank), _align(inputs[1], rank))
    axes = tuple(a + 1 for a in op.reduced_axes())  # type: ignore[attr-defined]
    y = np.count_nonzero(both, axis=axes, keepdims=bool(op.attr("keepdim")))  # type: ignore[attr-defined]
    return [np.asarray(y, dtype=ctx.float_dtype).reshape((ctx.batch, *_rshape(op)))]


@kernel("nn.masked_accumulate")
def masked_accumulate(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    # the same sums as nn.matmul (a 0/1 mask selects rows): identical float results
    y = np.matmul(_f(inputs[0], ctx), _f(inputs[1], ctx))
    return [y.reshape((ctx.batch, *_rshape(op)))]


__all__ = ["conv"]
