"""BESTformer on scikit-learn's digits: a one-block spiking transformer with 1-bit Q/K/V weights and
binary attention maps, compiled through the mask-and-add path to C and checked.

    .venv/bin/python examples/bestformer/bestformer.py [--epochs 10] [--hidden 16] [--out DIR]

Model (T = 4, the image a constant current; every neuron snnc.nn's LIF ``m = 0.5 m + x``, fire if
``m > v_th``): the 8 rows of the image are N = 8 tokens of 8 pixels;
``X = LIF(embed(x))`` (full precision, D = ``--hidden`` channels);
``Q, K, V = LIF(W_{q,k,v} X)`` with BESTformer's 1-bit weights per output channel,
``sign((W - mean) / std)`` times a learned per-channel scale g (the BN stand-in; in the IR a
``+-g_c`` row that quantize folds into the integer threshold);
per head (2 heads) the binary attention map ``A = LIF_soft,v_th=1(Q K^T)`` (N x N spikes) and
``O = LIF_{0.5}((A V) * 0.125 * lambda)`` (BESTformer's CIFAR form, lambda one learned scalar);
the head ``LIF(W_o flat(O) + W_x flat(X))`` (full precision) gives 10 output spike counts.
``Q K^T`` and ``A V`` are products of spike tensors: ``attention-mask-add`` makes them
``nn.masked_accumulate`` (AND + popcount), ``quantize`` ``spike.matmul`` (no multiplier), and the
``0.125 lambda`` folds into the output neuron's integer threshold.
Compile: ``canonicalize,attention-mask-add,quantize{weight-bits=8,per-channel=true,membrane-bits=16}``,
``snnc compile --target c``, ``snnc check --target c``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples.common.digits import T, accuracy, compile_and_check, dense, fit, load_split, print_table  # noqa: E402

N, CIN, HEADS = 8, 8, 2
LIF = "alpha = 5.000000e-01 : f64"


def train(dim: int, epochs: int, qat: bool, seed: int = 0) -> tuple[dict[str, np.ndarray], tuple]:
    import torch
    from torch import nn

    from snnc.nn import LIF as Lif

    Xtr, Xte, ytr, yte = load_split()
    torch.manual_seed(seed)
    d = dim // HEADS

    def q1(w, g):  # BESTformer: sign((W - mean) / std) per output row, no scale; g (BN stand-in) scales it
        z = (w - w.mean(dim=1, keepdim=True)) / w.std(dim=1, keepdim=True).clamp_min(1e-8)
        return (z + (torch.sign(z) - z).detach()) * g.abs().unsqueeze(1)

    def lif(v_th=1.0, reset="hard", cmp="gt"):
        return Lif(alpha=0.5, v_th=v_th, cmp=cmp, reset=reset)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(CIN, dim, bias=False)
            self.wq, self.wk, self.wv = (nn.Linear(dim, dim, bias=False) for _ in range(3))
            for lin in (self.wq, self.wk, self.wv):  # enough drive for Q, K, V to fire at the start
                nn.init.normal_(lin.weight, std=0.5)
            self.g = nn.Parameter(torch.full((3, dim), 0.5))
            self.lam = nn.Parameter(torch.tensor(1.0))
            self.wo, self.wx = nn.Linear(dim * N, 10, bias=False), nn.Linear(dim * N, 10, bias=False)
            self.n_x, self.n_q, self.n_k, self.n_v = lif(), lif(), lif(), lif()
            self.n_a, self.n_o, self.n_out = lif(1.0, "soft", "ge"), lif(0.5, cmp="ge"), lif()

        def weights(self) -> dict[str, torch.Tensor]:
            w = {"embed": self.embed.weight, "wo": self.wo.weight, "wx": self.wx.weight, "lam": self.lam}
            for i, n in enumerate(("wq", "wk", "wv")):
                w[n] = q1(getattr(self, n).weight, self.g[i]) if qat else getattr(self, n).weight
            return w

        def forward(self, x):
            w = self.weights()
            B = x.shape[0]
            img = x.reshape(B, N, CIN)
            X = self.n_x((img @ w["embed"].T).unsqueeze(0).expand(T, B, N, dim))  # [T, B, N, D]

            def heads(s):
                return s.reshape(T, B, N, HEADS, d).transpose(2, 3)  # [T, B, H, N, d]

            q, k, v = (heads(n(X @ w[key].T)) for n, key in ((self.n_q, "wq"), (self.n_k, "wk"), (self.n_v, "wv")))
            A = self.n_a(q @ k.transpose(-2, -1))  # binary attention map [T, B, H, N, N]
            out = self.n_o((A @ v) * (0.125 * w["lam"]))
            out = out.transpose(2, 3).reshape(T, B, N, dim)

            def flat(s):  # channel-major, as the IR's [D, N, 1] flattened
                return s.transpose(-2, -1).reshape(T, B, dim * N)

            return self.n_out(flat(out) @ w["wo"].T + flat(X) @ w["wx"].T).sum(dim=0)

    net = Net()
    fit(net, Xtr, ytr, epochs)
    with torch.no_grad():
        ws = {k: v.detach().numpy().astype(np.float64) for k, v in net.weights().items()}
    return ws, (Xtr, Xte, ytr, yte)


def build_module(ws: dict[str, np.ndarray]):
    """The IR, channels first: tokens as ``[D, N, 1]`` (so the projections are 1x1 convs), heads as
    ``[H, N, d]`` for the attention products."""
    from snnc.ir.parser import parse_module

    D = ws["embed"].shape[0]
    d = D // HEADS

    def conv(name: str, src: str, w: np.ndarray, cin: int, elem: str) -> str:
        return (f'    %{name} = "nn.conv2d"(%{src}) {{weight = {dense(w.reshape(*w.shape, 1, 1))}}} '
                f': (tensor<{cin}x{N}x1x{elem}>) -> tensor<{D}x{N}x1xf32>')

    def lif(name: str, src: str, shape: str, v_th: str = "1.000000e+00", reset: str = "hard", cmp: str = "gt") -> str:
        return (f'    %{name} = "snn.lif"(%{src}) {{{LIF}, cmp = "{cmp}", v_th = {v_th} : f64, reset = "{reset}"}} '
                f': (tensor<{shape}xf32>) -> tensor<{shape}xi1>')

    def heads(name: str, src: str) -> list[str]:
        return [
            f'    %{name}2 = "nn.reshape"(%{src}) : (tensor<{D}x{N}x1xi1>) -> tensor<{D}x{N}xi1>',
            f'    %{name}t = "nn.transpose"(%{name}2) {{perm = array<i64: 1, 0>}} : (tensor<{D}x{N}xi1>) -> tensor<{N}x{D}xi1>',
            f'    %{name}3 = "nn.reshape"(%{name}t) : (tensor<{N}x{D}xi1>) -> tensor<{N}x{HEADS}x{d}xi1>',
            f'    %{name}h = "nn.transpose"(%{name}3) {{perm = array<i64: 1, 0, 2>}} : (tensor<{N}x{HEADS}x{d}xi1>) -> tensor<{HEADS}x{N}x{d}xi1>',
        ]

    scale = 0.125 * float(ws["lam"])
    hw = f"{HEADS}x{N}x{d}"
    lines = [
        f'    %img = "nn.reshape"(%x) : (tensor<64xf32>) -> tensor<{N}x{CIN}xf32>',
        f'    %imgt = "nn.transpose"(%img) {{perm = array<i64: 1, 0>}} : (tensor<{N}x{CIN}xf32>) -> tensor<{CIN}x{N}xf32>',
        f'    %x3 = "nn.reshape"(%imgt) : (tensor<{CIN}x{N}xf32>) -> tensor<{CIN}x{N}x1xf32>',
        conv("e", "x3", ws["embed"], CIN, "f32"),
        lif("X", "e", f"{D}x{N}x1"),
    ]
    for n in ("q", "k", "v"):
        lines += [conv(f"{n}c", "X", ws[f"w{n}"], D, "i1"), lif(n, f"{n}c", f"{D}x{N}x1"), *heads(n, n)]
    lines += [
        f'    %kT = "nn.transpose"(%kh) {{perm = array<i64: 0, 2, 1>}} : (tensor<{hw}xi1>) -> tensor<{HEADS}x{d}x{N}xi1>',
        f'    %s = "nn.matmul"(%qh, %kT) : (tensor<{hw}xi1>, tensor<{HEADS}x{d}x{N}xi1>) -> tensor<{HEADS}x{N}x{N}xf32>',
        lif("A", "s", f"{HEADS}x{N}x{N}", reset="soft", cmp="ge"),
        f'    %av = "nn.matmul"(%A, %vh) : (tensor<{HEADS}x{N}x{N}xi1>, tensor<{hw}xi1>) -> tensor<{hw}xf32>',
        f'    %avs = "nn.scale"(%av) {{scale = {scale:.17e} : f64}} : (tensor<{hw}xf32>) -> tensor<{hw}xf32>',
        lif("O", "avs", hw, v_th="5.000000e-01", cmp="ge"),
        f'    %Op = "nn.transpose"(%O) {{perm = array<i64: 0, 2, 1>}} : (tensor<{hw}xi1>) -> tensor<{HEADS}x{d}x{N}xi1>',
        f'    %Of = "nn.reshape"(%Op) : (tensor<{HEADS}x{d}x{N}xi1>) -> tensor<{D * N}xi1>',
        f'    %Xf = "nn.reshape"(%X) : (tensor<{D}x{N}x1xi1>) -> tensor<{D * N}xi1>',
        f'    %ho = "nn.linear"(%Of) {{weight = {dense(ws["wo"])}}} : (tensor<{D * N}xi1>) -> tensor<10xf32>',
        f'    %hx = "nn.linear"(%Xf) {{weight = {dense(ws["wx"])}}} : (tensor<{D * N}xi1>) -> tensor<10xf32>',
        '    %h = "nn.add"(%ho, %hx) : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>',
        lif("out", "h", "10"),
    ]
    body = "\n".join(lines)
    return parse_module(f"""
"builtin.module"() ({{
  "snn.graph"() ({{
    %x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<64xf32>
{body}
    "snn.output"(%out) {{index = 0 : i64, name = "s"}} : (tensor<10xi1>) -> ()
  }}) {{sym_name = "bestformer"}} : () -> ()
}}) : () -> ()
""")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=16, help="channels D (2 heads)")
    ap.add_argument("--membrane-bits", type=int, default=16)
    ap.add_argument("--test", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from snnc.analysis.report import analyze, attention_energy
    from snnc.backends.c import emit
    from snnc.passes import PassManager, Quantize

    ws32, (Xtr, Xte, ytr, yte) = train(args.hidden, args.epochs, False)
    wsq, _ = train(args.hidden, args.epochs, True)
    if args.test:
        Xte, yte = Xte[: args.test], yte[: args.test]
    cal = np.repeat(Xtr[:64][None], T, axis=0)
    base, qat = build_module(ws32), build_module(wsq)
    masked = qat.clone()
    PassManager.parse("canonicalize,attention-mask-add").run(masked)

    def energy(m) -> tuple[float, dict]:
        r = analyze(m, calibration={"x": cal})
        return r.totals["energy_pj"], attention_energy(r)  # per sample (the report averages over the batch)

    def footprint(m) -> int:
        return analyze(m, calibration={"x": cal[:, :1]}).totals["footprint_bytes"]

    rows, att = {}, {}
    e, att["full precision"] = energy(base)
    rows["full precision (float32), attention as matmuls"] = (accuracy(base, Xte, yte), footprint(base), e)
    e, att["QAT"] = energy(qat)
    rows["QAT (1-bit Q/K/V), float IR, attention as matmuls"] = (accuracy(qat, Xte, yte), footprint(qat), e)
    e, att["mask-add"] = energy(masked)
    rows["+ attention-mask-add, float IR"] = (accuracy(masked, Xte, yte), footprint(masked), e)
    pipeline = f"canonicalize,attention-mask-add,quantize{{weight-bits=8,per-channel=true,membrane-bits={args.membrane_bits}}}"
    q = Quantize(weight_bits=8, per_channel=True, membrane_bits=args.membrane_bits, calibration={"x": cal})
    integer = masked.clone()
    PassManager([q]).run(integer)
    ops = sorted({op.op_name for op in integer.walk()})
    with tempfile.TemporaryDirectory() as tmp:
        art = emit(integer, "host", Path(tmp))
        cc = compile_and_check(qat, "bestformer", pipeline, cal, args.out or Path(tmp) / "work")
    rows[f"+ integer, {args.membrane_bits}-bit membrane, C"] = (accuracy(integer, Xte, yte), art.flash_bytes, e)
    res = {"rows": rows, "attention": att, "integer_ops": ops, "exact_layers": q.report.exact_layers,
           "rounded_layers": q.report.rounded_layers, "agreement": q.report.summary(), **cc}
    print_table(f"BESTformer (1 block, binary Q/K/V and attention maps) on digits: {len(Xtr)} train / {len(Xte)} test, "
                f"T = {T}, D = {args.hidden}, {HEADS} heads", rows)
    for k, a in att.items():
        print(f"attention ({k}): {a['acs']:.0f} ACs + {a['macs']:.0f} MACs = {a['energy_pj'] / 1e3:.3f} nJ; "
              f"as dense matmuls {a['dense_macs']:.0f} MACs = {a['dense_energy_pj'] / 1e3:.3f} nJ")
    print(res["agreement"])
    print(f"snnc compile --target c: rc {res['compile_rc']}; snnc check --target c: rc {res['check_rc']}")
    print(res["check"])
    return res


if __name__ == "__main__":
    r = main()
    raise SystemExit(0 if r["compile_rc"] == 0 and r["check_rc"] == 0 else 1)
