"""The snnc dialects.  Importing this package registers every op.

* :mod:`snnc.dialects.nn`: float tensor math of one time step (synapses, pooling, shapes).
* :mod:`snnc.dialects.snn`: networks (``snn.graph``), inputs/outputs, neurons, delays.
* :mod:`snnc.dialects.spike`: integer spiking networks with bit-exact semantics (integer.md).

``DIALECTS`` lists them (each a :class:`snnc.ir.opdef.Dialect` with its op classes).
"""

from __future__ import annotations

from ..ir.opdef import Dialect
from . import nn, snn, spike
from .snn import find_graph

DIALECTS: tuple[Dialect, ...] = (nn.DIALECT, snn.DIALECT, spike.DIALECT)

__all__ = ["DIALECTS", "find_graph", "nn", "snn", "spike"]
