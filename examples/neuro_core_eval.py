"""neuro-core for the compression examples: ``snnc compile --target neuro-core`` and ``snnc check
--target neuro-core`` of an example's float IR with its pipeline and calibration data, then the
emitted configuration run by the chip simulator (snnc.sim) on the test inputs, one sample at a
time: accuracy (the class is the output neuron with the most spikes), cores used, synapse table
entries and the chip model's energy per sample (synaptic ops, neuron updates, packets, hops at the
target's pJ figures; not the 45 nm MAC/AC convention of the examples' other rows).

Used by examples/qp_snn and examples/qt_snn; for an example run with ``--out DIR`` that wrote
``DIR/NAME.mlir`` and ``DIR/calibration.npy`` on the shared digits split (q_snn, bestformer):

    .venv/bin/python examples/neuro_core_eval.py DIR NAME 'canonicalize,quantize{...}'
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def neuro_core(src: Path, out: Path, pipeline: str, cal: Path, xs: np.ndarray | None = None,
               y: np.ndarray | None = None) -> dict:
    """Compile and check ``src`` for neuro-core into ``out/neuro-core``; with inputs ``xs`` [T, B, *shape] and
    labels ``y``, run the simulator per sample."""
    from snnc.sim import run_config

    snnc = [str(Path(sys.executable).parent / "snnc")]
    nc = out / "neuro-core"
    args = ["-p", pipeline, "--calibration", str(cal)]
    comp = subprocess.run(snnc + ["compile", str(src), "--target", "neuro-core", "-o", str(nc), *args],
                          capture_output=True, text=True)
    chk = subprocess.run(snnc + ["check", str(src), "--target", "neuro-core", *args], capture_output=True, text=True)
    res: dict = {"nc_compile_rc": comp.returncode, "nc_compile": (comp.stdout + comp.stderr)[-2000:],
                 "nc_check_rc": chk.returncode, "nc_check": (chk.stdout + chk.stderr)[-2000:]}
    if comp.returncode != 0:
        return res
    rep = json.loads((nc / "report.json").read_text())
    res.update(nc_cores=rep["cores_used"], nc_synapses=rep["synapses"], nc_neurons=rep["neurons"])
    if xs is not None and y is not None:
        correct, energy, synops = 0, 0.0, 0
        for b in range(xs.shape[1]):
            outs, r = run_config(nc, {"x": xs[:, b]})
            counts = outs["s"].astype(np.int64).sum(axis=0).reshape(-1)
            correct += int(counts.argmax() == y[b])
            energy += float(r.energy_pj or 0.0)
            synops += r.synaptic_ops
        n = max(xs.shape[1], 1)
        res.update(nc_accuracy=correct / n, nc_energy_pj=energy / n, nc_synaptic_ops=synops / n)
    return res


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("name")
    ap.add_argument("pipeline")
    ap.add_argument("--test", type=int, default=0, help="the first N test images only (0: all)")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from examples.common.digits import inputs, load_split

    _, Xte, _, yte = load_split()
    if a.test:
        Xte, yte = Xte[: a.test], yte[: a.test]
    res = neuro_core(a.dir / f"{a.name}.mlir", a.dir, a.pipeline, a.dir / "calibration.npy", inputs(Xte), yte)
    print(res["nc_compile"])
    print(res["nc_check"])
    if "nc_accuracy" in res:
        print(f"neuro-core simulator on {len(yte)} test images: accuracy {100 * res['nc_accuracy']:.2f} %, "
              f"{res['nc_cores']} cores, {res['nc_synapses']} synapses, energy/sample {res['nc_energy_pj'] / 1e3:.3f} nJ, "
              f"{res['nc_synaptic_ops']:.0f} synaptic ops/sample")
    return res


if __name__ == "__main__":
    r = main()
    raise SystemExit(0 if r["nc_compile_rc"] == 0 and r["nc_check_rc"] == 0 else 1)
