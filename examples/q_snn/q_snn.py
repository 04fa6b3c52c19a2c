"""Q-SNN on scikit-learn's digits: 1-bit hidden weights per channel (sign x 2^round(log2 mean|z|)),
8-bit first and last layers, 8-bit membranes; compiled to C and checked.

    .venv/bin/python examples/q_snn/q_snn.py [--epochs 15] [--hidden 64] [--membrane-bits 8] [--out DIR]

Model (snnc.nn LIF, Q-SNN's neuron m = 0.5 m + x, fire if m > 1, hard reset; T = 4, the 64
pixels as a constant current): linear(64 -> H) [8-bit] -> LIF -> linear(H -> H) [1-bit] -> LIF
-> linear(H -> 10) [8-bit] -> LIF, cross-entropy on the output spike counts.  QAT: Q-SNN's
binarizer on the hidden layer (standardise each output row, ``sign(z) * 2^round(log2 mean|z|)``),
8-bit symmetric per-channel fake quantization on the others, straight-through gradients.
Compile: ``quantize{weight-bits=8,per-channel=true,membrane-bits=M}`` (every layer is on a grid:
detected, no second rounding), ``snnc compile --target c``, ``snnc check --target c``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples.common.digits import T, accuracy, compile_and_check, fit, load_split, mlp_module, print_table  # noqa: E402


def train(hidden: int, epochs: int, qat: bool, seed: int = 0):
    import torch
    from torch import nn

    from snnc.nn import LIF

    Xtr, Xte, ytr, yte = load_split()
    torch.manual_seed(seed)

    def q8(w):
        s = w.abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / 127
        return w + (torch.round(w / s) * s - w).detach()

    def q1(w):  # Q-SNN
        z = (w - w.mean(dim=1, keepdim=True)) / w.std(dim=1, keepdim=True).clamp_min(1e-8)
        wb = torch.sign(z) * 2.0 ** torch.round(torch.log2(z.abs().mean(dim=1, keepdim=True)))
        return z + (wb - z).detach()

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1, self.l2, self.l3 = nn.Linear(64, hidden, bias=False), nn.Linear(hidden, hidden, bias=False), nn.Linear(hidden, 10, bias=False)
            self.n1, self.n2, self.n3 = (LIF(alpha=0.5, v_th=1.0, cmp="gt") for _ in range(3))

        def weights(self):
            ws = (self.l1.weight, self.l2.weight, self.l3.weight)
            return (q8(ws[0]), q1(ws[1]), q8(ws[2])) if qat else ws

        def forward(self, x):
            w1, w2, w3 = self.weights()
            h = (x @ w1.T).unsqueeze(0).expand(T, *x.shape[:1], w1.shape[0])
            return self.n3(self.n2(self.n1(h) @ w2.T) @ w3.T).sum(dim=0)

    net = Net()
    fit(net, Xtr, ytr, epochs)
    with torch.no_grad():
        ws = [w.detach().numpy().astype(np.float64) for w in net.weights()]
    return ws, (Xtr, Xte, ytr, yte)


def build_module(ws):
    return mlp_module(ws, "q_snn")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--membrane-bits", type=int, default=8)
    ap.add_argument("--test", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from snnc.backends.c import emit
    from snnc.passes import PassManager, Quantize
    from snnc.passes.prune import model_stats

    ws32, (Xtr, Xte, ytr, yte) = train(args.hidden, args.epochs, False)
    wsq, _ = train(args.hidden, args.epochs, True)
    if args.test:
        Xte, yte = Xte[: args.test], yte[: args.test]
    cal = np.repeat(Xtr[:64][None], T, axis=0)
    base, qat = build_module(ws32), build_module(wsq)
    rows = {}
    st = model_stats(base, {"x": cal})
    rows["full precision (float32)"] = (accuracy(base, Xte, yte), st.params * 4, st.energy_pj)
    st = model_stats(qat, {"x": cal})
    rows["QAT (8/1/8-bit weights), float IR"] = (accuracy(qat, Xte, yte), st.params * 4, st.energy_pj)
    pipeline = f"canonicalize,quantize{{weight-bits=8,per-channel=true,membrane-bits={args.membrane_bits}}}"
    q = Quantize(weight_bits=8, per_channel=True, membrane_bits=args.membrane_bits, calibration=cal)
    integer = qat.clone()
    PassManager([q]).run(integer)
    with tempfile.TemporaryDirectory() as tmp:
        art = emit(integer, "host", Path(tmp))
        cc = compile_and_check(qat, "q_snn", pipeline, cal, args.out or Path(tmp) / "work")
    rows[f"+ integer, {args.membrane_bits}-bit membrane, C"] = (accuracy(integer, Xte, yte), art.flash_bytes, st.energy_pj)
    res = {"rows": rows, "exact_layers": q.report.exact_layers, "rounded_layers": q.report.rounded_layers,
           "agreement": q.report.summary(), **cc}
    print_table(f"Q-SNN on digits: {len(Xtr)} train / {len(Xte)} test, T = {T}, hidden {args.hidden}", rows)
    print(res["agreement"])
    print(f"snnc compile --target c: rc {res['compile_rc']}; snnc check --target c: rc {res['check_rc']}")
    print(res["check"])
    return res


if __name__ == "__main__":
    r = main()
    raise SystemExit(0 if r["compile_rc"] == 0 and r["check_rc"] == 0 else 1)
