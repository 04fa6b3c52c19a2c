"""The spike dialect: verifiers of widths/shapes/ranges, printing and parsing back."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.dialects import DIALECTS, spike
from snnc.ir import DiagnosticError, verify
from snnc.ir.parser import parse_module
from snnc.ir.printer import print_module


def _graph(body: str, inp: str = "tensor<3xi1>") -> str:
    return f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> {inp}
{body}
  }}) {{sym_name = "g"}} : () -> ()
}}) : () -> ()
"""


GOOD = _graph("""
    %a = "spike.accumulate"(%x) {weight = dense<[[1, -2, 3], [7, -8, 0]]> : tensor<2x3xi4>} : (tensor<3xi1>) -> tensor<2xi16>
    %s = "spike.lif"(%a) {leak_mode = "mul", decay = 200 : i64, frac_bits = 8 : i64, membrane_bits = 12 : i64,
                          v_th = dense<[5, 6]> : tensor<2xi64>, reset = "soft", cmp = "gt"} : (tensor<2xi16>) -> tensor<2xi1>
    %l = "spike.li"(%a) {leak_shift = 2 : i64, membrane_bits = 10 : i64, bias = -3 : i64} : (tensor<2xi16>) -> tensor<2xi10>
    %r = "spike.requant"(%a) {shift = 2 : i64, rounding = "half_up"} : (tensor<2xi16>) -> tensor<2xi4>
    %d = "spike.dequantize"(%l) {scale = 2.500000e-01 : f64} : (tensor<2xi10>) -> tensor<2xf32>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
    "snn.output"(%r) {index = 1 : i64, name = "r"} : (tensor<2xi4>) -> ()
    "snn.output"(%d) {index = 2 : i64, name = "d"} : (tensor<2xf32>) -> ()
""")


def test_dialect_is_registered_and_documented():
    assert spike.DIALECT in DIALECTS
    for cls in spike.OPS:
        doc = cls.__doc__ or ""
        assert "Example::" in doc, cls.name
        assert cls.name.startswith("spike.")


def test_good_module_verifies_and_round_trips():
    m = parse_module(GOOD)
    verify(m)
    text = print_module(m)
    m2 = parse_module(text)
    verify(m2)
    assert print_module(m2) == text


def test_large_integer_weights_round_trip_through_resources():
    from snnc.passes import PassManager, Quantize

    text = _graph("""
    %l = "nn.linear"(%x) {weight = dense<[[0.5, -0.25, 1.0], [0.75, 0.0, -1.0], [0.1, 0.2, 0.3], [1.0, 1.0, 1.0],
                                         [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]]> : tensor<6x3xf32>} : (tensor<3xi1>) -> tensor<6xf32>
    %s = "snn.if"(%l) {v_th = 1.000000e+00 : f32} : (tensor<6xf32>) -> tensor<6xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<6xi1>) -> ()
""")
    m = parse_module(text)
    PassManager([Quantize(weight_bits=4)]).run(m)
    out = print_module(m)
    assert "dense_resource<" in out and "xi4>" in out
    m2 = parse_module(out)
    verify(m2)
    assert print_module(m2) == out


BAD = [
    ('"spike.accumulate"(%x) {weight = dense<[[true, false, true]]> : tensor<1x3xi1>} : (tensor<3xi1>) -> tensor<1xi16>',
     "weight element type must be a signed iW (W >= 2), got i1"),
    ('"spike.accumulate"(%x) {weight = dense<[[1, 2]]> : tensor<1x2xi4>} : (tensor<3xi1>) -> tensor<1xi16>',
     "input has 3 features but weight [1, 2] expects 2"),
    ('"spike.accumulate"(%x) {weight = dense<[[1, 2, 3]]> : tensor<1x3xi8>} : (tensor<3xi1>) -> tensor<1xi4>',
     "weight width 8 exceeds the accumulator width 4"),
    ('"spike.accumulate"(%x) {weight = dense<[[1, 2, 3]]> : tensor<1x3xi8>} : (tensor<3xi1>) -> tensor<1xi1>',
     "must be integer tensor (not i1/si2), got tensor<1xi1>"),
    ('"spike.lif"(%x) {v_th = 3 : i64} : (tensor<3xi1>) -> tensor<3xi1>', "operand #0"),
]

BAD_INT = [
    ('"spike.lif"(%x) {v_th = 300 : i64, membrane_bits = 8 : i64} : (tensor<3xi16>) -> tensor<3xi1>',
     "v_th must fit 8 signed bits [-128, 127], got [300, 300]"),
    ('"spike.lif"(%x) {v_th = 3 : i64, leak_shift = 8 : i64, membrane_bits = 8 : i64} : (tensor<3xi16>) -> tensor<3xi1>',
     "leak_shift must be in 0..7"),
    ('"spike.lif"(%x) {v_th = 3 : i64, leak_mode = "mul", membrane_bits = 8 : i64} : (tensor<3xi16>) -> tensor<3xi1>',
     "leak_mode 'mul' needs a 'decay'"),
    ('"spike.lif"(%x) {v_th = 3 : i64, leak_mode = "mul", decay = 300 : i64, frac_bits = 8 : i64} '
     ': (tensor<3xi16>) -> tensor<3xi1>', "decay must be in 0..2^frac_bits = 256"),
    ('"spike.lif"(%x) {v_th = dense<[1, 2]> : tensor<2xi64>} : (tensor<3xi16>) -> tensor<3xi1>',
     "parameter 'v_th' of shape [2] does not broadcast to [3]"),
    ('"spike.lif"(%x) {v_th = 1 : i64, membrane_bits = 60 : i64} : (tensor<3xi16>) -> tensor<3xi1>',
     "membrane_bits must be in 2..48"),
    ('"spike.li"(%x) {membrane_bits = 12 : i64} : (tensor<3xi16>) -> tensor<3xi16>',
     "result width 16 must equal membrane_bits 12"),
    ('"spike.requant"(%x) {shift = 70 : i64} : (tensor<3xi16>) -> tensor<3xi8>', "shift must be in -62..62"),
    ('"spike.add"(%x, %x) : (tensor<3xi16>, tensor<3xi16>) -> tensor<4xi16>',
     "result shape [4] does not match the expected shape [3]"),
]

BAD_SPIKES = [
    ('"spike.popcount"(%x) {axes = array<i64: 0>} : (tensor<2x200xi1>) -> tensor<200xi2>',
     "result width 2 cannot hold a count of up to 2"),
    ('"spike.popcount"(%x) {axes = array<i64: 1>} : (tensor<2x200xi1>) -> tensor<2xi8>',
     "result width 8 cannot hold a count of up to 200"),
    ('"spike.and"(%x, %x) : (tensor<2x200xi1>, tensor<2x200xi1>) -> tensor<2x200xi8>', "result"),
]


def _check_bad(body: str, msg: str, inp: str) -> None:
    m = parse_module(_graph(f"    %y = {body}", inp))
    with pytest.raises(DiagnosticError) as e:
        verify(m)
    assert msg in str(e.value), str(e.value)


@pytest.mark.parametrize(("body", "msg"), BAD)
def test_verifier_rejects_spike_inputs(body, msg):
    _check_bad(body, msg, "tensor<3xi1>")


@pytest.mark.parametrize(("body", "msg"), BAD_INT)
def test_verifier_rejects_int_inputs(body, msg):
    _check_bad(body, msg, "tensor<3xi16>")


@pytest.mark.parametrize(("body", "msg"), BAD_SPIKES)
def test_verifier_rejects_counts(body, msg):
    _check_bad(body, msg, "tensor<2x200xi1>")


def test_weights_outside_their_width_are_rejected():
    """The parser wraps ``dense<9> : i4`` to -7 (as MLIR does); a builder can still store 9."""
    from snnc.ir.attributes import DenseElementsAttr
    from snnc.ir.types import IntegerType, TensorType

    m = parse_module(_graph(
        '    %y = "spike.accumulate"(%x) {weight = dense<[[1, 2, 3]]> : tensor<1x3xi4>} : (tensor<3xi1>) -> tensor<1xi16>'))
    op = m.body.ops[0].body.ops[1]
    op.set_attr("weight", DenseElementsAttr(TensorType((1, 3), IntegerType(4)), np.array([[1, 9, 3]])))
    with pytest.raises(DiagnosticError, match=r"weight values must lie in \[-8, 7\] \(4-bit signed\), got \[1, 9\]"):
        verify(m)


def test_conv_verifier_checks_channels_and_output_shape():
    body = ('"spike.accumulate_conv2d"(%x) {weight = dense<1> : tensor<4x3x3x3xi8>} : (tensor<2x8x8xi1>) -> '
            'tensor<4x6x6xi32>')
    _check_bad(body, "input has 2 channels", "tensor<2x8x8xi1>")
    body = ('"spike.accumulate_conv2d"(%x) {weight = dense<1> : tensor<4x2x3x3xi8>} : (tensor<2x8x8xi1>) -> '
            'tensor<4x8x8xi32>')
    _check_bad(body, "result shape [4, 8, 8] does not match the expected shape [4, 6, 6]", "tensor<2x8x8xi1>")


def test_quantize_op_saturates_and_rounds_half_even():
    from snnc.interp import run

    m = parse_module(_graph("""
    %q = "spike.quantize"(%x) {scale = 2.000000e+00 : f64} : (tensor<5xf32>) -> tensor<5xi4>
    "snn.output"(%q) {index = 0 : i64, name = "q"} : (tensor<5xi4>) -> ()
""", "tensor<5xf32>"))
    out = run(m, {"x": np.array([[0.25, 0.75, -1.25, 100.0, -100.0]])}).outputs["q"]
    # 0.5 -> 0, 1.5 -> 2, -2.5 -> -2 (half to even); saturation to [-8, 7]
    assert out.tolist() == [[0, 2, -2, 7, -8]]
