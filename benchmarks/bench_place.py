"""Placement benchmark: cores used vs the lower bound and inter-core traffic x hops vs a sequential row-major fill,
on the example models (NIR golden graphs, the tiny Meta-SpikeFormer and the other PyTorch examples, each lowered
with canonicalize,quantize) and on 1M neurons / 100M synapses on a 40x40 mesh of neuro-core cores (also the time).
Run: .venv/bin/python benchmarks/bench_place.py [--no-models]"""

import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from snnc.passes.place import Layer, LayerGraph, layer_graph_from_module, place, sequential_placement
from snnc.targets import load_target, parse_target
from snnc.targets.loader import TARGET_DIR

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / ".." / "shared" / "golden" / "nir-paper"


def _lower(module, steps=4):
    from snnc.dialects.snn import find_graph
    from snnc.passes import PassManager, parse_pipeline
    from snnc.passes.quantize import Quantize
    from snnc.passes.validate import random_inputs

    passes = parse_pipeline("canonicalize,quantize")
    for p in passes:
        if isinstance(p, Quantize):
            p.calibration = random_inputs(find_graph(module), steps, np.random.default_rng(0))
    PassManager(passes).run(module)
    return module


def example_graphs() -> dict[str, LayerGraph]:
    """Name -> layer graph of each example model lowered to spike-level IR (skips what is not available)."""
    from snnc.driver import load_module

    out = {}
    for f in sorted(GOLDEN.glob("*.nir")):
        try:
            out[f"nir:{f.stem}"] = layer_graph_from_module(_lower(load_module(f)))
        except Exception as exc:  # noqa: BLE001 - a benchmark reports what it could not run
            print(f"  (skipped {f.name}: {str(exc).splitlines()[0][:100]})")
    try:
        from snnc.frontends.torch import import_torch_file

        spec = importlib.util.spec_from_file_location("export_pt2", ROOT / "examples/torch/export_pt2.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        with tempfile.TemporaryDirectory() as d:
            for p in mod.export_all(Path(d)):
                out[f"torch:{p.stem}"] = layer_graph_from_module(_lower(import_torch_file(p, time_layout="TB")))
    except ImportError as exc:
        print(f"  (skipped the PyTorch examples: {exc})")
    return out


def row(name, g, target) -> None:
    t0 = time.perf_counter()
    pm = place(g, target)
    dt = time.perf_counter() - t0
    seq = sequential_placement(g, target)
    r = pm.report(g)
    ratio = pm.cost() / seq.cost() if seq.cost() else 1.0
    print(f"| {name} | {len(g.layers)} | {g.neurons} | {r['cores_used']} | {r['cores_lower_bound']} | "
          f"{seq.cost():.4g} | {pm.cost():.4g} | {ratio:.3f} | {r['mean_hops']:.2f} | {dt:.2f} |")


def main() -> None:
    print("| model | layers | neurons | cores | lower bound | seq. traffic x hops | placed | ratio | mean hops | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    if "--no-models" not in sys.argv:
        t = load_target("neuro-core")
        for name, g in example_graphs().items():
            row(name, g, t)
    text = (TARGET_DIR / "neuro_core.toml").read_text().replace("rows = 8", "rows = 40").replace("cols = 16", "cols = 40")
    target = parse_target(text, "neuro-core-40x40")
    # 10 layers of 100k neurons, fan-in 100 each: 1M neurons, 100M synapses
    layers = [Layer(f"l{i}", 100_000, 100) for i in range(10)]
    g = LayerGraph(layers, [(i, i + 1) for i in range(9)])
    row("synthetic 1M/100M, 40x40 mesh", g, target)


if __name__ == "__main__":
    main()
