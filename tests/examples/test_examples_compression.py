"""The compression examples (issue 8) at a tiny size: train briefly, prune, quantize, compile
to C and ``snnc check --target c`` end to end."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(rel: str):
    spec = importlib.util.spec_from_file_location(Path(rel).stem, ROOT / rel)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


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
    assert rows[-1][1] < rows[0][1]


@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="needs a host C compiler and make")
def test_bestformer_example_tiny(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    ex = _load("examples/bestformer/bestformer.py")
    res = ex.main(["--epochs", "1", "--hidden", "16", "--test", "40", "--out", str(tmp_path)])
    assert res["compile_rc"] == 0, res["compile_err"]
    assert res["check_rc"] == 0, res["check"]
    assert "bit-exact" in res["check"]
    assert len(res["exact_layers"]) >= 1  # the binary layer: scale folded, no second rounding
    assert (tmp_path / "c" / "model.c").exists()
