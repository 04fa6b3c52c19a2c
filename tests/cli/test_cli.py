"""The snnc command: happy paths, every kind of bad input, exit codes, no half-written outputs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from snnc import __version__
from snnc.cli import EXIT_INTERNAL, app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "nir"
BRAILLE = EXAMPLES / "braille.nir"
BRAILLE_IN = EXAMPLES / "braille_input.npy"
LIF = EXAMPLES / "lif_norse.nir"
LIF_IN = EXAMPLES / "lif_norse_input.npy"

runner = CliRunner()


def snnc(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args: str | Path):
    r = snnc(*args)
    assert r.exit_code == 0, f"exit {r.exit_code}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def fails(*args: str | Path, code: int = 1):
    r = snnc(*args)
    assert r.exit_code == code, f"exit {r.exit_code}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    if code == 1:
        assert "internal compiler error" not in r.stderr
        assert "Traceback" not in r.stderr
    return r


def first_line(r) -> str:
    return r.stderr.splitlines()[0] if r.stderr else ""


@pytest.fixture
def braille_mlir(tmp_path) -> Path:
    out = tmp_path / "braille.mlir"
    ok("import", BRAILLE, "-o", out)
    return out


def only_files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


# --------------------------------------------------------------------------- happy paths


def test_version():
    r = ok("--version")
    assert r.stdout.strip() == f"snnc {__version__}"


@pytest.mark.parametrize("cmd", [[], ["import"], ["opt"], ["run"], ["export-nir"], ["irdl"], ["passes"]])
def test_help_everywhere(cmd):
    r = ok(*cmd, "--help")
    assert "Usage" in r.stdout


def test_no_command_prints_help_and_is_a_usage_error():
    r = snnc()
    assert r.exit_code in (0, 2)
    assert "Usage" in r.stdout + r.stderr


def test_import_writes_verified_mlir(tmp_path, braille_mlir):
    text = braille_mlir.read_text()
    assert '"snn.graph"' in text and '"snn.cuba_lif"' in text and '"snn.delay"' in text
    r = ok("import", BRAILLE)  # to stdout
    assert r.stdout == text
    assert only_files(tmp_path) == ["braille.mlir"]


def test_import_options(tmp_path):
    a = ok("import", LIF, "--dt", "1e-4").stdout
    b = ok("import", LIF, "--dt", "1e-3").stdout
    c = ok("import", LIF, "--discretization", "exact").stdout
    assert a != b and a != c
    assert '"snn.lif"' in a


def test_import_follows_recorded_discretization_unless_overridden(tmp_path):
    exact_mlir = tmp_path / "exact.mlir"
    ok("import", LIF, "--discretization", "exact", "-o", exact_mlir)
    exported = tmp_path / "exact.nir"
    ok("export-nir", exact_mlir, "-o", exported)
    from snnc.ir import parse_module

    def alpha(text: str) -> float:
        (lif,) = [op for op in parse_module(text).walk() if op.op_name == "snn.lif"]
        return lif.attr("alpha")

    exact = alpha(exact_mlir.read_text())
    euler = alpha(ok("import", LIF).stdout)
    assert abs(exact - euler) > 1e-6
    # Without --discretization the scheme recorded in the file is used (tau goes
    # through exp/log on the way, hence the tolerance) ...
    assert alpha(ok("import", exported).stdout) == pytest.approx(exact, rel=1e-12, abs=0)
    # ... and an explicit option overrides it.
    assert alpha(ok("import", exported, "--discretization", "euler").stdout) == pytest.approx(euler, rel=1e-12, abs=0)


def test_opt_pipeline_dumps_and_timing(tmp_path, braille_mlir):
    out = tmp_path / "opt.mlir"
    r = ok("opt", braille_mlir, "--pass-pipeline=canonicalize", "-o", out, "--print-ir-after-all", "--timing")
    assert "// -----// IR Dump After Canonicalize (canonicalize) //----- //" in r.stderr
    assert "canonicalize" in r.stderr and "total" in r.stderr
    assert out.read_text().startswith('"builtin.module"()') or "builtin.module" in out.read_text()
    # the optimized module runs and agrees with the original
    a = ok("run", braille_mlir, "--input", BRAILLE_IN).stdout
    b = ok("run", out, "--input", BRAILLE_IN).stdout
    assert a == b


def test_opt_without_pipeline_round_trips(braille_mlir):
    r = ok("opt", braille_mlir)
    assert r.stdout == braille_mlir.read_text()
    r2 = ok("opt", braille_mlir, "--pass-pipeline", "builtin.module()")
    assert r2.stdout == r.stdout


def test_opt_accepts_nir(braille_mlir):
    assert ok("opt", BRAILLE).stdout == braille_mlir.read_text()
    assert ok("opt", BRAILLE, "--dt", "1e-4", "-p", "canonicalize").stdout


def test_run_summary(braille_mlir):
    r = ok("run", braille_mlir, "--input", BRAILLE_IN)
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    assert re.match(r"^\w+: \[256x7\] spikes, \d+ in total; per step: ", lines[0]), lines[0]


def test_run_writes_npy_and_npz(tmp_path, braille_mlir):
    from snnc.driver import load_module, run_module

    out = tmp_path / "spikes.npy"
    ok("run", braille_mlir, "--input", BRAILLE_IN, "-o", out)
    got = np.load(out)
    module = load_module(braille_mlir)
    want = run_module(module, _inputs(module, np.load(BRAILLE_IN)))
    (name,) = want
    assert got.shape == (256, 7) and got.dtype == np.bool_
    np.testing.assert_array_equal(got, want[name])
    npz = tmp_path / "out.npz"
    inz = tmp_path / "in.npz"
    np.savez(inz, **{_input_name(module): np.load(BRAILLE_IN)})
    ok("run", braille_mlir, "--input", inz, "-o", npz, "--dtype", "float32")
    with np.load(npz) as z:
        assert z.files == [name]
        np.testing.assert_array_equal(z[name], want[name])


def _input_name(module) -> str:
    from snnc.driver import graph_input_names

    (n,) = graph_input_names(module)
    return n


def _inputs(module, arr):
    return {_input_name(module): arr}


def test_run_reproduces_norse_lif_trace(tmp_path):
    golden = ROOT / ".." / "shared" / "golden" / "nir-paper" / "lif_norse.csv"
    if not golden.exists():
        pytest.skip(f"golden data not found at {golden}")
    out = tmp_path / "s.npy"
    ok("run", LIF, "--input", LIF_IN, "-o", out)
    spikes = np.load(out).reshape(-1)
    want = np.loadtxt(golden, delimiter=",")[:, 2] > 0
    np.testing.assert_array_equal(spikes, want)


def test_export_nir_round_trip(tmp_path, braille_mlir):
    out = tmp_path / "back.nir"
    ok("export-nir", braille_mlir, "-o", out)
    assert out.stat().st_size > 0
    a = ok("run", braille_mlir, "--input", BRAILLE_IN).stdout
    b = ok("run", out, "--input", BRAILLE_IN).stdout
    assert a == b
    assert only_files(tmp_path) == ["back.nir", "braille.mlir"]


def test_irdl_command(tmp_path):
    out = tmp_path / "snnc.irdl"
    ok("irdl", "-o", out)
    text = out.read_text()
    assert "irdl.dialect @snn {" in text and "irdl.operation @lif {" in text and "irdl.dialect @nn {" in text
    assert "irdl.operation @graph {" in text
    assert "irdl.operation @graph {" not in ok("irdl", "--no-region-ops").stdout


def test_passes_command():
    r = ok("passes")
    assert r.stdout.startswith("attention-mask-add: ") and "\ncanonicalize: " in r.stdout
    assert "max-iterations=int (default 20)" in r.stdout


def test_console_script_entry_point():
    exe = Path(sys.executable).parent / "snnc"
    if not exe.exists():
        pytest.skip(f"console script not installed at {exe}")
    p = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == f"snnc {__version__}"
    p = subprocess.run([str(exe), "opt", "/nonexistent/x.mlir"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    assert p.stderr.splitlines()[0] == "error: cannot open '/nonexistent/x.mlir': no such file"


# --------------------------------------------------------------------------- bad input: exit 1


VALID = """\
"builtin.module"() ({
  "snn.graph"() ({
    %0 = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<3xf32>
    %1 = "nn.relu"(%0) : (tensor<3xf32>) -> tensor<3xf32>
    "snn.output"(%1) {index = 0 : i64, name = "y"} : (tensor<3xf32>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""

BAD_TEXT = {
    # name: (text, line of the error, phrase in the first line)
    "syntax": (VALID.replace('%1 = "nn.relu"(%0)', '%1 = "nn.relu"(%0'), 4, "expected one of"),
    "undefined-value": (VALID.replace('"nn.relu"(%0)', '"nn.relu"(%7)'), 4, "use of undefined value '%7'"),
    "redefined-value": (VALID.replace("%1 = ", "%0 = ").replace('"snn.output"(%1)', '"snn.output"(%0)'), 4, "redefinition of SSA value '%0'"),
    "unknown-op": (VALID.replace('"nn.relu"', '"nn.rleu"'), 4, "unknown operation 'nn.rleu'"),
    "type-mismatch": (VALID.replace("(tensor<3xf32>) -> tensor<3xf32>", "(tensor<4xf32>) -> tensor<3xf32>"), 4, "expects different type"),
    "bad-attribute": (VALID.replace("index = 0 : i64, name = \"x\"", "index = \"zero\", name = \"x\""), 3, "attribute 'index' must be IntegerAttr"),
    "cycle-without-delay": (
        VALID.replace('"nn.relu"(%0) : (tensor<3xf32>)', '"nn.add"(%0, %2) : (tensor<3xf32>, tensor<3xf32>)').replace(
            '    "snn.output"', '    %2 = "nn.relu"(%1) : (tensor<3xf32>) -> tensor<3xf32>\n    "snn.output"'
        ),
        4,
        "is on a cycle that does not pass through a delay",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TEXT))
@pytest.mark.parametrize("cmd", ["opt", "run", "export-nir"])
def test_bad_mlir_is_a_located_diagnostic_and_writes_nothing(tmp_path, case, cmd):
    text, line, phrase = BAD_TEXT[case]
    src = tmp_path / "bad.mlir"
    src.write_text(text)
    out = tmp_path / ("out.nir" if cmd == "export-nir" else "out.npy" if cmd == "run" else "out.mlir")
    extra = ["--input", str(BRAILLE_IN)] if cmd == "run" else []
    r = fails(cmd, src, "-o", out, *extra)
    head = first_line(r)
    m = re.match(rf"^{re.escape(str(src))}:(\d+):(\d+): error: (.*)$", head)
    assert m, head
    assert int(m.group(1)) == line, head
    assert phrase in head, head
    lines = r.stderr.splitlines()
    assert lines[1] == text.splitlines()[line - 1]  # the source line
    assert lines[2].strip() == "^" and len(lines[2]) == int(m.group(2))  # the caret under the column
    assert only_files(tmp_path) == ["bad.mlir"]


def test_missing_file(tmp_path):
    for cmd in (["opt"], ["import"], ["export-nir", "-o", str(tmp_path / "o.nir")], ["run", "--input", str(BRAILLE_IN)]):
        r = fails(cmd[0], tmp_path / "missing.mlir", *cmd[1:])
        assert first_line(r) == f"error: cannot open '{tmp_path / 'missing.mlir'}': no such file"
    assert only_files(tmp_path) == []


def test_binary_file_given_as_mlir(tmp_path):
    src = tmp_path / "x.mlir"
    src.write_bytes(b"\xff\xfe\x00\x01garbage")
    r = fails("opt", src)
    assert first_line(r).startswith(f"error: cannot read '{src}': not UTF-8 text")


@pytest.mark.parametrize(
    "pipeline, head",
    [
        ("nope", "<pass-pipeline>:1:1: error: unknown pass 'nope' (known passes: attention-mask-add, canonicalize"),
        ("canonicalize{bogus=1}", "<pass-pipeline>:1:14: error: pass 'canonicalize' has no option 'bogus'"),
        ("canonicalize{fold=2}", "<pass-pipeline>:1:19: error: bad value for option 'fold' of pass 'canonicalize'"),
        ("canonicalize{max-iterations=x}", "<pass-pipeline>:1:29: error: bad value for option 'max-iterations'"),
    ],
)
def test_bad_pipeline_or_option(tmp_path, braille_mlir, pipeline, head):
    out = tmp_path / "o.mlir"
    r = fails("opt", braille_mlir, "--pass-pipeline", pipeline, "-o", out)
    assert first_line(r).startswith(head), first_line(r)
    assert r.stderr.splitlines()[1] == pipeline
    assert not out.exists()


def test_wrong_input_shape(tmp_path, braille_mlir):
    bad = tmp_path / "x.npy"
    np.save(bad, np.zeros((10, 5), np.float32))
    out = tmp_path / "o.npy"
    r = fails("run", braille_mlir, "--input", bad, "-o", out)
    assert "must have shape [T, 12], got [10, 5]" in first_line(r), first_line(r)
    assert first_line(r).startswith(f"{braille_mlir}:")
    assert not out.exists()


def test_bad_input_files(tmp_path, braille_mlir):
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not numpy")
    assert first_line(fails("run", braille_mlir, "--input", junk)).startswith(f"error: cannot read input '{junk}'")
    npz = tmp_path / "wrong.npz"
    np.savez(npz, other=np.zeros((3, 12)))
    assert "has no array for graph input(s)" in first_line(fails("run", braille_mlir, "--input", npz))
    assert "cannot open input" in first_line(fails("run", braille_mlir, "--input", tmp_path / "none.npy"))
    r = fails("run", braille_mlir, "--input", BRAILLE_IN, "-o", tmp_path / "o.txt")
    assert "must end in .npy (one output) or .npz" in first_line(r)


@pytest.mark.parametrize("kind", ["random-bytes", "truncated", "empty", "wrong-hdf5"])
def test_corrupt_nir(tmp_path, kind):
    src = tmp_path / "m.nir"
    data = BRAILLE.read_bytes()
    if kind == "random-bytes":
        src.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "truncated":
        src.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        src.write_bytes(b"")
    else:
        import h5py

        with h5py.File(src, "w") as f:
            f.create_dataset("unrelated", data=np.zeros(3))
    out = tmp_path / "o.mlir"
    r = fails("import", src, "-o", out)
    assert first_line(r).startswith(f"{src}: error: "), first_line(r)
    assert only_files(tmp_path) == ["m.nir"]


def test_existing_output_is_untouched_on_error(tmp_path):
    src = tmp_path / "bad.mlir"
    src.write_text(BAD_TEXT["undefined-value"][0])
    out = tmp_path / "o.mlir"
    out.write_text("previous contents\n")
    fails("opt", src, "-o", out)
    assert out.read_text() == "previous contents\n"
    assert only_files(tmp_path) == ["bad.mlir", "o.mlir"]


def test_unwritable_output_is_a_diagnostic(braille_mlir, tmp_path):
    r = fails("opt", braille_mlir, "-o", tmp_path / "no" / "such" / "dir.mlir")
    assert first_line(r).startswith(f"error: cannot write '{tmp_path / 'no' / 'such' / 'dir.mlir'}'")


def test_bad_dt(tmp_path):
    r = fails("import", BRAILLE, "--dt", "0")
    assert first_line(r) == "error: --dt must be a positive number of seconds, got 0.0"


# --------------------------------------------------------------------------- usage errors: exit 2


@pytest.mark.parametrize(
    "args",
    [
        ["opt", "--bogus"],
        ["run", str(BRAILLE)],  # missing --input
        ["import"],  # missing model
        ["frobnicate"],
        ["run", str(BRAILLE), "--input", str(BRAILLE_IN), "--dtype", "float16"],
        ["import", str(BRAILLE), "--discretization", "rk4"],
        ["export-nir", str(BRAILLE)],  # missing -o
    ],
)
def test_usage_errors_exit_2(args):
    fails(*args, code=2)


# --------------------------------------------------------------------------- internal errors: exit 70


def test_internal_errors_are_reported_not_traced(monkeypatch, tmp_path):
    import snnc.driver

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(snnc.driver, "load_module", boom)
    r = fails("opt", BRAILLE, code=EXIT_INTERNAL)
    assert first_line(r) == "internal compiler error: RuntimeError: boom"
    assert "hint: this is a bug in snnc" in r.stderr
    assert "Traceback" not in r.stderr
    monkeypatch.setenv("SNNC_TRACEBACK", "1")
    r = fails("opt", BRAILLE, code=EXIT_INTERNAL)
    assert "Traceback" in r.stderr


def test_multi_output_graph_needs_npz(tmp_path):
    from cli_helpers import every_op_module

    from snnc.ir.printer import print_module

    src = tmp_path / "m.mlir"
    src.write_text(print_module(every_op_module()))
    inputs = tmp_path / "in.npz"
    np.savez(inputs, x0=np.zeros((4, 2, 4, 4)), x1=np.ones((4, 2, 8)))
    r = fails("run", src, "--input", inputs, "-o", tmp_path / "o.npy")
    assert first_line(r) == "error: the graph has 7 outputs (spk, if, cuba_lif, li, cuba_li, int, th); write them to an .npz file, not '" + str(tmp_path / "o.npy") + "'"
    assert "give them as an .npz" in first_line(fails("run", src, "--input", BRAILLE_IN))
    ok("run", src, "--input", inputs, "-o", tmp_path / "o.npz")
    with np.load(tmp_path / "o.npz") as z:
        assert sorted(z.files) == sorted(["spk", "if", "cuba_lif", "li", "cuba_li", "int", "th"])
        assert z["if"].shape == (4, 3, 6) and z["if"].dtype == np.bool_
    summary = ok("run", src, "--input", inputs).stdout.splitlines()
    assert len(summary) == 7 and summary[3].startswith("li: [4x10] float64, min ")
    assert sorted(only_files(tmp_path)) == ["in.npz", "m.mlir", "o.npz"]
