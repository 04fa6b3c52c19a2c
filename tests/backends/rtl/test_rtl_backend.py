"""The RTL backend: generated designs simulated with Icarus Verilog / Verilator equal the integer interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rtl_models import chain_model, conv_model, lif_mul_model, ternary_model

from snnc.backends.rtl.sim import have
from snnc.ir import DiagnosticError

GOLDEN = Path(__file__).resolve().parents[3] / ".." / "shared" / "golden" / "nir-paper"
TARGET_TOML = Path(__file__).resolve().parents[3] / "snnc" / "targets" / "rtl_core.toml"

needs_iverilog = pytest.mark.skipif(
    not (have("iverilog") and have("vvp") and have("make")), reason="iverilog/make not installed (scripts/install-system-deps.sh)"
)
needs_verilator = pytest.mark.skipif(
    not have("verilator"), reason="verilator not installed (scripts/install-system-deps.sh)"
)


def _golden(name):
    p = GOLDEN / name
    if not p.exists():
        pytest.skip("golden graphs not available (../shared/golden)")
    from snnc.driver import load_module

    return load_module(p)


def _small_target(tmp_path, **core) -> Path:
    """rtl_core.toml with other core limits."""
    text = TARGET_TOML.read_text()
    for k, v in core.items():
        lines = text.splitlines()
        lines = [f"{k} = {v!r}".replace("'", '"') if ln.split("=")[0].strip() == k else ln for ln in lines]
        text = "\n".join(lines) + "\n"
    p = tmp_path / "small.toml"
    p.write_text(text)
    return p


def _check(m, tmp_path, **kw):
    from snnc.backends.rtl.driver import check

    kw.setdefault("simulators", ("iverilog",))
    kw.setdefault("synth", False)
    return check(m, tmp_path / "work", **kw)


@needs_iverilog
@needs_verilator
@pytest.mark.slow
def test_lif_norse_bit_exact_icarus_and_verilator(tmp_path):
    """NIR golden lif_norse (real-valued input -> graded events, mul leak): both simulators bit-exact, and
    the neuron fires."""
    r = _check(_golden("lif_norse.nir"), tmp_path, steps=120, simulators=("iverilog", "verilator"))
    assert r.ok, r.table()
    assert [run.simulator for run in r.runs] == ["iverilog", "verilator"]
    assert r.runs[0].outputs["output"].sum() > 0
    assert np.array_equal(r.runs[0].cycles, r.runs[1].cycles)
    assert r.design.report["frac_bits"] > 0 and r.design.report["mag_bits"] > 1
    assert "bit-exact" in r.table() and "cycles per time step (iverilog)" in r.table()


@needs_iverilog
def test_conv_model_graded_inputs_bit_exact(tmp_path):
    """conv2d -> LIF (shift leak) -> sum_pool2d -> linear -> LIF on real-valued inputs (graded events)."""
    r = _check(conv_model(), tmp_path, steps=6)
    assert r.ok, r.table()
    rep = r.design.report
    assert rep["cores"] == 2 and rep["routes"] > 0 and rep["mag_bits"] == 8
    outs = r.runs[0].outputs
    assert outs["conv_spikes"].any() and not outs["conv_spikes"].all()
    assert outs["out"].shape == (6, 5)


@needs_iverilog
def test_multicore_layers_split_over_seven_cores(tmp_path):
    """Cores of 8 neurons: 12 -> 20 -> 20 -> 6 splits into 3 + 3 + 1 cores; every layer's spikes are routed to
    the pieces of the next one in the same step."""
    tgt = _small_target(tmp_path, neurons=8)
    r = _check(chain_model(), tmp_path, steps=10, target=str(tgt))
    assert r.ok, r.table()
    rep = r.design.report
    assert rep["cores"] == 7 and rep["core_neurons"] == 8 and rep["order"] == list(range(7))
    assert rep["routes"] == 20 * 3 + 20 * 1  # each layer-1 neuron to 3 pieces, each layer-2 neuron to 1
    assert "2 hidden layer(s), 40 neurons" in r.table()
    spikes = r.runs[0].spikes
    assert all(spikes[:, c].any() for c in range(7)), "every core fires at least once"


@needs_iverilog
def test_mismatch_reports_first_step_and_neuron(tmp_path, monkeypatch):
    """A corrupted threshold image of a hidden layer's core: the check compares every layer and names the
    first differing step, layer, core and neuron."""
    from snnc.backends.rtl import driver
    from snnc.backends.rtl.generate import generate

    def corrupt(module, out_dir, target):
        d = generate(module, out_dir, target)
        p = d.out_dir / "p00.memh"  # the first hidden layer's core
        words = p.read_text().split()
        mask = (1 << d.mesh.cores[0].mem_bits) - 1
        for i in range(len(words)):  # v_th (the low MEM_BITS) of every neuron -> 0: they fire more often
            words[i] = f"{int(words[i], 16) & ~mask:0{len(words[i])}x}"
        p.write_text("\n".join(words) + "\n")
        return d

    monkeypatch.setattr(driver, "generate", corrupt)
    r = _check(chain_model(), tmp_path, steps=6)
    assert not r.ok
    assert "MISMATCH" in r.table() and "hidden layer 0, step 0, element" in r.first and "(core 0 neuron" in r.first


def test_compile_is_deterministic_and_complete(tmp_path):
    from snnc.backends.rtl.driver import _lower
    from snnc.backends.rtl.generate import generate

    m = _lower(conv_model(), "canonicalize,quantize", None, {"x": np.random.default_rng(0).standard_normal((8, 2, 6, 6))})
    a = generate(m, tmp_path / "a")
    b = generate(m, tmp_path / "b")
    names = sorted(p.name for p in a.files)
    assert names == sorted(p.name for p in b.files)
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n
    for n in ("snnc_params.vh", "cores.vh", "w00.memh", "p00.memh", "w01.memh", "route.memh", "Makefile",
              "snnc_tb.v", "snnc_mesh.v", "snnc_lif_core.v", "io.json", "report.json", "snnc_events.py"):
        assert n in names
    vh = (tmp_path / "a" / "snnc_params.vh").read_text()
    assert "localparam integer MAG_BITS = 8;" in vh and str(tmp_path) not in vh  # relative file names
    assert "CORE00_V_TH" in (tmp_path / "a" / "cores.vh").read_text()
    # regenerating over a previous design replaces it
    generate(m, tmp_path / "a")


def test_mul_leak_rejected_by_a_shift_only_target(tmp_path):
    from snnc.backends.rtl.driver import _lower
    from snnc.backends.rtl.generate import generate

    tgt = _small_target(tmp_path, leak_modes=["shift", "none"])
    m = _lower(lif_mul_model(), "canonicalize,quantize", None, {"x": np.zeros((4, 4), dtype=bool)})
    with pytest.raises(DiagnosticError, match="leak_mode 'mul'.*shift") as e:
        generate(m, tmp_path / "out", str(tgt))
    assert "spike.lif" in str(e.value)
    assert not (tmp_path / "out").exists()


@needs_iverilog
@pytest.mark.parametrize("name", ["braille_noDelay_noBias_subtract.nir", "braille_noDelay_bias_zero.nir"])
def test_braille_bit_exact(name, tmp_path):
    """NIR golden Braille graphs: a recurrent snn.delay (the mapping's delayed axon group = the mesh's next-step
    delivery of core 0's own spikes, bank A, with the recurrent bias from step 1 on in bias_zero), the graded
    input's requantized branch (bank B, half-up shift) and CUBA current compartments (spike.li, shift and mul
    leaks): every neuron of both layers bit-exact with the integer interpreter."""
    r = _check(_golden(name), tmp_path, steps=10)
    assert r.ok, r.table()
    rep = r.design.report
    assert rep["cores"] == 2 and rep["groups"] == 2 and rep["rq_half"] == 1 and rep["rq_shift"] > 0
    assert rep["current_compartments"] == rep["neurons"]
    assert rep["gb_delay"] == (1 if "bias_zero" in name else 0)
    assert r.runs[0].spikes.any()
    assert "1 hidden layer(s)" in r.table()


@needs_iverilog
@needs_verilator
@pytest.mark.slow
def test_braille_bias_zero_verilator(tmp_path):
    r = _check(_golden("braille_noDelay_bias_zero.nir"), tmp_path, steps=10, simulators=("iverilog", "verilator"))
    assert r.ok, r.table()
    assert np.array_equal(r.runs[0].cycles, r.runs[1].cycles)


def test_delay_of_two_steps_is_a_located_diagnostic(tmp_path):
    from snnc.backends.rtl.driver import _lower
    from snnc.backends.rtl.generate import generate
    from snnc.dialects.snn import find_graph
    from snnc.passes.validate import random_inputs

    m = _golden("braille_noDelay_noBias_subtract.nir")
    m = _lower(m, "canonicalize,quantize", None, random_inputs(find_graph(m), 4, np.random.default_rng(0)))
    delays = [op for op in find_graph(m).body.ops if op.op_name == "snn.delay"]
    assert len(delays) == 1
    delays[0].set_attr("steps", 2)
    with pytest.raises(DiagnosticError, match="snn.delay of 2 steps") as e:
        generate(m, tmp_path / "out")
    assert "braille_noDelay_noBias_subtract.nir" in str(e.value)
    assert not (tmp_path / "out").exists()


def test_nonempty_foreign_output_dir_is_refused(tmp_path):
    from snnc.backends.rtl.driver import _lower
    from snnc.backends.rtl.generate import generate

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    m = _lower(lif_mul_model(), "canonicalize,quantize", None, {"x": np.zeros((4, 4), dtype=bool)})
    with pytest.raises(DiagnosticError, match="not empty"):
        generate(m, tmp_path / "out")
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


@needs_iverilog
@pytest.mark.slow
def test_cropped_cnn_sinabs_bit_exact(tmp_path):
    """NIR golden cnn_sinabs's trained weights and op sequence on a 2 x 10 x 10 input: 5 cores of 256 neurons,
    every neuron of every layer equal to the integer interpreter (the full graph: see docs/rtl.md)."""
    from rtl_models import cropped_cnn_sinabs

    if not (GOLDEN / "cnn_sinabs.nir").exists():
        pytest.skip("golden graphs not available (../shared/golden)")
    r = _check(cropped_cnn_sinabs(GOLDEN / "cnn_sinabs.nir", 10), tmp_path, steps=3)
    assert r.ok, r.table()
    assert r.design.report["cores"] == 5 and r.design.report["mag_bits"] == 8
    assert "3 hidden layer(s)" in r.table()
    assert r.runs[0].spikes.any()


@needs_iverilog
def test_cuba_current_compartment_bit_exact(tmp_path):
    """snn.cuba_lif -> spike.li + spike.lif: the core's current compartment (CUR = 1)."""
    from rtl_models import cuba_model

    r = _check(cuba_model(), tmp_path, steps=12)
    assert r.ok, r.table()
    assert r.design.report["current_compartments"] == 3 and r.design.report["groups"] == 1
    assert r.runs[0].outputs["out"].any()


@needs_iverilog
@needs_verilator
def test_ternary_spikes_bit_exact_icarus_and_verilator(tmp_path):
    """QT-SNN style: si2 input -> ternary LIF (soft reset) -> LIF. The hidden layer's -1 spikes (and the input's)
    are events with sign 1 that subtract their weights; every layer bit-exact in both simulators."""
    r = _check(ternary_model(), tmp_path, steps=12, simulators=("iverilog", "verilator"))
    assert r.ok, r.table()
    rep = r.design.report
    assert rep["ternary_neurons"] == 12 and rep["mag_bits"] == 1 and rep["cores"] == 2
    h = r.runs[0].outputs["hidden"]
    assert (h == -1).any() and (h == 1).any(), "the hidden layer fires both signs"
    assert r.runs[0].outputs["out"].any()
    assert np.array_equal(r.runs[0].cycles, r.runs[1].cycles)
    assert "TERNARY" in (r.design.out_dir / "cores.vh").read_text()


def test_ternary_rejected_by_a_binary_target(tmp_path):
    from snnc.backends.rtl.driver import _lower
    from snnc.backends.rtl.generate import generate

    tgt = tmp_path / "binary.toml"
    text = TARGET_TOML.read_text()
    assert "\nternary = true" in text
    tgt.write_text(text.replace("\nternary = true", "\nternary = false"))
    x = np.random.default_rng(0).integers(-1, 2, size=(4, 8)).astype(np.int8)
    m = _lower(ternary_model(), "canonicalize,quantize", None, {"x": x})
    with pytest.raises(DiagnosticError, match=r"spike.lif with si2 spikes.*core.ternary = false"):
        generate(m, tmp_path / "out", str(tgt))
    assert not (tmp_path / "out").exists()


def test_feed_forward_delay_is_refused(tmp_path):
    """A one-step snn.delay between two feed-forward layers: the mapping's delayed axon group would be fed by an
    earlier core, which the mesh reaches in the same step; a diagnostic naming the route, nothing written."""
    from rtl_models import _G, _w

    from snnc.backends.rtl.driver import _lower
    from snnc.backends.rtl.generate import generate
    from snnc.ir import FloatAttr, IntegerAttr, f32, i1, i64, tensor

    g, T = _G(), tensor
    x = g.op("snn.input", [], T((4,), i1), name="x", index=0)
    s = g.op("snn.lif", [g.op("nn.linear", [x], T((5,)), weight=_w(5, 4, seed=1))], T((5,), i1),
             alpha=FloatAttr(0.5, f32), v_th=FloatAttr(1.0, f32))
    d = g.op("snn.delay", [s], T((5,), i1), steps=IntegerAttr(1, i64))
    s2 = g.op("snn.lif", [g.op("nn.linear", [d], T((3,)), weight=_w(3, 5, seed=2))], T((3,), i1),
              alpha=FloatAttr(0.5, f32), v_th=FloatAttr(1.0, f32))
    m = _lower(g.done([("out", s2)]), "canonicalize,quantize", None, {"x": np.zeros((4, 4), dtype=bool)})
    with pytest.raises(DiagnosticError, match=r"route from core 0 to core 1 .* delay of 1 step.*same step"):
        generate(m, tmp_path / "out")
    assert not (tmp_path / "out").exists()
