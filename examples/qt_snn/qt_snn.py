"""QT-SNN on digits read row by row: threshold-adaptive ternary encoding, ternary spiking
neurons, 4-bit weights and 8-bit membranes; compiled to C and to neuro-core and checked.

    .venv/bin/python examples/qt_snn/qt_snn.py [--epochs 20] [--hidden 64] [--out DIR]

Data: each 8x8 digit is a time series of T = 8 steps (one row of 8 pixels per step), encoded
by snnc.nn's ``TernaryEncoder`` (a delta modulator with a per-sample adaptive threshold,
our reading of QT-SNN's encoder) into {-1, 0, +1} spikes.  Model (snnc.nn, surrogate
gradients): linear(8 -> H) -> ``TernaryLIF`` (alpha = 0.875, v_th = 1, soft reset: emits
{-1, 0, +1}) -> linear(H -> 10) -> LIF (alpha = 0.875); the class is the output neuron with
the most spikes.  QAT: 4-bit symmetric per-channel weights (straight-through).  Compile:
``quantize{weight-bits=4,per-channel=true,membrane-bits=8}`` (the QAT grid is detected; it
is not declared with ``weight-grid=uniform:4``: at H = 64 the 8-bit membrane lowers the output
layer's accumulator scale below the grid's, so its weights are rounded a second time, which a
declared grid refuses with an error): ternary spikes stay ``si2``, their accumulate adds or
subtracts weights; ``snnc compile/check --target c`` and ``--target neuro-core`` (ternary
spikes as graded -1/+1 events), and the neuro-core configuration run by the chip simulator
on the test sequences (accuracy, cores, the chip model's energy per sample).
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
T = 8
ALPHA = 0.875


def data():
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from snnc.nn import TernaryEncoder

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 8, 8)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    enc = TernaryEncoder(T, theta_scale=0.5)

    def encode(x):  # [B, 8 rows, 8] -> [T = 8, B, 8] in {-1, 0, 1}
        return enc(torch.tensor(x).movedim(1, 0), sequence=True).numpy().astype(np.int8)

    return encode(Xtr), encode(Xte), ytr, yte


def train(hidden: int, epochs: int, qat: bool, d, seed: int = 0):
    import torch
    from torch import nn
    from torch.nn import functional as F

    from snnc.nn import LIF, TernaryLIF, reset_net

    Str, _, ytr, _ = d
    torch.manual_seed(seed)

    def q4(w):
        s = w.abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / 7
        return w + (torch.round(w / s) * s - w).detach()

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1, self.l2 = nn.Linear(8, hidden, bias=False), nn.Linear(hidden, 10, bias=False)
            self.n1 = TernaryLIF(alpha=ALPHA, v_th=1.0, reset="soft")
            self.n2 = LIF(alpha=ALPHA, v_th=1.0)

        def weights(self):
            return (q4(self.l1.weight), q4(self.l2.weight)) if qat else (self.l1.weight, self.l2.weight)

        def forward(self, s):  # [T, B, 8]
            w1, w2 = self.weights()
            return self.n2(self.n1(s @ w1.T) @ w2.T).sum(dim=0)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    st, yt = torch.tensor(Str, dtype=torch.float32), torch.tensor(ytr)
    for _ in range(epochs):
        perm = torch.randperm(st.shape[1])
        for i in range(0, st.shape[1], 64):
            idx = perm[i : i + 64]
            reset_net(net)
            loss = F.cross_entropy(net(st[:, idx]) * 1.0, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return [w.detach().numpy().astype(np.float64) for w in net.weights()]


def build_module(w1, w2):
    from snnc.ir.attributes import DenseElementsAttr
    from snnc.ir.parser import parse_module
    from snnc.ir.types import TensorType, f32

    def dense(a):
        a = np.asarray(a, dtype=np.float32)
        return str(DenseElementsAttr(TensorType(a.shape, f32), a))

    h = w1.shape[0]
    return parse_module(f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<8xsi2>
    %l1 = "nn.linear"(%x) {{weight = {dense(w1)}}} : (tensor<8xsi2>) -> tensor<{h}xf32>
    %s1 = "snn.lif"(%l1) {{alpha = {ALPHA:e} : f64, v_th = 1.000000e+00 : f64, reset = "soft"}} : (tensor<{h}xf32>) -> tensor<{h}xsi2>
    %l2 = "nn.linear"(%s1) {{weight = {dense(w2)}}} : (tensor<{h}xsi2>) -> tensor<10xf32>
    %s2 = "snn.lif"(%l2) {{alpha = {ALPHA:e} : f64, v_th = 1.000000e+00 : f64}} : (tensor<10xf32>) -> tensor<10xi1>
    "snn.output"(%s2) {{index = 0 : i64, name = "s"}} : (tensor<10xi1>) -> ()
  }}) {{sym_name = "qt_snn"}} : () -> ()
}}) : () -> ()
""")


def accuracy(module, S, y) -> float:
    from snnc.interp import run

    counts = np.asarray(run(module, {"x": S}, batched=True).outputs["s"]).sum(axis=0)
    return float(np.mean(counts.argmax(axis=1) == y))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--test", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from examples.neuro_core_eval import neuro_core
    from snnc.backends.c import emit
    from snnc.ir.printer import print_module
    from snnc.passes import PassManager, Quantize
    from snnc.passes.prune import model_stats

    d = data()
    Str, Ste, ytr, yte = d
    if args.test:
        Ste, yte = Ste[:, : args.test], yte[: args.test]
    base = build_module(*train(args.hidden, args.epochs, False, d))
    qat = build_module(*train(args.hidden, args.epochs, True, d))
    cal = Str[:, :64]
    rows = {}
    st = model_stats(base, {"x": cal})
    rows["full precision (float32)"] = (accuracy(base, Ste, yte), st.params * 4, st.energy_pj)
    st = model_stats(qat, {"x": cal})
    rows["QAT 4-bit weights, float IR"] = (accuracy(qat, Ste, yte), st.params * 4, st.energy_pj)
    q = Quantize(weight_bits=4, per_channel=True, membrane_bits=8, calibration=cal)
    integer = qat.clone()
    PassManager([q]).run(integer)
    pipeline = "canonicalize,quantize{weight-bits=4,per-channel=true,membrane-bits=8}"
    with tempfile.TemporaryDirectory() as tmp:
        art = emit(integer, "host", Path(tmp))
        out = args.out or Path(tmp) / "work"
        out.mkdir(parents=True, exist_ok=True)
        (out / "qt_snn.mlir").write_text(print_module(qat))
        np.save(out / "calibration.npy", cal)
        snnc = [str(Path(sys.executable).parent / "snnc")]
        comp = subprocess.run(snnc + ["compile", str(out / "qt_snn.mlir"), "--target", "c", "-o", str(out / "c"), "-p", pipeline,
                                      "--calibration", str(out / "calibration.npy")], capture_output=True, text=True)
        chk = subprocess.run(snnc + ["check", str(out / "qt_snn.mlir"), "--target", "c", "-p", pipeline,
                                     "--calibration", str(out / "calibration.npy")], capture_output=True, text=True)
        nc = neuro_core(out / "qt_snn.mlir", out, pipeline, out / "calibration.npy", Ste, yte)
    rows["+ integer, 8-bit membrane, ternary spikes, C"] = (accuracy(integer, Ste, yte), art.flash_bytes, st.energy_pj)
    if "nc_cores" in nc:  # footprint: synapse table entries x 4 bits; energy: the neuro-core chip model
        rows[f"+ integer, neuro-core simulator ({nc['nc_cores']} cores)"] = (
            nc["nc_accuracy"], (nc["nc_synapses"] * 4 + 7) // 8, nc["nc_energy_pj"])
    res = {"rows": rows, "exact_layers": q.report.exact_layers, "rounded_layers": q.report.rounded_layers,
           "agreement": q.report.summary(), "compile_rc": comp.returncode, "compile_err": comp.stderr[-2000:],
           "check_rc": chk.returncode, "check": (chk.stdout + chk.stderr)[-2000:],
           "ternary_ops": sorted({str(op.results[0].type) for op in integer.walk() if op.op_name == "spike.lif"}),
           **nc}
    print(f"QT-SNN on digits as row sequences: {Str.shape[1]} train / {Ste.shape[1]} test, T = {T}, hidden {args.hidden}")
    print("| model | test accuracy | footprint (bytes) | energy / sample (nJ) |")
    print("|---|---|---|---|")
    for k, (acc, fp, e) in rows.items():
        print(f"| {k} | {100 * acc:.2f} % | {fp} | {e / 1e3:.3f} |")
    print(res["agreement"])
    print(f"spike.lif result types: {res['ternary_ops']}")
    print(f"snnc compile --target c: rc {comp.returncode}; snnc check --target c: rc {chk.returncode}")
    print(res["check"])
    print(f"snnc compile --target neuro-core: rc {nc['nc_compile_rc']}; snnc check --target neuro-core: rc "
          f"{nc['nc_check_rc']}")
    print(nc["nc_compile"])
    print(nc["nc_check"])
    return res


if __name__ == "__main__":
    r = main()
    ok = all(r[k] == 0 for k in ("compile_rc", "check_rc", "nc_compile_rc", "nc_check_rc"))
    raise SystemExit(0 if ok else 1)
