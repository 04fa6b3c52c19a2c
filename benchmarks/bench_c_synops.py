"""Instructions per synaptic operation of the emitted C, counted with callgrind (not a test).

    .venv/bin/python benchmarks/bench_c_synops.py [--inputs 512] [--outputs 512] [--steps 50]

One layer (spikes -> spike.accumulate with 8-bit weights -> spike.lif) is emitted by the C
backend, built with ``cc -O2``, and run under ``valgrind --tool=callgrind`` with collection
limited to ``model_step``; a dense C loop (``acc[o] += x[i] * w[i][o]`` over every input,
int8 weights, int32 accumulators, the same ``-O2``) runs on the same spike trains.  Synaptic
operations = input events x outputs.  Also prints flash (const) bytes against
parameters x bits / 8.  Firing rates 1, 5, 10 and 25 %.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DENSE = r"""
#include <stdint.h>
#include <stdio.h>
#include "weights.h"
static int32_t acc[NOUT];
__attribute__((noinline)) void dense_step(const uint8_t *x) {
    long i, o;
    for (o = 0; o < NOUT; o++) acc[o] = 0;
    for (i = 0; i < NIN; i++)
        for (o = 0; o < NOUT; o++) acc[o] += (int32_t)x[i] * W[i * NOUT + o];
}
int main(void) {
    static uint8_t x[NIN];
    long t, i, T;
    int64_t check = 0;
    if (scanf("%ld", &T) != 1) return 2;
    for (t = 0; t < T; t++) {
        for (i = 0; i < NIN; i++) { long v; if (scanf("%ld", &v) != 1) return 3; x[i] = (uint8_t)v; }
        dense_step(x);
        check += acc[t % NOUT];
    }
    printf("%lld\n", (long long)check);
    return 0;
}
"""


def callgrind_ir(exe: Path, fn: str, stdin: str, workdir: Path) -> int:
    out = workdir / f"cg.{fn}.out"
    subprocess.run(["valgrind", "--tool=callgrind", f"--toggle-collect={fn}", f"--callgrind-out-file={out}", str(exe)],
                   input=stdin, capture_output=True, text=True, check=True)
    text = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS", text)
    if not m:
        raise RuntimeError(text[:2000])
    return int(m.group(1).replace(",", ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=512)
    ap.add_argument("--outputs", type=int, default=512)
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    for tool in ("valgrind", "callgrind_annotate", "cc", "make"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 1
    from snnc.backends.c import emit
    from snnc.dialects.common import weight_attr
    from snnc.dialects.snn import Graph
    from snnc.ir.attributes import IntegerAttr, StringAttr
    from snnc.ir.builtin import ModuleOp
    from snnc.ir.opdef import make_op
    from snnc.ir.types import IntegerType, TensorType, i1, i64

    n_in, n_out, T = args.inputs, args.outputs, args.steps
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 128, size=(n_out, n_in))
    m = ModuleOp.empty()
    g = Graph.build("main")
    m.body.append(g)
    b = g.body
    x = b.append(make_op("snn.input", [], [TensorType((n_in,), i1)], {"name": StringAttr("x"), "index": IntegerAttr(0, i64)}))
    acc = b.append(make_op("spike.accumulate", [x.results[0]], [TensorType((n_out,), IntegerType(32))],
                           {"weight": weight_attr(w, IntegerType(8), hint="w")}))
    s = b.append(make_op("spike.lif", [acc.results[0]], [TensorType((n_out,), i1)],
                         {"v_th": IntegerAttr(2000, i64), "leak_shift": IntegerAttr(1, i64)}))
    b.append(make_op("snn.output", [s.results[0]], [], {"name": StringAttr("s"), "index": IntegerAttr(0, i64)}))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        art = emit(m, "host", work / "model")
        subprocess.run(["make", "-s", "-C", str(art.out_dir)], check=True)
        (work / "dense").mkdir()
        flat = w.T.ravel()
        (work / "dense" / "weights.h").write_text(
            f"#define NIN {n_in}\n#define NOUT {n_out}\nstatic const int8_t W[{flat.size}] = {{"
            + ",".join(str(int(v)) for v in flat) + "};\n")
        (work / "dense" / "dense.c").write_text(DENSE)
        subprocess.run(["cc", "-std=c99", "-O2", "-o", str(work / "dense" / "dense"), str(work / "dense" / "dense.c")],
                       check=True)
        params = n_in * n_out
        print(f"layer {n_in} -> {n_out}, 8-bit weights, {T} steps, cc -O2; flash (const) {art.flash_bytes} bytes "
              f"vs parameters x bits / 8 = {params} bytes ({art.flash_bytes / params:.3f}x); state {art.ram_bytes} bytes")
        print("| firing rate | synaptic ops | emitted C Ir | Ir / synop | dense loop Ir | dense Ir / synop | dense / emitted |")
        print("|---|---|---|---|---|---|---|")
        for rate in (0.01, 0.05, 0.10, 0.25):
            spikes = rng.random((T, n_in)) < rate
            stdin = f"{T}\n" + "\n".join(" ".join("1" if v else "0" for v in row) for row in spikes) + "\n"
            synops = int(spikes.sum()) * n_out
            ir_c = callgrind_ir(art.out_dir / "harness", "model_step", stdin, work)
            ir_d = callgrind_ir(work / "dense" / "dense", "dense_step", stdin, work)
            print(f"| {100 * rate:.0f} % | {synops} | {ir_c} | {ir_c / synops:.2f} | {ir_d} | {ir_d / synops:.2f} | "
                  f"{ir_d / ir_c:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
