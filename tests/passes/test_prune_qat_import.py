"""Models trained with quantization-aware training (issue 8, item 2): weights already on a
4-bit uniform, ternary or binary grid are detected by the quantize pass and mapped to the
integers ``k`` of ``W = q k`` with no second rounding; where the float sums are exact
(power-of-two step) the integer graph is spike-for-spike identical (translation validation),
and with an arbitrary step (0.0371) it agrees on the calibration inputs."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.dialects.common import tensor_attr_array
from snnc.interp import run
from snnc.ir.attributes import DenseElementsAttr
from snnc.ir.parser import parse_module
from snnc.ir.types import TensorType, f32
from snnc.passes import PassManager, Quantize

GRIDS = {"uniform4": (4, np.arange(-7, 8)), "ternary": (2, np.array([-1, 0, 1])), "binary": (2, np.array([-1, 1]))}


def _net(k1: np.ndarray, k2: np.ndarray, q: float, th1: float, th2: float, reset1: str) -> str:
    w1 = DenseElementsAttr(TensorType(k1.shape, f32), (k1 * q).astype(np.float32))
    w2 = DenseElementsAttr(TensorType(k2.shape, f32), (k2 * q).astype(np.float32))
    return f'''"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<{k1.shape[1]}xi1>
    %l = "nn.linear"(%x) {{weight = {w1}}} : (tensor<{k1.shape[1]}xi1>) -> tensor<{k1.shape[0]}xf32>
    %s = "snn.if"(%l) {{v_th = {th1 * q:e} : f64, reset = "{reset1}"}} : (tensor<{k1.shape[0]}xf32>) -> tensor<{k1.shape[0]}xi1>
    %l2 = "nn.linear"(%s) {{weight = {w2}}} : (tensor<{k1.shape[0]}xi1>) -> tensor<{k2.shape[0]}xf32>
    %s2 = "snn.if"(%l2) {{v_th = {th2 * q:e} : f64}} : (tensor<{k2.shape[0]}xf32>) -> tensor<{k2.shape[0]}xi1>
    "snn.output"(%s2) {{index = 0 : i64, name = "s"}} : (tensor<{k2.shape[0]}xi1>) -> ()
  }}) {{sym_name = "g"}} : () -> ()
}}) : () -> ()'''


@pytest.mark.parametrize("grid", sorted(GRIDS))
@pytest.mark.parametrize("q", [0.125, 0.0371])
def test_qat_grid_maps_to_integers_without_rounding(grid, q):
    bits, levels = GRIDS[grid]
    rng = np.random.default_rng(3)
    k1 = rng.choice(levels, size=(10, 16))
    k2 = rng.choice(levels, size=(4, 10))
    # power-of-two step: thresholds on the grid, soft reset (float sums exact, ties exact);
    # step 0.0371 (f32-stored weights): thresholds between grid points (no float ties), hard reset
    th = (3.0, 2.0, "soft") if q == 0.125 else (2.5, 1.5, "hard")
    m = parse_module(_net(k1, k2, q, *th))
    x = rng.random((32, 8, 16)) < 0.5
    qp = Quantize(weight_bits=bits, calibration=x)
    after = m.clone()
    PassManager([qp]).run(after)
    assert qp.report is not None
    assert len(qp.report.exact_layers) == 2 and not qp.report.rounded_layers, qp.report.summary()
    acc = [op for op in after.walk() if op.op_name == "spike.accumulate"]
    assert len(acc) == 2
    for op, k in zip(acc, (k1, k2), strict=True):
        w = tensor_attr_array(op, "weight", np.int64)
        # W_int = k * 2^e: the QAT integers, possibly shifted left, never re-rounded
        nz = k != 0
        ratio = w[nz] / k[nz]
        assert np.all(ratio == ratio[0]) and np.log2(ratio[0]).is_integer(), (w, k)
        assert np.all(w[~nz] == 0)
        assert np.abs(w).max() <= (1 << (bits - 1)) - 1
    ref = run(m, x, batched=True).outputs["s"]
    out = run(after, x, batched=True).outputs["s"]
    assert ref.any()  # not vacuous
    assert np.array_equal(ref, out)
    x2 = np.random.default_rng(9).random((32, 8, 16)) < 0.5  # held-out inputs
    assert np.array_equal(run(m, x2, batched=True).outputs["s"], run(after, x2, batched=True).outputs["s"])
