"""quantize on a token-major nn.linear ([N, C_in] -> [N, C_out], as transformer MLPs and attention projections are
written): per-channel parameters broadcast along the last axis (they were reshaped channels-first, [C, 1], which
does not broadcast to [N, C] and made quantize produce invalid IR); neuro-core maps it bit-exact."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from snnc.cli import app
from snnc.interp import run
from snnc.ir import verify
from snnc.ir.parser import parse_module
from snnc.passes import PassManager

rng = np.random.default_rng(3)
W = rng.normal(0, 0.5, (8, 4))
B = rng.normal(0, 0.3, 8)
VTH = np.linspace(0.6, 1.4, 8)


def _fmt(a) -> str:
    return "[" + ", ".join(_fmt(x) for x in a) + "]" if np.ndim(a) else repr(float(a))


SRC = f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<6x4xi1>
    %y = "nn.linear"(%x) {{weight = dense<{_fmt(W)}> : tensor<8x4xf64>, bias = dense<{_fmt(B)}> : tensor<8xf64>}} : (tensor<6x4xi1>) -> tensor<6x8xf64>
    %s = "snn.lif"(%y) {{alpha = 0.5 : f64, beta = 1.0 : f64, gamma = 0.0 : f64, v_th = dense<{_fmt(VTH)}> : tensor<8xf64>, v_reset = 0.0 : f64, reset = "hard", cmp = "ge"}} : (tensor<6x8xf64>) -> tensor<6x8xi1>
    "snn.output"(%s) {{index = 0 : i64, name = "s"}} : (tensor<6x8xi1>) -> ()
  }}) {{sym_name = "g"}} : () -> ()
}}) : () -> ()
"""


def test_token_major_linear_quantizes_and_agrees():
    m = parse_module(SRC)
    verify(m)
    x = {"x": (rng.random((32, 6, 4)) < 0.4).astype(np.float64)}
    ref = run(m, x).outputs["s"]
    PassManager.parse("canonicalize,quantize").run(m)  # verifies after the pass (it raised before the fix)
    lif = next(op for op in m.walk() if op.op_name == "spike.lif")
    assert tuple(np.shape(lif.get_attr("v_th").data)) in ((1, 8), (8,))  # per channel, along the last axis
    out = run(m, x).outputs["s"]
    agree = float(np.mean(np.asarray(out) == np.asarray(ref)))
    assert agree >= 0.95, agree
    # channel j's threshold belongs to channel j: a neuron with a larger threshold fires no more often
    rates = np.asarray(out).reshape(32 * 6, 8).mean(axis=0)
    ref_rates = np.asarray(ref).reshape(32 * 6, 8).mean(axis=0)
    assert np.allclose(rates, ref_rates, atol=0.1)


def test_token_major_linear_on_neuro_core_is_bit_exact(tmp_path):
    src = tmp_path / "m.mlir"
    src.write_text(SRC)
    r = CliRunner().invoke(app, ["check", str(src), "--target", "neuro-core", "--inputs", "8"])
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "bit-exact" in r.stdout
