"""QP-SNN on scikit-learn's digits: uniform 2-bit weights with weight rescaling (QAT), then
structured pruning by the singular values of the spike maps (svs), compiled to C and to
neuro-core and checked.

    .venv/bin/python examples/qp_snn/qp_snn.py [--epochs 15] [--channels 8] [--ratio 0.5] [--out DIR]

Model (built with snnc.nn, trained with surrogate gradients): the 8x8 image is a constant
input current for T = 4 steps; conv3x3(1 -> C) -> Q-SNN/QP-SNN LIF (m = 0.5 m + x, fire if
m > 1, hard reset) -> 2x2 average pool (a sum pool in the IR, 1/4 folded into the
linear weights) -> flatten -> linear(16 C -> 10) -> LIF; the class is
the output neuron with the most spikes (cross-entropy on the spike counts).

Compression: (1) QAT with QP-SNN's quantizer on W / gamma (gamma = mean|W| per output channel,
2 bits: levels {-1, -1/3, 1/3, 1} x gamma), straight-through gradients; (2) ``prune{criterion=svs}``
on 64 training images removes ``ratio`` of the conv channels (propagated into the linear
layer's column blocks); (3) ``quantize{weight-grid=uniform:3,per-channel=true}``: the QAT
weights are odd multiples of gamma/3 per channel, a declared 3-bit grid (checked per layer),
mapped to integers without a second rounding; (4) ``snnc compile/check --target c`` and
``--target neuro-core``, and the neuro-core configuration run by the chip simulator
(snnc.sim) on the test images: accuracy, cores used and the chip model's energy per sample.
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


def qp_rescale_torch(w, bits: int):
    import torch

    g = w.abs().reshape(w.shape[0], -1).mean(dim=1).clamp_min(1e-8).reshape((-1,) + (1,) * (w.dim() - 1))
    n = (1 << bits) - 1
    wq = g * (2 * torch.round(n / 2 * (torch.clamp(w / g, -1, 1) + 1)) / n - 1)
    return w + (wq - w).detach()  # straight-through


def train(channels: int, epochs: int, bits: int | None, seed: int = 0):
    import torch
    from torch import nn
    from torch.nn import functional as F

    from examples.common.digits import fit, load_split
    from snnc.nn import LIF

    Xtr, Xte, ytr, yte = load_split()
    Xtr, Xte = Xtr.reshape(-1, 1, 8, 8), Xte.reshape(-1, 1, 8, 8)
    torch.manual_seed(seed)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, channels, 3, padding=1, bias=False)
            self.lif1 = LIF(alpha=0.5, v_th=1.0, cmp="gt")
            self.fc = nn.Linear(16 * channels, 10, bias=False)
            self.lif2 = LIF(alpha=0.5, v_th=1.0, cmp="gt")

        def weights(self):
            if bits is None:
                return self.conv.weight, self.fc.weight
            return qp_rescale_torch(self.conv.weight, bits), qp_rescale_torch(self.fc.weight, bits)

        def forward(self, x):  # x [B, 1, 8, 8] -> spike counts [B, 10]
            wc, wf = self.weights()
            h = F.conv2d(x, wc, padding=1).unsqueeze(0).expand(T, *x.shape[:1], channels, 8, 8)
            s = self.lif1(h)
            p = F.avg_pool2d(s.reshape(T * x.shape[0], channels, 8, 8), 2).reshape(T, x.shape[0], -1)
            return self.lif2(p @ wf.T).sum(dim=0)

    net = Net()
    fit(net, Xtr, ytr, epochs, lr=1e-2)
    with torch.no_grad():
        wc, wf = (w.detach().numpy().astype(np.float64) for w in net.weights())
    return wc, wf, (Xtr, Xte, ytr, yte)


def build_module(wc: np.ndarray, wf: np.ndarray):
    from snnc.ir.attributes import DenseElementsAttr
    from snnc.ir.parser import parse_module
    from snnc.ir.types import TensorType, f32

    def dense(a):
        a = np.asarray(a, dtype=np.float32)
        return str(DenseElementsAttr(TensorType(a.shape, f32), a))

    c = wc.shape[0]
    wf = wf / 4.0  # the 2x2 average pool as a sum pool: 1/4 folds into the next weights (exact: a power of two)
    text = f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<1x8x8xf32>
    %c = "nn.conv2d"(%x) {{weight = {dense(wc)}, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64}} : (tensor<1x8x8xf32>) -> tensor<{c}x8x8xf32>
    %s = "snn.lif"(%c) {{alpha = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64, cmp = "gt"}} : (tensor<{c}x8x8xf32>) -> tensor<{c}x8x8xi1>
    %p = "nn.sum_pool2d"(%s) {{kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>}} : (tensor<{c}x8x8xi1>) -> tensor<{c}x4x4xf32>
    %f = "nn.flatten"(%p) {{start_dim = 0 : i64, end_dim = -1 : i64}} : (tensor<{c}x4x4xf32>) -> tensor<{16 * c}xf32>
    %l = "nn.linear"(%f) {{weight = {dense(wf)}}} : (tensor<{16 * c}xf32>) -> tensor<10xf32>
    %o = "snn.lif"(%l) {{alpha = 5.000000e-01 : f64, v_th = 1.000000e+00 : f64, cmp = "gt"}} : (tensor<10xf32>) -> tensor<10xi1>
    "snn.output"(%o) {{index = 0 : i64, name = "s"}} : (tensor<10xi1>) -> ()
  }}) {{sym_name = "qp_snn"}} : () -> ()
}}) : () -> ()
"""
    return parse_module(text)


def accuracy(module, X, y) -> float:
    from snnc.interp import run

    xs = np.repeat(X[None], T, axis=0)
    counts = np.asarray(run(module, {"x": xs}, batched=True).outputs["s"]).sum(axis=0)
    return float(np.mean(counts.argmax(axis=1) == y))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--ratio", type=float, default=0.5)
    ap.add_argument("--test", type=int, default=0, help="evaluate on the first N test images only (0: all)")
    ap.add_argument("--out", type=Path, default=None, help="directory for the compiled C (default: a temporary one)")
    args = ap.parse_args(argv)
    from examples.neuro_core_eval import neuro_core
    from snnc.ir.printer import print_module
    from snnc.passes import PassManager, Prune, Quantize
    from snnc.passes.prune import model_stats

    wc32, wf32, (Xtr, Xte, ytr, yte) = train(args.channels, args.epochs, None)
    wcq, wfq, _ = train(args.channels, args.epochs, 2)
    if args.test:
        Xte, yte = Xte[: args.test], yte[: args.test]
    cal = np.repeat(Xtr[:64][None], T, axis=0)
    base = build_module(wc32, wf32)
    qat = build_module(wcq, wfq)
    rows = {}
    st = model_stats(base, {"x": cal})
    rows["full precision (float32)"] = (accuracy(base, Xte, yte), st.params * 4, st.energy_pj)
    st = model_stats(qat, {"x": cal})
    rows["QAT 2-bit rescaled, float IR"] = (accuracy(qat, Xte, yte), st.params * 4, st.energy_pj)
    pruned = qat.clone()
    pr = Prune(ratio=args.ratio, criterion="svs", calibration=cal)
    PassManager([pr]).run(pruned)
    rows[f"+ svs pruning {args.ratio:.0%}, float IR"] = (accuracy(pruned, Xte, yte), pr.report.after.params * 4,
                                                         pr.report.after.energy_pj)
    q = Quantize(weight_grid="uniform:3", per_channel=True, calibration=cal)
    integer = pruned.clone()
    PassManager([q]).run(integer)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        (out / "qp_snn_pruned.mlir").write_text(print_module(pruned))
        np.save(out / "calibration.npy", cal)
        snnc = [str(Path(sys.executable).parent / "snnc")]
        pipeline = "canonicalize,quantize{weight-grid=uniform:3,per-channel=true}"
        comp = subprocess.run(snnc + ["compile", str(out / "qp_snn_pruned.mlir"), "--target", "c", "-o", str(out / "c"),
                                      "-p", pipeline, "--calibration", str(out / "calibration.npy")],
                              capture_output=True, text=True)
        chk = subprocess.run(snnc + ["check", str(out / "qp_snn_pruned.mlir"), "--target", "c", "-p", pipeline,
                                     "--calibration", str(out / "calibration.npy")], capture_output=True, text=True)
        flash = sum(p.stat().st_size for p in (out / "c").glob("model.c")) if comp.returncode == 0 else None
        nc = neuro_core(out / "qp_snn_pruned.mlir", out, pipeline, out / "calibration.npy",
                        np.repeat(Xte[None], T, axis=0), yte)
    from snnc.backends.c import emit

    with tempfile.TemporaryDirectory() as tmp:
        art = emit(integer, "host", Path(tmp))
    rows["+ integer (3-bit odd levels), C"] = (accuracy(integer, Xte, yte), art.flash_bytes, pr.report.after.energy_pj)
    if "nc_cores" in nc:  # footprint: synapse table entries x 3 bits; energy: the neuro-core chip model
        rows[f"+ integer, neuro-core simulator ({nc['nc_cores']} cores)"] = (
            nc["nc_accuracy"], (nc["nc_synapses"] * 3 + 7) // 8, nc["nc_energy_pj"])
    result = {
        "rows": rows,
        "exact_layers": q.report.exact_layers,
        "rounded_layers": q.report.rounded_layers,
        "prune": pr.report.summary(),
        "compile_rc": comp.returncode,
        "compile_err": comp.stderr[-2000:],
        "check_rc": chk.returncode,
        "check": (chk.stdout + chk.stderr)[-2000:],
        "model_c_bytes": flash,
        **nc,
    }
    print(f"QP-SNN on digits: {len(Xtr)} train / {len(Xte)} test, T = {T}, {args.channels} conv channels")
    print("| model | test accuracy | footprint (bytes) | energy / sample (nJ) |")
    print("|---|---|---|---|")
    for k, (acc, fp, e) in rows.items():
        print(f"| {k} | {100 * acc:.2f} % | {fp} | {'n/a' if e is None else f'{e / 1e3:.3f}'} |")
    print(result["prune"])
    print(f"quantize: exact grid {result['exact_layers']}, rounded {result['rounded_layers']}")
    print(f"snnc compile --target c: rc {comp.returncode}; snnc check --target c: rc {chk.returncode}")
    print(result["check"])
    print(f"snnc compile --target neuro-core: rc {nc['nc_compile_rc']}; snnc check --target neuro-core: rc "
          f"{nc['nc_check_rc']}")
    print(nc["nc_compile"])
    print(nc["nc_check"])
    return result


if __name__ == "__main__":
    res = main()
    ok = all(res[k] == 0 for k in ("compile_rc", "check_rc", "nc_compile_rc", "nc_check_rc"))
    raise SystemExit(0 if ok else 1)
