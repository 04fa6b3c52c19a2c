"""The PyTorch frontend: ``import_torch(model, example_inputs)`` -> an ``snn.graph`` module.

    import snnc
    module = snnc.import_torch(model, torch.rand(4, 1, 3, 32, 32), time_layout="TB")

``model`` is an ``nn.Module`` (SpikingJelly, snnTorch, Norse and Sinabs neurons are swapped for
the equivalent ``torch.ops.snnc`` ops on a copy, see :mod:`snnc.frontends.torch_neurons`) or a
``torch.export.ExportedProgram`` (e.g. loaded from a ``.pt2`` file).  ``example_inputs`` (a
tensor or a tuple of tensors) fix the shapes; their time and batch sizes do not matter.

``time_layout`` says what the inputs' leading axes are:

* ``"step"``: ``[B, ...]``, the model computes one time step per call and the user loops over
  time (snnTorch, Norse, single-step SpikingJelly); its state lives in the neurons;
* ``"TB"``: ``[T, B, ...]``, multi-step (SpikingJelly ``step_mode='m'``, ``SeqToANNContainer`` /
  ``flatten(0, 1)``);
* ``"BT"``: ``[B, T, ...]`` (Sinabs).

Either way the result is the per-step graph (see ``convert-torch-to-snn``).  ``readout``
(``none``, ``sum``, ``mean``, ``last``) is how outputs that still carry a time axis are read
out over time; a model that reduces over time itself (``x.mean(0)``) sets it.  It becomes the
``snn.output``'s ``readout`` attribute.

Model files (:func:`load_torch_model`): ``.pt2`` (``torch.export.save``), TorchScript
(``torch.jit.save`` of a model whose neurons are snnc ops; converted by torch's TorchScript-to-export
converter, then re-exported with static shapes), ``file.py:factory``
(a Python file and a function returning the module) and a pickled ``nn.Module`` (``.pt`` /
``.pth`` from ``torch.save(model)``) only with ``trust_pickle=True``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..ir.builtin import ModuleOp
from ..ir.diagnostics import FileLoc, error
from ..ir.verifier import verify
from .torch_importer import READOUTS, TIME_LAYOUTS, ImportTimings, import_torch_dialect

__all__ = ["READOUTS", "TIME_LAYOUTS", "ImportTimings", "import_torch", "load_torch_model", "import_torch_file"]


def import_torch(
    module: Any,
    example_inputs: Any = None,
    *,
    time_layout: str = "step",
    readout: str = "none",
    graph_name: str = "main",
    timings: ImportTimings | None = None,
) -> ModuleOp:
    """Import a PyTorch model as an ``snn.graph`` module (verified).  See the module docstring."""
    import time

    from ..passes.convert_torch_to_snn import ConvertTorchToSnn

    tm = timings if timings is not None else ImportTimings()
    torch_module = import_torch_dialect(module, example_inputs, time_layout=time_layout, readout=readout, timings=tm)
    t0 = time.perf_counter()
    ConvertTorchToSnn(time_layout=time_layout, readout=readout, graph_name=graph_name).run(torch_module)
    verify(torch_module)
    tm.convert = time.perf_counter() - t0
    return torch_module


# --------------------------------------------------------------------------- model files

#: Suffixes of model files the PyTorch frontend reads.
TORCH_SUFFIXES = (".pt2", ".pt", ".pth", ".ts", ".torchscript")

PICKLE_WHY = (
    "it is a pickled Python object: loading a pickle runs arbitrary code from the file. Pass --trust-pickle "
    "(trust_pickle=True) only for files you trust, or save the model with torch.export.save (.pt2) instead"
)


def is_torch_path(path: str | os.PathLike[str]) -> bool:
    p = str(path)
    if ":" in Path(p).name and Path(p).name.split(":", 1)[0].endswith(".py"):
        return True
    return Path(p).suffix.lower() in TORCH_SUFFIXES


def _split_factory(spec: str) -> tuple[Path, str] | None:
    # "dir/model.py:make" (a Windows drive letter never precedes ".py:")
    idx = spec.rfind(".py:")
    if idx < 0:
        return None
    return Path(spec[: idx + 3]), spec[idx + 4 :]


def _load_factory(path: Path, factory: str) -> Any:
    if not path.is_file():
        raise error(f"cannot open '{path}': no such file")
    name = f"snnc_user_model_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise error(f"cannot load '{path}' as a Python module")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:
        raise error(f"running '{path}' failed: {type(e).__name__}: {e}", FileLoc(str(path))) from None
    fn = getattr(mod, factory, None)
    if fn is None or not callable(fn):
        raise error(f"'{path}' defines no function '{factory}'", FileLoc(str(path)))
    try:
        return fn()
    except Exception as e:
        raise error(f"'{path}:{factory}()' failed: {type(e).__name__}: {e}", FileLoc(str(path))) from None


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def load_torch_model(path: str | os.PathLike[str], *, trust_pickle: bool = False) -> Any:
    """An ``nn.Module`` or ``ExportedProgram`` from a model file (see the module docstring)."""
    import torch

    spec = str(path)
    fac = _split_factory(spec)
    if fac is not None:
        return _load_factory(*fac)
    p = Path(spec)
    if not p.exists():
        raise error(f"cannot open '{spec}': no such file")
    if p.suffix.lower() == ".pt2":
        import snnc.nn  # noqa: F401  (registers the torch.ops.snnc neuron ops the program may call)

        try:
            return torch.export.load(str(p))
        except Exception as e:
            raise error(f"cannot read '{spec}' as a torch.export program (.pt2): {type(e).__name__}: {e}", FileLoc(spec)) from None
    if _is_torchscript(p):
        import snnc.nn  # noqa: F401  (registers torch.ops.snnc, which the TorchScript code may call)

        try:
            return torch.jit.load(str(p), map_location="cpu")
        except Exception as e:
            raise error(f"cannot read '{spec}' as TorchScript: {type(e).__name__}: {e}", FileLoc(spec)) from None
    if not trust_pickle:
        raise error(f"refusing to load '{spec}': {PICKLE_WHY}", FileLoc(spec))
    try:
        obj = torch.load(str(p), map_location="cpu", weights_only=False)
    except Exception as e:
        raise error(f"cannot unpickle '{spec}': {type(e).__name__}: {e}", FileLoc(spec)) from None
    if not isinstance(obj, torch.nn.Module):
        raise error(f"'{spec}' holds a {type(obj).__name__}, not a torch.nn.Module (a state dict needs its model class: "
                    "use file.py:factory)", FileLoc(spec))
    return obj


def import_torch_file(
    path: str | os.PathLike[str],
    *,
    input_shapes: Sequence[Sequence[int]] | None = None,
    time_layout: str = "step",
    readout: str = "none",
    trust_pickle: bool = False,
) -> ModuleOp:
    """Load a model file and import it.  ``input_shapes`` (full shapes, with the time/batch axes of
    ``time_layout``) are needed for everything but ``.pt2`` programs, which carry their own."""
    import torch

    from .torch_importer import example_from_shapes

    model = load_torch_model(path, trust_pickle=trust_pickle)
    if isinstance(model, torch.export.ExportedProgram):
        return import_torch(model, None, time_layout=time_layout, readout=readout)
    if not input_shapes:
        raise error(f"importing '{path}' needs the example input shape (--input-shape, e.g. 4,1,3,32,32)")
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    example = example_from_shapes(input_shapes, dtype=dtype)
    if isinstance(model, torch.jit.ScriptModule):
        model = torchscript_program(model, example, str(path))
    return import_torch(model, example, time_layout=time_layout, readout=readout)


def torchscript_program(ts: Any, example: tuple, name: str = "<torchscript>") -> Any:
    """An ``ExportedProgram`` of a TorchScript module with static shapes (torch's TorchScript converter,
    then ``torch.export`` of the converted module on ``example``).  Its neurons must already be
    ``torch.ops.snnc`` ops (trace/script the model after ``swap_neurons``)."""
    import torch

    import snnc.nn  # noqa: F401  (registers torch.ops.snnc, which the TorchScript graph may call)

    try:
        from torch._export.converter import TS2EPConverter

        converted = TS2EPConverter(ts, example).convert()
        with torch.no_grad():
            return torch.export.export(converted.module(), example, strict=False)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise error(
            f"cannot convert TorchScript '{name}' for torch.export: {type(e).__name__}: {first}; save the original "
            "model with torch.export.save (.pt2) or give file.py:factory",
            FileLoc(name),
        ) from None
