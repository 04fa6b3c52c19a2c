"""neuro-core chip simulator: reads ONLY a configuration directory and runs it step by step.

Configuration directory (format ``snnc-neuro-core`` version 3; versions 1 and 2 are still read):
- ``config.json``: ``{"format": "snnc-neuro-core", "version": 3, "weight_bits", "membrane_bits",
  "accumulator_bits", "mesh": [rows, cols], "cores": [{"id", "position": [row, col]}...], "order": [core ids]}``
- ``core<i>_weights.npy`` signed integers [axons, neurons] (int8 / int16 / int32 / int64, the narrowest that holds
  them; read as int64); ``core<i>_params.npy`` int64 [rows, neurons], rows:
  0 v_th, 1 v_reset, 2 bias, 3 leak_shift, 4 reset_mode (0 none, 1 hard, 2 soft), 5 cmp (0 ge, 1 gt)  (v1);
  6 leak_kind (0: shift/none by leak_shift, 1: ``mul``, Loihi's multiplicative decay
  ``leak = v - ((v * decay + 2^(f-1)) >>> f)``), 7 decay, 8 frac_bits  (v2);
  9 ternary (1: the neuron also fires -1 when ``v' <= -v_th``; soft reset then adds v_th),
  10 current compartment (1: a CUBA synaptic-current compartment ``i`` sits before the membrane), 11 its width,
  12 its bias, 13 its leak_kind, 14 its leak_shift, 15 its decay, 16 its frac_bits  (v3; missing rows read as 0);
  17 output mode (0: spikes; 1 multi-spike: the neuron sends the count ``n = min(v' // v_th, cap)`` where
  ``v' >= v_th`` as a graded event of payload n, soft reset subtracts ``n v_th``; 2 graded: the neuron sends
  ``v'`` itself, a relay or membrane readout), 18 cap, 19 v_min on, 20 v_min (after the reset
  ``v = max(v, v_min)``) (v3, rows 17-20 only in cores that use them);
- ``routes.npy`` int64 [R, 4]: (source core, source neuron, destination core, destination axon).

Version 2 adds (all optional):
- per-core ``membrane_bits`` / ``accumulator_bits`` in a ``cores`` entry (override the global widths);
- ``energy``: {synaptic_op_pj, neuron_update_pj, packet_pj, hop_pj} (the target's figures);
- ``inputs``: [{"name", "shape", "kind": "spikes" | "integer" | "quantized", "bits", "routes": file}] where the
  routes file [R, 3] = (input element, core, axon); a ``quantized`` input is a real-valued graph input that the
  host quantizes (``sat_bits(rint(x * scale))``, ``scale`` in ``input<k>_scale.npy`` broadcast to the shape) and
  sends as graded events (an event carries an integer payload x and adds ``x * w``, as Loihi 2's graded spikes; a
  spike is x = 1, a ternary -1 spike x = -1);
- ``outputs``: [{"name", "shape", "neurons": file}], the file [n, 2] = (core, neuron) of each output element;
  v3: an optional ``"scale": file`` (float64, the output's shape) makes it real-valued: the host multiplies the
  graded integers by it (``spike.dequantize``); an optional ``"readout": "sum" | "mean" | "last"`` reads the
  series out over time on the host, as ``snn.output``'s readout.

Version 3 adds (optional): axon groups (dendritic branches) per core: a ``cores`` entry may list
``"groups": [{"delay", "acc_bits", "shift", "rounding": "none" | "floor" | "half_up", "out_bits"}]`` with
``core<i>_axon_group.npy`` [axons] (the group of each axon) and, when the entry has ``"group_bias": true``,
``core<i>_group_bias.npy`` [groups, neurons] (with ``"group_bias_first": [bool per group]``, a group marked true
adds its bias before the requantization, saturating at the group's ``bias_bits``); ``cycles`` ({synaptic_op, neuron_update, hop, barrier}) overrides
:data:`DEFAULT_CYCLES`.

Semantics (integer.md per core), per step t and neuron, for each axon group g in order:
``a_g = sat_{acc_bits}`` over the group's events in increasing axon order (saturating after every addition);
(bias first: ``a_g = sat_{bias_bits}(a_g + bias_g)``); if ``rounding != none``: ``a_g = sat_{out_bits}(a_g >>> shift)`` (floor) or ``((a_g + 2^(shift-1)) >>> shift)``
(half up; a negative shift is ``a_g * 2^-shift``); with a group bias and ``t >= delay``:
``a_g = sat_{out_bits}(a_g + bias_g)``.  A group with ``delay = d`` sums the events its sources sent at step
``t - d`` (none before step d).  The input is ``x = a_0``, then ``x = sat_A(x + a_g)`` (A the core's
accumulator width), then with a core entry ``"input_requant": {"shift", "rounding", "bits"}`` the sum is
requantized once, ``x = sat_bits(x >>> shift)`` (or half up); one default group (delay 0, ``acc_bits = A``) when the entry lists none.  With a current
compartment: ``i = sat_{Ni}(i - leak_i(i) + x + bias_i)`` and ``x = i``.  Then
``v' = sat_N(v - leak(v) + x + bias)``, fire (``ge``/``gt``; ternary -1), reset (hard / soft / none).
Cores run in the recorded ``order`` within a step; a delay-0 spike routed to a core later in the order is
delivered in the same step, to an earlier (or the same) core in the next step (configurations emitted by snnc
route feedback through delayed groups only).  Accumulation is vectorised: a plain sum when no prefix sum leaves
the range (then it equals the saturating sequence exactly), the saturating sequence otherwise.

Counters: synaptic operations (nonzero weights reached by an event), neuron updates (every neuron every step),
packets (one per spike per route), hops (XY Manhattan distance per packet), energy
``syn x synaptic_op_pj + updates x neuron_update_pj + packets x packet_pj + hops x hop_pj`` and cycles
(:data:`DEFAULT_CYCLES`: per step the slowest core's ``synaptic ops x synaptic_op + neurons x neuron_update``,
plus ``hop`` x the longest packet route of the step, plus ``barrier``; cores with the same ``position`` share
one physical core, whose work is their sum; a configuration with shared cores has ``physical_cores`` in
config.json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnc.ir.diagnostics import error

FORMAT = "snnc-neuro-core"
VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
PARAM_ROWS = 17
#: rows 17 (output mode), 18 (multi-spike count cap), 19-20 (v_min on, v_min): only in cores that use them
PARAM_ROWS_MULTI = 21
#: the cycle model (config.json ``cycles`` overrides): per step, every core works in parallel for
#: ``synaptic_op`` x its synaptic operations + ``neuron_update`` x its neurons; the step then waits for the
#: farthest packet of the step (``hop`` per mesh hop) and a barrier (``barrier`` cycles)
DEFAULT_CYCLES = {"synaptic_op": 1, "neuron_update": 1, "hop": 1, "barrier": 0}


def _sat(x, bits):
    return np.clip(x, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)


@dataclass
class SimResult:
    spikes: list[np.ndarray]  # per core [T, neurons] int8
    synaptic_ops: int
    packets: int
    hops: int
    energy_pj: float | None = None
    neuron_updates: int = 0
    steps: int = 0
    cycles: int = 0


def _compact(w: np.ndarray) -> np.ndarray:
    """The weights in the narrowest of int8 / int16 / int32 / int64 holding every value symmetrically
    (|w| <= 2^(b-1) - 1; the simulator reads any signed integer dtype)."""
    m = int(np.abs(w).max(initial=0))
    for dt in (np.int8, np.int16, np.int32):
        if m <= np.iinfo(dt).max:
            return w.astype(dt)
    return w


def write_config(out_dir, cores, routes, order, *, weight_bits, membrane_bits, accumulator_bits, mesh=(1, None),
                 positions=None, core_widths=None, extra=None, core_extra=None):
    """Write a configuration directory. ``cores``: list of (weights [A, N], params [6 or 9, N]); ``routes`` [R, 4].

    ``positions``: per core (row, col) on the mesh (default: row-major by index); ``core_widths``: per core
    (membrane_bits, accumulator_bits); ``extra``: more config.json keys (energy, inputs, outputs); ``core_extra``:
    per core, more keys of its ``cores`` entry (``groups``, ``group_bias``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = mesh[1] or len(cores)
    for i, (w, p) in enumerate(cores):
        np.save(out / f"core{i}_weights.npy", _compact(np.asarray(w, dtype=np.int64)))
        np.save(out / f"core{i}_params.npy", np.asarray(p, dtype=np.int64))
    np.save(out / "routes.npy", np.asarray(routes, dtype=np.int64).reshape(-1, 4))
    cfg = {"format": FORMAT, "version": VERSION, "weight_bits": weight_bits, "membrane_bits": membrane_bits,
           "accumulator_bits": accumulator_bits, "mesh": [mesh[0], cols],
           "cores": [{"id": i, "position": [i // cols, i % cols] if positions is None else [int(x) for x in positions[i]]}
                     for i in range(len(cores))], "order": [int(c) for c in order]}
    if core_widths is not None:
        for entry, (nb, ab) in zip(cfg["cores"], core_widths, strict=True):
            entry["membrane_bits"], entry["accumulator_bits"] = int(nb), int(ab)
    for entry, more in zip(cfg["cores"], core_extra or [{}] * len(cores), strict=True):
        entry.update(more)
    cfg.update(extra or {})
    (out / "config.json").write_text(json.dumps(cfg, indent=1, sort_keys=True) + "\n")


def _leak(v, kind, k, dec, fb):
    """integer.md step 2: ``shift`` (``k == 0`` -> 0, else ``v >>> k``) or ``mul`` (kind 1)."""
    leak = np.where(k == 0, 0, v >> np.maximum(k, 0))
    if (kind == 1).any():
        f = np.maximum(fb, 1)
        leak = np.where(kind == 1, v - ((v * dec + (np.int64(1) << (f - 1))) >> f), leak)
    return leak


def _sat_sequence(rows: np.ndarray, bits: int, n: int) -> np.ndarray:
    """``acc = sat_bits(acc + row)`` over ``rows`` in order (vectorised when no prefix sum leaves the range)."""
    if rows.shape[0] == 0:
        return np.zeros(n, dtype=np.int64)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    pref = np.cumsum(rows, axis=0)
    if pref.min() >= lo and pref.max() <= hi:
        return pref[-1]
    acc = np.zeros(n, dtype=np.int64)
    for r in rows:
        acc = np.clip(acc + r, lo, hi)
    return acc


def _requant(x, shift, rounding, bits):
    if shift < 0:
        return _sat(x << -shift, bits)
    if rounding == "half_up" and shift > 0:
        x = x + (1 << (shift - 1))
    return _sat(x >> shift, bits)


def _core_groups(d: Path, i: int, entry: dict, n_axons: int, n: int, acc_bits: int):
    """(per-axon group index [A], groups [{delay, acc_bits, shift, rounding, out_bits}], bias [G, N] or None)."""
    groups = entry.get("groups")
    if not groups:
        return np.zeros(n_axons, dtype=np.int64), [{"delay": 0, "acc_bits": acc_bits, "shift": 0, "rounding": "none",
                                                      "out_bits": acc_bits}], None
    grp = _load(d, f"core{i}_axon_group.npy").reshape(-1).astype(np.int64)
    bias = _load(d, f"core{i}_group_bias.npy").reshape(len(groups), n) if entry.get("group_bias") else None
    return grp, groups, bias


def simulate(config_dir, inputs, progress=None, fast: bool = True) -> SimResult:
    """``inputs``: per step, a list of (core, axon) or (core, axon, value) external events (value: the graded
    payload, default 1). Returns spikes and counters. ``progress``: called with the step index after each step.
    ``fast``: when no route goes to an earlier core, :mod:`snnc.sim.fast` runs it (all steps of a core at once;
    the same spikes and counters); ``False`` forces the per-step path below."""
    d = Path(config_dir)
    cfg = load_config(d)
    if fast:
        from .fast import simulate_fast

        inputs = list(inputs)
        res = simulate_fast(d, cfg, inputs, progress)
        if res is not None:
            return res
    C = len(cfg["cores"])
    NB = [int(e.get("membrane_bits", cfg["membrane_bits"])) for e in cfg["cores"]]
    AB = [int(e.get("accumulator_bits", cfg["accumulator_bits"])) for e in cfg["cores"]]
    rc = {int(e["id"]): e["position"] for e in cfg["cores"]}
    W = [_load(d, f"core{i}_weights.npy").astype(np.int64) for i in range(C)]
    P = []
    for i in range(C):
        p = _load(d, f"core{i}_params.npy").astype(np.int64)
        if p.shape[0] > PARAM_ROWS_MULTI:
            raise error(f"{d / f'core{i}_params.npy'}: error: {p.shape[0]} parameter rows, at most "
                        f"{PARAM_ROWS_MULTI} are defined")
        if p.shape[0] < PARAM_ROWS_MULTI:
            p = np.concatenate([p, np.zeros((PARAM_ROWS_MULTI - p.shape[0], p.shape[1]), dtype=np.int64)])
        P.append(p)
    multi_core = [bool((p[17] != 0).any()) for p in P]
    G = [_core_groups(d, i, cfg["cores"][i], W[i].shape[0], W[i].shape[1], AB[i]) for i in range(C)]
    cyc = {**DEFAULT_CYCLES, **cfg.get("cycles", {})}
    pos = {c: k for k, c in enumerate(cfg["order"])}
    routes = _load(d, "routes.npy").reshape(-1, 4).astype(np.int64)
    by_src = {c: routes[routes[:, 0] == c] for c in range(C)}
    v = [np.zeros(w.shape[1], dtype=np.int64) for w in W]
    cur = [np.zeros(w.shape[1], dtype=np.int64) for w in W]  # current compartments (params row 10)
    out = [[] for _ in range(C)]
    pending = [[] for _ in range(C)]
    delayed: dict[tuple[int, int], list[np.ndarray]] = {}  # (step, core) -> events for delayed axon groups
    syn = packets = hops = updates = steps = cycles = 0

    def deliver(t, c, evs, now, nxt):
        """Route events [k, 2] (axon, value) to core c: delayed axon groups wait ``delay`` steps."""
        grp, groups, _ = G[c]
        delay = np.array([g["delay"] for g in groups], dtype=np.int64)[grp[evs[:, 0]]]
        if (delay == 0).all():
            (now if nxt is None else nxt)[c].append(evs)
            return
        z = delay == 0
        if z.any():
            (now if nxt is None else nxt)[c].append(evs[z])
        for dl in np.unique(delay[~z]).tolist():
            delayed.setdefault((t + dl, c), []).append(evs[delay == dl])

    for t, step_events in enumerate(inputs):
        events, pending = pending, [[] for _ in range(C)]
        events = [e + delayed.pop((t, c), []) for c, e in enumerate(events)]
        for ev in step_events:
            deliver(t, int(ev[0]), np.array([[int(ev[1]), int(ev[2]) if len(ev) > 2 else 1]], dtype=np.int64), events,
                    None)
        step_core_cycles = 0
        phys_work: dict[tuple, int] = {}  # logical cores at one position share a physical core (time-multiplexed)
        step_max_hops = 0
        for c in cfg["order"]:
            N, n = NB[c], W[c].shape[1]
            grp, groups, gbias = G[c]
            bias_first = cfg["cores"][c].get("group_bias_first") or [False] * len(groups)
            if events[c]:
                ev = np.concatenate(events[c])
                ev = ev[np.argsort(ev[:, 0], kind="stable")]
            else:
                ev = np.zeros((0, 2), dtype=np.int64)
            rows_all = W[c][ev[:, 0]]
            ops = int(np.count_nonzero(rows_all))
            syn += ops
            updates += n
            pk = tuple(rc[c])
            phys_work[pk] = phys_work.get(pk, 0) + ops * cyc["synaptic_op"] + n * cyc["neuron_update"]
            step_core_cycles = max(step_core_cycles, phys_work[pk])
            if (ev[:, 1] != 1).any():
                rows_all = rows_all * ev[:, 1:2]
            acc = None
            eg = grp[ev[:, 0]]
            for gi, gd in enumerate(groups):
                rows = rows_all if len(groups) == 1 else rows_all[eg == gi]
                x = _sat_sequence(rows, int(gd["acc_bits"]), n)
                first = bias_first[gi]
                if first and gbias is not None and t >= int(gd["delay"]):
                    x = _sat(x + gbias[gi], int(gd["bias_bits"]))
                if gd.get("rounding", "none") != "none":
                    x = _requant(x, int(gd["shift"]), gd["rounding"], int(gd["out_bits"]))
                if not first and gbias is not None and t >= int(gd["delay"]):
                    x = _sat(x + gbias[gi], int(gd["out_bits"]))
                acc = x if acc is None else _sat(acc + x, AB[c])
            irq = cfg["cores"][c].get("input_requant")
            if irq:  # the sum of the groups requantized once (a relay of a requantized multi-branch sum)
                acc = _requant(acc, int(irq["shift"]), irq["rounding"], int(irq["bits"]))
            p = P[c]
            (v_th, v_reset, bias, k, rm, cm, lk, dec, fb, tern, li, lib, libias, lilk, lik, lidec, lifb, mul, cap,
             vmin_on, vmin) = p
            if (li == 1).any():
                lb = np.maximum(lib, 2)
                ci = _sat(cur[c] - _leak(cur[c], lilk, lik, lidec, lifb) + acc + libias,
                          lb)  # per-neuron widths
                cur[c] = np.where(li == 1, ci, 0)
                acc = np.where(li == 1, ci, acc)
            vp = _sat(v[c] - _leak(v[c], lk, k, dec, fb) + acc + bias, N)
            pos_ = np.where(cm == 1, vp > v_th, vp >= v_th)
            s = pos_.astype(np.int64) - ((tern == 1) & ~pos_ & (vp <= -v_th)).astype(np.int64)
            if (mul == 1).any():  # multi-spike: the count min(v' // v_th, cap) where v' >= v_th
                cnt = np.minimum(np.where(vp >= v_th, vp // np.maximum(v_th, 1), 0), cap)
                s = np.where(mul == 1, cnt, s)
            if (mul == 2).any():  # graded: the neuron sends v' itself (0 sends nothing)
                s = np.where(mul == 2, vp, s)
            v[c] = np.select([rm == 1, rm == 2], [np.where(s != 0, v_reset, vp), _sat(vp - s * v_th, N)], vp)
            if (vmin_on == 1).any():  # Sinabs' min_v_mem: a lower bound of the membrane after the reset
                v[c] = np.where(vmin_on == 1, np.maximum(v[c], vmin), v[c])
            out[c].append(s.astype(np.int32 if multi_core[c] else np.int8))
            r = by_src[c]
            if len(r):
                fired = r[s[r[:, 1]] != 0]
                packets += len(fired)
                for dst in np.unique(fired[:, 2]).tolist():
                    fd = fired[fired[:, 2] == dst]
                    h = abs(rc[dst][0] - rc[c][0]) + abs(rc[dst][1] - rc[c][1])
                    hops += len(fd) * h
                    step_max_hops = max(step_max_hops, h)
                    evs = np.stack([fd[:, 3], s[fd[:, 1]]], axis=1)
                    deliver(t, dst, evs, events, None if pos[dst] > pos[c] else pending)
        cycles += step_core_cycles + step_max_hops * cyc["hop"] + cyc["barrier"]
        steps += 1
        if progress is not None:
            progress(steps)
    res = SimResult([np.array(o, dtype=np.int32 if multi_core[c] else np.int8).reshape(len(o), W[c].shape[1])
                     for c, o in enumerate(out)],
                    syn, packets, hops, neuron_updates=updates, steps=steps, cycles=cycles)
    e = cfg.get("energy")
    if e:
        res.energy_pj = (syn * e["synaptic_op_pj"] + updates * e["neuron_update_pj"] + packets * e["packet_pj"]
                         + hops * e["hop_pj"])
    return res


def _load(d: Path, name: str) -> np.ndarray:
    try:
        return np.load(d / name, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise error(f"{d / name}: error: cannot read the configuration array: "
                    f"{exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}") from None


def load_config(config_dir) -> dict:
    """Read and check ``config.json`` (format, version, required keys); a diagnostic names the file otherwise."""
    d = Path(config_dir)
    f = d / "config.json"
    if not d.is_dir():
        raise error(f"'{d}' is not a configuration directory (no such directory)")
    try:
        cfg = json.loads(f.read_text())
    except OSError as exc:
        raise error(f"cannot read configuration '{f}': {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise error(f"{f}:{exc.lineno}:{exc.colno}: error: invalid JSON: {exc.msg}") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise error(f"{f}: error: not an {FORMAT} configuration (format {cfg.get('format') if isinstance(cfg, dict) else None!r})")
    if cfg.get("version") not in READABLE_VERSIONS:
        raise error(f"{f}: error: configuration version {cfg.get('version')!r} is not supported (this simulator reads "
                    f"versions {', '.join(map(str, READABLE_VERSIONS))})")
    for key in ("weight_bits", "membrane_bits", "accumulator_bits", "mesh", "cores", "order"):
        if key not in cfg:
            raise error(f"{f}: error: missing key '{key}'")
    return cfg


def host_events(config_dir, inputs: dict[str, np.ndarray]) -> list[list[tuple[int, int, int]]]:
    """The per-step external events of named graph inputs ([T, *shape] each): spikes become events of value 1
    on their input axons; ``quantized`` inputs are quantized on the host (``sat_bits(rint(x * scale))``) and sent
    as graded events (zeros send nothing)."""
    d = Path(config_dir)
    cfg = load_config(d)
    T = None
    per_step: list[list[tuple[int, int, int]]] = []
    for k, spec in enumerate(cfg.get("inputs", [])):
        name = spec["name"]
        if name not in inputs:
            raise error(f"no input array for graph input '{name}'")
        x = np.asarray(inputs[name])
        shape = tuple(spec["shape"])
        if tuple(x.shape[1:]) != shape:
            raise error(f"input '{name}' has shape {list(x.shape)}; expected [T, {', '.join(map(str, shape))}]")
        if spec["kind"] == "quantized":
            scale = _load(d, f"input{k}_scale.npy")
            q = np.rint(x.astype(np.float64) * scale)
            b = int(spec["bits"])
            q = np.clip(q, -(1 << (b - 1)), (1 << (b - 1)) - 1)
            x = np.where(np.isnan(q), 0, q).astype(np.int64)
        else:
            x = x.astype(np.int64)
        x = x.reshape(x.shape[0], -1)
        T = x.shape[0] if T is None else T
        if x.shape[0] != T:
            raise error("all inputs need the same number of steps")
        r = _load(d, spec["routes"]).reshape(-1, 3)
        while len(per_step) < T:
            per_step.append([])
        for t in range(T):
            vals = x[t, r[:, 0]]
            nz = vals != 0
            per_step[t].extend(zip(r[nz, 1].tolist(), r[nz, 2].tolist(), vals[nz].tolist(), strict=True))
    return per_step


def run_config(config_dir, inputs: dict[str, np.ndarray], progress=None, readout: bool = True
               ) -> tuple[dict[str, np.ndarray], SimResult]:
    """Run a configuration on named graph inputs; returns the named graph outputs [T, *shape] and the counters.
    An output spec's ``readout`` (sum / mean / last over time, as ``snn.output``'s) is applied unless ``readout``
    is False (then every output is the per-step series)."""
    d = Path(config_dir)
    cfg = load_config(d)
    res = simulate(d, host_events(d, inputs), progress=progress)
    outs = {}
    for spec in cfg.get("outputs", []):
        cn = _load(d, spec["neurons"]).reshape(-1, 2)
        T = res.steps
        y = np.zeros((T, len(cn)), dtype=np.result_type(np.int8, *[res.spikes[c].dtype for c in set(cn[:, 0].tolist())]))
        for i, (c, n) in enumerate(cn.tolist()):
            y[:, i] = res.spikes[c][:, n]
        y = y.reshape(T, *spec["shape"])
        if spec.get("scale"):  # a real-valued output: graded integers x the dequantization scale (host side)
            y = y.astype(np.float64) * _load(d, spec["scale"]).astype(np.float64)
        if readout and spec.get("readout", "none") != "none":
            from snnc.interp.core import apply_readout

            y = apply_readout(y, spec["readout"], np.dtype(np.float64))
        outs[spec["name"]] = y
    return outs, res


__all__ = ["DEFAULT_CYCLES", "FORMAT", "PARAM_ROWS", "PARAM_ROWS_MULTI", "VERSION", "SimResult", "host_events", "load_config", "run_config", "simulate", "write_config"]
