"""The C backend: C99 for hosts and microcontrollers from an integer ``spike`` graph.

``emit(module, target, out_dir) -> CArtifact`` (see :mod:`snnc.backends.c.emit`).
"""

from .emit import TARGETS, CArtifact, Target, emit

__all__ = ["TARGETS", "CArtifact", "Target", "emit"]
