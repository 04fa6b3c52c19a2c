"""``spike-driven``: the check that a graph computes with additions only past its encoding layer.

It lists every ``nn.matmul`` and ``nn.mul`` whose two operands are both non-spike tensors
(neither element type is ``i1``/``si2``) and neither is an ``nn.constant`` (a product with a
constant is a weight/scale, an AC on spikes or foldable into a threshold), excluding the input
encoding layer: ops that no spiking value (an ``i1``/``si2`` result) reaches through the graph.
Findings are kept in ``self.findings`` as ``(op, message)``; the IR is not changed.  With
``strict=true`` the first finding is raised as an error (``snnc opt`` exits non-zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..ir.builtin import ModuleOp
from ..ir.core import Operation
from ..ir.types import is_spike_tensor
from .manager import Pass

_PRODUCTS = ("nn.matmul", "nn.mul")


def _spike_reached(module: ModuleOp) -> set[Operation]:
    """Ops that a spiking value reaches (fixed point; graph regions may contain cycles)."""
    reached: set[Operation] = set()
    ops = [op for op in module.walk() if op is not module]
    changed = True
    while changed:
        changed = False
        for op in ops:
            if op in reached:
                continue
            for v in op.operands:
                src = getattr(v, "owner", None)
                if is_spike_tensor(v.type) or (isinstance(src, Operation) and src in reached):
                    reached.add(op)
                    changed = True
                    break
    return reached


def non_spike_products(module: ModuleOp) -> list[tuple[Operation, str]]:
    """Every product of two non-spike, non-constant tensors outside the encoding layer."""
    reached = _spike_reached(module)
    out = []
    for op in module.walk():
        if op.op_name not in _PRODUCTS or op not in reached or len(op.operands) != 2:
            continue
        a, b = op.operands
        if is_spike_tensor(a.type) or is_spike_tensor(b.type):
            continue
        if any(isinstance(getattr(v, "owner", None), Operation) and v.owner.op_name == "nn.constant" for v in (a, b)):
            continue
        out.append((op, f"multiplies two non-spike tensors ({a.type} x {b.type}): not spike-driven"))
    return out


@dataclass
class SpikeDriven(Pass):
    """Check: list products of two non-spike tensors outside the encoding layer."""

    name: ClassVar[str] = "spike-driven"

    strict: bool = field(default=False, metadata={"help": "raise an error on the first finding"})
    findings: list = field(default_factory=list, init=False, repr=False, compare=False)

    def run(self, module: ModuleOp) -> None:
        self.findings = non_spike_products(module)
        if self.strict and self.findings:
            op, msg = self.findings[0]
            more = f" (and {len(self.findings) - 1} more)" if len(self.findings) > 1 else ""
            raise op.emit_error(msg + more)
