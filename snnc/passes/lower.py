"""Lowering a float graph to integer IR: the one place that decides whether a module still needs it.

Backends and ``snnc compile`` / ``snnc check`` call these so that the rule (a module is integer IR when no ``snn``
neuron or other stateful float op is left: only ``snn.graph``, ``snn.input``, ``snn.output`` and ``snn.delay``) and
the calibration hand-off to ``quantize`` are the same everywhere.
"""

from __future__ import annotations

from typing import Any

from ..ir.core import Operation

#: the ``snn`` ops an integer (spike-dialect) module may still contain
INTEGER_SNN_OPS = ("snn.graph", "snn.input", "snn.output", "snn.delay")


def is_integer(module: Operation) -> bool:
    """True when ``module`` has no float ``snn`` op left (nothing for ``quantize`` to do)."""
    return not any(op.dialect == "snn" and op.op_name not in INTEGER_SNN_OPS for op in module.walk())


def lower_to_integer(module: Operation, pipeline: str, *, calibration: Any = None, passes: list | None = None) -> None:
    """Run ``pipeline`` (or the already parsed ``passes``) on ``module`` in place unless it is integer already.

    ``calibration`` (arrays: ``[T, (B,) *shape]`` or a dict by input name) goes to every ``quantize`` pass that has
    neither its own calibration nor a calibration file."""
    if is_integer(module):
        return
    from .manager import PassManager, parse_pipeline
    from .quantize import Quantize

    passes = parse_pipeline(pipeline) if passes is None else passes
    if calibration is not None:
        for p in passes:
            if isinstance(p, Quantize) and p.calibration is None and not p.calibration_file:
                p.calibration = calibration
    PassManager(passes).run(module)


__all__ = ["INTEGER_SNN_OPS", "is_integer", "lower_to_integer"]
