"""Integer kernels of the spike dialect: hand-computed sequences, saturation order, and a
bit-exact cross-check against the RTL helper's numpy golden model (integer.md)."""

from __future__ import annotations

import numpy as np
import pytest
from spike_helpers import core_module

from snnc.backends.rtl import refmodel
from snnc.interp import run
from snnc.interp.spike import requant, saturating_matvec
from snnc.ir import verify
from snnc.ir.parser import parse_module
from snnc.ir.types import i1, si2


def _run_core(w_out_in, x, *, weight_bits=8, acc_bits=32, ternary=False, **lif):
    m = core_module(w_out_in, weight_bits=weight_bits, acc_bits=acc_bits, input_element=si2 if ternary else i1,
                    result_element=si2 if ternary else i1, lif=lif)
    verify(m)
    return run(m, {"x": np.asarray(x)}, probe=True)


def test_shift_leak_lif_hand_computed():
    # one neuron, weight 10, leak k=1: v' = v - (v >> 1) + 10 ; v_th 25, hard reset to 0
    r = _run_core([[10]], [[1]] * 5, membrane_bits=16, leak_shift=1, v_th=25)
    # v: 10, 15, 18, 19, 20 (never fires) ; ceil(v/2) + 10
    vs = [int(s["v"][0]) for s in r.states["%2"]]
    assert vs == [10, 15, 18, 19, 20]
    assert not r.outputs["s"].any()


def test_negative_membrane_shift_is_floor():
    # v = -3: leak = -3 >> 1 = -2 (floor), v - leak = -1
    r = _run_core([[-3]], [[1], [0]], membrane_bits=8, leak_shift=1, v_th=100)
    assert [int(s["v"][0]) for s in r.states["%2"]] == [-3, -1]


def test_mul_leak_rounds_half_up():
    # decay a = 128 / 2^8 = 0.5: v - leak = (v*128 + 128) >> 8 ; v = 3 -> (384+128)>>8 = 2 ; v = -3 -> (-384+128)>>8 = -1
    r = _run_core([[3], [-3]], [[1], [0]], membrane_bits=16, leak_mode="mul", decay=128, frac_bits=8, v_th=100)
    assert [s["v"].tolist() for s in r.states["%2"]] == [[3, -3], [2, -1]]


def test_soft_reset_gt_and_saturation():
    # v_th 5 strict: v=5 does not fire, v=10 fires and keeps 5
    r = _run_core([[5]], [[1], [1], [0]], membrane_bits=8, leak_mode="none", v_th=5, cmp="gt", reset="soft")
    assert r.outputs["s"][:, 0].tolist() == [False, True, False]
    assert [int(s["v"][0]) for s in r.states["%2"]] == [5, 5, 5]
    # membrane saturates at 2^(N-1)-1 = 127 with 8 bits
    r = _run_core([[100]], [[1]] * 3, membrane_bits=8, leak_mode="none", v_th=127, cmp="gt")
    assert [int(s["v"][0]) for s in r.states["%2"]] == [100, 127, 127]


def test_ternary_neuron_fires_minus_one_and_soft_resets_up():
    r = _run_core([[4]], [[-1], [-1], [1]], ternary=True, membrane_bits=8, leak_mode="none", v_th=6, reset="soft")
    assert r.outputs["s"][:, 0].tolist() == [0, -1, 0]
    assert [int(s["v"][0]) for s in r.states["%2"]] == [-4, -2, 2]


def test_accumulator_saturates_in_axon_order():
    # weights 100, 100, -100 into an 8-bit accumulator: 100 -> 127 (sat) -> 27, not 100
    acc = saturating_matvec(np.array([[1, 1, 1]]), np.array([[100, 100, -100]]), 8, 1)
    assert acc.tolist() == [[27]]
    acc = saturating_matvec(np.array([[1, 1, 1]]), np.array([[100, 100, -100]]), 16, 1)
    assert acc.tolist() == [[100]]


def test_requant_rounding():
    x = np.array([5, -5, 6, -6, 7, 1000])
    assert requant(x, 1, "floor", 8).tolist() == [2, -3, 3, -3, 3, 127]
    assert requant(x, 1, "half_up", 8).tolist() == [3, -2, 3, -3, 4, 127]
    assert requant(x, 0, "half_up", 16).tolist() == x.tolist()


MODULE = """
"builtin.module"() ({
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x5x5xi1>
    %1 = "spike.accumulate_conv2d"(%0) {padding = array<i64: 1, 1>, stride = array<i64: 2, 2>,
           weight = dense<[[[[1, -2, 3], [0, 1, 0], [2, 2, -1]], [[-1, 0, 1], [1, 1, 1], [0, -3, 0]]]]> : tensor<1x2x3x3xi4>}
           : (tensor<2x5x5xi1>) -> tensor<1x3x3xi16>
    %2 = "spike.sum_pool2d"(%0) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x5x5xi1>) -> tensor<2x2x2xi8>
    %3 = "spike.popcount"(%0) {axes = array<i64: 1, 2>} : (tensor<2x5x5xi1>) -> tensor<2xi8>
    %4 = "spike.and"(%0, %0) : (tensor<2x5x5xi1>, tensor<2x5x5xi1>) -> tensor<2x5x5xi1>
    "snn.output"(%1) {index = 0 : i64, name = "conv"} : (tensor<1x3x3xi16>) -> ()
    "snn.output"(%2) {index = 1 : i64, name = "pool"} : (tensor<2x2x2xi8>) -> ()
    "snn.output"(%3) {index = 2 : i64, name = "count"} : (tensor<2xi8>) -> ()
    "snn.output"(%4) {index = 3 : i64, name = "and"} : (tensor<2x5x5xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def test_conv_pool_popcount_against_loops():
    m = parse_module(MODULE)
    verify(m)
    x = np.random.default_rng(3).random((4, 2, 5, 5)) < 0.5
    out = run(m, {"x": x}).outputs
    w = np.array([[[[1, -2, 3], [0, 1, 0], [2, 2, -1]], [[-1, 0, 1], [1, 1, 1], [0, -3, 0]]]])
    for t in range(4):
        xp = np.pad(x[t].astype(int), ((0, 0), (1, 1), (1, 1)))
        for p in range(3):
            for q in range(3):
                want = int((xp[:, 2 * p : 2 * p + 3, 2 * q : 2 * q + 3] * w[0]).sum())
                assert out["conv"][t, 0, p, q] == want
        for c in range(2):
            for p in range(2):
                for q in range(2):
                    assert out["pool"][t, c, p, q] == x[t, c, 2 * p : 2 * p + 2, 2 * q : 2 * q + 2].sum()
        assert out["count"][t].tolist() == x[t].sum(axis=(1, 2)).tolist()
    assert (out["and"] == x).all()


@pytest.mark.parametrize("seed", range(6))
def test_lif_core_equals_rtl_refmodel(seed):
    """spike.accumulate + spike.lif == refmodel.run_core, bit for bit (integer.md)."""
    rng = np.random.default_rng(seed)
    n_in, n_out, T = 64, 10, 30
    W, N, A = 4, 10, 8 if seed % 2 else 16  # an 8-bit accumulator saturates often
    ternary = seed >= 3
    w = rng.integers(-8, 8, size=(n_in, n_out)) + (3 if A == 8 else 0)
    w = np.clip(w, -8, 7)
    v_th = rng.integers(1, 60, size=n_out)
    v_reset = rng.integers(-10, 10, size=n_out)
    bias = rng.integers(-5, 6, size=n_out)
    k = rng.integers(0, 5, size=n_out)
    reset = ["hard", "soft", "none"][seed % 3]
    cmp = ["ge", "gt"][seed % 2]
    cfg = refmodel.CoreConfig(weights=w, v_th=v_th, v_reset=v_reset, bias=bias, leak_shift=k, reset_mode=reset,
                              cmp=cmp, ternary=ternary, weight_bits=W, mem_bits=N, acc_bits=A)
    if ternary:
        x = rng.choice([-1, 0, 1], size=(T, n_in), p=[0.2, 0.5, 0.3]).astype(np.int8)
        events = [[(a, 1 if x[t, a] < 0 else 0) for a in np.flatnonzero(x[t])] for t in range(T)]
    else:
        x = rng.random((T, n_in)) < 0.4
        events = [list(np.flatnonzero(x[t])) for t in range(T)]
    want = refmodel.run_core(cfg, events)
    got = _run_core(w.T, x, weight_bits=W, acc_bits=A, ternary=ternary, membrane_bits=N, leak_mode="shift",
                    leak_shift=k, v_th=v_th, v_reset=v_reset, bias=bias, reset=reset, cmp=cmp)
    assert np.array_equal(got.outputs["s"].astype(np.int64), want.astype(np.int64))
    assert want.any()  # the comparison is not vacuous
    if A == 8 and not ternary:  # and the 8-bit accumulator did saturate somewhere
        assert np.abs(x.astype(np.int64) @ w).max() > 127
