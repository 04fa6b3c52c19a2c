import pytest

from snnc.ir import verify
from snnc.ir.diagnostics import DiagnosticError
from snnc.ir.parser import parse_module
from snnc.passes import PassManager, SpikeDriven
from snnc.passes.spike_driven import non_spike_products

LIF = 'alpha = 0.5 : f64, beta = 0.5 : f64, gamma = 0.0 : f64, v_th = {th} : f64, v_reset = 0.0 : f64, reset = "hard", cmp = "ge"'

SRC = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<8x8xf32>
    %enc = "nn.matmul"(%x, %x) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    %q = "snn.lif"(%enc) {LIF1} : (tensor<8x8xf32>) -> tensor<8x8xi1>
    %kv = "nn.matmul"(%q, %enc) : (tensor<8x8xi1>, tensor<8x8xf32>) -> tensor<8x8xf32>
    %bad = "nn.mul"(%kv, %kv) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    %c = "nn.constant"() {value = dense<0.125> : tensor<8x8xf32>} : () -> tensor<8x8xf32>
    %s = "nn.mul"(%bad, %c) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    "snn.output"(%s) {index = 0 : i64, name = "y"} : (tensor<8x8xf32>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
""".replace("LIF1", LIF.format(th="1.0"))


def _module(src=SRC):
    m = parse_module(src)
    verify(m)
    return m


def test_lists_only_non_spike_products_past_encoding():
    found = non_spike_products(_module())
    # %enc (encoding layer), %kv (a spike operand) and %s (constant scale) are not findings
    assert len(found) == 1
    op, msg = found[0]
    assert op.op_name == "nn.mul" and "non-spike" in msg


def test_pass_non_strict_keeps_ir_and_records():
    m = _module()
    p = SpikeDriven()
    PassManager([p]).run(m)
    assert len(p.findings) == 1


def test_strict_raises():
    with pytest.raises(DiagnosticError, match="not spike-driven"):
        PassManager.parse("spike-driven{strict=true}").run(_module())


def test_clean_graph_passes_strict():
    src = SRC.replace('"nn.mul"(%kv, %kv)', '"nn.mul"(%kv, %c)').replace(
        '%c = "nn.constant"() {value = dense<0.125> : tensor<8x8xf32>} : () -> tensor<8x8xf32>\n', ""
    )
    # move the constant before its first use
    src = src.replace(
        '    %kv =', '    %c = "nn.constant"() {value = dense<0.125> : tensor<8x8xf32>} : () -> tensor<8x8xf32>\n    %kv ='
    )
    m = _module(src)
    p = SpikeDriven(strict=True)
    PassManager([p]).run(m)
    assert p.findings == []
