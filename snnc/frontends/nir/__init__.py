"""NIR (Neuromorphic Intermediate Representation, nir 1.0.8) import and export.

* :func:`import_nir` reads a ``.nir`` file or a ``nir.NIRGraph`` into a module with one
  ``snn.graph``;
* :func:`export_nir` turns such a module back into a ``nir.NIRGraph``; :func:`write_nir`
  writes it to a file.

The mapping (node by node, with the discretisation formulas) is in docs/nir.md.
"""

from .discretize import SCHEMES
from .exporter import export_nir, write_nir
from .importer import DEFAULT_DT, DT_ATTR, SCHEME_ATTR, import_nir, resolve_dt
from .loader import NODE_TYPES, read_graph

__all__ = [
    "DEFAULT_DT",
    "DT_ATTR",
    "NODE_TYPES",
    "SCHEME_ATTR",
    "SCHEMES",
    "export_nir",
    "import_nir",
    "read_graph",
    "resolve_dt",
    "write_nir",
]
