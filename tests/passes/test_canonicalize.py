"""canonicalize: every pattern, folding and DCE, each checked by translation validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from passes_helpers import GraphBuilder, op_names

from snnc.ir import DenseArrayAttr, DenseElementsAttr, DiagnosticError, FloatAttr, f32, i1, i64, tensor, verify
from snnc.passes import Canonicalize, PassManager
from snnc.passes.canonicalize import PATTERNS, eliminate_dead_code
from snnc.passes.validate import validate_pipeline

GOLDEN = Path(__file__).resolve().parents[2] / ".." / "shared" / "golden" / "nir-paper"


def canonicalize(module, **opts):
    PassManager([Canonicalize(**opts)]).run(module)
    return module


def assert_equivalent(module, *, exact=True, steps=12):
    """Validate canonicalize on ``module``; return the result.

    float32 runs must be bit-identical (folding computes in the result's f32 precision);
    float64 runs too when ``exact``, else within validate's default tolerance (a folded f32
    constant is the float64 value rounded to f32).
    """
    for dtype in (np.float32, np.float64):
        tol = {"atol": 0.0, "rtol": 0.0} if exact or dtype == np.float32 else {}
        report, after = validate_pipeline(module, "canonicalize", steps=steps, seeds=(0, 1, 2), dtype=dtype, **tol)
        assert report.ok, report.summary()
        assert report.comparisons, "nothing was compared"
    verify(after)
    return after


# --------------------------------------------------------------------------- identity patterns


def _chain(make):
    """x -> make(g, x) -> lif -> output; returns the module."""
    g = GraphBuilder()
    x = g.input((2, 3))
    y = make(g, x)
    g.output(g.lif(y), "s")
    g.output(y, "v")
    return g.module


IDENTITY_CASES = {
    "reshape-same-type": lambda g, x: g.op("nn.reshape", [x], x.type),
    "flatten-same-type": lambda g, x: g.op("nn.flatten", [x], x.type, start_dim=0, end_dim=0),
    "transpose-identity": lambda g, x: g.op("nn.transpose", [x], x.type, perm=DenseArrayAttr(i64, (0, 1))),
    "scale-by-one": lambda g, x: g.op("nn.scale", [x], x.type, scale=FloatAttr(1.0, f32)),
    "scale-by-ones-tensor": lambda g, x: g.op(
        "nn.scale", [x], x.type, scale=DenseElementsAttr(tensor((3,), f32), np.ones(3))
    ),
    "add-zero-rhs": lambda g, x: g.op("nn.add", [x, g.const(0.0, (2, 3))], x.type),
    "add-zero-lhs": lambda g, x: g.op("nn.add", [g.const(0.0, (3,)), x], x.type),
    "sub-zero": lambda g, x: g.op("nn.sub", [x, g.const(0.0, (2, 3))], x.type),
    "mul-one-rhs": lambda g, x: g.op("nn.mul", [x, g.const(1.0, (2, 3))], x.type),
    "mul-one-lhs": lambda g, x: g.op("nn.mul", [g.const(1.0, (1, 3)), x], x.type),
    "concat-single": lambda g, x: g.op("nn.concat", [x], x.type, axis=0),
    "transpose-twice": lambda g, x: g.op(
        "nn.transpose",
        [g.op("nn.transpose", [x], tensor((3, 2), f32), perm=DenseArrayAttr(i64, (1, 0)))],
        x.type,
        perm=DenseArrayAttr(i64, (1, 0)),
    ),
    "reshape-twice": lambda g, x: g.op("nn.reshape", [g.op("nn.reshape", [x], tensor((6,), f32))], x.type),
    "reshape-of-flatten": lambda g, x: g.op(
        "nn.reshape", [g.op("nn.flatten", [x], tensor((6,), f32), start_dim=0, end_dim=-1)], x.type
    ),
}


@pytest.mark.parametrize("case", sorted(IDENTITY_CASES))
def test_identity_pattern_removes_op_and_preserves_outputs(case):
    module = _chain(IDENTITY_CASES[case])
    verify(module)
    after = assert_equivalent(module)
    assert op_names(after) == ["snn.input", "snn.lif", "snn.output", "snn.output"], case


def test_identity_patterns_do_not_fire_when_types_differ():
    # x * 1 where 1 broadcasts x to a bigger shape: not an identity.
    g = GraphBuilder()
    x = g.input((3,))
    y = g.op("nn.mul", [x, g.const(1.0, (2, 3))], tensor((2, 3), f32))
    g.output(y)
    after = assert_equivalent(g.module)
    assert "nn.mul" in op_names(after) or "nn.constant" not in op_names(after)
    assert after.body.ops[0].body.ops[-1].operands[0].type == tensor((2, 3), f32)


def test_add_nonzero_constant_is_kept():
    g = GraphBuilder()
    x = g.input((3,))
    g.output(g.op("nn.add", [x, g.const([0.0, 1.0, 0.0])], x.type))
    after = assert_equivalent(g.module)
    assert "nn.add" in op_names(after)


def test_transpose_pair_composes_into_one():
    g = GraphBuilder()
    x = g.input((2, 3, 4))
    t1 = g.op("nn.transpose", [x], tensor((3, 4, 2), f32), perm=DenseArrayAttr(i64, (1, 2, 0)))
    t2 = g.op("nn.transpose", [t1], tensor((4, 3, 2), f32), perm=DenseArrayAttr(i64, (1, 0, 2)))
    g.output(t2)
    after = assert_equivalent(g.module)
    names = op_names(after)
    assert names.count("nn.transpose") == 1
    t = next(op for op in after.walk() if op.op_name == "nn.transpose")
    assert tuple(t.get_attr("perm").elements) == (2, 1, 0)


def test_relu_of_relu():
    g = GraphBuilder()
    x = g.input((5,))
    g.output(g.op("nn.relu", [g.op("nn.relu", [x], x.type)], x.type))
    after = assert_equivalent(g.module)
    assert op_names(after).count("nn.relu") == 1


def test_every_pattern_table_entry_names_a_registered_op():
    from snnc.ir.opdef import OpDef

    for name, patterns in PATTERNS.items():
        assert name in OpDef.registry, name
        assert patterns


# --------------------------------------------------------------------------- constant folding


def test_constant_folding_replaces_pure_ops_on_constants():
    g = GraphBuilder()
    x = g.input((3,))
    c = g.op("nn.add", [g.const([1.0, 2.0, 3.0]), g.const([0.5, 0.25, 0.125])], tensor((3,), f32))
    c2 = g.op("nn.scale", [c], c.type, scale=FloatAttr(2.0, f32))
    g.output(g.op("nn.mul", [x, c2], x.type))
    after = assert_equivalent(g.module)
    assert op_names(after) == ["snn.input", "nn.constant", "nn.mul", "snn.output"]
    const = next(op for op in after.walk() if op.op_name == "nn.constant")
    np.testing.assert_array_equal(const.get_attr("value").data, np.array([3.0, 4.5, 6.25], np.float32))


def test_folding_a_linear_layer_on_a_constant():
    g = GraphBuilder()
    x = g.input((2,))
    w = DenseElementsAttr(tensor((2, 3), f32), np.arange(6, dtype=np.float32).reshape(2, 3))
    c = g.op("nn.linear", [g.const([1.0, -1.0, 2.0])], tensor((2,), f32), weight=w)
    g.output(g.op("nn.add", [x, c], x.type))
    after = assert_equivalent(g.module)
    const = next(op for op in after.walk() if op.op_name == "nn.constant")
    np.testing.assert_array_equal(const.get_attr("value").data, np.array([3.0, 9.0], np.float32))


def test_folding_can_be_disabled():
    g = GraphBuilder()
    x = g.input((3,))
    c = g.op("nn.add", [g.const([1.0, 2.0, 3.0]), g.const([1.0, 1.0, 1.0])], tensor((3,), f32))
    g.output(g.op("nn.mul", [x, c], x.type))
    canonicalize(g.module, fold=False)
    assert "nn.add" in op_names(g.module)


def test_large_fold_becomes_resource_blob():
    g = GraphBuilder()
    x = g.input((64,))
    c = g.op("nn.scale", [g.const(np.linspace(0, 1, 64))], tensor((64,), f32), scale=FloatAttr(3.0, f32))
    g.output(g.op("nn.add", [x, c], x.type))
    after = assert_equivalent(g.module, exact=False)
    from snnc.ir import DenseResourceAttr

    const = next(op for op in after.walk() if op.op_name == "nn.constant")
    assert isinstance(const.get_attr("value"), DenseResourceAttr)


# --------------------------------------------------------------------------- dead code


def test_dce_removes_unused_pure_ops_but_keeps_inputs_and_outputs():
    g = GraphBuilder()
    x = g.input((3,))
    unused_in = g.input((2,), name="unused")
    g.op("nn.relu", [x], x.type)  # dead
    g.op("nn.scale", [unused_in], unused_in.type, scale=FloatAttr(2.0, f32))  # dead
    g.output(g.lif(x))
    after = assert_equivalent(g.module)
    assert op_names(after) == ["snn.input", "snn.input", "snn.lif", "snn.output"]


def test_dce_removes_stateful_ops_that_reach_no_output():
    g = GraphBuilder()
    x = g.input((3,))
    dead_spikes = g.lif(x)
    g.op("nn.linear", [dead_spikes], tensor((2,), f32), weight=DenseElementsAttr(tensor((2, 3), f32), np.ones((2, 3))))
    g.output(g.lif(x, alpha=0.5), "s")
    after = assert_equivalent(g.module)
    assert op_names(after) == ["snn.input", "snn.lif", "snn.output"]


def test_dce_removes_a_dead_recurrent_cycle_through_a_delay():
    g = GraphBuilder()
    x = g.input((3,))
    # s = lif(x + delay(s)): a recurrent loop whose spikes reach no output.
    delay = g.b.op("snn.delay", [x], [tensor((3,), i1)], {"steps": 1})  # operand fixed below
    h = g.op("nn.add", [x, delay.results[0]], x.type)
    s = g.lif(h)
    delay.set_operand(0, s)
    g.output(g.lif(x, alpha=0.25), "live")
    verify(g.module)
    n = eliminate_dead_code(g.graph.body)
    assert n == 3
    assert op_names(g.module) == ["snn.input", "snn.lif", "snn.output"]
    verify(g.module)


def test_live_recurrent_cycle_is_kept():
    g = GraphBuilder()
    x = g.input((3,))
    delay = g.b.op("snn.delay", [x], [tensor((3,), i1)], {"steps": 1})
    h = g.op("nn.add", [x, delay.results[0]], x.type)
    s = g.lif(h)
    delay.set_operand(0, s)
    g.output(s)
    after = assert_equivalent(g.module)
    assert sorted(op_names(after)) == sorted(["snn.input", "snn.delay", "nn.add", "snn.lif", "snn.output"])


def test_unknown_ops_are_never_removed():
    from snnc.ir import Block, ModuleOp, Region
    from snnc.ir.opdef import make_op

    module = ModuleOp.empty()
    module.body.append(make_op("foo.side_effect", [], [tensor((2,), f32)], {}))
    module.body.append(make_op("foo.region_op", [], [], {}, regions=[Region([Block()])]))
    canonicalize(module)
    assert [op.op_name for op in module.body.ops] == ["foo.side_effect", "foo.region_op"]


def test_fixed_point_needs_several_sweeps_and_max_iterations_is_enforced():
    def build():
        g = GraphBuilder()
        x = g.input((3,))
        y = x
        for _ in range(4):  # relu(relu(relu(relu(x)))) plus dead constants around it
            y = g.op("nn.relu", [g.op("nn.add", [y, g.const(0.0, (3,))], x.type)], x.type)
        g.output(y)
        return g.module

    after = assert_equivalent(build())
    assert op_names(after) == ["snn.input", "nn.relu", "snn.output"]
    with pytest.raises(DiagnosticError, match="did not reach a fixed point in 1 sweeps"):
        canonicalize(build(), max_iterations=1)


def test_canonicalize_is_idempotent():
    module = _chain(IDENTITY_CASES["transpose-twice"])
    once = canonicalize(module)
    before = [op.op_name for op in once.walk()]
    twice = canonicalize(once)
    assert [op.op_name for op in twice.walk()] == before


# --------------------------------------------------------------------------- golden NIR graphs


GOLDEN_GRAPHS = ["lif_norse.nir", "cnn_sinabs.nir", "braille_noDelay_bias_zero.nir", "braille_noDelay_noBias_subtract.nir"]


@pytest.mark.parametrize("name", GOLDEN_GRAPHS)
def test_canonicalize_preserves_golden_nir_graphs(name):
    path = GOLDEN / name
    if not path.exists():
        pytest.skip(f"golden data not found at {path} (needs ../shared/golden beside the checkout)")
    nir_frontend = pytest.importorskip("snnc.frontends.nir", reason="NIR frontend not available")
    module = nir_frontend.import_nir(path)
    verify(module)
    steps = 6 if name.startswith("cnn") else 20
    for dtype in (np.float32, np.float64):
        report, after = validate_pipeline(module, "canonicalize", steps=steps, seeds=(0, 1), dtype=dtype, atol=0.0, rtol=0.0)
        assert report.ok, report.summary()
    assert len(list(after.walk())) <= len(list(module.walk()))
