"""The C backend: the emitted C (built with the host cc) equals the integer interpreter bit for bit."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.c import TARGETS, Target, emit
from snnc.interp import run
from snnc.interp.core import RunContext
from snnc.interp.spike import quantize as quantize_kernel
from snnc.ir import DiagnosticError
from snnc.ir.parser import parse_module
from snnc.passes import PassManager, Quantize, parse_pipeline

GOLDEN = Path(__file__).resolve().parents[3] / ".." / "shared" / "golden" / "nir-paper"
needs_cc = pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None,
                              reason="no host C compiler (cc) or make")


def _graph(m):
    return m.body.ops[0]


def host_inputs(m, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The C API's integer inputs: real-valued inputs quantized as spike.quantize does."""
    out = []
    ops = _graph(m).body.ops
    for op in _graph(m).inputs():
        x = np.asarray(inputs[op.attr("name")])
        q = next((u for u in op.results[0].users if u.op_name == "spike.quantize"), None)
        if q is not None:
            ctx = RunContext(batch=x.shape[0], float_dtype=np.dtype(np.float64))
            x = quantize_kernel(q, [x], ctx)[0]
        out.append(np.asarray(x).astype(np.int64).reshape(x.shape[0], -1))
    del ops
    return out


def run_c(m, inputs: dict[str, np.ndarray], tmp: Path) -> dict[str, np.ndarray]:
    art = emit(m, "host", tmp)
    r = subprocess.run(["make", "-s", "-C", str(art.out_dir)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    xs = host_inputs(m, inputs)
    T = xs[0].shape[0]
    lines = [str(T)]
    for t in range(T):
        for x in xs:
            lines.append(" ".join(str(int(v)) for v in x[t]))
    r = subprocess.run([str(art.out_dir / "harness")], input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    n_out = len(art.outputs)
    assert len(rows) == T * n_out
    return {name: np.array([[int(v) for v in rows[t * n_out + k].split()] for t in range(T)])
            for k, (name, _) in enumerate(art.outputs)}


def _int_outputs(m, inputs) -> dict[str, np.ndarray]:
    """Integer interpreter outputs, with spike.dequantize read before scaling (what C returns)."""
    res = run(m, inputs, probe=True)
    from snnc.ir.printer import value_names

    names = value_names(m)
    out = {}
    for op in _graph(m).outputs():
        src = op.operands[0]
        d = src.defining_op()
        if d is not None and d.op_name == "spike.dequantize":
            out[op.attr("name")] = res.probes[names[d.operands[0]]].reshape(res.probes[names[d.operands[0]]].shape[0], -1)
        else:
            v = res.outputs[op.attr("name")]
            out[op.attr("name")] = v.reshape(v.shape[0], -1)
    return out


def _golden_inputs(name: str, m, T: int, seed: int) -> dict[str, np.ndarray]:
    t = _graph(m).inputs()[0].results[0].type
    rng = np.random.default_rng(seed)
    if name.startswith("cnn"):
        x = rng.poisson(0.3, size=(T, *t.shape)).astype(np.float64)
    elif name.startswith("lif"):
        x = rng.random((T, *t.shape))
    else:
        x = (rng.random((T, *t.shape)) < 0.2).astype(np.float64)
    return {_graph(m).inputs()[0].attr("name"): x}


@needs_cc
@pytest.mark.parametrize("options", [{}, {"weight_bits": 4, "per_channel": True}])
@pytest.mark.parametrize("name", ["cnn_sinabs.nir", "lif_norse.nir", "braille_noDelay_bias_zero.nir",
                                  "braille_noDelay_noBias_subtract.nir"])
def test_golden_graphs_bit_exact(name, options, tmp_path):
    if not (GOLDEN / name).exists():
        pytest.skip(f"golden file {GOLDEN / name} is not available")
    from snnc.frontends.nir import import_nir

    m = import_nir(GOLDEN / name)
    PassManager(parse_pipeline("canonicalize")).run(m)
    cal = _golden_inputs(name, m, 40, 0)
    PassManager([Quantize(calibration=next(iter(cal.values())), **options)]).run(m)
    inputs = _golden_inputs(name, m, 25, 1)
    want = _int_outputs(m, inputs)
    got = run_c(m, inputs, tmp_path)
    for k in want:
        assert np.array_equal(got[k], want[k].astype(np.int64)), k
    assert any(np.any(v) for v in want.values())
    text = re.sub(r"/\*.*?\*/", "", (tmp_path / "model.c").read_text(), flags=re.S)
    assert "float" not in text and "double" not in text and "malloc" not in text
    assert "static const" in text  # weights are const


INT_MODULE = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x5x5xi1>
    %t = "snn.input"() {index = 1 : i64, name = "t"} : () -> tensor<6xsi2>
    %c = "spike.accumulate_conv2d"(%x) {padding = array<i64: 1, 1>, stride = array<i64: 2, 2>,
           weight = dense<[[[[7, -8, 7], [7, 7, 7], [7, 7, -1]], [[-1, 7, 7], [7, 7, 7], [0, -3, 7]]]]> : tensor<1x2x3x3xi4>}
           : (tensor<2x5x5xi1>) -> tensor<1x3x3xi6>
    %p = "spike.sum_pool2d"(%x) {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x5x5xi1>) -> tensor<2x2x2xi8>
    %f = "nn.flatten"(%p) {start_dim = 0 : i64, end_dim = -1 : i64} : (tensor<2x2x2xi8>) -> tensor<8xi8>
    %d = "spike.accumulate_dense"(%f) {weight = dense<[[100, -100, 50, 3, 3, 3, 3, 3], [1, 2, 3, 4, 5, 6, 7, -8]]> : tensor<2x8xi8>} : (tensor<8xi8>) -> tensor<2xi10>
    %a = "spike.accumulate"(%t) {weight = dense<[[60, 60, 60, -60, 60, 60], [1, -1, 1, -1, 1, -1]]> : tensor<2x6xi8>} : (tensor<6xsi2>) -> tensor<2xi8>
    %sum = "spike.add"(%a, %d) : (tensor<2xi8>, tensor<2xi10>) -> tensor<2xi10>
    %r = "spike.requant"(%sum) {rounding = "half_up", shift = 2 : i64} : (tensor<2xi10>) -> tensor<2xi6>
    %s = "spike.lif"(%sum) {leak_mode = "mul", decay = 170 : i64, frac_bits = 8 : i64, membrane_bits = 9 : i64,
                            v_th = dense<[40, 9]> : tensor<2xi64>, reset = "soft", cmp = "gt", bias = -2 : i64} : (tensor<2xi10>) -> tensor<2xsi2>
    %l = "spike.li"(%r) {leak_shift = 2 : i64, membrane_bits = 8 : i64} : (tensor<2xi6>) -> tensor<2xi8>
    %dl = "snn.delay"(%l) {steps = 2 : i64} : (tensor<2xi8>) -> tensor<2xi8>
    %and = "spike.and"(%x, %x) : (tensor<2x5x5xi1>, tensor<2x5x5xi1>) -> tensor<2x5x5xi1>
    %n = "spike.popcount"(%and) {axes = array<i64: 0, 2>} : (tensor<2x5x5xi1>) -> tensor<5xi8>
    %mp = "spike.max_pool2d"(%x) {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x5x5xi1>) -> tensor<2x3x3xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xsi2>) -> ()
    "snn.output"(%c) {index = 1 : i64, name = "c"} : (tensor<1x3x3xi6>) -> ()
    "snn.output"(%dl) {index = 2 : i64, name = "dl"} : (tensor<2xi8>) -> ()
    "snn.output"(%n) {index = 3 : i64, name = "n"} : (tensor<5xi8>) -> ()
    "snn.output"(%r) {index = 4 : i64, name = "r"} : (tensor<2xi6>) -> ()
    "snn.output"(%mp) {index = 5 : i64, name = "mp"} : (tensor<2x3x3xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


@needs_cc
def test_every_op_saturation_ternary_delay_bit_exact(tmp_path):
    m = parse_module(INT_MODULE)
    rng = np.random.default_rng(5)
    inputs = {"x": rng.random((40, 2, 5, 5)) < 0.5, "t": rng.integers(-1, 2, size=(40, 6)).astype(np.int8)}
    want = _int_outputs(m, inputs)
    got = run_c(m, inputs, tmp_path)
    for k in want:
        assert np.array_equal(got[k], want[k].astype(np.int64)), k
    # saturation happened (the i6 conv accumulator and the i8/i10 sums hit their bounds)
    assert np.abs(want["c"]).max() == 32 or want["c"].max() == 31
    assert (want["s"] == -1).any() and (want["s"] == 1).any()


def test_too_large_model_is_a_diagnostic(tmp_path):
    m = parse_module(INT_MODULE)
    small = Target("tiny", flash_bytes=16, ram_bytes=None, description="a tiny MCU")
    with pytest.raises(DiagnosticError, match=r"flash needs \d+ bytes, 16 available \(\d+ bytes too many\)"):
        emit(m, small, tmp_path)
    # The Cortex-M4's limits come from its target description (snnc/targets/cortex_m4.toml).
    from snnc.targets import load_target

    desc = load_target("cortex-m4")
    assert TARGETS["cortex-m4"].flash_bytes == desc["mcu"]["flash_bytes"]
    assert TARGETS["cortex-m4"].ram_bytes == desc["mcu"]["ram_bytes"]
    # A user's own description is accepted by path.
    own = tmp_path / "mine.toml"
    own.write_text(desc.path.read_text().replace(f"flash_bytes = {desc['mcu']['flash_bytes']}", "flash_bytes = 32"))
    with pytest.raises(DiagnosticError, match=r"flash needs \d+ bytes, 32 available"):
        emit(m, str(own), tmp_path)
    art = emit(m, "cortex-m4", tmp_path)
    assert art.flash_bytes > 0 and art.ram_bytes > 0


def test_float_graphs_are_rejected(tmp_path):
    m = parse_module("""
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2xi1>
    %l = "nn.linear"(%x) {weight = dense<1.0> : tensor<2x2xf32>} : (tensor<2xi1>) -> tensor<2xf32>
    %s = "snn.if"(%l) {v_th = 1.000000e+00 : f32} : (tensor<2xf32>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
""")
    with pytest.raises(DiagnosticError, match="'nn.linear' op is not supported by the C backend"):
        emit(m, "host", tmp_path)


@needs_cc
def test_cli_compile_and_opt_calibration(tmp_path):
    """snnc compile --calibration quantizes a float graph and writes a C project that builds;
    snnc opt --calibration hands the data to the pipeline's quantize pass."""
    if not (GOLDEN / "lif_norse.nir").exists():
        pytest.skip("golden file lif_norse.nir is not available")
    snnc = shutil.which("snnc", path=str(Path(__file__).resolve().parents[3] / ".venv" / "bin")) or shutil.which("snnc")
    if snnc is None:
        pytest.skip("the snnc command is not installed")
    cal = tmp_path / "cal.npy"
    np.save(cal, np.random.default_rng(0).random((50, 1)))
    out = tmp_path / "c"
    r = subprocess.run([snnc, "compile", str(GOLDEN / "lif_norse.nir"), "--calibration", str(cal), "-o", str(out),
                        "--target", "cortex-m4"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "const data (flash):" in r.stdout and (out / "model.c").exists()
    r = subprocess.run(["make", "-s", "-C", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([snnc, "opt", str(GOLDEN / "lif_norse.nir"), "-p", "canonicalize,quantize{print-report=true}",
                        "--calibration", str(cal)], capture_output=True, text=True)
    assert r.returncode == 0 and '"spike.lif"' in r.stdout and "spike agreement" in r.stderr, r.stderr
    r = subprocess.run([snnc, "opt", str(GOLDEN / "lif_norse.nir"), "--calibration", str(cal)], capture_output=True, text=True)
    assert r.returncode == 1 and "--calibration is given but the pipeline has no 'quantize' pass" in r.stderr
