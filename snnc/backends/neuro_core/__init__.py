"""The neuro-core backend: the chip configuration (``snnc.sim`` format) from an integer ``spike`` graph.

``emit(module, target, out_dir) -> NeuroCoreArtifact`` (see :mod:`snnc.backends.neuro_core.emit`);
``check_sim`` (:mod:`snnc.backends.neuro_core.check`) compares the simulator with the integer interpreter.
"""

from .emit import NeuroCoreArtifact, emit

__all__ = ["NeuroCoreArtifact", "emit"]
