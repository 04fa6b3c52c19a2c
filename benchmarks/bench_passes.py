"""Time NIR import, verification, canonicalize and the interpreter on the golden NIR graphs.

    .venv/bin/python benchmarks/bench_passes.py [--steps 100] [--golden ../shared/golden/nir-paper]

Prints one line per graph (milliseconds; best of 3 for everything but the run).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from snnc.frontends.nir import import_nir
from snnc.interp import run
from snnc.ir import verify
from snnc.passes import PassManager, parse_pipeline
from snnc.passes.validate import find_graph, random_inputs

ROOT = Path(__file__).resolve().parents[1]


def best(fn, n=3):
    out, t = None, float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return out, t * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--golden", type=Path, default=ROOT / ".." / "shared" / "golden" / "nir-paper")
    args = ap.parse_args()
    print(f"{'graph':40s} {'ops':>5s} {'import':>9s} {'verify':>9s} {'canon.':>9s} {'run/step':>9s}")
    for path in sorted(args.golden.glob("*.nir")):
        module, t_imp = best(lambda p=path: import_nir(p))
        _, t_ver = best(lambda m=module: verify(m))
        _, t_can = best(lambda m=module: PassManager(parse_pipeline("canonicalize")).run(m.clone()))
        inputs = random_inputs(find_graph(module), args.steps, np.random.default_rng(0))
        t0 = time.perf_counter()
        run(module, inputs)
        t_run = (time.perf_counter() - t0) * 1e3 / args.steps
        n_ops = sum(1 for _ in module.walk())
        print(f"{path.name:40s} {n_ops:5d} {t_imp:9.2f} {t_ver:9.2f} {t_can:9.2f} {t_run:9.3f}")


if __name__ == "__main__":
    main()
