"""neuro-core chip simulator: reads ONLY a configuration directory and runs it step by step.

Configuration directory (format version 2; version 1 directories are still read):
- ``config.json``: ``{"format": "snnc-neuro-core", "version": 1, "weight_bits", "membrane_bits",
  "accumulator_bits", "mesh": [rows, cols], "cores": [{"id", "position": [row, col]}...], "order": [core ids]}``
- ``core<i>_weights.npy`` int64 [axons, neurons]; ``core<i>_params.npy`` int64 [6, neurons]: rows
  v_th, v_reset, bias, leak_shift, reset_mode (0 none, 1 hard, 2 soft), cmp (0 ge, 1 gt);
- ``routes.npy`` int64 [R, 4]: (source core, source neuron, destination core, destination axon).

Version 2 adds (all optional, so a v1 directory is a valid v2 one):
- params rows 6..8: leak_kind (0: shift/none by leak_shift, 1: ``mul``, Loihi's multiplicative decay
  ``leak = v - ((v * decay + 2^(f-1)) >>> f)``), decay, frac_bits;
- per-core ``membrane_bits`` / ``accumulator_bits`` in a ``cores`` entry (override the global widths);
- ``energy``: {synaptic_op_pj, neuron_update_pj, packet_pj, hop_pj} (the target's figures);
- ``inputs``: [{"name", "shape", "kind": "spikes" | "quantized", "bits", "routes": file}] where the routes file
  [R, 3] = (input element, core, axon); a ``quantized`` input is a real-valued graph input that the host quantizes
  (``sat_bits(rint(x * scale))``, ``scale`` in ``input<k>_scale.npy`` broadcast to the shape) and sends as graded
  events (an event carries an integer payload x and adds ``x * w``, as Loihi 2's graded spikes; a spike is x = 1);
- ``outputs``: [{"name", "shape", "neurons": file}], the file [n, 2] = (core, neuron) of each output element.

Semantics: integer.md per core (events in increasing axon order, accumulator saturating after every addition),
cores run in the recorded ``order`` within a step; a spike routed to a core later in the order is delivered in
the same step, to an earlier (or the same) core in the next step. Binary spikes only (no ternary yet).
Accumulation is vectorised: a plain sum is used when no prefix sum leaves the accumulator range (then it equals
the saturating sequence exactly), the saturating sequence otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnc.ir.diagnostics import error

FORMAT = "snnc-neuro-core"
VERSION = 2
READABLE_VERSIONS = (1, 2)


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


def write_config(out_dir, cores, routes, order, *, weight_bits, membrane_bits, accumulator_bits, mesh=(1, None),
                 positions=None, core_widths=None, extra=None):
    """Write a configuration directory. ``cores``: list of (weights [A, N], params [6 or 9, N]); ``routes`` [R, 4].

    ``positions``: per core (row, col) on the mesh (default: row-major by index); ``core_widths``: per core
    (membrane_bits, accumulator_bits); ``extra``: more config.json keys (energy, inputs, outputs)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = mesh[1] or len(cores)
    for i, (w, p) in enumerate(cores):
        np.save(out / f"core{i}_weights.npy", np.asarray(w, dtype=np.int64))
        np.save(out / f"core{i}_params.npy", np.asarray(p, dtype=np.int64))
    np.save(out / "routes.npy", np.asarray(routes, dtype=np.int64).reshape(-1, 4))
    cfg = {"format": FORMAT, "version": VERSION, "weight_bits": weight_bits, "membrane_bits": membrane_bits,
           "accumulator_bits": accumulator_bits, "mesh": [mesh[0], cols],
           "cores": [{"id": i, "position": [i // cols, i % cols] if positions is None else [int(x) for x in positions[i]]}
                     for i in range(len(cores))], "order": [int(c) for c in order]}
    if core_widths is not None:
        for entry, (nb, ab) in zip(cfg["cores"], core_widths, strict=True):
            entry["membrane_bits"], entry["accumulator_bits"] = int(nb), int(ab)
    cfg.update(extra or {})
    (out / "config.json").write_text(json.dumps(cfg, indent=1, sort_keys=True) + "\n")


def simulate(config_dir, inputs, progress=None) -> SimResult:
    """``inputs``: per step, a list of (core, axon) or (core, axon, value) external events (value: the graded
    payload, default 1). Returns spikes and counters. ``progress``: called with the step index after each step."""
    d = Path(config_dir)
    try:
        cfg = json.loads((d / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise error(f"cannot read configuration '{d / 'config.json'}': {exc}") from None
    if cfg.get("format") != FORMAT or cfg.get("version") not in READABLE_VERSIONS:
        raise error(f"'{d}' is not an {FORMAT} configuration of version {VERSION}")
    cols = cfg["mesh"][1]
    C = len(cfg["cores"])
    NB = [int(e.get("membrane_bits", cfg["membrane_bits"])) for e in cfg["cores"]]
    AB = [int(e.get("accumulator_bits", cfg["accumulator_bits"])) for e in cfg["cores"]]
    rc = {int(e["id"]): e["position"] for e in cfg["cores"]}
    W = [np.load(d / f"core{i}_weights.npy") for i in range(C)]
    P = []
    for i in range(C):
        p = np.load(d / f"core{i}_params.npy")
        if p.shape[0] < 9:
            p = np.concatenate([p, np.zeros((9 - p.shape[0], p.shape[1]), dtype=np.int64)])
        P.append(p)
    pos = {c: k for k, c in enumerate(cfg["order"])}
    routes = np.load(d / "routes.npy").reshape(-1, 4)
    by_src: dict[int, np.ndarray] = {}
    for c in range(C):
        sel = routes[routes[:, 0] == c]
        by_src[c] = sel
    v = [np.zeros(w.shape[1], dtype=np.int64) for w in W]
    out = [[] for _ in range(C)]
    pending = [[] for _ in range(C)]
    syn = packets = hops = updates = steps = 0
    for step_events in inputs:
        events, pending = pending, [[] for _ in range(C)]
        for ev in step_events:
            events[int(ev[0])].append(np.array([[int(ev[1]), int(ev[2]) if len(ev) > 2 else 1]]))
        for c in cfg["order"]:
            N, A = NB[c], AB[c]
            lo, hi = -(1 << (A - 1)), (1 << (A - 1)) - 1
            if events[c]:
                ev = np.concatenate(events[c])
                ev = ev[np.argsort(ev[:, 0], kind="stable")]
                rows = W[c][ev[:, 0]]
                if (ev[:, 1] != 1).any():
                    rows = rows * ev[:, 1:2]
            else:
                rows = np.zeros((0, W[c].shape[1]), dtype=np.int64)
            syn += int(np.count_nonzero(W[c][ev[:, 0]])) if events[c] else 0
            updates += W[c].shape[1]
            pref = np.cumsum(rows, axis=0)
            if pref.size == 0 or (pref.min() >= lo and pref.max() <= hi):
                acc = pref[-1] if pref.size else np.zeros(W[c].shape[1], dtype=np.int64)
            else:
                acc = np.zeros(W[c].shape[1], dtype=np.int64)
                for r in rows:
                    acc = _sat(acc + r, A)
            v_th, v_reset, bias, k, rm, cm, lk, dec, fb = P[c]
            leak = np.where(k == 0, 0, v[c] >> k)
            if (lk == 1).any():
                f = np.maximum(fb, 1)
                leak = np.where(lk == 1, v[c] - ((v[c] * dec + (np.int64(1) << (f - 1))) >> f), leak)
            vp = _sat(v[c] - leak + acc + bias, N)
            s = np.where(cm == 1, vp > v_th, vp >= v_th)
            v[c] = np.select([rm == 1, rm == 2], [np.where(s, v_reset, vp), _sat(vp - s * v_th, N)], vp)
            out[c].append(s.astype(np.int8))
            r = by_src[c]
            if len(r):
                fired = r[s[r[:, 1]]]
                packets += len(fired)
                for dst in np.unique(fired[:, 2]):
                    ax = fired[fired[:, 2] == dst, 3]
                    hops += len(ax) * (abs(rc[int(dst)][0] - rc[c][0]) + abs(rc[int(dst)][1] - rc[c][1]))
                    evs = np.stack([ax, np.ones_like(ax)], axis=1)
                    (events if pos[int(dst)] > pos[c] else pending)[int(dst)].append(evs)
        steps += 1
        if progress is not None:
            progress(steps)
    res = SimResult([np.array(o, dtype=np.int8).reshape(len(o), W[c].shape[1]) for c, o in enumerate(out)],
                    syn, packets, hops, neuron_updates=updates, steps=steps)
    e = cfg.get("energy")
    if e:
        res.energy_pj = (syn * e["synaptic_op_pj"] + updates * e["neuron_update_pj"] + packets * e["packet_pj"]
                         + hops * e["hop_pj"])
    return res


def load_config(config_dir) -> dict:
    d = Path(config_dir)
    try:
        cfg = json.loads((d / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise error(f"cannot read configuration '{d / 'config.json'}': {exc}") from None
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
            scale = np.load(d / f"input{k}_scale.npy")
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
        r = np.load(d / spec["routes"]).reshape(-1, 3)
        while len(per_step) < T:
            per_step.append([])
        for t in range(T):
            vals = x[t, r[:, 0]]
            nz = vals != 0
            per_step[t].extend(zip(r[nz, 1].tolist(), r[nz, 2].tolist(), vals[nz].tolist(), strict=True))
    return per_step


def run_config(config_dir, inputs: dict[str, np.ndarray], progress=None) -> tuple[dict[str, np.ndarray], SimResult]:
    """Run a configuration on named graph inputs; returns the named graph outputs [T, *shape] and the counters."""
    d = Path(config_dir)
    cfg = load_config(d)
    res = simulate(d, host_events(d, inputs), progress=progress)
    outs = {}
    for spec in cfg.get("outputs", []):
        cn = np.load(d / spec["neurons"]).reshape(-1, 2)
        T = res.steps
        y = np.zeros((T, len(cn)), dtype=np.int8)
        for i, (c, n) in enumerate(cn.tolist()):
            y[:, i] = res.spikes[c][:, n]
        outs[spec["name"]] = y.reshape(T, *spec["shape"])
    return outs, res


__all__ = ["FORMAT", "VERSION", "SimResult", "host_events", "load_config", "run_config", "simulate", "write_config"]
