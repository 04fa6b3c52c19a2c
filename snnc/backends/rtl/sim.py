"""Memory images, parameter include and simulation driver for the snnc reference RTL.

    write_images(mesh, out_dir)         -> $readmemh images + snnc_params.vh
    simulate(mesh, inputs, work_dir)    -> SimResult(spikes [T, cores, neurons], cycles [T])

`simulator` is "iverilog" (Icarus Verilog 11, `iverilog -g2005` + `vvp`) or "verilator"
(Verilator 5, `--binary --timing`).  A single core is simulated as a 1-core mesh.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .refmodel import CoreConfig, MeshConfig

HDL_DIR = Path(__file__).parent / "hdl"
HDL_SOURCES = [HDL_DIR / "snnc_lif_core.v", HDL_DIR / "snnc_mesh.v"]
TB_SOURCE = HDL_DIR / "snnc_tb.v"


class SimError(RuntimeError):
    pass


def _clog2(x: int) -> int:
    return max(0, math.ceil(math.log2(x))) if x > 1 else 0


def widths(cfg: CoreConfig, n_cores: int = 1) -> dict[str, int]:
    """The derived widths of the RTL (same formulas as the Verilog)."""
    nb = max(1, _clog2(cfg.n_neurons))
    ab = max(1, _clog2(cfg.n_axons))
    sb = _clog2(cfg.mem_bits)
    return {
        "NB": nb,
        "AB": ab,
        "SB": sb,
        "PB0": 3 * cfg.mem_bits + sb + 4 + (cfg.frac_bits + 2 if cfg.frac_bits > 0 else 0),
        "PB": 3 * cfg.mem_bits + sb + 4 + (cfg.frac_bits + 2 if cfg.frac_bits > 0 else 0)
        + ((1 + cfg.mem_bits + sb + (cfg.frac_bits + 2 if cfg.frac_bits > 0 else 0)) if cfg.cur_unit else 0)
        + (cfg.acc_bits if cfg.groups > 1 else 0),
        "CB": max(1, _clog2(n_cores)),
    }


def mesh_widths(mesh: MeshConfig) -> dict[str, int]:
    """The mesh's widths: NB and AB of its largest core (the mesh's N_NEURONS / N_AXONS), CB, PB."""
    wd = widths(mesh.cores[0], len(mesh.cores))
    wd["NB"] = max(1, _clog2(max_neurons(mesh)))
    wd["AB"] = max(1, _clog2(max_axons(mesh)))
    return wd


def max_neurons(mesh: MeshConfig) -> int:
    return max(c.n_neurons for c in mesh.cores)


def max_axons(mesh: MeshConfig) -> int:
    return max(c.n_axons for c in mesh.cores)


def to_unsigned(x, bits: int) -> np.ndarray:
    return np.asarray(x, dtype=np.int64) & ((1 << bits) - 1)


def pack_params(cfg: CoreConfig) -> list[int]:
    """One PB-bit word per neuron: v_th | v_reset | bias | leak_shift | reset_mode | cmp_gt | ternary
    [| mul | decay when frac_bits > 0] (LSB first)."""
    N = cfg.mem_bits
    sb = widths(cfg)["SB"]
    words = []
    for i in range(cfg.n_neurons):
        w = int(to_unsigned(cfg.v_th[i], N))
        w |= int(to_unsigned(cfg.v_reset[i], N)) << N
        w |= int(to_unsigned(cfg.bias[i], N)) << (2 * N)
        w |= int(cfg.leak_shift[i]) << (3 * N)
        w |= int(cfg.reset_mode[i]) << (3 * N + sb)
        w |= int(cfg.cmp[i]) << (3 * N + sb + 2)
        w |= int(bool(cfg.ternary[i])) << (3 * N + sb + 3)
        if cfg.frac_bits > 0:
            w |= int(bool(cfg.leak_mul[i])) << (3 * N + sb + 4)
            w |= int(cfg.decay[i]) << (3 * N + sb + 5)
        elif cfg.leak_mul[i]:
            raise SimError("a mul leak needs frac_bits > 0")
        if cfg.cur_unit:  # the current compartment's fields after the PB0 bits of the membrane's
            b = widths(cfg)["PB0"]
            w |= int(bool(cfg.cur[i])) << b
            w |= int(to_unsigned(cfg.cur_bias[i], N)) << (b + 1)
            w |= int(cfg.cur_leak_shift[i]) << (b + 1 + N)
            if cfg.frac_bits > 0:
                w |= int(bool(cfg.cur_leak_mul[i])) << (b + 1 + N + sb)
                w |= int(cfg.cur_decay[i]) << (b + 2 + N + sb)
        if cfg.groups > 1:  # bank A's bias, the last field
            w |= int(to_unsigned(cfg.gbias[i], cfg.acc_bits)) << (widths(cfg)["PB"] - cfg.acc_bits)
        words.append(w)
    return words


def check_par(cfg: CoreConfig, par: int) -> None:
    if par < 1 or par & (par - 1) or cfg.n_neurons % par:
        raise SimError(f"PAR={par} must be a power of two dividing N_NEURONS={cfg.n_neurons}")


def pack_weights(cfg: CoreConfig, par: int = 1) -> list[int]:
    """N_AXONS*N_NEURONS/PAR words of PAR weights: word axon*(N/PAR) + n//PAR holds neuron n's
    weight at bits (n % PAR)*W, two's complement."""
    check_par(cfg, par)
    W = cfg.weight_bits
    u = to_unsigned(cfg.weights, W).reshape(cfg.n_axons * cfg.n_neurons // par, par)
    return [sum(int(x) << (p * W) for p, x in enumerate(row)) for row in u]


def pack_routes(mesh: MeshConfig) -> list[int]:
    """N_CORES*N_NEURONS*FANOUT words {valid, dest_core, dest_axon} (N_NEURONS: the largest core's)."""
    wd = mesh_widths(mesh)
    ab, cb = wd["AB"], wd["CB"]
    n, f = max_neurons(mesh), mesh.fanout
    words = [0] * (len(mesh.cores) * n * f)
    for (c, nn), dests in mesh.routes.items():
        for j, (d, a) in enumerate(dests):
            words[(c * n + nn) * f + j] = (1 << (cb + ab)) | (d << ab) | a
    return words


def write_memh(path: Path, words: list[int], bits: int) -> None:
    digits = max(1, (bits + 3) // 4)
    Path(path).write_text("".join(f"{w:0{digits}x}\n" for w in words))


def _vstr(p: Path) -> str:
    s = str(p)
    if '"' in s or "\\" in s:
        raise SimError(f"path not usable in a Verilog string: {s}")
    return f'"{s}"'


def write_images(mesh: MeshConfig, out_dir, fifo_depth: int = 16, par: int = 1, mag_bits: int = 1,
                 relative: bool = False, header: str = "snnc.backends.rtl.sim") -> Path:
    """Write wXX.memh, pXX.memh (per core), route.memh and snnc_params.vh into out_dir.

    ``mag_bits``: width of the external events' magnitude (graded events); ``relative``: file names
    in snnc_params.vh relative to the directory (the simulator then runs there) instead of absolute."""
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg = mesh.cores[0]
    if len(mesh.cores) > 256:
        raise SimError("the mesh top supports at most 256 cores")
    if fifo_depth < 2 or fifo_depth & (fifo_depth - 1):
        raise SimError("fifo_depth must be a power of two >= 2")
    if mag_bits < 1:
        raise SimError("mag_bits must be >= 1")
    wd = mesh_widths(mesh)
    for i, c in enumerate(mesh.cores):
        write_memh(out / f"w{i:02x}.memh", pack_weights(c, par), par * c.weight_bits)
        write_memh(out / f"p{i:02x}.memh", pack_params(c), wd["PB"])
        if cfg.groups > 1:
            write_memh(out / f"g{i:02x}.memh", [int(g) for g in c.axon_group], 1)
    write_memh(out / "route.memh", pack_routes(mesh), 1 + wd["CB"] + wd["AB"])
    order = 0
    for k, c in enumerate(mesh.order):
        order |= c << (8 * k)
    nc = len(mesh.cores)
    nn, na = max_neurons(mesh), max_axons(mesh)
    core_n = core_a = 0
    for k, c in enumerate(mesh.cores):
        core_n |= c.n_neurons << (32 * k)
        core_a |= c.n_axons << (32 * k)

    def path(name: str) -> str:
        return f'"{name}"' if relative else _vstr(out / name)

    lines = [
        f"// generated by {header}: parameters of one snnc_mesh instance",
        f"localparam integer N_CORES = {nc};",
        f"localparam integer N_NEURONS = {nn};",
        f"localparam integer N_AXONS = {na};",
        f"localparam integer WEIGHT_BITS = {cfg.weight_bits};",
        f"localparam integer MEM_BITS = {cfg.mem_bits};",
        f"localparam integer ACC_BITS = {cfg.acc_bits};",
        f"localparam integer FIFO_DEPTH = {fifo_depth};",
        f"localparam integer FANOUT = {mesh.fanout};",
        f"localparam integer PAR = {par};",
        f"localparam integer MAG_BITS = {mag_bits};",
        f"localparam integer FRAC_BITS = {cfg.frac_bits};",
        f"localparam integer CUR = {cfg.cur_unit};",
        f"localparam integer GROUPS = {cfg.groups};",
        f"localparam integer RQ_SHIFT = {cfg.rq_shift};",
        f"localparam integer RQ_HALF = {cfg.rq_half};",
        f"localparam integer GB_DELAY = {cfg.gb_delay};",
        'localparam CORE_PREFIX = "";' if relative else f'localparam CORE_PREFIX = {_vstr(out)[:-1]}/";',
        f"localparam ROUTE_FILE = {path('route.memh')};",
        f"localparam [{8 * nc - 1}:0] ORDER = {8 * nc}'h{order:0{2 * nc}x};",
        f"localparam [{32 * nc - 1}:0] CORE_NEURONS = {32 * nc}'h{core_n:0{8 * nc}x};",
        f"localparam [{32 * nc - 1}:0] CORE_AXONS = {32 * nc}'h{core_a:0{8 * nc}x};",
        f"localparam IN_FILE = {path('in_spikes.txt')};",
        f"localparam OUT_FILE = {path('out_spikes.txt')};",
    ]
    (out / "snnc_params.vh").write_text("\n".join(lines) + "\n")
    return out


def write_inputs(path: Path, inputs) -> None:
    """inputs: per step a list of (core, axon[, sign[, magnitude]]) in delivery order."""
    parts = [str(len(inputs))]
    for step_events in inputs:
        parts.append(str(len(step_events)))
        for e in step_events:
            s = int(e[2]) if len(e) > 2 else 0
            m = int(e[3]) if len(e) > 3 else 1
            parts.append(f"{int(e[0])} {int(e[1])} {s} {m}")
    Path(path).write_text("\n".join(parts) + "\n")


@dataclass
class SimResult:
    spikes: np.ndarray  # [T, n_cores, n_neurons] int8 in {-1, 0, 1}
    cycles: np.ndarray  # [T] clock cycles per step (first input event to step_done)
    total_cycles: int
    log: str = ""


def parse_output(path: Path, n_steps: int, n_cores: int, n_neurons: int) -> SimResult:
    spikes = np.zeros((n_steps, n_cores, n_neurons), dtype=np.int8)
    cycles = np.full(n_steps, -1, dtype=np.int64)
    total = -1
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "S":
            cycles[int(f[1])] = int(f[2])
        elif f[0] == "END":
            total = int(f[1])
        else:
            t, c, n, s = map(int, f)
            if spikes[t, c, n] != 0:
                raise SimError(f"neuron ({c}, {n}) fired twice in step {t}")
            spikes[t, c, n] = -1 if s else 1
    if total < 0 or (cycles < 0).any():
        raise SimError(f"simulation did not finish all {n_steps} steps (see {path})")
    return SimResult(spikes, cycles, total)


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def _run(cmd, cwd, timeout):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise SimError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout + p.stderr


def build(work: Path, simulator: str, timeout: float = 600) -> list[str]:
    """Compile the testbench in work/ (which holds snnc_params.vh). Returns the run command."""
    srcs = [str(s) for s in HDL_SOURCES + [TB_SOURCE]]
    if simulator == "iverilog":
        if not have("iverilog"):
            raise SimError("iverilog is not installed")
        _run(
            ["iverilog", "-g2005", "-Wall", "-I", str(work), "-s", "snnc_tb", "-o", "snnc_tb.vvp", *srcs], work, timeout
        )
        return ["vvp", "-n", "snnc_tb.vvp"]
    if simulator == "verilator":
        if not have("verilator"):
            raise SimError("verilator is not installed")
        _run(
            [
                "verilator",
                "--binary",
                "--timing",
                "-j",
                "0",
                "-O1",
                "-Wno-fatal",
                "-Wno-lint",
                "-Wno-style",
                f"-I{work}",
                "--top-module",
                "snnc_tb",
                "-Mdir",
                "obj_dir",
                *srcs,
            ],
            work,
            timeout,
        )
        return [str(work / "obj_dir" / "Vsnnc_tb")]
    raise SimError(f"unknown simulator {simulator!r}")


def simulate(
    mesh,
    inputs,
    work_dir,
    simulator: str = "iverilog",
    fifo_depth: int = 16,
    par: int = 1,
    timeout: float = 600,
    mag_bits: int = 1,
) -> SimResult:
    """Simulate `mesh` (a MeshConfig, or a CoreConfig for one core) on `inputs`.

    For a CoreConfig, inputs[t] lists axon indices or (axon, sign[, magnitude]) tuples, sent in
    increasing axon order; for a MeshConfig, (core, axon[, sign[, magnitude]]) in delivery order.
    `par` is the cores' PAR (synapses per clock); `mag_bits` the width of a graded event's magnitude."""
    if isinstance(mesh, CoreConfig):
        inputs = [
            [(0, *e) for e in sorted(tuple(e) if isinstance(e, tuple | list) else (e, 0) for e in step)]
            for step in inputs
        ]
        mesh = MeshConfig([mesh])
    work = write_images(mesh, work_dir, fifo_depth, par, mag_bits)
    write_inputs(work / "in_spikes.txt", inputs)
    run_cmd = build(work, simulator, timeout)
    log = _run(run_cmd, work, timeout)
    res = parse_output(work / "out_spikes.txt", len(inputs), len(mesh.cores), max_neurons(mesh))
    res.log = log
    return res
