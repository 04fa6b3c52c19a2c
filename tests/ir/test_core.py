"""IR core: types, attributes, use-def lists, op definitions, verifier, step order, diagnostics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snnc.ir import (
    ArrayAttr,
    Attr,
    Block,
    BoolAttr,
    Builder,
    DenseArrayAttr,
    DenseElementsAttr,
    DenseResourceAttr,
    DiagnosticError,
    DictionaryAttr,
    FileLineColLoc,
    FileLoc,
    FloatAttr,
    FunctionType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    OpaqueType,
    OpDef,
    Operand,
    Region,
    Result,
    StringAttr,
    Trait,
    UnitAttr,
    f32,
    f64,
    i1,
    i64,
    si2,
    step_order,
    tensor,
    verify,
)
from snnc.ir.attributes import decode_blob, format_float
from snnc.ir.diagnostics import CallSiteLoc, Diagnostic, NameLoc
from snnc.ir.opdef import FloatTensor, SpikeTensor

# --------------------------------------------------------------------- test ops (dialect "t")


class _Src(OpDef):
    """Test op: produces a float tensor."""

    name = "t.src"
    results = (Result("out", FloatTensor),)
    traits = frozenset({Trait.PURE})


class _Add(OpDef):
    """Test op: elementwise add."""

    name = "t.add"
    operands = (Operand("lhs", FloatTensor), Operand("rhs", FloatTensor))
    results = (Result("out", FloatTensor),)
    traits = frozenset({Trait.PURE})


class _Fire(OpDef):
    """Test op: spikes with a threshold attribute."""

    name = "t.fire"
    operands = (Operand("x", FloatTensor),)
    results = (Result("s", SpikeTensor),)
    attributes = (
        Attr("v_th", FloatAttr),
        Attr("reset", StringAttr, default="hard", choices=("hard", "soft")),
    )

    def verify_(self) -> None:
        if self.attr("v_th") <= 0:
            raise self.emit_error("v_th must be positive")


class _Delay(OpDef):
    """Test op: one-step delay."""

    name = "t.delay"
    operands = (Operand("x", FloatTensor),)
    results = (Result("y", FloatTensor),)
    traits = frozenset({Trait.DELAYED, Trait.STATEFUL})


class _Cat(OpDef):
    """Test op: variadic operands."""

    name = "t.cat"
    operands = (Operand("first", FloatTensor), Operand("rest", FloatTensor, variadic=True))
    results = (Result("out", FloatTensor),)


class _Graph(OpDef):
    """Test op: graph region."""

    name = "t.graph"
    num_regions = 1
    traits = frozenset({Trait.GRAPH_REGION})


T4 = tensor((4,), f32)


def _graph() -> tuple[ModuleOp, Block]:
    m = ModuleOp.empty()
    g = _Graph(regions=[Region([Block()])])
    m.body.append(g)
    return m, g.body


# --------------------------------------------------------------------- types


def test_type_text():
    assert str(tensor((2, 3), f32)) == "tensor<2x3xf32>"
    assert str(tensor((), f64)) == "tensor<f64>"
    assert str(tensor((-1, 4), i1)) == "tensor<?x4xi1>"
    assert str(tensor((5,), si2)) == "tensor<5xsi2>"
    assert str(IntegerType(8, "u")) == "ui8"
    assert str(OpaqueType("torch", "vtensor<[4,3],f32>")) == "!torch.vtensor<[4,3],f32>"
    assert str(FunctionType((T4,), (T4,))) == "(tensor<4xf32>) -> tensor<4xf32>"
    assert str(FunctionType((T4, T4), (T4, T4))) == "(tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)"
    assert tensor((2, 3)) == tensor((2, 3), f32) and hash(tensor((2, 3))) == hash(tensor((2, 3), f32))
    assert si2.value_range() == (-2, 1) and i1.value_range() == (0, 1)


# --------------------------------------------------------------------- attributes


@pytest.mark.parametrize(
    "value,type_,text",
    [
        (1.0, f32, "1.000000e+00"),
        (1e-4, f64, "1.000000e-04"),
        (0.1, f64, "1.000000e-01"),
        (0.123456789, f64, "0.123456789"),
        (-2.5, f32, "-2.500000e+00"),
        (math.inf, f32, "0x7F800000"),
        (-math.inf, f64, "0xFFF0000000000000"),
    ],
)
def test_float_format(value, type_, text):
    assert format_float(value, type_) == text


@pytest.mark.parametrize("bits", [0x3DCCCCCD, 0x3F800001, 0x00000001, 0x7F7FFFFF, 0xBEAAAAAB])
def test_float_format_round_trips_f32(bits):
    v = float(np.array(bits, dtype=np.uint32).view(np.float32))
    s = format_float(v, f32)
    assert "." in s or s.startswith("0x")
    assert float(np.float32(float(s))) == v


def test_float_attr_rounds_to_type():
    a = FloatAttr(0.1, f32)
    assert a.value == float(np.float32(0.1))
    assert FloatAttr(0.1, f32) == FloatAttr(float(np.float32(0.1)), f32)
    assert FloatAttr(0.1, f32) != FloatAttr(0.1, f64)


def test_attribute_text():
    assert str(IntegerAttr(5, i64)) == "5 : i64"
    assert str(BoolAttr(True)) == "true"
    # MLIR escapes '"' and control characters as two hex digits (llvm::printEscapedString).
    assert str(StringAttr('a"b\\c\n')) == '"a\\22b\\\\c\\0A"'
    assert str(UnitAttr()) == "unit"
    assert str(ArrayAttr((IntegerAttr(1), StringAttr("x")))) == '[1 : i64, "x"]'
    assert str(DenseArrayAttr(i64, (1, 2))) == "array<i64: 1, 2>"
    assert str(DenseArrayAttr(i64, ())) == "array<i64>"
    assert str(DictionaryAttr((("b", IntegerAttr(1)), ("a", UnitAttr())))) == "{a, b = 1 : i64}"
    d = DenseElementsAttr(tensor((2, 2), f32), np.array([[1, 2], [3, 4]]))
    assert str(d) == "dense<[[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>"
    assert str(DenseElementsAttr(tensor((3,), f32), np.full(3, 0.5))) == "dense<5.000000e-01> : tensor<3xf32>"
    assert str(DenseElementsAttr(tensor((2,), i1), np.array([True, False]))) == "dense<[true, false]> : tensor<2xi1>"


def test_dense_resource_blob_round_trip():
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    a = DenseResourceAttr("w0", tensor((2, 3), f32), data)
    hexa = a.blob_hex()
    assert hexa.startswith("0x04000000")
    assert np.array_equal(decode_blob(hexa, tensor((2, 3), f32)).reshape(2, 3), data)
    assert str(a) == "dense_resource<w0> : tensor<2x3xf32>"
    with pytest.raises(ValueError, match="needs 24"):
        decode_blob(hexa[:-2], tensor((2, 3), f32))
    with pytest.raises(ValueError):
        decode_blob("0xZZ", tensor((2, 3), f32))
    with pytest.raises(ValueError, match="does not fit"):
        DenseResourceAttr("w", tensor((2, 3), f32), np.zeros(5))


def test_tensor_attr_equality_and_immutability():
    a = DenseElementsAttr(tensor((2,), f32), np.array([1.0, 2.0]))
    b = DenseElementsAttr(tensor((2,), f32), np.array([1.0, 2.0], dtype=np.float64))
    assert a == b and hash(a) == hash(b)
    assert a != DenseElementsAttr(tensor((2,), f32), np.array([1.0, 3.0]))
    with pytest.raises(ValueError):
        a.data[0] = 5
    # The caller's array is neither frozen nor aliased.
    mine = np.array([1.0, 2.0], dtype=np.float32)
    c = DenseElementsAttr(tensor((2,), f32), mine)
    mine[0] = 7.0
    assert c.data[0] == 1.0 and mine.flags.writeable


# --------------------------------------------------------------------- use-def


def test_use_def_and_rewrites():
    m, body = _graph()
    b = Builder.at_end(body)
    x = b.create(_Src, result_types=[T4]).result
    y = b.create(_Src, result_types=[T4]).result
    add = b.create(_Add, [x, x], [T4])
    assert [u.index for u in x.uses] == [0, 1]
    assert x.users == [add]
    x.replace_all_uses_with(y)
    assert not x.uses and [u.index for u in y.uses] == [0, 1]
    assert add.operand("lhs") is y
    with pytest.raises(ValueError, match="still has uses"):
        y.defining_op().erase()
    add.erase()
    assert not y.uses
    x.defining_op().erase()
    assert len(body.ops) == 1


def test_variadic_accessors_and_clone():
    m, body = _graph()
    b = Builder.at_end(body)
    vals = [b.create(_Src, result_types=[T4]).result for _ in range(3)]
    cat = b.create(_Cat, vals, [T4])
    assert cat.operand("first") is vals[0]
    assert cat.operand_group("rest") == vals[1:]
    verify(m)
    m2 = m.clone()
    assert len(m2.body.ops[0].body.ops) == 4
    # Clone is independent: operands point to the clone's values.
    cat2 = m2.body.ops[0].body.ops[3]
    assert all(v.defining_op().parent is m2.body.ops[0].body for v in cat2.operands)


def test_clone_keeps_forward_references():
    m, body = _graph()
    b = Builder.at_end(body)
    src = b.create(_Src, result_types=[T4]).result
    # add uses the delay's result, defined after it (forward reference)
    add = _Add.create([src, src], [T4])
    body.append(add)
    delay = b.create(_Delay, [add.result], [T4])
    add.set_operand(1, delay.result)
    m2 = m.clone()
    body2 = m2.body.ops[0].body
    add2, delay2 = body2.ops[1], body2.ops[2]
    assert add2.operands[1] is delay2.result
    assert delay2.operands[0] is add2.result


# --------------------------------------------------------------------- verifier


def test_verifier_checks_signature_and_attributes():
    m, body = _graph()
    b = Builder.at_end(body)
    x = b.create(_Src, result_types=[T4]).result
    fire = b.create(_Fire, [x], [tensor((4,), i1)], {"v_th": FloatAttr(1.0, f32)})
    verify(m)
    assert fire.attr("reset") == "hard"

    fire.set_attr("reset", "sideways")
    with pytest.raises(DiagnosticError, match="attribute 'reset' must be one of 'hard', 'soft'"):
        verify(m)
    fire.set_attr("reset", "soft")
    fire.set_attr("v_th", FloatAttr(-1.0, f32))
    with pytest.raises(DiagnosticError, match="v_th must be positive"):
        verify(m)
    del fire.attributes["v_th"]
    with pytest.raises(DiagnosticError, match="requires attribute 'v_th'"):
        verify(m)
    fire.set_attr("v_th", IntegerAttr(1))
    with pytest.raises(DiagnosticError, match="attribute 'v_th' must be FloatAttr"):
        verify(m)


def test_verifier_checks_types_and_counts():
    m, body = _graph()
    b = Builder.at_end(body)
    x = b.create(_Src, result_types=[T4]).result
    b.create(_Fire, [x], [T4], {"v_th": 1.0})
    with pytest.raises(DiagnosticError, match=r"result #0 \('s'\) must be spike tensor"):
        verify(m)
    m, body = _graph()
    b = Builder.at_end(body)
    x = b.create(_Src, result_types=[T4]).result
    b.create(_Add, [x], [T4])
    with pytest.raises(DiagnosticError, match=r"expects 2 operand\(s\), has 1"):
        verify(m)


def test_cycle_without_delay_is_rejected_with_location():
    m, body = _graph()
    b = Builder.at_end(body)
    src = b.create(_Src, result_types=[T4]).result
    a1 = b.create(_Add, [src, src], [T4], location=FileLineColLoc("m.mlir", 3, 5))
    a2 = b.create(_Add, [a1.result, src], [T4], location=FileLineColLoc("m.mlir", 4, 5))
    a1.set_operand(1, a2.result)
    with pytest.raises(DiagnosticError) as ei:
        verify(m)
    text = ei.value.render({"m.mlir": "l1\nl2\n    %1 = add\n    %2 = add\n"})
    assert text.startswith("m.mlir:3:5: error: 't.add' op is on a cycle that does not pass through a delay")
    assert "    %1 = add\n    ^" in text
    assert "note: cycle continues through 't.add'" in text


def test_cycle_through_delay_orders_delay_first():
    m, body = _graph()
    b = Builder.at_end(body)
    src = b.create(_Src, result_types=[T4]).result
    add = b.create(_Add, [src, src], [T4])
    delay = b.create(_Delay, [add.result], [T4])
    add.set_operand(1, delay.result)
    verify(m)
    order = step_order(body)
    assert order.index(delay) < order.index(add)  # add reads the delay: delay first
    assert order.index(src.defining_op()) < order.index(add)
    assert set(map(id, order)) == set(map(id, body.ops))


def test_step_order_is_deterministic_for_forward_references():
    m, body = _graph()
    add = _Add.create([], [T4])
    body.append(add)
    s1 = _Src.create(result_types=[T4])
    s2 = _Src.create(result_types=[T4])
    body.append(s1)
    body.append(s2)
    add.set_operands([s1.result, s2.result])
    assert step_order(body) == [s1, s2, add]


def test_operand_from_outside_graph_rejected():
    m = ModuleOp.empty()
    outer = _Src.create(result_types=[T4])
    m.body.append(outer)
    g = _Graph(regions=[Region([Block()])])
    m.body.append(g)
    Builder.at_end(g.body).create(_Add, [outer.result, outer.result], [T4])
    with pytest.raises(DiagnosticError, match="defined outside the enclosing 't.graph'"):
        verify(m)


def test_duplicate_registration_is_an_error():
    with pytest.raises(TypeError, match="declared twice"):

        class _Again(OpDef):
            name = "t.src"


# --------------------------------------------------------------------- diagnostics


def test_diagnostic_rendering_forms():
    d = Diagnostic("error", "bad thing", FileLoc("net.nir", "lif1"))
    assert d.render() == "net.nir: error: node 'lif1': bad thing"
    d = Diagnostic("error", "whole file", FileLoc("net.nir"))
    assert d.render() == "net.nir: error: whole file"
    loc = CallSiteLoc(FileLineColLoc("model.py", 12, 1), FileLineColLoc("train.py", 3, 1))
    d = Diagnostic("error", "unsupported op", loc)
    assert d.render({"model.py": "\n" * 11 + "x = y @ z\n"}).splitlines() == [
        "model.py:12:1: error: unsupported op",
        "x = y @ z",
        "^",
    ]
    assert Diagnostic("warning", "w", NameLoc("n")).render() == "n: warning: w"
    assert NameLoc("n", FileLineColLoc("f", 1, 2)).to_mlir() == '"n"("f":1:2)'
