"""Translation validation: interpret a module before and after a transformation and compare.

    report = validate_pipeline(module, "canonicalize", steps=16, seeds=(0, 1, 2))
    report.raise_if_failed()

The module is copied (the caller's is untouched), the pipeline runs on the copy, and both
are interpreted (:func:`snnc.interp.run`) on the same inputs: random ones (one set per
seed) and any given ones.  Random inputs follow the input's element type: ``i1`` inputs
get Bernoulli(``spike_prob``) spikes, ``si2`` inputs values in {-1, 0, 1}, float inputs
standard normal values scaled by ``float_scale``.

Comparison, per graph output and input set:

* spike outputs (``i1``/``si2`` element types) must be **identical**;
* other outputs must agree within ``atol + rtol * |before|`` elementwise (defaults
  ``atol=1e-6``, ``rtol=1e-5``, i.e. the rounding that constant folding to an f32 constant
  may introduce in a float64 run; pass ``atol=rtol=0`` to demand bit equality);
* both runs must produce the same set of output names and shapes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ir.builtin import ModuleOp
from ..ir.core import Operation
from ..ir.diagnostics import error
from ..ir.types import TensorType, is_spike_tensor, si2
from .manager import Pass, PassManager, parse_pipeline


@dataclass
class OutputComparison:
    input_set: str
    output: str
    shape: tuple[int, ...]
    spikes: bool
    mismatches: int  # elements outside tolerance (spikes: differing elements)
    max_abs_error: float
    ok: bool


@dataclass
class ValidationReport:
    pipeline: str
    comparisons: list[OutputComparison] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.comparisons)

    def summary(self) -> str:
        lines = [f"translation validation of '{self.pipeline}': {'OK' if self.ok else 'FAILED'}"]
        lines.extend(f"  problem: {p}" for p in self.problems)
        for c in self.comparisons:
            kind = "spikes" if c.spikes else "values"
            lines.append(
                f"  [{c.input_set}] {c.output} {list(c.shape)} {kind}: "
                f"{'ok' if c.ok else 'MISMATCH'} ({c.mismatches} differing, max |err| {c.max_abs_error:.3g})"
            )
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        if not self.ok:
            raise error(self.summary())


def find_graph(module: ModuleOp, graph: str | None = None) -> Operation:
    """The module's single ``snn.graph`` (or the one named ``graph``); a diagnostic otherwise."""
    from ..dialects import find_graph as _find

    return _find(module, graph)


def random_inputs(
    graph: Operation, steps: int, rng: np.random.Generator, *, spike_prob: float = 0.3, float_scale: float = 1.0
) -> dict[str, np.ndarray]:
    """One array ``[steps, *shape]`` per graph input, drawn as the module docstring says."""
    from ..interp.core import graph_inputs

    out: dict[str, np.ndarray] = {}
    for op in graph_inputs(graph):
        t = op.results[0].type
        assert isinstance(t, TensorType)
        shape = (steps, *t.shape)
        if t.element == si2:
            arr: np.ndarray = rng.integers(-1, 2, size=shape).astype(np.int8)
        elif is_spike_tensor(t):
            arr = rng.random(shape) < spike_prob
        else:
            arr = rng.standard_normal(shape) * float_scale
        out[op.attr("name")] = arr  # type: ignore[attr-defined]
    return out


def compare_modules(
    before: ModuleOp,
    after: ModuleOp,
    input_sets: Mapping[str, Mapping[str, np.ndarray]],
    *,
    dtype: Any = np.float64,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    label: str = "",
) -> ValidationReport:
    """Interpret both modules on every input set and compare their outputs."""
    from ..interp import run

    report = ValidationReport(label)
    for set_name, inputs in input_sets.items():
        ra = run(before, dict(inputs), dtype=dtype).outputs
        rb = run(after, dict(inputs), dtype=dtype).outputs
        if set(ra) != set(rb):
            report.problems.append(f"[{set_name}] outputs differ: before {sorted(ra)}, after {sorted(rb)}")
            continue
        for name in sorted(ra):
            a, b = np.asarray(ra[name]), np.asarray(rb[name])
            if a.shape != b.shape:
                report.problems.append(f"[{set_name}] output '{name}' has shape {list(a.shape)} before, {list(b.shape)} after")
                continue
            spikes = a.dtype == np.bool_ or b.dtype == np.bool_ or (a.dtype == np.int8 and b.dtype == np.int8)
            if spikes:
                bad = int(np.count_nonzero(a != b))
                err = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
            else:
                af, bf = a.astype(np.float64), b.astype(np.float64)
                diff = np.abs(af - bf)
                bad = int(np.count_nonzero(~(diff <= atol + rtol * np.abs(af)) & ~(np.isnan(af) & np.isnan(bf))))
                err = float(np.nanmax(diff)) if diff.size and not np.all(np.isnan(diff)) else 0.0
            report.comparisons.append(OutputComparison(set_name, name, tuple(a.shape), spikes, bad, err, bad == 0))
    return report


def validate_pipeline(
    module: ModuleOp,
    pipeline: str | Sequence[Pass],
    *,
    steps: int = 16,
    seeds: Sequence[int] = (0, 1, 2),
    inputs: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    dtype: Any = np.float64,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    spike_prob: float = 0.3,
    float_scale: float = 1.0,
) -> tuple[ValidationReport, ModuleOp]:
    """Run ``pipeline`` on a copy of ``module``; compare interpretations (see module doc).

    Returns the report and the transformed copy.
    """
    passes = parse_pipeline(pipeline) if isinstance(pipeline, str) else list(pipeline)
    label = pipeline if isinstance(pipeline, str) else ",".join(p.pipeline_text() for p in passes)
    after = module.clone()
    assert isinstance(after, ModuleOp)
    PassManager(passes).run(after)
    graph = find_graph(module)
    sets: dict[str, Mapping[str, np.ndarray]] = {}
    for s in seeds:
        sets[f"seed {s}"] = random_inputs(graph, steps, np.random.default_rng(s), spike_prob=spike_prob, float_scale=float_scale)
    for k, v in (inputs or {}).items():
        sets[k] = v
    report = compare_modules(module, after, sets, dtype=dtype, atol=atol, rtol=rtol, label=label)
    return report, after


__all__ = [
    "OutputComparison",
    "ValidationReport",
    "compare_modules",
    "find_graph",
    "random_inputs",
    "validate_pipeline",
]
