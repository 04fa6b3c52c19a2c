"""neuro-core: random small integer graphs (binary and ternary spikes, saturating narrow accumulators, shift and
mul leaks, every reset mode, recurrent delayed branches, current compartments, max-pool relays) run on the chip
simulator equal the integer interpreter bit for bit; unmappable ops and models that do not fit are located
diagnostics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from snnc.ir import DiagnosticError, parse_module


def _dense(a: np.ndarray, elem: str) -> str:
    shape = "x".join(map(str, a.shape))
    return f"dense<{json.dumps(a.tolist())}> : tensor<{shape}x{elem}>"


def random_graph(seed: int) -> tuple[str, dict]:
    """A random integer graph: input -> 2..3 layers, options drawn per layer."""
    rng = np.random.default_rng(seed)
    ternary_in = bool(rng.integers(2))
    n0 = int(rng.integers(3, 9))
    ein = "si2" if ternary_in else "i1"
    lines = [f'%x = "snn.input"() {{index = 0 : i64, name = "x"}} : () -> tensor<{n0}x{ein}>']
    prev, n_prev, e_prev = "%x", n0, ein
    outs = []
    for k in range(int(rng.integers(2, 4))):
        n = int(rng.integers(2, 7))
        A = int(rng.integers(8, 12))  # narrow: saturates
        N = int(rng.integers(8, 12))
        w = rng.integers(-40, 41, size=(n, n_prev))
        lines.append(f'%a{k} = "spike.accumulate"({prev}) {{weight = {_dense(w, "i8")}}} : '
                     f'(tensor<{n_prev}x{e_prev}>) -> tensor<{n}xi{A}>')
        inp, win = f"%a{k}", A
        if rng.random() < 0.4:  # a delayed recurrent branch from this layer's own spikes, with a bias
            wr = rng.integers(-20, 21, size=(n, n))
            e_self = "si2" if k == 0 and rng.random() < 0.5 else "i1"
            lines.append(f'%r{k} = "spike.accumulate"(%s{k}) {{weight = {_dense(wr, "i8")}}} : '
                         f'(tensor<{n}x{e_self}>) -> tensor<{n}xi{A}>')
            lines.append(f'%c{k} = "nn.constant"() {{value = {_dense(rng.integers(-5, 6, size=n), f"i{A}")}}} : '
                         f'() -> tensor<{n}xi{A}>')
            lines.append(f'%rb{k} = "spike.add"(%r{k}, %c{k}) : (tensor<{n}xi{A}>, tensor<{n}xi{A}>) -> tensor<{n}xi{A}>')
            lines.append(f'%d{k} = "snn.delay"(%rb{k}) {{steps = 1 : i64}} : (tensor<{n}xi{A}>) -> tensor<{n}xi{A}>')
            lines.append(f'%q{k} = "spike.requant"(%a{k}) {{rounding = "{["floor", "half_up"][int(rng.integers(2))]}", '
                         f'shift = {int(rng.integers(0, 3))} : i64}} : (tensor<{n}xi{A}>) -> tensor<{n}xi{A}>')
            lines.append(f'%m{k} = "spike.add"(%d{k}, %q{k}) : (tensor<{n}xi{A}>, tensor<{n}xi{A}>) -> tensor<{n}xi{A + 1}>')
            inp, win = f"%m{k}", A + 1
        else:
            e_self = "si2" if rng.random() < 0.4 else "i1"
        leak = ['leak_mode = "none"', f'leak_mode = "shift", leak_shift = {int(rng.integers(0, 4))} : i64',
                f'leak_mode = "mul", decay = {int(rng.integers(100, 250))} : i64, frac_bits = 8 : i64'][int(rng.integers(3))]
        if rng.random() < 0.4:  # a current compartment
            Ni = int(rng.integers(6, 10))
            lines.append(f'%i{k} = "spike.li"({inp}) {{{leak}, membrane_bits = {Ni} : i64, bias = '
                         f'{int(rng.integers(-3, 4))} : i64}} : (tensor<{n}xi{win}>) -> tensor<{n}xi{Ni}>')
            inp, win = f"%i{k}", Ni
        reset = ["hard", "soft", "none"][int(rng.integers(3))]
        vth = rng.integers(5, 60, size=n)
        lines.append(f'%s{k} = "spike.lif"({inp}) {{{leak}, membrane_bits = {N} : i64, v_th = {_dense(vth, "i64")}, '
                     f'reset = "{reset}", v_reset = {int(rng.integers(-3, 3))} : i64, cmp = "{["ge", "gt"][int(rng.integers(2))]}", '
                     f'bias = {int(rng.integers(-2, 3))} : i64}} : (tensor<{n}xi{win}>) -> tensor<{n}x{e_self}>')
        outs.append((f"%s{k}", n, e_self))
        prev, n_prev, e_prev = f"%s{k}", n, e_self
    for i, (v, n, e) in enumerate(outs):
        lines.append(f'"snn.output"({v}) {{index = {i} : i64, name = "o{i}"}} : (tensor<{n}x{e}>) -> ()')
    body = "\n    ".join(lines)
    text = f'"builtin.module"() ({{\n  "snn.graph"() ({{\n    {body}\n  }}) {{sym_name = "main"}} : () -> ()\n}}) : () -> ()\n'
    T = 30
    x = (rng.integers(-1, 2, size=(T, n0)) if ternary_in else (rng.random((T, n0)) < 0.5)).astype(np.int8)
    return text, {"x": x}


@pytest.mark.parametrize("seed", range(12))
def test_random_graph_bit_exact(tmp_path, seed):
    from snnc.backends.neuro_core.check import compare_sim

    text, inputs = random_graph(seed)
    m = parse_module(text)
    r = compare_sim(m, inputs, tmp_path)
    assert r.first_mismatch is None, (r.first_mismatch, text)
    assert sum(int(np.count_nonzero(v)) for v in r.reference.values()) > 0


def test_random_graphs_cover_the_features():
    """The seeds above draw ternary spikes, current compartments, delayed branches and saturating sums."""
    texts = [random_graph(s)[0] for s in range(12)]
    assert any("xsi2>" in t.split("spike.lif")[-1] for t in texts)
    assert any("spike.li\"" in t for t in texts)
    assert any("snn.delay" in t for t in texts)


TERNARY_SAT = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<6xsi2>
    %a = "spike.accumulate"(%x) {weight = dense<[[60, 60, 60, -60, 60, 60], [1, -1, 1, -1, 1, -1], [-90, 90, -90, 90, -90, 90]]> : tensor<3x6xi8>} : (tensor<6xsi2>) -> tensor<3xi8>
    %s = "spike.lif"(%a) {leak_mode = "mul", decay = 170 : i64, frac_bits = 8 : i64, membrane_bits = 9 : i64,
                          v_th = dense<[40, 9, 30]> : tensor<3xi64>, reset = "soft", cmp = "gt", bias = -2 : i64} : (tensor<3xi8>) -> tensor<3xsi2>
    %b = "spike.accumulate"(%s) {weight = dense<[[100, -100, 50], [-7, 8, 9]]> : tensor<2x3xi8>} : (tensor<3xsi2>) -> tensor<2xi8>
    %t = "spike.lif"(%b) {leak_mode = "shift", leak_shift = 1 : i64, membrane_bits = 8 : i64, v_th = 20 : i64,
                          reset = "hard", v_reset = 0 : i64, cmp = "ge", bias = 0 : i64} : (tensor<2xi8>) -> tensor<2xsi2>
    "snn.output"(%t) {index = 0 : i64, name = "t"} : (tensor<2xsi2>) -> ()
    "snn.output"(%s) {index = 1 : i64, name = "s"} : (tensor<3xsi2>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def test_ternary_saturating_bit_exact(tmp_path):
    from snnc.backends.neuro_core.check import compare_sim

    m = parse_module(TERNARY_SAT)
    x = np.random.default_rng(3).integers(-1, 2, size=(40, 6)).astype(np.int8)
    r = compare_sim(m, {"x": x}, tmp_path)
    assert r.first_mismatch is None
    assert (r.reference["s"] == -1).any() and (r.reference["s"] == 1).any()
    assert (r.reference["t"] == -1).any()
    cfg = json.loads((tmp_path / "config.json").read_text())
    p = np.load(tmp_path / f"core{cfg['order'][0]}_params.npy")
    assert (p[9] == 1).all()  # the ternary row


def test_ternary_needs_a_ternary_target(tmp_path):
    from snnc.backends.neuro_core import emit
    from snnc.targets import load_target

    own = tmp_path / "binary.toml"
    own.write_text(load_target("neuro-core").path.read_text().replace("ternary = true", "ternary = false"))
    with pytest.raises(DiagnosticError, match=r"no ternary neurons") as e:
        emit(parse_module(TERNARY_SAT), str(own), tmp_path / "o")
    assert e.value.diagnostics[0].location is not None


def test_max_pool_relay_bit_exact(tmp_path):
    from snnc.backends.neuro_core.check import compare_sim

    m = parse_module("""
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x5x5xi1>
    %p = "spike.max_pool2d"(%x) {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x5x5xi1>) -> tensor<2x3x3xi1>
    %f = "nn.flatten"(%p) {start_dim = 0 : i64, end_dim = -1 : i64} : (tensor<2x3x3xi1>) -> tensor<18xi1>
    %a = "spike.accumulate"(%f) {weight = dense<3> : tensor<4x18xi8>} : (tensor<18xi1>) -> tensor<4xi16>
    %s = "spike.lif"(%a) {leak_mode = "none", membrane_bits = 16 : i64, v_th = 20 : i64, reset = "soft", cmp = "ge"} : (tensor<4xi16>) -> tensor<4xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<4xi1>) -> ()
    "snn.output"(%p) {index = 1 : i64, name = "p"} : (tensor<2x3x3xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
""")
    x = np.random.default_rng(0).random((20, 2, 5, 5)) < 0.15
    r = compare_sim(m, {"x": x}, tmp_path)
    assert r.first_mismatch is None
    assert r.reference["p"].any() and not r.reference["p"].all()


def test_unmappable_op_is_a_located_diagnostic(tmp_path):
    from snnc.backends.neuro_core import emit

    m = parse_module("""
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xi1>
    %y = "nn.linear"(%x) {weight = dense<1.0> : tensor<2x4xf32>} : (tensor<4xi1>) -> tensor<2xf32>
    %a = "spike.accumulate"(%x) {weight = dense<3> : tensor<2x4xi8>} : (tensor<4xi1>) -> tensor<2xi16>
    %s = "spike.lif"(%a) {leak_mode = "none", membrane_bits = 16 : i64, v_th = 2 : i64, reset = "soft", cmp = "ge"} : (tensor<2xi16>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
    "snn.output"(%y) {index = 1 : i64, name = "y"} : (tensor<2xf32>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
""")
    with pytest.raises(DiagnosticError, match=r"cannot run 'nn.linear': a float operation") as e:
        emit(m, "neuro-core", tmp_path / "o")
    assert e.value.diagnostics[0].location is not None
    m = parse_module("""
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<4xi1>
    %a = "spike.accumulate"(%x) {weight = dense<3> : tensor<2x4xi8>} : (tensor<4xi1>) -> tensor<2xi16>
    %s = "spike.lif"(%a) {leak_mode = "none", membrane_bits = 16 : i64, v_th = 2 : i64, reset = "soft", cmp = "ge"} : (tensor<2xi16>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
    "snn.output"(%a) {index = 1 : i64, name = "a"} : (tensor<2xi16>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
""")
    with pytest.raises(DiagnosticError, match=r"cannot produce graph output 'a' from 'spike.accumulate'") as e:
        emit(m, "neuro-core", tmp_path / "o")
    assert e.value.diagnostics[0].location is not None


def test_model_that_does_not_fit_names_layer_resource_excess(tmp_path):
    from snnc.backends.neuro_core import emit
    from snnc.targets import load_target

    text, _ = random_graph(0)
    desc = load_target("neuro-core").path.read_text()
    own = tmp_path / "tiny.toml"
    own.write_text(desc.replace("rows = 8 ", "rows = 1 ").replace("cols = 16", "cols = 1")
                   .replace("neurons = 1024", "neurons = 1"))
    with pytest.raises(DiagnosticError, match=r"needs \d+ cores, the target has 1 \(excess \d+\)") as e:
        emit(parse_module(text), str(own), tmp_path / "o")
    assert e.value.diagnostics[0].location is not None
    assert not (tmp_path / "o").exists()
    own.write_text(desc.replace("fan_in = 4096", "fan_in = 3"))
    with pytest.raises(DiagnosticError, match=r"layer 'spike.lif#0' does not fit: fan-in \d+ exceeds the core fan-in 3 "
                       r"by \d+") as e:
        emit(parse_module(text), str(own), tmp_path / "o")
    assert e.value.diagnostics[0].location is not None


MULTI = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<5xi1>
    %a = "spike.accumulate"(%x) {weight = dense<[[20, 30, -5, 9, 17], [60, 60, 60, 60, 60], [-3, 4, 5, 6, 7], [1, 2, 3, 4, 5]]> : tensor<4x5xi8>} : (tensor<5xi1>) -> tensor<4xi16>
    %n = "spike.lif"(%a) {leak_mode = "shift", leak_shift = 2 : i64, membrane_bits = 12 : i64, v_th = dense<[7, 11, 3, 5]> : tensor<4xi64>,
                          reset = "soft", spike_fn = "multi", max_spikes = 5 : i64} : (tensor<4xi16>) -> tensor<4xi8>
    %m = "spike.lif"(%a) {membrane_bits = 12 : i64, v_th = 9 : i64, reset = "hard", v_reset = 1 : i64, spike_fn = "multi"} : (tensor<4xi16>) -> tensor<4xi4>
    %w = "spike.lif"(%a) {membrane_bits = 12 : i64, v_th = 9 : i64, reset = "soft", spike_fn = "multi", v_min = dense<[-5, 0, -40, 3]> : tensor<4xi64>} : (tensor<4xi16>) -> tensor<4xi4>
    %b = "spike.accumulate_dense"(%n) {weight = dense<[[5, -7, 9, 1], [-20, 3, 4, 40]]> : tensor<2x4xi8>} : (tensor<4xi8>) -> tensor<2xi10>
    %s = "spike.lif"(%b) {leak_mode = "none", membrane_bits = 10 : i64, v_th = 30 : i64, reset = "soft", cmp = "gt"} : (tensor<2xi10>) -> tensor<2xi1>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2xi1>) -> ()
    "snn.output"(%n) {index = 1 : i64, name = "n"} : (tensor<4xi8>) -> ()
    "snn.output"(%m) {index = 2 : i64, name = "m"} : (tensor<4xi4>) -> ()
    "snn.output"(%w) {index = 3 : i64, name = "w"} : (tensor<4xi4>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def test_multi_spike_graded_counts_bit_exact(tmp_path):
    """Multi-spike neurons send their count as a graded payload (capped by max_spikes and the result width);
    v_min bounds the membrane from below after the reset."""
    from snnc.backends.neuro_core.check import compare_sim

    m = parse_module(MULTI)
    x = np.random.default_rng(2).random((30, 5)) < 0.6
    r = compare_sim(m, {"x": x}, tmp_path)
    assert r.first_mismatch is None
    assert r.reference["n"].max() == 5 and r.reference["m"].max() == 7  # both caps reached
    assert (r.reference["n"] > 1).any() and r.reference["s"].any()


ATTENTION = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<2x6x3xi1>
    %y = "snn.input"() {index = 1 : i64, name = "y"} : () -> tensor<2x1x3xi1>
    %q = "snn.input"() {index = 2 : i64, name = "q"} : () -> tensor<4xi8>
    %k = "spike.and"(%x, %y) : (tensor<2x6x3xi1>, tensor<2x1x3xi1>) -> tensor<2x6x3xi1>
    %n = "spike.popcount"(%k) {axes = array<i64: 1>, keepdim = true} : (tensor<2x6x3xi1>) -> tensor<2x1x3xi8>
    %r = "spike.requant"(%n) {rounding = "half_up", shift = -3 : i64} : (tensor<2x1x3xi8>) -> tensor<2x1x3xi16>
    %s = "spike.lif"(%r) {leak_mode = "shift", leak_shift = 1 : i64, membrane_bits = 12 : i64, v_th = 20 : i64, reset = "hard", v_reset = 0 : i64, cmp = "ge"} : (tensor<2x1x3xi16>) -> tensor<2x1x3xi1>
    %f = "nn.flatten"(%s) {start_dim = 0 : i64, end_dim = -1 : i64} : (tensor<2x1x3xi1>) -> tensor<6xi1>
    %a = "spike.accumulate"(%f) {weight = dense<[[100, -100, 50, 3, 3, 3], [1, 2, 3, 4, 5, 6], [-90, -90, -90, 90, 90, 90], [7, 7, 7, 7, 7, 7]]> : tensor<4x6xi8>} : (tensor<6xi1>) -> tensor<4xi9>
    %e = "spike.accumulate_dense"(%q) {weight = dense<[[3, -2, 1, 0], [0, 1, 1, 1], [-1, -1, 4, 2], [5, 0, 0, -5]]> : tensor<4x4xi8>} : (tensor<4xi8>) -> tensor<4xi9>
    %t = "spike.requant"(%e) {rounding = "floor", shift = 1 : i64} : (tensor<4xi9>) -> tensor<4xi9>
    %p = "spike.add"(%a, %t) : (tensor<4xi9>, tensor<4xi9>) -> tensor<4xi9>
    %c = "nn.constant"() {value = dense<[200, -200, 3, 0]> : tensor<4xi9>} : () -> tensor<4xi9>
    %u = "spike.add"(%p, %c) : (tensor<4xi9>, tensor<4xi9>) -> tensor<4xi9>
    %o = "spike.dequantize"(%u) {scale = 0.125 : f64} : (tensor<4xi9>) -> tensor<4xf64>
    %l = "spike.li"(%a) {leak_mode = "shift", leak_shift = 2 : i64, membrane_bits = 10 : i64, bias = 1 : i64} : (tensor<4xi9>) -> tensor<4xi10>
    %m = "spike.dequantize"(%l) {scale = dense<[1.0, 0.5, 0.25, 2.0]> : tensor<4xf64>} : (tensor<4xi10>) -> tensor<4xf64>
    "snn.output"(%o) {index = 0 : i64, name = "o"} : (tensor<4xf64>) -> ()
    "snn.output"(%m) {index = 1 : i64, name = "m"} : (tensor<4xf64>) -> ()
    "snn.output"(%s) {index = 2 : i64, name = "s"} : (tensor<2x1x3xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def test_attention_and_popcount_graded_outputs_bit_exact(tmp_path):
    """spike.and (broadcast) as AND neurons, popcount as a synapse sum, a left-shifted branch; real-valued outputs:
    a saturating 3-branch sum with a constant (graded relay neurons) and a spike.li membrane readout."""
    from snnc.backends.neuro_core.check import compare_sim

    m = parse_module(ATTENTION)
    rng = np.random.default_rng(4)
    inputs = {"x": rng.random((30, 2, 6, 3)) < 0.6, "y": rng.random((30, 2, 1, 3)) < 0.7,
              "q": rng.integers(-128, 128, size=(30, 4)).astype(np.int8)}
    r = compare_sim(m, inputs, tmp_path)
    assert r.first_mismatch is None
    o = r.reference["o"] * 8
    assert o.max() == 255 and o.min() == -256  # the i9 sums saturate (at the constant's addition)
    assert r.reference["s"].any() and np.abs(r.reference["m"]).max() > 0


RELAYS = """
"builtin.module"() ({
  "snn.graph"() ({
    %q = "snn.input"() {index = 0 : i64, name = "q"} : () -> tensor<2x3x4xi1>
    %k = "snn.input"() {index = 1 : i64, name = "k"} : () -> tensor<2x4x5xi1>
    %v = "snn.input"() {index = 2 : i64, name = "v"} : () -> tensor<2x5x3xi1>
    %x = "snn.input"() {index = 3 : i64, name = "x"} : () -> tensor<2x4x4xi1>
    %kv = "spike.matmul"(%k, %v) : (tensor<2x4x5xi1>, tensor<2x5x3xi1>) -> tensor<2x4x3xi8>
    %qkv = "spike.matmul"(%q, %kv) : (tensor<2x3x4xi1>, tensor<2x4x3xi8>) -> tensor<2x3x3xi16>
    %r = "spike.requant"(%qkv) {rounding = "half_up", shift = -2 : i64} : (tensor<2x3x3xi16>) -> tensor<2x3x3xi10>
    %s = "spike.lif"(%r) {leak_mode = "shift", leak_shift = 1 : i64, membrane_bits = 10 : i64, v_th = 30 : i64, reset = "hard", v_reset = 0 : i64, cmp = "ge"} : (tensor<2x3x3xi10>) -> tensor<2x3x3xi1>
    %kv2 = "spike.matmul"(%k, %v) : (tensor<2x4x5xi1>, tensor<2x5x3xi1>) -> tensor<2x4x3xi8>
    %c = "spike.accumulate_conv2d"(%x) {padding = array<i64: 1, 1>, weight = dense<[[[[7, -8, 7], [7, 7, 7], [7, 7, -1]], [[-1, 7, 7], [7, 7, 7], [0, -3, 7]]], [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[-9, -8, -7], [-6, -5, -4], [-3, -2, -1]]]]> : tensor<2x2x3x3xi8>} : (tensor<2x4x4xi1>) -> tensor<2x4x4xi12>
    %b = "nn.constant"() {value = dense<[[[30]], [[-30]]]> : tensor<2x1x1xi12>} : () -> tensor<2x1x1xi12>
    %bb = "spike.add"(%c, %b) : (tensor<2x4x4xi12>, tensor<2x1x1xi12>) -> tensor<2x4x4xi12>
    %m = "spike.requant"(%bb) {rounding = "floor", shift = 1 : i64} : (tensor<2x4x4xi12>) -> tensor<2x4x4xi6>
    %d = "spike.accumulate_conv2d"(%m) {groups = 2 : i64, weight = dense<[[[[1, -2, 3], [2, 2, 2], [-1, 0, 1]]], [[[3, 3, 3], [1, 1, 1], [-5, 4, 0]]]]> : tensor<2x1x3x3xi8>} : (tensor<2x4x4xi6>) -> tensor<2x2x2xi10>
    %e = "spike.accumulate_conv2d"(%x) {stride = array<i64: 2, 2>, weight = dense<[[[[20, 20], [20, 20]], [[-20, 5], [5, 5]]], [[[1, 1], [1, 1]], [[1, 1], [1, 1]]]]> : tensor<2x2x2x2xi8>} : (tensor<2x4x4xi1>) -> tensor<2x2x2xi10>
    %de = "spike.add"(%d, %e) : (tensor<2x2x2xi10>, tensor<2x2x2xi10>) -> tensor<2x2x2xi10>
    %rq = "spike.requant"(%de) {rounding = "half_up", shift = 2 : i64} : (tensor<2x2x2xi10>) -> tensor<2x2x2xi8>
    %f = "spike.accumulate_conv2d"(%rq) {weight = dense<[[[[2]], [[-3]]]]> : tensor<1x2x1x1xi8>} : (tensor<2x2x2xi8>) -> tensor<1x2x2xi12>
    %t = "spike.lif"(%f) {leak_mode = "none", membrane_bits = 12 : i64, v_th = 40 : i64, reset = "soft", cmp = "gt"} : (tensor<1x2x2xi12>) -> tensor<1x2x2xi1>
    %o = "spike.dequantize"(%kv2) {scale = 0.5 : f64} : (tensor<2x4x3xi8>) -> tensor<2x4x3xf64>
    "snn.output"(%s) {index = 0 : i64, name = "s"} : (tensor<2x3x3xi1>) -> ()
    "snn.output"(%t) {index = 1 : i64, name = "t"} : (tensor<1x2x2xi1>) -> ()
    "snn.output"(%o) {index = 2 : i64, name = "o", readout = "sum"} : (tensor<2x4x3xf64>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def test_matmul_and_relays_bit_exact(tmp_path):
    """Q (K^T V) and K^T V as AND neurons; a bias-then-requant materialized sum (saturating i6) and a requantized
    sum of two branches as graded relay neurons feeding further synapses; a summed real-valued output."""
    from snnc.backends.neuro_core.check import compare_sim
    from snnc.sim import run_config

    m = parse_module(RELAYS)
    rng = np.random.default_rng(7)
    shapes = {"q": (2, 3, 4), "k": (2, 4, 5), "v": (2, 5, 3), "x": (2, 4, 4)}
    inputs = {n: rng.random((25, *s)) < 0.5 for n, s in shapes.items()}
    r = compare_sim(m, inputs, tmp_path)
    assert r.first_mismatch is None
    assert r.reference["s"].any() and r.reference["t"].any()
    outs, _ = run_config(tmp_path, inputs)
    assert outs["o"].shape == (2, 4, 3) and np.array_equal(outs["o"], r.reference["o"].sum(axis=0).reshape(2, 4, 3))
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert any("input_requant" in c for c in cfg["cores"]) and any("group_bias_first" in c for c in cfg["cores"])


DELAYED_SPIKES = """
"builtin.module"() ({
  "snn.graph"() ({
    %x = "snn.input"() {index = 0 : i64, name = "x"} : () -> tensor<6xi1>
    %a = "spike.accumulate"(%x) {weight = dense<[[60, 60, 60, -60, 60, 60], [1, -1, 1, -1, 1, -1], [-90, 90, -90, 90, -90, 90]]> : tensor<3x6xi8>} : (tensor<6xi1>) -> tensor<3xi8>
    %s = "spike.lif"(%a) {leak_mode = "shift", leak_shift = 1 : i64, membrane_bits = 9 : i64, v_th = 30 : i64, reset = "soft", cmp = "gt"} : (tensor<3xi8>) -> tensor<3xi1>
    %ds = "snn.delay"(%s) {steps = 2 : i64} : (tensor<3xi1>) -> tensor<3xi1>
    %dx = "snn.delay"(%x) {steps = 3 : i64} : (tensor<6xi1>) -> tensor<6xi1>
    %b = "spike.accumulate"(%ds) {weight = dense<[[100, -100, 50], [-7, 8, 9]]> : tensor<2x3xi8>} : (tensor<3xi1>) -> tensor<2xi8>
    %c = "spike.accumulate"(%dx) {weight = dense<[[100, 100, 50, 1, 1, 1], [-7, 8, 9, 1, 2, 3]]> : tensor<2x6xi8>} : (tensor<6xi1>) -> tensor<2xi8>
    %bc = "spike.add"(%b, %c) : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
    %t = "spike.lif"(%bc) {leak_mode = "none", membrane_bits = 8 : i64, v_th = 20 : i64, reset = "hard", v_reset = 0 : i64, cmp = "ge"} : (tensor<2xi8>) -> tensor<2xi1>
    "snn.output"(%t) {index = 0 : i64, name = "t"} : (tensor<2xi1>) -> ()
  }) {sym_name = "main"} : () -> ()
}) : () -> ()
"""


def test_delayed_spikes_are_delayed_branches(tmp_path):
    """Synapses on delayed spikes (snn.delay of spikes, 2 and 3 steps) are delayed branches; saturating i8 sums."""
    from snnc.backends.neuro_core.check import compare_sim

    m = parse_module(DELAYED_SPIKES)
    x = np.random.default_rng(9).random((40, 6)) < 0.5
    r = compare_sim(m, {"x": x}, tmp_path)
    assert r.first_mismatch is None
    assert r.reference["t"].any()
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert any({g["delay"] for g in c.get("groups", [])} == {2, 3} for c in cfg["cores"])
