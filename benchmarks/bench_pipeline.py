"""Compile-time benchmark of the Meta-SpikeFormer pipeline (measured, never asserted).

    .venv/bin/python benchmarks/bench_pipeline.py [--sizes 15M,31M] [--skip-torch-mlir] [--skip-report]

Builds Meta-SpikeFormer at the 15M (embedding widths [64, 128, 256, 360], 15,112,208
parameters) and 31M ([96, 192, 384, 480], 31,333,864) configurations of SEEDS.md from the
blocks of ``examples/torch/spiking_models.py`` (1000 classes, 8 heads, 224x224 input,
``[T, B, 3, 224, 224]`` with T = 4, B = 1), prints and checks the parameter count, then
times each stage on the same model:

* ``torch.export`` alone (``torch.export.export`` of the neuron-swapped module, strict=False;
  the baseline; a tiny model is exported and imported first so no stage pays for loading
  libraries);
* torch-mlir's ``fx.export_and_import`` alone (literal weights; ``--skip-torch-mlir`` skips it);
* ``snnc.import_torch`` (with its phases: prepare, export, torch-mlir text, parse, bind, convert);
* the passes ``canonicalize``, ``compose-linear``, ``attention-mask-add`` (when registered)
  and ``fuse-lif``, each through a PassManager (verification after the pass included);
* ``snnc report`` (:func:`snnc.analysis.report.analyze`: one interpreted step on random
  input; ``--skip-report`` skips it).

Time: wall clock and process CPU time (all threads; steadier than wall time on a loaded
machine).  Memory: a sampler thread reads the process RSS every 5 ms; per stage it prints the peak RSS
and the peak growth over the RSS at the stage's start (torch's and numpy's allocations both
count, which tracemalloc would not see).  It prints the pipeline's time over torch.export's
and, with two sizes, each stage's growth factor beside the parameter ratio.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "15M": ((64, 128, 256, 360), 15_112_208),
    "31M": ((96, 192, 384, 480), 31_333_864),
    "55M": ((128, 256, 512, 640), 55_350_248),
}


def _examples():
    spec = importlib.util.spec_from_file_location("snnc_bench_spiking_models", ROOT / "examples" / "torch" / "spiking_models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build_meta_spikeformer(widths, heads: int = 8, classes: int = 1000):
    """Meta-SpikeFormer (SEEDS.md): 7x7/s2 + conv block (e0/2); 3x3/s2 + conv block (e0);
    3x3/s2 + 2 conv blocks (e1); 3x3/s2 + 6 transformer blocks (e2); 3x3/s1 + 2 transformer
    blocks (e3); head ``mean_HW -> LIF -> Linear -> mean over T``."""
    import torch
    from torch import nn

    sm = _examples()
    e0, e1, e2, e3 = widths

    def down(cin, cout, k, s, lif=True):
        mods = [sm._lif()] if lif else []
        return nn.Sequential(*mods, sm._seq(nn.Conv2d(cin, cout, k, stride=s, padding=k // 2), nn.BatchNorm2d(cout)))

    class MetaSpikeFormer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stage1 = nn.Sequential(down(3, e0 // 2, 7, 2, lif=False), sm.ConvBlock(e0 // 2))
            self.stage2 = nn.Sequential(down(e0 // 2, e0, 3, 2), sm.ConvBlock(e0))
            self.stage3 = nn.Sequential(down(e0, e1, 3, 2), sm.ConvBlock(e1), sm.ConvBlock(e1))
            self.stage4 = nn.Sequential(down(e1, e2, 3, 2), *[sm.TransformerBlock(e2, heads) for _ in range(6)])
            self.stage5 = nn.Sequential(down(e2, e3, 3, 1), *[sm.TransformerBlock(e3, heads) for _ in range(2)])
            self.head_lif = sm._lif()
            self.head = nn.Linear(e3, classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.stage5(self.stage4(self.stage3(self.stage2(self.stage1(x)))))
            x = x.flatten(3).mean(3)
            return self.head(self.head_lif(x)).mean(0)

    torch.manual_seed(0)
    return sm._randomize_bn(MetaSpikeFormer())


# --------------------------------------------------------------------------- measuring


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Stage:
    """Times a block and samples the RSS while it runs."""

    def __init__(self, name: str, rows: list) -> None:
        self.name, self.rows = name, rows

    def __enter__(self):
        gc.collect()
        self.start_rss = _rss_mb()
        self.peak = self.start_rss
        self.stop = threading.Event()

        def sample() -> None:
            while not self.stop.is_set():
                self.peak = max(self.peak, _rss_mb())
                time.sleep(0.005)

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        dt = time.perf_counter() - self.t0
        cpu = time.process_time() - self.c0
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, _rss_mb())
        self.rows.append((self.name, dt, cpu, self.peak, self.peak - self.start_rss))


_WARM: list[bool] = []


def _warm_up(skip_torch_mlir: bool) -> None:
    """Export / import a tiny model once so that no stage pays for library loading."""
    if _WARM:
        return
    import torch

    import snnc
    from snnc.frontends.torch_importer import prepare_module

    tiny = _examples().conv_bn_lif()
    x = torch.rand(2, 1, 2, 8, 8)
    with torch.no_grad():
        torch.export.export(prepare_module(tiny), (x,), strict=False)
        if not skip_torch_mlir:
            from torch_mlir import fx

            fx.export_and_import(prepare_module(tiny), x)
    snnc.import_torch(tiny, x, time_layout="TB")
    _WARM.append(True)


def bench(size: str, *, steps: int, skip_torch_mlir: bool, skip_report: bool) -> dict[str, float]:
    import torch

    import snnc
    from snnc.frontends.torch_importer import ImportTimings, prepare_module
    from snnc.passes import PassManager
    from snnc.passes.manager import Pass

    widths, expect = CONFIGS[size]
    model = build_meta_spikeformer(widths)
    n = sum(p.numel() for p in model.parameters())
    n_lif = sum(type(m).__name__ == "LIFNode" for m in model.modules())
    print(f"\n== Meta-SpikeFormer {size}: widths {list(widths)}, {n:,} parameters "
          f"({'= ' if n == expect else '!= '}{expect:,} of SEEDS.md), {n_lif} LIF layers")
    if n != expect:
        raise SystemExit(f"parameter count {n:,} differs from SEEDS.md's {expect:,}")
    x = torch.rand(steps, 1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    rows: list = []
    _warm_up(skip_torch_mlir)
    prepared = prepare_module(model)
    with Stage("torch.export (baseline)", rows), torch.no_grad():
        torch.export.export(prepared, (x,), strict=False)
    if not skip_torch_mlir:
        from torch_mlir import fx

        with Stage("torch-mlir fx.export_and_import", rows), torch.no_grad():
            fx.export_and_import(prepared, x)
    del prepared
    tm = ImportTimings()
    with Stage("snnc import", rows):
        m = snnc.import_torch(model, x, time_layout="TB", readout="mean", timings=tm)
    phases = ", ".join(f"{k} {getattr(tm, k):.2f}" for k in ("prepare", "export", "torch_mlir", "parse", "bind", "convert"))
    passes = ["canonicalize", "compose-linear", "fuse-lif"]
    if "attention-mask-add" in Pass.registry:
        passes.insert(2, "attention-mask-add")
    for p in passes:
        with Stage(p, rows):
            PassManager.parse(p).run(m)
    if not skip_report:
        from snnc.analysis.report import analyze

        with Stage("report (1 step)", rows):
            rep = analyze(m, time_steps=1)
    n_fused = sum(op.op_name == "snn.fused" for op in m.walk())
    n_top = len(m.body.ops[0].body.ops)

    base, cbase = rows[0][1], rows[0][2]
    print(f"{'stage':34s} {'wall (s)':>9s} {'x export':>9s} {'cpu (s)':>9s} {'x export':>9s} {'peak RSS (MB)':>14s} "
          f"{'+RSS (MB)':>10s}")
    for name, dt, cpu, peak, grow in rows:
        print(f"{name:34s} {dt:9.2f} {dt / base:9.2f} {cpu:9.2f} {cpu / cbase:9.2f} {peak:14.0f} {grow:10.0f}")
    t = {name: dt for name, dt, _, _, _ in rows}
    c = {name: cpu for name, _, cpu, _, _ in rows}
    print(f"snnc import phases (wall s): {phases}")
    for label, d, b in (("wall", t, base), ("cpu", c, cbase)):
        pipeline = d["snnc import"] + sum(d[p] for p in passes)
        d["pipeline"] = pipeline
        print(f"pipeline (import + {', '.join(passes)}), {label}: {pipeline:.2f} s = {pipeline / b:.2f}x torch.export"
              + (f"; with the report {pipeline + d['report (1 step)']:.2f} s = "
                 f"{(pipeline + d['report (1 step)']) / b:.2f}x" if not skip_report else ""))
    if not skip_report:
        print(f"report: {rep.totals['layers']} synapse layers")
    print(f"after the passes: {n_fused} snn.fused units, {n_top} ops in the graph body")
    out = {f"wall {k}": v for k, v in t.items()} | {f"cpu {k}": v for k, v in c.items()}
    out["params"] = n
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="15M,31M", help="comma-separated: 15M, 31M, 55M")
    ap.add_argument("--steps", type=int, default=4, help="time steps T of the example input")
    ap.add_argument("--skip-torch-mlir", action="store_true", help="do not time torch-mlir's fx.export_and_import")
    ap.add_argument("--skip-report", action="store_true", help="do not time the report (an interpreted step)")
    args = ap.parse_args()
    results = {s: bench(s, steps=args.steps, skip_torch_mlir=args.skip_torch_mlir, skip_report=args.skip_report)
               for s in args.sizes.split(",")}
    sizes = list(results)
    if len(sizes) >= 2:
        a, b = results[sizes[0]], results[sizes[1]]
        print(f"\n== scaling {sizes[0]} -> {sizes[1]}: parameters x{b['params'] / a['params']:.2f}")
        for k in a:
            if k != "params" and k in b and a[k] > 0:
                print(f"{k:40s} x{b[k] / a[k]:.2f}")


if __name__ == "__main__":
    main()
