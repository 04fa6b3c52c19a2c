"""neuro-core chip simulator (first cut): reads ONLY a configuration directory and runs it step by step.

Configuration directory (format version 1):
- ``config.json``: ``{"format": "snnc-neuro-core", "version": 1, "weight_bits", "membrane_bits",
  "accumulator_bits", "mesh": [rows, cols], "cores": [{"id", "position": [row, col]}...], "order": [core ids]}``
- ``core<i>_weights.npy`` int64 [axons, neurons]; ``core<i>_params.npy`` int64 [6, neurons]: rows
  v_th, v_reset, bias, leak_shift, reset_mode (0 none, 1 hard, 2 soft), cmp (0 ge, 1 gt);
- ``routes.npy`` int64 [R, 4]: (source core, source neuron, destination core, destination axon).

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
VERSION = 1


def _sat(x, bits):
    return np.clip(x, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)


@dataclass
class SimResult:
    spikes: list[np.ndarray]  # per core [T, neurons] int8
    synaptic_ops: int
    packets: int
    hops: int
    energy_pj: float | None = None


def write_config(out_dir, cores, routes, order, *, weight_bits, membrane_bits, accumulator_bits, mesh=(1, None)):
    """Write a configuration directory. ``cores``: list of (weights [A, N], params [6, N]); ``routes`` [R, 4]."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = mesh[1] or len(cores)
    for i, (w, p) in enumerate(cores):
        np.save(out / f"core{i}_weights.npy", np.asarray(w, dtype=np.int64))
        np.save(out / f"core{i}_params.npy", np.asarray(p, dtype=np.int64))
    np.save(out / "routes.npy", np.asarray(routes, dtype=np.int64).reshape(-1, 4))
    cfg = {"format": FORMAT, "version": VERSION, "weight_bits": weight_bits, "membrane_bits": membrane_bits,
           "accumulator_bits": accumulator_bits, "mesh": [mesh[0], cols],
           "cores": [{"id": i, "position": [i // cols, i % cols]} for i in range(len(cores))], "order": list(order)}
    (out / "config.json").write_text(json.dumps(cfg, indent=1, sort_keys=True) + "\n")


def simulate(config_dir, inputs) -> SimResult:
    """``inputs``: per step, a list of (core, axon) external events. Returns spikes and counters."""
    d = Path(config_dir)
    try:
        cfg = json.loads((d / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise error(f"cannot read configuration '{d / 'config.json'}': {exc}") from None
    if cfg.get("format") != FORMAT or cfg.get("version") != VERSION:
        raise error(f"'{d}' is not an {FORMAT} configuration of version {VERSION}")
    N, A = cfg["membrane_bits"], cfg["accumulator_bits"]
    cols = cfg["mesh"][1]
    C = len(cfg["cores"])
    W = [np.load(d / f"core{i}_weights.npy") for i in range(C)]
    P = [np.load(d / f"core{i}_params.npy") for i in range(C)]
    pos = {c: k for k, c in enumerate(cfg["order"])}
    routes = np.load(d / "routes.npy").reshape(-1, 4)
    by_src: dict[int, np.ndarray] = {}
    for c in range(C):
        sel = routes[routes[:, 0] == c]
        by_src[c] = sel
    v = [np.zeros(w.shape[1], dtype=np.int64) for w in W]
    out = [[] for _ in range(C)]
    pending = [[] for _ in range(C)]
    syn = packets = hops = 0
    lo, hi = -(1 << (A - 1)), (1 << (A - 1)) - 1
    for step_events in inputs:
        events, pending = pending, [[] for _ in range(C)]
        for c, a in step_events:
            events[int(c)].append(np.array([int(a)]))
        for c in cfg["order"]:
            axons = np.sort(np.concatenate(events[c])) if events[c] else np.zeros(0, dtype=np.int64)
            rows = W[c][axons]
            syn += rows.size
            pref = np.cumsum(rows, axis=0)
            if pref.size == 0 or (pref.min() >= lo and pref.max() <= hi):
                acc = pref[-1] if pref.size else np.zeros(W[c].shape[1], dtype=np.int64)
            else:
                acc = np.zeros(W[c].shape[1], dtype=np.int64)
                for r in rows:
                    acc = _sat(acc + r, A)
            v_th, v_reset, bias, k, rm, cm = P[c]
            leak = np.where(k == 0, 0, v[c] >> k)
            vp = _sat(v[c] - leak + acc + bias, N)
            s = np.where(cm == 1, vp > v_th, vp >= v_th)
            v[c] = np.select([rm == 1, rm == 2], [np.where(s, v_reset, vp), _sat(vp - s * v_th, N)], vp)
            out[c].append(s.astype(np.int8))
            r = by_src[c]
            if len(r):
                fired = r[s[r[:, 1]]]
                packets += len(fired)
                hops += int((np.abs(fired[:, 2] // cols - c // cols) + np.abs(fired[:, 2] % cols - c % cols)).sum())
                for dst in np.unique(fired[:, 2]):
                    ax = fired[fired[:, 2] == dst, 3]
                    (events if pos[int(dst)] > pos[c] else pending)[int(dst)].append(ax)
    return SimResult([np.array(o, dtype=np.int8).reshape(len(o), W[c].shape[1]) for c, o in enumerate(out)],
                     syn, packets, hops)


__all__ = ["FORMAT", "VERSION", "SimResult", "simulate", "write_config"]
