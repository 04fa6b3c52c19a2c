"""``snnc compile/check --target rtl`` from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from snnc.backends.rtl.sim import have
from snnc.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "nir"
LIF = EXAMPLES / "lif_norse.nir"
LIF_IN = EXAMPLES / "lif_norse_input.npy"
BRAILLE = EXAMPLES / "braille.nir"

runner = CliRunner()
needs_iverilog = pytest.mark.skipif(
    not (have("iverilog") and have("vvp") and have("make")), reason="iverilog/make not installed (scripts/install-system-deps.sh)"
)


def snnc(*args):
    return runner.invoke(app, [str(a) for a in args])


@needs_iverilog
def test_compile_then_simulate_with_the_generated_makefile(tmp_path):
    """The hardware team's flow: compile, encode inputs with the shipped script, make sim-icarus, decode;
    equal to the integer interpreter of the same lowering."""
    out = tmp_path / "lif"
    r = snnc("compile", LIF, "--target", "rtl", "-o", out, "--calibration", LIF_IN)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "mesh: 1 core(s)" in r.stdout and "snnc_params.vh" in r.stdout
    x = np.load(LIF_IN)[:600]
    np.save(tmp_path / "in.npy", x)
    py = sys.executable
    subprocess.run([py, "snnc_events.py", "encode", str(tmp_path / "in.npy")], cwd=out, check=True, capture_output=True)
    subprocess.run(["make", "-s", "sim-icarus"], cwd=out, check=True, capture_output=True)
    subprocess.run([py, "snnc_events.py", "decode", "-o", str(tmp_path / "out.npz")], cwd=out, check=True,
                   capture_output=True)
    got = np.load(tmp_path / "out.npz")["output"]

    from snnc.driver import load_module
    from snnc.interp import run
    from snnc.passes import PassManager, parse_pipeline

    m = load_module(LIF)
    PassManager(parse_pipeline(f"canonicalize,quantize{{calibration-file={LIF_IN}}}")).run(m)
    ref = np.asarray(run(m, {"input": x}).outputs["output"])
    assert got.shape == ref.shape and np.array_equal(got.astype(np.int64), ref.astype(np.int64))
    assert ref.sum() > 0


@needs_iverilog
@pytest.mark.slow
def test_check_lif_norse(tmp_path):
    r = snnc("check", LIF, "--target", "rtl", "--inputs", "40", "--work-dir", tmp_path)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "rtl: Icarus Verilog" in r.stdout and "bit-exact" in r.stdout
    assert "cycles per time step (iverilog)" in r.stdout and "integer levels agree bit for bit" in r.stdout


@needs_iverilog
def test_check_mismatch_exits_1(tmp_path, monkeypatch):
    from snnc.backends.rtl import driver, sim, synth
    from snnc.backends.rtl.generate import generate

    def corrupt(module, out_dir, target):
        d = generate(module, out_dir, target)
        (d.out_dir / "p00.memh").write_text("".join("0" * len(w) + "\n" for w in
                                                    (d.out_dir / "p00.memh").read_text().split()))
        return d

    monkeypatch.setattr(driver, "generate", corrupt)
    monkeypatch.setattr(sim, "have", lambda tool: tool != "verilator" and have(tool))
    monkeypatch.setattr(synth, "have_yosys", lambda: False)
    r = snnc("check", LIF, "--target", "rtl", "--inputs", "8", "--work-dir", tmp_path)
    assert r.exit_code == 1
    assert "MISMATCH" in r.stdout and "step 0, element 0 (core 0 neuron 0)" in r.stdout
    assert "rtl: Verilator" in r.stdout and "skipped: verilator not installed" in r.stdout


MAXPOOL = """"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<1x4x4xi1>
    %mp = "nn.max_pool2d"(%x) {kernel_size = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x4x4xi1>) -> tensor<1x2x2xi1>
    %fl = "nn.flatten"(%mp) {end_dim = -1 : i64, start_dim = 0 : i64} : (tensor<1x2x2xi1>) -> tensor<4xi1>
    %l = "nn.linear"(%fl) {weight = dense<[[0.5, -0.25, 1.0, 0.75], [1.0, 1.0, -0.5, 0.25]]> : tensor<2x4xf32>} : (tensor<4xi1>) -> tensor<2xf32>
    %s = "snn.lif"(%l) {alpha = 5.000000e-01 : f32, v_th = 1.000000e+00 : f32} : (tensor<2xf32>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "out"} : (tensor<2xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def test_compile_unsupported_op_is_a_located_diagnostic(tmp_path):
    """Max pooling maps to OR relay neurons, which the reference core does not have: file:line:col, exit 1."""
    src = tmp_path / "mp.mlir"
    src.write_text(MAXPOOL)
    out = tmp_path / "mp"
    r = snnc("compile", src, "--target", "rtl", "-o", out)
    assert r.exit_code == 1
    assert "mp.mlir:4:" in r.stderr and "spike.max_pool2d" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


@needs_iverilog
@pytest.mark.slow
def test_check_braille_bit_exact(tmp_path):
    """NIR Braille (recurrent delay, requantized input branch, CUBA currents) through the CLI: exit 0."""
    r = snnc("check", BRAILLE, "--target", "rtl", "--inputs", 6, "--calibration", EXAMPLES / "braille_input.npy")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "rtl: Icarus Verilog" in r.stdout and "MISMATCH" not in r.stdout
    assert "integer levels agree bit for bit" in r.stdout


def test_compile_twice_is_byte_identical(tmp_path):
    for d in ("a", "b"):
        r = snnc("compile", LIF, "--target", "rtl", "-o", tmp_path / d, "--calibration", LIF_IN)
        assert r.exit_code == 0, r.stdout + r.stderr
    a = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert a == sorted(p.name for p in (tmp_path / "b").iterdir()) and "io.json" in a
    for n in a:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n
