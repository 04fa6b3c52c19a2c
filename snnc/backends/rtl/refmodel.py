"""Numpy golden model of the snnc integer neuron semantics, for one core and for a mesh.

This is the contract of docs/rtl.md ("Integer semantics"), written once in numpy:

    acc[n] = sat_A(acc[n] +/- m * w[a][n])  for each input event (a, sign, m) of the step, in order
                                            (m = 1 for a spike; m > 1 a graded event, e.g. a quantized input)
    leak   = 0 if k == 0 else v >> k         (arithmetic shift, floor division by 2**k)
           | v - ((v * a + 2^(f-1)) >> f)   (mul leak: neurons with leak_mul set, a = decay, f = frac_bits)
    x      = acc[n]   (groups = 2: x = sat_A(acc[n] + ((accB[n] + h) >> rq_shift)), accB summing the events of
                       the axons with axon_group 1, h = 2^(rq_shift-1) if rq_half else 0)
    i      = sat_N(i - leak_i(i) + x + cur_bias[n]); x = i   (neurons with a current compartment, cur[n];
                                                            leak_i: shift cur_leak_shift or mul cur_decay)
    v'     = sat_N(v - leak + x + bias[n])
    s      = v' >= v_th  (cmp "ge")  |  v' > v_th  (cmp "gt");  ternary neurons: s = -1 if v' <= -v_th
    v      = none: v'  |  hard: v_reset if s else v'  |  soft: sat_N(v' - s * v_th) if s else v'

The RTL core (hdl/snnc_lif_core.v) must equal it bit for bit; the integer interpreter of the
``spike`` dialect must equal it too once it exists.

Events are applied in the order given.  The contract says "increasing axon index": `run_core`
sorts each step's events, and `run_mesh` models the order in which the hardware delivers
them and (with ``strict=True``) rejects a configuration whose delivery order is not increasing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RESET_MODES = {"none": 0, "hard": 1, "soft": 2}
CMP_MODES = {"ge": 0, "gt": 1}


def sat(x, bits: int):
    """sat_N(x) = min(max(x, -2^(N-1)), 2^(N-1)-1), elementwise on int64."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(np.asarray(x, dtype=np.int64), lo, hi)


def _per_neuron(x, n: int, dtype=np.int64) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim == 0:
        a = np.full(n, a)
    if a.shape != (n,):
        raise ValueError(f"expected a scalar or a vector of {n} values, got shape {a.shape}")
    return a.astype(dtype)


@dataclass
class CoreConfig:
    """One core: weights[axon, neuron] and per-neuron integer parameters."""

    weights: np.ndarray
    v_th: np.ndarray | int
    v_reset: np.ndarray | int = 0
    bias: np.ndarray | int = 0
    leak_shift: np.ndarray | int = 0
    reset_mode: np.ndarray | int | str = "hard"
    cmp: np.ndarray | int | str = "ge"
    ternary: np.ndarray | bool = False
    weight_bits: int = 4
    mem_bits: int = 12
    acc_bits: int = 16
    leak_mul: np.ndarray | bool = False  # per neuron: the multiplicative leak instead of the shift
    decay: np.ndarray | int = 0  # a of the mul leak, 0..2^frac_bits
    frac_bits: int = 0  # f of the mul leak (0: the core has no multiplier)
    cur_unit: int = 0  # the RTL's CUR parameter: 1 = the core has current compartments (per neuron: cur)
    cur: np.ndarray | bool = False
    cur_bias: np.ndarray | int = 0
    cur_leak_shift: np.ndarray | int = 0
    cur_leak_mul: np.ndarray | bool = False
    cur_decay: np.ndarray | int = 0
    groups: int = 1  # the RTL's GROUPS parameter: 2 = a second accumulator bank (axon_group 1), requantized
    axon_group: np.ndarray | int = 0
    rq_shift: int = 0
    rq_half: int = 0
    gbias: np.ndarray | int = 0  # bank A's bias (groups = 2), added from step gb_delay on: sat_A(acc + gbias)
    gb_delay: int = 0

    def __post_init__(self):
        w = np.asarray(self.weights, dtype=np.int64)
        if w.ndim != 2:
            raise ValueError("weights must be [n_axons, n_neurons]")
        self.weights = w
        n = w.shape[1]
        rm = self.reset_mode
        if isinstance(rm, str):
            rm = RESET_MODES[rm]
        elif np.asarray(rm).dtype.kind in "US":
            rm = np.vectorize(RESET_MODES.__getitem__)(np.asarray(rm))
        cm = self.cmp
        if isinstance(cm, str):
            cm = CMP_MODES[cm]
        elif np.asarray(cm).dtype.kind in "US":
            cm = np.vectorize(CMP_MODES.__getitem__)(np.asarray(cm))
        self.v_th = _per_neuron(self.v_th, n)
        self.v_reset = _per_neuron(self.v_reset, n)
        self.bias = _per_neuron(self.bias, n)
        self.leak_shift = _per_neuron(self.leak_shift, n)
        self.reset_mode = _per_neuron(rm, n)
        self.cmp = _per_neuron(cm, n)
        self.ternary = _per_neuron(self.ternary, n, dtype=bool)
        self.leak_mul = _per_neuron(self.leak_mul, n, dtype=bool)
        self.decay = _per_neuron(self.decay, n)
        self.cur = _per_neuron(self.cur, n, dtype=bool)
        self.cur_bias = _per_neuron(self.cur_bias, n)
        self.cur_leak_shift = _per_neuron(self.cur_leak_shift, n)
        self.cur_leak_mul = _per_neuron(self.cur_leak_mul, n, dtype=bool)
        self.cur_decay = _per_neuron(self.cur_decay, n)
        self.axon_group = _per_neuron(self.axon_group, w.shape[0])
        self.gbias = _per_neuron(self.gbias, n)
        self.validate()

    @property
    def n_axons(self) -> int:
        return self.weights.shape[0]

    # (MeshConfig.max_neurons / max_axons: the largest core, the mesh's N_NEURONS / N_AXONS)

    @property
    def n_neurons(self) -> int:
        return self.weights.shape[1]

    def validate(self) -> None:
        W, N, A = self.weight_bits, self.mem_bits, self.acc_bits
        if not (1 <= W <= A) or N < 2:
            raise ValueError(f"need 1 <= weight_bits <= acc_bits and mem_bits >= 2 (got W={W}, N={N}, A={A})")

        def in_range(name, x, bits):
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            if x.size and (x.min() < lo or x.max() > hi):
                raise ValueError(f"{name} does not fit in {bits} signed bits")

        in_range("weights", self.weights, W)
        for name in ("v_th", "v_reset", "bias"):
            in_range(name, getattr(self, name), N)
        if self.leak_shift.size and (self.leak_shift.min() < 0 or self.leak_shift.max() >= N):
            raise ValueError(f"leak_shift must be in 0..{N - 1}")
        if not np.isin(self.reset_mode, [0, 1, 2]).all():
            raise ValueError("reset_mode must be none (0), hard (1) or soft (2)")
        if not np.isin(self.cmp, [0, 1]).all():
            raise ValueError("cmp must be ge (0) or gt (1)")
        f = self.frac_bits
        if f < 0 or (self.leak_mul.any() and f < 1):
            raise ValueError("a mul leak needs frac_bits >= 1")
        if self.decay.size and (self.decay.min() < 0 or self.decay.max() > (1 << f)):
            raise ValueError(f"decay must be in 0..2^frac_bits = {1 << f}")
        if self.cur.any() and not self.cur_unit:
            raise ValueError("current compartments need cur_unit = 1")
        in_range("cur_bias", self.cur_bias, N)
        if self.cur_leak_shift.size and (self.cur_leak_shift.min() < 0 or self.cur_leak_shift.max() >= N):
            raise ValueError(f"cur_leak_shift must be in 0..{N - 1}")
        if self.cur_leak_mul.any() and f < 1:
            raise ValueError("a mul leak needs frac_bits >= 1")
        if self.cur_decay.size and (self.cur_decay.min() < 0 or self.cur_decay.max() > (1 << f)):
            raise ValueError(f"cur_decay must be in 0..2^frac_bits = {1 << f}")
        if self.groups not in (1, 2) or not np.isin(self.axon_group, [0, self.groups - 1]).all():
            raise ValueError("groups must be 1 or 2 and axon_group in 0..groups-1")
        if not (0 <= self.rq_shift < A) or self.rq_half not in (0, 1):
            raise ValueError(f"rq_shift must be in 0..{A - 1} and rq_half 0 or 1")
        in_range("gbias", self.gbias, A)
        if self.gb_delay not in (0, 1) or (self.groups == 1 and self.gbias.any()):
            raise ValueError("gb_delay must be 0 or 1, and gbias needs groups = 2")


def accumulate(cfg: CoreConfig, events, t: int = 0) -> np.ndarray:
    """acc after applying the events (axon, sign[, magnitude]) in the given order; sign 0 adds m * w,
    1 subtracts it; m (default 1) is a graded event's unsigned magnitude."""
    banks = [np.zeros(cfg.n_neurons, dtype=np.int64) for _ in range(2)]
    for e in events:
        axon, sign = e[0], e[1]
        w = cfg.weights[axon] * (int(e[2]) if len(e) > 2 else 1)
        g = int(cfg.axon_group[axon]) if cfg.groups > 1 else 0
        banks[g] = sat(banks[g] - w if sign else banks[g] + w, cfg.acc_bits)
    if cfg.groups == 1:
        return banks[0]
    h = (1 << (cfg.rq_shift - 1)) if cfg.rq_half and cfg.rq_shift > 0 else 0
    a = sat(banks[0] + cfg.gbias, cfg.acc_bits) if t >= cfg.gb_delay else banks[0]
    return sat(a + ((banks[1] + h) >> cfg.rq_shift), cfg.acc_bits)


def _leak(v, k, mul, decay, f):
    leak = np.where(k == 0, 0, v >> k)  # numpy >> on int64 is arithmetic (floor)
    if mul.any():
        leak = np.where(mul, v - ((v * decay + (1 << (f - 1))) >> f), leak)
    return leak


def neuron_update(cfg: CoreConfig, v: np.ndarray, acc: np.ndarray, i: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """One neuron update (current compartment, leak, integrate, fire, reset). Returns (v_new, spikes in
    {-1, 0, 1}); ``i`` (the current compartments' state, when the core has them) is updated in place."""
    N = cfg.mem_bits
    v = np.asarray(v, dtype=np.int64)
    if cfg.cur.any():
        if i is None:
            raise ValueError("a core with current compartments needs their state i")
        ip = sat(i - _leak(i, cfg.cur_leak_shift, cfg.cur_leak_mul, cfg.cur_decay, cfg.frac_bits) + acc
                 + cfg.cur_bias, N)
        acc = np.where(cfg.cur, ip, acc)
        i[:] = np.where(cfg.cur, ip, 0)
    leak = _leak(v, cfg.leak_shift, cfg.leak_mul, cfg.decay, cfg.frac_bits)
    vp = sat(v - leak + acc + cfg.bias, N)
    fire_pos = np.where(cfg.cmp == 1, vp > cfg.v_th, vp >= cfg.v_th)
    fire_neg = cfg.ternary & ~fire_pos & (vp <= -cfg.v_th)
    s = fire_pos.astype(np.int64) - fire_neg.astype(np.int64)
    soft = sat(vp - s * cfg.v_th, N)
    v_new = np.select([cfg.reset_mode == 1, cfg.reset_mode == 2], [np.where(s != 0, cfg.v_reset, vp), soft], vp)
    return v_new, s


def core_step(cfg: CoreConfig, v: np.ndarray, events, i: np.ndarray | None = None, t: int = 0
              ) -> tuple[np.ndarray, np.ndarray]:
    """One time step t of one core: events in the given order (``i``: current state, updated in place)."""
    return neuron_update(cfg, v, accumulate(cfg, events, t), i)


def _normalize_events(step_events):
    out = []
    for e in step_events:
        if isinstance(e, tuple | list):
            out.append((int(e[0]), int(e[1]) if len(e) > 1 else 0, int(e[2]) if len(e) > 2 else 1))
        else:
            out.append((int(e), 0, 1))
    return out


def run_core(cfg: CoreConfig, inputs) -> np.ndarray:
    """inputs: per step, an iterable of axon indices or (axon, sign[, magnitude]) tuples.
    Returns spikes [T, n_neurons] int8.

    Events of a step are applied in increasing axon order (the contract)."""
    v = np.zeros(cfg.n_neurons, dtype=np.int64)
    i = np.zeros(cfg.n_neurons, dtype=np.int64)
    out = []
    for t, step_events in enumerate(inputs):
        ev = sorted(_normalize_events(step_events))
        v, s = core_step(cfg, v, ev, i, t)
        out.append(s)
    return np.array(out, dtype=np.int8).reshape(len(out), cfg.n_neurons)


@dataclass
class MeshConfig:
    """Cores of identical widths (their neuron and axon counts may differ) connected by routing tables.

    routes[(core, neuron)] = [(dest_core, dest_axon), ...] (at most `fanout` entries).
    order: the order in which the cores run inside one time step."""

    cores: list[CoreConfig]
    routes: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)
    order: list[int] | None = None
    fanout: int | None = None

    def __post_init__(self):
        if not self.cores:
            raise ValueError("a mesh needs at least one core")
        c0 = self.cores[0]
        def dims_of(c):
            return (c.weight_bits, c.mem_bits, c.acc_bits, c.frac_bits, c.cur_unit, c.groups, c.rq_shift, c.rq_half,
                    c.gb_delay)

        dims = dims_of(c0)
        for c in self.cores:
            if dims_of(c) != dims:
                raise ValueError("all cores of a mesh must have the same widths")
        if self.order is None:
            self.order = list(range(len(self.cores)))
        if sorted(self.order) != list(range(len(self.cores))):
            raise ValueError("order must be a permutation of the core indices")
        longest = max((len(v) for v in self.routes.values()), default=0)
        if self.fanout is None:
            self.fanout = max(1, longest)
        if longest > self.fanout:
            raise ValueError(f"a neuron has {longest} routes, more than fanout={self.fanout}")
        for (c, n), dests in self.routes.items():
            if not (0 <= c < len(self.cores) and 0 <= n < self.cores[c].n_neurons):
                raise ValueError(f"route source ({c}, {n}) out of range")
            for d, a in dests:
                if not (0 <= d < len(self.cores) and 0 <= a < self.cores[d].n_axons):
                    raise ValueError(f"route destination ({d}, {a}) out of range")


def _max_neurons(mesh: MeshConfig) -> int:
    return max(c.n_neurons for c in mesh.cores)


def run_mesh(mesh: MeshConfig, inputs, strict: bool = True) -> np.ndarray:
    """inputs: per step, a list of (core, axon[, sign[, magnitude]]) external events, in delivery order.

    Models the hardware's delivery order exactly: at a core, events left over from the
    previous step (feedback routes to a core that had already run), then external events,
    then spikes of the cores that run before it, each core's spikes in neuron order and
    each neuron's routes in table order.  With strict=True a delivery order that is not
    strictly increasing in axon index (what the contract requires) raises ValueError.
    Returns spikes [T, n_cores, max neurons] int8 (a smaller core's extra columns are 0)."""
    C = len(mesh.cores)
    pos = {c: i for i, c in enumerate(mesh.order)}
    v = [np.zeros(cfg.n_neurons, dtype=np.int64) for cfg in mesh.cores]
    cur = [np.zeros(cfg.n_neurons, dtype=np.int64) for cfg in mesh.cores]
    pending: list[list[tuple[int, int, int]]] = [[] for _ in range(C)]
    out = []
    for t, step_events in enumerate(inputs):
        events = pending
        pending = [[] for _ in range(C)]
        for e in step_events:
            c, a = int(e[0]), int(e[1])
            s = int(e[2]) if len(e) > 2 else 0
            events[c].append((a, s, int(e[3]) if len(e) > 3 else 1))
        spikes = np.zeros((C, _max_neurons(mesh)), dtype=np.int8)
        for c in mesh.order:
            ev = events[c]
            if strict and any(b[0] <= a[0] for a, b in zip(ev, ev[1:])):
                raise ValueError(
                    f"step {t}, core {c}: events are delivered in axon order {[e[0] for e in ev]}, "
                    "not strictly increasing (the contract's order); renumber the axons or reorder the cores"
                )
            v[c], s = core_step(mesh.cores[c], v[c], ev, cur[c], t)
            spikes[c, : len(s)] = s
            for n in np.flatnonzero(s):
                sign = 1 if s[n] < 0 else 0
                for d, a in mesh.routes.get((c, int(n)), []):
                    (events[d] if pos[d] > pos[c] else pending[d]).append((a, sign, 1))
        out.append(spikes)
    return np.array(out, dtype=np.int8).reshape(len(out), C, _max_neurons(mesh))
