"""The reference RTL core and mesh, simulated with Icarus Verilog / Verilator, bit-exact against refmodel.py."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.backends.rtl.refmodel import CoreConfig, MeshConfig, core_step, run_core, run_mesh, sat
from snnc.backends.rtl.sim import have, pack_params, simulate

needs_iverilog = pytest.mark.skipif(
    not have("iverilog"), reason="iverilog not installed (scripts/install-system-deps.sh)"
)
needs_verilator = pytest.mark.skipif(
    not have("verilator"), reason="verilator not installed (scripts/install-system-deps.sh)"
)


def random_core(
    rng,
    n_axons=12,
    n_neurons=8,
    W=4,
    N=10,
    A=14,
    *,
    reset=None,
    cmp=None,
    ternary=False,
    max_shift=4,
    extreme=False,
    excitatory=False,
) -> CoreConfig:
    wlo, whi = -(1 << (W - 1)), (1 << (W - 1)) - 1
    vlo, vhi = -(1 << (N - 1)), (1 << (N - 1)) - 1
    if extreme:  # weights at the ends of their range: accumulator and membrane saturate
        w = rng.choice([wlo, whi, whi, 0], size=(n_axons, n_neurons))
        v_th = rng.choice([vhi, vhi - 1, vlo + 1, 3 * whi], size=n_neurons)
        bias = rng.choice([vlo, vhi, 0, 1, -1], size=n_neurons)
    else:
        w = rng.integers(-2 if excitatory else wlo, whi + 1, size=(n_axons, n_neurons))
        v_th = rng.integers(1, 4 * whi + 2, size=n_neurons)
        v_th[0] = 0  # fires whenever v' >= 0
        bias = rng.integers(-2, 3, size=n_neurons)
    return CoreConfig(
        weights=w,
        v_th=v_th,
        v_reset=rng.integers(max(vlo, -8), min(vhi, 8) + 1, size=n_neurons),
        bias=bias,
        leak_shift=rng.integers(0, min(max_shift, N - 1) + 1, size=n_neurons),
        reset_mode=rng.integers(0, 3, size=n_neurons) if reset is None else reset,
        cmp=rng.integers(0, 2, size=n_neurons) if cmp is None else cmp,
        ternary=rng.random(n_neurons) < 0.5 if ternary else False,
        weight_bits=W,
        mem_bits=N,
        acc_bits=A,
    )


def random_inputs(rng, n_axons, T, p=0.4, ternary=False):
    out = []
    for _ in range(T):
        axons = np.flatnonzero(rng.random(n_axons) < p)
        signs = rng.integers(0, 2, size=len(axons)) if ternary else np.zeros(len(axons), dtype=int)
        out.append([(int(a), int(s)) for a, s in zip(axons, signs)])
    return out


def check_core(cfg, inputs, tmp_path, simulator="iverilog"):
    ref = run_core(cfg, inputs)
    res = simulate(cfg, inputs, tmp_path, simulator=simulator)
    got = res.spikes[:, 0]
    if not np.array_equal(ref, got):
        t, n = np.argwhere(ref != got)[0]
        pytest.fail(f"first mismatch at step {t}, neuron {n}: refmodel {ref[t, n]}, RTL {got[t, n]}")
    return ref, res


# ---------------------------------------------------------------- refmodel unit checks


def test_sat_and_shift_floor():
    assert list(sat([-200, -128, 0, 127, 300], 8)) == [-128, -128, 0, 127, 127]
    cfg = CoreConfig(
        weights=np.zeros((1, 4), int),
        v_th=100,
        leak_shift=[0, 1, 2, 3],
        reset_mode="none",
        weight_bits=4,
        mem_bits=8,
        acc_bits=8,
    )
    v, s = core_step(cfg, np.array([-5, -5, -5, -5]), [])
    # k = 0 is "no leak"; otherwise v - (v >>> k), with >>> rounding toward minus infinity
    assert list(v) == [-5, -5 - (-3), -5 - (-2), -5 - (-1)]
    assert not s.any()


def test_refmodel_reset_modes_and_ternary():
    cfg = CoreConfig(
        weights=np.array([[7, 7, 7, 7, -8]]),
        v_th=[5, 5, 5, 7, 5],
        v_reset=-2,
        reset_mode=["none", "hard", "soft", "soft", "soft"],
        cmp=["ge", "ge", "ge", "gt", "ge"],
        ternary=[False, False, False, False, True],
        weight_bits=4,
        mem_bits=6,
        acc_bits=6,
    )
    v, s = core_step(cfg, np.zeros(5, int), [(0, 0)])
    assert list(s) == [1, 1, 1, 0, -1]
    assert list(v) == [7, -2, 2, 7, -3]
    # soft reset saturates: v' = -32 (saturated), ternary -1 spike: v = sat(v' + v_th)
    v, s = core_step(cfg, np.array([0, 0, 0, 0, -30]), [(0, 0)])
    assert s[4] == -1 and v[4] == -32 + 5


def test_refmodel_accumulator_saturates_in_order():
    cfg = CoreConfig(
        weights=np.array([[7], [7], [-8]]), v_th=100, reset_mode="none", weight_bits=4, mem_bits=12, acc_bits=5
    )
    # 7 + 7 = 14 saturates at 15? no: sat_5 -> [-16, 15]; 7+7=14, 14-8=6
    assert core_step(cfg, np.zeros(1, int), [(0, 0), (1, 0), (2, 0)])[0][0] == 6
    cfg.weights = np.array([[7], [7], [7], [-8]])
    # 7+7+7 = 21 -> 15, then 15-8 = 7
    assert core_step(cfg, np.zeros(1, int), [(0, 0), (1, 0), (2, 0), (3, 0)])[0][0] == 7


def test_param_word_layout():
    cfg = CoreConfig(
        weights=np.zeros((1, 1), int),
        v_th=-1,
        v_reset=2,
        bias=-3,
        leak_shift=5,
        reset_mode="soft",
        cmp="gt",
        ternary=True,
        weight_bits=4,
        mem_bits=12,
        acc_bits=16,
    )
    (w,) = pack_params(cfg)
    assert w == 0xFFF | (2 << 12) | (0xFFD << 24) | (5 << 36) | (2 << 40) | (1 << 42) | (1 << 43)


# ---------------------------------------------------------------- single core, Icarus


CORE_CASES = {
    "hard-ge": dict(reset="hard", cmp="ge"),
    "soft-gt": dict(reset="soft", cmp="gt"),
    "none-mixed": dict(reset="none"),
    "mixed-leak0": dict(max_shift=0),
    "mixed-leak7": dict(max_shift=7),
    "extreme-sat": dict(extreme=True, A=6, N=8),
    "extreme-soft": dict(extreme=True, reset="soft", W=3, A=5, N=6),
    "ternary": dict(ternary=True),
    "one-neuron": dict(n_neurons=1, n_axons=5),
    "one-axon": dict(n_neurons=5, n_axons=1),
}


@needs_iverilog
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", list(CORE_CASES))
def test_core_iverilog_bit_exact(case, seed, tmp_path):
    rng = np.random.default_rng([seed, len(case), sum(map(ord, case))])
    kw = dict(CORE_CASES[case])
    ternary = kw.get("ternary", False)
    cfg = random_core(rng, **kw)
    inputs = random_inputs(rng, cfg.n_axons, T=20, p=0.5, ternary=ternary)
    ref, res = check_core(cfg, inputs, tmp_path)
    assert res.cycles.shape == (20,) and (res.cycles > 0).all()
    if case not in ("extreme-sat", "extreme-soft", "one-neuron", "one-axon"):
        assert ref.any(), "the random configuration should make neurons fire"


@needs_iverilog
def test_core_bigger_and_fifo_backpressure(tmp_path):
    # 64 axons, all firing, with a 2-deep FIFO: the host is stalled by in_ready
    rng = np.random.default_rng(7)
    cfg = random_core(rng, n_axons=64, n_neurons=16, W=4, N=12, A=10)
    inputs = random_inputs(rng, 64, T=6, p=0.9)
    ref = run_core(cfg, inputs)
    res = simulate(cfg, inputs, tmp_path, fifo_depth=2)
    assert np.array_equal(ref, res.spikes[:, 0])


@needs_iverilog
def test_cycles_per_step(tmp_path):
    """cycles = events * N_NEURONS + N_NEURONS + per-spike routing + constant (measured, 1-core mesh)."""
    n = 16
    cfg = CoreConfig(
        weights=np.zeros((32, n), int), v_th=100, reset_mode="hard", weight_bits=4, mem_bits=12, acc_bits=16
    )
    inputs = [list(range(e)) for e in (0, 1, 4, 16, 32)]
    res = simulate(cfg, inputs, tmp_path, fifo_depth=64)
    base = res.cycles - np.array([len(x) for x in inputs]) * n
    # docs/rtl.md: E*N + N + 8 cycles with no event, E*N + N + 9 with events (1-cycle accumulate latency)
    assert list(base) == [n + 8] + [n + 9] * 4, res.cycles
    # every neuron fires: the router spends 2 cycles per output spike (FANOUT = 1) and the update waits
    cfg.v_th[:] = -100
    res = simulate(cfg, [[], [0]], tmp_path, fifo_depth=64)
    assert list(res.cycles) == [2 * n + 7, 2 * n + 7 + n + 1], res.cycles


@needs_iverilog
@pytest.mark.parametrize("par", [2, 4, 8])
def test_core_row_parallel_bit_exact(par, tmp_path):
    """PAR synapses per clock: same spikes, E * N / PAR accumulate cycles."""
    rng = np.random.default_rng(100 + par)
    cfg = random_core(rng, n_axons=12, n_neurons=8, W=4, N=8, A=6, ternary=True)
    inputs = random_inputs(rng, cfg.n_axons, T=20, p=0.5, ternary=True)
    ref = run_core(cfg, inputs)
    res = simulate(cfg, inputs, tmp_path, par=par)
    assert np.array_equal(ref, res.spikes[:, 0])
    # no back-pressure from spikes: a silent core of 16 neurons
    quiet = CoreConfig(weights=np.zeros((32, 16), int), v_th=100, weight_bits=4, mem_bits=12, acc_bits=16)
    res = simulate(quiet, [[], list(range(20))], tmp_path / "quiet", par=par, fifo_depth=32)
    assert list(res.cycles) == [16 + 8, 20 * 16 // par + 16 + 9], res.cycles


@needs_iverilog
def test_mesh_row_parallel(tmp_path):
    rng = np.random.default_rng(21)
    mesh = chain_mesh(rng, 2, 8)
    inputs = [[(0, a) for a in np.flatnonzero(rng.random(8) < 0.6)] for _ in range(20)]
    ref = run_mesh(mesh, inputs)
    res = simulate(mesh, inputs, tmp_path, par=4)
    assert np.array_equal(ref, res.spikes) and ref[:, 1].any()


# ---------------------------------------------------------------- Verilator


@needs_verilator
def test_core_verilator_bit_exact(tmp_path):
    rng = np.random.default_rng(11)
    cfg = random_core(rng, n_axons=10, n_neurons=6, ternary=True, extreme=False, A=7, N=8)
    inputs = random_inputs(rng, cfg.n_axons, T=20, p=0.6, ternary=True)
    ref, res = check_core(cfg, inputs, tmp_path, simulator="verilator")
    assert ref.any()


# ---------------------------------------------------------------- meshes


def chain_mesh(rng, n_cores=3, n=8, order=None):
    cores = [random_core(rng, n_axons=n, n_neurons=n, N=10, A=12, excitatory=True) for _ in range(n_cores)]
    chain = order or list(range(n_cores))
    routes = {}
    for src, dst in zip(chain, chain[1:]):
        for i in range(n):
            routes[(src, i)] = [(dst, i)]
    return MeshConfig(cores, routes, order=chain)


def check_mesh(mesh, inputs, tmp_path, simulator="iverilog"):
    ref = run_mesh(mesh, inputs)
    res = simulate(mesh, inputs, tmp_path, simulator=simulator)
    if not np.array_equal(ref, res.spikes):
        t, c, n = np.argwhere(ref != res.spikes)[0]
        pytest.fail(
            f"first mismatch at step {t}, core {c}, neuron {n}: refmodel {ref[t, c, n]}, RTL {res.spikes[t, c, n]}"
        )
    return ref, res


@needs_iverilog
def test_mesh_chain_same_step(tmp_path):
    rng = np.random.default_rng(3)
    mesh = chain_mesh(rng, 3, 8, order=[2, 0, 1])  # chain 2 -> 0 -> 1, run in that order
    inputs = [[(2, a) for a in np.flatnonzero(rng.random(8) < 0.6)] for _ in range(20)]
    ref, res = check_mesh(mesh, inputs, tmp_path)
    assert ref[:, 2].any() and ref[:, 0].any() and ref[:, 1].any()
    # same-step delivery: a spike of core 2 at step t can make core 0 fire at step t
    assert ref[0, 0].any() or ref[0, 2].sum() == 0


@needs_iverilog
def test_mesh_2x2_diamond_fanout(tmp_path):
    rng = np.random.default_rng(5)
    n = 4
    cores = [random_core(rng, n_axons=2 * n, n_neurons=n, N=10, A=12, excitatory=True) for _ in range(4)]
    routes = {}
    for i in range(n):
        routes[(0, i)] = [(1, i), (2, n + i)]  # fan-out 2
        routes[(1, i)] = [(3, i)]
        routes[(2, i)] = [(3, n + i)]
    mesh = MeshConfig(cores, routes, order=[0, 1, 2, 3])
    inputs = [[(0, a) for a in np.flatnonzero(rng.random(2 * n) < 0.6)] for _ in range(20)]
    ref, _ = check_mesh(mesh, inputs, tmp_path)
    assert ref[:, 3].any()


@needs_iverilog
def test_mesh_feedback_is_delivered_next_step(tmp_path):
    # core 1 feeds back to core 0 (axons 0..3, below the external axons 4..7): a one-step delay
    rng = np.random.default_rng(9)
    n = 4
    cores = [random_core(rng, n_axons=2 * n, n_neurons=n, N=10, A=12, ternary=True, excitatory=True) for _ in range(2)]
    routes = {(0, i): [(1, i)] for i in range(n)}
    routes.update({(1, i): [(0, i)] for i in range(n)})
    mesh = MeshConfig(cores, routes, order=[0, 1])
    inputs = [[(0, n + a, int(rng.integers(0, 2))) for a in np.flatnonzero(rng.random(n) < 0.6)] for _ in range(20)]
    ref, _ = check_mesh(mesh, inputs, tmp_path)
    assert ref[:, 1].any()


def test_mesh_rejects_out_of_order_delivery():
    rng = np.random.default_rng(0)
    cores = [random_core(rng, n_axons=4, n_neurons=4) for _ in range(2)]
    cores[0].v_th[:] = -100  # always fires
    mesh = MeshConfig(cores, {(0, 0): [(1, 3)], (0, 1): [(1, 0)]})
    with pytest.raises(ValueError, match="not strictly increasing"):
        run_mesh(mesh, [[]])


@needs_verilator
@pytest.mark.slow
def test_mesh_verilator_row_parallel(tmp_path):
    rng = np.random.default_rng(31)
    mesh = chain_mesh(rng, 3, 8, order=[1, 2, 0])
    inputs = [[(1, a) for a in np.flatnonzero(rng.random(8) < 0.6)] for _ in range(20)]
    ref = run_mesh(mesh, inputs)
    res = simulate(mesh, inputs, tmp_path, simulator="verilator", par=2)
    assert np.array_equal(ref, res.spikes) and ref[:, 0].any()


# ---------------------------------------------------------------- graded events and the mul leak


def test_refmodel_graded_event_and_mul_leak():
    cfg = CoreConfig(weights=[[3, -2]], v_th=100, leak_shift=0, reset_mode="none", weight_bits=4, mem_bits=8,
                     acc_bits=6)
    # 5 * 3 = 15 fits 6 bits; 20 * 3 = 60 saturates at 31, 20 * -2 = -40 at -32
    assert list(core_step(cfg, np.zeros(2, dtype=np.int64), [(0, 0, 5)])[0]) == [15, -10]
    assert list(core_step(cfg, np.zeros(2, dtype=np.int64), [(0, 0, 20)])[0]) == [31, -32]
    assert list(core_step(cfg, np.zeros(2, dtype=np.int64), [(0, 1, 20)])[0]) == [-32, 31]
    m = CoreConfig(weights=[[0, 0]], v_th=127, leak_mul=True, decay=[3, 4], frac_bits=2, reset_mode="none",
                   weight_bits=4, mem_bits=8, acc_bits=8)
    v, _ = core_step(m, np.array([-7, 100]), [])
    # (v * a + 2) >> 2: -7 * 3 = -21 -> floor(-19 / 4) = -5; a = 2^f keeps v
    assert list(v) == [-5, 100]


def _graded_inputs(rng, n_axons, T, mag_bits, p=0.5):
    out = []
    for _ in range(T):
        axons = np.flatnonzero(rng.random(n_axons) < p)
        out.append([(int(a), int(rng.integers(0, 2)), int(rng.integers(1, 1 << mag_bits))) for a in axons])
    return out


@needs_iverilog
@pytest.mark.parametrize("seed", [0, 1])
def test_core_graded_events_and_mul_leak_bit_exact(seed, tmp_path):
    """Graded events (magnitude up to 2^8 - 1, accumulator saturating) and per-neuron mul leaks (decay 0..2^f,
    membrane saturating) on one core: iverilog == refmodel."""
    rng = np.random.default_rng(seed)
    base = random_core(rng, n_axons=10, n_neurons=8, W=5, N=12, A=14, extreme=seed == 1)
    f = 6
    cfg = CoreConfig(weights=base.weights, v_th=base.v_th, v_reset=base.v_reset, bias=base.bias,
                     leak_shift=base.leak_shift, reset_mode=base.reset_mode, cmp=base.cmp, weight_bits=5,
                     mem_bits=12, acc_bits=14, leak_mul=rng.random(8) < 0.6,
                     decay=rng.choice([0, 1, 37, 63, 64], size=8), frac_bits=f)
    inputs = _graded_inputs(rng, 10, 16, 8)
    ref = run_core(cfg, inputs)
    res = simulate(cfg, inputs, tmp_path, mag_bits=8)
    assert np.array_equal(ref, res.spikes[:, 0]), np.argwhere(ref != res.spikes[:, 0])[:3]
    assert ref.any() and not ref.all()


@needs_iverilog
@pytest.mark.parametrize("par", [1, 2])
def test_mesh_heterogeneous_core_sizes(par, tmp_path):
    """Cores of different neuron and axon counts (CORE_NEURONS / CORE_AXONS): 1 x 2 -> 6 x 4 -> 2 x 6 with
    feedback from the last core into the first; iverilog == refmodel, and a small core costs its own size."""
    rng = np.random.default_rng(11 + par)
    sizes = [(3, 2), (2, 6), (6, 2)]  # (axons, neurons)
    cores = [random_core(rng, n_axons=a, n_neurons=n, N=10, A=12, excitatory=True) for a, n in sizes]
    routes = {(0, 0): [(1, 0)], (0, 1): [(1, 1)]}
    for i in range(6):
        routes[(1, i)] = [(2, i)]
    routes[(2, 1)] = [(0, 0)]  # feedback: next step, axon 0 (before the external axons 1, 2)
    mesh = MeshConfig(cores, routes, order=[0, 1, 2])
    inputs = [[(0, a) for a in (1, 2) if rng.random() < 0.7] for _ in range(20)]
    ref = run_mesh(mesh, inputs)
    res = simulate(mesh, inputs, tmp_path, par=par)
    assert np.array_equal(ref, res.spikes), np.argwhere(ref != res.spikes)[:3]
    assert ref[:, 2].any() and ref[:, 1].any()
    assert not ref[:, 0, 2:].any() and not ref[:, 2, 2:].any()  # padding columns of the small cores


# ---------------------------------------------------------------- current compartments and a requantized axon group


def test_refmodel_current_compartment_and_group():
    """i = sat_N(i - leak_i + x + bias_i) feeds v; bank B (axon_group 1) is requantized half up before the sum."""
    cfg = CoreConfig(weights=[[8], [100]], v_th=1000, reset_mode="none", leak_shift=0, mem_bits=12, acc_bits=16,
                     weight_bits=8, cur_unit=1, cur=True, cur_leak_shift=1, cur_bias=1, groups=2,
                     axon_group=[0, 1], rq_shift=3, rq_half=1)
    v = np.zeros(1, dtype=np.int64)
    i = np.zeros(1, dtype=np.int64)
    v, _ = core_step(cfg, v, [(0, 0, 1), (1, 0, 1)], i)  # x = 8 + (100 + 4) >> 3 = 21; i = 0 - 0 + 21 + 1 = 22
    assert i.tolist() == [22] and v.tolist() == [22]
    v, _ = core_step(cfg, v, [], i)  # i = 22 - 11 + 0 + 1 = 12; v = 22 + 12
    assert i.tolist() == [12] and v.tolist() == [34]


@needs_iverilog
@pytest.mark.parametrize("seed", [0, 1])
def test_core_current_compartment_and_group_bit_exact(seed, tmp_path):
    """CUR = 1 (per-neuron current compartments: shift or mul leak, bias, saturation) and GROUPS = 2 (a second
    accumulator bank requantized with a half-up or floor shift; bank A's bias from step 0 or 1), graded events:
    iverilog == refmodel."""
    rng = np.random.default_rng(40 + seed)
    base = random_core(rng, n_axons=10, n_neurons=8, W=6, N=12, A=14, extreme=seed == 1)
    f = 5
    cfg = CoreConfig(weights=base.weights, v_th=base.v_th, v_reset=base.v_reset, bias=base.bias,
                     leak_shift=base.leak_shift, reset_mode=base.reset_mode, cmp=base.cmp, weight_bits=6,
                     mem_bits=12, acc_bits=14, leak_mul=rng.random(8) < 0.5,
                     decay=rng.choice([0, 1, 17, 31, 32], size=8), frac_bits=f,
                     cur_unit=1, cur=rng.random(8) < 0.7, cur_bias=rng.integers(-20, 21, size=8),
                     cur_leak_shift=rng.integers(0, 4, size=8), cur_leak_mul=rng.random(8) < 0.5,
                     cur_decay=rng.choice([0, 9, 16, 32], size=8), groups=2,
                     axon_group=(np.arange(10) >= 6).astype(np.int64), rq_shift=int(rng.integers(0, 5)),
                     rq_half=seed, gbias=rng.integers(-3000, 3000, size=8) * (seed == 1), gb_delay=1 - seed)
    inputs = _graded_inputs(rng, 10, 16, 6)
    ref = run_core(cfg, inputs)
    res = simulate(cfg, inputs, tmp_path, mag_bits=6)
    assert np.array_equal(ref, res.spikes[:, 0]), np.argwhere(ref != res.spikes[:, 0])[:3]
    assert ref.any() and not ref.all()
