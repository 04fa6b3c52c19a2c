"""The chip simulator is bit-exact with the RTL helper's golden model (refmodel.run_mesh) on random meshes."""

import numpy as np
import pytest

from snnc.backends.rtl.refmodel import CoreConfig, MeshConfig, run_mesh
from snnc.sim import simulate, write_config


@pytest.mark.parametrize("seed", range(6))
def test_bit_exact_with_refmodel(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n_ax, n_neu, T, C = 16, 8, 12, 3
    kw = {"weight_bits": 4, "mem_bits": 8, "acc_bits": 6}  # narrow: saturation happens
    cores, arrays = [], []
    for _ in range(C):
        w = rng.integers(-8, 8, (n_ax, n_neu))
        p = np.stack([rng.integers(1, 30, n_neu), rng.integers(-5, 5, n_neu), rng.integers(-3, 4, n_neu),
                      rng.integers(0, 4, n_neu), rng.integers(0, 3, n_neu), rng.integers(0, 2, n_neu)])
        cores.append(CoreConfig(w, v_th=p[0], v_reset=p[1], bias=p[2], leak_shift=p[3], reset_mode=p[4],
                                cmp=p[5], **kw))
        arrays.append((w, p))
    # core 0 -> core 1 -> core 2 (same step), core 2 -> core 0 (next step); axons 8.. for routed spikes
    routes = {}
    for src, dst in [(0, 1), (1, 2), (2, 0)]:
        for n in range(n_neu):
            routes[(src, n)] = [(dst, n if dst == 0 else 8 + n)]  # refmodel's delivery order stays increasing
    mesh = MeshConfig(cores, routes, order=[0, 1, 2])
    inputs = [[(c, a + (8 if c == 0 else 0)) for c in range(C) for a in sorted(rng.choice(8, 3, replace=False))]
              for _ in range(T)]
    ref = run_mesh(mesh, inputs)
    write_config(tmp_path, arrays, [(s, n, d, a) for (s, n), v in routes.items() for d, a in v], [0, 1, 2],
                 weight_bits=4, membrane_bits=8, accumulator_bits=6)
    res = simulate(tmp_path, inputs)
    for c in range(C):
        np.testing.assert_array_equal(res.spikes[c], ref[:, c])
    assert res.packets == int(sum(ref[:, c].astype(bool).sum() for c in range(C))) > 0
    assert 0 < ref.astype(bool).mean() < 1
