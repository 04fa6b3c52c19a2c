"""CLI entry points of the neuro-core backend (dispatched by ``snnc compile/check --target neuro-core``).

``compile_model`` writes the configuration into a temporary directory beside ``output`` and renames it into
place only when everything succeeded, so a model that does not fit leaves nothing behind.

``check_model`` runs three levels on the same random inputs (drawn as :func:`snnc.passes.validate.random_inputs`
draws them, ``steps`` steps, ``seed``): the float interpreter (the model as given), the integer interpreter (after
the lowering pipeline; the quantize pass calibrates on these inputs unless calibration data is given) and the
chip simulator on the emitted configuration.  The simulator must equal the integer interpreter bit for bit; the
float level is reported as spike agreement.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ...ir.diagnostics import error
from ..common import CHECK_HEAD, format_rows, output_series, real_agreement


def _fmt_energy(pj: float) -> str:
    for unit, f in (("mJ", 1e9), ("uJ", 1e6), ("nJ", 1e3)):
        if pj >= f:
            return f"{pj / f:.3f} {unit}"
    return f"{pj:.1f} pJ"


def compile_model(module, output: Path, *, target: str = "neuro-core", inputs: dict[str, np.ndarray] | None = None
                  ) -> list[str]:
    """Emit the configuration of an integer (spike dialect) ``module`` into the directory ``output``."""
    from .emit import emit

    out = Path(output)
    parent = out.parent if str(out.parent) else Path(".")
    if out.exists() and not out.is_dir():
        raise error(f"cannot write the configuration to '{out}': it exists and is not a directory")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
        mask = os.umask(0)
        os.umask(mask)
        tmp.chmod(0o777 & ~mask)  # mkdtemp makes it private; the configuration gets the usual permissions
    except OSError as exc:
        raise error(f"cannot write '{out}': {exc.strerror or exc}") from None
    try:
        art = emit(module, target, tmp, inputs=inputs)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
            out.rename(old / out.name)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    r = art.report
    files = sorted(p.name for p in out.iterdir())
    return [
        f"wrote {out}/ ({len(files)} files: config.json, report.json, per-core tables for {r['cores_used']} "
        f"core{'s' if r['cores_used'] != 1 else ''}, routes)",
        f"cores: {r['cores_used']} used (lower bound {r['cores_lower_bound']}); neurons {r['neurons']}, "
        f"synapses {r['synapses']}, routes {r['routes']}",
        f"traffic: {r['intercore_spikes']:g} inter-core packets/step at rate 1, max link load {r['max_link_load']:g}, "
        f"mean hops {r['mean_hops']:.2f}",
        f"energy: {_fmt_energy(r['energy_pj'])} ({r['energy_basis']})",
    ]


def check_model(module, work_dir: Path, *, steps: int = 16, seed: int = 0, pipeline: str = "canonicalize,quantize",
                calibration: Any = None, target: str = "neuro-core") -> tuple[str, bool]:
    """The agreement table of float interpreter, integer interpreter and chip simulator, and whether the
    simulator equals the integer interpreter bit for bit."""
    from ...dialects.snn import find_graph
    from ...ir.builtin import ModuleOp
    from ...passes.lower import lower_to_integer
    from ...passes.validate import random_inputs
    from .check import compare_sim

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    g = find_graph(module)
    inputs = random_inputs(g, steps, np.random.default_rng(seed))
    float_out = output_series(module, inputs)
    integer = module.clone()
    assert isinstance(integer, ModuleOp)
    lower_to_integer(integer, pipeline, calibration=calibration if calibration is not None else inputs)
    cfg_dir = work / "neuro-core"
    if cfg_dir.exists():
        shutil.rmtree(cfg_dir)
    r = compare_sim(integer, inputs, cfg_dir, target)
    rows: list[tuple[str, ...]] = [CHECK_HEAD]
    mismatches = 0
    readouts = {str(o.attr("name")): str(o.attr("readout")) for o in g.outputs()}
    for name, ref in r.reference.items():
        f = float_out.get(name)
        if f is None or f.shape != ref.shape:
            agree = "-"
        elif ref.dtype.kind == "f":  # a real-valued (dequantized) output
            agree = real_agreement(f, ref, readouts.get(name, "none"))[1]
        else:
            agree = f"{100 * float(np.mean(f.astype(np.int64) == ref)):.2f} % spikes equal"
        bad = int(np.count_nonzero(r.outputs[name] != ref))
        mismatches += bad
        rows.append(("float interpreter", name, "-", "reference"))
        rows.append(("integer interpreter", name, "reference", agree))
        rows.append(("neuro-core simulator", name, "bit-exact" if bad == 0 else f"{bad} values differ", ""))
    lines = format_rows(rows)
    rep, c = r.report, r.counters
    lines.append(f"placement: {rep['cores_used']} cores (lower bound {rep['cores_lower_bound']}), {rep['neurons']} "
                 f"neurons, {rep['synapses']} synapses, mean hops {rep['mean_hops']:.2f}")
    lines.append(f"simulator ({steps} steps): {c['spikes']} spikes, {c['synaptic_ops']} synaptic ops, {c['packets']} "
                 f"packets, {c['hops']} hops, {c['cycles']} cycles, energy {_fmt_energy(c['energy_pj'])}")
    if r.first_mismatch is not None:
        name, t, n = r.first_mismatch
        lines.append(f"MISMATCH: {mismatches} differing values; first: output '{name}' step {t} neuron {n}: "
                     f"integer interpreter {r.reference[name][t, n]}, simulator {r.outputs[name][t, n]}")
    else:
        lines.append("integer levels agree bit for bit")
    return "\n".join(lines) + "\n", r.first_mismatch is None


__all__ = ["check_model", "compile_model"]
