"""The reference RTL is lint-clean (Verilator -Wall) and synthesizes with Yosys; the report is parsed."""

from __future__ import annotations

import subprocess

import pytest

from snnc.backends.rtl.sim import HDL_SOURCES, have
from snnc.backends.rtl.synth import have_yosys, synthesize

LINT_CASES = [
    dict(N_NEURONS=16, N_AXONS=16, WEIGHT_BITS=4, MEM_BITS=12, ACC_BITS=16),
    dict(N_NEURONS=1, N_AXONS=1, WEIGHT_BITS=1, MEM_BITS=2, ACC_BITS=2, FIFO_DEPTH=2),
    dict(N_NEURONS=100, N_AXONS=300, WEIGHT_BITS=8, MEM_BITS=16, ACC_BITS=20, FIFO_DEPTH=64, PAR=4),
    dict(N_NEURONS=16, N_AXONS=16, WEIGHT_BITS=4, MEM_BITS=12, ACC_BITS=16, PAR=16),
    dict(N_NEURONS=16, N_AXONS=16, WEIGHT_BITS=8, MEM_BITS=16, ACC_BITS=32, MAG_BITS=8, FRAC_BITS=12, PAR=2),
    dict(N_NEURONS=4, N_AXONS=4, WEIGHT_BITS=4, MEM_BITS=8, ACC_BITS=8, MAG_BITS=8, FRAC_BITS=1),
    dict(N_NEURONS=8, N_AXONS=12, WEIGHT_BITS=8, MEM_BITS=16, ACC_BITS=32, MAG_BITS=8, FRAC_BITS=12, CUR=1,
         GROUPS=2, RQ_SHIFT=6, RQ_HALF=1, GB_DELAY=1),
    dict(N_NEURONS=8, N_AXONS=8, WEIGHT_BITS=4, MEM_BITS=8, ACC_BITS=12, CUR=1, PAR=4),
]


@pytest.mark.skipif(not have("verilator"), reason="verilator not installed (scripts/install-system-deps.sh)")
@pytest.mark.parametrize("top", ["snnc_lif_core", "snnc_mesh"])
@pytest.mark.parametrize("params", LINT_CASES, ids=["16x16", "1x1", "100x300-par4", "16x16-par16", "graded-mul", "narrow-acc-graded",
                                                  "cuba-groups", "cuba-par4"])
def test_verilator_lint_wall_clean(top, params):
    gs = [f"-G{k}={v}" for k, v in params.items()]
    if top == "snnc_mesh":
        gs.append("-GN_CORES=3")
        if params.get("PAR", 1) <= 2 and params["N_NEURONS"] >= 4:  # core 1 smaller: its own neurons and axons
            gs += ["-GCORE_NEURONS=96'h0000000000000002_00000000", "-GCORE_AXONS=96'h0000000000000003_00000000"]
    p = subprocess.run(
        ["verilator", "--lint-only", "-Wall", "--top-module", top, *gs, *map(str, HDL_SOURCES)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0 and "%Warning" not in p.stderr, p.stderr


@pytest.mark.skipif(not have("iverilog"), reason="iverilog not installed (scripts/install-system-deps.sh)")
def test_iverilog_wall_clean(tmp_path):
    p = subprocess.run(
        ["iverilog", "-g2005", "-Wall", "-s", "snnc_mesh", "-o", str(tmp_path / "a.vvp"), *map(str, HDL_SOURCES)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0 and "warning" not in (p.stdout + p.stderr).lower(), p.stdout + p.stderr


needs_yosys = pytest.mark.skipif(not have_yosys(), reason="yosys not installed (scripts/install-system-deps.sh)")


@needs_yosys
def test_yosys_core_memories_kept():
    n, a, W, N, A, F = 16, 32, 4, 12, 16, 16
    r = synthesize(n, a, W, N, A, F, flow="keep-memories")
    pb = 3 * N + 4 + 4  # v_th, v_reset, bias, leak_shift (clog2 12 = 4), reset mode, cmp, ternary
    # weights, neuron parameters, membranes, accumulators, input FIFO {sign, axon}
    assert r.memories == 5
    assert r.memory_bits == a * n * W + n * pb + n * N + n * A + F * (5 + 1)
    assert 0 < r.flip_flops < 200 and r.logic_cells > 0
    print(r.summary())


@needs_yosys
def test_yosys_core_generic_synth():
    r = synthesize(8, 8, 4, 8, 10, 4, flow="generic")
    assert r.memories == 0 and r.memory_bits == 0
    # every memory bit became a flip-flop
    assert r.flip_flops >= 8 * 8 * 4 + 8 * (3 * 8 + 3 + 4) + 8 * 8 + 8 * 10 + 4 * 4
    print(r.summary())


@needs_yosys
@pytest.mark.slow
def test_yosys_core_xilinx_block_ram():
    r = synthesize(64, 64, 4, 12, 16, 16, flow="xilinx")
    # the 16 kbit weight memory lands in block RAM, the datapath in a few hundred LUTs
    assert r.bram36 >= 0.5 and 0 < r.luts < 2000 and 0 < r.flip_flops < 300
    print(r.summary())


@needs_yosys
def test_yosys_accepts_mesh_with_images(tmp_path):
    """The mesh (per-core image names built by string concatenation, routing ROM) elaborates and synthesizes."""
    import numpy as np

    from snnc.backends.rtl.refmodel import CoreConfig, MeshConfig
    from snnc.backends.rtl.sim import write_images

    rng = np.random.default_rng(0)
    cores = [CoreConfig(weights=rng.integers(-8, 8, (8, 8)), v_th=5) for _ in range(2)]
    d = write_images(MeshConfig(cores, {(0, i): [(1, i)] for i in range(8)}), tmp_path / "img")
    script = tmp_path / "s.ys"
    script.write_text(
        f"read_verilog {' '.join(map(str, HDL_SOURCES))}\n"
        f'chparam -set CORE_PREFIX "{d}/" -set ROUTE_FILE "{d}/route.memh" snnc_mesh\n'
        "hierarchy -check -top snnc_mesh -chparam N_CORES 2 -chparam N_NEURONS 8 -chparam N_AXONS 8\n"
        "synth -top snnc_mesh -run begin:fine\nstat\n"
    )
    p = subprocess.run(["yosys", "-q", "-l", str(tmp_path / "log"), "-s", str(script)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    log = (tmp_path / "log").read_text()
    assert log.count("snnc_lif_core ===") == 2 and "=== snnc_mesh ===" in log


@pytest.mark.skipif(not have("verilator"), reason="verilator not installed (scripts/install-system-deps.sh)")
def test_verilator_lint_testbench(tmp_path):
    import numpy as np

    from snnc.backends.rtl.refmodel import CoreConfig, MeshConfig
    from snnc.backends.rtl.sim import TB_SOURCE, write_images

    cores = [CoreConfig(weights=np.ones((4, 4), int), v_th=1) for _ in range(2)]
    d = write_images(MeshConfig(cores, {(0, 0): [(1, 0)]}), tmp_path, par=2)
    p = subprocess.run(
        ["verilator", "--lint-only", "-Wall", "--timing", f"-I{d}", "--top-module", "snnc_tb"]
        + [str(x) for x in [*HDL_SOURCES, TB_SOURCE]],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0 and "%Warning" not in p.stderr, p.stderr
