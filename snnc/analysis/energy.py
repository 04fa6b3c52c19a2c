"""Energy convention of the Spike-driven Transformer papers (SEEDS.md, "Energy convention").

``E = E_MAC * MACs + E_AC * ACs`` with the 45 nm constants E_MAC = 4.6 pJ and E_AC = 0.9 pJ.
MACs are counted only where a layer's input is real-valued (the encoding layer); a spiking
layer's ACs (synaptic operations) are ``firing_rate x T x FLOPs`` of that layer, where FLOPs are
the layer's dense multiply-accumulates per time step and the firing rate is the mean fraction of
its input elements that spike per step.

A target description (``snnc/targets/*.toml``) may override the constants: see
:meth:`EnergyModel.from_target`.
"""

from __future__ import annotations

import os
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
    def from_target(cls, name_or_path: str | os.PathLike) -> EnergyModel:
        """Constants from a validated target description (``snnc/targets``, by name or path).

        ``kind = "mcu"``: ``[energy] mac_pj`` and ``ac_pj``.  ``kind = "neuro-core"``: an AC
        costs the chip's ``[energy] synaptic_op_pj``; MACs (the real-valued encoding layer,
        which such a chip does not run) keep the 45 nm 4.6 pJ.  Schema errors are the
        loader's located diagnostics.
        """
        from snnc.targets import load_target

        t = load_target(name_or_path)
        e = t["energy"]
        if t.kind == "mcu":
            return cls(float(e["mac_pj"]), float(e["ac_pj"]), source=f"target '{t.name}' ({t.path})")
        return cls(DEFAULT_ENERGY.e_mac_pj, float(e["synaptic_op_pj"]),
                   source=f"target '{t.name}' ({t.path}); MACs at the 45 nm figure")


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
