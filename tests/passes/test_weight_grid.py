"""quantize{weight-grid=...}: a declared QAT grid (uniform:B, ternary, binary) is checked per layer
(a located diagnostic naming the layer and its worst off-grid weight) and mapped to the grid's
integers without a second rounding; the integer graph is spike-identical to the float one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc.dialects.common import tensor_attr_array
from snnc.interp import run
from snnc.ir import DiagnosticError
from snnc.ir.attributes import DenseElementsAttr
from snnc.ir.parser import parse_module
from snnc.ir.types import TensorType, f32
from snnc.passes import PassManager, Quantize, parse_pipeline
from snnc.passes.quantize import grid_violation, parse_weight_grid

LEVELS = {"uniform:4": np.arange(-7, 8), "uniform:3": np.arange(-3, 4), "ternary": np.array([-1, 0, 1]),
          "binary": np.array([-1, 1])}
Q = 0.125  # power-of-two step: float sums exact, so the integer graph must be spike-identical


def _net(k1: np.ndarray, k2: np.ndarray, q1: float, q2: float) -> str:
    w1 = DenseElementsAttr(TensorType(k1.shape, f32), (k1 * q1).astype(np.float32))
    w2 = DenseElementsAttr(TensorType(k2.shape, f32), (k2 * q2).astype(np.float32))
    return f'''"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<{k1.shape[1]}xi1>
    %l = "nn.linear"(%x) {{weight = {w1}}} : (tensor<{k1.shape[1]}xi1>) -> tensor<{k1.shape[0]}xf32>
    %s = "snn.if"(%l) {{v_th = {3 * q1:e} : f64}} : (tensor<{k1.shape[0]}xf32>) -> tensor<{k1.shape[0]}xi1>
    %l2 = "nn.linear"(%s) {{weight = {w2}}} : (tensor<{k1.shape[0]}xi1>) -> tensor<{k2.shape[0]}xf32>
    %s2 = "snn.if"(%l2) {{v_th = {2 * q2:e} : f64}} : (tensor<{k2.shape[0]}xf32>) -> tensor<{k2.shape[0]}xi1>
    "snn.output"(%s2) {{index = 0 : i64, name = "s"}} : (tensor<{k2.shape[0]}xi1>) -> ()
  }}) {{sym_name = "g"}} : () -> ()
}}) : () -> ()'''


def _ks(grid: str, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lv = LEVELS[grid]
    k1, k2 = rng.choice(lv, size=(10, 16)), rng.choice(lv, size=(4, 10))
    k1[0, 0], k2[0, 0] = lv.max(), lv.min()  # the grid's extreme levels occur
    return k1, k2


def _x(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((24, 6, 16)) < 0.5


def test_parse_weight_grid():
    assert parse_weight_grid("") is None
    assert parse_weight_grid("uniform:4") == ("uniform", 4)
    assert parse_weight_grid("ternary") == ("ternary", 2)
    assert parse_weight_grid("binary") == ("binary", 2)
    for bad in ("uniform", "uniform:1", "uniform:17", "uniform:x", "quaternary"):
        with pytest.raises(ValueError, match="weight-grid must be"):
            parse_weight_grid(bad)


def test_bad_option_text_is_a_diagnostic():
    with pytest.raises(DiagnosticError, match="weight-grid must be uniform:B"):
        parse_pipeline("quantize{weight-grid=uniform:1}")
    with pytest.raises(DiagnosticError, match="needs weight-bits >= 4"):
        parse_pipeline("quantize{weight-grid=uniform:4,weight-bits=3}")
    with pytest.raises(DiagnosticError, match="weight-scheme=uniform"):
        parse_pipeline("quantize{weight-grid=ternary,weight-scheme=ternary}")
    (p,) = parse_pipeline("quantize{weight-grid=ternary}")
    assert p.weight_bits == 2  # the declared grid sets the integer width
    (p,) = parse_pipeline("quantize{weight-grid=uniform:4,weight-bits=6}")
    assert p.weight_bits == 6  # an explicit wider width is kept (integers k * 2^e)


@pytest.mark.parametrize("grid", sorted(LEVELS))
def test_declared_grid_maps_exactly(grid):
    k1, k2 = _ks(grid)
    m = parse_module(_net(k1, k2, Q, 3 * Q))
    x = _x()
    qp = Quantize(weight_grid=grid, calibration=x)
    after = m.clone()
    PassManager([qp]).run(after)
    assert len(qp.report.exact_layers) == 2 and not qp.report.rounded_layers
    qmax = int(LEVELS[grid].max())
    for op, k in zip([o for o in after.walk() if o.op_name == "spike.accumulate"], (k1, k2), strict=True):
        w = tensor_attr_array(op, "weight", np.int64)
        assert np.array_equal(w, k)  # the QAT integers themselves (weight-bits = B: no room to shift)
        assert np.abs(w).max() == qmax
    ref = run(m, x, batched=True).outputs["s"]
    assert ref.any() and not ref.all()
    assert np.array_equal(ref, run(after, x, batched=True).outputs["s"])
    x2 = _x(5)  # held-out
    assert np.array_equal(run(m, x2, batched=True).outputs["s"], run(after, x2, batched=True).outputs["s"])


@pytest.mark.parametrize(("grid", "pos", "value_k", "dist"), [
    ("uniform:4", (3, 5), 2.3, 0.3),  # between levels 2 and 3
    ("uniform:3", (7, 1), 5.0, None),  # level 5 is beyond a 3-bit grid (|k| <= 3): no step fits
    ("ternary", (2, 9), 0.4, 0.4),
    ("binary", (6, 2), 0.0, 1.0),  # a zero is not a binary level
])
def test_off_grid_weight_is_reported_with_layer_and_worst_value(grid, pos, value_k, dist):
    k1, k2 = _ks(grid)
    k1 = k1.astype(np.float64)
    k1[pos] = value_k
    m = parse_module(_net(k1, k2, Q, Q))
    with pytest.raises(DiagnosticError) as ei:
        PassManager([Quantize(weight_grid=grid)]).run(m)
    msg = str(ei.value)
    assert "'nn.linear' op weights of nn.linear are not on the declared weight-grid=" + grid in msg
    assert ":4:" in msg  # located: line 4 of the module text (the first nn.linear)
    if dist is not None:
        assert f"weight{list(pos)} = {float(np.float32(value_k * Q)):.9g} is {dist:.3g} steps off" in msg
    else:
        assert "steps off the grid" in msg


def test_grid_violation_per_channel():
    w = np.array([[0.1, -0.3, 0.2], [0.5, 1.0, -0.25]])  # row 0 step 0.1, row 1 step 0.25
    assert grid_violation(w, "uniform", 4, per_channel=True) is None
    bad = grid_violation(w, "uniform", 4, per_channel=False)  # no common step with |k| <= 7
    assert bad is not None
    w2 = w.copy()
    w2[1, 2] = -0.3
    idx, value, dist, q = grid_violation(w2, "uniform", 4, per_channel=True)
    assert idx == (1, 2) and value == -0.3 and q == 0.25 and dist == pytest.approx(0.2)


def test_incommensurate_terms_cannot_stay_exact():
    """Two synapses summed into one neuron on grids of steps 0.125 and 0.1: each is on the declared grid,
    but one accumulator scale cannot hold both exactly -> a diagnostic, not a silent rounding."""
    rng = np.random.default_rng(0)
    k1, k2 = rng.choice(np.arange(-7, 8), size=(4, 8)), rng.choice(np.arange(-7, 8), size=(4, 8))
    k1[0, 0] = k2[0, 0] = 7
    w1 = DenseElementsAttr(TensorType(k1.shape, f32), (k1 * 0.125).astype(np.float32))
    w2 = DenseElementsAttr(TensorType(k2.shape, f32), (k2 * 0.1).astype(np.float32))
    text = f'''"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<8xi1>
    %a = "nn.linear"(%x) {{weight = {w1}}} : (tensor<8xi1>) -> tensor<4xf32>
    %b = "nn.linear"(%x) {{weight = {w2}}} : (tensor<8xi1>) -> tensor<4xf32>
    %c = "nn.add"(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %s = "snn.if"(%c) {{v_th = 1.0 : f64}} : (tensor<4xf32>) -> tensor<4xi1>
    "snn.output"(%s) {{index = 0 : i64, name = "s"}} : (tensor<4xi1>) -> ()
  }}) {{sym_name = "g"}} : () -> ()
}}) : () -> ()'''
    with pytest.raises(DiagnosticError, match="cannot stay exact"):
        PassManager([Quantize(weight_grid="uniform:4")]).run(parse_module(text))
    PassManager([Quantize(weight_bits=4)]).run(parse_module(text))  # undeclared: rounds, as before


def test_cli_off_grid_exit_1_located(tmp_path):
    k1, k2 = _ks("ternary")
    k1 = k1.astype(np.float64)
    k1[1, 1] = 0.5
    f = tmp_path / "m.mlir"
    f.write_text(_net(k1, k2, Q, Q))
    exe = Path(sys.executable).parent / "snnc"
    r = subprocess.run([str(exe), "opt", str(f), "-p", "quantize{weight-grid=ternary}", "-o", str(tmp_path / "o.mlir")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert f"{f}:4:" in r.stderr and "error:" in r.stderr and "weight[1, 1] = 0.0625 is 0.5 steps off" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o.mlir").exists()
