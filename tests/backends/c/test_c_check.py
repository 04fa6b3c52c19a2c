"""snnc check: float, integer, host C and Cortex-M4 (QEMU) levels on the same inputs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.c import check as check_mod
from snnc.backends.c.m4 import tools_available
from snnc.ir.parser import parse_module

GOLDEN = Path(__file__).resolve().parents[3] / ".." / "shared" / "golden" / "nir-paper"
needs_cc = pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="no host cc or make")

FLOAT_NET = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<6xf32>
    %l = "nn.linear"(%x) {weight = dense<[[0.5, -0.25, 1.0, 0.3, 0.2, 0.1], [0.75, 0.0, -1.0, 0.4, -0.6, 0.9], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]]> : tensor<3x6xf32>} : (tensor<6xf32>) -> tensor<3xf32>
    %s = "snn.lif"(%l) {alpha = 5.000000e-01 : f32, v_th = 5.000000e-01 : f32} : (tensor<3xf32>) -> tensor<3xi1>
    %l2 = "nn.linear"(%s) {weight = dense<[[1.0, -0.5, 0.5]]> : tensor<1x3xf32>} : (tensor<3xi1>) -> tensor<1xf32>
    %o = "snn.li"(%l2) {alpha = 9.000000e-01 : f32} : (tensor<1xf32>) -> tensor<1xf32>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<3xi1>) -> ()
    "snn.output"(%o) {index = 1 : i64, name = "v"} : (tensor<1xf32>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


@needs_cc
def test_check_all_levels_agree(tmp_path):
    rep = check_mod.check(parse_module(FLOAT_NET), tmp_path, steps=24, m4=not tools_available())
    text = rep.table()
    assert rep.ok, text
    assert "host C (cc)" in text and "bit-exact" in text
    if not tools_available():
        assert "cortex-m4 (qemu)" in text and "arm-none-eabi-size" in text
    else:  # visible in the table, never a silent pass
        pytest.skip(f"Cortex-M4 level not run: missing {tools_available()}")


@needs_cc
def test_check_reports_a_mismatch(tmp_path, monkeypatch):
    real = check_mod.run_host

    def broken(m, xs, out_dir):
        outs, art = real(m, xs, out_dir)
        outs = {k: v.copy() for k, v in outs.items()}
        first = next(iter(outs))
        outs[first][0, 0] += 1
        return outs, art

    monkeypatch.setattr(check_mod, "run_host", broken)
    rep = check_mod.check(parse_module(FLOAT_NET), tmp_path, steps=8, m4=False)
    assert not rep.ok and rep.mismatches == 1
    assert "1 values differ" in rep.table() and "MISMATCH" in rep.table()


@needs_cc
def test_cli_check_on_a_golden_graph():
    if not (GOLDEN / "braille_noDelay_noBias_subtract.nir").exists():
        pytest.skip("golden Braille graph not available")
    if tools_available():
        pytest.skip(f"Cortex-M4 tools missing: {tools_available()}")
    snnc = shutil.which("snnc", path=str(Path(__file__).resolve().parents[3] / ".venv" / "bin")) or shutil.which("snnc")
    if snnc is None:
        pytest.skip("the snnc command is not installed")
    r = subprocess.run([snnc, "check", str(GOLDEN / "braille_noDelay_noBias_subtract.nir"), "--target", "c", "--inputs", "12"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("bit-exact") == 2 and "integer levels agree bit for bit" in r.stdout
    assert np.any([ln.startswith("cortex-m4 (arm-none-eabi-size): text") for ln in r.stdout.splitlines()])
