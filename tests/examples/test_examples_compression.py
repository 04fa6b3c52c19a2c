"""The compression examples (issue 8) at a tiny size: train briefly, prune, quantize, compile
to C and ``snnc check --target c`` end to end."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _neuro_core(out: Path, name: str, pipeline: str) -> None:
    """snnc compile/check --target neuro-core of an example's float IR: green, simulator bit-exact."""
    res = _load("examples/neuro_core_eval.py").neuro_core(out / f"{name}.mlir", out, pipeline, out / "calibration.npy")
    assert res["nc_compile_rc"] == 0, res["nc_compile"]
    assert res["nc_check_rc"] == 0 and "neuro-core simulator  s       bit-exact" in res["nc_check"], res["nc_check"]
    assert res["nc_cores"] >= 1 and (out / "neuro-core" / "config.json").exists()


def _load(rel: str):
    spec = importlib.util.spec_from_file_location(Path(rel).stem, ROOT / rel)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow  # trains twice, C + qemu + neuro-core compile/check, simulator on 40 images: ~60 s
@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="needs a host C compiler and make")
def test_qp_snn_example_tiny(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    ex = _load("examples/qp_snn/qp_snn.py")
    res = ex.main(["--epochs", "1", "--channels", "4", "--test", "40", "--out", str(tmp_path)])
    assert res["compile_rc"] == 0, res["compile_err"]
    assert res["check_rc"] == 0, res["check"]
    assert "bit-exact" in res["check"]
    assert res["exact_layers"] and not res["rounded_layers"]  # QAT grid detected, no second rounding
    rows = list(res["rows"].values())
    assert rows[2][1] < rows[1][1]  # pruning shrinks the footprint
    assert rows[3][1] < rows[2][1]  # integers shrink it again
    assert "2 channel(s) removed" in res["prune"]
    assert (tmp_path / "c" / "model.c").exists()
    # neuro-core: compile + check green (simulator bit-exact with the integer interpreter), and the
    # simulator classifies the test images exactly as the integer graph does
    assert res["nc_compile_rc"] == 0, res["nc_compile"]
    assert res["nc_check_rc"] == 0 and "neuro-core simulator  s       bit-exact" in res["nc_check"], res["nc_check"]
    assert (tmp_path / "neuro-core" / "config.json").exists()
    assert res["nc_cores"] >= 1 and res["nc_energy_pj"] > 0
    assert rows[4][0] == rows[3][0]  # simulator accuracy == C / integer-interpreter accuracy


@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="needs a host C compiler and make")
def test_q_snn_example_tiny(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    ex = _load("examples/q_snn/q_snn.py")
    res = ex.main(["--epochs", "1", "--hidden", "16", "--test", "40", "--out", str(tmp_path)])
    assert res["compile_rc"] == 0, res["compile_err"]
    assert res["check_rc"] == 0, res["check"]
    assert "bit-exact" in res["check"]
    assert "nn.linear@" in " ".join(res["exact_layers"])  # the 1-bit layer is imported without rounding
    rows = list(res["rows"].values())
    assert rows[-1][1] < rows[0][1]
    assert (tmp_path / "c" / "model.c").exists()
    _neuro_core(tmp_path, "q_snn", "canonicalize,quantize{weight-bits=8,per-channel=true,membrane-bits=8}")


@pytest.mark.slow  # as above: ~60 s
@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="needs a host C compiler and make")
def test_qt_snn_example_tiny(tmp_path):
    """Ternary spikes end to end: TernaryEncoder -> si2 graph input -> ternary LIF (si2) ->
    integer graph -> C, bit-exact with the integer interpreter."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    ex = _load("examples/qt_snn/qt_snn.py")
    res = ex.main(["--epochs", "1", "--hidden", "16", "--test", "40", "--out", str(tmp_path)])
    assert res["compile_rc"] == 0, res["compile_err"]
    assert res["check_rc"] == 0, res["check"]
    assert "bit-exact" in res["check"]
    assert "tensor<16xsi2>" in res["ternary_ops"]  # the hidden neurons stay ternary in the integer IR
    assert "si2" in (tmp_path / "qt_snn.mlir").read_text()
    rows = list(res["rows"].values())
    assert rows[2][1] < rows[0][1]
    # neuro-core with ternary spikes (graded -1/+1 events): compile + check green, simulator == integer graph
    assert res["nc_compile_rc"] == 0, res["nc_compile"]
    assert res["nc_check_rc"] == 0 and "neuro-core simulator  s       bit-exact" in res["nc_check"], res["nc_check"]
    assert rows[3][0] == rows[2][0]


@pytest.mark.slow  # trains twice (a transformer block), C + qemu compile/check: ~50 s
@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="needs a host C compiler and make")
def test_bestformer_example_tiny(tmp_path):
    """Binary Q/K/V weights and binary attention maps through attention-mask-add to C, bit-exact."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    ex = _load("examples/bestformer/bestformer.py")
    res = ex.main(["--epochs", "1", "--hidden", "16", "--test", "40", "--out", str(tmp_path)])
    assert res["compile_rc"] == 0, res["compile_err"]
    assert res["check_rc"] == 0, res["check"]
    assert "bit-exact" in res["check"]
    # the three 1-bit projections: the +-g_c rows are a grid, the scale folds into the threshold (no rounding)
    assert len(res["exact_layers"]) >= 3
    # the attention products are spike.matmul (AND + popcount, no multiplier); the 0.125 lambda scale is gone
    assert "spike.matmul" in res["integer_ops"] and "nn.scale" not in res["integer_ops"]
    assert "nn.matmul" not in res["integer_ops"] and "nn.masked_accumulate" not in res["integer_ops"]
    att = res["attention"]
    assert att["QAT"]["dense_macs"] > 0 and att["mask-add"]["macs"] == 0
    assert att["mask-add"]["energy_pj"] < att["mask-add"]["dense_energy_pj"]
    rows = list(res["rows"].values())
    assert rows[2][0] == rows[1][0]  # attention-mask-add does not change a prediction
    assert rows[3][1] < rows[1][1]  # integers shrink the footprint
    assert (tmp_path / "c" / "model.c").exists()
    _neuro_core(tmp_path, "bestformer",  # binary attention (spike.matmul of spikes) on the chip
                "canonicalize,attention-mask-add,quantize{weight-bits=8,per-channel=true,membrane-bits=16}")
