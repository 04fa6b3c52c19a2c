"""Run the lit + FileCheck tests in tests/lit (IR round trips and diagnostics through the CLI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIT_DIR = REPO / "tests" / "lit"


def _tool_path() -> str:
    venv_bin = REPO / ".venv" / "bin"
    parts = [str(venv_bin)] if venv_bin.is_dir() else []
    parts.append(str(Path(sys.executable).parent))
    parts.append(os.environ.get("PATH", ""))
    return os.pathsep.join(parts)


@pytest.mark.slow  # every lit test starts the snnc CLI a few times: about a minute in all
def test_lit_suite(tmp_path: Path) -> None:
    path = _tool_path()
    lit = shutil.which("lit", path=path)
    if lit is None:
        pytest.skip("lit is not installed (pip install lit)")
    for tool in ("snnc", "filecheck"):
        if shutil.which(tool, path=path) is None:
            pytest.skip(f"'{tool}' is not on PATH (install snnc[test] into .venv)")
    env = dict(os.environ, PATH=path, SNNC_LIT_EXEC_ROOT=str(tmp_path))
    proc = subprocess.run(
        [lit, "-v", "--no-progress-bar", str(LIT_DIR)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(f"lit failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    assert "Passed" in proc.stdout or "passed" in proc.stdout.lower()
