"""Property: print -> parse -> print is byte-identical, for random modules of every shape."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from text_helpers import attributes, modules, types

from snnc.ir import DiagnosticError, ModuleOp, parse_module, print_module
from snnc.ir.opdef import make_op
from snnc.ir.parser import parse_attribute, parse_type
from snnc.ir.printer import print_attribute

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@SETTINGS
@given(modules())
def test_print_parse_print_is_identical(module) -> None:
    text = print_module(module)
    again = print_module(parse_module(text))
    assert again == text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(modules(with_locations=True))
def test_roundtrip_with_locations(module) -> None:
    text = print_module(module, locations=True)
    parsed = parse_module(text)
    assert print_module(parsed, locations=True) == text
    # Locations do not change the rest of the text.
    assert print_module(parsed) == print_module(module)


@settings(max_examples=200, deadline=None)
@given(types())
def test_type_roundtrip(t) -> None:
    assert parse_type(str(t)) == t


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(attributes())
def test_attribute_roundtrip(a) -> None:
    module = ModuleOp.empty()
    module.body.append(make_op("text.fragment", attributes={"a": a}))
    text = print_module(module)
    parsed = parse_module(text).body.ops[0].attributes["a"]
    assert print_module(parse_module(text)) == text
    if "dense_resource" not in text:
        assert parsed == a or print_attribute(parsed) == print_attribute(a)
        assert print_attribute(parse_attribute(print_attribute(a))) == print_attribute(a)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_printing_does_not_mutate(data) -> None:
    module = data.draw(modules())
    first = print_module(module)
    assert print_module(module) == first
    assert print_module(module, locations=True) == print_module(module, locations=True)


def test_parse_type_rejects_garbage() -> None:
    with pytest.raises(DiagnosticError):
        parse_type("tensor<2x")
    with pytest.raises(DiagnosticError):
        parse_attribute("dense<")
