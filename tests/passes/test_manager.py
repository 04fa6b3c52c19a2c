"""The pass manager: registry, pipeline text, options, verification after each pass, dumps, timing."""

from __future__ import annotations

import enum
import io
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from passes_helpers import GraphBuilder

from snnc.ir import DiagnosticError, ModuleOp
from snnc.passes import Canonicalize, Pass, PassManager, parse_pipeline, pipeline_to_text
from snnc.passes.manager import PIPELINE_FILE, write_timing_report


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclass
class OptionsProbe(Pass):
    """A test pass with one option of each supported type; does nothing."""

    name: ClassVar[str] = "test-options"
    weight_bits: int = 8
    ratio: float = 0.5
    enabled: bool = False
    label: str = "x"
    mode: Mode = Mode.FAST

    def run(self, module: ModuleOp) -> None:
        pass


@dataclass
class BreakIR(Pass):
    """A test pass that makes the IR invalid (drops a required attribute)."""

    name: ClassVar[str] = "test-break-ir"

    def run(self, module: ModuleOp) -> None:
        for op in module.walk():
            if op.op_name == "snn.lif":
                del op.attributes["alpha"]


@dataclass
class RaiseDiag(Pass):
    """A test pass that reports a diagnostic."""

    name: ClassVar[str] = "test-diag"

    def run(self, module: ModuleOp) -> None:
        raise module.emit_error("cannot do that")


def _module():
    g = GraphBuilder()
    x = g.input((3,))
    g.output(g.lif(g.op("nn.relu", [x], x.type)))
    return g.module


def test_registry_is_built_from_subclasses():
    assert Pass.registry["canonicalize"] is Canonicalize
    assert Pass.registry["test-options"] is OptionsProbe


def test_non_kebab_names_are_rejected():
    with pytest.raises(TypeError, match="kebab-case"):

        @dataclass
        class Bad(Pass):
            name: ClassVar[str] = "Bad_Name"


def test_options_are_converted_to_field_types():
    (p,) = parse_pipeline("test-options{weight-bits=4,ratio=0.25,enabled=true,label=hello,mode=slow}")
    assert p == OptionsProbe(weight_bits=4, ratio=0.25, enabled=True, label="hello", mode=Mode.SLOW)
    (q,) = parse_pipeline('test-options{weight-bits=0x10 enabled=0 label="a b,c"}')
    assert (q.weight_bits, q.enabled, q.label) == (16, False, "a b,c")


def test_pipeline_forms():
    assert parse_pipeline("") == []
    assert parse_pipeline("  ") == []
    ps = parse_pipeline("builtin.module(canonicalize, test-options{label=y})")
    assert [type(p) for p in ps] == [Canonicalize, OptionsProbe]
    assert parse_pipeline("canonicalize,canonicalize{fold=false}")[1].fold is False
    assert parse_pipeline("builtin.module()") == []


def test_pipeline_text_round_trips():
    ps = parse_pipeline("canonicalize{max-iterations=3},test-options{mode=slow,label=\"a b\"}")
    text = pipeline_to_text(ps)
    assert text == 'canonicalize{max-iterations=3},test-options{label="a b",mode=slow}'
    assert parse_pipeline(text) == ps


@pytest.mark.parametrize(
    "text, col, message",
    [
        ("nope", 1, "unknown pass 'nope' (known passes: attention-mask-add, canonicalize"),
        ("canonicalize,nope{a=1}", 14, "unknown pass 'nope'"),
        ("canonicalize{bogus=1}", 14, "pass 'canonicalize' has no option 'bogus' (its options: max-iterations, fold, dce, fold-limit, fold-bn)"),
        ("canonicalize{fold=maybe}", 19, "bad value for option 'fold' of pass 'canonicalize': expected true or false, got 'maybe'"),
        ("test-options{weight-bits=eight}", 26, "bad value for option 'weight-bits' of pass 'test-options': expected an integer, got 'eight'"),
        ("test-options{ratio=x}", 20, "expected a number, got 'x'"),
        ("test-options{mode=medium}", 19, "expected one of fast, slow, got 'medium'"),
        ("canonicalize{fold}", 18, "expected '=' after option 'fold'"),
        ("canonicalize{fold=true", 23, "expected '}' to close the options of pass 'canonicalize'"),
        ("canonicalize,", 14, "expected a pass name, found end of pipeline"),
        ("builtin.module(canonicalize", 28, "expected ')' to close 'builtin.module('"),
        ("canonicalize)", 13, "unexpected ')' after pass pipeline"),
        ("canonicalize{max-iterations=0}", 1, "bad options for pass 'canonicalize': max-iterations must be at least 1"),
    ],
)
def test_pipeline_errors_are_located_diagnostics(text, col, message):
    with pytest.raises(DiagnosticError) as ei:
        parse_pipeline(text)
    d = ei.value.diagnostics[0]
    assert message in d.message
    assert d.location.file_line_col().col == col
    rendered = ei.value.render({PIPELINE_FILE: text})
    lines = rendered.splitlines()
    assert lines[0].startswith(f"{PIPELINE_FILE}:1:{col}: error: ")
    assert lines[1] == text
    assert lines[2] == " " * (col - 1) + "^"


def test_verifier_runs_after_every_pass():
    module = _module()
    with pytest.raises(DiagnosticError) as ei:
        PassManager(parse_pipeline("canonicalize,test-break-ir,canonicalize")).run(module)
    msg = ei.value.diagnostics[0].message
    assert msg.startswith("pass 'test-break-ir' produced invalid IR: 'snn.lif' op requires attribute 'alpha'"), msg


def test_pass_diagnostics_propagate_unchanged():
    with pytest.raises(DiagnosticError, match="'builtin.module' op cannot do that"):
        PassManager(parse_pipeline("test-diag")).run(_module())


def test_print_ir_after_all_uses_mlir_headers():
    pytest.importorskip("snnc.ir.printer", reason="printer not available")
    stream = io.StringIO()
    PassManager(parse_pipeline("canonicalize,test-options"), print_ir_after_all=True, ir_stream=stream).run(_module())
    text = stream.getvalue()
    assert "// -----// IR Dump After Canonicalize (canonicalize) //----- //\n" in text
    assert "// -----// IR Dump After OptionsProbe (test-options) //----- //\n" in text
    assert text.index("Canonicalize (canonicalize)") < text.index("OptionsProbe (test-options)")
    assert text.count('"snn.lif"') == 2


def test_timing_report_lists_every_pass():
    pm = PassManager(parse_pipeline("canonicalize,test-options{label=z}"))
    pm.run(_module())
    assert [t.name for t in pm.timings] == ["canonicalize", "test-options{label=z}"]
    assert all(t.seconds >= 0 and t.verify_seconds >= 0 for t in pm.timings)
    out = io.StringIO()
    write_timing_report(pm.timings, out)
    report = out.getvalue()
    assert "canonicalize" in report and "test-options{label=z}" in report and "total" in report


def test_validation_report_detects_a_wrong_rewrite():
    """The translation validator itself must be able to fail."""
    from snnc.passes.validate import compare_modules, random_inputs

    before = _module()
    after = before.clone()
    for op in after.walk():
        if op.op_name == "snn.lif":
            op.set_attr("v_th", 0.05)
    graph = before.body.ops[0]
    sets = {"r": random_inputs(graph, 20, np.random.default_rng(0))}
    report = compare_modules(before, after, sets, label="tamper")
    assert not report.ok
    assert "MISMATCH" in report.summary()
    with pytest.raises(DiagnosticError, match="translation validation of 'tamper': FAILED"):
        report.raise_if_failed()


def test_random_inputs_follow_element_types():
    from snnc.ir import i1
    from snnc.passes.validate import random_inputs

    g = GraphBuilder()
    a = g.input((2,), i1, name="spk")
    b = g.input((3,), name="cur")
    g.output(a)
    g.output(b)
    ins = random_inputs(g.graph, 5, np.random.default_rng(1))
    assert ins["spk"].dtype == np.bool_ and ins["spk"].shape == (5, 2)
    assert ins["cur"].dtype == np.float64 and ins["cur"].shape == (5, 3)
