"""What every ``snnc check --target ...`` driver shares: the interpreter's output series and the level table."""

from __future__ import annotations

import numpy as np

#: the columns of a check table
CHECK_HEAD = ("level", "output", "vs integer interpreter", "vs float interpreter")


def format_rows(rows: list[tuple[str, ...]]) -> list[str]:
    """``rows[0]`` is the header: left-aligned columns two spaces apart, a dashed rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def output_series(module, inputs: dict[str, np.ndarray], *, flatten: bool = True) -> dict[str, np.ndarray]:
    """Every graph output of ``module`` interpreted on ``inputs``, per step and before the output's readout over time
    (targets return every step; the host reads out): ``[T, n]`` each, or ``[T, *shape]`` with ``flatten=False``."""
    from ..dialects.snn import find_graph
    from ..interp import run
    from ..ir.printer import value_names

    res = run(module, inputs, probe=True)
    names = value_names(module)
    out = {}
    for op in find_graph(module).outputs():
        v = np.asarray(res.probes[names[op.operands[0]]])
        out[str(op.attr("name"))] = v.reshape(v.shape[0], -1) if flatten else v
    return out

def real_agreement(f: np.ndarray, q: np.ndarray, readout: str) -> tuple[float, str]:
    """Float vs dequantized integer: ``1 - mean|err| / max|float|`` (after the readout over time);
    for a readout, also how often the largest output (the predicted class) agrees."""
    from ..interp.core import apply_readout

    f = f.astype(np.float64)
    if readout != "none":
        f = apply_readout(f, readout, np.dtype(np.float64))[None]
        q = apply_readout(q, readout, np.dtype(np.float64))[None]
    err = np.abs(f - q)
    ref = float(np.max(np.abs(f), initial=0.0)) or 1.0
    agree = 1 - float(err.mean()) / ref
    text = f"{100 * agree:.2f} % (max |err| {float(err.max(initial=0.0)):.3g})"
    if readout != "none":
        text += f", {readout} argmax {'agrees' if int(f.argmax()) == int(q.argmax()) else 'differs'}"
    return agree, text


__all__ = ["CHECK_HEAD", "format_rows", "output_series", "real_agreement"]
