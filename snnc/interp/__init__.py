"""The reference interpreter (numpy): the executable definition of the IR's semantics.

    from snnc.interp import run
    result = run(module, {"x": x})          # x: [T, *input_shape]
    result.outputs["spikes"]                # [T, *output_shape]

See :mod:`snnc.interp.core` for the conventions (batch axis, dtypes, kernels) and
:mod:`snnc.interp.nn` / :mod:`snnc.interp.snn` for the per-dialect kernels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..ir.core import Operation, Value
from ..ir.verifier import verify
from .core import RunContext, RunResult, graph_inputs, graph_outputs, has_kernel, kernel, run_graph, stateful_kernel


def run(
    module_or_graph: Operation,
    inputs: Mapping[str, np.ndarray] | Sequence[np.ndarray] | np.ndarray,
    *,
    dtype: Any = np.float64,
    batched: bool = False,
    probe: bool = False,
    graph: str | None = None,
) -> RunResult:
    """Verify and run an ``snn.graph`` for T steps.

    ``module_or_graph`` is a module (its single ``snn.graph`` runs, or the one named
    ``graph``) or an ``snn.graph`` op.  ``inputs``: one array per graph input (by name,
    by position, or a single array), ``[T, *shape]`` or, with ``batched=True``,
    ``[T, B, *shape]``.  Outputs are keyed by ``snn.output`` name.  ``probe=True`` also
    records every value and neuron state per step, keyed by the printer's value names.
    """
    from ..dialects.snn import find_graph

    g = find_graph(module_or_graph, graph)
    verify(g)
    names: Mapping[Value, str] | None = None
    if probe:
        from ..ir.printer import value_names

        names = value_names(module_or_graph)
    return run_graph(g, inputs, dtype=dtype, batched=batched, probe=probe, value_names=names)


__all__ = [
    "RunContext",
    "RunResult",
    "graph_inputs",
    "graph_outputs",
    "has_kernel",
    "kernel",
    "run",
    "run_graph",
    "stateful_kernel",
]
