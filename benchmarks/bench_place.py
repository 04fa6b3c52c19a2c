"""Placement benchmark: 1M neurons / 100M synapses on a 40x40 mesh of neuro-core cores (time, cores vs lower
bound, inter-core traffic x hops vs a sequential row-major fill).  Run: .venv/bin/python benchmarks/bench_place.py"""

import time

from snnc.passes.place import Layer, LayerGraph, place, sequential_placement
from snnc.targets import parse_target
from snnc.targets.loader import TARGET_DIR


def main() -> None:
    text = (TARGET_DIR / "neuro_core.toml").read_text().replace("rows = 8", "rows = 40").replace("cols = 16", "cols = 40")
    target = parse_target(text, "neuro-core-40x40")
    # 10 layers of 100k neurons, fan-in 100 each: 1M neurons, 100M synapses
    layers = [Layer(f"l{i}", 100_000, 100) for i in range(10)]
    g = LayerGraph(layers, [(i, i + 1) for i in range(9)])
    t0 = time.perf_counter()
    pm = place(g, target)
    dt = time.perf_counter() - t0
    seq = sequential_placement(g, target)
    r = pm.report(g)
    print(f"neurons {g.neurons}, synapses {g.synapses}: placed in {dt:.2f} s")
    print(f"cores used {r['cores_used']} (lower bound {r['cores_lower_bound']}), mean hops {r['mean_hops']:.2f}")
    print(f"traffic x hops: placed {pm.cost():.3e} vs sequential fill {seq.cost():.3e} "
          f"({pm.cost() / seq.cost():.3f}x)")


if __name__ == "__main__":
    main()
