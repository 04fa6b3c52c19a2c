"""``spike-driven``: the check that a graph computes with additions only past its encoding layer.

It lists every ``nn.matmul`` and ``nn.mul`` whose two operands are both non-spike tensors
(neither element type is ``i1``/``si2``) and neither is an ``nn.constant`` (a product with a
constant is a weight/scale, an AC on spikes or foldable into a threshold), excluding the input
encoding layer: ops that no spiking value (an ``i1``/``si2`` result) reaches through the graph.
Findings are kept in ``self.findings`` as ``(op, message)``; the IR is not changed.  Without
``strict`` each finding is written to stderr as a located warning; with ``strict=true`` they are
raised as one error (the first finding, the others as notes at their locations), so ``snnc opt``
exits non-zero.

The mask-and-add ops of ``attention-mask-add`` (``nn.spike_and``, ``nn.and_popcount``,
``nn.masked_accumulate``) take a binary spike operand by their verifiers and are never findings;
they are counted in ``self.mask_add_ops``.  Products of spikes left as ``nn.mul``/``nn.matmul``
are not findings either (a spike operand makes them an AND or a select-and-add), but
``attention-mask-add`` rewrites them so that the hardware form is explicit.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import ClassVar

from ..ir.builtin import ModuleOp
from ..ir.core import BlockArgument, Operation
from ..ir.diagnostics import Diagnostic, DiagnosticError
from ..ir.types import is_spike_tensor
from .manager import Pass

_PRODUCTS = ("nn.matmul", "nn.mul")
#: the products without a multiplier made by ``attention-mask-add``
MASK_ADD_OPS = ("nn.spike_and", "nn.and_popcount", "nn.masked_accumulate")


def _source(v) -> Operation | None:
    """The op whose reach ``v`` carries: its defining op, or for an argument of an ``snn.fused`` unit's body the
    op defining the unit's matching operand (so reach flows into fused units)."""
    owner = getattr(v, "owner", None)
    if isinstance(owner, Operation):
        return owner
    if isinstance(v, BlockArgument):
        parent = v.block.parent_op
        if parent is not None and parent.op_name == "snn.fused" and v.index < len(parent.operands):
            outer = parent.operands[v.index]
            if is_spike_tensor(outer.type):
                return parent  # an argument fed by spikes: reached as soon as the unit is
            return _source(outer)
    return None


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
                src = _source(v)
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

    strict: bool = field(default=False, metadata={"help": "fail (non-zero exit) when any product of two non-spike tensors remains"})
    findings: list = field(default_factory=list, init=False, repr=False, compare=False)
    mask_add_ops: int = field(default=0, init=False, repr=False, compare=False)

    def run(self, module: ModuleOp) -> None:
        self.findings = non_spike_products(module)
        self.mask_add_ops = sum(op.op_name in MASK_ADD_OPS for op in module.walk())
        if not self.findings:
            return
        n = len(self.findings)
        diags = [Diagnostic("note" if i else ("error" if self.strict else "warning"),
                            f"'{op.op_name}' op {msg}" + (f" ({n - 1} more below)" if i == 0 and n > 1 else ""), op.location)
                 for i, (op, msg) in enumerate(self.findings)]
        if self.strict:
            raise DiagnosticError(diags)
        for d in diags:
            print(d.render(), file=sys.stderr)
