"""NIR export of IR built by hand: delays (feed-forward, on cycles, longer than a step),
edge sums, node names, and recurrences NIR's convention cannot state."""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np
import pytest

from snnc.frontends.nir import export_nir, import_nir, write_nir
from snnc.interp import run
from snnc.ir import Block, Builder, DiagnosticError, FloatAttr, ModuleOp, Region, Value, f64, tensor

T3 = tensor((3,))


def _module() -> tuple[ModuleOp, Builder]:
    module = ModuleOp.empty()
    block = Block()
    Builder.at_end(module.body).op("snn.graph", attributes={"sym_name": "main"}, regions=[Region([block])])
    return module, Builder.at_end(block)


def _scale(b: Builder, x: Value, s: float) -> Value:
    return b.op("nn.scale", [x], [T3], {"scale": FloatAttr(s, f64)}).result


def _delay(b: Builder, steps: int):
    """A delay whose operand is set later (it closes a cycle)."""
    return b.op("snn.delay", [Value(T3)], [T3], {"steps": steps})


def _same_outputs(module: ModuleOp, exported: nir.NIRGraph, x: np.ndarray) -> None:
    again = import_nir(exported)
    a = run(module, x, dtype=np.float64).outputs
    b = run(again, x, dtype=np.float64).outputs
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_feed_forward_delay_becomes_a_nir_delay(tmp_path: Path) -> None:
    module, b = _module()
    x = b.op("snn.input", [], [T3], {"name": "x", "index": 0}).result
    d = b.op("snn.delay", [x], [T3], {"steps": 2}).result
    b.op("snn.output", [_scale(b, d, 3.0)], [], {"name": "y", "index": 0})
    g = export_nir(module, dt=1e-3)
    delays = [n for n in g.nodes.values() if isinstance(n, nir.Delay)]
    assert len(delays) == 1 and np.allclose(delays[0].delay, 2e-3)
    assert g.metadata == {"dt": 1e-3, "discretization": "euler"}
    write_nir(module, tmp_path / "d.nir", dt=1e-3)
    again = import_nir(tmp_path / "d.nir")
    assert [op.attr("steps") for op in again.body.ops[0].body.ops if op.op_name == "snn.delay"] == [2]
    _same_outputs(module, g, np.random.default_rng(0).normal(size=(8, 3)))


@pytest.mark.parametrize("steps", [1, 3])
def test_cycle_delay_becomes_a_recurrent_edge(steps: int) -> None:
    module, b = _module()
    x = b.op("snn.input", [], [T3], {"name": "x", "index": 0}).result
    d = _delay(b, steps)
    a = b.op("nn.add", [x, d.result], [T3]).result
    s = _scale(b, a, 0.5)
    d.set_operand(0, s)
    b.op("snn.output", [s], [], {"name": "y", "index": 0})
    g = export_nir(module)
    kinds = sorted(type(n).__name__ for n in g.nodes.values())
    assert kinds == (["Delay"] if steps > 1 else []) + ["Input", "Output", "Scale"]
    # the scale node receives the input and (one step late) its own output, via the delay node if any
    into_scale = sorted(src for src, dst in g.edges if dst == "scale_0")
    back = next((k for k, n in g.nodes.items() if isinstance(n, nir.Delay)), "scale_0")
    assert into_scale == sorted(["x", back])
    if steps > 1:
        assert np.allclose(g.nodes[back].delay, (steps - 1) * 1e-4)
    _same_outputs(module, g, np.random.default_rng(1).normal(size=(10, 3)))


def test_recurrence_nir_cannot_state_is_an_error() -> None:
    # u = scale(x + w); v = scale(delay(u)); w = scale(v): the delay sits on u -> v, but a
    # reader searching depth-first from x reaches u, v, w and would delay w -> u instead.
    module, b = _module()
    x = b.op("snn.input", [], [T3], {"name": "x", "index": 0}).result
    add = b.op("nn.add", [x, x], [T3])
    u = _scale(b, add.result, 0.5)
    d = b.op("snn.delay", [u], [T3], {"steps": 1}).result
    v = _scale(b, d, 2.0)
    w = _scale(b, v, 0.25)
    add.set_operand(1, w)
    b.op("snn.output", [u], [], {"name": "y", "index": 0})
    with pytest.raises(DiagnosticError, match="recurrence cannot be written in NIR's convention"):
        export_nir(module)


def test_sum_of_a_value_with_itself_is_an_error() -> None:
    module, b = _module()
    x = b.op("snn.input", [], [T3], {"name": "x", "index": 0}).result
    b.op("snn.output", [b.op("nn.add", [x, x], [T3]).result], [], {"name": "y", "index": 0})
    with pytest.raises(DiagnosticError, match="two edges from 'x' into 'y'"):
        export_nir(module)


def test_names_and_edge_sums() -> None:
    module, b = _module()
    x = b.op("snn.input", [], [T3], {"name": "x", "index": 0}).result
    p = _scale(b, x, 2.0)
    q = _scale(b, x, 3.0)
    s = b.op("nn.add", [b.op("nn.add", [p, q], [T3]).result, x], [T3]).result
    b.op("snn.output", [s], [], {"name": "y", "index": 0})
    g = export_nir(module)
    assert set(g.nodes) == {"x", "scale_0", "scale_1", "y"}
    assert [e for e in g.edges if e[1] == "y"] == [("scale_0", "y"), ("scale_1", "y"), ("x", "y")]
    _same_outputs(module, g, np.random.default_rng(2).normal(size=(4, 3)))
