"""`snnc irdl`: the generated IRDL is accepted by real MLIR and checks printed modules.

Findings this file pins (see snnc/ir/irdl.py and docs/cli.md):
* IRDL-declared ops get SSACFG regions that need a terminator, so the full IRDL (with
  ``snn.graph``) rejects every real module;
* an IRDL-registered dialect rejects unknown ops of its namespace, so the test renames
  ``snn.graph`` into a dialect IRDL does not define; MLIR treats that op's region as
  opaque (forward references parse) and checks every inner op against the IRDL.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from snnc.ir.irdl import generate_irdl

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / ".." / "shared" / "golden" / "nir-paper"


def _find_opt() -> str | None:
    cands = [Path(sys.executable).parent / "torch-mlir-opt"]
    import importlib.util

    spec = importlib.util.find_spec("torch_mlir")
    for loc in (spec.submodule_search_locations or []) if spec is not None else []:
        cands.append(Path(loc) / "_mlir_libs" / "torch-mlir-opt")
    for c in cands:
        if c.exists():
            return str(c)
    return shutil.which("torch-mlir-opt")


OPT = _find_opt()
needs_opt = pytest.mark.skipif(OPT is None, reason="torch-mlir-opt not found (.venv/bin or torch_mlir/_mlir_libs)")


def mlir_opt(tmp_path: Path, irdl: str, module_text: str) -> subprocess.CompletedProcess:
    (tmp_path / "d.irdl").write_text(irdl)
    (tmp_path / "m.mlir").write_text(module_text)
    return subprocess.run(
        [OPT, f"--irdl-file={tmp_path / 'd.irdl'}", "--allow-unregistered-dialect", str(tmp_path / "m.mlir")],
        capture_output=True,
        text=True,
        timeout=120,
    )


def opaque_graph(text: str) -> str:
    # snn.fused is a region op too (left out with include_region_ops=False); its ops are still checked
    return text.replace('"snn.graph"', '"snnc_opaque.graph"').replace('"snn.fused"', '"snnc_opaque.fused"')


def _modules():
    """(name, module) pairs covering every op the examples and golden graphs use, plus nn ops."""
    from cli_helpers import every_op_module

    out = [("every-op", every_op_module())]
    from snnc.frontends.nir import import_nir

    for name in ("lif_norse.nir", "cnn_sinabs.nir", "braille_noDelay_bias_zero.nir", "braille_noDelay_noBias_subtract.nir"):
        if (GOLDEN / name).exists():
            out.append((name, import_nir(GOLDEN / name)))
    return out


def test_generated_irdl_is_deterministic_and_complete():
    from snnc.ir.opdef import OpDef

    a, b = generate_irdl(), generate_irdl()
    assert a == b
    for name in OpDef.registry:
        dialect, op = name.split(".", 1)
        if dialect == "builtin":
            continue
        assert f"irdl.operation @{op} {{" in a, name
    start = a.index("irdl.operation @lif {")
    lif = a[start : a.index("\n  }", start)]
    assert '"alpha" = ' in lif and "irdl.operands(input: " in lif and "irdl.results(spikes: " in lif


@needs_opt
@pytest.mark.parametrize("with_regions", [True, False])
def test_mlir_accepts_the_irdl_itself(tmp_path, with_regions):
    p = mlir_opt(tmp_path, generate_irdl(include_region_ops=with_regions), "module {\n}\n")
    assert p.returncode == 0, p.stderr


@needs_opt
def test_mlir_checks_printed_modules_against_the_irdl(tmp_path):
    from snnc.ir.printer import print_module

    irdl = generate_irdl(include_region_ops=False)
    for name, module in _modules():
        p = mlir_opt(tmp_path, irdl, opaque_graph(print_module(module)))
        assert p.returncode == 0, f"{name}:\n{p.stderr[:3000]}"


@needs_opt
def test_mlir_rejects_structurally_wrong_ops(tmp_path):
    from cli_helpers import every_op_module

    from snnc.ir.printer import print_module

    text = opaque_graph(print_module(every_op_module()))
    irdl = generate_irdl(include_region_ops=False)
    # a missing required attribute
    bad = text.replace('{index = 0 : i64, name = "x0"}', '{name = "x0"}', 1)
    assert bad != text
    p = mlir_opt(tmp_path, irdl, bad)
    assert p.returncode != 0 and 'attribute "index" is expected but not provided' in p.stderr, p.stderr
    # a wrong operand count
    line = next(ln for ln in text.splitlines() if '"nn.relu"(' in ln)
    m = re.search(r'"nn.relu"\((%\w+)\) : \(([^)]*)\)', line)
    assert m, line
    v, t = m.groups()
    bad2 = text.replace(line, line.replace(m.group(0), f'"nn.relu"({v}, {v}) : ({t}, {t})'))
    p = mlir_opt(tmp_path, irdl, bad2)
    assert p.returncode != 0 and "expects exactly 1 operands" in p.stderr, p.stderr


@needs_opt
def test_registered_graph_op_is_rejected_by_mlir(tmp_path):
    """The limit: IRDL cannot declare a terminator-free graph region (documented)."""
    from cli_helpers import every_op_module

    from snnc.ir.printer import print_module

    p = mlir_opt(tmp_path, generate_irdl(), print_module(every_op_module()))
    assert p.returncode != 0
    assert "block with no terminator" in p.stderr or "does not dominate" in p.stderr, p.stderr
