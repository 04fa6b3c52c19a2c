"""Parse/print speed of the IR text and PyTorch import time (measured, never asserted).

    .venv/bin/python benchmarks/bench_text.py

Prints seconds for: parsing and printing a module of 2,001 ops holding a 1M-element f32
dense_resource, and importing a ~10M-parameter MLP with snnc.import_torch next to
torch-mlir's own literal import of the same module (the baseline, same process).
"""

from __future__ import annotations

import time

import numpy as np


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_text() -> None:
    from snnc.ir import DenseResourceAttr, FloatAttr, ModuleOp, f32, parse_module, print_module, tensor
    from snnc.ir.opdef import make_op

    t = tensor([1000, 1000], f32)
    m = ModuleOp.empty()
    w = DenseResourceAttr("w0", t, np.arange(1_000_000, dtype=np.float32))
    prev = m.body.append(make_op("x.const", [], [t], {"value": w})).results[0]
    for i in range(2000):
        prev = m.body.append(make_op("x.add", [prev, prev], [t], {"alpha": FloatAttr(0.5, f32), "n": i})).results[0]
    text, t_print = _timed(lambda: print_module(m))
    _, t_parse = _timed(lambda: parse_module(text))
    print(f"text: {len(text) / 1e6:.1f} MB, print {t_print:.3f} s, parse {t_parse:.3f} s (2,001 ops, 1M-element blob)")


def bench_torch_import() -> None:
    import torch
    from torch_mlir import fx

    import snnc

    model = torch.nn.Sequential(torch.nn.Linear(1024, 3072), torch.nn.ReLU(), torch.nn.Linear(3072, 2048)).eval()
    x = torch.zeros(1, 1024)
    snnc.import_torch(model, x)  # warm-up: library loading
    _, t_snnc = _timed(lambda: snnc.import_torch(model, x))
    _, t_mlir = _timed(lambda: fx.export_and_import(model, x))
    n = sum(p.numel() for p in model.parameters())
    print(f"torch import, {n / 1e6:.2f}M parameters: snnc {t_snnc:.2f} s, torch-mlir literal import {t_mlir:.2f} s "
          f"(ratio {t_mlir / t_snnc:.1f}x)")


if __name__ == "__main__":
    bench_text()
    bench_torch_import()
