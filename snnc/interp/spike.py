"""Reference kernels of the ``spike`` dialect: bit-exact integer semantics (integer.md).

Everything is computed in int64 and every intermediate is checked against the int64
range (:func:`_checked`); results are stored in the numpy dtype of their IR type
(``i1`` -> bool, ``si2``/``i2``..``i8`` -> int8, ``i9``..``i16`` -> int16, ...).  Neuron
state is ``{"v": int64 array [B, *shape]}`` (the membrane after the reset).

Saturating accumulation follows the contract literally (increasing input order, saturation
after each addition).  When the weights cannot drive the accumulator out of range (the sum of
``|x| * |w|`` over one output's inputs fits), saturation never acts and a plain integer
matrix product is used instead; otherwise a sequential loop over the inputs applies it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..dialects import spike as sp
from ..dialects.common import int_tuple, param_array
from ..dialects.nn import spatial_padding
from ..ir.core import Operation
from ..ir.types import TensorType, si2
from .core import RunContext, kernel, stateful_kernel

_INT64_LIMIT = 1 << 62


def sat(x: np.ndarray, bits: int) -> np.ndarray:
    """sat_N(x) = min(max(x, -2^(N-1)), 2^(N-1) - 1), elementwise, int64."""
    lo, hi = sp.signed_range(bits)
    return np.clip(x, lo, hi)


def _checked(x: np.ndarray, what: str) -> np.ndarray:
    """Assert that no element reached 2^62 in magnitude (so no int64 operation could wrap)."""
    if x.size and (int(x.max()) >= _INT64_LIMIT or int(x.min()) <= -_INT64_LIMIT):
        raise OverflowError(f"internal error: {what} left the int64 safety range")
    return x


def _i64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.int64)


def _out(op: Operation, x: np.ndarray, ctx: RunContext, index: int = 0) -> np.ndarray:
    return x.astype(ctx.array_dtype(op.results[index].type), copy=False)


def _rwidth(op: Operation, index: int = 0) -> int:
    return sp.width(op.results[index].type)


def _cached(op: Operation, key: str, ctx: RunContext, make):
    cache = ctx.extra.setdefault("spike.cache", {})
    k = (id(op), key)
    if k not in cache:
        cache[k] = make()
    return cache[k]


def _weight(op: Operation, ctx: RunContext) -> np.ndarray:
    return _cached(op, "weight", ctx, lambda: _i64(op.get_attr("weight").data))  # type: ignore[union-attr]


def _bound(op: Operation) -> int:
    return sp.value_bound(op.operands[0].type)


# --------------------------------------------------------------------------- boundary


@kernel("spike.quantize")
def quantize(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    scale = param_array(op, "scale", np.float64)
    q = np.rint(inputs[0].astype(np.float64) * scale)
    lo, hi = sp.signed_range(_rwidth(op))
    q = np.clip(q, lo, hi)  # clip before the cast: NaN/inf never reach the integer conversion
    q = np.where(np.isnan(q), 0, q)
    return [_out(op, q.astype(np.int64), ctx)]


@kernel("spike.dequantize")
def dequantize(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    scale = param_array(op, "scale", ctx.float_dtype)
    return [(inputs[0].astype(ctx.float_dtype) * scale).astype(ctx.float_dtype, copy=False)]


# --------------------------------------------------------------------------- synapses


def saturating_matvec(x: np.ndarray, w: np.ndarray, bits: int, bound: int) -> np.ndarray:
    """``acc[..., o] = sat chain over i (increasing) of x[..., i] * w[o, i]``.

    ``x`` int64 ``[..., in]``, ``w`` int64 ``[out, in]``; ``bound`` = max |x|.  Exact plain
    sum when no partial sum can leave the range, else the sequential contract loop.
    """
    lo, hi = sp.signed_range(bits)
    worst = int(np.abs(w).sum(axis=1).max(initial=0)) * bound
    if worst <= hi:
        return _checked(x @ w.T, "accumulator")
    acc = np.zeros((*x.shape[:-1], w.shape[0]), dtype=np.int64)
    for i in range(w.shape[1]):
        xi = x[..., i : i + 1]
        acc = np.clip(acc + xi * w[:, i], lo, hi)
    return acc


@kernel("spike.accumulate")
def accumulate(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    x = _i64(inputs[0])
    return [_out(op, saturating_matvec(x, _weight(op, ctx), _rwidth(op), 1), ctx)]


@kernel("spike.accumulate_dense")
def accumulate_dense(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    x = _i64(inputs[0])
    return [_out(op, saturating_matvec(x, _weight(op, ctx), _rwidth(op), _bound(op)), ctx)]


def im2col(x: np.ndarray, ks: tuple[int, int], stride, pads, dilation) -> tuple[np.ndarray, tuple[int, int]]:
    """``x [B, C, H, W]`` -> columns ``[B, C*KH*KW, OH*OW]`` in (c, ky, kx) order, zero padding."""
    (pt, pb), (pl, pr) = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    span = tuple(d * (k - 1) + 1 for k, d in zip(ks, dilation))
    win = sliding_window_view(xp, span, axis=(2, 3))
    win = win[:, :, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]  # [B, C, OH, OW, KH, KW]
    B, C, OH, OW = win.shape[:4]
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(B, C * ks[0] * ks[1], OH * OW)
    return cols, (OH, OW)


@kernel("spike.accumulate_conv2d")
def accumulate_conv2d(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    x = _i64(inputs[0])
    w = _weight(op, ctx)
    G = int(op.attr("groups"))  # type: ignore[attr-defined]
    cout, cg, kh, kw = w.shape
    og = cout // G
    bits = _rwidth(op)
    bound = _bound(op)
    outs = []
    oh_ow = (0, 0)
    for g in range(G):
        cols, oh_ow = im2col(
            x[:, g * cg : (g + 1) * cg], (kh, kw), int_tuple(op, "stride"), spatial_padding(op, 2),  # type: ignore[arg-type]
            int_tuple(op, "dilation"),
        )
        wg = w[g * og : (g + 1) * og].reshape(og, cg * kh * kw)
        # [B, P, K] x [og, K] -> [B, P, og]
        acc = saturating_matvec(cols.transpose(0, 2, 1), wg, bits, bound)
        outs.append(acc.transpose(0, 2, 1))
    y = np.concatenate(outs, axis=1).reshape(x.shape[0], cout, *oh_ow)
    return [_out(op, y, ctx)]


@kernel("spike.sum_pool2d")
def sum_pool2d(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    x = _i64(inputs[0])
    k = int_tuple(op, "kernel_size")
    s = int_tuple(op, "stride")
    B, C = x.shape[:2]
    cols, (oh, ow) = im2col(x, (k[0], k[1]), s, spatial_padding(op, 2), (1, 1))  # type: ignore[arg-type]
    y = _checked(cols.reshape(B, C, k[0] * k[1], oh * ow).sum(axis=2), "pool sum")
    return [_out(op, sat(y, _rwidth(op)).reshape(B, C, oh, ow), ctx)]


@kernel("spike.max_pool2d")
def max_pool2d(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    x = inputs[0].astype(np.int64)
    k = int_tuple(op, "kernel_size")
    s = int_tuple(op, "stride")
    B, C = x.shape[:2]
    cols, (oh, ow) = im2col(x, (k[0], k[1]), s, spatial_padding(op, 2), (1, 1))  # type: ignore[arg-type]
    y = cols.reshape(B, C, k[0] * k[1], oh * ow).max(axis=2) > 0
    return [y.reshape(B, C, oh, ow)]


@kernel("spike.add")
def add(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    y = _checked(_i64(inputs[0]) + _i64(inputs[1]), "sum")
    return [_out(op, sat(y, _rwidth(op)), ctx)]


def requant(x: np.ndarray, shift: int, rounding: str, bits: int) -> np.ndarray:
    """sat_bits(x >>> shift) (floor) or sat_bits((x + 2^(shift-1)) >>> shift) (half_up);
    a negative shift is the exact ``sat_bits(x * 2^-shift)``."""
    x = _i64(x)
    if shift < 0:
        return sat(_checked(x << -shift, "left shift"), bits)
    if rounding == "half_up" and shift > 0:
        x = _checked(x + (1 << (shift - 1)), "rounding offset")
    return sat(x >> shift, bits)


@kernel("spike.requant")
def requant_kernel(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    y = requant(inputs[0], int(op.attr("shift")), str(op.attr("rounding")), _rwidth(op))  # type: ignore[attr-defined]
    return [_out(op, y, ctx)]


# --------------------------------------------------------------------------- attention


@kernel("spike.and")
def and_(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    a, b = inputs[0].astype(bool), inputs[1].astype(bool)
    # operands carry the batch axis first: align their per-sample ranks before broadcasting
    ra, rb = a.ndim - 1, b.ndim - 1
    r = max(ra, rb)
    a = a.reshape(a.shape[0], *((1,) * (r - ra)), *a.shape[1:])
    b = b.reshape(b.shape[0], *((1,) * (r - rb)), *b.shape[1:])
    return [np.logical_and(a, b)]


@kernel("spike.popcount")
def popcount(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    axes = tuple(a + 1 for a in op.reduced_axes())  # type: ignore[attr-defined]
    y = _i64(inputs[0]).sum(axis=axes, keepdims=bool(op.attr("keepdim")))  # type: ignore[attr-defined]
    return [_out(op, y, ctx)]


@kernel("spike.matmul")
def matmul(op: Operation, inputs: list[np.ndarray], ctx: RunContext) -> list[np.ndarray]:
    a, b = _i64(inputs[0]), _i64(inputs[1])
    return [_out(op, np.matmul(a, b), ctx)]


# --------------------------------------------------------------------------- neurons


def _int_params(op: Operation, names: tuple[str, ...], ctx: RunContext) -> dict[str, np.ndarray]:
    def make() -> dict[str, np.ndarray]:
        out = {}
        for n in names:
            v = op.attr(n)  # type: ignore[attr-defined]
            out[n] = np.asarray(0 if v is None else v, dtype=np.int64)
        return out

    return _cached(op, "params", ctx, make)


def leak(op: Operation, v: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """The leak term of integer.md step 2 (and the ``mul`` mode of the IR)."""
    mode = op.attr("leak_mode")  # type: ignore[attr-defined]
    if mode == "none":
        return np.zeros_like(v)
    if mode == "shift":
        k = p["leak_shift"]
        return np.where(k == 0, 0, v >> k)
    f = int(op.attr("frac_bits"))  # type: ignore[attr-defined]
    kept = _checked(v * p["decay"] + (1 << (f - 1)), "mul leak product") >> f
    return v - kept


_NEURON_PARAMS = ("leak_shift", "decay", "bias")


def integrate(op: Operation, v: np.ndarray, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """v' = sat_N(v - leak + x + bias)."""
    N = int(op.attr("membrane_bits"))  # type: ignore[attr-defined]
    total = _checked(v - leak(op, v, p) + _i64(x) + p["bias"], "membrane update")
    return sat(total, N)


def fire_and_reset(op: Operation, vp: np.ndarray, p: dict[str, np.ndarray], ternary: bool) -> tuple[np.ndarray, np.ndarray]:
    """Spikes in {-1, 0, 1} (int64) and the membrane after the reset (integer.md steps 4-5)."""
    N = int(op.attr("membrane_bits"))  # type: ignore[attr-defined]
    v_th = p["v_th"]
    pos = vp > v_th if op.attr("cmp") == "gt" else vp >= v_th  # type: ignore[attr-defined]
    s = pos.astype(np.int64)
    if ternary:
        s = s - (~pos & (vp <= -v_th)).astype(np.int64)
    mode = op.attr("reset")  # type: ignore[attr-defined]
    if mode == "hard":
        v = np.where(s != 0, p["v_reset"], vp)
    elif mode == "soft":
        v = np.where(s != 0, sat(_checked(vp - s * v_th, "soft reset"), N), vp)
    else:
        v = vp
    return s, np.array(np.broadcast_to(v, vp.shape), dtype=np.int64)


def multi_fire_and_reset(op: Operation, vp: np.ndarray, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Multi-spike ``spike.lif``: the count ``min(v' // v_th, max_spikes, 2^(W-1) - 1)`` where ``v' >= v_th``
    (else 0) and the membrane after the reset (hard: ``v_reset`` where the count is > 0; soft: ``v' - n*v_th``)."""
    v_th = p["v_th"]
    fired = vp >= v_th
    n = np.where(fired, vp // np.maximum(v_th, 1), 0).astype(np.int64)
    cap = sp.signed_range(sp.width(op.results[0].type))[1]
    m = op.attr("max_spikes")  # type: ignore[attr-defined]
    n = np.minimum(n, cap if m is None else min(int(m), cap))
    mode = op.attr("reset")  # type: ignore[attr-defined]
    if mode == "hard":
        v = np.where(n != 0, p["v_reset"], vp)
    elif mode == "soft":
        v = vp - n * v_th
    else:
        v = vp
    if op.get_attr("v_min") is not None:
        v = np.maximum(v, param_array(op, "v_min", np.int64))
    return n, np.array(np.broadcast_to(v, vp.shape), dtype=np.int64)


def _zeros(op: Operation, ctx: RunContext) -> dict[str, np.ndarray]:
    t = op.results[0].type
    assert isinstance(t, TensorType)
    return {"v": np.zeros((ctx.batch, *t.shape), dtype=np.int64)}


@stateful_kernel("spike.lif")
class LIF:
    params = (*_NEURON_PARAMS, "v_th", "v_reset")

    def init(self, op: Operation, ctx: RunContext) -> dict[str, np.ndarray]:
        return _zeros(op, ctx)

    def step(self, op: Operation, inputs: list[np.ndarray], state: dict[str, np.ndarray], ctx: RunContext):
        p = _int_params(op, self.params, ctx)
        vp = integrate(op, state["v"], inputs[0], p)
        if op.get_attr("spike_fn") is not None and op.attr("spike_fn") == "multi":  # type: ignore[attr-defined]
            n, v = multi_fire_and_reset(op, vp, p)
            return [_out(op, n, ctx)], {"v": v}
        ternary = op.results[0].type.element == si2  # type: ignore[attr-defined]
        s, v = fire_and_reset(op, vp, p, ternary)
        spikes = s.astype(np.int8) if ternary else s.astype(bool)
        return [spikes], {"v": v}


@stateful_kernel("spike.li")
class LI:
    params = _NEURON_PARAMS

    def init(self, op: Operation, ctx: RunContext) -> dict[str, np.ndarray]:
        return _zeros(op, ctx)

    def step(self, op: Operation, inputs: list[np.ndarray], state: dict[str, np.ndarray], ctx: RunContext):
        p = _int_params(op, self.params, ctx)
        v = np.array(np.broadcast_to(integrate(op, state["v"], inputs[0], p), state["v"].shape), dtype=np.int64)
        return [_out(op, v, ctx)], {"v": v}


__all__ = ["fire_and_reset", "multi_fire_and_reset", "im2col", "integrate", "leak", "requant", "sat", "saturating_matvec"]
