"""Simulator throughput: synaptic events per second of snnc.sim vs the dense PyTorch forward of the same network
(4 chained cores of 1024 axons x 1024 neurons, 100 steps) at 1 % and 10 % input firing.
Run: .venv/bin/python benchmarks/bench_sim.py"""

import tempfile
import time

import numpy as np
import torch

from snnc.sim import simulate, write_config


def main() -> None:
    rng = np.random.default_rng(0)
    n, layers, T = 1024, 4, 100
    ws = [rng.integers(-8, 8, (n, n)) for _ in range(layers)]
    for rate in (0.01, 0.10):
        # thresholds chosen so every layer fires at roughly the input rate
        params = [np.stack([np.full(n, int(8 * np.sqrt(rate * n)) + 1), np.zeros(n, int), np.zeros(n, int),
                            np.zeros(n, int), np.ones(n, int), np.zeros(n, int)]) for _ in range(layers)]
        routes = [(c, j, c + 1, j) for c in range(layers - 1) for j in range(n)]
        x = rng.random((T, n)) < rate
        inputs = [[(0, int(a)) for a in np.flatnonzero(x[t])] for t in range(T)]
        with tempfile.TemporaryDirectory() as d:
            write_config(d, list(zip(ws, params, strict=True)), routes, range(layers), weight_bits=8,
                         membrane_bits=24, accumulator_bits=24)
            t0 = time.perf_counter()
            res = simulate(d, inputs)
            dt_sim = time.perf_counter() - t0
        wt = [torch.tensor(w, dtype=torch.float32) for w in ws]
        th = float(params[0][0, 0])
        torch.set_num_threads(2)
        t0 = time.perf_counter()
        with torch.no_grad():
            v = [torch.zeros(n) for _ in range(layers)]
            xt = torch.tensor(x, dtype=torch.float32)
            for t in range(T):
                s = xt[t]
                for k in range(layers):
                    v[k] = v[k] + s @ wt[k]
                    s = (v[k] >= th).float()
                    v[k] = torch.where(s > 0, torch.zeros_like(v[k]), v[k])
        dt_torch = time.perf_counter() - t0
        print(f"rate {rate:.0%}: {res.synaptic_ops} synaptic events; sim {res.synaptic_ops / dt_sim:.3e} ev/s "
              f"({dt_sim:.3f} s), dense torch {dt_torch:.3f} s -> sim is {dt_torch / dt_sim:.2f}x torch")


if __name__ == "__main__":
    main()
