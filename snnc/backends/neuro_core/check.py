"""The simulator level of ``snnc check --target neuro-core``: the configuration run by :mod:`snnc.sim`
against the integer interpreter, every output spike of every step compared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class SimCheck:
    outputs: dict[str, np.ndarray]  # simulator outputs [T, n]
    reference: dict[str, np.ndarray]  # integer interpreter [T, n]
    report: dict
    counters: dict
    first_mismatch: tuple[str, int, int] | None  # (output, step, neuron)


def compare_sim(integer_module, inputs: dict[str, np.ndarray], out_dir, target="neuro-core", progress=None) -> SimCheck:
    """Emit ``integer_module`` into ``out_dir``, run the simulator on ``inputs`` ([T, *shape], one sample) and
    compare with the integer interpreter."""
    from ...sim import run_config
    from ..common import output_series
    from .emit import emit

    art = emit(integer_module, target, out_dir)
    outs, res = run_config(Path(out_dir), inputs, progress=progress, readout=False)
    ref_raw = output_series(integer_module, inputs, flatten=False)
    ref, sim, first = {}, {}, None
    for name, y in outs.items():
        real = np.asarray(ref_raw[name]).dtype.kind == "f"  # dequantized outputs: compared as the same floats
        dt = np.float64 if real else np.int64
        r = np.asarray(ref_raw[name]).astype(dt).reshape(y.shape[0], -1)
        s = y.astype(dt).reshape(y.shape[0], -1)
        ref[name], sim[name] = r, s
        if first is None and (r != s).any():
            t, n = np.argwhere(r != s)[0]
            first = (name, int(t), int(n))
    counters = {"spikes": int(sum(int(np.count_nonzero(s)) for s in res.spikes)), "synaptic_ops": res.synaptic_ops,
                "packets": res.packets, "hops": res.hops, "neuron_updates": res.neuron_updates, "cycles": res.cycles,
                "energy_pj": float(res.energy_pj or 0.0)}
    return SimCheck(sim, ref, art.report, counters, first)


__all__ = ["SimCheck", "compare_sim"]
