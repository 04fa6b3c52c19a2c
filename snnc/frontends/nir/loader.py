"""Reading ``.nir`` files (HDF5) with located diagnostics instead of tracebacks.

:func:`read_graph` checks the file before handing it to ``nir.read``: that it exists,
that HDF5 can open it (a truncated or corrupt file is reported as such), that it holds
a ``node`` group, and that every node, at any depth, names a NIR 1.0.8 node type.  Any
remaining failure inside ``nir`` is reported against the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import nir

from ...ir.diagnostics import DiagnosticError, FileLoc, error

#: Node types of NIR 1.0.8 that snnc imports.
NODE_TYPES = (
    "Input",
    "Output",
    "Affine",
    "Linear",
    "Scale",
    "Conv1d",
    "Conv2d",
    "SumPool2d",
    "AvgPool2d",
    "Flatten",
    "Delay",
    "Threshold",
    "I",
    "IF",
    "LI",
    "LIF",
    "CubaLI",
    "CubaLIF",
    "NIRGraph",
)


def read_graph(path: str | os.PathLike[str]) -> nir.NIRGraph:
    """``nir.read(path)``, with every failure turned into a diagnostic located at the file."""
    import h5py

    fname = str(path)
    p = Path(path)
    if not p.exists():
        raise error("no such file", FileLoc(fname))
    if p.is_dir():
        raise error("is a directory, not a NIR file", FileLoc(fname))
    try:
        fh = h5py.File(fname, "r")
    except OSError as e:
        raise error(f"not a readable NIR file (HDF5 could not open it: {_first_line(e)}); is it truncated or corrupt?",
                    FileLoc(fname)) from None
    try:
        with fh:
            if "node" not in fh or not isinstance(fh["node"], h5py.Group):
                raise error("not a NIR file: no 'node' group at the top level", FileLoc(fname))
            _check_node_types(fh["node"], fname, "")
    except DiagnosticError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as e:
        raise error(f"corrupt NIR file: {_first_line(e)}", FileLoc(fname)) from None
    try:
        return nir.read(fname, type_check=False)
    except Exception as e:  # nir raises assorted errors (assert, KeyError, ValueError) on bad content
        where = _failing_node(fname)
        raise error(f"cannot read NIR graph: {type(e).__name__}: {_first_line(e)}", FileLoc(fname, where)) from None


def _failing_node(fname: str) -> str | None:
    """The first leaf node (depth-first, file order) that ``nir`` cannot build on its own,
    to locate a failure of ``nir.read``; None when every node builds alone."""
    import h5py
    from nir.serialization import hdf2dict

    def visit(group, name: str) -> str | None:
        if _node_type(group) == "NIRGraph":
            for child_name, child in group["nodes"].items():
                found = visit(child, f"{name}.{child_name}" if name else child_name)
                if found is not None:
                    return found
            return None
        try:
            nir.dict2NIRNode(hdf2dict(group))
        except Exception:  # the same assorted errors as above
            return name or None
        return None

    try:
        with h5py.File(fname, "r") as fh:
            return visit(fh["node"], "")
    except (OSError, KeyError, ValueError, TypeError):
        return None


def _check_node_types(group, fname: str, name: str) -> None:
    """Check ``group`` (the node called ``name``; "" for the top graph) and its children."""
    import h5py

    where = FileLoc(fname, name or None)
    t = _node_type(group)
    if t is None:
        raise error("node has no 'type' entry", where)
    if t not in NODE_TYPES:
        raise error(f"unknown node type '{t}' (NIR 1.0.8 defines {', '.join(NODE_TYPES)})", where)
    if t == "NIRGraph":
        if "nodes" not in group or "edges" not in group:
            raise error("graph node lacks 'nodes' or 'edges'", where)
        for child_name, child in group["nodes"].items():
            qual = f"{name}.{child_name}" if name else child_name
            if not isinstance(child, h5py.Group):
                raise error("node entry is not an HDF5 group", FileLoc(fname, qual))
            _check_node_types(child, fname, qual)


def _node_type(group) -> str | None:
    if "type" not in group:
        return None
    raw = group["type"][()]
    if isinstance(raw, bytes):
        return raw.decode("utf8", errors="replace")
    return str(raw)


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__
