"""Simulator throughput: synaptic events per second of snnc.sim (feed-forward fast path and the per-step path) vs
the dense PyTorch forward of the same network (4 chained cores of 1024 axons x 1024 neurons, IF neurons with
per-layer thresholds calibrated so that every core fires at about the input rate, 100 steps, torch on 2 threads,
same process, best of --repeat runs) at 1 % and 10 % firing. The goal (issue 6): the simulator at least as fast as dense
torch at 10 % firing, 5x faster at 1 %.  With --models, also the fast vs the per-step path on the configurations emitted from the NIR golden graphs.
Run: .venv/bin/python benchmarks/bench_sim.py [--repeat K] [--models]"""

import sys
import tempfile
import time

import numpy as np
import torch

from snnc.sim import simulate, write_config


def best_of(k, f):
    best, out = float("inf"), None
    for _ in range(k):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def if_layer(x: np.ndarray, w: np.ndarray, th: int) -> np.ndarray:
    """IF neurons (no leak, hard reset to 0, fire when v >= th) fed by spikes x [T, n_in]: spikes [T, n]."""
    acc = x.astype(np.float64) @ w
    v = np.zeros(w.shape[1])
    out = np.zeros(acc.shape, dtype=bool)
    for t in range(len(acc)):
        v += acc[t]
        out[t] = v >= th
        v[out[t]] = 0
    return out


def calibrate(x: np.ndarray, ws: list[np.ndarray], rate: float) -> list[int]:
    """Per layer, the integer threshold whose firing rate (on the previous layer's spikes) is closest to ``rate``
    (firing falls as the threshold rises: bisection)."""
    ths = []
    for w in ws:
        lo, hi = 1, int(np.abs(w).sum(axis=0).max()) + 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if if_layer(x, w, mid).mean() > rate else (lo, mid)
        th = min((lo, hi), key=lambda t: abs(if_layer(x, w, t).mean() - rate))
        ths.append(th)
        x = if_layer(x, w, th)
    return ths


def dense_torch(x: np.ndarray, wt: list, ths: list[int]):
    """The same network as a dense PyTorch forward, step by step (float32 membranes hold these integers exactly)."""
    n = wt[0].shape[1]
    with torch.no_grad():
        v = [torch.zeros(n) for _ in wt]
        xt = torch.tensor(x, dtype=torch.float32)
        outs = []
        for t in range(len(x)):
            s = xt[t]
            for k, w in enumerate(wt):
                v[k] = v[k] + s @ w
                s = (v[k] >= ths[k]).float()
                v[k] = torch.where(s > 0, torch.zeros_like(v[k]), v[k])
            outs.append(s)
        return torch.stack(outs)


def run_case(rng, ws, rate: float, T: int, repeat: int) -> None:
    n, layers = ws[0].shape[1], len(ws)
    x = rng.random((T, n)) < rate
    ths = calibrate(x, ws, rate)
    params = [np.stack([np.full(n, th), np.zeros(n, int), np.zeros(n, int), np.zeros(n, int), np.ones(n, int),
                        np.zeros(n, int)]) for th in ths]
    routes = [(c, j, c + 1, j) for c in range(layers - 1) for j in range(n)]
    inputs = [[(0, int(a)) for a in np.flatnonzero(x[t])] for t in range(T)]
    with tempfile.TemporaryDirectory() as d:
        write_config(d, list(zip(ws, params, strict=True)), routes, range(layers), weight_bits=8,
                     membrane_bits=24, accumulator_bits=24)
        dt_fast, fast = best_of(repeat, lambda: simulate(d, inputs))
        dt_slow, slow = best_of(repeat, lambda: simulate(d, inputs, fast=False))
    assert all((a == b).all() for a, b in zip(fast.spikes, slow.spikes, strict=True))
    assert (fast.synaptic_ops, fast.packets, fast.hops) == (slow.synaptic_ops, slow.packets, slow.hops)
    wt = [torch.tensor(w, dtype=torch.float32) for w in ws]
    dt_torch, y = best_of(repeat, lambda: dense_torch(x, wt, ths))
    assert (y.numpy().astype(np.int8) == fast.spikes[-1]).all()  # the same network: the same spikes
    rates = "/".join(f"{s.mean():.3f}" for s in fast.spikes)
    print(f"| {rate:.0%} | {rates} | {fast.synaptic_ops} | {dt_fast:.4f} | {dt_slow:.4f} | {dt_torch:.4f} | "
          f"{fast.synaptic_ops / dt_fast:.3e} | {dt_torch / dt_fast:.2f}x | {dt_torch / dt_slow:.2f}x |")


def emitted_models(repeat: int) -> None:
    """Fast vs per-step path on configurations emitted from the NIR golden graphs (32 random calibration-like
    steps; the results are checked equal)."""
    from pathlib import Path

    from snnc.backends.neuro_core import emit
    from snnc.dialects.snn import find_graph
    from snnc.driver import load_module
    from snnc.passes import PassManager, parse_pipeline
    from snnc.passes.quantize import Quantize
    from snnc.passes.validate import random_inputs
    from snnc.sim import host_events

    golden = Path(__file__).resolve().parents[1] / ".." / "shared" / "golden" / "nir-paper"
    print("\n| emitted model | cores | synaptic events | fast path s | per-step s | per-step / fast |")
    print("|---|---|---|---|---|---|")
    for f in sorted(golden.glob("*.nir")):
        m = load_module(f)
        passes = parse_pipeline("canonicalize,quantize")
        for p in passes:
            if isinstance(p, Quantize):
                p.calibration = random_inputs(find_graph(m), 16, np.random.default_rng(0))
        PassManager(passes).run(m)
        inputs = random_inputs(find_graph(m), 32, np.random.default_rng(1))
        with tempfile.TemporaryDirectory() as d:
            emit(m, "neuro-core", d)
            ev = host_events(d, inputs)
            dt_fast, fast = best_of(repeat, lambda d=d, ev=ev: simulate(d, ev))
            dt_slow, slow = best_of(repeat, lambda d=d, ev=ev: simulate(d, ev, fast=False))
        assert all((a == b).all() for a, b in zip(fast.spikes, slow.spikes, strict=True))
        assert (fast.synaptic_ops, fast.packets, fast.hops, fast.cycles) == (slow.synaptic_ops, slow.packets,
                                                                             slow.hops, slow.cycles)
        print(f"| {f.stem} | {len(fast.spikes)} | {fast.synaptic_ops} | {dt_fast:.3f} | {dt_slow:.3f} | "
              f"{dt_slow / dt_fast:.1f}x |")


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    n, layers, T = 1024, 4, 100
    ws = [rng.integers(-7, 8, (n, n)) for _ in range(layers)]  # symmetric: no drift of the membranes
    print("| input firing | firing per core | synaptic events | fast path s | per-step s | dense torch s | "
          "fast ev/s | torch / fast | torch / per-step |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rate in (0.01, 0.10):
        run_case(rng, ws, rate, T, repeat)
    if "--models" in sys.argv:
        emitted_models(1)


if __name__ == "__main__":
    main()
