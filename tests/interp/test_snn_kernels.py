"""Neuron, threshold and delay semantics against hand-computed sequences (SEEDS.md facts 1, 2)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from snnc.dialects import nn, snn
from snnc.dialects.common import float_param
from snnc.interp import run, run_graph
from snnc.ir import Builder, DiagnosticError, FileLineColLoc, ModuleOp, f32, i1, si2, tensor, verify


def neuron_module(cls: type, attrs: dict[str, Any], shape=(1,), result_elt=i1, input_elt=f32) -> ModuleOp:
    """input x -> <cls> -> output y."""
    m = ModuleOp.empty()
    g = snn.Graph.build("main")
    m.body.append(g)
    b = Builder.at_end(g.body)
    x = b.create(snn.Input, result_types=[tensor(shape, input_elt)], attributes={"name": "x", "index": 0}).result
    y = b.create(cls, [x], [tensor(shape, result_elt)], attrs).result
    b.create(snn.Output, [y], [], {"name": "y", "index": 0})
    verify(m)
    return m


def run1(cls: type, attrs: dict[str, Any], xs, **kw) -> np.ndarray:
    xs = np.asarray(xs, dtype=np.float64)
    res = run(neuron_module(cls, attrs, **kw), {"x": xs.reshape(len(xs), 1)})
    return res.outputs["y"][:, 0]


def spikes(cls, attrs, xs, **kw) -> list[int]:
    return [int(s) for s in run1(cls, attrs, xs, **kw)]


# --------------------------------------------------------------------------- SEEDS.md facts


def test_spikingjelly_lif_tau2_hard_reset():
    # H = V + (X - V)/tau with tau = 2: alpha = 0.5, beta = 0.5.
    attrs = {"alpha": 0.5, "beta": 0.5, "gamma": 0.0, "v_th": 1.0}
    assert spikes(snn.LIF, attrs, [1.2] * 6) == [0, 0, 1, 0, 0, 1]
    assert spikes(snn.LIF, attrs, [2.0] * 6) == [1] * 6
    # first step fires iff x >= 2 * v_th
    assert spikes(snn.LIF, attrs, [1.999999]) == [0]
    assert spikes(snn.LIF, attrs, [2.0]) == [1]


def test_qsnn_lif_strict_comparison():
    attrs = {"alpha": 0.5, "beta": 1.0, "v_th": 1.0, "cmp": "gt"}
    assert spikes(snn.LIF, attrs, [1.0] * 4) == [0, 1, 0, 1]
    assert spikes(snn.LIF, {**attrs, "cmp": "ge"}, [1.0] * 4) == [1, 1, 1, 1]
    assert spikes(snn.LIF, attrs, [0.6] * 6) == [0, 0, 1, 0, 0, 1]


# --------------------------------------------------------------------------- resets and state


def test_lif_soft_reset_and_state():
    m = neuron_module(snn.LIF, {"alpha": 1.0, "v_th": 1.0, "reset": "soft"})
    g = snn.find_graph(m)
    lif = next(op for op in g.body.ops if isinstance(op, snn.LIF))
    names = {lif.result: "lif", g.inputs()[0].result: "x"}
    res = run_graph(g, {"x": np.array([[0.7], [0.7], [0.7], [0.7]])}, probe=True, value_names=names)
    # v: 0.7, 1.4 -> fire -> 0.4, 1.1 -> fire -> 0.1, 0.8
    assert res.outputs["y"][:, 0].tolist() == [False, True, True, False]
    assert res.probes["lif"][:, 0].tolist() == [False, True, True, False]
    vs = [st["v"][0] for st in res.states["lif"]]
    np.testing.assert_allclose(vs, [0.7, 0.4, 0.1, 0.8], atol=1e-12)


def test_lif_no_reset_keeps_firing():
    attrs = {"alpha": 1.0, "v_th": 1.0, "reset": "none"}
    assert spikes(snn.LIF, attrs, [0.6, 0.6, 0.0, -1.0]) == [0, 1, 1, 0]


def test_lif_hard_reset_to_nonzero_and_v_init():
    attrs = {"alpha": 1.0, "v_th": 1.0, "v_reset": 0.5, "v_init": 0.9}
    # v: 0.9+0.2=1.1 fire -> 0.5; 0.7; 0.9; 1.1 fire
    assert spikes(snn.LIF, attrs, [0.2] * 4) == [1, 0, 0, 1]


def test_lif_leak_and_gamma():
    # v = 0.9 v + 0.1 x + 0.05, never reaches 1 for x = 0
    out = run1(snn.LI, {"alpha": 0.9, "beta": 0.1, "gamma": 0.05}, [1.0, 0.0, 0.0], result_elt=f32)
    v1 = 0.1 + 0.05
    v2 = 0.9 * v1 + 0.05
    v3 = 0.9 * v2 + 0.05
    np.testing.assert_allclose(out, [v1, v2, v3], atol=1e-14)


def test_if_neuron():
    assert spikes(snn.IF, {"v_th": 1.0}, [0.5, 0.5, 0.5, 0.5]) == [0, 1, 0, 1]
    assert spikes(snn.IF, {"v_th": 1.0, "beta": 2.0}, [0.5, 0.5]) == [1, 1]


def test_cuba_lif_uses_new_current():
    attrs = {"alpha_syn": 0.5, "alpha": 1.0, "v_th": 1.0}
    # i: 1, 0.5, 0.25 ; v: 1 (fires at step 0 since the NEW current is used)
    assert spikes(snn.CubaLIF, attrs, [1.0, 0.0, 0.0]) == [1, 0, 0]
    # with a current decay and a membrane leak
    attrs = {"alpha_syn": 0.5, "beta_syn": 1.0, "alpha": 0.5, "beta": 1.0, "v_th": 1.2}
    # i: 1, 1.5, 1.75 ; v: 1, 2.0 -> fire -> 0, 1.75 -> fire
    assert spikes(snn.CubaLIF, attrs, [1.0, 1.0, 1.0]) == [0, 1, 1]


def test_cuba_li_and_integrator():
    out = run1(snn.CubaLI, {"alpha_syn": 0.5, "alpha": 0.5}, [1.0, 0.0, 0.0], result_elt=f32)
    # i: 1, .5, .25 ; v: 1, 1, 0.75
    np.testing.assert_allclose(out, [1.0, 1.0, 0.75])
    out = run1(snn.Integrator, {"beta": 2.0, "gamma": 0.5}, [1.0, -1.0, 0.0], result_elt=f32)
    np.testing.assert_allclose(out, [2.5, 1.0, 1.5])


def test_threshold_stateless_and_ternary():
    assert spikes(snn.Threshold, {"theta": 0.5}, [0.4, 0.5, 0.6]) == [0, 1, 1]
    assert spikes(snn.Threshold, {"theta": 0.5, "cmp": "gt"}, [0.4, 0.5, 0.6]) == [0, 0, 1]
    assert spikes(snn.Threshold, {"theta": 0.5}, [-0.7, 0.1, 0.9], result_elt=si2) == [-1, 0, 1]


def test_ternary_lif_soft_reset():
    attrs = {"alpha": 1.0, "v_th": 1.0, "reset": "soft"}
    # v: -1.2 -> -1 spike -> -0.2 ; 0.8 ; 1.8 -> +1 -> 0.8
    assert spikes(snn.LIF, attrs, [-1.2, 1.0, 1.0], result_elt=si2) == [-1, 0, 1]


def test_tensor_parameters_broadcast():
    m = neuron_module(snn.LIF, {"alpha": 1.0, "v_th": float_param(np.array([0.5, 1.0, 2.0]))}, shape=(3,))
    res = run(m, {"x": np.full((2, 3), 0.6)})
    assert res.outputs["y"].astype(int).tolist() == [[1, 0, 0], [1, 1, 0]]


def test_float32_run():
    m = neuron_module(snn.LIF, {"alpha": 0.5, "beta": 0.5, "v_th": 1.0})
    res = run(m, {"x": np.full((6, 1), 1.2, dtype=np.float32)}, dtype=np.float32)
    assert res.outputs["y"][:, 0].astype(int).tolist() == [0, 0, 1, 0, 0, 1]


def test_batched_run_matches_unbatched():
    m = neuron_module(snn.LIF, {"alpha": 0.8, "v_th": 1.0}, shape=(4,))
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 0.8, size=(10, 3, 4))
    batched = run(m, {"x": x}, batched=True).outputs["y"]
    for b in range(3):
        np.testing.assert_array_equal(batched[:, b], run(m, {"x": x[:, b]}).outputs["y"])


# --------------------------------------------------------------------------- delay and recurrence


@pytest.mark.parametrize("steps", [1, 3])
def test_delay(steps):
    m = neuron_module(snn.Delay, {"steps": steps}, result_elt=f32)
    x = np.arange(1.0, 7.0)
    out = run(m, {"x": x.reshape(6, 1)}).outputs["y"][:, 0]
    np.testing.assert_array_equal(out, np.concatenate([np.zeros(steps), x[: 6 - steps]]))


def test_delay_of_spikes_starts_false():
    m = neuron_module(snn.Delay, {"steps": 2}, result_elt=i1, input_elt=i1)
    out = run(m, {"x": np.ones((3, 1), dtype=bool)}).outputs["y"][:, 0]
    assert out.tolist() == [False, False, True]


def _recurrent(with_delay: bool) -> ModuleOp:
    """y = LIF(x + 0.5 * delay(y)) with the delay's operand a forward reference."""
    m = ModuleOp.empty()
    g = snn.Graph.build("rec")
    m.body.append(g)
    b = Builder.at_end(g.body)
    t = tensor((1,))
    x = b.create(snn.Input, result_types=[t], attributes={"name": "x", "index": 0}).result
    # a placeholder operand, replaced by the LIF's result below (forward reference)
    placeholder = b.create(nn.Constant, [], [tensor((1,), i1)], {"value": float_param(np.zeros(1))}).result
    if with_delay:
        fb = b.create(snn.Delay, [placeholder], [tensor((1,), i1)], {"steps": 1},
                      location=FileLineColLoc("rec.mlir", 4, 3)).result
    else:
        fb = placeholder
    scaled = b.create(nn.Scale, [fb], [t], {"scale": 0.5}, location=FileLineColLoc("rec.mlir", 5, 3)).result
    total = b.create(nn.Add, [x, scaled], [t], location=FileLineColLoc("rec.mlir", 6, 3)).result
    y = b.create(snn.LIF, [total], [tensor((1,), i1)], {"alpha": 0.0, "v_th": 1.0},
                 location=FileLineColLoc("rec.mlir", 7, 3)).result
    placeholder.replace_all_uses_with(y)
    placeholder.defining_op().erase()
    b.create(snn.Output, [y], [], {"name": "y", "index": 0})
    return m


def test_recurrence_through_delay_runs():
    m = _recurrent(True)
    verify(m)
    # alpha = 0: v = x + 0.5 * y[t-1]; x = 0.6 fires only with feedback, 1.0 starts it.
    out = run(m, {"x": np.array([[1.0], [0.6], [0.6], [0.4], [0.6]])}).outputs["y"][:, 0]
    assert out.astype(int).tolist() == [1, 1, 1, 0, 0]


def test_cycle_without_delay_rejected_with_location():
    m = _recurrent(False)
    with pytest.raises(DiagnosticError) as e:
        verify(m)
    text = e.value.render()
    assert "rec.mlir:" in text
    assert "cycle that does not pass through a delay" in text


def test_run_probe_uses_printer_names():
    m = neuron_module(snn.LIF, {"alpha": 1.0, "v_th": 1.0, "reset": "soft"})
    res = run(m, {"x": np.array([[0.7], [0.7], [0.7]])}, probe=True)
    # printer numbering: %0 = snn.input, %1 = snn.lif
    np.testing.assert_allclose(res.probes["%0"][:, 0], [0.7, 0.7, 0.7])
    assert res.probes["%1"][:, 0].tolist() == [False, True, True]
    np.testing.assert_allclose([st["v"][0] for st in res.states["%1"]], [0.7, 0.4, 0.1], atol=1e-12)


def test_run_named_graph_and_errors():
    m = neuron_module(snn.IF, {"v_th": 1.0})
    m.body.append(snn.Graph.build("empty"))
    with pytest.raises(DiagnosticError, match="name the one to use"):
        run(m, {"x": np.zeros((2, 1))})
    out = run(m, {"x": np.full((2, 1), 0.5)}, graph="main").outputs["y"][:, 0]
    assert out.tolist() == [False, True]
    with pytest.raises(DiagnosticError, match="input 'x' must have shape"):
        run(m, {"x": np.zeros((2, 3))}, graph="main")
