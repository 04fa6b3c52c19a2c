"""The nn and snn verifiers: one test per kind of malformed op, checking the message."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from snnc.dialects import DIALECTS, find_graph, nn, snn
from snnc.dialects.common import float_param, weight_attr
from snnc.ir import (
    Block,
    Builder,
    DenseResourceAttr,
    DiagnosticError,
    FileLineColLoc,
    ModuleOp,
    OpDef,
    Region,
    Trait,
    Type,
    f32,
    f64,
    i1,
    si2,
    tensor,
    verify,
)

LOC = FileLineColLoc("t.mlir", 3, 5)


def graph_with(cls: type, in_types: list[Type], result_types: list[Type], attrs: dict[str, Any] | None = None):
    m = ModuleOp.empty()
    g = snn.Graph.build("main")
    m.body.append(g)
    b = Builder.at_end(g.body)
    xs = [
        b.create(snn.Input, result_types=[t], attributes={"name": f"x{i}", "index": i}).result
        for i, t in enumerate(in_types)
    ]
    op = b.create(cls, xs, result_types, attrs or {}, location=LOC)
    for i, r in enumerate(op.results):
        b.create(snn.Output, [r], [], {"name": f"y{i}", "index": i})
    return m


def ok(cls, ins, res, attrs=None) -> None:
    verify(graph_with(cls, ins, res, attrs))


def bad(cls, ins, res, attrs, message: str) -> None:
    with pytest.raises(DiagnosticError) as e:
        verify(graph_with(cls, ins, res, attrs))
    text = str(e.value)
    assert message in text, text
    assert f"'{cls.name}' op" in text


def W(*shape):
    return weight_attr(np.ones(shape))


t = tensor


# --------------------------------------------------------------------------- registry


def test_every_op_documented_and_in_a_dialect():
    names = {op.name for d in DIALECTS for op in d.ops}
    for name, cls in OpDef.registry.items():
        if name.startswith(("nn.", "snn.")):
            assert name in names
            doc = cls.__doc__ or ""
            assert "Example::" in doc, name
            assert f'"{name}"' in doc, f"{name}: the example must show the op"
    assert {"nn.linear", "nn.conv2d", "snn.graph", "snn.lif", "snn.delay"} <= names


# --------------------------------------------------------------------------- nn


def test_linear_rules():
    ok(nn.Linear, [t((4, 3))], [t((4, 2))], {"weight": W(2, 3), "bias": W(2)})
    bad(nn.Linear, [t((5,))], [t((2,))], {"weight": W(2, 3)}, "input has 5 features but weight [2, 3] expects 3")
    bad(nn.Linear, [t((3,))], [t((3,))], {"weight": W(2, 3)}, "result shape [3] does not match the expected shape [2]")
    bad(nn.Linear, [t((3,))], [t((2,))], {"weight": W(2, 3), "bias": W(3)}, "bias shape [3] does not match the 2 output")
    bad(nn.Linear, [t((3,))], [t((2,))], {"weight": W(6)}, "weight must be 2-d")
    bad(nn.Linear, [t((3,))], [t((2,))], {}, "requires attribute 'weight'")
    bad(nn.Linear, [t((3,), f64)], [t((2,))], {"weight": W(2, 3)}, "operand #0 has element type f64 but the result has f32")
    bad(nn.Linear, [t((3,))], [t((2,), i1)], {"weight": W(2, 3)}, "result #0 ('result') must be float tensor")


def test_conv2d_rules():
    ok(nn.Conv2d, [t((3, 8, 8))], [t((4, 4, 4))], {"weight": W(4, 3, 3, 3), "stride": [2, 2], "padding": [1, 1]})
    ok(nn.Conv2d, [t((4, 8, 8), i1)], [t((4, 8, 8))], {"weight": W(4, 1, 3, 3), "padding": [1, 1], "groups": 4})
    bad(nn.Conv2d, [t((3, 8, 8))], [t((4, 6, 6))], {"weight": W(4, 2, 3, 3)},
        "input has 3 channels but weight [4, 2, 3, 3] with groups=1 expects 2")
    bad(nn.Conv2d, [t((3, 8, 8))], [t((4, 8, 8))], {"weight": W(4, 3, 3, 3)},
        "result shape [4, 8, 8] does not match the expected shape [4, 6, 6]")
    bad(nn.Conv2d, [t((8, 8))], [t((4, 6, 6))], {"weight": W(4, 3, 3, 3)}, "input must have rank 3")
    bad(nn.Conv2d, [t((4, 8, 8))], [t((3, 6, 6))], {"weight": W(3, 2, 3, 3), "groups": 2},
        "output channels 3 are not divisible by groups=2")
    bad(nn.Conv2d, [t((3, 8, 8))], [t((4, 6, 6))], {"weight": W(4, 3, 3, 3), "stride": [0, 1]},
        "attribute 'stride' must be positive")
    bad(nn.Conv2d, [t((3, 8, 8))], [t((4, 6, 6))], {"weight": W(4, 3, 3, 3), "padding": [1, 1, 1]},
        "attribute 'padding' must have 2 or 4 values")
    bad(nn.Conv2d, [t((3, 2, 2))], [t((4, 1, 1))], {"weight": W(4, 3, 3, 3)}, "does not fit the padded input")
    bad(nn.Conv2d, [t((3, 8, 8))], [t((4, 6, 6))], {"weight": W(4, 3, 3, 3), "bias": W(3)},
        "bias shape [3] does not match the 4 output channels")
    bad(nn.Conv2d, [t((3, 8, 8))], [t((4, 6, 6))], {"weight": W(4, 3, 3, 3), "dilation": [1]},
        "attribute 'dilation' must have 2 value(s)")


def test_conv1d_rules():
    ok(nn.Conv1d, [t((2, 10))], [t((4, 10))], {"weight": W(4, 2, 3), "padding": [1]})
    ok(nn.Conv1d, [t((2, 10))], [t((4, 9))], {"weight": W(4, 2, 3), "padding": [0, 1]})
    bad(nn.Conv1d, [t((2, 10))], [t((4, 10))], {"weight": W(4, 2, 3)}, "expected shape [4, 8]")


def test_batch_norm_rules():
    ok(nn.BatchNorm, [t((2, 4, 4))], [t((2, 4, 4))], {"mean": W(2), "var": W(2)})
    bad(nn.BatchNorm, [t((3, 4))], [t((3, 4))], {"mean": W(2), "var": W(2)}, "'mean' has shape [2] but the input has 3 channels")
    bad(nn.BatchNorm, [t((2,))], [t((2,))], {"mean": W(2), "var": W(2), "eps": -1.0}, "attribute 'eps' must be >= 0")
    bad(nn.BatchNorm, [t((2,))], [t((2,))], {"mean": W(2)}, "requires attribute 'var'")


def test_elementwise_rules():
    ok(nn.Add, [t((4, 3)), t((3,))], [t((4, 3))])
    ok(nn.Mul, [t((4, 1), i1), t((1, 3))], [t((4, 3))])
    bad(nn.Add, [t((4, 3)), t((4,))], [t((4, 3))], {}, "operand shapes [4, 3] and [4] do not broadcast")
    bad(nn.Sub, [t((4, 3)), t((3,))], [t((3,))], {}, "expected shape [4, 3]")
    bad(nn.Mul, [t((3,), i1), t((3,), f64)], [t((3,))], {}, "operand #1 has element type f64 but the result has f32")
    bad(nn.Add, [t((3,))], [t((3,))], {}, "expects 2 operand(s), has 1")


def test_scale_matmul_rules():
    ok(nn.Scale, [t((2, 3))], [t((2, 3))], {"scale": float_param(np.ones(3))})
    bad(nn.Scale, [t((2, 3))], [t((2, 3))], {"scale": float_param(np.ones(2))}, "scale of shape [2] does not broadcast")
    bad(nn.Scale, [t((3,))], [t((3,))], {"scale": "x"}, "attribute 'scale' must be FloatAttr or DenseElementsAttr")
    ok(nn.MatMul, [t((4, 8)), t((8, 2))], [t((4, 2))])
    ok(nn.MatMul, [t((8,)), t((8, 2))], [t((2,))])
    bad(nn.MatMul, [t((4, 8)), t((7, 2))], [t((4, 2))], {}, "contraction dimensions differ: [4, 8] x [7, 2]")
    bad(nn.MatMul, [t((3, 4, 8)), t((2, 8, 2))], [t((3, 4, 2))], {}, "batch dimensions of [3, 4, 8] and [2, 8, 2] do not broadcast")


def test_pool_rules():
    pool = {"kernel_size": [2, 2], "stride": [2, 2]}
    ok(nn.SumPool2d, [t((4, 8, 8))], [t((4, 4, 4))], pool)
    ok(nn.AvgPool2d, [t((4, 7, 7))], [t((4, 3, 3))], pool)  # floor rounding
    bad(nn.MaxPool2d, [t((4, 8, 8))], [t((4, 5, 5))], pool, "expected shape [4, 4, 4]")
    bad(nn.MaxPool2d, [t((4, 8, 8))], [t((4, 5, 5))], {**pool, "padding": [2, 2]}, "padding must be at most half")
    bad(nn.SumPool2d, [t((8, 8))], [t((4, 4))], pool, "input must have rank 3 [C, H, W]")
    bad(nn.SumPool2d, [t((4, 8, 8))], [t((4, 4, 4))], {"kernel_size": [2, 2]}, "requires attribute 'stride'")
    bad(nn.SumPool2d, [t((4, 8, 8))], [t((4, 4, 4))], {"kernel_size": [2], "stride": [2, 2]},
        "attribute 'kernel_size' must have 2 value(s)")


def test_shape_op_rules():
    ok(nn.Flatten, [t((2, 3, 4), i1)], [t((24,), i1)])
    ok(nn.Flatten, [t((2, 3, 4))], [t((2, 12))], {"start_dim": 1})
    bad(nn.Flatten, [t((2, 3, 4))], [t((6, 3))], {"start_dim": 0, "end_dim": 1}, "expected shape [6, 4]")
    bad(nn.Flatten, [t((2, 3, 4))], [t((24,))], {"start_dim": 3}, "start_dim 3 is out of range for rank 3")
    bad(nn.Flatten, [t((2, 3, 4))], [t((24,))], {"start_dim": 2, "end_dim": 1}, "start_dim 2 is after end_dim 1")
    bad(nn.Flatten, [t((2, 3))], [t((6,), i1)], {}, "result element type must equal the input's")
    ok(nn.Reshape, [t((2, 6))], [t((3, 4))])
    bad(nn.Reshape, [t((2, 6))], [t((3, 5))], {}, "cannot reshape 12 elements [2, 6] into [3, 5]")
    ok(nn.Transpose, [t((2, 3, 4))], [t((4, 2, 3))], {"perm": [2, 0, 1]})
    bad(nn.Transpose, [t((2, 3))], [t((3, 2))], {"perm": [0, 0]}, "perm [0, 0] is not a permutation of the 2 input axes")
    bad(nn.Transpose, [t((2, 3))], [t((2, 3))], {"perm": [1, 0]}, "expected shape [3, 2]")
    ok(nn.Concat, [t((2, 3)), t((4, 3))], [t((6, 3))], {"axis": 0})
    bad(nn.Concat, [t((2, 3)), t((4, 2))], [t((6, 3))], {"axis": 0}, "input #1 shape [4, 2] does not match [2, 3] outside axis 0")
    bad(nn.Concat, [t((2, 3)), t((2, 3))], [t((2, 6))], {"axis": 2}, "axis 2 is out of range for rank 2")
    bad(nn.Concat, [t((2, 3)), t((2, 3), i1)], [t((4, 3))], {"axis": 0}, "input #1 has element type i1")
    bad(nn.Concat, [], [t((2, 3))], {"axis": 0}, "needs at least one input")


def test_reduction_and_relu_rules():
    ok(nn.Sum, [t((4, 3))], [t((4,))], {"axes": [1]})
    ok(nn.Mean, [t((4, 3))], [t(())])
    ok(nn.Mean, [t((4, 3, 3))], [t((4, 1, 1))], {"axes": [1, 2], "keepdim": True})
    bad(nn.Sum, [t((4, 3))], [t((4,))], {"axes": [1, -1]}, "axes [1, -1] repeat an axis")
    bad(nn.Sum, [t((4, 3))], [t((4,))], {"axes": [2]}, "axis 2 is out of range for rank 2")
    bad(nn.Mean, [t((4, 3))], [t((3,))], {"axes": [1]}, "expected shape [4]")
    bad(nn.ReLU, [t((4,))], [t((5,))], {}, "expected shape [4]")
    bad(nn.ReLU, [t((4,), i1)], [t((4,))], {}, "operand #0 ('input') must be float tensor")


def test_constant_rules():
    ok(nn.Constant, [], [t((2,))], {"value": W(2)})
    bad(nn.Constant, [], [t((3,))], {"value": W(2)}, "result type tensor<3xf32> does not match the value's type tensor<2xf32>")


# --------------------------------------------------------------------------- snn neurons


LIF = {"alpha": 0.9}


def test_neuron_rules():
    ok(snn.LIF, [t((4,))], [t((4,), i1)], LIF)
    ok(snn.LIF, [t((4,), i1)], [t((4,), si2)], LIF)
    ok(snn.LIF, [t((2, 4))], [t((2, 4), i1)], {"alpha": float_param(np.full(4, 0.9)), "v_th": float_param(np.ones((2, 1)))})
    bad(snn.LIF, [t((4,))], [t((4,))], LIF, 'result must be a spike tensor (i1 or si2) with spike_fn = "single", got tensor<4xf32>')
    bad(snn.LIF, [t((4,))], [t((5,), i1)], LIF, "result shape [5] must equal the input shape [4]")
    bad(snn.LIF, [t((4,))], [t((4,), i1)], {}, "requires attribute 'alpha'")
    bad(snn.LIF, [t((4,))], [t((4,), i1)], {**LIF, "reset": "sometimes"}, "attribute 'reset' must be one of 'hard', 'soft', 'none'")
    bad(snn.LIF, [t((4,))], [t((4,), i1)], {**LIF, "cmp": "lt"}, "attribute 'cmp' must be one of 'ge', 'gt'")
    bad(snn.LIF, [t((4,))], [t((4,), i1)], {"alpha": float_param(np.ones(3))},
        "parameter 'alpha' of shape [3] does not broadcast to [4]")
    bad(snn.LIF, [t((4,))], [t((4,), i1)], {"alpha": float_param(np.ones((2, 4)))},
        "parameter 'alpha' of shape [2, 4] does not broadcast to [4]")
    bad(snn.LIF, [t((4,))], [t((4,), i1)], {"alpha": 1}, "attribute 'alpha' must be FloatAttr or DenseElementsAttr")
    bad(snn.LIF, [t((4,))], [t((4,), i1)], {"alpha": weight_attr(np.ones(4, dtype=np.int32))},
        "attribute 'alpha' must be a float or a float tensor")
    bad(snn.IF, [t((4,))], [t((4,), i1)], {"v_th": float_param(np.ones(2))}, "parameter 'v_th' of shape [2]")
    bad(snn.CubaLIF, [t((4,))], [t((4,), i1)], {"alpha": 0.9}, "requires attribute 'alpha_syn'")
    ok(snn.CubaLIF, [t((4,))], [t((4,), i1)], {"alpha": 0.9, "alpha_syn": 0.8})
    bad(snn.LI, [t((4,))], [t((4,), i1)], {"alpha": 0.9}, "result #0 ('v') must be float tensor")
    ok(snn.CubaLI, [t((4,))], [t((4,))], {"alpha": 0.9, "alpha_syn": 0.8})
    bad(snn.Integrator, [t((4,))], [t((3,))], {}, "result shape [3] must equal the input shape [4]")
    ok(snn.Threshold, [t((4,))], [t((4,), si2)], {"theta": 0.5})
    bad(snn.Threshold, [t((4,))], [t((4,), i1)], {}, "requires attribute 'theta'")


def test_delay_rules():
    ok(snn.Delay, [t((4,), i1)], [t((4,), i1)], {"steps": 3})
    bad(snn.Delay, [t((4,))], [t((4,))], {"steps": 0}, "attribute 'steps' must be >= 1")
    bad(snn.Delay, [t((4,))], [t((4,), i1)], {}, "result type tensor<4xi1> must equal the operand type tensor<4xf32>")


def test_resource_weights_verify():
    w = weight_attr(np.ones((20, 3)))
    assert isinstance(w, DenseResourceAttr)
    ok(nn.Linear, [t((3,))], [t((20,))], {"weight": w})


# --------------------------------------------------------------------------- graph structure


def _graph(*ops_spec) -> ModuleOp:
    m = ModuleOp.empty()
    g = snn.Graph.build("g")
    m.body.append(g)
    b = Builder.at_end(g.body)
    for kind, name, index in ops_spec:
        if kind == "in":
            b.create(snn.Input, result_types=[t((1,))], attributes={"name": name, "index": index}, location=LOC)
        else:
            x = b.create(nn.Constant, [], [t((1,))], {"value": W(1)}).result
            b.create(snn.Output, [x], [], {"name": name, "index": index}, location=LOC)
    return m


def _bad_graph(spec, message):
    with pytest.raises(DiagnosticError) as e:
        verify(_graph(*spec))
    assert message in str(e.value), str(e.value)


def test_graph_io_rules():
    verify(_graph(("in", "a", 0), ("in", "b", 1), ("out", "y", 0)))
    _bad_graph([("in", "a", 0), ("in", "a", 1)], "duplicate input name 'a' in graph 'g'")
    _bad_graph([("in", "a", 0), ("in", "b", 0)], "duplicate input index 0 in graph 'g'")
    _bad_graph([("in", "a", 0), ("in", "b", 2)], "input indices must be 0..1 without gaps; index 2 leaves 1 unused")
    _bad_graph([("out", "y", 1)], "output indices must be 0..0 without gaps")
    _bad_graph([("out", "y", 0), ("out", "y", 1)], "duplicate output name 'y'")
    _bad_graph([("in", "a", -1)], "index must be >= 0")
    _bad_graph([("in", "", 0)], "name must not be empty")


def test_input_outside_graph_rejected():
    m = ModuleOp.empty()
    m.body.append(snn.Input.create(result_types=[t((1,))], attributes={"name": "x", "index": 0}, location=LOC))
    with pytest.raises(DiagnosticError, match="must be directly inside an 'snn.graph', found in 'builtin.module'"):
        verify(m)


def test_graph_structure_rules():
    g = snn.Graph.build("g")
    g.regions[0].add_block(Block())
    m = ModuleOp.empty()
    m.body.append(g)
    with pytest.raises(DiagnosticError, match="expects one block in its region, has 2"):
        verify(m)
    g2 = snn.Graph(regions=[Region([Block([f32])])], attributes={"sym_name": "h"})
    with pytest.raises(DiagnosticError, match="body block takes no arguments"):
        verify(g2)
    g3 = snn.Graph(regions=[Region([Block()])])
    with pytest.raises(DiagnosticError, match="requires attribute 'sym_name'"):
        verify(g3)
    assert snn.Graph.has_trait(Trait.GRAPH_REGION)
    assert snn.Delay.has_trait(Trait.DELAYED) and snn.Delay.has_trait(Trait.STATEFUL)


def test_graph_helpers_and_find_graph():
    m = _graph(("in", "b", 1), ("in", "a", 0), ("out", "y", 0))
    g = find_graph(m)
    assert g.sym_name == "g"
    assert [op.attr("name") for op in g.inputs()] == ["a", "b"]
    assert [op.attr("name") for op in g.outputs()] == ["y"]
    assert find_graph(m, "g") is g
    assert find_graph(g) is g
    with pytest.raises(DiagnosticError, match="no 'snn.graph' named 'nope' in the module \\(graphs: 'g'\\)"):
        find_graph(m, "nope")
    m.body.append(snn.Graph.build("other"))
    with pytest.raises(DiagnosticError, match="holds 2 'snn.graph' ops \\('g', 'other'\\); name the one to use"):
        find_graph(m)
    assert find_graph(m, "other").sym_name == "other"
    with pytest.raises(DiagnosticError, match="the module holds no 'snn.graph'"):
        find_graph(ModuleOp.empty())


# --------------------------------------------------------------------------- common helpers


def test_weight_attr_inline_and_resource_handles():
    small = weight_attr(np.arange(16.0))
    assert not isinstance(small, DenseResourceAttr)
    big = weight_attr(np.arange(17.0), hint="fc1.weight")
    assert isinstance(big, DenseResourceAttr)
    assert big.handle.startswith("fc1_weight_")
    assert weight_attr(np.arange(17.0), hint="fc1.weight").handle == big.handle  # deterministic
    assert weight_attr(np.arange(1.0, 18.0), hint="fc1.weight").handle != big.handle  # content-derived
    assert big.type == t((17,), f32)
    src = np.ones(3)
    weight_attr(src)
    assert src.flags.writeable  # the caller's array is not frozen


def test_float_param():
    a = float_param(0.5)
    assert a.value == 0.5 and str(a) == "5.000000e-01 : f32"
    v = float_param(np.array([1.0, 2.0]))
    assert v.type == t((2,), f32)


def test_io_op_attribute_errors_reported_before_numbering():
    m = ModuleOp.empty()
    g = snn.Graph.build("g")
    m.body.append(g)
    g.body.append(snn.Input.create(result_types=[t((1,))], attributes={"name": "x"}, location=LOC))
    with pytest.raises(DiagnosticError, match="'snn.input' op requires attribute 'index'"):
        verify(m)
    g.body.ops[0].set_attr("index", "zero")
    with pytest.raises(DiagnosticError, match="'snn.input' op attribute 'index' must be IntegerAttr"):
        verify(m)
