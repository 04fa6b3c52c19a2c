"""spike.matmul (spike-driven attention's K^T V and Q (K^T V)) and nn.transpose: verifier, kernel
against loops, and the emitted C bit for bit."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from snnc.backends.c.check import host_inputs, run_host
from snnc.interp import run
from snnc.ir import DiagnosticError, verify
from snnc.ir.parser import parse_module

needs_cc = pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="no host cc or make")

ATTN = """
"builtin.module"() ({
  "snn.graph"() ({
    %q = "snn.input"() {index = 0 : i64, name = "q"} : () -> tensor<2x5x3xi1>
    %k = "snn.input"() {index = 1 : i64, name = "k"} : () -> tensor<2x5x3xi1>
    %v = "snn.input"() {index = 2 : i64, name = "v"} : () -> tensor<2x5x3xi1>
    %kt = "nn.transpose"(%k) {perm = array<i64: 0, 2, 1>} : (tensor<2x5x3xi1>) -> tensor<2x3x5xi1>
    %kv = "spike.matmul"(%kt, %v) : (tensor<2x3x5xi1>, tensor<2x5x3xi1>) -> tensor<2x3x3xi8>
    %y = "spike.matmul"(%q, %kv) : (tensor<2x5x3xi1>, tensor<2x3x3xi8>) -> tensor<2x5x3xi16>
    %yt = "nn.transpose"(%y) {perm = array<i64: 2, 0, 1>} : (tensor<2x5x3xi16>) -> tensor<3x2x5xi16>
    "snn.output"(%kv) {index = 0 : i64, name = "kv"} : (tensor<2x3x3xi8>) -> ()
    "snn.output"(%yt) {index = 1 : i64, name = "y"} : (tensor<3x2x5xi16>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def _inputs(T: int = 12, seed: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: rng.random((T, 2, 5, 3)) < 0.6 for n in ("q", "k", "v")}


def test_matmul_against_loops():
    m = parse_module(ATTN)
    verify(m)
    x = _inputs()
    out = run(m, x).outputs
    for t in range(12):
        q, k, v = (x[n][t].astype(int) for n in ("q", "k", "v"))
        for h in range(2):
            kv = np.array([[sum(k[h, n, i] and v[h, n, j] for n in range(5)) for j in range(3)] for i in range(3)])
            assert out["kv"][t, h].tolist() == kv.tolist()
            y = np.array([[sum(kv[i, j] for i in range(3) if q[h, n, i]) for j in range(3)] for n in range(5)])
            assert out["y"][t][:, h, :].T.tolist() == y.tolist()
    # all-ones Q, K, V with N tokens, d channels: Q (K^T V) = N d (SEEDS.md fact 3: 3 tokens, d 8 -> 24)
    ones = parse_module(ATTN.replace("2x5x3", "1x3x8").replace("2x3x5", "1x8x3").replace("2x3x3", "1x8x8")
                        .replace("3x2x5", "8x1x3"))
    o = run(ones, {n: np.ones((1, 1, 3, 8), bool) for n in ("q", "k", "v")}).outputs
    assert (o["kv"] == 3).all() and (o["y"] == 24).all()


@pytest.mark.parametrize(("body", "msg"), [
    ('"spike.matmul"(%a, %b) : (tensor<2x5x3xi1>, tensor<2x5x3xi1>) -> tensor<2x5x3xi8>', "are not [..., n, k] and [..., k, m]"),
    ('"spike.matmul"(%a, %c) : (tensor<2x5x3xi1>, tensor<2x3x4xi8>) -> tensor<2x5x4xi8>', "cannot hold a sum of up to 3 x 128"),
    ('"spike.matmul"(%c, %a) : (tensor<2x3x4xi8>, tensor<2x5x3xi1>) -> tensor<2x3x3xi8>', "lhs"),
    ('"spike.matmul"(%a, %c) : (tensor<2x5x3xi1>, tensor<2x3x4xi8>) -> tensor<2x5x5xi16>', "result shape [2, 5, 5]"),
])
def test_matmul_verifier(body, msg):
    text = f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %a = "snn.input"() {{index = 0 : i64, name = "a"}} : () -> tensor<2x5x3xi1>
    %b = "snn.input"() {{index = 1 : i64, name = "b"}} : () -> tensor<2x5x3xi1>
    %c = "snn.input"() {{index = 2 : i64, name = "c"}} : () -> tensor<2x3x4xi8>
    %y = {body}
  }}) {{sym_name = "main"}} : () -> ()
}}) : () -> ()
"""
    with pytest.raises(DiagnosticError) as e:
        verify(parse_module(text))
    assert msg in str(e.value), str(e.value)


@needs_cc
def test_matmul_and_transpose_c_bit_exact(tmp_path):
    m = parse_module(ATTN)
    x = _inputs(T=20, seed=9)
    want = run(m, x).outputs
    got, _ = run_host(m, host_inputs(m, x), tmp_path)
    for k in want:
        assert np.array_equal(got[k], np.asarray(want[k]).astype(np.int64).reshape(20, -1)), k


SHL = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<6xi8>
    %y = "spike.requant"(%x) {shift = -3 : i64} : (tensor<6xi8>) -> tensor<6xi10>
    %z = "spike.requant"(%x) {rounding = "half_up", shift = -1 : i64} : (tensor<6xi8>) -> tensor<6xi16>
    "snn.output"(%y) {index = 0 : i64, name = "y"} : (tensor<6xi10>) -> ()
    "snn.output"(%z) {index = 1 : i64, name = "z"} : (tensor<6xi16>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


@needs_cc
def test_requant_negative_shift_is_an_exact_saturating_left_shift(tmp_path):
    m = parse_module(SHL)
    verify(m)
    x = np.array([[-128, -65, -64, 0, 63, 127], [1, -1, 2, -2, 100, -100]], dtype=np.int64)
    out = run(m, {"x": x}).outputs
    assert out["y"].tolist() == [[-512, -512, -512, 0, 504, 511], [8, -8, 16, -16, 511, -512]]
    assert out["z"].tolist() == (2 * x).tolist()
    got, _ = run_host(m, host_inputs(m, {"x": x}), tmp_path)
    for k in out:
        assert np.array_equal(got[k], np.asarray(out[k]).astype(np.int64)), k
    bad = SHL.replace("shift = -3 : i64} : (tensor<6xi8>)", "shift = -60 : i64} : (tensor<6xi8>)")
    with pytest.raises(DiagnosticError, match="a left shift by 60 of a 8-bit input exceeds 62 bits"):
        verify(parse_module(bad))
