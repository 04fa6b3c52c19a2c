"""The ``snnc`` command (Typer).  The only place, with :mod:`snnc.driver`, that wires
frontends, passes and backends together.

Exit codes (documented in docs/cli.md):

* ``0``  success;
* ``1``  a diagnostic: bad input (file missing or malformed, invalid IR, bad pipeline,
  wrong input shape...), rendered to stderr as ``file:line:col: error: ...`` with the
  source line and a caret;
* ``2``  a usage error (unknown command or option, missing argument), from Typer;
* ``70`` an internal compiler error (a bug in snnc: an exception that is not a
  diagnostic), reported as ``internal compiler error: ...`` with a hint; set
  ``SNNC_TRACEBACK=1`` to get the Python traceback.  70 is ``EX_SOFTWARE`` of BSD's
  sysexits.h.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from . import __version__

EXIT_OK = 0
EXIT_DIAGNOSTIC = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="snnc: a compiler for spiking neural networks (NIR / MLIR in; IR, NIR, simulation out).",
)


class Discretization(StrEnum):
    euler = "euler"
    exact = "exact"


class FloatDType(StrEnum):
    float32 = "float32"
    float64 = "float64"


DtOption = Annotated[
    float | None,
    typer.Option("--dt", help="Time step in seconds for NIR input (default: the file's metadata, else the NIR frontend's default).", min=0.0),
]
CalibrationOption = Annotated[
    Path | None,
    typer.Option("--calibration", help="Calibration inputs for the quantize pass: .npy [T, (B,) *shape] or .npz by input name."),
]
DiscOption = Annotated[
    Discretization | None,
    typer.Option("--discretization", help="How NIR's continuous-time neurons become discrete steps (NIR input only; default: the file's metadata, else euler)."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"snnc {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """snnc: a compiler for spiking neural networks."""


@contextlib.contextmanager
def _diagnostics(sources: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """Turn DiagnosticErrors into exit 1 and other exceptions into exit 70."""
    from .ir.diagnostics import SnncError

    texts: dict[str, str] = {} if sources is None else sources
    try:
        yield texts
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except SnncError as e:
        typer.echo(e.render(texts), err=True)
        raise typer.Exit(EXIT_DIAGNOSTIC) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except BrokenPipeError:  # the reader went away (`snnc ... | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that flushing stdout at exit does not fail again
        raise typer.Exit(EXIT_OK) from None
    except Exception as e:  # an snnc bug: never show a bare traceback to users
        typer.echo(f"internal compiler error: {type(e).__name__}: {e}", err=True)
        typer.echo(
            "hint: this is a bug in snnc, not in your input; please report it with the command line and input files"
            " (set SNNC_TRACEBACK=1 to print the Python traceback)",
            err=True,
        )
        if os.environ.get("SNNC_TRACEBACK"):
            traceback.print_exc(file=sys.stderr)
        raise typer.Exit(EXIT_INTERNAL) from None


def _load(
    path: Path,
    dt: float | None,
    discretization: Discretization | None,
    texts: dict[str, str],
    torch_options: dict | None = None,
):
    from .driver import Sources, load_module

    src = Sources(texts)
    return load_module(
        path, dt=dt, discretization=None if discretization is None else discretization.value, sources=src,
        torch_options=torch_options,
    )


def _emit_text(text: str, output: Path | None) -> None:
    from .driver import write_text

    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text(output, text)


class TimeLayout(StrEnum):
    step = "step"
    TB = "TB"
    BT = "BT"


class Readout(StrEnum):
    none = "none"
    sum = "sum"
    mean = "mean"
    last = "last"


def _parse_shape(text: str) -> list[int]:
    from .ir.diagnostics import error

    try:
        dims = [int(d) for d in text.replace("x", ",").split(",") if d.strip()]
    except ValueError:
        raise error(f"--input-shape '{text}' is not a comma-separated list of sizes (e.g. 4,1,3,32,32)") from None
    if not dims or any(d < 1 for d in dims):
        raise error(f"--input-shape '{text}' needs positive sizes")
    return dims


InputShapeOption = Annotated[
    list[str] | None,
    typer.Option("--input-shape", help="PyTorch: full shape of an example input, time/batch axes included "
                 "(e.g. 4,1,3,32,32); once per model input.  Not needed for .pt2."),
]
TimeLayoutOption = Annotated[
    TimeLayout,
    typer.Option("--time-layout", help="PyTorch: the inputs' leading axes: step ([B, ...], one step per call), "
                 "TB ([T, B, ...], multi-step) or BT ([B, T, ...])."),
]
ReadoutOption = Annotated[
    Readout,
    typer.Option("--readout", help="PyTorch: readout over time of outputs that keep a time axis (none, sum, mean, last)."),
]
TrustPickleOption = Annotated[
    bool,
    typer.Option("--trust-pickle", help="PyTorch: allow loading a pickled nn.Module (runs code from the file)."),
]


def _torch_options(input_shape: list[str] | None, time_layout: TimeLayout, readout: Readout, trust_pickle: bool) -> dict:
    return {
        "input_shapes": [_parse_shape(s) for s in (input_shape or [])],
        "time_layout": time_layout.value,
        "readout": readout.value,
        "trust_pickle": trust_pickle,
    }


@app.command("import")
def import_cmd(
    model: Annotated[
        Path,
        typer.Argument(
            help="The model: a NIR graph (.nir), or PyTorch: .pt2 (torch.export.save), file.py:factory, "
            "a pickled nn.Module (.pt/.pth, with --trust-pickle)."
        ),
    ],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the MLIR text here (default: stdout).")] = None,
    dt: DtOption = None,
    discretization: DiscOption = None,
    locations: Annotated[bool, typer.Option("--locations", help="Print source locations (loc(...)).")] = False,
    input_shape: InputShapeOption = None,
    time_layout: TimeLayoutOption = TimeLayout.step,
    readout: ReadoutOption = Readout.none,
    trust_pickle: TrustPickleOption = False,
) -> None:
    """Import a model (NIR graph or PyTorch model file) and print it as snnc IR (MLIR generic form), verified."""
    with _diagnostics() as texts:
        from .ir.printer import print_module

        opts = _torch_options(input_shape, time_layout, readout, trust_pickle)
        module = _load(model, dt, discretization, texts, opts)
        _emit_text(print_module(module, locations=locations), output)


@app.command("opt")
def opt_cmd(
    model: Annotated[Path, typer.Argument(help="The module to transform (.mlir, or .nir with --dt).")],
    pass_pipeline: Annotated[
        str,
        typer.Option("--pass-pipeline", "-p", help="Passes to run, e.g. 'canonicalize' or 'builtin.module(canonicalize{fold=false})'."),
    ] = "",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the result here (default: stdout).")] = None,
    print_ir_after_all: Annotated[
        bool, typer.Option("--print-ir-after-all", help="Print the IR to stderr after every pass.")
    ] = False,
    timing: Annotated[bool, typer.Option("--timing", help="Print a per-pass timing table to stderr.")] = False,
    dt: DtOption = None,
    discretization: DiscOption = None,
    locations: Annotated[bool, typer.Option("--locations", help="Print source locations (loc(...)).")] = False,
    calibration: CalibrationOption = None,
) -> None:
    """Parse and verify a module, run a pass pipeline (verifying after every pass), print it."""
    with _diagnostics() as texts:
        from .ir.printer import print_module
        from .passes import PassManager, parse_pipeline, write_timing_report
        from .passes.manager import PIPELINE_FILE

        texts[PIPELINE_FILE] = pass_pipeline
        passes = parse_pipeline(pass_pipeline)  # before reading the model: cheap errors first
        _set_calibration(passes, calibration)
        module = _load(model, dt, discretization, texts)
        pm = PassManager(passes, print_ir_after_all=print_ir_after_all)
        pm.run(module)
        if timing:
            write_timing_report(pm.timings)
        _emit_text(print_module(module, locations=locations), output)


def _set_calibration(passes, calibration: Path | None) -> None:
    """Give ``--calibration`` to every quantize / prune pass that has no calibration-file of its own."""
    if calibration is None:
        return
    from .ir.diagnostics import error
    from .passes.prune import Prune
    from .passes.quantize import Quantize

    targets = [p for p in passes if isinstance(p, Quantize | Prune)]
    if not targets:
        raise error("--calibration is given but the pipeline has no 'quantize' pass (nor 'prune')")
    for p in targets:
        if not p.calibration_file:
            p.calibration_file = str(calibration)


class Target(StrEnum):
    c = "c"
    cortex_m4 = "cortex-m4"
    neuro_core = "neuro-core"
    rtl = "rtl"


# Each backend other than C provides ``snnc.backends.<name>.driver`` with
#   compile_model(module, output: Path, *, target: str) -> list[str]   (lines to print)
#   check_model(module, work_dir: Path, *, steps, seed, pipeline, calibration, target: str) -> (table: str, ok: bool)
# so that this file only dispatches.  ``target`` is a shipped name or the path of a user's TOML description.
_BACKEND_DRIVERS = {Target.neuro_core: "neuro_core", Target.rtl: "rtl"}
_KIND_BACKEND = {"neuro-core": Target.neuro_core, "rtl-core": Target.rtl, "mcu": Target.cortex_m4}
#: the lowering pipeline when ``-p`` is not given: a chip's synapses run on spikes, so conv chains with no neuron
#: between (RepConv, SepConv) are composed first (a materialised real-valued sum would need relay neurons and
#: wider accumulators: the tiny Meta-SpikeFormer needs 26-bit ones without compose-linear, 24 with it)
DEFAULT_PIPELINES = {
    Target.c: "canonicalize,quantize",
    Target.cortex_m4: "canonicalize,quantize",
    Target.neuro_core: "canonicalize,compose-linear,quantize",
    Target.rtl: "canonicalize,compose-linear,quantize",
}
TARGET_HELP = (
    "c (host C99), cortex-m4 (C99 checked against its flash/RAM), neuro-core (chip configuration), rtl (Verilog "
    "core parameters), or the path of a target description (.toml; its `kind` picks the backend)."
)


def _resolve_target(text: str) -> tuple[Target, str]:
    """``--target``: a shipped backend name, or a TOML description whose ``kind`` picks the backend."""
    from .ir.diagnostics import error

    try:
        return Target(text), Target(text).value
    except ValueError:
        pass
    if not text.endswith(".toml"):
        raise error(f"unknown target '{text}' (known: {', '.join(t.value for t in Target)}, or a .toml target description)")
    from .targets import load_target

    desc = load_target(text)  # located diagnostics for a missing or invalid file
    return _KIND_BACKEND[desc.kind], str(desc.path)


def _backend_driver(target: Target):
    import importlib

    return importlib.import_module(f"snnc.backends.{_BACKEND_DRIVERS[target]}.driver")


def _lower_to_integer(module, pass_pipeline: str, calibration: Path | None) -> None:
    """Run the lowering pipeline unless the module is already integer (spike dialect) IR."""
    from .passes import parse_pipeline
    from .passes.lower import is_integer, lower_to_integer

    if not is_integer(module):
        passes = parse_pipeline(pass_pipeline)
        _set_calibration(passes, calibration)
        lower_to_integer(module, pass_pipeline, passes=passes)


@app.command("compile")
def compile_cmd(
    model: Annotated[Path, typer.Argument(help="The module to compile (.mlir, .nir, or a PyTorch model file as for import).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output directory (C: model.h, model.c, harness.c, Makefile; neuro-core: configuration; rtl: parameters, memory images, testbench).")],
    target: Annotated[str, typer.Option("--target", help=TARGET_HELP)] = Target.c.value,
    pass_pipeline: Annotated[
        str | None,
        typer.Option("--pass-pipeline", "-p", help="Lowering pipeline for float graphs (default: "
                     "'canonicalize,quantize' for c/cortex-m4, 'canonicalize,compose-linear,quantize' for neuro-core/rtl)."),
    ] = None,
    calibration: CalibrationOption = None,
    dt: DtOption = None,
    discretization: DiscOption = None,
    input_shape: InputShapeOption = None,
    time_layout: TimeLayoutOption = TimeLayout.step,
    readout: ReadoutOption = Readout.none,
    trust_pickle: TrustPickleOption = False,
) -> None:
    """Lower a graph to integers (quantize) and emit code or a configuration for a target."""
    with _diagnostics() as texts:
        from .passes.manager import PIPELINE_FILE

        backend, target_arg = _resolve_target(target)  # before reading the model: cheap errors first
        pass_pipeline = pass_pipeline or DEFAULT_PIPELINES[backend]
        texts[PIPELINE_FILE] = pass_pipeline
        module = _load(model, dt, discretization, texts, _torch_options(input_shape, time_layout, readout, trust_pickle))
        _lower_to_integer(module, pass_pipeline, calibration)
        if backend in _BACKEND_DRIVERS:
            for line in _backend_driver(backend).compile_model(module, output, target=target_arg):
                typer.echo(line)
            return
        from .backends.c import emit

        art = emit(module, "host" if backend is Target.c else target_arg, output)
        typer.echo(f"wrote {', '.join(str(p) for p in art.files.values())}")
        typer.echo(f"const data (flash): {art.flash_bytes} bytes; state (RAM): {art.ram_bytes} bytes")


@app.command("check")
def check_cmd(
    model: Annotated[Path, typer.Argument(help="The module to check (.mlir, or .nir with --dt).")],
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="c: float, integer, host C and Cortex-M4 (QEMU) levels; neuro-core: float, integer and chip "
            "simulator; rtl: float, integer and Verilog simulation; or a neuro-core / rtl-core target description (.toml).",
        ),
    ] = Target.c.value,
    inputs: Annotated[int, typer.Option("--inputs", help="Number of random time steps to compare.", min=1)] = 16,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random inputs.")] = 0,
    pass_pipeline: Annotated[
        str | None,
        typer.Option("--pass-pipeline", "-p", help="Lowering pipeline (default: 'canonicalize,quantize' for c, "
                     "'canonicalize,compose-linear,quantize' for neuro-core/rtl)."),
    ] = None,
    calibration: CalibrationOption = None,
    work_dir: Annotated[Path | None, typer.Option("--work-dir", help="Keep the generated projects here.")] = None,
    dt: DtOption = None,
    discretization: DiscOption = None,
) -> None:
    """Run every level of a target on the same inputs (interpreters, generated code, simulators); exit 1 on any integer-level mismatch."""
    with _diagnostics() as texts:
        import tempfile

        import numpy as np

        backend, target_arg = _resolve_target(target)
        pass_pipeline = pass_pipeline or DEFAULT_PIPELINES[backend]
        texts["<pass-pipeline>"] = pass_pipeline
        if backend is Target.cortex_m4 and target_arg != Target.cortex_m4.value:
            from .ir.diagnostics import error

            raise error(f"check --target takes a neuro-core or rtl-core description; '{target}' is an mcu one "
                        "(use --target c: it checks host C and the Cortex-M4 build)")
        module = _load(model, dt, discretization, texts)
        cal = None
        if calibration is not None:
            loaded = np.load(calibration)
            cal = dict(loaded) if isinstance(loaded, np.lib.npyio.NpzFile) else loaded
        with tempfile.TemporaryDirectory(prefix="snnc-check-") as tmp:
            wd = work_dir or Path(tmp)
            if backend in _BACKEND_DRIVERS:
                table, ok = _backend_driver(backend).check_model(
                    module, wd, steps=inputs, seed=seed, pipeline=pass_pipeline, calibration=cal, target=target_arg)
            else:
                from .backends.c.check import check

                rep = check(module, wd, steps=inputs, seed=seed, pipeline=pass_pipeline, calibration=cal)
                table, ok = rep.table(), rep.ok
        sys.stdout.write(table if table.endswith("\n") else table + "\n")
        if not ok:
            raise typer.Exit(EXIT_DIAGNOSTIC)


@app.command("run")
def run_cmd(
    model: Annotated[Path, typer.Argument(help="The module to run (.mlir, or .nir with --dt).")],
    input: Annotated[
        Path,
        typer.Option("--input", "-i", help="Inputs: .npy [T, *shape] for a one-input graph, or .npz keyed by input name."),
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write outputs: .npy (one graph output) or .npz keyed by output name, each [T, *shape]."),
    ] = None,
    dtype: Annotated[FloatDType, typer.Option("--dtype", help="Float precision of the interpreter.")] = FloatDType.float64,
    dt: DtOption = None,
    discretization: DiscOption = None,
) -> None:
    """Interpret a graph for T steps (T = the inputs' first axis); save or summarise its outputs."""
    with _diagnostics() as texts:
        import numpy as np

        from .driver import graph_input_names, load_inputs, run_module, save_outputs, summarize_outputs

        module = _load(model, dt, discretization, texts)
        inputs = load_inputs(input, graph_input_names(module))
        outputs = run_module(module, inputs, dtype=np.dtype(dtype.value))
        if output is None:
            sys.stdout.write(summarize_outputs(outputs))
        else:
            save_outputs(output, outputs)


@app.command("export-nir")
def export_nir_cmd(
    model: Annotated[Path, typer.Argument(help="The module to export (.mlir, or .nir).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The NIR file to write.")],
    dt: DtOption = None,
    discretization: DiscOption = None,
) -> None:
    """Export a module's snn.graph to a NIR graph (.nir, HDF5)."""
    with _diagnostics() as texts:
        from .driver import write_nir_file

        module = _load(model, dt, discretization, texts)
        write_nir_file(module, output, dt=dt)


@app.command("irdl")
def irdl_cmd(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the IRDL here (default: stdout).")] = None,
    no_region_ops: Annotated[
        bool,
        typer.Option("--no-region-ops", help="Leave out ops with regions (snn.graph); see docs/cli.md for why."),
    ] = False,
) -> None:
    """Print IRDL definitions of the snnc dialects, generated from the op classes."""
    with _diagnostics():
        from .ir.irdl import generate_irdl

        _emit_text(generate_irdl(include_region_ops=not no_region_ops), output)


@app.command("passes")
def passes_cmd() -> None:
    """List the registered passes and their options."""
    with _diagnostics():
        from .passes import Pass

        for name in sorted(Pass.registry):
            cls = Pass.registry[name]
            typer.echo(f"{name}: {cls.summary()}")
            for o in cls.options():
                default = o.default if not isinstance(o.default, bool) else str(o.default).lower()
                typer.echo(f"  {o.name}={o.type_name} (default {default}){': ' + o.help if o.help else ''}")


@app.command("report")
def report_cmd(
    model: Annotated[Path, typer.Argument(help="The model (.mlir, .nir with --dt, or a PyTorch file as for import).")],
    calibration: Annotated[
        Path | None,
        typer.Option("--calibration", help="Inputs to measure firing rates on: .npy [T, (B,) *shape] or .npz by input name "
                     "(default: random inputs)."),
    ] = None,
    time_steps: Annotated[int, typer.Option("--time-steps", "-T", help="Steps of the random inputs (without --calibration).", min=1)] = 4,
    target: Annotated[
        str | None, typer.Option("--target", help="Target name or TOML whose [energy] table sets E_MAC / E_AC.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a PNG of per-layer firing rate and energy.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random inputs.")] = 0,
    dt: DtOption = None,
    discretization: DiscOption = None,
    input_shape: InputShapeOption = None,
    time_layout: TimeLayoutOption = TimeLayout.step,
    readout: ReadoutOption = Readout.none,
    trust_pickle: TrustPickleOption = False,
) -> None:
    """Per-layer neurons, synapses, firing rates, MACs/ACs and energy (E = 4.6 pJ MACs + 0.9 pJ ACs), NeuroBench fields."""
    with _diagnostics() as texts:
        from .analysis.energy import DEFAULT_ENERGY, EnergyModel
        from .analysis.report import analyze, render_table, write_plot
        from .driver import graph_input_names, load_inputs

        energy = DEFAULT_ENERGY
        if target is not None:
            energy = EnergyModel.from_target(target)
        module = _load(model, dt, discretization, texts, _torch_options(input_shape, time_layout, readout, trust_pickle))
        cal = None if calibration is None else load_inputs(calibration, graph_input_names(module))
        rep = analyze(module, calibration=cal, time_steps=time_steps, energy=energy, seed=seed)
        if as_json:
            sys.stdout.write(rep.to_json())
        else:
            from rich.console import Console

            render_table(rep, Console(width=160) if not sys.stdout.isatty() else None)
        if plot is not None:
            write_plot(rep, str(plot))


@app.command("targets")
def targets_cmd(
    action: Annotated[str | None, typer.Argument(help="'show' to print one target.")] = None,
    name: Annotated[str | None, typer.Argument(help="Target name (e.g. neuro-core) or a path to a TOML file.")] = None,
) -> None:
    """List the target descriptions, or `snnc targets show NAME` to print one."""
    with _diagnostics():
        from .ir.diagnostics import error
        from .targets import available_targets, load_target

        if action is None:
            for t in available_targets():
                typer.echo(f"{t}: {load_target(t).data.get('description', '')}")
            return
        if action != "show" or name is None:
            raise error("usage: snnc targets [show NAME]")
        typer.echo(load_target(name).path.read_text(), nl=False)


@app.command("sim")
def sim_cmd(
    config: Annotated[Path, typer.Argument(help="A neuro-core configuration directory (from snnc compile --target neuro-core).")],
    input: Annotated[
        Path,
        typer.Option("--input", "-i", help="Inputs: .npy [T, *shape] for a one-input configuration, or .npz keyed by input name."),
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write outputs: .npy (one output) or .npz keyed by output name, each [T, *shape]."),
    ] = None,
) -> None:
    """Run a neuro-core configuration on the chip simulator; print spikes, synaptic ops, packets, hops, cycles, energy."""
    with _diagnostics():
        import numpy as np

        from .driver import load_inputs, save_outputs, summarize_outputs
        from .sim import load_config, run_config

        cfg = load_config(config)
        inputs = load_inputs(input, [str(s["name"]) for s in cfg.get("inputs", [])])
        T = max((int(v.shape[0]) for v in inputs.values() if getattr(v, "ndim", 0)), default=0)
        if T >= 64 or (T > 1 and sys.stderr.isatty()):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("sim", total=T)
                outs, res = run_config(config, inputs, progress=lambda k: bar.update(task, completed=k))
        else:
            outs, res = run_config(config, inputs)
        spikes = sum(int(np.count_nonzero(s)) for s in res.spikes)
        e = res.energy_pj
        physical = len({tuple(c.get("position", (i,))) for i, c in enumerate(cfg.get("cores", []))}) or len(res.spikes)
        typer.echo(f"steps: {res.steps}; cores: {len(res.spikes)} logical on {physical} physical")
        typer.echo(f"spikes: {spikes}; synaptic ops: {res.synaptic_ops}; neuron updates: {res.neuron_updates}")
        typer.echo(f"packets: {res.packets}; hops: {res.hops}; cycles: {res.cycles}")
        typer.echo(f"energy: {'n/a (no energy table in the configuration)' if e is None else f'{e:.1f} pJ ({e / 1e3:.3f} nJ)'}")
        if output is None:
            sys.stdout.write(summarize_outputs(outs))
        else:
            save_outputs(output, outs)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
