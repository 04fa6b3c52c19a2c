"""Every op of every dialect snnc owns round-trips through its text (print -> parse -> print).

The corpus is every valid ``.mlir`` file under ``tests/lit`` (files whose RUN lines
expect a failure are skipped) plus the CLI tests' module with one of every nn/snn op.
Each is parsed, verified and printed; printing the parse of that print must give the
same bytes.  The test fails if a registered op appears in no file of the corpus, so a
new op without a round-trip test is caught.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import snnc.dialects  # noqa: F401  (registers the ops)
from snnc.ir import DiagnosticError, parse_module, print_module, verify
from snnc.ir.opdef import OpDef

REPO = Path(__file__).resolve().parents[2]
LIT = REPO / "tests" / "lit"
OWNED = {d.name for d in snnc.dialects.DIALECTS}


def _valid_lit_files() -> list[Path]:
    files = []
    for p in sorted(LIT.rglob("*.mlir")):
        text = p.read_text()
        runs = [ln for ln in text.splitlines() if "RUN:" in ln]
        if not runs or any("not " in ln or "--split-input-file" in ln for ln in runs):
            continue
        files.append(p)
    return files


def _corpus() -> list[tuple[str, str]]:
    out = [(str(p.relative_to(REPO)), p.read_text()) for p in _valid_lit_files()]
    path = REPO / "tests" / "cli" / "cli_helpers.py"
    spec = importlib.util.spec_from_file_location("_snnc_cli_helpers_for_coverage", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out.append(("every_op_module()", print_module(mod.every_op_module())))
    return out


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str, str]]:
    """(name, first print, ops) for every file that parses and verifies."""
    result = []
    for name, text in _corpus():
        try:
            m = parse_module(text, name)
            verify(m)
        except DiagnosticError as e:  # a lit file meant for a pass's input may not verify alone
            pytest.fail(f"{name} does not parse and verify: {e.render()}")
        result.append((name, print_module(m), " ".join(sorted({op.op_name for op in m.walk()}))))
    return result


def test_corpus_round_trips_byte_identically(corpus):
    for name, printed, _ in corpus:
        again = print_module(parse_module(printed, name))
        assert again == printed, f"{name}: print -> parse -> print differs"


def test_every_owned_op_is_in_the_round_trip_corpus(corpus):
    covered: set[str] = set()
    for _, _, ops in corpus:
        covered.update(ops.split())
    owned = {n for n in OpDef.registry if n.split(".", 1)[0] in OWNED}
    missing = sorted(owned - covered)
    assert not missing, f"ops with no round-trip test: {missing}"
    assert len(owned) >= 40  # nn, snn and spike at least: the corpus is not trivially empty
