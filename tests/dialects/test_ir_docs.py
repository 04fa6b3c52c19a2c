"""docs/ir.md is generated from the op classes: it must match the generator's output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_ir_docs", ROOT / "scripts" / "gen_ir_docs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ir_md_is_up_to_date():
    text = _generator().render()
    on_disk = (ROOT / "docs" / "ir.md").read_text()
    assert on_disk == text, "docs/ir.md is out of date: run python scripts/gen_ir_docs.py"


def test_every_op_has_a_section():
    from snnc.dialects import DIALECTS

    text = _generator().render()
    for d in DIALECTS:
        for cls in d.ops:
            assert f"### `{cls.name}` ({cls.__name__})" in text
            for a in cls.attr_defs():
                assert f"| `{a.name}` |" in text
    assert "```mlir" in text


def test_rst_blocks_become_fenced_code():
    gen = _generator()
    md = gen._rst_to_md('''Title.

    Equations::

        v = a * v + x

    Done with ``code``.
    ''')
    assert md == "Title.\n\nEquations:\n\n```text\nv = a * v + x\n```\n\nDone with `code`."
