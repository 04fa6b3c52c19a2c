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
    assert "compile" in words and "sim" in words and "neuro-core" in words


def _snnc_commands(line: str) -> list[list[str]]:
    """The ``.venv/bin/snnc ...`` commands of a ``&&`` chain, as argument lists."""
    out = []
    for part in line.split("&&"):
        words = shlex.split(part)
        if words and words[0].endswith("/snnc"):
            out.append(words[1:])
    return out


def test_demo_runs(tmp_path):
    """The demo after setup, word for word (the output directory moved under tmp_path): compile the shipped
    example for neuro-core, then simulate the configuration on the shipped input."""
    from typer.testing import CliRunner

    from snnc.cli import app

    cmds = _snnc_commands(quick_start()[0])
    assert [c[0] for c in cmds] == ["compile", "sim"]
    out_dir = cmds[0][cmds[0].index("-o") + 1]
    runner = CliRunner()
    outputs = []
    for c in cmds:
        args = [str(tmp_path / "demo") if w == out_dir else str(ROOT / w) if w.startswith("examples/") else w for w in c]
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.stderr
        outputs.append(r.stdout)
    assert (tmp_path / "demo" / "config.json").is_file() and (tmp_path / "demo" / "report.json").is_file()
    assert "cores: 1 used" in outputs[0]
    assert "synaptic ops" in outputs[1] and "energy" in outputs[1] and "spikes" in outputs[1]
