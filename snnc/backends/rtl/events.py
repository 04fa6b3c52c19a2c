#!/usr/bin/env python3
"""Input-event writer and output-spike reader of a generated RTL design (``snnc compile --target rtl``).

This file is self-contained (numpy only): ``snnc compile --target rtl`` copies it into the design
directory as ``snnc_events.py``, so a hardware team can drive the testbench without snnc:

    python3 snnc_events.py encode inputs.npz            # -> in_spikes.txt (the testbench's input file)
    make sim-icarus                                     # -> out_spikes.txt
    python3 snnc_events.py decode -o outputs.npz        # named graph outputs [T, *shape]

``io.json`` (written beside it) maps graph inputs to (core, axon) and graph outputs to (core, neuron):

* ``inputs``: ``{"name", "shape", "kind": "spikes" | "quantized", "bits", "scale", "routes": [[element, core,
  axon], ...]}``.  A ``spikes`` input sends an event of magnitude 1 per nonzero element; a ``quantized``
  (real-valued) input is quantized on the host exactly as ``spike.quantize`` does,
  ``q = sat_bits(rint(x * scale))`` (NaN -> 0), and sent as a graded event (sign, magnitude |q|) when q != 0;
* ``outputs``: ``{"name", "shape", "neurons": [[core, neuron], ...]}``, one entry per output element.

Per step the events are written sorted by (core, axon): each core receives its events in increasing axon
order, the order of the integer semantics (docs/rtl.md).  Testbench input file: ``T``, then per step ``E``
and E lines ``core axon sign magnitude``.  Output file: ``t core neuron sign`` per spike, ``S t cycles``
per step, ``END total_cycles``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def load_io(design_dir) -> dict:
    return json.loads((Path(design_dir) / "io.json").read_text())


def host_events(io: dict, inputs: dict) -> list[list[tuple[int, int, int, int]]]:
    """Per step, the external events (core, axon, sign, magnitude) of the named inputs ([T, *shape] each)."""
    T = None
    per_step: list[list[tuple[int, int, int, int]]] = []
    for spec in io["inputs"]:
        name = spec["name"]
        if name not in inputs:
            raise ValueError(f"no input array for graph input '{name}'")
        x = np.asarray(inputs[name])
        shape = tuple(spec["shape"])
        if tuple(x.shape[1:]) != shape:
            raise ValueError(f"input '{name}' has shape {list(x.shape)}; expected [T, {', '.join(map(str, shape))}]")
        if spec["kind"] == "quantized":
            scale = np.broadcast_to(np.asarray(spec["scale"], dtype=np.float64), shape)
            q = np.rint(x.astype(np.float64) * scale)
            b = int(spec["bits"])
            q = np.clip(q, -(1 << (b - 1)), (1 << (b - 1)) - 1)
            x = np.where(np.isnan(q), 0, q).astype(np.int64)
        else:
            x = x.astype(np.int64)
        x = x.reshape(x.shape[0], -1)
        T = x.shape[0] if T is None else T
        if x.shape[0] != T:
            raise ValueError("all inputs need the same number of steps")
        r = np.asarray(spec["routes"], dtype=np.int64).reshape(-1, 3)
        while len(per_step) < T:
            per_step.append([])
        for t in range(T):
            vals = x[t, r[:, 0]]
            nz = vals != 0
            for c, a, v in zip(r[nz, 1].tolist(), r[nz, 2].tolist(), vals[nz].tolist(), strict=True):
                per_step[t].append((c, a, int(v < 0), abs(int(v))))
    return [sorted(ev) for ev in per_step]


def write_events(path, events) -> None:
    """The testbench's input file from per-step (core, axon, sign, magnitude) events."""
    parts = [str(len(events))]
    for ev in events:
        parts.append(str(len(ev)))
        parts.extend(f"{c} {a} {s} {m}" for c, a, s, m in ev)
    Path(path).write_text("\n".join(parts) + "\n")


def read_spikes(path, n_steps: int, n_cores: int, n_neurons: int):
    """(spikes [T, cores, neurons] int8 in {-1, 0, 1}, cycles [T]) from the testbench's output file."""
    spikes = np.zeros((n_steps, n_cores, n_neurons), dtype=np.int8)
    cycles = np.full(n_steps, -1, dtype=np.int64)
    done = False
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "S":
            cycles[int(f[1])] = int(f[2])
        elif f[0] == "END":
            done = True
        else:
            t, c, n, s = map(int, f)
            spikes[t, c, n] = -1 if s else 1
    if not done or (cycles < 0).any():
        raise ValueError(f"the simulation did not finish all {n_steps} steps (see {path})")
    return spikes, cycles


def outputs_from_spikes(io: dict, spikes) -> dict:
    """Named graph outputs [T, *shape] from the per-core spikes."""
    out = {}
    for spec in io["outputs"]:
        cn = np.asarray(spec["neurons"], dtype=np.int64).reshape(-1, 2)
        y = spikes[:, cn[:, 0], cn[:, 1]] if len(cn) else np.zeros((spikes.shape[0], 0), dtype=np.int8)
        out[spec["name"]] = y.reshape(spikes.shape[0], *spec["shape"])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="encode inputs for / decode outputs of an snnc RTL design")
    ap.add_argument("--dir", default=".", help="the design directory (holds io.json)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("encode", help=".npy (one input) or .npz (by input name), [T, *shape] -> input events")
    e.add_argument("inputs")
    e.add_argument("-o", "--output", default="in_spikes.txt")
    d = sub.add_parser("decode", help="out_spikes.txt -> .npz of the named graph outputs")
    d.add_argument("spikes", nargs="?", default="out_spikes.txt")
    d.add_argument("-o", "--output", default="outputs.npz")
    a = ap.parse_args(argv)
    io = load_io(a.dir)
    if a.cmd == "encode":
        data = np.load(a.inputs)
        if isinstance(data, np.ndarray):
            if len(io["inputs"]) != 1:
                raise SystemExit("the graph has several inputs: give an .npz keyed by input name")
            data = {io["inputs"][0]["name"]: data}
        ev = host_events(io, dict(data))
        write_events(a.output, ev)
        print(f"wrote {a.output}: {len(ev)} steps, {sum(map(len, ev))} events")
    else:
        lines = Path(a.spikes).read_text().split()
        T = sum(1 for w in lines if w == "S")
        spikes, cycles = read_spikes(a.spikes, T, io["cores"], io["neurons"])
        np.savez(a.output, **outputs_from_spikes(io, spikes))
        print(f"wrote {a.output}: {T} steps, {int(cycles.sum())} cycles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
