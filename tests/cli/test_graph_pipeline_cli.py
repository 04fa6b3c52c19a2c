"""Issue 4's command lines on the PyTorch example models (.pt2): `snnc opt` with
``canonicalize,fuse-lif,attention-mask-add``, the strict spike-driven check on the result, `snnc run` before and
after (float64: identical outputs), and `snnc report --json` before and after (attention priced as additions)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from snnc.cli import app

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "canonicalize,fuse-lif,attention-mask-add"


def snnc(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def ok(*args):
    r = snnc(*args)
    assert r.exit_code == 0, f"exit {r.exit_code}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


@pytest.fixture(scope="module")
def pt2(tmp_path_factory):
    pytest.importorskip("spikingjelly", reason="spikingjelly not installed")
    spec = importlib.util.spec_from_file_location("export_pt2", ROOT / "examples/torch/export_pt2.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {p.stem: p for p in mod.export_all(tmp_path_factory.mktemp("pt2"))}


@pytest.mark.slow  # exports the example models (~25 s)
@pytest.mark.parametrize("name", ["sdt_v1_block", "meta_spikeformer_tiny"])
def test_opt_pipeline_spike_driven_run_and_report(pt2, tmp_path, name):
    model = pt2[name]
    x = model.with_name(f"{name}.x.npy")
    m = tmp_path / "m.mlir"
    ok("import", model, "--time-layout", "TB", "-o", m)
    fused = tmp_path / "fused.mlir"
    ok("opt", m, "--pass-pipeline", PIPELINE, "-o", fused)
    text = fused.read_text()
    assert '"snn.fused"' in text
    assert "nn.and_popcount" in text or "nn.masked_accumulate" in text or "nn.spike_and" in text
    assert '"nn.matmul"' not in text  # every matmul of these models has a spike operand
    # the strict check passes on the result (exit 0) and fails on a graph with a real x real product
    ok("opt", fused, "--pass-pipeline", "spike-driven{strict=true}", "-o", tmp_path / "checked.mlir")
    # translation validation through the CLI, float64: identical spikes; real-valued outputs (the SDT v1 block's
    # membrane stream) to rounding, since canonicalize folds batch norm into the weights
    ok("run", m, "--input", x, "-o", tmp_path / "before.npy")
    ok("run", fused, "--input", x, "-o", tmp_path / "after.npy")
    before, after = np.load(tmp_path / "before.npy"), np.load(tmp_path / "after.npy")
    assert before.shape == after.shape and np.allclose(before, after, rtol=0, atol=1e-12)
    assert np.allclose(after, np.load(model.with_name(f"{name}.expected.npy")), rtol=0, atol=1e-9)
    # report before and after: no product becomes a MAC; the attention's additions are counted one per spike
    # coincidence (measured), so the energy may move by a few ACs but never up by a MAC's worth
    rep0 = json.loads(ok("report", m, "--calibration", x, "--json").stdout)
    rep1 = json.loads(ok("report", fused, "--calibration", x, "--json").stdout)
    assert rep1["totals"]["macs"] <= rep0["totals"]["macs"]
    assert rep1["totals"]["acs"] > 0
    assert rep1["totals"]["energy_pj"] <= rep0["totals"]["energy_pj"] * (1 + 1e-5)
