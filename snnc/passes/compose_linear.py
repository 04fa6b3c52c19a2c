"""Composition of linear synapse chains: numerical cores and the ``compose-linear`` pass.

:func:`fold_repconv` folds Meta-SpikeFormer's RepConv
``conv1x1(W1, no bias) -> BN1 (padding 1 with BN1(0)) -> dw3x3(W2, no bias) -> pw1x1(W3, no bias) -> BN2``
into one 3x3 conv (padding 1, stride 1) with bias.  With ``s = gamma / sqrt(var + eps)`` and
``b = beta - mean * s`` per BN, BN1's output is ``s1 * (W1 x) + b1`` everywhere, including the
padding ring (where the conv1x1 of a zero-padded input is 0 and BN1(0) = b1), so

    W[o, i, kh, kw] = s2[o] * sum_c W3[o, c] * W2[c, kh, kw] * s1[c] * W1[c, i]
    bias[o]         = s2[o] * sum_c W3[o, c] * b1[c] * sum(W2[c]) + b2[o]

exactly (SEEDS fact 9: agreement to ~1e-13 in float64).
"""

from __future__ import annotations

import numpy as np


def _bn_affine(bn: dict) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(bn["weight"], np.float64) / np.sqrt(np.asarray(bn["var"], np.float64) + float(bn["eps"]))
    return s, np.asarray(bn["bias"], np.float64) - np.asarray(bn["mean"], np.float64) * s


def fold_repconv(w1: np.ndarray, bn1: dict, w2: np.ndarray, w3: np.ndarray, bn2: dict) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``[Cout, Cin, 3, 3]`` and bias ``[Cout]`` of the folded conv (see module doc).

    ``w1`` ``[C, Cin, 1, 1]``, ``w2`` (depthwise) ``[C, 1, 3, 3]``, ``w3`` ``[Cout, C, 1, 1]``;
    ``bn1``/``bn2``: dicts with ``mean, var, weight, bias, eps``.
    """
    s1, b1 = _bn_affine(bn1)
    s2, b2 = _bn_affine(bn2)
    W1 = np.asarray(w1, np.float64)[:, :, 0, 0]
    W2 = np.asarray(w2, np.float64)[:, 0]
    W3 = np.asarray(w3, np.float64)[:, :, 0, 0]
    w = np.einsum("o,oc,chw,c,ci->oihw", s2, W3, W2, s1, W1)
    bias = s2 * (W3 @ (b1 * W2.sum(axis=(1, 2)))) + b2
    return w, bias


# --------------------------------------------------------------------------- numerical cores of the IR rewrites


def bn_affine(bn: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``(s, b)`` with ``BN(y) = s * y + b`` (``weight``/``bias`` may be None: ones/zeros)."""
    mean = np.asarray(bn["mean"], np.float64)
    w = np.ones_like(mean) if bn.get("weight") is None else bn["weight"]
    b = np.zeros_like(mean) if bn.get("bias") is None else bn["bias"]
    return _bn_affine({"mean": mean, "var": bn["var"], "weight": w, "bias": b, "eps": bn["eps"]})


def fold_bn(w: np.ndarray, bias: np.ndarray | None, bn: dict) -> tuple[np.ndarray, np.ndarray]:
    """A conv/linear ``(w [Cout, ...], bias)`` followed by BN over its output channels, as one layer."""
    s, b = bn_affine(bn)
    w = np.asarray(w, np.float64)
    w2 = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
    b0 = np.zeros(w.shape[0]) if bias is None else np.asarray(bias, np.float64)
    return w2, b0 * s + b


def dense_grouped(w: np.ndarray, groups: int) -> np.ndarray:
    """A grouped conv weight ``[Cout, Cin/groups, k...]`` as the equivalent dense ``[Cout, Cin, k...]``."""
    w = np.asarray(w, np.float64)
    if groups == 1:
        return w
    cout, cin_g = w.shape[:2]
    out = np.zeros((cout, cin_g * groups, *w.shape[2:]))
    per = cout // groups
    for o in range(cout):
        g = o // per
        out[o, g * cin_g : (g + 1) * cin_g] = w[o]
    return out


def _is_depthwise(w: np.ndarray, groups: int) -> bool:
    """``w`` ``[Cout, Cin/groups, k...]`` is a depthwise conv with multiplier 1 (``Cout == groups``, one input each)."""
    return groups > 1 and w.shape[1] == 1 and w.shape[0] == groups


def compose_pointwise_then(wa, ba, wb, bb, groups_b: int) -> tuple[np.ndarray, np.ndarray]:
    """conv A (1x1, groups 1, stride 1, any padding, bias ``ba``) then conv B (any kernel, padding 0).

    A's output in its padding ring is ``ba`` (a 1x1 conv of zeros plus bias), so composing over the
    padded input is exact: ``W = B (x) A``, ``bias = bb + sum_{c,k} B[o, c, k] ba[c]``.  A depthwise B
    (multiplier 1) composes without expanding it: ``W[o, i, k] = B[o, 0, k] A[o, i]`` (one product per
    weight); otherwise the contraction over ``c`` is one BLAS matrix product.
    """
    A = np.asarray(wa, np.float64)[:, :, 0, 0]
    ba_ = np.zeros(A.shape[0]) if ba is None else np.asarray(ba, np.float64)
    wb = np.asarray(wb, np.float64)
    if _is_depthwise(wb, groups_b):
        kern = wb[:, 0]  # [o, k...]
        w = kern[:, None] * A.reshape(A.shape + (1,) * (kern.ndim - 1))
        b = kern.reshape(kern.shape[0], -1).sum(axis=1) * ba_
    else:
        Bd = dense_grouped(wb, groups_b)
        w = np.moveaxis(np.tensordot(Bd, A, axes=([1], [0])), -1, 1)
        b = np.tensordot(Bd, ba_, axes=([1], [0])).reshape(Bd.shape[0], -1).sum(axis=1)
    if bb is not None:
        b = b + np.asarray(bb, np.float64)
    return np.ascontiguousarray(w), b


def compose_then_pointwise(wa, ba, groups_a: int, wb, bb) -> tuple[np.ndarray, np.ndarray]:
    """conv A (any) then conv B (1x1, groups 1, stride 1, padding 0): ``W = B A``, ``bias = B ba + bb``.

    A depthwise A (multiplier 1) composes without expanding it: ``W[o, i, k] = B[o, i] A[i, 0, k]``;
    otherwise one BLAS matrix product over the channels."""
    wa = np.asarray(wa, np.float64)
    B = np.asarray(wb, np.float64)[:, :, 0, 0]
    if _is_depthwise(wa, groups_a):
        kern = wa[:, 0]  # [i, k...]
        w = B.reshape(B.shape + (1,) * (kern.ndim - 1)) * kern[None]
    else:
        Ad = dense_grouped(wa, groups_a)
        w = np.tensordot(B, Ad, axes=([1], [0]))
    b = np.zeros(B.shape[0]) if ba is None else B @ np.asarray(ba, np.float64)
    if bb is not None:
        b = b + np.asarray(bb, np.float64)
    return np.ascontiguousarray(w), b


# --------------------------------------------------------------------------- the pass

from dataclasses import dataclass  # noqa: E402
from typing import ClassVar  # noqa: E402

from .canonicalize import COMPOSE_PATTERNS, Canonicalize, Pattern  # noqa: E402


@dataclass
class ComposeLinear(Canonicalize):
    """canonicalize plus composition of conv chains with no neuron between (RepConv, dw -> pw)."""

    name: ClassVar[str] = "compose-linear"
    patterns: ClassVar[dict[str, tuple[Pattern, ...]]] = COMPOSE_PATTERNS
