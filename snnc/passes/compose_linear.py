"""Composition of linear synapse chains (numerical core; the IR rewrite is not written yet).

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
