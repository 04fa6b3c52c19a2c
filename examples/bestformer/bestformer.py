"""BESTformer's weight scheme on scikit-learn's digits, as a binary-weight MLP (no attention):
1-bit hidden weights per channel (sign of the standardised row, no scale; a per-channel
scale, standing in for the following BatchNorm, is folded into the integer threshold),
full-precision first layer and head; compiled to C and checked.

    .venv/bin/python examples/bestformer/bestformer.py [--epochs 15] [--hidden 64] [--out DIR]

The binary attention maps (BESTformer's ``A = LIF(Q K^T)``) need the mask-and-add path of the
GRAPH-PASSES work, which had not landed: this example covers only the 1-bit weights.

Model (snnc.nn LIF, here with Q-SNN's neuron m = 0.5 m + x, fire if m > 1, hard reset; T = 4, the 64
pixels as a constant current): linear(64 -> H) [8-bit] -> LIF -> linear(H -> H) [1-bit] -> LIF
-> linear(H -> 10) [8-bit] -> LIF, cross-entropy on the output spike counts.  QAT: Q-SNN's
binarizer on the hidden layer (standardise each output row, ``sign(z) * 2^round(log2 mean|z|)``),
8-bit symmetric per-channel fake quantization on the others, straight-through gradients.
Compile: ``quantize{weight-bits=8,per-channel=true,membrane-bits=M}`` (every layer is on a grid:
detected, no second rounding), ``snnc compile --target c``, ``snnc check --target c``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
T = 4


def train(hidden: int, epochs: int, qat: bool, seed: int = 0):
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from torch import nn
    from torch.nn import functional as F

    from snnc.nn import LIF, reset_net

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    torch.manual_seed(seed)

    def q1(w):  # BESTformer: sign((W - mean) / std), no scale; g (BN stand-in) scales the channel
        z = (w - w.mean(dim=1, keepdim=True)) / w.std(dim=1, keepdim=True).clamp_min(1e-8)
        return (z + (torch.sign(z) - z).detach()) * net.g.abs().unsqueeze(1)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1, self.l2, self.l3 = nn.Linear(64, hidden, bias=False), nn.Linear(hidden, hidden, bias=False), nn.Linear(hidden, 10, bias=False)
            self.n1, self.n2, self.n3 = (LIF(alpha=0.5, v_th=1.0, cmp="gt") for _ in range(3))
            self.g = nn.Parameter(torch.full((hidden,), 0.1))

        def weights(self):
            ws = (self.l1.weight, self.l2.weight, self.l3.weight)
            return (ws[0], q1(ws[1]), ws[2]) if qat else ws

        def forward(self, x):
            w1, w2, w3 = self.weights()
            h = (x @ w1.T).unsqueeze(0).expand(T, *x.shape[:1], w1.shape[0])
            return self.n3(self.n2(self.n1(h) @ w2.T) @ w3.T).sum(dim=0)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
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
    with torch.no_grad():
        ws = [w.detach().numpy().astype(np.float64) for w in net.weights()]
    return ws, (Xtr, Xte, ytr, yte)


def build_module(ws):
    from snnc.ir.attributes import DenseElementsAttr
    from snnc.ir.parser import parse_module
    from snnc.ir.types import TensorType, f32

    def dense(a):
        a = np.asarray(a, dtype=np.float32)
        return str(DenseElementsAttr(TensorType(a.shape, f32), a))

    lines, prev, n_prev = [], "%x", 64
    elem = "f32"
    for i, w in enumerate(ws):
        n = w.shape[0]
        lines.append(f'    %l{i} = "nn.linear"({prev}) {{weight = {dense(w)}}} : (tensor<{n_prev}x{elem}>) -> tensor<{n}xf32>')
        lines.append(f'    %s{i} = "snn.lif"(%l{i}) {{alpha = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64, cmp = "gt"}} : (tensor<{n}xf32>) -> tensor<{n}xi1>')
        prev, n_prev, elem = f"%s{i}", n, "i1"
    body = "\n".join(lines)
    return parse_module(f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<64xf32>
{body}
    "snn.output"({prev}) {{index = 0 : i64, name = "s"}} : (tensor<10xi1>) -> ()
  }}) {{sym_name = "bestformer"}} : () -> ()
}}) : () -> ()
""")


def accuracy(module, X, y) -> float:
    from snnc.interp import run

    counts = np.asarray(run(module, {"x": np.repeat(X[None], T, axis=0)}, batched=True).outputs["s"]).sum(axis=0)
    return float(np.mean(counts.argmax(axis=1) == y))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--membrane-bits", type=int, default=16)
    ap.add_argument("--test", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from snnc.backends.c import emit
    from snnc.ir.printer import print_module
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
    rows["QAT (1-bit hidden weights), float IR"] = (accuracy(qat, Xte, yte), st.params * 4, st.energy_pj)
    pipeline = f"canonicalize,quantize{{weight-bits=8,per-channel=true,membrane-bits={args.membrane_bits}}}"
    q = Quantize(weight_bits=8, per_channel=True, membrane_bits=args.membrane_bits, calibration=cal)
    integer = qat.clone()
    PassManager([q]).run(integer)
    with tempfile.TemporaryDirectory() as tmp:
        art = emit(integer, "host", Path(tmp))
        out = args.out or Path(tmp) / "work"
        out.mkdir(parents=True, exist_ok=True)
        (out / "bestformer.mlir").write_text(print_module(qat))
        np.save(out / "calibration.npy", cal)
        snnc = [str(Path(sys.executable).parent / "snnc")]
        comp = subprocess.run(snnc + ["compile", str(out / "bestformer.mlir"), "--target", "c", "-o", str(out / "c"), "-p", pipeline,
                                      "--calibration", str(out / "calibration.npy")], capture_output=True, text=True)
        chk = subprocess.run(snnc + ["check", str(out / "bestformer.mlir"), "--target", "c", "-p", pipeline,
                                     "--calibration", str(out / "calibration.npy")], capture_output=True, text=True)
    rows[f"+ integer, {args.membrane_bits}-bit membrane, C"] = (accuracy(integer, Xte, yte), art.flash_bytes, st.energy_pj)
    res = {"rows": rows, "exact_layers": q.report.exact_layers, "rounded_layers": q.report.rounded_layers,
           "agreement": q.report.summary(), "compile_rc": comp.returncode, "compile_err": comp.stderr[-2000:],
           "check_rc": chk.returncode, "check": (chk.stdout + chk.stderr)[-2000:]}
    print(f"BESTformer weights (binary MLP) on digits: {len(Xtr)} train / {len(Xte)} test, T = {T}, hidden {args.hidden}")
    print("| model | test accuracy | footprint (bytes) | energy / sample (nJ) |")
    print("|---|---|---|---|")
    for k, (acc, fp, e) in rows.items():
        print(f"| {k} | {100 * acc:.2f} % | {fp} | {e / 1e3:.3f} |")
    print(res["agreement"])
    print(f"snnc compile --target c: rc {comp.returncode}; snnc check --target c: rc {chk.returncode}")
    print(res["check"])
    return res


if __name__ == "__main__":
    r = main()
    raise SystemExit(0 if r["compile_rc"] == 0 and r["check_rc"] == 0 else 1)
