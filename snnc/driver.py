"""The compiler driver: reading models, running pipelines, writing outputs.

The CLI (:mod:`snnc.cli`) is a thin layer over these functions; tests and scripts may
call them directly.  Every user-facing failure is a :class:`DiagnosticError`;
:class:`Sources` keeps the text of every file read so diagnostics can show the source
line and a caret.

Outputs are written atomically: to a temporary file in the destination's directory,
then ``os.replace``-d over the destination, so an error never leaves a half-written or
stale-looking output behind.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from .ir.builtin import ModuleOp
from .ir.diagnostics import DiagnosticError, FileLoc, error
from .ir.verifier import verify

#: Model file suffixes read as NIR (HDF5); everything else is read as MLIR text.
NIR_SUFFIXES = (".nir", ".h5", ".hdf5")
DISCRETIZATIONS = ("euler", "exact")


@dataclass
class Sources:
    """File name -> text of every text file read, for rendering diagnostics."""

    texts: dict[str, str] = field(default_factory=dict)

    def render(self, e: DiagnosticError) -> str:
        return e.render(self.texts)


def is_nir_path(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in NIR_SUFFIXES


def load_module(
    path: str | os.PathLike[str],
    *,
    dt: float | None = None,
    discretization: str | None = None,
    sources: Sources | None = None,
    verify_module: bool = True,
    torch_options: dict[str, Any] | None = None,
) -> ModuleOp:
    """Read a model: NIR (``.nir``) through the NIR frontend, else MLIR text (``-``: stdin);
    then verify.

    ``dt`` and ``discretization`` apply to NIR input only (MLIR text already holds
    discrete-time parameters; they are ignored there).  PyTorch model files (``.pt2``,
    TorchScript, a pickle, ``file.py:factory``) go through the PyTorch frontend with
    ``torch_options`` (keyword arguments of :func:`snnc.frontends.torch.import_torch_file`).
    """
    p = Path(path)
    name = str(path)
    from .frontends.torch import is_torch_path

    if name != "-" and is_torch_path(name):  # .pt2 / TorchScript / pickle / file.py:factory
        from .frontends.torch import import_torch_file

        module = import_torch_file(name, **(torch_options or {}))
        if verify_module:
            verify(module)
        return module
    if name == "-":  # MLIR text on stdin
        text = sys.stdin.read()
        name = "<stdin>"
        if sources is not None:
            sources.texts[name] = text
        from .ir.parser import parse_module

        module = parse_module(text, filename=name)
        if verify_module:
            verify(module)
        return module
    if not p.exists():
        raise error(f"cannot open '{name}': no such file")
    if p.is_dir():
        raise error(f"cannot open '{name}': is a directory")
    if discretization is not None and discretization not in DISCRETIZATIONS:
        raise error(f"unknown discretization '{discretization}' (expected one of: {', '.join(DISCRETIZATIONS)})")
    if dt is not None and not (dt > 0 and np.isfinite(dt)):
        raise error(f"--dt must be a positive number of seconds, got {dt}")
    if is_nir_path(p):
        from .frontends.nir import import_nir

        try:
            module = import_nir(p, dt=dt, discretization=discretization)
        except OSError as e:  # h5py: truncated or not HDF5 at all
            raise error(f"cannot read NIR file: {e}", FileLoc(name)) from None
    else:
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise error(f"cannot read '{name}': not UTF-8 text (byte {e.start}); is it a binary file?") from None
        except OSError as e:
            raise error(f"cannot read '{name}': {e.strerror or e}") from None
        if sources is not None:
            sources.texts[name] = text
        from .ir.parser import parse_module

        module = parse_module(text, filename=name)
    if verify_module:
        verify(module)
    return module


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then move it over ``path``.

    On any exception the temporary file is removed and the exception propagates; ``path``
    is untouched.  An unwritable destination is a diagnostic.
    """
    p = Path(path)
    directory = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise error(f"cannot write '{path}': {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, p)
    except OSError as e:
        _unlink(tmp)
        raise error(f"cannot write '{path}': {e.strerror or e}") from None
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def write_nir_file(module: ModuleOp, path: str | os.PathLike[str], *, dt: float | None = None) -> None:
    """Export ``module`` to NIR and write it atomically (the export runs before any write)."""
    from .frontends.nir import export_nir

    graph = export_nir(module, dt=dt)
    import nir

    def _write(fh: IO[bytes]) -> None:
        # nir.write wants a path; write to a sibling temp path then copy the bytes in.
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d) / "graph.nir"
            nir.write(str(tmp), graph)
            fh.write(tmp.read_bytes())

    atomic_write(path, _write)


# --------------------------------------------------------------------------- run


def load_inputs(path: str | os.PathLike[str], input_names: list[str]) -> dict[str, np.ndarray]:
    """Read ``.npy`` (one array; the graph must have one input) or ``.npz`` (keyed by name)."""
    name = str(path)
    p = Path(path)
    if not p.is_file():
        raise error(f"cannot open input '{name}': no such file")
    try:
        loaded = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise error(f"cannot read input '{name}': {e}") from None
    if isinstance(loaded, np.ndarray):
        if len(input_names) != 1:
            raise error(
                f"the graph has {len(input_names)} inputs ({', '.join(input_names)}); "
                f"give them as an .npz keyed by input name, not the single array in '{name}'"
            )
        return {input_names[0]: loaded}
    with loaded as npz:
        arrays = {k: npz[k] for k in npz.files}
    missing = [n for n in input_names if n not in arrays]
    if missing:
        raise error(f"input file '{name}' has no array for graph input(s) {', '.join(missing)} (it has: {', '.join(sorted(arrays)) or 'none'})")
    extra = sorted(set(arrays) - set(input_names))
    if extra:
        raise error(f"input file '{name}' has arrays for unknown graph input(s): {', '.join(extra)}")
    return arrays


def save_outputs(path: str | os.PathLike[str], outputs: Mapping[str, np.ndarray]) -> None:
    """``.npy`` for a single output, ``.npz`` keyed by output name otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        if len(outputs) != 1:
            raise error(f"the graph has {len(outputs)} outputs ({', '.join(outputs)}); write them to an .npz file, not '{path}'")
        (arr,) = outputs.values()
        atomic_write(path, lambda fh: np.save(fh, arr, allow_pickle=False))
    elif suffix == ".npz":
        atomic_write(path, lambda fh: np.savez(fh, **outputs))
    else:
        raise error(f"output '{path}' must end in .npy (one output) or .npz")


def summarize_outputs(outputs: Mapping[str, np.ndarray]) -> str:
    """One line per output: shape, dtype, spike counts (spike outputs) or value range."""
    buf = io.StringIO()
    for name, arr in outputs.items():
        shape = "x".join(str(d) for d in arr.shape)
        if arr.dtype == np.bool_ or (arr.dtype == np.int8 and arr.size and set(np.unique(arr)).issubset({-1, 0, 1})):
            total = int(np.count_nonzero(arr))
            per_step = ", ".join(str(int(np.count_nonzero(a))) for a in arr[:16]) if arr.ndim else ""
            more = ", ..." if arr.shape and arr.shape[0] > 16 else ""
            buf.write(f"{name}: [{shape}] spikes, {total} in total; per step: {per_step}{more}\n")
        else:
            if arr.size:
                buf.write(f"{name}: [{shape}] {arr.dtype}, min {arr.min():.6g}, max {arr.max():.6g}, mean {arr.mean():.6g}\n")
            else:
                buf.write(f"{name}: [{shape}] {arr.dtype}, empty\n")
    return buf.getvalue()


def run_module(module: ModuleOp, inputs: Mapping[str, np.ndarray], *, dtype: Any = np.float64) -> dict[str, np.ndarray]:
    from .interp import run

    return dict(run(module, dict(inputs), dtype=dtype).outputs)


def graph_input_names(module: ModuleOp) -> list[str]:
    from .interp.core import graph_inputs
    from .passes.validate import find_graph

    return [op.attr("name") for op in graph_inputs(find_graph(module))]  # type: ignore[attr-defined]


__all__ = [
    "NIR_SUFFIXES",
    "Sources",
    "atomic_write",
    "graph_input_names",
    "is_nir_path",
    "load_inputs",
    "load_module",
    "run_module",
    "save_outputs",
    "summarize_outputs",
    "write_nir_file",
    "write_text",
]
