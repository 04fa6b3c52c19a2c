"""The ``snnc`` command (Typer).  The only place that wires frontends, passes and backends."""

from __future__ import annotations

import typer

from . import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True, help="snnc: a compiler for spiking neural networks.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"snnc {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """snnc: a compiler for spiking neural networks."""


def main() -> None:
    app()
