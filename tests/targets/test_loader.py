"""Target descriptions: shipped files validate; bad files give located diagnostics."""

from pathlib import Path

import pytest

from snnc.ir.diagnostics import DiagnosticError
from snnc.targets import available_targets, load_target, parse_target

NEURO = (Path(__file__).resolve().parents[2] / "snnc" / "targets" / "neuro_core.toml").read_text()


def test_shipped_targets_load():
    assert available_targets() == ["cortex-m4", "neuro-core", "rtl-core"]
    t = load_target("neuro-core")
    assert t.kind == "neuro-core" and t.num_cores == 128 and t["core"]["neurons"] == 1024
    assert load_target("cortex-m4")["mcu"]["ram_bytes"] == 196608


def test_user_file_by_path(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(NEURO.replace("rows = 8", "rows = 2"))
    assert load_target(p).num_cores == 32


@pytest.mark.parametrize(
    ("old", "new", "message", "line"),
    [
        ("neurons = 1024", "neurons = -3", "x.toml:13:1: error: key 'neurons' in [core] is out of range", 13),
        ("neurons = 1024", 'neurons = "many"', "must be int, got str", 13),
        ("fan_in = 4096", "fan_inn = 4096", "unknown key 'fan_inn' in [core]", 15),
        ("hop_pj = 3.5", "", "missing key 'hop_pj' in [energy]", None),
        ('routing = "xy"', 'routing = "torus"', "'torus' is not one of", 10),
        ("rows = 8", "rows = ", "invalid TOML", 8),
    ],
)
def test_bad_files_give_located_diagnostics(old, new, message, line):
    with pytest.raises(DiagnosticError) as exc:
        parse_target(NEURO.replace(old, new), "x.toml")
    text = str(exc.value)
    assert message in text
    if line is not None:
        assert text.startswith(f"x.toml:{line}:")


def test_unknown_target_name():
    with pytest.raises(DiagnosticError, match="unknown target 'nope'.*neuro-core"):
        load_target("nope")
