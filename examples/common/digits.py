"""Shared pieces of the compression examples on scikit-learn's digits (q_snn, bestformer).

* :func:`load_split` -- the 1797 8x8 digits scaled to [0, 1], an 80/20 stratified split (seed 0);
* :func:`fit` -- Adam (lr 5e-3), batches of 64, cross-entropy on ``2 x`` the output spike counts,
  ``snnc.nn.reset_net`` before every batch;
* :func:`dense` -- a numpy array as an MLIR ``dense<...>`` f32 attribute (text);
* :func:`mlp_module` -- ``linear -> LIF`` layers (Q-SNN's neuron ``m = 0.5 m + x``, fire if ``m > 1``)
  on the 64 pixels as a constant current, as an ``snn.graph`` module;
* :func:`accuracy` -- integer-interpreter (or float) accuracy from the output spike counts over T steps;
* :func:`compile_and_check` -- write the float module and the calibration data, run
  ``snnc compile --target c`` and ``snnc check --target c`` with a pipeline, return their results;
* :func:`print_table` -- the README table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

#: time steps of every digits example (the image is a constant current for T steps)
T = 4


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    return Xtr, Xte, ytr, yte


def fit(net: Any, Xtr: np.ndarray, ytr: np.ndarray, epochs: int, lr: float = 5e-3) -> None:
    """Train ``net`` (input a batch of ``Xtr`` rows, output spike counts ``[B, 10]``) in place (Adam, batches of 64,
    cross-entropy of 2x the counts)."""
    import torch
    from torch.nn import functional as F

    from snnc.nn import reset_net

    opt = torch.optim.Adam(net.parameters(), lr=lr)
    xt, yt = torch.tensor(Xtr), torch.tensor(ytr)
    for _ in range(epochs):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i : i + 64]
            reset_net(net)
            loss = F.cross_entropy(net(xt[idx]) * 2.0, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


def dense(a: np.ndarray) -> str:
    from snnc.ir.attributes import DenseElementsAttr
    from snnc.ir.types import TensorType, f32

    a = np.asarray(a, dtype=np.float32)
    return str(DenseElementsAttr(TensorType(a.shape, f32), a))


LIF_ATTRS = 'alpha = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64, cmp = "gt"'


def mlp_module(ws: list[np.ndarray], name: str):
    """``x [64] -> (nn.linear(w) -> snn.lif)`` per weight, output spikes ``s``."""
    from snnc.ir.parser import parse_module

    lines, prev, n_prev = [], "%x", 64
    elem = "f32"
    for i, w in enumerate(ws):
        n = w.shape[0]
        lines.append(f'    %l{i} = "nn.linear"({prev}) {{weight = {dense(w)}}} : (tensor<{n_prev}x{elem}>) -> tensor<{n}xf32>')
        lines.append(f'    %s{i} = "snn.lif"(%l{i}) {{{LIF_ATTRS}}} : (tensor<{n}xf32>) -> tensor<{n}xi1>')
        prev, n_prev, elem = f"%s{i}", n, "i1"
    body = "\n".join(lines)
    return parse_module(f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<64xf32>
{body}
    "snn.output"({prev}) {{index = 0 : i64, name = "s"}} : (tensor<10xi1>) -> ()
  }}) {{sym_name = "{name}"}} : () -> ()
}}) : () -> ()
""")


def inputs(X: np.ndarray, shape: tuple[int, ...] = (64,)) -> np.ndarray:
    """The images as a constant current over T steps: ``[T, B, *shape]``."""
    return np.repeat(X.reshape(len(X), *shape)[None], T, axis=0)


def accuracy(module, X: np.ndarray, y: np.ndarray, shape: tuple[int, ...] = (64,)) -> float:
    from snnc.interp import run

    counts = np.asarray(run(module, {"x": inputs(X, shape)}, batched=True).outputs["s"]).sum(axis=0)
    counts = counts.reshape(len(X), -1)
    return float(np.mean(counts.argmax(axis=1) == y))


def compile_and_check(module, name: str, pipeline: str, cal: np.ndarray, out: Path) -> dict[str, Any]:
    """``snnc compile --target c`` and ``snnc check --target c`` of ``module`` (the float IR) with
    ``pipeline`` and the calibration data, in ``out``."""
    from snnc.ir.printer import print_module

    out.mkdir(parents=True, exist_ok=True)
    src = out / f"{name}.mlir"
    src.write_text(print_module(module))
    np.save(out / "calibration.npy", cal)
    snnc = [str(Path(sys.executable).parent / "snnc")]
    common = ["--target", "c", "-p", pipeline, "--calibration", str(out / "calibration.npy")]
    comp = subprocess.run(snnc + ["compile", str(src), "-o", str(out / "c"), *common], capture_output=True, text=True)
    chk = subprocess.run(snnc + ["check", str(src), *common], capture_output=True, text=True)
    return {"compile_rc": comp.returncode, "compile_err": comp.stderr[-2000:], "check_rc": chk.returncode,
            "check": (chk.stdout + chk.stderr)[-2000:]}


def print_table(title: str, rows: dict[str, tuple[float, int, float]]) -> None:
    print(title)
    print("| model | test accuracy | footprint (bytes) | energy / sample (nJ) |")
    print("|---|---|---|---|")
    for k, (acc, fp, e) in rows.items():
        print(f"| {k} | {100 * acc:.2f} % | {fp} | {e / 1e3:.3f} |")
