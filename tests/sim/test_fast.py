"""The fast path (snnc.sim.fast: routes only to later cores or to the same core) equals the per-step path bit for
bit, counters included, and refmodel.run_mesh; it declines (the per-step path runs) routes to earlier cores."""

import json

import numpy as np
import pytest

from snnc.backends.rtl.refmodel import CoreConfig, MeshConfig, run_mesh
from snnc.sim import PARAM_ROWS, simulate, write_config
from snnc.sim.fast import simulate_fast

COUNTERS = ("synaptic_ops", "packets", "hops", "neuron_updates", "steps", "cycles", "energy_pj")


def same(a, b):
    assert len(a.spikes) == len(b.spikes)
    for x, y in zip(a.spikes, b.spikes, strict=True):
        assert x.dtype == y.dtype == np.int8
        np.testing.assert_array_equal(x, y)
    for k in COUNTERS:
        assert getattr(a, k) == getattr(b, k), k


def random_params(rng, n, rows, mem_bits):
    th_hi = min(30, (1 << (mem_bits - 1)) - 1)
    p = np.zeros((rows, n), dtype=np.int64)
    p[0] = rng.integers(1, th_hi, n)
    p[1] = rng.integers(-5, 5, n)
    p[2] = rng.integers(-3, 4, n)
    p[3] = rng.integers(0, 4, n)
    p[4] = rng.integers(0, 3, n)
    p[5] = rng.integers(0, 2, n)
    if rows > 6:  # v2 mul leak, v3 ternary and a CUBA current compartment
        p[6] = rng.random(n) < 0.3
        p[7] = rng.integers(0, 17, n)
        p[8] = 4
        p[9] = rng.random(n) < 0.3
        p[10] = rng.random(n) < 0.3
        p[11] = rng.integers(4, 10, n)
        p[12] = rng.integers(-2, 3, n)
        p[13] = rng.random(n) < 0.5
        p[14] = rng.integers(0, 3, n)
        p[15] = rng.integers(0, 17, n)
        p[16] = 4
    return p


def random_ff_config(path, rng, *, C=4, acc_bits=6, mem_bits=8, rows=6, uniform=False, groups=False, T=12,
                     graded=False, dup_axons=False, self_loops=False):
    """C cores in a random order, routes only to later cores (some to several destinations / the same axon),
    external events to every core."""
    n_ax, n_neu = 16, 8
    cores = []
    for _ in range(C):
        w = rng.integers(-8, 8, (n_ax, n_neu))
        p = random_params(rng, n_neu, rows, mem_bits)
        if uniform:  # one reset mode and comparison per core (the fast path's specialised recurrence)
            p[4], p[5] = rng.integers(0, 3), rng.integers(0, 2)
            p[1] = np.minimum(p[1], p[0])
        cores.append((w, p))
    order = rng.permutation(C).tolist()
    routes = []
    for i, src in enumerate(order[:-1]):
        for nrn in range(n_neu):
            for dst in rng.choice(order[i + 1:], size=min(2, C - 1 - i), replace=False).tolist():
                axon = int(rng.integers(0, n_ax)) if dup_axons else 8 + nrn
                routes.append((src, nrn, dst, axon))
    if self_loops:  # recurrent cores: routes to the same core (queued for the next step, or a delayed group)
        for c in rng.choice(C, size=2, replace=False).tolist():
            for nrn in range(n_neu):
                routes.append((c, nrn, c, int(rng.integers(0, n_ax)) if dup_axons else 8 + (nrn + 3) % n_neu))
    inputs = []
    for _ in range(T):
        step = []
        for c in range(C):
            for a in sorted(rng.choice(8, int(rng.integers(0, 6)), replace=False).tolist()):
                step.append((c, a, int(rng.integers(-3, 4))) if graded else (c, a))
        inputs.append(step)
    core_extra = None
    if groups:
        core_extra = []
        for c in range(C):
            grp = (np.arange(n_ax) >= 8).astype(np.int64)  # group 0 external axons, group 1 routed axons
            np.save(path / f"core{c}_axon_group.npy", grp)
            np.save(path / f"core{c}_group_bias.npy", rng.integers(-3, 4, (2, n_neu)))
            core_extra.append({"groups": [{"delay": 0, "acc_bits": acc_bits, "shift": 0, "rounding": "none",
                                           "out_bits": acc_bits},
                                          {"delay": int(rng.integers(0, 3)), "acc_bits": acc_bits + 2,
                                           "shift": int(rng.integers(-1, 3)), "rounding": ["floor", "half_up"][c % 2],
                                           "out_bits": acc_bits}],
                               "group_bias": True})
    write_config(path, cores, routes, order, weight_bits=4, membrane_bits=mem_bits, accumulator_bits=acc_bits,
                 mesh=(2, 3), core_extra=core_extra,
                 extra={"energy": {"synaptic_op_pj": 1.5, "neuron_update_pj": 2.0, "packet_pj": 0.5, "hop_pj": 0.25}})
    return inputs


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", ["v1", "v3-params", "uniform", "uniform-wide", "groups", "graded", "self-v1",
                                  "self-groups", "self-graded"])
def test_fast_equals_per_step(tmp_path, seed, kind):
    rng = np.random.default_rng(seed)
    kw = {"v1": {}, "v3-params": {"rows": PARAM_ROWS}, "uniform": {"uniform": True, "mem_bits": 6},
          "uniform-wide": {"uniform": True, "acc_bits": 24, "mem_bits": 24},
          "groups": {"groups": True, "rows": PARAM_ROWS}, "graded": {"graded": True, "dup_axons": True},
          "self-v1": {"self_loops": True}, "self-groups": {"self_loops": True, "groups": True, "rows": PARAM_ROWS},
          "self-graded": {"self_loops": True, "graded": True, "dup_axons": True, "rows": PARAM_ROWS}}[kind]
    inputs = random_ff_config(tmp_path, rng, **kw)
    cfg = json.loads((tmp_path / "config.json").read_text())
    fast = simulate_fast(tmp_path, cfg, inputs)
    slow = simulate(tmp_path, inputs, fast=False)
    assert fast is not None
    same(fast, slow)
    same(simulate(tmp_path, inputs), slow)  # the dispatch in simulate()
    assert slow.packets > 0 and slow.synaptic_ops > 0


def test_saturation_is_exercised(tmp_path):
    """Narrow accumulators: steps that leave the range take the exact sequence, and the results still agree."""
    rng = np.random.default_rng(3)
    inputs = random_ff_config(tmp_path, rng, acc_bits=4, T=30)
    cfg = json.loads((tmp_path / "config.json").read_text())
    fast = simulate_fast(tmp_path, cfg, inputs)
    assert fast is not None
    same(fast, simulate(tmp_path, inputs, fast=False))
    # the plain sum differs from the saturating one somewhere: saturation really happened
    w = np.load(tmp_path / f"core{cfg['order'][0]}_weights.npy")
    plain = [w[[a for c, a in step if c == cfg["order"][0]]].sum(axis=0) for step in inputs]
    assert max(int(np.abs(p).max(initial=0)) for p in plain) > 7


def test_feedback_declines(tmp_path):
    rng = np.random.default_rng(0)
    inputs = random_ff_config(tmp_path, rng, C=3)
    cfg = json.loads((tmp_path / "config.json").read_text())
    routes = np.load(tmp_path / "routes.npy")
    last, first = cfg["order"][-1], cfg["order"][0]
    np.save(tmp_path / "routes.npy", np.vstack([routes, [[last, 0, first, 9]]]))
    assert simulate_fast(tmp_path, cfg, inputs) is None
    cfg["unknown_feature"] = 1
    assert simulate_fast(tmp_path, cfg, inputs) is None


@pytest.mark.parametrize("seed", range(4))
def test_fast_equals_refmodel(tmp_path, seed):
    """A chain 0 -> 1 -> 2 (same-step delivery): fast path == refmodel.run_mesh."""
    rng = np.random.default_rng(seed)
    n_ax, n_neu, T, C = 16, 8, 12, 3
    kw = {"weight_bits": 4, "mem_bits": 8, "acc_bits": 6}
    cores, arrays = [], []
    for _ in range(C):
        w = rng.integers(-8, 8, (n_ax, n_neu))
        p = random_params(rng, n_neu, 6, 8)
        cores.append(CoreConfig(w, v_th=p[0], v_reset=p[1], bias=p[2], leak_shift=p[3], reset_mode=p[4], cmp=p[5],
                                **kw))
        arrays.append((w, p))
    routes = {(src, n): [(src + 1, 8 + n)] for src in range(C - 1) for n in range(n_neu)}
    inputs = [[(c, a) for c in range(C) for a in sorted(rng.choice(8, 3, replace=False))] for _ in range(T)]
    ref = run_mesh(MeshConfig(cores, routes, order=[0, 1, 2]), inputs)
    write_config(tmp_path, arrays, [(s, n, d, a) for (s, n), v in routes.items() for d, a in v], [0, 1, 2],
                 weight_bits=4, membrane_bits=8, accumulator_bits=6)
    cfg = json.loads((tmp_path / "config.json").read_text())
    res = simulate_fast(tmp_path, cfg, inputs)
    assert res is not None
    for c in range(C):
        np.testing.assert_array_equal(res.spikes[c], ref[:, c])
    assert 0 < ref.astype(bool).mean() < 1


def test_progress_reaches_the_step_count(tmp_path):
    rng = np.random.default_rng(1)
    inputs = random_ff_config(tmp_path, rng)
    seen = []
    simulate(tmp_path, inputs, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == len(inputs)


def test_tie_order_of_a_saturating_step(tmp_path):
    """One axon gets a graded external event (-2) and a routed spike (+1) in the same step; weight 5, 4-bit
    accumulator: external first (the per-step path's delivery order) gives sat(sat(-10) + 5) = -3, the other
    order -5. Core 1's neuron (threshold -4, ge, hard reset to 0) fires every step only with -3."""
    w0 = np.zeros((1, 1), dtype=np.int64)
    p0 = np.array([[0], [0], [1], [0], [1], [0]])  # bias 1 >= v_th 0: fires every step
    w1 = np.array([[5]])
    p1 = np.array([[-4], [0], [0], [0], [1], [0]])
    write_config(tmp_path, [(w0, p0), (w1, p1)], [(0, 0, 1, 0)], [0, 1], weight_bits=4, membrane_bits=8,
                 accumulator_bits=4)
    inputs = [[(1, 0, -2)] for _ in range(5)]
    slow = simulate(tmp_path, inputs, fast=False)
    assert slow.spikes[1][:, 0].tolist() == [1] * 5
    fast = simulate_fast(tmp_path, json.loads((tmp_path / "config.json").read_text()), inputs)
    assert fast is not None
    same(fast, slow)


@pytest.mark.parametrize("reset", [0, 1, 2])
def test_membrane_saturates_low_then_recovers(tmp_path, reset):
    """6-bit membranes: ten -8 inputs pin v at -32 (not -80); then +7 a step reaches v_th = 5 at the 6th
    step (v = -32 + 42 = 10 >= 5), i.e. step 15 — without the saturation it would take until step 22."""
    w = np.array([[-8], [7]])
    p = np.array([[5], [0], [0], [0], [reset], [0]])
    write_config(tmp_path, [(w, p)], np.zeros((0, 4), dtype=np.int64), [0], weight_bits=4, membrane_bits=6,
                 accumulator_bits=6)
    inputs = [[(0, 0)] if t < 10 else [(0, 1)] for t in range(24)]
    slow = simulate(tmp_path, inputs, fast=False)
    assert int(np.argmax(slow.spikes[0][:, 0])) == 15
    fast = simulate_fast(tmp_path, json.loads((tmp_path / "config.json").read_text()), inputs)
    same(fast, slow)


def test_self_loop_pushes_a_step_into_saturation(tmp_path):
    """Neuron 0 fires every step and routes to its own core's axon 0 (delivered next step); neuron 1 gets +7 from
    that axon and +7 from an external event on axon 1, with a 4-bit accumulator: the external event alone stays
    in range, with the self-event the sum saturates at 7 (not 14). v_th 15: neuron 1 fires first at step 2
    (7, 14, 21), with the unsaturated sum at step 1 (7, 21)."""
    w = np.array([[0, 7], [0, 7]])
    p = np.array([[1, 15], [0, 0], [1, 0], [0, 0], [1, 1], [0, 0]])
    write_config(tmp_path, [(w, p)], [(0, 0, 0, 0)], [0], weight_bits=4, membrane_bits=8, accumulator_bits=4)
    inputs = [[(0, 1)] for _ in range(6)]
    slow = simulate(tmp_path, inputs, fast=False)
    assert slow.spikes[0][:, 0].tolist() == [1] * 6
    assert int(np.argmax(slow.spikes[0][:, 1])) == 2
    fast = simulate_fast(tmp_path, json.loads((tmp_path / "config.json").read_text()), inputs)
    assert fast is not None
    same(fast, slow)


@pytest.mark.parametrize("acc_bits", [28, 40, 62])
def test_wide_weights_and_accumulators(tmp_path, acc_bits):
    """Weights up to 2^26 (no exact float32 copy) and sums beyond 2^24 / 2^53: the float64 / int64 products."""
    rng = np.random.default_rng(acc_bits)
    w0 = rng.integers(-(1 << 26), 1 << 26, (16, 8)) * (1 << max(0, acc_bits - 40))
    w1 = rng.integers(-8, 8, (16, 8))
    p = np.stack([np.full(8, 1 << 20), np.zeros(8, int), np.zeros(8, int), np.zeros(8, int), np.full(8, 2),
                  np.zeros(8, int)])
    write_config(tmp_path, [(w0, p), (w1, p)], [(0, n, 1, n) for n in range(8)], [0, 1], weight_bits=acc_bits - 1,
                 membrane_bits=acc_bits, accumulator_bits=acc_bits)
    inputs = [[(0, int(a), int(rng.integers(1, 100))) for a in rng.choice(16, 10, replace=False)] for _ in range(8)]
    slow = simulate(tmp_path, inputs, fast=False)
    fast = simulate_fast(tmp_path, json.loads((tmp_path / "config.json").read_text()), inputs)
    same(fast, slow)
    assert slow.spikes[0].any()


def test_edge_cases(tmp_path):
    rng = np.random.default_rng(5)
    random_ff_config(tmp_path, rng)
    cfg = json.loads((tmp_path / "config.json").read_text())
    same(simulate_fast(tmp_path, cfg, []), simulate(tmp_path, [], fast=False))  # no steps
    assert simulate_fast(tmp_path, cfg, [[(0, 99)]]) is None  # no such axon: left to the per-step path
    assert simulate_fast(tmp_path, cfg, [[(7, 0)]]) is None  # no such core
    inputs = (step for step in [[(0, 1)], [(1, 2, 3)], []])  # a generator is read once
    same(simulate(tmp_path, inputs), simulate(tmp_path, [[(0, 1)], [(1, 2, 3)], []], fast=False))
