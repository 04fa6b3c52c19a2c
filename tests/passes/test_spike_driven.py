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


FUSED_SRC = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<8x8xf32>
    %q = "snn.lif"(%x) {LIF1} : (tensor<8x8xf32>) -> tensor<8x8xi1>
    %kv = "nn.matmul"(%q, %x) : (tensor<8x8xi1>, tensor<8x8xf32>) -> tensor<8x8xf32>
    %u = "snn.fused"(%kv, %x) ({
    ^bb0(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>):
      %m = "nn.mul"(%a, %a) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
      %e = "nn.mul"(%b, %b) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
      %s = "nn.add"(%m, %e) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
      "snn.yield"(%s) : (tensor<8x8xf32>) -> ()
    }) {kind = "stateless", name = "u"} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
    "snn.output"(%u) {index = 0 : i64, name = "y"} : (tensor<8x8xf32>) -> ()
  }) {sym_name = "g"} : () -> ()
}) : () -> ()
""".replace("LIF1", LIF.format(th="1.0"))


def test_reach_flows_into_fused_unit_bodies():
    """Inside an snn.fused body, operands are block arguments: the check follows each to the unit's operand, so a
    product of a spike-reached real value is a finding and a product of the raw input (encoding layer) is not."""
    found = non_spike_products(_module(FUSED_SRC))
    assert len(found) == 1
    op, _ = found[0]
    assert op.operands[0].index == 0  # the product of %a (from %kv, reached by spikes), not of %b (the input %x)
    with pytest.raises(DiagnosticError, match="not spike-driven"):
        PassManager.parse("spike-driven{strict=true}").run(_module(FUSED_SRC))


def test_findings_inside_fused_units_are_kept():
    """fuse-lif moves the product into an snn.fused unit whose body sees it through block arguments: the check
    follows the unit's operands into the body, so the finding survives fusion (and the encoding layer stays exempt)."""
    before = non_spike_products(_module())
    m = _module()
    PassManager.parse("fuse-lif").run(m)
    assert any(op.op_name == "snn.fused" for op in m.walk())
    after = non_spike_products(m)
    assert [op.op_name for op, _ in after] == [op.op_name for op, _ in before] == ["nn.mul"]
    assert after[0][0].parent_op is not None  # the same product, now inside a unit
    with pytest.raises(DiagnosticError, match="not spike-driven"):
        PassManager.parse("fuse-lif,spike-driven{strict=true}").run(_module())
