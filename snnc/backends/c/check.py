"""``snnc check``: every level of a model on the same inputs, compared.

Levels: the float interpreter (the model as given), the integer interpreter (after the
lowering pipeline, default ``canonicalize,quantize``), the emitted C built with the host
``cc``, and the Cortex-M4 image (``arm-none-eabi-gcc``) run under
``qemu-system-arm -M mps2-an386`` with semihosting.  The three integer levels must agree
bit for bit (``CheckReport.ok``); the float level is reported as spike agreement.

Inputs: ``steps`` time steps drawn with ``seed`` as :func:`snnc.passes.validate.random_inputs`
draws them (spikes Bernoulli(0.3), reals standard normal); the quantize pass calibrates on
these same inputs unless calibration data is given.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...ir.builtin import ModuleOp
from ...ir.diagnostics import error
from ..common import CHECK_HEAD, format_rows, output_series, real_agreement
from .emit import emit


@dataclass
class LevelResult:
    level: str
    outputs: dict[str, np.ndarray] | None
    note: str = ""


@dataclass
class CheckReport:
    levels: list[LevelResult] = field(default_factory=list)
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # level, output, vs integer, vs float
    sizes: dict[str, Any] = field(default_factory=dict)
    mismatches: int = 0
    #: float vs integer interpreter per output: the fraction of equal spikes, or for real-valued
    #: outputs ``1 - mean|err| / max|float|`` after the output's readout over time
    agreement: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def table(self) -> str:
        lines = format_rows([CHECK_HEAD, *self.rows])
        for k, v in self.sizes.items():
            lines.append(f"{k}: {v}")
        lines.append("integer levels agree bit for bit" if self.ok else f"MISMATCH: {self.mismatches} differing values")
        return "\n".join(lines) + "\n"


def _int_outputs(m: ModuleOp, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Integer interpreter outputs as the C API returns them ([T, n]; dequantize read unscaled)."""
    from ...dialects.snn import find_graph
    from ...interp import run
    from ...ir.printer import value_names

    res = run(m, inputs, probe=True)
    names = value_names(m)
    out = {}
    for op in find_graph(m).outputs():
        d = op.operands[0].defining_op()
        if d is not None and d.op_name == "spike.dequantize":
            v = res.probes[names[d.operands[0]]]
        else:
            v = res.outputs[op.attr("name")]
        out[op.attr("name")] = np.asarray(v).astype(np.int64).reshape(np.asarray(v).shape[0], -1)
    return out


def host_inputs(m: ModuleOp, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The C API's integer inputs, [T, n] each: real-valued inputs quantized as spike.quantize does."""
    from ...dialects.snn import find_graph
    from ...interp.core import RunContext
    from ...interp.spike import quantize

    out = []
    for op in find_graph(m).inputs():
        x = np.asarray(inputs[op.attr("name")])
        q = next((u for u in op.results[0].users if u.op_name == "spike.quantize"), None)
        if q is not None:
            x = quantize(q, [x], RunContext(batch=x.shape[0], float_dtype=np.dtype(np.float64)))[0]
        out.append(np.asarray(x).astype(np.int64).reshape(x.shape[0], -1))
    return out


def _parse_rows(lines: list[str], outs: list[tuple[str, int]], T: int, level: str) -> dict[str, np.ndarray]:
    n = len(outs)
    if len(lines) < T * n:
        raise error(f"{level}: expected {T * n} output lines, got {len(lines)}")
    return {name: np.array([[int(v) for v in lines[t * n + k].split()] for t in range(T)], dtype=np.int64).reshape(T, size)
            for k, (name, size) in enumerate(outs)}


def run_host(m: ModuleOp, xs: list[np.ndarray], out_dir: Path) -> tuple[dict[str, np.ndarray], Any]:
    art = emit(m, "host", out_dir)
    r = subprocess.run(["make", "-s", "-C", str(out_dir)], capture_output=True, text=True)
    if r.returncode != 0:
        raise error(f"the host C build failed:\n{r.stdout}{r.stderr}")
    T = xs[0].shape[0] if xs else 0
    text = "\n".join([str(T)] + [" ".join(str(int(v)) for v in x[t]) for t in range(T) for x in xs]) + "\n"
    r = subprocess.run([str(out_dir / "harness")], input=text, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise error(f"the host harness failed with exit code {r.returncode}: {r.stderr}")
    return _parse_rows(r.stdout.splitlines(), art.outputs, T, "host C"), art


def check(
    module: ModuleOp,
    work_dir: str | Path,
    *,
    steps: int = 16,
    seed: int = 0,
    pipeline: str = "canonicalize,quantize",
    calibration: Any = None,
    m4: bool = True,
) -> CheckReport:
    from ...dialects.snn import find_graph
    from ...passes.lower import lower_to_integer
    from ...passes.validate import random_inputs
    from .m4 import build_m4, m4_size, run_m4, tools_available, write_m4_project

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    g = find_graph(module)
    inputs = random_inputs(g, steps, np.random.default_rng(seed))
    rep = CheckReport()
    float_out = output_series(module, inputs)
    readouts = {str(o.attr("name")): str(o.attr("readout")) for o in g.outputs()}
    integer = module.clone()
    assert isinstance(integer, ModuleOp)
    lower_to_integer(integer, pipeline, calibration=calibration if calibration is not None else inputs)
    ref = _int_outputs(integer, inputs)
    levels: list[tuple[str, dict[str, np.ndarray] | None, str]] = [("integer interpreter", ref, "")]
    xs = host_inputs(integer, inputs)
    host, art = run_host(integer, xs, work / "host")
    levels.append(("host C (cc)", host, ""))
    rep.sizes["host C"] = f"const data {art.flash_bytes} bytes, state {art.ram_bytes} bytes"
    if m4:
        missing = tools_available()
        if missing:
            levels.append(("cortex-m4 (qemu)", None, f"skipped: {', '.join(missing)} not installed"))
        else:
            m4dir = work / "cortex-m4"
            art4 = emit(integer, "cortex-m4", m4dir)
            write_m4_project(art4, xs)
            build_m4(m4dir)
            lines = run_m4(m4dir)
            levels.append(("cortex-m4 (qemu)", _parse_rows(lines, art4.outputs, steps, "cortex-m4"), ""))
            s = m4_size(m4dir)
            rep.sizes["cortex-m4 (arm-none-eabi-size)"] = (f"text {s['text']}, data {s['data']}, bss {s['bss']} bytes "
                                                           f"(flash {s['flash']}, RAM {s['ram']}; inputs included)")
    real = _real_outputs(integer, ref)
    for name, f in float_out.items():
        spikes = f.dtype == np.bool_ or f.dtype == np.int8
        if spikes:
            rep.agreement[name] = float(np.mean(f.astype(np.int64) == ref[name]))
            agree = f"{100 * rep.agreement[name]:.2f} % spikes equal"
        elif name in real:
            rep.agreement[name], agree = real_agreement(f, real[name], readouts.get(name, "none"))
        else:
            agree = "real-valued"
        rep.rows.append(("float interpreter", name, "-", "reference"))
        for level, outs, note in levels:
            if outs is None:
                rep.rows.append((level, name, note, ""))
                continue
            bad = int(np.count_nonzero(outs[name] != ref[name]))
            rep.mismatches += bad
            rep.rows.append((level, name, "reference" if level == "integer interpreter" else
                             ("bit-exact" if bad == 0 else f"{bad} values differ"),
                             agree if level == "integer interpreter" else ""))
    return rep


def _real_outputs(m: ModuleOp, ints: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Real values of the integer outputs read through ``spike.dequantize`` (integer x scale)."""
    from ...dialects.common import param_array
    from ...dialects.snn import find_graph

    out = {}
    for op in find_graph(m).outputs():
        d = op.operands[0].defining_op()
        name = str(op.attr("name"))
        if d is not None and d.op_name == "spike.dequantize":
            sc = np.asarray(param_array(d, "scale", np.float64)).reshape(-1)
            out[name] = ints[name].astype(np.float64) * (sc if sc.size > 1 else sc[0])
    return out


__all__ = ["CheckReport", "check", "host_inputs", "run_host"]
