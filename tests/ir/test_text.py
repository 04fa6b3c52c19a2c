"""The MLIR generic text: printer layout, parser features, diagnostics, fuzzing, speed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from text_helpers import modules

from snnc.ir import (
    ArrayAttr,
    DenseElementsAttr,
    DenseResourceAttr,
    DiagnosticError,
    FileLineColLoc,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    OpaqueType,
    StringAttr,
    f16,
    f32,
    f64,
    i1,
    i8,
    i32,
    i64,
    parse_file,
    parse_module,
    print_module,
    tensor,
    value_names,
)
from snnc.ir.attributes import format_float
from snnc.ir.core import Block, Region
from snnc.ir.diagnostics import CallSiteLoc, NameLoc, UnknownLoc
from snnc.ir.opdef import make_op


def _module(*ops):
    m = ModuleOp.empty()
    for op in ops:
        m.body.append(op)
    return m


def _err(text: str) -> DiagnosticError:
    with pytest.raises(DiagnosticError) as info:
        parse_module(text, "t.mlir")
    return info.value


# --------------------------------------------------------------------------- printer


def test_printer_layout_and_numbering() -> None:
    a = make_op("test.a", [], [tensor([2], f32)], {"z": 1, "a": "s"})
    inner = Block([f32])
    use = make_op("test.use", [inner.args[0], a.results[0]], [], {})
    inner.append(use)
    pair = make_op("test.pair", [a.results[0]], [f32, i1], {}, regions=[Region([inner])], properties={"p": True})
    last = make_op("test.last", [pair.results[1]], [], {})
    text = print_module(_module(a, pair, last))
    assert text == (
        '"builtin.module"() ({\n'
        '  %0 = "test.a"() {a = "s", z = 1 : i64} : () -> tensor<2xf32>\n'
        '  %1:2 = "test.pair"(%0) <{p = true}> ({\n'
        "  ^bb0(%arg0: f32):\n"
        '    "test.use"(%arg0, %0) : (f32, tensor<2xf32>) -> ()\n'
        "  }) : (tensor<2xf32>) -> (f32, i1)\n"
        '  "test.last"(%1#1) : (i1) -> ()\n'
        "}) : () -> ()\n"
    )


def test_value_names_match_printer() -> None:
    a = make_op("test.a", [], [f32, f32], {})
    b = make_op("test.b", [a.results[1]], [f32], {})
    m = _module(a, b)
    names = value_names(m)
    assert names[a.results[0]] == "%0#0" and names[a.results[1]] == "%0#1" and names[b.results[0]] == "%1"
    assert '"test.b"(%0#1)' in print_module(m)


def test_nested_regions_numbered_like_mlir() -> None:
    # MLIR numbers a region's own values first, then nested regions from a stack.
    text = (
        '"builtin.module"() ({\n'
        '  %0 = "x.a"() ({\n'
        '    %3 = "x.in"() : () -> f32\n'
        "  }) : () -> f32\n"
        '  %1 = "x.b"() ({\n'
        '    %2 = "x.in"() : () -> f32\n'
        "  }) : () -> f32\n"
        "}) : () -> ()\n"
    )
    assert print_module(parse_module(text)) == text


def test_locations_printed_and_read_back() -> None:
    loc = CallSiteLoc(NameLoc("conv", FileLineColLoc("m.py", 3, 4)), FileLineColLoc("t.py", 7, 0))
    op = make_op("test.a", [], [f32], {}, location=loc)
    text = print_module(_module(op), locations=True)
    assert 'loc(callsite("conv"("m.py":3:4) at "t.py":7:0))' in text
    assert text.rstrip().endswith("loc(unknown)")
    assert parse_module(text).body.ops[0].location == loc


def test_floats_match_mlir_text() -> None:
    assert format_float(0.1, f32) == "1.000000e-01"
    assert format_float(0.1, f64) == "1.000000e-01"
    assert format_float(0.123456789, f64) == "0.123456789"
    assert format_float(123456789.0, f64) == "0x419D6F3454000000"
    assert format_float(1.2345678901234567e300, f64) == "1.2345678901234567E+300"
    assert format_float(float("inf"), f32) == "0x7F800000"
    assert format_float(5e-324, f64) == "4.940660e-324"
    assert format_float(1 / 3, f32) == "0.333333343"
    assert format_float(-0.0, f16) == "-0.000000e+00"


def test_attribute_text() -> None:
    op = make_op(
        "test.a",
        attributes={
            "i8": IntegerAttr(255, i8),
            "b": IntegerAttr(1, i1),
            "s": StringAttr('a\n"é\\'),
            "arr": ArrayAttr(
                (IntegerAttr(1, i64), FloatAttr(2.0, f64), FloatAttr(float("inf"), f64), IntegerAttr(3, i8))
            ),
            "empty": DenseElementsAttr(tensor([2, 0], f32), np.zeros((2, 0), np.float32)),
            "splat": DenseElementsAttr(tensor([3], f32), np.ones(3, np.float32)),
            "negzero": DenseElementsAttr(tensor([2], f32), np.array([0.0, -0.0], np.float32)),
            "big": DenseElementsAttr(tensor([101], i8), np.arange(101, dtype=np.int8)),
        },
    )
    text = print_module(_module(op))
    assert "i8 = -1 : i8" in text and "b = true" in text
    assert 's = "a\\0A\\22\\C3\\A9\\\\"' in text
    assert "arr = [1, 2.000000e+00, 0x7FF0000000000000 : f64, 3 : i8]" in text
    assert "empty = dense<> : tensor<2x0xf32>" in text
    assert "splat = dense<1.000000e+00> : tensor<3xf32>" in text
    assert "negzero = dense<[0.000000e+00, -0.000000e+00]> : tensor<2xf32>" in text
    assert 'big = dense<"0x000102' in text
    again = parse_module(text)
    assert print_module(again) == text
    assert again.body.ops[0].attributes["big"] == op.attributes["big"]


def test_resource_section_and_handle_dedup() -> None:
    w1 = DenseResourceAttr("w", tensor([2], f32), np.array([1, 2], np.float32))
    w2 = DenseResourceAttr("w", tensor([2], f32), np.array([3, 4], np.float32))
    w1b = DenseResourceAttr("w", tensor([2], f32), np.array([1, 2], np.float32))
    taken = DenseResourceAttr("w_1", tensor([1], f32), np.array([9], np.float32))
    ops = [make_op("test.c", attributes={"v": a}) for a in (w1, w2, w1b, taken)]
    m = _module(*ops)
    text = print_module(m)
    assert text.endswith(
        "}) : () -> ()\n\n{-#\n  dialect_resources: {\n    builtin: {\n"
        '      w: "0x040000000000803F00000040",\n'
        '      w_2: "0x040000000000404000008040",\n'
        '      w_1: "0x0400000000001041"\n'
        "    }\n  }\n#-}\n"
    )
    assert "dense_resource<w_2>" in text
    assert [op.attributes["v"].handle for op in m.body.ops] == ["w", "w", "w", "w_1"]  # IR unchanged
    back = parse_module(text)
    assert [np.asarray(op.attributes["v"].value).tolist() for op in back.body.ops] == [[1, 2], [3, 4], [1, 2], [9]]
    assert print_module(back) == text


# --------------------------------------------------------------------------- parser


def test_implicit_module_comments_and_forward_refs() -> None:
    text = '// a comment\n"test.use"(%y#1) : (i1) -> ()  // trailing comment\n%y:2 = "test.def"() : () -> (f32, i1)\n'
    m = parse_module(text, "f.mlir")
    assert isinstance(m, ModuleOp)
    use, d = m.body.ops
    assert use.operands[0] is d.results[1]
    assert use.location == FileLineColLoc("f.mlir", 2, 1)
    assert d.location == FileLineColLoc("f.mlir", 3, 1)


def test_torch_style_input() -> None:
    text = (
        '#loc1 = loc("a.py":1:2)\n'
        '"builtin.module"() ({\n'
        '  "func.func"() <{function_type = (!torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,3],f32>, sym_name = "main"}> ({\n'
        "  ^bb0(%arg0: !torch.vtensor<[2,3],f32> loc(callsite(#loc1 at #loc2))):\n"
        '    %0 = "torch.vtensor.literal"() <{value = dense_resource<torch_tensor_3_torch.float32_1> : tensor<3xf32>}> : () -> !torch.vtensor<[3],f32> loc(#loc3)\n'
        '    "func.return"(%arg0) : (!torch.vtensor<[2,3],f32>) -> () loc(unknown)\n'
        "  }) : () -> () loc(#loc3)\n"
        "}) : () -> () loc(#loc)\n"
        "#loc = loc(unknown)\n"
        '#loc2 = loc("b.py":3:0)\n'
        "#loc3 = loc(fused[#loc1, #loc2])\n"
        "\n{-#\n  dialect_resources: {\n    builtin: {\n"
        '      torch_tensor_3_torch.float32_1: "0x040000000000803F0000803F0000803F"\n'
        "    }\n  }\n#-}\n"
    )
    m = parse_module(text)
    func = m.body.ops[0]
    assert func.properties is not None and func.properties["sym_name"] == StringAttr("main")
    arg = func.regions[0].blocks[0].args[0]
    assert arg.type == OpaqueType("torch", "vtensor<[2,3],f32>")
    assert arg.location == CallSiteLoc(FileLineColLoc("a.py", 1, 2), FileLineColLoc("b.py", 3, 0))
    lit = func.regions[0].blocks[0].ops[0]
    assert lit.properties["value"].value.tolist() == [1.0, 1.0, 1.0]
    assert isinstance(m.location, UnknownLoc)
    assert print_module(parse_module(print_module(m, locations=True)), locations=True) == print_module(
        m, locations=True
    )


def test_dense_forms() -> None:
    m = parse_module(
        '"t.a"() {a = dense<"0x0000803F"> : tensor<3xf32>, b = dense<"0x0000803F00000040"> : tensor<2xf32>, '
        "c = dense<[[1, 2], [3, 4]]> : tensor<2x2xi32>, d = dense<[true, false]> : tensor<2xi1>, "
        "e = dense<0x7FC00000> : tensor<2xf32>, f = array<i1: true, false>} : () -> ()"
    )
    attrs = m.body.ops[0].attributes
    assert attrs["a"].value.tolist() == [1.0, 1.0, 1.0]
    assert attrs["b"].value.tolist() == [1.0, 2.0]
    assert attrs["c"].value.tolist() == [[1, 2], [3, 4]]
    assert attrs["d"].value.tolist() == [True, False]
    assert np.isnan(attrs["e"].value).all()
    assert attrs["f"].value == (1, 0)


def test_registered_ops_get_their_class() -> None:
    import snnc.dialects  # noqa: F401
    from snnc.ir.opdef import OpDef

    name = next(n for n in sorted(OpDef.registry) if n.startswith("snn."))
    m = parse_module(f'"{name}"() : () -> ()')
    assert type(m.body.ops[0]) is OpDef.registry[name]


def test_empty_module_roundtrip() -> None:
    text = print_module(ModuleOp.empty())
    assert text == '"builtin.module"() ({\n}) : () -> ()\n'
    m = parse_module(text)
    assert len(m.regions[0].blocks) == 1 and not m.body.ops
    assert print_module(parse_module("")) == text


def test_parse_file(tmp_path) -> None:
    p = tmp_path / "m.mlir"
    p.write_text('"t.a"(%0) : (f32) -> ()\n')
    with pytest.raises(DiagnosticError) as info:
        parse_file(p)
    rendered = info.value.render()
    assert f"{p}:1:7: error: use of undefined value '%0'" in rendered
    assert rendered.splitlines()[1:] == ['"t.a"(%0) : (f32) -> ()', "      ^"]
    with pytest.raises(DiagnosticError):
        parse_file(tmp_path / "missing.mlir")


# --------------------------------------------------------------------------- diagnostics


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('"t.a"(%4) : (f32) -> ()', (1, 7), "use of undefined value '%4'"),
        ('%2 = "t.a"() : () -> f32\n%2 = "t.a"() : () -> f32', (2, 1), "redefinition of SSA value '%2'"),
        (
            '%3 = "t.a"() : () -> tensor<2xi1>\n"t.b"(%3) : (tensor<2xf32>) -> ()',
            (2, 7),
            "use of value '%3' expects different type than prior uses: 'tensor<2xf32>' vs 'tensor<2xi1>'",
        ),
        ('%0 = "t.a"() : () -> f32\n"t.b"(%0, %0) : (f32) -> ()', (2, 1), "expected 2 operand types but had 1"),
        ('"t.a"() {v = dense_resource<nope> : tensor<2xf32>} : () -> ()', (1, 29), "unknown resource handle 'nope'"),
        (
            '"t.a"() {v = dense_resource<w> : tensor<2xf32>} : () -> ()\n{-#\n dialect_resources: { builtin: { w: "0x0400000000" } }\n#-}',
            (3, 37),
            "malformed resource blob 'w': resource blob holds 1 bytes but tensor<2xf32> needs 8",
        ),
        ('"snn.lifx"() : () -> ()', (1, 1), "unknown operation 'snn.lifx'"),
        ('"t.a"(%0 : () -> ()', (1, 10), "expected one of ')', ',', got ':'"),
        ('"t.a"() : () -> ()\n"t.b"() : () ->', (2, 16), "got end of input"),
        ('"t.a"() {a = 300 : i8} : () -> ()', (1, 14), "integer constant out of range for attribute of type 'i8'"),
        ('"t.a"() {a = 1 : f32} : () -> ()', (1, 14), "unexpected decimal integer literal for a floating point value"),
        ('%0:2 = "t.a"() : () -> f32', (1, 1), "operation defines 1 results but was provided 2 to bind"),
        ('"t.a"() $ : () -> ()', (1, 9), "unexpected character '$'"),
        ('"t.a"() : () -> () loc(#nope)', (1, 24), "undefined location alias '#nope'"),
        ('"t.a"() {d = dense<[1.0, 2.0]> : tensor<3xf32>} : () -> ()', (1, 14), "does not match type"),
        ('"t.a"() {a = "\\q"} : () -> ()', (1, 14), "unknown escape in string literal"),
        ('"t.a"() {a = 1e5 : f16} : () -> ()', (1, 15), "expected"),
        ('"t.a"() {a = 1.0e5 : f16} : () -> ()', (1, 14), "floating point value too large for attribute of type 'f16'"),
        ('"t.a"() ({\n^bb0:\n^bb0:\n}) : () -> ()', (3, 1), "redefinition of block '^bb0'"),
    ],
)
def test_diagnostics(text: str, where: tuple[int, int], message: str) -> None:
    err = _err(text)
    loc = err.diagnostics[0].location
    assert isinstance(loc, FileLineColLoc) and (loc.file, loc.line, loc.col) == ("t.mlir", *where)
    assert message in err.diagnostics[0].message
    rendered = err.render({"t.mlir": text})
    lines = rendered.splitlines()
    assert lines[0].startswith(f"t.mlir:{where[0]}:{where[1]}: error: ")
    assert lines[1] == text.splitlines()[where[0] - 1] if where[0] <= len(text.splitlines()) else True
    assert lines[2] == " " * (where[1] - 1) + "^" if where[0] <= len(text.splitlines()) else True


def test_forward_reference_type_conflict() -> None:
    err = _err('"t.b"(%0) : (f32) -> ()\n%0 = "t.a"() : () -> i32')
    assert err.diagnostics[0].message == "definition of SSA value '%0' has type 'i32'"
    assert err.diagnostics[0].notes[0].message == "previously used here with type 'f32'"


def test_scoping_inner_values_are_not_visible_outside() -> None:
    err = _err('"t.a"() ({\n  %1 = "t.in"() : () -> f32\n}) : () -> ()\n"t.use"(%1) : (f32) -> ()')
    assert err.diagnostics[0].message == "use of undefined value '%1'"


# --------------------------------------------------------------------------- fuzzing


VALID = print_module(
    _module(
        make_op(
            "t.a", [], [tensor([2], f32)], {"v": DenseElementsAttr(tensor([2], f32), np.array([1, 2], np.float32))}
        ),
        make_op("t.r", [], [], {"w": DenseResourceAttr("w", tensor([2], i8), np.array([1, 2], np.int8))}),
    ),
    locations=True,
)

_ALPHABET = st.sampled_from(
    list('%^#!@"(){}[]<>:,=-.0123456789abcdefxyz \n\\') + ["->", "{-#", "#-}", "loc(", "dense<", "tensor<", "\x00", "é"]
)


def _parses_or_diagnoses(text: str) -> None:
    try:
        m = parse_module(text, "fuzz.mlir")
    except DiagnosticError as exc:
        exc.render({"fuzz.mlir": text})
        return
    out = print_module(m)
    assert print_module(parse_module(out)) == out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_fuzz_garbage(text: str) -> None:
    _parses_or_diagnoses(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutations(data) -> None:
    text = VALID
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["delete", "insert", "replace", "cut"]))
        if kind == "delete":
            text = text[:pos] + text[pos + 1 :]
        elif kind == "insert":
            text = text[:pos] + data.draw(_ALPHABET) + text[pos:]
        elif kind == "replace":
            text = text[:pos] + data.draw(_ALPHABET) + text[pos + 1 :]
        else:
            text = text[:pos]
    _parses_or_diagnoses(text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(modules(), st.data())
def test_fuzz_mutated_random_modules(module, data) -> None:
    text = print_module(module)
    pos = data.draw(st.integers(0, len(text)))
    _parses_or_diagnoses(text[:pos] + data.draw(_ALPHABET) + text[pos + 1 :])


def test_deep_nesting_is_a_diagnostic() -> None:
    _parses_or_diagnoses('"t.a"() {a = ' + "[" * 5000 + "]" * 5000 + "} : () -> ()")


# --------------------------------------------------------------------------- size


def test_large_module_parses() -> None:
    """2,000 ops and a 1M-element dense_resource parse (speed: benchmarks/bench_text.py)."""
    w = DenseResourceAttr("w0", tensor([1000, 1000], f32), np.arange(1_000_000, dtype=np.float32))
    ops = [make_op("x.const", [], [tensor([1000, 1000], f32)], {"value": w})]
    for i in range(2000):
        prev = ops[-1].results[0]
        ops.append(make_op("x.add", [prev, prev], [tensor([1000, 1000], f32)], {"alpha": FloatAttr(0.5, f32), "n": i}))
    text = print_module(_module(*ops))
    m = parse_module(text)
    assert len(m.body.ops) == 2001
    assert m.body.ops[0].attributes["value"].value[999, 999] == 999_999.0


def test_foreign_dialects_are_generic() -> None:
    m = parse_module(
        '%0 = "builtin.unrealized_conversion_cast"() : () -> f32\n'
        '%1 = "torch.aten.whatever"(%0) : (f32) -> !torch.vtensor<[1],f32>\n'
    )
    assert [op.op_name for op in m.body.ops] == ["builtin.unrealized_conversion_cast", "torch.aten.whatever"]
    assert type(m.body.ops[1]).__name__ == "Operation"


def test_custom_syntax_and_unterminated_string_messages() -> None:
    err = _err("module {\n}")
    assert "custom operation syntax ('module') is not supported" in err.diagnostics[0].message
    err = _err('%0 = "t.a"() : () -> f32\n%1 = arith.addf %0, %0 : f32')
    assert "custom operation syntax ('arith.addf')" in err.diagnostics[0].message
    assert err.diagnostics[0].location == FileLineColLoc("t.mlir", 2, 6)
    err = _err('"t.a"() {s = "abc} : () -> ()')
    assert err.diagnostics[0].message.startswith("unterminated string literal")


def test_attribute_aliases_and_misc_literals() -> None:
    m = parse_module(
        '#cfg = {mode = "fast", n = 3 : i32}\n'
        '"t.a"() {c = #cfg, h = 0xFF : i32, s = @"a b", t = !torch.vtensor<[?,3],f32>, u, '
        "f = (f32, !torch.int) -> (i1, tensor<?x2xf32>)} : () -> ()"
    )
    attrs = m.body.ops[0].attributes
    assert attrs["c"].value["n"] == IntegerAttr(3, i32)
    assert attrs["h"] == IntegerAttr(255, i32)
    assert attrs["s"].value == "a b"
    assert str(attrs["t"].value) == "!torch.vtensor<[?,3],f32>"
    assert str(attrs["f"].value) == "(f32, !torch.int) -> (i1, tensor<?x2xf32>)"
    text = print_module(m)
    assert 'c = {mode = "fast", n = 3 : i32}' in text and "h = 255 : i32" in text and 's = @"a b"' in text
