"""Energy convention of the Spike-driven Transformer papers (SEEDS.md, "Energy convention").

``E = E_MAC * MACs + E_AC * ACs`` with the 45 nm constants E_MAC = 4.6 pJ and E_AC = 0.9 pJ.
MACs are counted only where a layer's input is real-valued (the encoding layer); a spiking
layer's ACs (synaptic operations) are ``firing_rate x T x FLOPs`` of that layer, where FLOPs are
the layer's dense multiply-accumulates per time step and the firing rate is the mean fraction of
its input elements that spike per step.

A target description may override the constants: a TOML file with an ``[energy]`` table holding
``e_mac_pj`` and ``e_ac_pj`` (both required when the table is present).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass

from snnc.ir.diagnostics import error


@dataclass(frozen=True)
class EnergyModel:
    """Energy per operation in picojoules."""

    e_mac_pj: float = 4.6
    e_ac_pj: float = 0.9
    source: str = "45nm (Horowitz 2014; Spike-driven Transformer convention)"

    def energy_pj(self, macs: float, acs: float) -> float:
        """Energy in pJ of ``macs`` multiply-accumulates and ``acs`` accumulates."""
        if macs < 0 or acs < 0:
            raise error(f"operation counts must be non-negative (MACs {macs}, ACs {acs})")
        return self.e_mac_pj * macs + self.e_ac_pj * acs

    @classmethod
    def from_target(cls, path: str | os.PathLike) -> EnergyModel:
        """Constants from a target TOML's ``[energy]`` table; the 45 nm defaults if it has none."""
        with open(path, "rb") as f:
            try:
                data = tomllib.load(f)
            except tomllib.TOMLDecodeError as e:
                raise error(f"{os.fspath(path)}: invalid TOML: {e}") from None
        table = data.get("energy")
        if table is None:
            return DEFAULT_ENERGY
        missing = [k for k in ("e_mac_pj", "e_ac_pj") if k not in table]
        if missing:
            raise error(f"{os.fspath(path)}: [energy] lacks {', '.join(missing)}")
        vals = {k: table[k] for k in ("e_mac_pj", "e_ac_pj")}
        for k, v in vals.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise error(f"{os.fspath(path)}: [energy] {k} must be a non-negative number, got {v!r}")
        return cls(float(vals["e_mac_pj"]), float(vals["e_ac_pj"]), source=os.fspath(path))


DEFAULT_ENERGY = EnergyModel()


def spiking_acs(firing_rate: float, time_steps: int, flops: float) -> float:
    """ACs of a spiking layer: ``firing_rate x T x FLOPs`` (FLOPs per step, dense)."""
    if not 0.0 <= firing_rate <= 1.0:
        raise error(f"firing rate must lie in [0, 1], got {firing_rate}")
    if time_steps < 1:
        raise error(f"time steps must be >= 1, got {time_steps}")
    return firing_rate * time_steps * flops


def energy_mj(macs: float, acs: float, model: EnergyModel = DEFAULT_ENERGY) -> float:
    """Energy in millijoules (1 mJ = 1e9 pJ)."""
    return model.energy_pj(macs, acs) * 1e-9
