"""Export the example models to ``.pt2`` files with an input and the model's own output.

    python examples/torch/export_pt2.py OUTDIR
    snnc import OUTDIR/meta_spikeformer_tiny.pt2 --time-layout TB -o m.mlir
    snnc run m.mlir --input OUTDIR/meta_spikeformer_tiny.x.npy -o out.npy
    # out.npy equals OUTDIR/meta_spikeformer_tiny.expected.npy

For each model in :mod:`spiking_models` this writes ``NAME.pt2`` (``torch.export.save`` of the
model with its neurons swapped for snnc ops, float64), ``NAME.x.npy`` (one sample, ``[T, ...]``)
and ``NAME.expected.npy`` (the original model's output for that sample, without the batch axis).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent

MODELS = {
    "conv_bn_lif": ((2, 8, 8), 4.0),
    "sdt_v1_block": ((8, 4, 4), 3.0),
    "meta_spikeformer_tiny": ((3, 16, 16), 4.0),
}


def _models():
    spec = importlib.util.spec_from_file_location("spiking_models", HERE / "spiking_models.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def export_all(out: Path, steps: int = 4) -> list[Path]:
    from spikingjelly.activation_based import functional

    from snnc.frontends.torch_neurons import swap_neurons

    out.mkdir(parents=True, exist_ok=True)
    models = _models()
    written = []
    for name, (shape, scale) in MODELS.items():
        model = getattr(models, name)().double()
        g = torch.Generator().manual_seed(0)
        x = torch.rand(steps, 1, *shape, generator=g, dtype=torch.float64) * scale
        functional.reset_net(model)
        with torch.no_grad():
            expected = model(x)
        prog = torch.export.export(swap_neurons(model).eval(), (x,))
        path = out / f"{name}.pt2"
        torch.export.save(prog, path)
        np.save(out / f"{name}.x.npy", x[:, 0].numpy())
        # the batch axis is 1 in [T, B, ...] outputs and 0 in readout outputs ([B, ...])
        exp = expected[:, 0] if tuple(expected.shape[:2]) == (steps, 1) else expected[0]
        np.save(out / f"{name}.expected.npy", exp.numpy())
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python examples/torch/export_pt2.py OUTDIR")
    for p in export_all(Path(sys.argv[1])):
        print(p)
