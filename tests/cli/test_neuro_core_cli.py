"""``snnc compile/sim/check --target neuro-core`` end to end: the NIR golden graphs and the PyTorch example
models, the simulator's outputs equal ``snnc run`` of the lowered integer IR, determinism, bad-input
diagnostics (exit 1, located, nothing written half-way)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from snnc.cli import app

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT.parent / "shared" / "golden" / "nir-paper"
runner = CliRunner()


def snnc(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args):
    r = snnc(*args)
    assert r.exit_code == 0, f"exit {r.exit_code}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def fails(*args):
    r = snnc(*args)
    assert r.exit_code == 1, f"exit {r.exit_code}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    assert "internal compiler error" not in r.stderr and "Traceback" not in r.stderr
    return r


def _golden(name: str) -> Path:
    p = GOLDEN / f"{name}.nir"
    if not p.exists():
        pytest.skip(f"golden graph {p} not available")
    return p


INPUTS = {  # one sample each, [T, *shape], real-valued (the graphs' inputs are float)
    "lif_norse": lambda rng, T: 2.0 + 2.0 * rng.standard_normal((T, 1)),
    "braille_noDelay_noBias_subtract": lambda rng, T: rng.standard_normal((T, 12)),
    "braille_noDelay_bias_zero": lambda rng, T: rng.standard_normal((T, 12)),
    "cnn_sinabs": lambda rng, T: (rng.random((T, 2, 34, 34)) < 0.2).astype(np.float64),
}


def _compile_sim_run(tmp_path: Path, name: str, T: int = 12):
    model = _golden(name)
    rng = np.random.default_rng(1)
    x = INPUTS[name](rng, T)
    cal, inp = tmp_path / "cal.npy", tmp_path / "x.npy"
    np.save(cal, INPUTS[name](rng, 2 * T))
    np.save(inp, x)
    out = tmp_path / "cfg"
    r = ok("compile", model, "--target", "neuro-core", "-o", out, "--calibration", cal)
    assert "cores:" in r.stdout and "energy:" in r.stdout
    rep = json.loads((out / "report.json").read_text())
    for key in ("cores_used", "cores_lower_bound", "neurons", "synapses", "intercore_spikes", "max_link_load",
                "mean_hops", "energy_pj"):
        assert key in rep, key
    assert rep["cores_used"] >= rep["cores_lower_bound"] >= 1
    r = ok("sim", out, "--input", inp, "-o", tmp_path / "sim.npy")
    for word in ("spikes:", "synaptic ops:", "packets:", "hops:", "cycles:", "energy:"):
        assert word in r.stdout
    # the same lowering through snnc opt, interpreted by snnc run: equal to the simulator, spike for spike
    lowered = tmp_path / "int.mlir"
    ok("opt", model, "-p", "canonicalize,quantize", "--calibration", cal, "-o", lowered)
    ok("run", lowered, "--input", inp, "-o", tmp_path / "run.npy")
    sim = np.load(tmp_path / "sim.npy")
    ref = np.load(tmp_path / "run.npy")
    assert sim.shape == ref.shape
    assert np.array_equal(sim.astype(np.int64), ref.astype(np.int64))
    return out, rep, ref


@pytest.mark.parametrize("name", ["lif_norse", "braille_noDelay_noBias_subtract", "braille_noDelay_bias_zero"])
def test_golden_compile_sim_equals_run(tmp_path, name):
    _, rep, ref = _compile_sim_run(tmp_path, name, T=80)  # >= 64 steps: the progress bar path
    assert ref.any()


def test_cnn_sinabs_compile_sim_equals_run(tmp_path):
    _, rep, ref = _compile_sim_run(tmp_path, "cnn_sinabs", T=6)
    assert rep["cores_used"] > 1 and rep["synapses"] > 100_000


@pytest.mark.parametrize("name", ["lif_norse", "braille_noDelay_noBias_subtract", "braille_noDelay_bias_zero"])
def test_golden_check(name):
    r = ok("check", _golden(name), "--target", "neuro-core", "--inputs", "8")
    lines = r.stdout.splitlines()
    assert any(ln.startswith("neuro-core simulator") and "bit-exact" in ln for ln in lines)
    assert any(ln.startswith("integer interpreter") and "% spikes equal" in ln for ln in lines)
    assert "integer levels agree bit for bit" in r.stdout


def test_cnn_sinabs_check():
    r = ok("check", _golden("cnn_sinabs"), "--target", "neuro-core", "--inputs", "3")
    assert "bit-exact" in r.stdout


def test_compile_is_deterministic(tmp_path):
    model = _golden("braille_noDelay_bias_zero")
    cal = tmp_path / "cal.npy"
    np.save(cal, np.random.default_rng(0).standard_normal((20, 12)))
    a, b = tmp_path / "a", tmp_path / "b"
    ok("compile", model, "--target", "neuro-core", "-o", a, "--calibration", cal)
    ok("compile", model, "--target", "neuro-core", "-o", b, "--calibration", cal)
    fa = sorted(p.name for p in a.iterdir())
    assert fa == sorted(p.name for p in b.iterdir()) and "config.json" in fa
    for f in fa:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    # compiling over an existing configuration replaces it
    ok("compile", model, "--target", "neuro-core", "-o", a, "--calibration", cal)
    assert sorted(p.name for p in a.iterdir()) == fa


def test_sim_bad_configurations(tmp_path):
    model = _golden("lif_norse")
    cal, x = tmp_path / "cal.npy", tmp_path / "x.npy"
    np.save(cal, np.random.default_rng(0).standard_normal((20, 1)))
    np.save(x, np.random.default_rng(1).standard_normal((5, 1)))
    cfg = tmp_path / "cfg"
    ok("compile", model, "--target", "neuro-core", "-o", cfg, "--calibration", cal)
    r = fails("sim", tmp_path / "nope", "--input", x)
    assert "not a configuration directory" in r.stderr
    # wrong shape of the input
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((5, 3)))
    r = fails("sim", cfg, "--input", bad)
    assert "shape" in r.stderr
    # a configuration of an unknown version
    c = json.loads((cfg / "config.json").read_text())
    (cfg / "config.json").write_text(json.dumps({**c, "version": 99}))
    r = fails("sim", cfg, "--input", x)
    assert "version 99 is not supported" in r.stderr and "config.json" in r.stderr
    (cfg / "config.json").write_text("{not json")
    r = fails("sim", cfg, "--input", x)
    assert "config.json:1:2: error: invalid JSON" in r.stderr
    (cfg / "config.json").write_text(json.dumps(c))
    (cfg / "core0_weights.npy").unlink()
    r = fails("sim", cfg, "--input", x)
    assert "core0_weights.npy" in r.stderr
    assert not (tmp_path / "out.npy").exists()


UNMAPPABLE = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xi1>
    %a = "spike.accumulate"(%x) {weight = dense<3> : tensor<2x4xi8>} : (tensor<4xi1>) -> tensor<2xi16>
    %s = "spike.lif"(%a) {leak_mode = "none", membrane_bits = 16 : i64, v_th = 2 : i64, reset = "soft", cmp = "ge"} : (tensor<2xi16>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
    "snn.output"(%a) {index = 1 : i64, name = "n"} : (tensor<2xi16>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def test_compile_unmappable_is_located_and_writes_nothing(tmp_path):
    src = tmp_path / "m.mlir"
    src.write_text(UNMAPPABLE)
    out = tmp_path / "cfg"
    r = fails("compile", src, "--target", "neuro-core", "-o", out)
    assert r.stderr.startswith(f"{src}:8:5: error: neuro-core cannot produce graph output 'n' from 'spike.accumulate'")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlir"]  # no temporary directory left behind
    r = fails("check", src, "--target", "neuro-core", "--inputs", "2")
    assert "graph output 'n'" in r.stderr


def test_compile_too_large_for_a_user_target(tmp_path):
    from snnc.targets import load_target

    own = tmp_path / "tiny.toml"
    own.write_text(load_target("neuro-core").path.read_text().replace("fan_in = 4096", "fan_in = 8"))
    model = _golden("braille_noDelay_noBias_subtract")
    cal = tmp_path / "cal.npy"
    np.save(cal, np.random.default_rng(0).standard_normal((20, 12)))
    r = snnc("compile", model, "--target", "neuro-core", "-o", tmp_path / "cfg", "--calibration", cal)
    assert r.exit_code == 0  # the shipped target fits
    from snnc.backends.neuro_core.driver import compile_model
    from snnc.driver import load_module
    from snnc.ir import DiagnosticError
    from snnc.passes import PassManager, parse_pipeline

    m = load_module(model)
    PassManager(parse_pipeline(f"canonicalize,quantize{{calibration-file={cal}}}")).run(m)
    with pytest.raises(DiagnosticError, match=r"fan-in \d+ exceeds the core fan-in 8 by \d+"):
        compile_model(m, tmp_path / "cfg2", target=str(own))
    assert not (tmp_path / "cfg2").exists()


# ----------------------------------------------------------------------------- PyTorch example models


@pytest.mark.slow  # exporting the three .pt2 files takes ~25 s; one test so that they are exported once
def test_pt2_models(tmp_path):
    """conv_bn_lif, the SDT v1 block and the tiny Meta-SpikeFormer (.pt2): compile, sim == run of the lowered IR,
    check bit-exact (Meta-SpikeFormer needs 32-bit accumulators: a located diagnostic on the shipped chip)."""
    pytest.importorskip("torch", reason="torch not installed")
    pytest.importorskip("spikingjelly", reason="spikingjelly not installed")
    spec = importlib.util.spec_from_file_location("export_pt2", ROOT / "examples/torch/export_pt2.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    models = {p.stem: p for p in mod.export_all(tmp_path / "pt2")}

    pt2 = models["conv_bn_lif"]
    x = pt2.with_name("conv_bn_lif.x.npy")
    out = tmp_path / "cfg"
    ok("compile", pt2, "--target", "neuro-core", "--time-layout", "TB", "-o", out, "--calibration", x)
    rep = json.loads((out / "report.json").read_text())
    cfg = json.loads((out / "config.json").read_text())
    # conv LIF layer, max-pool relay layer and classifier: three logical cores packed onto one physical core
    assert len(cfg["cores"]) == 3 and cfg["physical_cores"] == 1
    assert rep["cores_used"] == rep["cores_lower_bound"] == 1
    ok("sim", out, "--input", x, "-o", tmp_path / "sim.npy")
    mlir = tmp_path / "m.mlir"
    ok("import", pt2, "--time-layout", "TB", "-o", mlir)
    lowered = tmp_path / "int.mlir"
    ok("opt", mlir, "-p", "canonicalize,quantize", "--calibration", x, "-o", lowered)
    ok("run", lowered, "--input", x, "-o", tmp_path / "run.npy")
    assert np.array_equal(np.load(tmp_path / "sim.npy").astype(np.int64), np.load(tmp_path / "run.npy").astype(np.int64))
    r = ok("check", mlir, "--target", "neuro-core", "--inputs", "4")
    assert "bit-exact" in r.stdout

    # SDT v1 block: spike-driven attention (K AND V as AND neurons, token popcount as synapses), the membrane
    # shortcut stream read out through graded relay neurons (a real-valued output)
    pt2 = models["sdt_v1_block"]
    x = pt2.with_name("sdt_v1_block.x.npy")
    out = tmp_path / "cfg_sdt"
    ok("compile", pt2, "--target", "neuro-core", "--time-layout", "TB", "-o", out, "--calibration", x)
    ok("sim", out, "--input", x, "-o", tmp_path / "sdt_sim.npy")
    mlir = tmp_path / "sdt.mlir"
    ok("import", pt2, "--time-layout", "TB", "-o", mlir)
    ok("opt", mlir, "-p", "canonicalize,quantize", "--calibration", x, "-o", tmp_path / "sdt_int.mlir")
    ok("run", tmp_path / "sdt_int.mlir", "--input", x, "-o", tmp_path / "sdt_run.npy")
    assert np.array_equal(np.load(tmp_path / "sdt_sim.npy"), np.load(tmp_path / "sdt_run.npy"))  # same floats
    r = ok("check", mlir, "--target", "neuro-core", "--inputs", "4")
    assert "bit-exact" in r.stdout

    # tiny Meta-SpikeFormer: with the default pipeline it fits the shipped chip; lowered without compose-linear it
    # is a located diagnostic on the shipped chip (24-bit accumulators) naming the layer, the resource and the
    # excess, and on a user's chip with 32-bit accumulators and membranes it maps (AND neurons for Q (K^T V),
    # graded relays for the materialized RepConv / SepConv sums) and checks bit-exact
    name = "meta_spikeformer_tiny"
    pt2 = models[name]
    x = pt2.with_name(f"{name}.x.npy")
    out = tmp_path / f"cfg_{name}"
    # the default neuro-core pipeline composes RepConv/SepConv chains (canonicalize,compose-linear,quantize):
    # every synapse then sees spikes and the model fits the shipped 24-bit chip, bit-exact
    shipped = tmp_path / f"cfg_{name}_shipped"
    ok("compile", pt2, "--target", "neuro-core", "--time-layout", "TB", "-o", shipped, "--calibration", x)
    assert json.loads((shipped / "config.json").read_text())["accumulator_bits"] == 24
    mlir = tmp_path / f"{name}.mlir"
    ok("import", pt2, "--time-layout", "TB", "-o", mlir)
    r = ok("check", mlir, "--target", "neuro-core", "--inputs", "4")
    assert "bit-exact" in r.stdout
    # without compose-linear, a SepConv's real-valued depthwise sum needs 26 bits: a located diagnostic
    r = fails("compile", pt2, "--target", "neuro-core", "--time-layout", "TB", "-o", out, "--calibration", x,
              "-p", "canonicalize,quantize")
    assert re.search(r"spiking_models.py:\d+:\d+: error: neuro-core: layer \d+'s synaptic sum may reach \d+ in its "
                     r"32-bit sum, beyond the core's 24-bit accumulator \(needs \d+ bits, excess \d+\)", r.stderr)
    assert not out.exists()
    from snnc.targets import load_target

    wide = tmp_path / "wide.toml"
    wide.write_text(re.sub(r"(?m)^(membrane_bits|accumulator_bits) = 24", r"\1 = 32",
                           load_target("neuro-core").path.read_text()))
    from snnc.backends.neuro_core.driver import check_model, compile_model
    from snnc.driver import load_module

    ok("opt", mlir, "-p", "canonicalize,quantize", "--calibration", x, "-o", tmp_path / "msf_int.mlir")
    compile_model(load_module(tmp_path / "msf_int.mlir"), out, target=str(wide))
    ok("sim", out, "--input", x, "-o", tmp_path / "msf_sim.npy")
    # the CLI takes the same description by path (its kind picks the backend): same configuration, byte for byte
    out_cli = tmp_path / f"cfg_{name}_cli"
    ok("compile", tmp_path / "msf_int.mlir", "--target", wide, "-o", out_cli)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in out_cli.iterdir())
    for p in out.iterdir():
        if p.name != "report.json":  # report.json names the output directory
            assert p.read_bytes() == (out_cli / p.name).read_bytes(), p.name
    ok("run", tmp_path / "msf_int.mlir", "--input", x, "-o", tmp_path / "msf_run.npy")
    assert np.array_equal(np.load(tmp_path / "msf_sim.npy"), np.load(tmp_path / "msf_run.npy"))  # mean logits

    table, good = check_model(load_module(mlir), tmp_path / "wd", steps=4, target=str(wide))
    assert good and "bit-exact" in table, table


def test_check_reports_the_first_mismatch(monkeypatch):
    """A simulator that disagrees (one spike flipped) makes check exit 1 naming output, step, neuron and values."""
    import snnc.sim as sim

    real = sim.simulate

    def flipped(*args, **kwargs):
        res = real(*args, **kwargs)
        res.spikes[-1][3, 0] ^= 1  # the output layer's core: step 3, neuron 0
        return res

    monkeypatch.setattr(sim, "simulate", flipped)
    r = snnc("check", _golden("braille_noDelay_bias_zero"), "--target", "neuro-core", "--inputs", "6")
    assert r.exit_code == 1, r.stdout + r.stderr
    assert "1 values differ" in r.stdout
    assert re.search(r"MISMATCH: 1 differing values; first: output 'output' step 3 neuron 0: integer interpreter "
                     r"[01], simulator [01]", r.stdout)


def test_target_by_path_and_unknown_target(tmp_path):
    """--target takes a shipped name or a TOML description (its kind picks the backend); anything else is a
    diagnostic with exit 1 and nothing written."""
    src = tmp_path / "m.mlir"
    src.write_text(_TINY_FOR_TARGETS)
    from snnc.targets import load_target

    small = tmp_path / "small.toml"
    small.write_text(re.sub(r"(?m)^neurons = \d+", "neurons = 2", load_target("neuro-core").path.read_text()))
    out = tmp_path / "cfg"
    ok("compile", src, "--target", small, "-o", out)
    rep = json.loads((out / "report.json").read_text())
    assert rep["cores_used"] == 2  # 4 neurons on cores of 2: the user's file was used, not the shipped one
    r = fails("compile", src, "--target", "loihi", "-o", tmp_path / "x")
    assert "error: unknown target 'loihi'" in r.stderr and not (tmp_path / "x").exists()
    r = fails("compile", src, "--target", tmp_path / "missing.toml", "-o", tmp_path / "y")
    assert "missing.toml" in r.stderr and "error:" in r.stderr and not (tmp_path / "y").exists()
    mcu = load_target("cortex-m4").path
    r = fails("check", src, "--target", mcu)
    assert "mcu" in r.stderr


_TINY_FOR_TARGETS = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xi1>
    %a = "spike.accumulate"(%x) {weight = dense<3> : tensor<4x4xi8>} : (tensor<4xi1>) -> tensor<4xi16>
    %s = "spike.lif"(%a) {leak_mode = "none", membrane_bits = 16 : i64, v_th = 5 : i64, reset = "hard", cmp = "ge"} : (tensor<4xi16>) -> tensor<4xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<4xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""
