"""snnc: a compiler for spiking neural networks."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # snnc.import_torch without importing torch at ``import snnc``
    if name == "import_torch":
        from .frontends.torch import import_torch

        return import_torch
    raise AttributeError(f"module 'snnc' has no attribute {name!r}")
