"""The README's quick start: exactly two commands, the test one identical to .ci/run's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start (fresh machine)", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no bash block in the quick start"
    return [ln for ln in block.group(1).splitlines() if ln.strip()]


def test_two_commands_and_ci_runs_the_second():
    cmds = quick_start()
    assert len(cmds) == 2
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert cmds[1].strip() in ci, (cmds[1], ci)
    assert cmds[1].startswith("bash scripts/setup.sh --test")


def test_demo_command_names_shipped_files():
    demo = quick_start()[0]
    assert demo.startswith("bash scripts/setup.sh && ")
    words = shlex.split(demo)
    shipped = [w for w in words if w.startswith("examples/")]
    assert shipped, demo
    for w in shipped:
        assert (ROOT / w).is_file(), w
    assert "import" in words and "run" in words


def test_demo_runs(tmp_path):
    """The demo after setup: import the shipped example, run it on the shipped input."""
    from typer.testing import CliRunner

    from snnc.cli import app

    words = shlex.split(quick_start()[0])
    out = tmp_path / "demo.mlir"
    runner = CliRunner()
    nir = next(w for w in words if w.endswith(".nir"))
    npy = next(w for w in words if w.endswith(".npy"))
    r = runner.invoke(app, ["import", str(ROOT / nir), "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(app, ["run", str(out), "--input", str(ROOT / npy)])
    assert r.exit_code == 0, r.stderr
    assert "spikes" in r.stdout
