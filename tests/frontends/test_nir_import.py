"""NIR import, node by node: each NIR 1.0.8 node type against a numpy/torch reference of
the equations in docs/nir.md, plus sub-graphs, edge sums, recurrence and dt precedence."""

from __future__ import annotations

import nir
import numpy as np
import pytest

from snnc.frontends.nir import DEFAULT_DT, export_nir, import_nir
from snnc.interp import run

RNG = np.random.default_rng(3)
DT = 1e-3


def _graph(nodes: dict, edges: list, metadata: dict | None = None) -> nir.NIRGraph:
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata or {}, type_check=False)


def _chain(node, shape, out_shape=None) -> nir.NIRGraph:
    out_shape = shape if out_shape is None else out_shape
    return _graph(
        {"input": nir.Input(input_type=np.array(shape)), "n": node, "output": nir.Output(output_type=np.array(out_shape))},
        [("input", "n"), ("n", "output")],
    )


def _run(graph, x, *, scheme=None, dt=DT, dtype=np.float64):
    module = import_nir(graph, dt=dt, discretization=scheme)
    out = run(module, x, dtype=dtype).outputs
    again = run(import_nir(export_nir(module)), x, dtype=dtype).outputs  # and the export round trip
    for k in out:
        assert np.array_equal(out[k], again[k]), k
    return module, out


def _ops(module) -> list[str]:
    return [op.op_name for op in module.body.ops[0].body.ops]


# --------------------------------------------------------------------------- neurons


def _leaky_ref(x, tau, r, v_leak, dt, scheme, v0):
    v = np.array(v0, dtype=np.float64)
    k = dt / tau
    a = 1 - k if scheme == "euler" else np.exp(-k)
    ys = []
    for t in range(len(x)):
        if scheme == "euler":
            v = v + k * ((v_leak - v) + r * x[t])  # Norse's li_box_feed_forward_step
        else:
            v = a * v + (1 - a) * (v_leak + r * x[t])
        ys.append(v)
    return np.array(ys)


@pytest.mark.parametrize("scheme", ["euler", "exact"])
def test_lif(scheme: str) -> None:
    n = 5
    tau = RNG.uniform(5e-3, 2e-2, n).astype(np.float32)
    r = RNG.uniform(0.5, 2, n).astype(np.float32)
    v_leak = RNG.uniform(-0.1, 0.1, n).astype(np.float32)
    v_th = RNG.uniform(0.2, 0.4, n).astype(np.float32)
    v_reset = RNG.uniform(-0.1, 0, n).astype(np.float32)
    x = RNG.uniform(0, 3, (200, n))
    module, out = _run(_chain(nir.LIF(tau=tau, r=r, v_leak=v_leak, v_threshold=v_th, v_reset=v_reset), (n,)), x, scheme=scheme)
    assert _ops(module) == ["snn.input", "snn.lif", "snn.output"]
    # reference: integrate, fire on v > v_th, reset to v_reset; v starts at v_leak
    v = v_leak.astype(np.float64)
    k = DT / tau.astype(np.float64)
    a = 1 - k if scheme == "euler" else np.exp(-k)
    spikes = []
    for t in range(len(x)):
        v = v + k * ((v_leak - v) + r * x[t]) if scheme == "euler" else a * v + (1 - a) * (v_leak + r * x[t])
        s = v > v_th
        v = np.where(s, v_reset, v)
        spikes.append(s)
    ref = np.array(spikes)
    assert ref.sum() > 20
    assert np.array_equal(out["output"], ref)


@pytest.mark.parametrize("scheme", ["euler", "exact"])
def test_li(scheme: str) -> None:
    n = 4
    tau = RNG.uniform(5e-3, 2e-2, n)
    r = RNG.uniform(0.5, 2, n)
    v_leak = RNG.uniform(-1, 1, n)
    x = RNG.normal(size=(50, n))
    _, out = _run(_chain(nir.LI(tau=tau, r=r, v_leak=v_leak), (n,)), x, scheme=scheme)
    np.testing.assert_allclose(out["output"], _leaky_ref(x, tau, r, v_leak, DT, scheme, v_leak), rtol=1e-12, atol=1e-12)


def test_cuba_li_and_cuba_lif() -> None:
    n = 3
    tau_syn = np.array([2e-3, 4e-3, 8e-3])
    tau_mem = np.array([1e-2, 5e-3, 2e-2])
    r = np.array([1.0, 2.0, 0.5])
    v_leak = np.array([0.0, 0.1, -0.1])
    w_in = np.array([1.0, 3.0, 2.0])
    v_th = np.array([0.3, 0.5, 0.2])
    x = (RNG.random((300, n)) < 0.3).astype(np.float64) * 5
    # reference (Norse's CubaLIF: w_in*x into an LI box synapse, r*i into a LIF box; the synapse leaks to 0)
    i = np.zeros(n)
    v = v_leak.copy()
    vs, ss = [], []
    ks, km = DT / tau_syn, DT / tau_mem
    for t in range(len(x)):
        i = i + ks * ((0 - i) + w_in * x[t])
        v = v + km * ((r * i + v_leak) - v)
        vs.append(v.copy())
        s = v > v_th
        ss.append(s)
        v = np.where(s, 0.0, v)
    module, out = _run(_chain(nir.CubaLI(tau_syn=tau_syn, tau_mem=tau_mem, r=r, v_leak=v_leak, w_in=w_in), (n,)), x)
    assert _ops(module)[1] == "snn.cuba_li"
    # CubaLI has no reset: integrate the same membrane without one
    i = np.zeros(n)
    v = v_leak.copy()
    li = []
    for t in range(len(x)):
        i = i + ks * ((0 - i) + w_in * x[t])
        v = v + km * ((r * i + v_leak) - v)
        li.append(v.copy())
    np.testing.assert_allclose(out["output"], np.array(li), rtol=1e-12, atol=1e-12)
    node = nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=r, v_leak=v_leak, v_threshold=v_th, w_in=w_in)
    module, out = _run(_chain(node, (n,)), x)
    assert _ops(module)[1] == "snn.cuba_lif"
    assert np.array(ss).sum() > 10
    assert np.array_equal(out["output"], np.array(ss))


def test_i_and_if_integrate_without_dt() -> None:
    """I and IF: v[t] = v[t-1] + r*x[t] in both schemes (Norse's iaf_feed_forward_step, Sinabs)."""
    r = np.array([1.0, 0.5])
    x = RNG.uniform(0, 1, (40, 2))
    for scheme in ("euler", "exact"):
        _, out = _run(_chain(nir.I(r=r), (2,)), x, scheme=scheme)
        np.testing.assert_allclose(out["output"], np.cumsum(r * x, axis=0), rtol=1e-12)
        node = nir.IF(r=r, v_threshold=np.array([1.0, 1.0]), v_reset=np.array([0.0, -0.5]))
        _, out = _run(_chain(node, (2,)), x, scheme=scheme)
        v = np.zeros(2)
        ref = []
        for t in range(len(x)):
            v = v + r * x[t]
            s = v > 1.0
            v = np.where(s, np.array([0.0, -0.5]), v)
            ref.append(s)
        assert np.array_equal(out["output"], np.array(ref))


def test_threshold_scale_delay() -> None:
    x = RNG.normal(size=(30, 4))
    _, out = _run(_chain(nir.Threshold(threshold=np.array([0.0, 0.5, -0.5, 1.0])), (4,)), x)
    assert np.array_equal(out["output"], x > np.array([0.0, 0.5, -0.5, 1.0]))
    _, out = _run(_chain(nir.Scale(scale=np.array([1.0, -2.0, 0.5, 3.0])), (4,)), x)
    np.testing.assert_allclose(out["output"], x * np.array([1.0, -2.0, 0.5, 3.0]))
    module, out = _run(_chain(nir.Delay(delay=np.full(4, 3 * DT)), (4,)), x)
    assert _ops(module) == ["snn.input", "snn.delay", "snn.output"]
    assert module.body.ops[0].body.ops[1].attr("steps") == 3
    np.testing.assert_array_equal(out["output"][3:], x[:-3])
    np.testing.assert_array_equal(out["output"][:3], 0)


def test_affine_linear_flatten() -> None:
    w = RNG.normal(size=(3, 8))
    b = RNG.normal(size=3)
    x = RNG.normal(size=(10, 2, 4))
    g = _graph(
        {
            "input": nir.Input(input_type=np.array([2, 4])),
            "flat": nir.Flatten(input_type={"input": np.array([2, 4])}, start_dim=0, end_dim=-1),
            "aff": nir.Affine(weight=w, bias=b),
            "lin": nir.Linear(weight=w.T.copy()),
            "output": nir.Output(output_type=np.array([8])),
        },
        [("input", "flat"), ("flat", "aff"), ("aff", "lin"), ("lin", "output")],
    )
    module, out = _run(g, x)
    assert _ops(module) == ["snn.input", "nn.flatten", "nn.linear", "nn.linear", "snn.output"]
    np.testing.assert_allclose(out["output"], (x.reshape(10, 8) @ w.T + b) @ w, rtol=1e-12)


def test_conv_and_pools() -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    w2 = RNG.normal(size=(4, 2, 3, 3))
    b2 = RNG.normal(size=4)
    w1 = RNG.normal(size=(3, 4, 2))
    x = RNG.normal(size=(5, 2, 9, 9))
    g = _graph(
        {
            "input": nir.Input(input_type=np.array([2, 9, 9])),
            "c2": nir.Conv2d(input_shape=(9, 9), weight=w2, stride=2, padding=1, dilation=1, groups=1, bias=b2),
            "sum": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([1, 1]), padding=np.array([0, 0])),
            "avg": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([1, 1])),
            "flat": nir.Flatten(input_type={"input": np.array([4, 3, 3])}, start_dim=1, end_dim=2),
            "c1": nir.Conv1d(input_shape=9, weight=w1, stride=1, padding="same", dilation=1, groups=1, bias=np.zeros(3)),
            "output": nir.Output(output_type=np.array([3, 9])),
        },
        [("input", "c2"), ("c2", "sum"), ("sum", "avg"), ("avg", "flat"), ("flat", "c1"), ("c1", "output")],
    )
    module, out = _run(g, x)
    t = torch.from_numpy(x)
    y = F.conv2d(t, torch.from_numpy(w2), torch.from_numpy(b2), stride=2, padding=1)
    y = F.avg_pool2d(y, 2, stride=1) * 4
    y = F.avg_pool2d(y, 2, stride=2, padding=1, count_include_pad=True)
    y = y.reshape(5, 4, 9)
    y = F.conv1d(F.pad(y, (0, 1)), torch.from_numpy(w1))  # torch's "same" for k = 2: one zero at the end
    np.testing.assert_allclose(out["output"], y.numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- graph structure


def test_multiple_edges_are_summed_and_io_sorted_by_name() -> None:
    g = _graph(
        {
            "zeta": nir.Input(input_type=np.array([2])),
            "alpha": nir.Input(input_type=np.array([2])),
            "s1": nir.Scale(scale=np.array([2.0, 3.0])),
            "out_b": nir.Output(output_type=np.array([2])),
            "out_a": nir.Output(output_type=np.array([2])),
        },
        [("zeta", "s1"), ("alpha", "s1"), ("s1", "out_b"), ("zeta", "out_a"), ("s1", "out_a")],
    )
    module = import_nir(g)
    ins = {op.attr("name"): op.attr("index") for op in module.body.ops[0].body.ops if op.op_name == "snn.input"}
    outs = {op.attr("name"): op.attr("index") for op in module.body.ops[0].body.ops if op.op_name == "snn.output"}
    assert ins == {"alpha": 0, "zeta": 1} and outs == {"out_a": 0, "out_b": 1}
    a, z = RNG.normal(size=(6, 2)), RNG.normal(size=(6, 2))
    res = run(module, {"alpha": a, "zeta": z}, dtype=np.float64).outputs
    np.testing.assert_allclose(res["out_b"], (z + a) * [2.0, 3.0])
    np.testing.assert_allclose(res["out_a"], z + (z + a) * [2.0, 3.0])


def test_nested_subgraph_is_inlined() -> None:
    w = RNG.normal(size=(3, 3))
    sub = _graph(
        {
            "in": nir.Input(input_type=np.array([3])),
            "aff": nir.Affine(weight=w, bias=np.zeros(3)),
            "sc": nir.Scale(scale=np.full(3, 2.0)),
            "out": nir.Output(output_type=np.array([3])),
        },
        [("in", "aff"), ("aff", "sc"), ("sc", "out")],
    )
    g = _graph(
        {
            "input": nir.Input(input_type=np.array([3])),
            "sub": sub,
            "output": nir.Output(output_type=np.array([3])),
            "tap": nir.Output(output_type=np.array([3])),
        },
        # into the sub-graph (its Input), out of it (its Output), and from an inner node directly
        [("input", "sub"), ("sub", "output"), ("sub.aff", "tap")],
    )
    module = import_nir(g)
    names = {op.location.node for op in module.body.ops[0].body.ops if op.op_name.startswith("nn.")}
    assert names == {"sub.aff", "sub.sc"}
    x = RNG.normal(size=(4, 3))
    res = run(module, x, dtype=np.float64).outputs
    np.testing.assert_allclose(res["tap"], x @ w.T)
    np.testing.assert_allclose(res["output"], 2 * (x @ w.T))


def test_recurrent_edge_becomes_a_one_step_delay() -> None:
    w_rec = np.array([[0.0, 1.0], [1.0, 0.0]])
    g = _graph(
        {
            "input": nir.Input(input_type=np.array([2])),
            "lif": nir.IF(r=np.ones(2), v_threshold=np.full(2, 0.5)),
            "rec": nir.Linear(weight=w_rec),
            "output": nir.Output(output_type=np.array([2])),
        },
        [("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")],
    )
    module = import_nir(g)
    ops = module.body.ops[0].body.ops
    delay = next(op for op in ops if op.op_name == "snn.delay")
    assert delay.operands[0].defining_op().location.node == "rec"
    # one kick into neuron 0 ping-pongs between the two neurons, one step per hop
    x = np.zeros((6, 2))
    x[0, 0] = 1.0
    out = run(module, x, dtype=np.float64).outputs["output"]
    assert out.astype(int).tolist() == [[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]]
    assert export_nir(module).edges.count(("rec", "lif")) == 1


def test_dt_precedence() -> None:
    node = nir.LI(tau=np.array([1e-2]), r=np.array([1.0]), v_leak=np.array([0.0]))

    def alpha(module) -> float:
        return next(op for op in module.body.ops[0].body.ops if op.op_name == "snn.li").attr("alpha")

    plain = _chain(node, (1,))
    assert alpha(import_nir(plain)) == pytest.approx(1 - DEFAULT_DT / 1e-2)
    with_meta = _graph(plain.nodes, plain.edges, {"dt": 1e-3})
    assert alpha(import_nir(with_meta)) == pytest.approx(0.9)
    assert alpha(import_nir(with_meta, dt=5e-3)) == pytest.approx(0.5)  # the argument wins
    exact = import_nir(with_meta, discretization="exact")
    assert alpha(exact) == pytest.approx(np.exp(-0.1))
    assert export_nir(exact).metadata == {"dt": 1e-3, "discretization": "exact"}
    assert alpha(import_nir(export_nir(exact))) == alpha(exact)  # the scheme travels in the metadata
