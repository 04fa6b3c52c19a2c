"""A small SNN for scikit-learn's bundled digits (no download), compiled to C; accuracy in float,
int8 and 4-bit computed from the C binary's outputs.

    .venv/bin/python examples/digits/digits_snn.py [--steps 32] [--hidden 64]

Training: a ReLU network (64 -> hidden -> 10, scikit-learn's MLPClassifier, Adam) converted to
an SNN of integrate-and-fire neurons with soft reset (rate coding: the pixel intensities / 16
are a constant input current every step; each layer's threshold is the 99.9th percentile of
its ReLU activations on the training set, the standard data-based normalisation).  The class
is the output neuron with the most spikes over the steps (ties: the lowest index).

Evaluation: the float SNN with snnc's interpreter; then ``quantize`` (calibrated on 200
training images) with 8-bit and with 4-bit per-channel weights, ``emit`` C, build the harness
with ``cc``, run it once per test image, and count the output spikes the binary printed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def build_module(w1, b1, th1, w2, b2, th2, n_in: int):
    from snnc.ir.attributes import DenseElementsAttr
    from snnc.ir.parser import parse_module
    from snnc.ir.types import TensorType, f32

    def dense(a):
        a = np.asarray(a, dtype=np.float32)
        return str(DenseElementsAttr(TensorType(a.shape, f32), a))

    h, o = w1.shape[0], w2.shape[0]
    text = f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<{n_in}xf32>
    %l1 = "nn.linear"(%x) {{weight = {dense(w1)}, bias = {dense(b1)}}} : (tensor<{n_in}xf32>) -> tensor<{h}xf32>
    %s1 = "snn.if"(%l1) {{v_th = {th1:e} : f64, reset = "soft"}} : (tensor<{h}xf32>) -> tensor<{h}xi1>
    %l2 = "nn.linear"(%s1) {{weight = {dense(w2)}, bias = {dense(b2)}}} : (tensor<{h}xi1>) -> tensor<{o}xf32>
    %s2 = "snn.if"(%l2) {{v_th = {th2:e} : f64, reset = "soft"}} : (tensor<{o}xf32>) -> tensor<{o}xi1>
    "snn.output"(%s2) {{index = 0 : i64, name = "s"}} : (tensor<{o}xi1>) -> ()
  }}) {{sym_name = "digits"}} : () -> ()
}}) : () -> ()
"""
    return parse_module(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=64)
    args = ap.parse_args()
    if shutil.which("cc") is None or shutil.which("make") is None:
        print("needs a host C compiler (cc) and make", file=sys.stderr)
        return 1
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from snnc.backends.c import emit
    from snnc.backends.c.check import host_inputs
    from snnc.interp import run
    from snnc.passes import PassManager, Quantize

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    mlp = MLPClassifier(hidden_layer_sizes=(args.hidden,), max_iter=600, random_state=0).fit(Xtr, ytr)
    ann_acc = mlp.score(Xte, yte)
    w1, w2 = mlp.coefs_[0].T, mlp.coefs_[1].T
    b1, b2 = mlp.intercepts_
    a1 = np.maximum(Xtr @ w1.T + b1, 0)
    th1 = float(np.percentile(a1, 99.9))
    a2 = np.maximum((a1 / th1) @ w2.T + b2, 0)
    th2 = float(np.percentile(a2, 99.9))
    # layer 2 sees spike rates a1 / th1; its bias and threshold in those units
    module = build_module(w1, b1, th1, w2, b2, th2, X.shape[1])
    T = args.steps

    def seq(x):  # [T, B, 64] constant current
        return np.repeat(np.asarray(x)[None], T, axis=0)

    counts = run(module, {"x": seq(Xte)}, batched=True).outputs["s"].sum(axis=0)
    float_acc = float(np.mean(counts.argmax(axis=1) == yte))
    print(f"digits: {len(Xtr)} train / {len(Xte)} test images, hidden {args.hidden}, T = {T}")
    print(f"  ReLU network (sklearn):          {100 * ann_acc:.2f} %")
    print(f"  SNN, float interpreter:          {100 * float_acc:.2f} %")
    cal = seq(Xtr[:200])
    for label, opts in (("int8", {"weight_bits": 8}), ("4-bit per channel", {"weight_bits": 4, "per_channel": True})):
        m = module.clone()
        q = Quantize(calibration=cal, **opts)
        PassManager([q]).run(m)
        with tempfile.TemporaryDirectory() as tmp:
            art = emit(m, "host", Path(tmp))
            subprocess.run(["make", "-s", "-C", tmp], check=True)
            xs = host_inputs(m, {"x": seq(Xte)})[0].reshape(T, len(Xte), -1)  # quantized as spike.quantize does
            preds = []
            for k in range(len(Xte)):
                text = f"{T}\n" + "\n".join(" ".join(str(int(v)) for v in xs[t, k]) for t in range(T)) + "\n"
                r = subprocess.run([str(Path(tmp) / "harness")], input=text, capture_output=True, text=True, check=True)
                c = np.array([[int(v) for v in line.split()] for line in r.stdout.splitlines()]).sum(axis=0)
                preds.append(int(c.argmax()))
        acc = float(np.mean(np.array(preds) == yte))
        print(f"  SNN, C binary, {label + ':':18s} {100 * acc:.2f} %   (flash {art.flash_bytes} bytes, "
              f"state {art.ram_bytes} bytes; calibration spike agreement {100 * q.report.outputs[0].agreement:.2f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
