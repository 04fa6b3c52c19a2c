"""place: splitting, fit diagnostics, deterministic refinement that never loses to the serpentine start."""

import pytest

from snnc.ir.diagnostics import DiagnosticError
from snnc.passes.place import Layer, LayerGraph, place, sequential_placement
from snnc.targets import load_target


def chain(sizes, fan_ins):
    layers = [Layer(f"l{i}", n, f) for i, (n, f) in enumerate(zip(sizes, fan_ins, strict=True))]
    return LayerGraph(layers, [(i, i + 1) for i in range(len(layers) - 1)])


def test_split_and_report():
    t = load_target("neuro-core")
    g = chain([3000, 2500, 10], [784, 3000 // 2, 2500])
    pm = place(g, t)
    # l1: fan-in 1500 x 8 bits = 12000 bits/neuron -> 87 neurons per core (synapse memory binds)
    assert pm.piece_size[pm.piece_layer == 1].max() == 1048576 // 12000
    assert pm.piece_size[pm.piece_layer == 0].max() == 1048576 // (784 * 8)
    assert sum(pm.piece_size) == g.neurons
    r = pm.report(g)
    assert r["cores_used"] == len(pm.core_of) >= r["cores_lower_bound"]
    assert r["synapses"] == 3000 * 784 + 2500 * 1500 + 10 * 2500
    assert len(set(pm.core_of.tolist())) == len(pm.core_of)  # one piece per core


def test_deterministic_and_no_worse_than_sequential():
    t = load_target("neuro-core")
    g = chain([2048, 4096, 4096, 1024, 10], [256, 512, 512, 512, 1024])
    a, b = place(g, t), place(g, t)
    assert (a.core_of == b.core_of).all()
    assert a.cost() <= sequential_placement(g, t).cost()
    assert set(a.routing_tables()) <= set(range(len(a.core_of)))


def test_fit_diagnostics():
    t = load_target("neuro-core")
    with pytest.raises(DiagnosticError, match="layer 'l1' does not fit: fan-in 5000 exceeds the core fan-in 4096 by 904"):
        place(chain([10, 10], [10, 5000]), t)
    with pytest.raises(DiagnosticError, match=r"model needs \d+ cores, the target has 128 \(excess \d+\)"):
        place(chain([200_000], [10]), t)


def test_layer_graph_from_nir_golden():
    from pathlib import Path

    nir_file = Path(__file__).resolve().parents[2] / ".." / "shared" / "golden" / "nir-paper" / "cnn_sinabs.nir"
    if not nir_file.exists():
        pytest.skip(f"golden file missing: {nir_file}")
    from snnc.frontends.nir import import_nir
    from snnc.passes.place import layer_graph_from_module

    g = layer_graph_from_module(import_nir(nir_file))
    assert [(la.neurons, la.fan_in) for la in g.layers] == [(4096, 50), (4096, 144), (512, 144), (256, 128), (10, 256)]
    assert g.edges == [(0, 1), (1, 2), (2, 3), (3, 4)]
    r = place(g, load_target("neuro-core")).report(g)
    assert r["neurons"] == 8970 and r["synapses"] == 903680 and r["cores_used"] >= r["cores_lower_bound"] == 9
