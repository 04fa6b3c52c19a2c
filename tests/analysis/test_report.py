"""snnc.analysis.report: hand-counted small nets, the published energy check, JSON schema, plot, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from snnc.analysis.energy import DEFAULT_ENERGY, EnergyModel
from snnc.analysis.report import analyze, write_plot
from snnc.cli import app
from snnc.ir.parser import parse_module

LIF = ('{alpha = 5.000000e-01 : f64, beta = 5.000000e-01 : f64, cmp = "ge", gamma = 0.000000e+00 : f64, '
       'reset = "hard", v_init = 0.000000e+00 : f64, v_reset = 0.000000e+00 : f64, v_th = 1.000000e+00 : f64}')


def _net(conv_w: np.ndarray, lin_w: np.ndarray, bias: float = 4.0) -> str:
    """x[2,4,4] -> conv3x3(pad 1, 3 out, bias) -> LIF -> reshape [48] -> linear(5) -> LIF -> out."""
    cw = json.dumps(np.asarray(conv_w, float).tolist())[1:-1]
    lw = json.dumps(np.asarray(lin_w, float).tolist())[1:-1]
    return f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %0 = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<2x4x4xf64>
    %1 = "nn.conv2d"(%0) {{bias = dense<{bias}> : tensor<3xf64>, padding = array<i64: 1, 1>, weight = dense<[{cw}]> : tensor<3x2x3x3xf64>}} : (tensor<2x4x4xf64>) -> tensor<3x4x4xf64>
    %2 = "snn.lif"(%1) {LIF} : (tensor<3x4x4xf64>) -> tensor<3x4x4xi1>
    %3 = "nn.reshape"(%2) : (tensor<3x4x4xi1>) -> tensor<48xi1>
    %4 = "nn.linear"(%3) {{weight = dense<[{lw}]> : tensor<5x48xf64>}} : (tensor<48xi1>) -> tensor<5xf64>
    %5 = "snn.lif"(%4) {LIF} : (tensor<5xf64>) -> tensor<5xi1>
    "snn.output"(%5) {{index = 0 : i64, name = "y"}} : (tensor<5xi1>) -> ()
  }}) {{sym_name = "main"}} : () -> ()
}}) : () -> ()
"""


def _hand_net():
    cw = np.zeros((3, 2, 3, 3))
    cw[0, 0, 1, 1] = 1e-3  # conv weights tiny, bias 4: every conv neuron fires every step (rate 1)
    lw = np.zeros((5, 48))
    lw[:, :24] = 0.01  # half the linear weights are zero
    return parse_module(_net(cw, lw))


def test_hand_counted_conv_linear():
    m = _hand_net()
    x = np.zeros((4, 2, 4, 4))
    x[:, 0] = 1.0  # half the input elements nonzero
    r = analyze(m, calibration=x)
    assert r.time_steps == 4 and r.batch == 1 and r.inputs == "calibration"
    conv, lin = r.layers
    # conv: 48 outputs x (2 x 3 x 3) = 864 MACs per step on a real input: 4 x 864 MACs
    assert (conv.op, conv.neurons, conv.synapses, conv.flops) == ("nn.conv2d", 48, 54, 864)
    assert conv.input_kind == "real" and conv.macs == 4 * 864 and conv.acs == 0
    assert conv.firing_rate == 0.5 and conv.effective_macs == 0.5 * 4 * 864
    assert conv.connection_sparsity == pytest.approx(53 / 54)
    assert conv.footprint_bytes == (54 + 3) * 8
    # linear on spikes firing every step: ACs = 1.0 x 4 x (5 x 48)
    assert (lin.neurons, lin.synapses, lin.flops) == (5, 240, 240)
    assert lin.input_kind == "spike" and lin.firing_rate == 1.0 and lin.macs == 0 and lin.acs == 960
    assert lin.effective_acs == 960 and lin.connection_sparsity == 0.5 and lin.activation_sparsity == 0.0
    assert lin.energy_pj == pytest.approx(0.9 * 960)
    t = r.totals
    assert t["macs"] == 3456 and t["acs"] == 960 and t["synaptic_operations"] == 4416
    assert t["energy_pj"] == pytest.approx(4.6 * 3456 + 0.9 * 960)
    assert t["energy_mj"] == pytest.approx((4.6 * 3456 + 0.9 * 960) * 1e-9)
    assert t["neurons"] == 53 and t["synapses"] == 294
    assert t["connection_sparsity"] == pytest.approx((53 + 120) / 294)
    assert t["footprint_bytes"] == (54 + 3 + 240) * 8


def test_firing_rate_counts_spikes_and_batches():
    m = _hand_net()
    # with bias -10 no conv neuron fires: the linear layer costs nothing
    cw = np.zeros((3, 2, 3, 3))
    m0 = parse_module(_net(cw, np.ones((5, 48)), bias=-10.0))
    r0 = analyze(m0, calibration=np.ones((3, 2, 2, 4, 4)))  # batched [T, B, ...]
    assert r0.batch == 2 and r0.time_steps == 3
    assert r0.layers[1].firing_rate == 0.0 and r0.layers[1].acs == 0.0
    assert r0.totals["activation_sparsity"] == 1.0
    # random inputs: T from --time-steps
    r = analyze(m, time_steps=6)
    assert r.inputs == "random" and r.time_steps == 6 and r.layers[0].macs == 6 * 864


def test_matmul_rates():
    text = """
"builtin.module"() ({
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "q"} : () -> tensor<3x4xi1>
    %1 = "snn.input"() {index = 1 : i64, name = "k"} : () -> tensor<4x2xi1>
    %2 = "nn.matmul"(%0, %1) : (tensor<3x4xi1>, tensor<4x2xi1>) -> tensor<3x2xf64>
    "snn.output"(%2) {index = 0 : i64, name = "y"} : (tensor<3x2xf64>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""
    m = parse_module(text)
    q = np.zeros((2, 3, 4), bool)
    q[:, 0] = True  # rate 1/3
    k = np.ones((2, 4, 2), bool)
    k[:, :2] = False  # rate 1/2
    r = analyze(m, calibration={"q": q, "k": k})
    (mm,) = r.layers
    assert mm.flops == 3 * 2 * 4 and mm.synapses == 0 and mm.input_kind == "spike"
    assert mm.firing_rate == pytest.approx(1 / 6) and mm.acs == pytest.approx(2 * 24 / 6)


def test_published_check_through_energy_model():
    # SEEDS.md: 0.3473 G MACs + 6.5175 G ACs = 7.4635 mJ (to the paper's rounding)
    assert DEFAULT_ENERGY.energy_pj(0.3473e9, 6.5175e9) * 1e-9 == pytest.approx(7.4635, abs=2e-4)


def test_target_energy_override():
    r = analyze(_hand_net(), calibration=np.ones((4, 2, 4, 4)), energy=EnergyModel(1.0, 0.5, source="t"))
    assert r.totals["energy_pj"] == pytest.approx(1.0 * 3456 + 0.5 * 960)
    assert r.energy_model == {"e_mac_pj": 1.0, "e_ac_pj": 0.5, "source": "t"}


LAYER_KEYS = {
    "name", "op", "shape", "neurons", "synapses", "flops", "input_kind", "firing_rate", "macs", "acs", "energy_pj",
    "effective_macs", "effective_acs", "connection_sparsity", "activation_sparsity", "footprint_bytes",
}
TOTAL_KEYS = {
    "layers", "neurons", "synapses", "flops", "macs", "acs", "synaptic_operations", "effective_macs", "effective_acs",
    "energy_pj", "energy_mj", "footprint_bytes", "connection_sparsity", "activation_sparsity",
}


def test_json_schema_and_plot(tmp_path):
    r = analyze(_hand_net(), time_steps=2)
    d = json.loads(r.to_json())
    assert set(d) == {"schema_version", "time_steps", "batch", "inputs", "energy_model", "layers", "totals"}
    assert d["schema_version"] == 1
    assert all(set(layer) == LAYER_KEYS for layer in d["layers"])
    assert set(d["totals"]) == TOTAL_KEYS
    png = tmp_path / "r.png"
    write_plot(r, str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_cli_report(tmp_path):
    mlir = tmp_path / "m.mlir"
    mlir.write_text(_net(np.zeros((3, 2, 3, 3)), np.full((5, 48), 0.01)))
    cal = tmp_path / "x.npy"
    np.save(cal, np.ones((4, 2, 4, 4)))
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(mlir), "--calibration", str(cal), "--json", "--plot", str(tmp_path / "p.png")])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["totals"]["macs"] == 3456 and d["totals"]["acs"] == 960
    assert (tmp_path / "p.png").is_file()
    res = runner.invoke(app, ["report", str(mlir), "--time-steps", "2"])
    assert res.exit_code == 0, res.output
    assert "nn.conv2d" in res.stdout and "energy" in res.stdout
    toml = tmp_path / "t.toml"
    from snnc.targets import load_target

    m4 = load_target("cortex-m4")
    e = m4["energy"]
    toml.write_text(m4.path.read_text().replace(f"mac_pj = {e['mac_pj']}", "mac_pj = 1.0")
                    .replace(f"ac_pj = {e['ac_pj']}", "ac_pj = 0.5"))
    res = runner.invoke(app, ["report", str(mlir), "--calibration", str(cal), "--json", "--target", str(toml)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["totals"]["energy_pj"] == pytest.approx(3456 + 480)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((4, 3, 3)))
    res = runner.invoke(app, ["report", str(mlir), "--calibration", str(bad)])
    assert res.exit_code == 1 and "calibration data" in res.output
