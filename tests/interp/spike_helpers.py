"""Builders of small spike-dialect modules for the tests."""

from __future__ import annotations

from typing import Any

import numpy as np

import snnc.dialects  # noqa: F401  (registers the ops)
from snnc.dialects.common import weight_attr
from snnc.dialects.snn import Graph
from snnc.ir.attributes import IntegerAttr, StringAttr
from snnc.ir.builtin import ModuleOp
from snnc.ir.opdef import make_op
from snnc.ir.types import IntegerType, TensorType, i64


def int_param(v: Any) -> Any:
    a = np.asarray(v, dtype=np.int64)
    if a.ndim == 0:
        return IntegerAttr(int(a), i64)
    return weight_attr(a, i64, hint="param")


def core_module(
    weights_out_in: np.ndarray,
    *,
    weight_bits: int,
    acc_bits: int,
    input_element,
    result_element,
    lif: dict[str, Any],
) -> ModuleOp:
    """input [in] -> spike.accumulate (weights [out, in]) -> spike.lif -> output."""
    w = np.asarray(weights_out_in, dtype=np.int64)
    n_out, n_in = w.shape
    mod = ModuleOp.empty()
    g = Graph.build("main")
    mod.body.append(g)
    b = g.body
    x = b.append(make_op("snn.input", [], [TensorType((n_in,), input_element)],
                         {"name": StringAttr("x"), "index": IntegerAttr(0, i64)}))
    acc = b.append(make_op("spike.accumulate", [x.results[0]], [TensorType((n_out,), IntegerType(acc_bits))],
                           {"weight": weight_attr(w, IntegerType(weight_bits), hint="w")}))
    attrs = {k: (StringAttr(v) if isinstance(v, str) else int_param(v)) for k, v in lif.items()}
    s = b.append(make_op("spike.lif", [acc.results[0]], [TensorType((n_out,), result_element)], attrs))
    b.append(make_op("snn.output", [s.results[0]], [], {"name": StringAttr("s"), "index": IntegerAttr(0, i64)}))
    return mod
