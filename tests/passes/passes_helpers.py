"""Small module builders for the pass tests (no parser needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import snnc.dialects  # noqa: F401  (registers the ops)
from snnc.dialects.snn import Graph
from snnc.ir import Builder, DenseElementsAttr, ModuleOp, f32, i1, tensor
from snnc.ir.core import Operation, Value
from snnc.ir.types import TensorType


class GraphBuilder:
    """Build ``module { snn.graph @main { ... } }`` op by op."""

    def __init__(self, name: str = "main") -> None:
        self.module = ModuleOp.empty()
        self.graph = Graph.build(name)
        self.module.body.append(self.graph)
        self.b = Builder.at_end(self.graph.body)
        self.n_in = 0
        self.n_out = 0

    def input(self, shape: Sequence[int], element=f32, name: str | None = None) -> Value:
        name = name or f"x{self.n_in}"
        op = self.b.op("snn.input", [], [tensor(tuple(shape), element)], {"name": name, "index": self.n_in})
        self.n_in += 1
        return op.results[0]

    def output(self, v: Value, name: str | None = None) -> Operation:
        name = name or f"y{self.n_out}"
        op = self.b.op("snn.output", [v], [], {"name": name, "index": self.n_out})
        self.n_out += 1
        return op

    def const(self, data, shape: Sequence[int] | None = None) -> Value:
        arr = np.asarray(data, dtype=np.float32)
        if shape is not None:
            arr = np.broadcast_to(arr, tuple(shape)).copy()
        t = tensor(tuple(arr.shape), f32)
        return self.b.op("nn.constant", [], [t], {"value": DenseElementsAttr(t, arr)}).results[0]

    def op(self, name: str, operands: Sequence[Value], result_type: TensorType | None, **attrs) -> Value:
        types = [] if result_type is None else [result_type]
        op = self.b.op(name, list(operands), types, attrs)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def lif(self, x: Value, **attrs) -> Value:
        t = x.type
        assert isinstance(t, TensorType)
        params = {"alpha": 0.9, "beta": 1.0, "v_th": 1.0}
        params.update(attrs)
        return self.op("snn.lif", [x], tensor(t.shape, i1), **params)


def op_names(module: ModuleOp) -> list[str]:
    return [op.op_name for op in module.walk()][2:]  # skip builtin.module, snn.graph
