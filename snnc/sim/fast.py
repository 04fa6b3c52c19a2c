"""Fast path of the neuro-core simulator: all T steps of one core at once.

When every route goes from a core to a core later in the recorded ``order`` or to the same core (no route to an
earlier core), core ``c``'s inputs from external events and from other cores are known for every step once the
cores before it have run all their steps. So, core by core in ``order``:

1. the events of all steps (external events, and the spikes the earlier cores routed here) become a sparse
   ``[T, axons]`` matrix X of summed payloads per (step, axon), one per axon group (shifted down by the group's
   delay), and a matching matrix of event counts (for the synaptic-operation and cycle counters);
2. accumulation ``X @ W`` as a CSR x dense product. It is exact: in float32 when every step's
   ``sum |payload| x max |w|`` is below 2^24, in float64 below 2^53, in int64 otherwise (every partial sum of
   integers below 2^p is exact in a p-bit mantissa, in any summation order);
3. saturation: a step whose bound ``sum |payload| x max |w|`` stays inside the group's accumulator range cannot
   have a prefix sum outside it, so the plain sum equals the saturating sequence (the rule of
   :func:`snnc.sim._sat_sequence`); any other step is redone exactly: its events in the per-step path's order
   (increasing axon; events on one axon in delivery order: external first, then source cores in ``order``,
   routes in file order) through ``_sat_sequence``;
4. requantisation, group bias and group sums vectorised over ``[T, neurons]`` (the per-step path's functions);
5. the neuron recurrence (leak, integrate, fire, reset) over T, vectorised over neurons, with a specialised loop
   for the common parameters (shift leak, no current compartment, binary spikes, one comparison and reset mode);
6. routing: packets, hops, per-step longest route and the destination events, from the spike matrix.

A core with routes to itself (a recurrent layer) runs steps 3-5 step by step (:func:`_self_loop_core`): at step
t its own spikes of step ``t - D`` are added to the batched sums (D = the group's delay, or 1 for a delay-0 group,
which the per-step path queues for the next step), the bound then includes them, and a saturating step's
sequence puts them where the per-step path delivers them (first on a delay-0 group's axon, last on a delayed one).

Counters (synaptic ops, neuron updates, packets, hops, cycles, energy) are the per-step path's, term by term.
The fast path declines a configuration it does not fully know (a route to an earlier core, a core missing from ``order``,
an unknown config.json key, ``cores`` entry key or group key, more parameter rows than :data:`snnc.sim.PARAM_ROWS`), so
:func:`snnc.sim.simulate` then runs the per-step path. ``progress`` is called after each core with the steps done
so far scaled by the fraction of cores done (it reaches T at the end).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import scipy.sparse as sps

KNOWN_KEYS = {"format", "version", "weight_bits", "membrane_bits", "accumulator_bits", "mesh", "cores", "order",
              "energy", "inputs", "outputs", "target", "cycles"}
KNOWN_CORE_KEYS = {"id", "position", "membrane_bits", "accumulator_bits", "groups", "group_bias"}
KNOWN_GROUP_KEYS = {"delay", "acc_bits", "shift", "rounding", "out_bits"}


def _weights(d: Path, i: int):
    """Core i's weights (memory-mapped: read once, by the float32 copy) as (signed integers [A, N] in the file's
    dtype, float32 copy or None when some |w| >= 2^24, max |w|, nonzero weights per axon)."""
    from . import _load

    try:
        W = np.load(d / f"core{i}_weights.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        W = _load(d, f"core{i}_weights.npy")  # raises the simulator's diagnostic (or reads it after all)
    if W.dtype.kind != "i":  # integer tables stay in their (narrow) dtype: products with int64 payloads widen
        W = W.astype(np.int64)
    Wf = W.astype(np.float32)
    wmax = max(float(Wf.max(initial=0)), -float(Wf.min(initial=0)))
    if wmax >= 2**24:  # float32 is exact on integers below 2^24 (and rounds monotonically above)
        return W, None, max(int(W.max(initial=0)), -int(W.min(initial=0))), np.count_nonzero(W, axis=1)
    return W, Wf, int(wmax), np.count_nonzero(Wf, axis=1)


def _matmul(X: sps.csr_matrix, W: np.ndarray, bound: float, Wf: np.ndarray | None = None) -> np.ndarray:
    """Exact integer X @ W ([T, A] sparse int64 x [A, N] int64) given ``bound`` >= every |partial sum|. (A dense
    BLAS product was slower on the 2-core machine at every density tried, 10 % to the dense images of cnn_sinabs.)"""
    if bound < 2**24 and Wf is not None:
        return (X.astype(np.float32) @ Wf).astype(np.int64)
    if bound < 2**24:
        dt = np.float32
    elif bound < 2**53:
        dt = np.float64
    else:
        return np.asarray(X @ W, dtype=np.int64)
    y = X.astype(dt) @ W.astype(dt)
    return y.astype(np.int64)  # exact integers already


class _Declined(Exception):
    pass


def _external(inputs: list) -> np.ndarray:
    """External events as [E, 4] = (step, core, axon, value), in the given order."""
    parts = []
    for t, step in enumerate(inputs):
        if len(step) == 0:
            continue
        lens = set(map(len, step))
        if len(lens) != 1 or not lens <= {2, 3}:  # a mix of (core, axon) and (core, axon, value)
            a = np.array([(int(e[0]), int(e[1]), int(e[2]) if len(e) > 2 else 1) for e in step], dtype=np.int64)
        else:
            k = lens.pop()
            a = np.fromiter(itertools.chain.from_iterable(step), dtype=np.int64, count=k * len(step)).reshape(-1, k)
        b = np.empty((len(a), 4), dtype=np.int64)
        b[:, 0] = t
        b[:, 1:3] = a[:, :2]
        b[:, 3] = a[:, 2] if a.shape[1] == 3 else 1
        parts.append(b)
    return np.concatenate(parts) if parts else np.zeros((0, 4), dtype=np.int64)


def simulate_fast(d: Path, cfg: dict, inputs: list, progress=None):
    """Run a feed-forward configuration (see the module docstring); ``None`` when the fast path does not apply."""
    try:
        return _run(Path(d), cfg, inputs, progress)
    except _Declined:
        return None


def _run(d: Path, cfg: dict, inputs: list, progress):
    from . import DEFAULT_CYCLES, PARAM_ROWS, SimResult, _core_groups, _load, _requant, _sat, _sat_sequence

    if set(cfg) - KNOWN_KEYS or any(set(e) - KNOWN_CORE_KEYS for e in cfg["cores"]) or any(
            set(g) - KNOWN_GROUP_KEYS for e in cfg["cores"] for g in e.get("groups") or ()):
        raise _Declined
    C = len(cfg["cores"])
    order = [int(c) for c in cfg["order"]]
    if sorted(order) != list(range(C)) or [int(e["id"]) for e in cfg["cores"]] != list(range(C)):
        raise _Declined
    pos = {c: k for k, c in enumerate(order)}
    routes = _load(d, "routes.npy").reshape(-1, 4).astype(np.int64, copy=False)
    rank = np.array([pos[c] for c in range(C)], dtype=np.int64)
    if len(routes) and (routes[:, [0, 2]].min() < 0 or routes[:, [0, 2]].max() >= C
                        or (rank[routes[:, 0]] > rank[routes[:, 2]]).any()):
        raise _Declined  # a route to an earlier core (a route to the same core is a self-loop, handled)
    T = len(inputs)
    NB = [int(e.get("membrane_bits", cfg["membrane_bits"])) for e in cfg["cores"]]
    AB = [int(e.get("accumulator_bits", cfg["accumulator_bits"])) for e in cfg["cores"]]
    rc = {int(e["id"]): e["position"] for e in cfg["cores"]}
    WS = [_weights(d, i) for i in range(C)]
    W = [w[0] for w in WS]
    P = []
    for i in range(C):
        p = _load(d, f"core{i}_params.npy").astype(np.int64, copy=False)
        if p.shape[0] > PARAM_ROWS:
            raise _Declined
        if p.shape[0] < PARAM_ROWS:
            p = np.concatenate([p, np.zeros((PARAM_ROWS - p.shape[0], p.shape[1]), dtype=np.int64)])
        P.append(p)
    G = [_core_groups(d, i, cfg["cores"][i], W[i].shape[0], W[i].shape[1], AB[i]) for i in range(C)]
    cyc = {**DEFAULT_CYCLES, **cfg.get("cycles", {})}

    # incoming events per core as (step, axon, value) blocks in the per-step path's delivery order: external
    # events first (in the given order), then each earlier core's routed spikes (cores in order, by step, routes
    # in file order). All events on one axon share its group's delay, hence their sending step, so within one
    # step and axon the concatenated blocks list them exactly in the per-step path's delivery order; a stable
    # sort by axon then reproduces that path's event sequence.
    incoming: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(C)]
    e = _external(inputs)
    n_ax = np.array([w.shape[0] for w in W] + [0], dtype=np.int64)
    n_nr = np.array([w.shape[1] for w in W] + [0], dtype=np.int64)
    if len(e) and (e[:, 1].min() < 0 or e[:, 1].max() >= C or e[:, 2].min() < 0
                   or (e[:, 2] >= n_ax[e[:, 1]]).any()):
        raise _Declined  # an event to a core or axon that does not exist: the per-step path reports it
    if len(routes) and (routes[:, [1, 3]].min() < 0 or (routes[:, 1] >= n_nr[routes[:, 0]]).any()
                        or (routes[:, 3] >= n_ax[routes[:, 2]]).any()):
        raise _Declined  # a route from a neuron or to an axon that does not exist: likewise
    if len(e):
        for c in np.unique(e[:, 1]).tolist():
            sel = e[e[:, 1] == c]
            incoming[c].append((sel[:, 0], sel[:, 2], sel[:, 3]))
    spikes: list[np.ndarray | None] = [None] * C
    syn = packets = hops = updates = 0
    core_cycles = np.zeros(T, dtype=np.int64)
    max_hops = np.zeros(T, dtype=np.int64)
    ro = routes[np.argsort(routes[:, 0], kind="stable")]  # file order within each source core
    cut = np.searchsorted(ro[:, 0], np.arange(C + 1))
    by_src = {c: ro[cut[c]:cut[c + 1]] for c in range(C)}
    for done, c in enumerate(order, 1):
        A, n = W[c].shape
        grp, groups, gbias = G[c]
        blocks = incoming[c]
        if blocks:
            et = np.concatenate([b[0] for b in blocks])
            ea = np.concatenate([b[1] for b in blocks])
            ev = np.concatenate([b[2] for b in blocks])
        else:
            et = ea = ev = np.zeros(0, dtype=np.int64)
        incoming[c] = []
        delay = np.array([int(g["delay"]) for g in groups], dtype=np.int64)
        et = et + delay[grp[ea]] if len(ea) else et  # the step at which each event is summed
        keep = et < T
        et, ea, ev = et[keep], ea[keep], ev[keep]
        _, Wf, wmax_all, nnz_row = WS[c]
        ops = np.bincount(et, weights=nnz_row[ea], minlength=T).astype(np.int64)
        updates += n * T
        r = by_src[c]
        self_r = r[r[:, 2] == c]
        if len(self_r):
            s, fb_ops = _self_loop_core(W[c], Wf, nnz_row, G[c], P[c], NB[c], AB[c], et, ea, ev, self_r, T)
            ops += fb_ops
        syn += int(ops.sum())
        core_cycles = np.maximum(core_cycles, ops * cyc["synaptic_op"] + n * cyc["neuron_update"])
        acc = None
        eg = grp[ea]
        for gi, gd in enumerate(groups if not len(self_r) else ()):
            sel = eg == gi if len(groups) > 1 else slice(None)
            gt, ga, gv = et[sel], ea[sel], ev[sel]
            bits = int(gd["acc_bits"])
            hi = (1 << (bits - 1)) - 1
            X = sps.csr_matrix((gv, (gt, ga)), shape=(T, A), dtype=np.int64)
            X.sum_duplicates()
            if len(groups) == 1:
                wmax = wmax_all
            else:
                wg = W[c][grp == gi]
                wmax = max(int(wg.max(initial=0)), -int(wg.min(initial=0)))
            step_abs = np.bincount(gt, weights=np.abs(gv), minlength=T) * wmax  # float: no int64 overflow
            x = _matmul(X, W[c], float(step_abs.max(initial=0)), Wf)
            for t in np.nonzero(step_abs > hi)[0].tolist():  # may saturate: the exact sequence of this step
                m = gt == t
                a, val = ga[m], gv[m]
                o = np.argsort(a, kind="stable")  # ties keep the delivery order (see _run's comment)
                x[t] = _sat_sequence(W[c][a[o]] * val[o, None], bits, n)
            if gd.get("rounding", "none") != "none":
                x = _requant(x, int(gd["shift"]), gd["rounding"], int(gd["out_bits"]))
            if gbias is not None:
                dl = int(gd["delay"])
                x[dl:] = _sat(x[dl:] + gbias[gi], int(gd["out_bits"]))
            acc = x if acc is None else _sat(acc + x, AB[c])
        if not len(self_r):
            s = _neurons(acc, P[c], NB[c])
        spikes[c] = s
        if len(r):
            sv = s[:, r[:, 1]]  # [T, R] value each route carries at each step
            fired = sv != 0
            packets += int(fired.sum())
            for dst in np.unique(r[:, 2]).tolist():
                m = r[:, 2] == dst
                h = abs(rc[dst][0] - rc[c][0]) + abs(rc[dst][1] - rc[c][1])
                f = fired[:, m]
                cnt = f.sum(axis=1)
                hops += int(cnt.sum()) * h
                max_hops = np.where(cnt > 0, np.maximum(max_hops, h), max_hops)
                if dst != c:
                    tt, k = np.nonzero(f)  # row-major: by step, then route order
                    incoming[dst].append((tt, r[m, 3][k], sv[:, m][tt, k]))
        if progress is not None:
            progress(T * done // C)
    cycles = int((core_cycles + max_hops * cyc["hop"] + cyc["barrier"]).sum()) if C else 0
    res = SimResult([spikes[c] for c in range(C)], syn, packets, hops, neuron_updates=updates, steps=T, cycles=cycles)
    e = cfg.get("energy")
    if e:
        res.energy_pj = (syn * e["synaptic_op_pj"] + updates * e["neuron_update_pj"] + packets * e["packet_pj"]
                         + hops * e["hop_pj"])
    return res


def _step(v: np.ndarray, cur: np.ndarray, a: np.ndarray, p: np.ndarray, N: int):
    """One step of the per-step path's neuron update: (v, current, input) -> (v, current, spikes int64)."""
    from . import _leak, _sat

    v_th, v_reset, bias, k, rm, cm, lk, dec, fb, tern, li, lib, libias, lilk, lik, lidec, lifb = p
    if (li == 1).any():
        lb = np.maximum(lib, 2)
        ci = _sat(cur - _leak(cur, lilk, lik, lidec, lifb) + a + libias, lb)
        cur = np.where(li == 1, ci, 0)
        a = np.where(li == 1, ci, a)
    vp = _sat(v - _leak(v, lk, k, dec, fb) + a + bias, N)
    pos_ = np.where(cm == 1, vp > v_th, vp >= v_th)
    s = pos_.astype(np.int64) - ((tern == 1) & ~pos_ & (vp <= -v_th)).astype(np.int64)
    v = np.select([rm == 1, rm == 2], [np.where(s != 0, v_reset, vp), _sat(vp - s * v_th, N)], vp)
    return v, cur, s


def _self_loop_core(Wc, Wf, nnz_row, core_groups, p, N, A_bits, et, ea, ev, self_r, T):
    """A core with routes to itself, step by step: the events from external inputs and earlier cores are summed
    for all steps at once (plain sums, and the per-step bound ``sum |payload| x max |w|``); at step t its own
    spikes of step ``t - D`` are added (D = the group's delay, 1 for a delay-0 group: the per-step path queues a
    route to the same core for the next step), with the exact saturating sequence where the combined bound leaves
    the range. Order of that sequence as the per-step path delivers: on a delay-0 group's axon the queued
    self-events come first, on a delayed group's axon after the external and earlier cores' events.
    Returns (spikes [T, n] int8, the self-events' synaptic operations per step)."""
    from . import _requant, _sat, _sat_sequence

    A, n = Wc.shape
    grp, groups, gbias = core_groups
    eg = grp[ea]
    prep = []
    for gi, gd in enumerate(groups):
        sel = eg == gi
        gt, ga, gv = et[sel], ea[sel], ev[sel]
        X = sps.csr_matrix((gv, (gt, ga)), shape=(T, A), dtype=np.int64)
        X.sum_duplicates()
        wg = Wc[grp == gi]
        wmax = max(int(wg.max(initial=0)), -int(wg.min(initial=0)))
        step_abs = np.bincount(gt, weights=np.abs(gv), minlength=T) * wmax
        xb = _matmul(X, Wc, float(step_abs.max(initial=0)), Wf)
        o = np.argsort(gt, kind="stable")  # per step, in delivery order
        starts = np.searchsorted(gt[o], np.arange(T + 1))
        dl = int(gd["delay"])
        rs = self_r[grp[self_r[:, 3]] == gi]
        prep.append((gd, (1 << (int(gd["acc_bits"]) - 1)) - 1, wmax, step_abs, xb, ga[o], gv[o], starts,
                     max(dl, 1), dl, rs))
    out = np.zeros((T, n), dtype=np.int8)
    fb_ops = np.zeros(T, dtype=np.int64)
    v = np.zeros(n, dtype=np.int64)
    cur = np.zeros(n, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    for t in range(T):
        acc = None
        for gi, (gd, hi, wmax, step_abs, xb, ga, gv, starts, D, dl, rs) in enumerate(prep):
            ax = vv = empty
            if len(rs) and t >= D:
                val = out[t - D][rs[:, 1]].astype(np.int64)
                f = val != 0
                ax, vv = rs[f, 3], val[f]
            fb_ops[t] += int(nnz_row[ax].sum())
            if step_abs[t] + float(np.abs(vv).sum()) * wmax <= hi:
                x = xb[t] + (Wc[ax] * vv[:, None]).sum(axis=0) if len(ax) else xb[t].copy()
            else:
                a_b, v_b = ga[starts[t]:starts[t + 1]], gv[starts[t]:starts[t + 1]]
                a = np.concatenate([ax, a_b] if dl == 0 else [a_b, ax])
                val = np.concatenate([vv, v_b] if dl == 0 else [v_b, vv])
                o = np.argsort(a, kind="stable")
                x = _sat_sequence(Wc[a[o]] * val[o, None], int(gd["acc_bits"]), n)
            if gd.get("rounding", "none") != "none":
                x = _requant(x, int(gd["shift"]), gd["rounding"], int(gd["out_bits"]))
            if gbias is not None and t >= dl:
                x = _sat(x + gbias[gi], int(gd["out_bits"]))
            acc = x if acc is None else _sat(acc + x, A_bits)
        v, cur, s = _step(v, cur, acc, p, N)
        out[t] = s
    return out, fb_ops


def _neurons(acc: np.ndarray, p: np.ndarray, N: int) -> np.ndarray:
    """The neuron recurrence over T ([T, n] accumulated input -> [T, n] int8 spikes in {-1, 0, 1}), the per-step
    path's update equations step by step; a specialised in-place loop for the common parameters."""

    T, n = acc.shape
    v_th, v_reset, bias, k, rm, cm, lk, dec, fb, tern, li, lib, libias, lilk, lik, lidec, lifb = p
    v = np.zeros(n, dtype=np.int64)
    lo, hi = np.int64(-(1 << (N - 1))), np.int64((1 << (N - 1)) - 1)
    simple = (not (lk == 1).any() and not (li == 1).any() and not (tern == 1).any()
              and len(np.unique(cm)) <= 1 and len(np.unique(rm)) <= 1 and (k >= 0).all())
    if simple and n and T:
        gt, mode = int(cm[0]) == 1, int(rm[0])
        shift = (k != 0).any()
        ks = np.maximum(k, 0)
        kmask = k != 0
        x = acc + bias  # v - leak + acc + bias
        out = np.zeros((T, n), dtype=bool)
        clip_hi = clip_lo = True
        if mode == 1:
            # hard reset: after a step v <= max(v_th, v_reset) (no spike: v' < v_th, or <= for gt; spike: v_reset)
            # and v >= min(0, v_reset) + the sum of the negative inputs so far; a shift leak only moves v towards
            # 0. Where these bounds cannot leave [lo, hi] the saturation is the identity and is skipped.
            top = np.maximum(np.maximum(v_th, v_reset), 0)
            clip_hi = bool((top + x.max(axis=0) > hi).any())
            clip_lo = bool((np.minimum(v_reset, 0) + np.minimum(x, 0).sum(axis=0) < lo).any())
        cmp = np.greater if gt else np.greater_equal
        for t in range(T):
            if shift:
                v -= np.where(kmask, v >> ks, 0)
            v += x[t]
            if clip_hi:
                np.minimum(v, hi, out=v)
            if clip_lo:
                np.maximum(v, lo, out=v)
            s = out[t]
            cmp(v, v_th, out=s)
            if mode == 1:
                np.copyto(v, v_reset, where=s)
            elif mode == 2:
                v = np.where(s, np.maximum(v - v_th, lo), v)  # then min(., hi): sat(v' - v_th) where s
                np.minimum(v, hi, out=v)
        return out.view(np.int8)
    out = np.zeros((T, n), dtype=np.int8)
    cur = np.zeros(n, dtype=np.int64)
    for t in range(T):
        v, cur, s = _step(v, cur, acc[t], p, N)
        out[t] = s
    return out
