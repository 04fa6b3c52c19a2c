"""`snnc targets` and `snnc targets show NAME`."""

from typer.testing import CliRunner

from snnc.cli import app


def test_targets_list_and_show():
    r = CliRunner().invoke(app, ["targets"])
    assert r.exit_code == 0 and "neuro-core:" in r.output and "cortex-m4:" in r.output
    r = CliRunner().invoke(app, ["targets", "show", "neuro-core"])
    assert r.exit_code == 0 and 'routing = "xy"' in r.output


def test_targets_show_unknown_is_a_diagnostic():
    r = CliRunner().invoke(app, ["targets", "show", "nope"])
    assert r.exit_code == 1
