"""RTL backend: the snnc reference LIF core (hdl/), its numpy golden model and simulation drivers."""

from .refmodel import CoreConfig, MeshConfig, run_core, run_mesh

__all__ = ["CoreConfig", "MeshConfig", "run_core", "run_mesh"]
