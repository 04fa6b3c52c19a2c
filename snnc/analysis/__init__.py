"""Analyses over snnc IR: energy accounting in the units of the spike-driven papers."""

from snnc.analysis.energy import DEFAULT_ENERGY, EnergyModel, energy_mj, spiking_acs

__all__ = ["DEFAULT_ENERGY", "EnergyModel", "energy_mj", "spiking_acs"]
