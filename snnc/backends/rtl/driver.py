"""CLI entry points of the RTL backend (``snnc compile/check --target rtl``, dispatched by ``snnc/cli.py``).

``compile_model`` writes the design (:mod:`snnc.backends.rtl.generate`); ``check_model`` runs every level on
the same inputs: the float interpreter, the integer interpreter (after the lowering pipeline), and the
generated Verilog simulated with Icarus Verilog and, when installed, Verilator.  The Verilog levels must equal
the integer interpreter bit for bit (else the first differing step, neuron and values are reported and the
check fails); cycles per time step come from the testbench.  When Yosys is installed, the check and the
compile report a synthesis of one core at the design's parameters (generic gates, memories kept as memories).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...ir.builtin import ModuleOp
from ...ir.diagnostics import error
from ..common import CHECK_HEAD, format_rows, output_series
from . import events
from .generate import TARGET, RtlDesign, generate, synth_params


def _target_name(target: str) -> str:
    return TARGET if target in ("rtl", TARGET) else target


def synth_summary(design: RtlDesign, timeout: float = 600) -> str | None:
    """Yosys figures of one core at the design's parameters (None when yosys is not installed)."""
    from .synth import have_yosys, synthesize

    if not have_yosys():
        return None
    p = synth_params(design.report)
    try:
        r = synthesize(p["N_NEURONS"], p["N_AXONS"], p["WEIGHT_BITS"], p["MEM_BITS"], p["ACC_BITS"], p["FIFO_DEPTH"],
                       flow="keep-memories", par=p["PAR"], timeout=timeout, mag_bits=p.get("MAG_BITS", 1),
                       frac_bits=p.get("FRAC_BITS", 0),
                       extra={k: v for k, v in p.items() if k in ("CUR", "GROUPS", "RQ_SHIFT", "RQ_HALF", "GB_DELAY")})
    except RuntimeError as e:  # a Yosys failure or time-out is reported, not fatal: the design is written
        return f"Yosys did not give figures: {str(e).splitlines()[0]}"
    return (f"one core at the mesh's largest sizes (N_NEURONS={p['N_NEURONS']}, N_AXONS={p['N_AXONS']}, WEIGHT_BITS={p['WEIGHT_BITS']}, "
            f"MEM_BITS={p['MEM_BITS']}, ACC_BITS={p['ACC_BITS']}, MAG_BITS={p.get('MAG_BITS', 1)}, "
            f"FRAC_BITS={p.get('FRAC_BITS', 0)}"
            + "".join(f", {k}={p[k]}" for k in ("CUR", "GROUPS", "RQ_SHIFT", "RQ_HALF", "GB_DELAY") if k in p)
            + f"): {r.cells} cells ({r.flip_flops} flip-flops, {r.logic_cells} "
            f"other generic gates), {r.memories} memories of {r.memory_bits} bits (Yosys 'keep-memories' flow); "
            f"an upper bound for each of the {design.n_cores} core(s); the mesh router is not included")


def compile_model(module: ModuleOp, output: Path, *, target: str) -> list[str]:
    d = generate(module, output, _target_name(target))
    rep = d.report
    lines = [
        f"wrote {d.out_dir}: {', '.join(p.name for p in d.files)}",
        f"mesh: {rep['cores']} core(s) of up to {rep['core_neurons']} neurons and {rep['core_axons']} axons "
        f"({rep['neurons']} neurons, {rep['synapses']} synapses, {rep['routes']} routes, fan-out {rep['fanout']}); "
        f"weights {rep['weight_bits']} bits, membrane {rep['membrane_bits']}, accumulator {rep['accumulator_bits']}, "
        f"graded input magnitude {rep['mag_bits']} bits, mul-leak fraction {rep['frac_bits']} bits",
        f"simulate: python3 snnc_events.py encode INPUTS.npz && make sim-icarus (or sim-verilator) in {d.out_dir}",
    ]
    s = synth_summary(d)
    if s is not None:
        (d.out_dir / "synth.txt").write_text(s + "\n")
        lines.append("synthesis: " + s)
    return lines


# ------------------------------------------------------------------------------------------ check


@dataclass
class SimRun:
    simulator: str
    outputs: dict[str, np.ndarray]
    cycles: np.ndarray
    spikes: np.ndarray  # [T, cores, neurons]


@dataclass
class RtlCheck:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mismatches: int = 0
    first: str | None = None
    runs: list[SimRun] = field(default_factory=list)
    design: RtlDesign | None = None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def table(self) -> str:
        lines = format_rows([CHECK_HEAD, *self.rows])
        lines.extend(self.notes)
        if self.ok:
            lines.append("integer levels agree bit for bit")
        else:
            lines.append(f"MISMATCH: {self.mismatches} differing values; first: {self.first}")
        return "\n".join(lines) + "\n"


def _run(cmd: list[str], cwd: Path, timeout: float, what: str) -> None:
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise error(f"rtl: {what} did not finish within {timeout:g} s (in {cwd})") from None
    if p.returncode != 0:
        raise error(f"rtl: {what} failed (exit {p.returncode}) in {cwd}:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")


def simulate_design(design: RtlDesign, inputs: dict[str, np.ndarray], simulator: str = "iverilog",
                    timeout: float = 600) -> SimRun:
    """Write the input events, build and run the testbench with ``simulator``, read the outputs."""
    d = design.out_dir
    ev = events.host_events(design.io, inputs)
    events.write_events(d / "in_spikes.txt", ev)
    out = d / "out_spikes.txt"
    if out.exists():
        out.unlink()
    if simulator == "iverilog":
        _run(["make", "-s", "snnc_tb.vvp"], d, timeout, "the Icarus Verilog build")
        _run(["vvp", "-n", "snnc_tb.vvp"], d, timeout, "the Icarus Verilog simulation")
    elif simulator == "verilator":
        _run(["make", "-s", "obj_dir/Vsnnc_tb"], d, timeout, "the Verilator build")
        _run(["./obj_dir/Vsnnc_tb"], d, timeout, "the Verilator simulation")
    else:
        raise ValueError(f"unknown simulator {simulator!r}")
    T = len(ev)
    try:
        spikes, cycles = events.read_spikes(out, T, design.n_cores, design.n_neurons)
    except (OSError, ValueError) as e:
        raise error(f"rtl: {simulator}: {e}") from None
    return SimRun(simulator, events.outputs_from_spikes(design.io, spikes), cycles, spikes)


def _lower(module: ModuleOp, pipeline: str, calibration: Any, inputs: dict[str, np.ndarray]) -> ModuleOp:
    from ...passes.lower import lower_to_integer

    integer = module.clone()
    assert isinstance(integer, ModuleOp)
    lower_to_integer(integer, pipeline, calibration=calibration if calibration is not None else inputs)
    return integer


LAYER_PREFIX = "_rtl_layer"


def with_layer_outputs(module: ModuleOp) -> tuple[ModuleOp, list[str]]:
    """A clone of ``module`` whose every ``spike.lif`` that is not a graph output becomes one (named
    ``_rtl_layer<k>``), so that the check compares every neuron of every core, not only the outputs."""
    from ...dialects.snn import find_graph
    from ...ir import Builder

    m = module.clone()
    assert isinstance(m, ModuleOp)
    g = find_graph(m)
    outs = g.outputs()
    direct = {id(o.operands[0]) for o in outs}
    names: list[str] = []
    b = Builder.at_end(g.body)
    k = len(outs)
    for op in list(g.body.ops):
        if op.op_name == "spike.lif" and id(op.results[0]) not in direct:
            name = f"{LAYER_PREFIX}{len(names)}"
            b.op("snn.output", [op.results[0]], [], {"name": name, "index": k})
            names.append(name)
            k += 1
    return m, names


def _where(design: RtlDesign, name: str, i: int) -> str:
    spec = next(s for s in design.io["outputs"] if s["name"] == name)
    c, n = spec["neurons"][i]
    return f"core {c} neuron {n}"


def check(module: ModuleOp, work_dir, *, steps: int = 16, seed: int = 0, pipeline: str = "canonicalize,quantize",
          calibration: Any = None, target: str = TARGET, simulators: tuple[str, ...] = ("iverilog", "verilator"),
          synth: bool = True, timeout: float = 600) -> RtlCheck:
    """Every level of ``module`` (float or integer IR) on ``steps`` random steps drawn with ``seed``."""
    from ...dialects.snn import find_graph
    from ...passes.validate import random_inputs
    from .sim import have

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    g = find_graph(module)
    inputs = random_inputs(g, steps, np.random.default_rng(seed))
    rep = RtlCheck()
    fl = output_series(module, inputs)
    integer = _lower(module, pipeline, calibration, inputs)
    probed, hidden = with_layer_outputs(integer)
    ref = {k: v.astype(np.int64) for k, v in output_series(probed, inputs).items()}
    design = generate(probed, work / "rtl", _target_name(target))
    rep.design = design
    levels: list[tuple[str, SimRun | None, str]] = []
    for sim in simulators:
        tool = "iverilog" if sim == "iverilog" else "verilator"
        label = "rtl: Icarus Verilog" if sim == "iverilog" else "rtl: Verilator"
        if not (have(tool) and have("make") and (sim != "iverilog" or have("vvp"))):
            levels.append((label, None, f"skipped: {tool} not installed"))
            continue
        run = simulate_design(design, inputs, sim, timeout)
        rep.runs.append(run)
        levels.append((label, run, ""))
    # the first difference: the earliest step; within a step, hidden layers (in layer order) before outputs
    firsts: list[tuple[int, int, str]] = []

    def compare(label: str, run: SimRun, names: list[str]) -> str:
        bad = 0
        for name in names:
            r = ref[name]
            y = run.outputs[name].astype(np.int64).reshape(r.shape)
            diff = np.argwhere(y != r)
            bad += len(diff)
            if len(diff):
                t, i = (int(x) for x in diff[0])
                hid = name.startswith(LAYER_PREFIX)
                what = f"hidden layer {name[len(LAYER_PREFIX):]}" if hid else f"output '{name}'"
                firsts.append((t, 0 if hid else 1, f"{label}, {what}, step {t}, element {i} "
                               f"({_where(design, name, i)}): rtl {int(y[t, i])}, integer interpreter {int(r[t, i])}"))
        rep.mismatches += bad
        return "bit-exact" if not bad else f"{bad} values differ"

    for name, f in fl.items():
        r = ref[name]
        agree = f"{100 * float(np.mean(f.astype(np.int64) == r)):.2f} % spikes equal"
        rep.rows.append(("float interpreter", name, "-", "reference"))
        rep.rows.append(("integer interpreter", name, "reference", agree))
        for label, run, note in levels:
            rep.rows.append((label, name, note if run is None else compare(label, run, [name]), ""))
    if hidden:
        n = sum(int(ref[h].shape[1]) for h in hidden)
        what = f"{len(hidden)} hidden layer(s), {n} neurons"
        for label, run, note in levels:
            rep.rows.append((label, what, note if run is None else compare(label, run, hidden), ""))
    if firsts:
        rep.first = min(firsts, key=lambda f: (f[0], f[1]))[2]
    dr = design.report
    rep.notes.append(f"design: {dr['cores']} core(s) of up to {dr['core_neurons']} neurons and {dr['core_axons']} axons, "
                     f"{dr['synapses']} synapses, {dr['routes']} routes; weights {dr['weight_bits']} bits, membrane "
                     f"{dr['membrane_bits']}, accumulator {dr['accumulator_bits']}, graded input magnitude "
                     f"{dr['mag_bits']} bits, mul-leak fraction {dr['frac_bits']} bits")
    for run in rep.runs:
        c = run.cycles
        rep.notes.append(f"cycles per time step ({run.simulator}): mean {float(c.mean()):.1f}, min {int(c.min())}, "
                         f"max {int(c.max())}, total {int(c.sum())} over {len(c)} steps")
    if synth:
        s = synth_summary(design, timeout)
        rep.notes.append("synthesis: " + (s if s is not None else "skipped: yosys not installed"))
    return rep


def check_model(module: ModuleOp, work_dir, *, steps: int, seed: int, pipeline: str, calibration: Any,
                target: str) -> tuple[str, bool]:
    rep = check(module, work_dir, steps=steps, seed=seed, pipeline=pipeline, calibration=calibration, target=target)
    return rep.table(), rep.ok


def tools_missing() -> list[str]:
    return [t for t in ("iverilog", "vvp", "make") if shutil.which(t) is None]


__all__ = ["RtlCheck", "SimRun", "check", "check_model", "compile_model", "simulate_design", "synth_summary"]


def main(argv=None) -> int:
    """``python -m snnc.backends.rtl.driver MODEL [--target rtl-core|FILE.toml] [--steps N] ...``: the check with a
    target file (the CLI's ``--target rtl`` uses ``rtl-core``), e.g. larger cores for the full cnn_sinabs."""
    import argparse
    import sys

    from ...driver import load_module
    from ...ir.diagnostics import DiagnosticError

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("model")
    ap.add_argument("--target", default=TARGET, help="rtl-core or a target file of kind rtl-core")
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work-dir", default="build/rtl-check")
    ap.add_argument("--simulators", default="iverilog,verilator", help="comma-separated: iverilog, verilator")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--timeout", type=float, default=3600)
    a = ap.parse_args(argv)
    try:
        rep = check(load_module(a.model), a.work_dir, steps=a.steps, seed=a.seed, target=a.target,
                    simulators=tuple(s for s in a.simulators.split(",") if s), synth=not a.no_synth,
                    timeout=a.timeout)
    except DiagnosticError as e:
        sys.stderr.write(str(e) + "\n")
        return 1
    sys.stdout.write(rep.table())
    return 0 if rep.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
