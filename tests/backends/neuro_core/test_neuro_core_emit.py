"""neuro-core backend: the simulator on the emitted configuration equals the integer interpreter bit for bit."""

from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).resolve().parents[3] / ".." / "shared" / "golden" / "nir-paper"


def _lower(path, steps=16):
    from snnc.dialects.snn import find_graph
    from snnc.driver import load_module
    from snnc.passes import PassManager, parse_pipeline
    from snnc.passes.quantize import Quantize
    from snnc.passes.validate import random_inputs

    m = load_module(path)
    inp = random_inputs(find_graph(m), steps, np.random.default_rng(0))
    ps = parse_pipeline("canonicalize,quantize")
    for p in ps:
        if isinstance(p, Quantize):
            p.calibration = inp
    PassManager(ps).run(m)
    return m, inp


def test_lif_norse_bit_exact(tmp_path):
    if not (GOLDEN / "lif_norse.nir").exists():
        pytest.skip("golden graphs not available")
    from snnc.backends.neuro_core.check import compare_sim

    m, inp = _lower(GOLDEN / "lif_norse.nir")
    r = compare_sim(m, inp, tmp_path)
    assert r.first_mismatch is None
    assert r.report["cores_used"] == r.report["cores_lower_bound"] == 1
    assert (tmp_path / "report.json").exists()


@pytest.mark.parametrize("name", ["braille_noDelay_noBias_subtract", "braille_noDelay_bias_zero"])
def test_braille_cuba_bit_exact(tmp_path, name):
    """Braille (CubaLIF: current compartment, delayed recurrent branch with bias, requantized input branch)."""
    if not (GOLDEN / f"{name}.nir").exists():
        pytest.skip("golden graphs not available")
    import json

    from snnc.backends.neuro_core.check import compare_sim

    m, inp = _lower(GOLDEN / f"{name}.nir", 24)
    inp = {k: 2.0 * v for k, v in inp.items()}  # beyond the calibration range: inputs saturate on the host
    r = compare_sim(m, inp, tmp_path)
    assert r.first_mismatch is None
    assert r.counters["spikes"] > 0
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["version"] == 3
    assert any(len(c.get("groups", [])) == 2 and {g["delay"] for g in c["groups"]} == {0, 1} for c in cfg["cores"])
