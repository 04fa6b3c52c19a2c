"""Yosys generic synthesis of the snnc reference core, with the figures parsed from `stat`.

Three flows:
  * ``flow="generic"``: the stock ``synth -top snnc_lif_core`` (memories are mapped to
    flip-flops and multiplexers by ``memory_map``: what an ASIC without SRAM macros would get;
    slow beyond ~32x32).
  * ``flow="keep-memories"``: the same script with ``memory_map`` left out, so the weight,
    parameter, membrane, accumulator and FIFO memories stay memories (what block RAM or SRAM
    macros would hold); `stat` then reports their bits apart from the generic gates.
  * ``flow="xilinx"``: ``synth_xilinx -family xc7`` (7-series LUTs, FDRE, CARRY4, block RAM
    RAMB18E1/RAMB36E1, LUT RAM), the flow whose figures compare with FPGA papers.

    python -m snnc.backends.rtl.synth --neurons 256 --axons 256 --weight-bits 4 --mem-bits 12 --flow xilinx
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HDL_DIR = Path(__file__).parent / "hdl"
CORE = HDL_DIR / "snnc_lif_core.v"

_FF = re.compile(r"^\$_(S?DFFS?R?E?|ALDFFE?|DFFSRE?|SDFFCE|DLATCH)\w*$")


FLOWS = ("generic", "keep-memories", "xilinx")


@dataclass
class SynthReport:
    params: dict
    flow: str
    cells: int = 0  # gate-level cells incl. flip-flops, excluding memory ports
    flip_flops: int = 0
    logic_cells: int = 0  # cells - flip_flops
    memories: int = 0
    memory_bits: int = 0
    luts: int = 0  # xilinx flow: LUT1..LUT6
    lutram: int = 0  # xilinx flow: RAM32M/RAM64M/RAM*X1* cells
    bram36: float = 0.0  # xilinx flow: RAMB36E1 + RAMB18E1 / 2
    carry4: int = 0
    cell_types: dict = field(default_factory=dict)
    seconds: float = 0.0  # wall clock
    cpu_seconds: float = 0.0  # yosys user + system time
    log: str = ""

    def summary(self) -> str:
        p = self.params
        head = (
            f"snnc_lif_core N_NEURONS={p['N_NEURONS']} N_AXONS={p['N_AXONS']} WEIGHT_BITS={p['WEIGHT_BITS']} "
            f"MEM_BITS={p['MEM_BITS']} ACC_BITS={p['ACC_BITS']} PAR={p['PAR']} (flow {self.flow})"
        )
        if self.flow == "xilinx":
            return (
                f"{head}\n  LUTs {self.luts}, flip-flops {self.flip_flops}, LUT RAM cells {self.lutram}, "
                f"block RAM {self.bram36:g} x 36 kbit, CARRY4 {self.carry4}, cells {self.cells}, yosys {self.seconds:.1f} s ({self.cpu_seconds:.1f} s CPU)"
            )
        return (
            f"{head}\n  cells {self.cells}, flip-flops {self.flip_flops}, other logic cells {self.logic_cells}, "
            f"memories {self.memories} ({self.memory_bits} bits), yosys {self.seconds:.1f} s ({self.cpu_seconds:.1f} s CPU)"
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
        m = re.match(r"([$A-Za-z_][$\w]*)\s+(\d+)$", s)
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
    flow="generic",
    par=1,
    timeout: float = 600,
    mag_bits=1,
    frac_bits=0,
    extra: dict | None = None,
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
        "PAR": par,
    }
    if mag_bits != 1:
        params["MAG_BITS"] = mag_bits
    if frac_bits:
        params["FRAC_BITS"] = frac_bits
    params.update(extra or {})  # e.g. CUR, GROUPS, RQ_SHIFT, RQ_HALF, GB_DELAY (current compartments, axon groups)
    chparam = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    top = "snnc_lif_core"
    if flow not in FLOWS:
        raise ValueError(f"flow must be one of {FLOWS}")
    if flow == "xilinx":
        script_text = f"hierarchy -check -top {top} {chparam}; synth_xilinx -top {top} -family xc7; stat"
    elif flow == "keep-memories":
        script_text = (
            f"hierarchy -check -top {top} {chparam}; synth -top {top} -run begin:fine; "
            "opt -fast -full; opt -full; techmap; opt -fast; abc -fast; opt -fast; memory_unpack; stat"
        )
    else:
        script_text = f"hierarchy -check -top {top} {chparam}; synth -top {top}; stat"
    with tempfile.TemporaryDirectory() as td:
        script = Path(td) / "synth.ys"
        script.write_text(f"read_verilog {CORE}\n{script_text}\n")
        t0 = time.monotonic()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            p = subprocess.run(
                ["yosys", "-q", "-l", str(Path(td) / "log"), "-s", str(script)],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"yosys did not finish within {timeout:g} s ({flow} flow, {params})") from e
        dt = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        log = (Path(td) / "log").read_text() if (Path(td) / "log").exists() else ""
    if p.returncode != 0:
        raise RuntimeError(f"yosys failed ({p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    st = parse_stat(log)
    ct = st["cell_types"]
    ffs = sum(n for t, n in ct.items() if _FF.match(t) or re.match(r"^FD[RSCP]E?$", t))
    mems = sum(n for t, n in ct.items() if t.startswith("$mem"))  # $memrd/$memwr/$meminit ports
    cells = st["cells"] - mems
    extra = {}
    if flow == "xilinx":
        extra = dict(
            luts=sum(n for t, n in ct.items() if re.match(r"^LUT[1-6]$", t)),
            lutram=sum(n for t, n in ct.items() if re.match(r"^RAM(32|64|128|256)", t)),
            bram36=ct.get("RAMB36E1", 0) + ct.get("RAMB18E1", 0) / 2,
            carry4=ct.get("CARRY4", 0),
        )
    return SynthReport(
        params=params,
        flow=flow,
        **extra,
        cells=cells,
        flip_flops=ffs,
        logic_cells=cells - ffs,
        memories=st["memories"],
        memory_bits=st["memory_bits"],
        cell_types=st["cell_types"],
        seconds=dt,
        cpu_seconds=cpu,
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
    ap.add_argument("--flow", choices=FLOWS, default="keep-memories")
    ap.add_argument("--par", type=int, default=1, help="synapses per clock (PAR)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    r = synthesize(a.neurons, a.axons, a.weight_bits, a.mem_bits, a.acc_bits, a.fifo_depth, a.flow, a.par)
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
