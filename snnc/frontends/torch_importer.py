"""PyTorch -> torch dialect: ``torch.export`` then torch-mlir's FX importer, parsed by snnc.

The steps (:func:`import_torch_dialect`):

1. :func:`prepare_module`: a deep copy of the model with every third-party neuron swapped for
   the equivalent ``torch.ops.snnc`` op (:func:`snnc.frontends.torch_neurons.swap_neurons`),
   in ``eval()`` mode; the caller's model is never modified.
2. :func:`export_program`: ``torch.export.export(strict=False)`` with the example inputs as
   given (their time and batch sizes may be anything; the conversion pass strips them).
3. :func:`torch_mlir_text`: torch-mlir's ``FxImporter.import_stateless_graph`` on the
   exported graph *without* freezing: parameters, buffers and lifted constants stay
   function arguments, so torch-mlir never converts a weight to a literal (its literal
   path goes through ``Tensor.tolist()``, which dominates the import time of large models).
   No decomposition table is applied, so ``aten.conv2d``, ``aten.linear`` and
   ``aten.batch_norm`` reach the conversion whole.  The module is printed in MLIR's
   generic form with debug info (each op's ``loc`` is the Python call stack torch.export
   recorded: ``callsite(innermost at ... outermost)``).
4. ``parse_module`` reads the text; :func:`bind_weights` replaces every parameter / buffer /
   constant argument by a ``torch.vtensor.literal`` whose value is a ``dense_resource``
   named after the state-dict entry (``conv1.weight``), holding the tensor's bytes directly
   (no copy for contiguous CPU tensors), and records the user inputs' names and the time
   layout as attributes of the function (``snnc.input_names``, ``snnc.time_layout``,
   ``snnc.readout``), which the ``convert-torch-to-snn`` pass reads.

Non-persistent buffers (snnTorch neurons have them) make torch-mlir's frozen import fail
("Could not find state mapping for buffer"); here their values are read from the exported
program's constants or from the prepared copy of the model.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ir.attributes import ArrayAttr, DenseElementsAttr, DenseResourceAttr, StringAttr, TypeAttr
from ..ir.builtin import ModuleOp
from ..ir.core import Operation
from ..ir.diagnostics import error
from ..ir.types import FunctionType, IntegerType, TensorType, element_type_of_dtype

#: How the leading axes of the model's inputs are laid out.
#: ``step``: one step per call, inputs ``[B, ...]`` (the user loops over time);
#: ``TB``: multi-step ``[T, B, ...]`` (SpikingJelly ``step_mode='m'``); ``BT``: ``[B, T, ...]`` (Sinabs).
TIME_LAYOUTS = ("step", "TB", "BT")
#: How an output is read out over time: every step, their sum, their mean, or the last step.
READOUTS = ("none", "sum", "mean", "last")

#: Tensors with at most this many elements are bound inline (``dense<...>``).
INLINE_MAX = 16


@dataclass
class ImportTimings:
    """Seconds spent in each phase of :func:`import_torch_dialect`."""

    prepare: float = 0.0
    export: float = 0.0
    torch_mlir: float = 0.0
    parse: float = 0.0
    bind: float = 0.0
    convert: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.prepare + self.export + self.torch_mlir + self.parse + self.bind + self.convert


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency of the frontend
        raise error("the PyTorch frontend needs the 'torch' package") from None
    return torch


def check_options(time_layout: str, readout: str) -> None:
    if time_layout not in TIME_LAYOUTS:
        raise error(f"unknown time layout '{time_layout}' (expected one of: {', '.join(TIME_LAYOUTS)})")
    if readout not in READOUTS:
        raise error(f"unknown readout '{readout}' (expected one of: {', '.join(READOUTS)})")


def prepare_module(module: Any) -> Any:
    """A copy of ``module`` ready to export: neurons swapped, ``eval()`` mode."""
    torch = _torch()
    from .torch_neurons import swap_neurons

    if not isinstance(module, torch.nn.Module):
        raise error(f"expected a torch.nn.Module, got {type(module).__name__}")
    copy = swap_neurons(module)  # a deep copy: the caller's model is untouched
    copy.eval()
    return copy


def _as_tuple(example_inputs: Any) -> tuple:
    torch = _torch()
    if isinstance(example_inputs, torch.Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (list, tuple)):
        out = tuple(example_inputs)
        for i, x in enumerate(out):
            if not isinstance(x, torch.Tensor):
                raise error(f"example input #{i} is a {type(x).__name__}, not a torch.Tensor")
        return out
    raise error(f"example inputs must be a tensor or a tuple of tensors, got {type(example_inputs).__name__}")


def _distinct(args: tuple) -> tuple:
    """The same tensor object passed as several example inputs (``(z, z, z)``) becomes one graph input in
    torch.export, so the imported graph would read one input where the model has several: each repeat is a copy."""
    seen: set[int] = set()
    out = []
    for a in args:
        if hasattr(a, "clone") and id(a) in seen:
            a = a.clone()
        seen.add(id(a))
        out.append(a)
    return tuple(out)


def export_program(module: Any, example_inputs: Any) -> Any:
    """``torch.export.export`` of an already prepared module (see :func:`prepare_module`)."""
    torch = _torch()
    args = _distinct(_as_tuple(example_inputs))
    try:
        with torch.no_grad():
            return torch.export.export(module, args, strict=False)
    except Exception as e:  # torch.export reports unsupported Python as various exceptions
        if isinstance(e, (KeyboardInterrupt,)):  # pragma: no cover
            raise
        from ..ir.diagnostics import SnncError

        if isinstance(e, SnncError):
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise error(f"torch.export failed on the model: {type(e).__name__}: {first}") from None


def torch_mlir_text(prog: Any) -> str:
    """The exported graph in the torch dialect (MLIR generic form with debug locations)."""
    try:
        from torch_mlir import ir
        from torch_mlir.dialects import torch as torch_d
        from torch_mlir.extras.fx_importer import FxImporter
    except ImportError:  # pragma: no cover - a dependency of the frontend
        raise error("the PyTorch frontend needs the 'torch-mlir' package") from None
    context = ir.Context()
    torch_d.register_dialect(context)
    importer = FxImporter(context=context)
    importer.import_stateless_graph(prog.graph, func_name="main")
    return importer.module.operation.get_asm(print_generic_op_form=True, enable_debug_info=True)


@dataclass(frozen=True)
class ArgSpec:
    """What the i-th placeholder of the exported graph is: a user input or a state tensor."""

    kind: str  # "input" | "parameter" | "buffer" | "constant"
    name: str  # the user input's name, or the state-dict / constant name


def arg_specs(prog: Any) -> list[ArgSpec]:
    from torch.export.graph_signature import InputKind

    out = []
    for spec in prog.graph_signature.input_specs:
        if spec.kind == InputKind.USER_INPUT:
            out.append(ArgSpec("input", spec.arg.name))
        elif spec.kind == InputKind.PARAMETER:
            out.append(ArgSpec("parameter", spec.target))
        elif spec.kind == InputKind.BUFFER:
            out.append(ArgSpec("buffer", spec.target))
        elif spec.kind == InputKind.CONSTANT_TENSOR:
            out.append(ArgSpec("constant", spec.target))
        else:
            raise error(f"exported program has an input of kind {spec.kind.name}, which snnc cannot import")
    return out


def _state_tensor(prog: Any, spec: ArgSpec, module: Any | None) -> Any:
    for table in (prog.state_dict, getattr(prog, "constants", {}) or {}):
        if spec.name in table:
            return table[spec.name]
    if module is not None:  # a non-persistent buffer: read it from the prepared model
        try:
            return module.get_buffer(spec.name)
        except AttributeError:
            pass
    raise error(f"the exported program has no value for its {spec.kind} '{spec.name}'")


_RESOURCE_CHARS = re.compile(r"[^A-Za-z0-9_.$-]")


def _handle(name: str, used: set[str]) -> str:
    base = _RESOURCE_CHARS.sub("_", name) or "tensor"
    if not (base[0].isalpha() or base[0] == "_"):
        base = "_" + base
    h, n = base, 1
    while h in used:
        n += 1
        h = f"{base}_{n}"
    used.add(h)
    return h


def tensor_attr(t: Any, handle: str) -> DenseElementsAttr | DenseResourceAttr:
    """A tensor attribute holding ``t``'s data (a view of it when possible)."""
    torch = _torch()
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    if t.dtype == torch.bfloat16:
        t = t.to(torch.float32)
    arr = t.contiguous().numpy()
    elt = element_type_of_dtype(arr.dtype)
    if arr.dtype == np.int64:
        elt = IntegerType(64, "s")
    ttype = TensorType(tuple(arr.shape), elt)
    if arr.size <= INLINE_MAX:
        return DenseElementsAttr(ttype, arr)
    return DenseResourceAttr(handle, ttype, arr)


def bind_weights(
    module: ModuleOp,
    prog: Any,
    *,
    prepared: Any | None = None,
    time_layout: str = "step",
    readout: str = "none",
) -> ModuleOp:
    """Replace the state arguments of ``main`` by ``torch.vtensor.literal`` ops holding the tensors."""
    func = next((op for op in module.ops if op.op_name == "func.func"), None)
    if func is None:
        raise error("torch-mlir produced no function")
    specs = arg_specs(prog)
    block = func.body
    if len(block.args) != len(specs):
        raise error(f"internal error: {len(block.args)} function arguments for {len(specs)} exported inputs")
    used: set[str] = set()
    keep = []
    insert_at = 0
    for arg, spec in zip(list(block.args), specs, strict=True):
        if spec.kind == "input":
            keep.append((arg, spec))
            continue
        value = tensor_attr(_state_tensor(prog, spec, prepared), _handle(spec.name, used))
        lit = Operation(
            result_types=[arg.type],
            attributes={"value": value},
            location=arg.location,
            name="torch.vtensor.literal",
        )
        lit.results[0].name_hint = spec.name
        block.insert(insert_at, lit)
        insert_at += 1
        arg.replace_all_uses_with(lit.results[0])
    # Rebuild the argument list with the user inputs only.
    block.args = [a for a, _ in keep]
    for i, (a, _) in enumerate(keep):
        a.index = i
    fprops = func.properties if func.properties is not None else func.attributes
    ftype = fprops["function_type"].value
    assert isinstance(ftype, FunctionType)
    fprops["function_type"] = TypeAttr(FunctionType(tuple(a.type for a in block.args), ftype.results))
    func.attributes["snnc.input_names"] = ArrayAttr(tuple(StringAttr(s.name) for _, s in keep))
    func.attributes["snnc.time_layout"] = StringAttr(time_layout)
    func.attributes["snnc.readout"] = StringAttr(readout)
    return module


def import_torch_dialect(
    module: Any,
    example_inputs: Any,
    *,
    time_layout: str = "step",
    readout: str = "none",
    timings: ImportTimings | None = None,
) -> ModuleOp:
    """A torch-dialect module (weights bound) of ``module`` traced on ``example_inputs``.

    ``module`` is an ``nn.Module`` or a ``torch.export.ExportedProgram`` (as loaded from a
    ``.pt2`` file; it is used as exported: swap neurons before exporting).
    """
    from ..ir.parser import parse_module

    torch = _torch()
    check_options(time_layout, readout)
    tm = timings if timings is not None else ImportTimings()
    t0 = time.perf_counter()
    if isinstance(module, torch.export.ExportedProgram):
        prog, prepared = module, None
        tm.prepare = 0.0
        t1 = time.perf_counter()
    else:
        prepared = prepare_module(module)
        t1 = time.perf_counter()
        tm.prepare = t1 - t0
        prog = export_program(prepared, example_inputs)
    t2 = time.perf_counter()
    tm.export = t2 - t1
    text = torch_mlir_text(prog)
    t3 = time.perf_counter()
    tm.torch_mlir = t3 - t2
    parsed = parse_module(text, filename="<torch-mlir>")
    t4 = time.perf_counter()
    tm.parse = t4 - t3
    bind_weights(parsed, prog, prepared=prepared, time_layout=time_layout, readout=readout)
    tm.bind = time.perf_counter() - t4
    return parsed


def example_from_shapes(shapes: Sequence[Sequence[int]], dtype: Any = None, seed: int = 0) -> tuple:
    """Random example inputs of the given full shapes (used for ``file.py:factory`` models)."""
    torch = _torch()
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(*s, generator=g, dtype=dtype or torch.float32) for s in shapes)
