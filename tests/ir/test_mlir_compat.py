"""Promise: every module snnc prints is accepted by real MLIR, and MLIR prints it back the same.

The tests run ``torch-mlir-opt --allow-unregistered-dialect --mlir-print-op-generic`` (shipped in
the torch-mlir wheel) on printed modules, check that it exits 0, then compare MLIR's output with
ours.  Known, documented difference: ``torch-mlir-opt`` writes one extra newline after the
``#-}`` that closes the resource section (``print_module`` ends with ``#-}\\n`` like MLIR's
``Operation::print``; opt adds its own ``\\n``), so texts are compared without trailing newlines.

Things MLIR itself does not round-trip are kept out of the exact comparisons: a region whose
entry block has no arguments and no ops but is followed by other blocks (MLIR prints nothing
for it, so the next block becomes the entry block; generated blocks of multi-block regions
always hold an op), fused locations (MLIR flattens and deduplicates them: compared without
locations), file locations with an empty file name (MLIR reprints ``loc("":0:0)`` as
``loc("-":0:0)``: not generated), and the top-level module's own location.
MLIR checks SSA dominance inside multi-block regions of unregistered ops (single-block
regions and the module body are graph regions), so forward references are generated
everywhere except in multi-block regions.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from text_helpers import find_mlir_opt, modules, run_mlir_opt

from snnc.ir import parse_module, print_module
from snnc.ir.diagnostics import FusedLoc

MLIR_OPT = find_mlir_opt()
needs_mlir = pytest.mark.skipif(MLIR_OPT is None, reason="torch-mlir-opt not found (install torch-mlir)")


def _mlir_roundtrip(text: str, *flags: str) -> str:
    assert MLIR_OPT is not None
    proc = run_mlir_opt(MLIR_OPT, text, *flags)
    assert proc.returncode == 0, f"MLIR rejected snnc's output:\n{proc.stderr}\n--- input ---\n{text}"
    return proc.stdout


def _has_fused(module) -> bool:
    def fused(loc) -> bool:
        return isinstance(loc, FusedLoc) or any(
            fused(x)
            for x in (getattr(loc, "callee", None), getattr(loc, "caller", None), getattr(loc, "child", None))
            if x is not None
        )

    for op in module.walk():
        if fused(op.location):
            return True
        for r in op.regions:
            for b in r.blocks:
                if any(a.location is not None and fused(a.location) for a in b.args):
                    return True
    return False


@needs_mlir
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(modules(mlir_dominance=True))
def test_mlir_accepts_and_reprints_identically(module) -> None:
    ours = print_module(module)
    theirs = _mlir_roundtrip(ours)
    assert theirs.rstrip("\n") == ours.rstrip("\n")
    assert print_module(parse_module(theirs)) == ours


@needs_mlir
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(modules(with_locations=True, mlir_dominance=True))
def test_mlir_accepts_locations(module) -> None:
    ours = print_module(module, locations=True)
    theirs = _mlir_roundtrip(ours, "--mlir-print-debuginfo")
    # MLIR prints locations through `#loc` aliases; reading them back gives our inline form.
    # (Known difference: MLIR may replace the top-level module's location, e.g. loc("":0:0)
    # comes back as loc("-":0:0), the name of stdin; the module's own location is not compared.)
    parsed = parse_module(theirs)
    parsed.location = module.location
    back = print_module(parsed, locations=True)
    if not _has_fused(module):
        assert back == ours
    else:
        assert print_module(parse_module(theirs)) == print_module(module)


def _torch_mlir_text() -> str:
    torch = pytest.importorskip("torch")
    fx = pytest.importorskip("torch_mlir.fx")

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 3, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(3)
            self.fc = torch.nn.Linear(48, 4)

        def forward(self, x):
            y = self.bn(self.conv(x)).relu().flatten(1)
            return self.fc(y), y.sum(dim=1, keepdim=True)

    torch.manual_seed(0)
    model = Tiny().eval()
    module = fx.export_and_import(model, torch.randn(1, 2, 4, 4))
    return module.operation.get_asm(print_generic_op_form=True, enable_debug_info=True)


@needs_mlir
def test_torch_mlir_output_parses_and_reprints() -> None:
    text = _torch_mlir_text()
    assert "dense_resource<" in text and "#loc" in text and "callsite(" in text
    module = parse_module(text, "torch.mlir")
    ops = [op.op_name for op in module.walk()]
    assert "func.func" in ops and "torch.aten.convolution" in ops
    # Locations come from the file's `#loc` aliases (call sites), not from text positions.
    conv = next(op for op in module.walk() if op.op_name == "torch.aten.convolution")
    assert conv.location.file_line_col() is not None
    assert "torch.mlir" not in conv.location.to_mlir()
    ours = print_module(module)
    assert print_module(parse_module(ours)) == ours
    # MLIR accepts our reprint and prints it back identically, with and without locations.
    assert _mlir_roundtrip(ours).rstrip("\n") == ours.rstrip("\n")
    with_locs = print_module(module, locations=True)
    assert print_module(parse_module(_mlir_roundtrip(with_locs, "--mlir-print-debuginfo")), locations=True) == with_locs
    # The blobs survive: every resource in torch-mlir's text is in ours, byte for byte.
    blobs = [line.strip() for line in text.split("{-#", 1)[1].splitlines() if line.strip().startswith("torch_tensor")]
    for blob in blobs:
        assert blob.rstrip(",") in ours


def _every_op_module():
    """The module with one of every nn/snn op that the CLI tests build (tests/cli/cli_helpers.py)."""
    import importlib.util

    from text_helpers import REPO

    path = REPO / "tests" / "cli" / "cli_helpers.py"
    if not path.is_file():
        pytest.skip("tests/cli/cli_helpers.py (every_op_module) is not present")
    spec = importlib.util.spec_from_file_location("_snnc_cli_helpers_for_text", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.every_op_module()


def test_every_registered_op_roundtrips() -> None:
    from snnc.ir import verify
    from snnc.ir.opdef import OpDef

    module = _every_op_module()
    text = print_module(module)
    parsed = parse_module(text)
    verify(parsed)
    assert print_module(parsed) == text
    assert [type(a).__name__ for a in parsed.walk()] == [type(b).__name__ for b in module.walk()]
    covered = {op.op_name for op in parsed.walk()}
    # every_op_module covers the nn and snn dialects (other dialects have their own tests).
    ours = {n for n in OpDef.registry if n.split(".", 1)[0] in ("nn", "snn")}
    assert ours <= covered, f"ops missing from the round trip: {sorted(ours - covered)}"
    if MLIR_OPT is not None:
        assert _mlir_roundtrip(text).rstrip("\n") == text.rstrip("\n")
