"""Yosys generic synthesis of the snnc reference core, with the figures parsed from `stat`.

Two flows:
  * ``keep_memories=False``: the stock ``synth -top snnc_lif_core`` (memories are mapped to
    flip-flops and multiplexers by ``memory_map``: what an ASIC without SRAM macros would get).
  * ``keep_memories=True``: the same script with ``memory_map`` left out, so the weight,
    parameter, membrane, accumulator and FIFO memories stay ``$mem_v2`` cells (what an FPGA
    block RAM or an SRAM macro would hold); `stat` then reports their bits apart from the logic.

    python -m snnc.backends.rtl.synth --neurons 256 --axons 256 --weight-bits 4 --mem-bits 12
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HDL_DIR = Path(__file__).parent / "hdl"
CORE = HDL_DIR / "snnc_lif_core.v"

_FF = re.compile(r"^\$_(S?DFFS?R?E?|ALDFFE?|DFFSRE?|SDFFCE|DLATCH)\w*$")


@dataclass
class SynthReport:
    params: dict
    keep_memories: bool
    cells: int = 0  # gate-level cells incl. flip-flops, excluding memory ports
    flip_flops: int = 0
    logic_cells: int = 0  # cells - flip_flops
    memories: int = 0
    memory_bits: int = 0
    cell_types: dict = field(default_factory=dict)
    seconds: float = 0.0
    log: str = ""

    def summary(self) -> str:
        p = self.params
        head = (
            f"snnc_lif_core N_NEURONS={p['N_NEURONS']} N_AXONS={p['N_AXONS']} WEIGHT_BITS={p['WEIGHT_BITS']} "
            f"MEM_BITS={p['MEM_BITS']} ACC_BITS={p['ACC_BITS']} ({'memories kept' if self.keep_memories else 'memories mapped to FFs'})"
        )
        return (
            f"{head}\n  cells {self.cells}, flip-flops {self.flip_flops}, other logic cells {self.logic_cells}, "
            f"memories {self.memories} ({self.memory_bits} bits), yosys {self.seconds:.1f} s"
        )


def have_yosys() -> bool:
    return shutil.which("yosys") is not None


def parse_stat(text: str) -> dict:
    """Parse the last (top-level) `stat` block of a yosys log."""
    blocks = text.split("Printing statistics.")
    if len(blocks) < 2:
        raise RuntimeError("no `stat` output in the yosys log")
    block = blocks[-1]
    out = {"cells": 0, "memories": 0, "memory_bits": 0, "cell_types": {}}
    for line in block.splitlines():
        s = line.strip()
        m = re.match(r"Number of cells:\s+(\d+)", s)
        if m:
            out["cells"] = int(m.group(1))
            continue
        m = re.match(r"Number of memories:\s+(\d+)", s)
        if m:
            out["memories"] = int(m.group(1))
            continue
        m = re.match(r"Number of memory bits:\s+(\d+)", s)
        if m:
            out["memory_bits"] = int(m.group(1))
            continue
        m = re.match(r"(\$\S+)\s+(\d+)$", s)
        if m:
            out["cell_types"][m.group(1)] = int(m.group(2))
    return out


def synthesize(
    n_neurons=16,
    n_axons=16,
    weight_bits=4,
    mem_bits=12,
    acc_bits=16,
    fifo_depth=16,
    keep_memories=False,
    timeout: float = 600,
) -> SynthReport:
    if not have_yosys():
        raise RuntimeError("yosys is not installed")
    params = {
        "N_NEURONS": n_neurons,
        "N_AXONS": n_axons,
        "WEIGHT_BITS": weight_bits,
        "MEM_BITS": mem_bits,
        "ACC_BITS": acc_bits,
        "FIFO_DEPTH": fifo_depth,
    }
    chparam = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    top = "snnc_lif_core"
    if keep_memories:
        flow = (
            f"hierarchy -check -top {top} {chparam}; synth -top {top} -run begin:fine; "
            "opt -fast -full; opt -full; techmap; opt -fast; abc -fast; opt -fast; memory_unpack; stat"
        )
    else:
        flow = f"hierarchy -check -top {top} {chparam}; synth -top {top}; stat"
    with tempfile.TemporaryDirectory() as td:
        script = Path(td) / "synth.ys"
        script.write_text(f"read_verilog {CORE}\n{flow}\n")
        t0 = time.monotonic()
        p = subprocess.run(
            ["yosys", "-q", "-l", str(Path(td) / "log"), "-s", str(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        dt = time.monotonic() - t0
        log = (Path(td) / "log").read_text() if (Path(td) / "log").exists() else ""
    if p.returncode != 0:
        raise RuntimeError(f"yosys failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    st = parse_stat(log)
    ffs = sum(n for t, n in st["cell_types"].items() if _FF.match(t))
    mems = sum(n for t, n in st["cell_types"].items() if t.startswith("$mem"))  # $memrd/$memwr/$meminit ports
    cells = st["cells"] - mems
    return SynthReport(
        params=params,
        keep_memories=keep_memories,
        cells=cells,
        flip_flops=ffs,
        logic_cells=cells - ffs,
        memories=st["memories"],
        memory_bits=st["memory_bits"],
        cell_types=st["cell_types"],
        seconds=dt,
        log=log,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--neurons", type=int, default=256)
    ap.add_argument("--axons", type=int, default=256)
    ap.add_argument("--weight-bits", type=int, default=4)
    ap.add_argument("--mem-bits", type=int, default=12)
    ap.add_argument("--acc-bits", type=int, default=16)
    ap.add_argument("--fifo-depth", type=int, default=16)
    ap.add_argument("--keep-memories", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    r = synthesize(a.neurons, a.axons, a.weight_bits, a.mem_bits, a.acc_bits, a.fifo_depth, a.keep_memories)
    if a.json:
        import json

        d = asdict(r)
        d.pop("log")
        print(json.dumps(d, indent=1))
    else:
        print(r.summary())
        for t, n in sorted(r.cell_types.items()):
            print(f"    {t:24s} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
