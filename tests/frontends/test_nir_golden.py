"""Golden checks of the NIR frontend against the NIR paper's graphs and recorded traces.

Data: ``../shared/golden/nir-paper/`` beside the checkout (see its README).  Every test
here skips, with the reason, when that folder is absent.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pytest

from snnc.frontends.nir import export_nir, import_nir, write_nir
from snnc.interp import run
from snnc.interp.core import run_graph
from snnc.ir import verify

GOLDEN = Path(__file__).resolve().parents[2] / ".." / "shared" / "golden" / "nir-paper"

pytestmark = pytest.mark.skipif(
    not GOLDEN.is_dir(), reason=f"golden NIR data not found at {GOLDEN} (the repo's sibling shared/golden/nir-paper)"
)

GRAPHS = ["lif_norse.nir", "cnn_sinabs.nir", "braille_noDelay_bias_zero.nir", "braille_noDelay_noBias_subtract.nir"]
BRAILLE = GRAPHS[2:]


def _csv(name: str) -> np.ndarray:
    return np.loadtxt(GOLDEN / name, delimiter=",", dtype=np.float64)


def _lif_trace(scheme: str, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Run lif_norse.nir on column 0 of lif_norse.csv: (membrane after reset, spikes)."""
    drive = _csv("lif_norse.csv")[:, 0:1].astype(np.float32)
    module = import_nir(GOLDEN / "lif_norse.nir", discretization=scheme)
    graph = module.body.ops[0]
    lif = next(op for op in graph.body.ops if op.op_name == "snn.lif")
    res = run_graph(graph, drive, dtype=dtype, probe=True, value_names={lif.result: "lif"})
    v = np.array([np.asarray(s["v"]).reshape(-1)[0] for s in res.states["lif"]], dtype=np.float64)
    return v, res.outputs["output"][:, 0].astype(bool)


# --------------------------------------------------------------------------- one LIF neuron


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lif_norse_reproduces_norse_trace(dtype) -> None:
    """Column 1 of lif_norse.csv is Norse's membrane AFTER the reset of that step (it
    reads 0 on the spike steps); column 2 its spikes."""
    ref = _csv("lif_norse.csv")
    v, s = _lif_trace("euler", dtype)
    err = float(np.max(np.abs(v - ref[:, 1])))
    print(f"lif_norse ({np.dtype(dtype).name}): max |v - v_norse| = {err:.3e}, spikes at {np.flatnonzero(s).tolist()}")
    assert err <= 1e-6
    assert np.array_equal(s, ref[:, 2] > 0)
    assert s.sum() == 4


def test_lif_against_exact_solution() -> None:
    """lif_exact.csv is the analytic solution on the same 1000-step grid as lif_norse.csv
    (rows are the same instants), so rows are compared one to one."""
    exact = _csv("lif_exact.csv")
    assert exact.shape == (1000, 3)
    assert np.array_equal(exact[:, 0], _csv("lif_norse.csv")[:, 0])
    first_spike = int(np.flatnonzero(exact[:, 2])[0])
    figures = {}
    for scheme in ("euler", "exact"):
        v, s = _lif_trace(scheme, np.float64)
        err = np.abs(v - exact[:, 1])
        figures[scheme] = (float(err.max()), float(err[:first_spike].max()), float(err.mean()))
        print(
            f"lif vs exact solution, {scheme}: max |dv| = {err.max():.3e}, before the first spike "
            f"{err[:first_spike].max():.3e}, mean {err.mean():.3e}, spikes at {np.flatnonzero(s).tolist()}"
        )
        # Both schemes fire at the exact solution's steps.
        assert np.array_equal(s, exact[:, 2] > 0)
    # The exponential scheme IS the exact solution between spikes.
    assert figures["exact"][1] < 1e-12
    # Forward Euler's error is first order in dt/tau = 0.04.
    assert 1e-4 < figures["euler"][1] < 5e-3


def test_lif_other_simulators_spike_times() -> None:
    """Spike steps of the other recorded runs of the same graph, for the record."""
    _, s = _lif_trace("euler", np.float32)
    ours = np.flatnonzero(s).tolist()
    agree = {}
    for name in ("rockpool", "snntorch", "lava_loihi_fixed", "spinnaker2"):
        theirs = np.flatnonzero(_csv(f"lif_{name}.csv")[:, 2]).tolist()
        agree[name] = theirs
        print(f"lif_{name}: spikes at {theirs} (snnc: {ours})")
    assert agree["snntorch"] == ours and agree["spinnaker2"] == ours
    assert agree["lava_loihi_fixed"] == [t + 1 for t in ours]  # the chip reports one step later


# --------------------------------------------------------------------------- import / run / export / re-import


def _random_input(module, rng: np.random.Generator, steps: int, batch: int, rate: float) -> np.ndarray:
    graph = module.body.ops[0]
    inp = next(op for op in graph.body.ops if op.op_name == "snn.input")
    shape = tuple(inp.result.type.shape)
    return (rng.random((steps, batch, *shape)) < rate).astype(np.float32)


def _neuron_attrs(module) -> list[tuple[str, dict[str, str]]]:
    graph = module.body.ops[0]
    return [
        (op.op_name, {k: str(v) for k, v in sorted(op.attributes.items())})
        for op in graph.body.ops
    ]


@pytest.mark.parametrize("name", GRAPHS)
def test_roundtrip_preserves_outputs(name: str, tmp_path: Path) -> None:
    module = import_nir(GOLDEN / name)
    verify(module)
    rng = np.random.default_rng(7)
    rate = 0.05 if name == "cnn_sinabs.nir" else 0.25
    x = _random_input(module, rng, steps=40 if name == "cnn_sinabs.nir" else 200, batch=4, rate=rate)
    if name == "cnn_sinabs.nir":
        x *= 4.0  # enough drive for every layer to fire
    out_file = tmp_path / "roundtrip.nir"
    write_nir(module, out_file)
    again = import_nir(out_file)
    verify(again)
    # The NIR object path as well (no file in between).
    again_obj = import_nir(export_nir(module))
    assert _neuron_attrs(again) == _neuron_attrs(module) == _neuron_attrs(again_obj)
    for dtype in (np.float32, np.float64):
        a = run(module, x, dtype=dtype, batched=True).outputs
        b = run(again, x, dtype=dtype, batched=True).outputs
        assert a.keys() == b.keys() == {"output"}
        assert np.array_equal(a["output"], b["output"])
        spikes = int(np.asarray(a["output"]).sum())
        print(f"{name} ({np.dtype(dtype).name}): {spikes} output spikes, identical after NIR -> snnc -> NIR -> snnc")
        assert spikes > 0


def test_braille_recurrence_is_a_delay() -> None:
    module = import_nir(GOLDEN / "braille_noDelay_bias_zero.nir")
    graph = module.body.ops[0]
    delays = [op for op in graph.body.ops if op.op_name == "snn.delay"]
    assert len(delays) == 1 and delays[0].attr("steps") == 1
    # The delay sits after the recurrent Affine (nirtorch reads that edge from the previous step).
    src = delays[0].operands[0].defining_op()
    assert src.op_name == "nn.linear" and src.location.node == "lif1.w_rec"
    exported = export_nir(module)
    assert ("lif1.w_rec", "lif1.lif") in exported.edges
    assert not any(type(n).__name__ == "Delay" for n in exported.nodes.values())


# --------------------------------------------------------------------------- against Norse's own NIR import


def _norse_run(path: Path, x: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    torch = pytest.importorskip("torch")
    norse = pytest.importorskip("norse.torch")
    import nir

    logging.disable(logging.WARNING)  # Norse logs that r != 1 is ignored by its LIF (not used by CubaLIF)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = norse.from_nir(nir.read(path), dt=dt)
            state = None
            outs, hidden = [], []
            with torch.no_grad():
                for t in range(x.shape[0]):
                    o, state = net(torch.from_numpy(x[t]), state)
                    outs.append(o.numpy().copy())
                    hidden.append(state.cache["lif1_lif"].numpy().copy())
    finally:
        logging.disable(logging.NOTSET)
    return np.stack(outs) > 0, np.stack(hidden) > 0


@pytest.mark.parametrize("name", BRAILLE)
def test_braille_matches_norse_from_nir(name: str) -> None:
    """Random Bernoulli inputs, half the batch at rate 0.1 and half at 0.3 (nirtorch steps
    slowly, so one run of 150 steps covers both)."""
    module = import_nir(GOLDEN / name)  # dt = DEFAULT_DT = 1e-4, the graphs' step
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [_random_input(module, rng, steps=150, batch=8, rate=rate) for rate in (0.1, 0.3)], axis=1
    )
    ref_out, ref_hidden = _norse_run(GOLDEN / name, x, dt=1e-4)
    graph = module.body.ops[0]
    hidden_op = next(op for op in graph.body.ops if op.op_name == "snn.cuba_lif" and op.location.node == "lif1.lif")
    for dtype in (np.float32, np.float64):
        res = run_graph(graph, x, dtype=dtype, batched=True, probe=True, value_names={hidden_op.result: "h"})
        out = res.outputs["output"]
        hidden = res.probes["h"]
        mism_out = int((out != ref_out).sum())
        mism_hidden = int((hidden != ref_hidden).sum())
        print(
            f"{name} ({np.dtype(dtype).name}): output spikes snnc {int(out.sum())} / norse {int(ref_out.sum())}, "
            f"mismatches {mism_out} of {out.size}; hidden spikes snnc {int(hidden.sum())} / norse "
            f"{int(ref_hidden.sum())}, mismatches {mism_hidden} of {hidden.size}"
        )
        assert ref_out.sum() > 0 and ref_hidden.sum() > 0
        assert mism_out == 0
        assert mism_hidden == 0
