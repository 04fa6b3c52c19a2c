"""PyTorch frontend: the imported graph's interpreter output equals the model's own forward.

float64: identical spikes (and float outputs equal to ~1e-12, summation order aside);
float32: the measured agreement is asserted (spikes equal for these seeds).
Reference runs use the library's own modules (SpikingJelly, snnTorch, Norse, Sinabs), never the
swapped ones.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed")
pytest.importorskip("torch_mlir", reason="torch-mlir not installed")

from torch import nn  # noqa: E402

import snnc.nn as snnc_nn  # noqa: E402
from snnc.dialects.snn import find_graph  # noqa: E402
from snnc.frontends.torch import import_torch  # noqa: E402
from snnc.interp import run  # noqa: E402
from snnc.ir import DenseResourceAttr, parse_module, print_module, verify  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _examples():
    spec = importlib.util.spec_from_file_location("snnc_example_spiking_models", ROOT / "examples/torch/spiking_models.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _rand(*shape: int, seed: int, scale: float, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def _run(module, x: torch.Tensor, dtype=np.float64) -> np.ndarray:
    g = find_graph(module)
    name = str(g.inputs()[0].attr("name"))
    return run(module, {name: x.numpy()}, batched=True, dtype=dtype).outputs["output"]


def _lif_rates(module, x: torch.Tensor) -> list[float]:
    """Firing rate of every neuron layer of the imported graph (tests must exercise spikes)."""
    from snnc.ir import value_names

    g = find_graph(module)
    name = str(g.inputs()[0].attr("name"))
    r = run(module, {name: x.numpy()}, batched=True, probe=True)
    names = value_names(module)
    return [
        float(np.mean(r.probes[names[op.results[0]]] != 0))
        for op in module.walk()
        if op.op_name in ("snn.lif", "snn.if", "snn.cuba_lif")
    ]


def _assert_same(ours: np.ndarray, ref: np.ndarray, *, atol: float = 0.0) -> None:
    assert ours.shape == ref.shape
    ours = ours.astype(np.float64)
    if atol == 0.0:
        np.testing.assert_array_equal(ours, ref)
    else:
        np.testing.assert_allclose(ours, ref, rtol=0, atol=atol)


def _sj_reset(model: nn.Module) -> None:
    from spikingjelly.activation_based import functional

    functional.reset_net(model)


# --------------------------------------------------------------------------- snnc.nn


class SnncCNN(nn.Module):
    """conv -> BN -> LIF -> avg pool -> linear -> CubaLIF / IF / ternary, multi-step [T, B, ...]."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.lif = snnc_nn.LIF(alpha=0.6, beta=1.0, v_th=1.0, reset="soft", step_mode="m")
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 6)
        self.cuba = snnc_nn.CubaLIF(alpha_syn=0.7, alpha=0.8, v_th=0.25, step_mode="m")
        self.if_ = snnc_nn.IF(v_th=0.3, step_mode="m")
        self.ternary = snnc_nn.TernaryLIF(alpha=0.9, v_th=0.4, step_mode="m")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        T, B = x.shape[:2]
        y = self.bn(self.conv(x.flatten(0, 1)))
        s = self.lif(y.view(T, B, 4, 8, 8))
        z = self.fc(self.pool(s.flatten(0, 1)).flatten(1)).view(T, B, 6)
        return self.cuba(z), self.if_(z), self.ternary(z - 0.2)


@pytest.fixture(scope="module")
def snnc_cnn():
    torch.manual_seed(0)
    m = SnncCNN()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-0.5, 0.5)
        m.bn.running_var.uniform_(0.5, 2.0)
        m.fc.weight.mul_(4)
    m = m.double().eval()
    return m, import_torch(m, torch.zeros(1, 1, 2, 8, 8, dtype=torch.float64), time_layout="TB")


def test_snnc_nn_cnn_float64_identical(snnc_cnn):
    m, module = snnc_cnn
    x = _rand(6, 3, 2, 8, 8, seed=1, scale=3.0)
    snnc_nn.reset_net(m)
    with torch.no_grad():
        refs = [r.numpy() for r in m(x)]
    g = find_graph(module)
    outs = run(module, {"x": x.numpy()}, batched=True).outputs
    assert [o.attr("name") for o in g.outputs()] == ["output0", "output1", "output2"]
    for i, ref in enumerate(refs):
        _assert_same(outs[f"output{i}"], ref)
        assert 0.05 < float(np.mean(ref != 0)) < 0.95, "the test must exercise spikes"
    assert outs["output2"].dtype == np.int8 and set(np.unique(outs["output2"])) <= {-1, 0, 1}
    assert min(_lif_rates(module, x)) > 0.02


def test_snnc_nn_cnn_ops_and_weights(snnc_cnn):
    m, module = snnc_cnn
    names = [op.op_name for op in find_graph(module).body.ops]
    assert names.count("nn.conv2d") == 1 and "nn.batch_norm" in names and "nn.avg_pool2d" in names
    assert {"snn.lif", "snn.cuba_lif", "snn.if"} <= set(names)
    # weights bound by state-dict name, holding the model's values
    fc = next(op for op in module.walk() if op.op_name == "nn.linear")
    w = fc.get_attr("weight")
    assert isinstance(w, DenseResourceAttr) and w.handle == "fc.weight"
    np.testing.assert_array_equal(w.data, m.fc.weight.detach().numpy())
    # the printed module reads back to the same graph
    again = parse_module(print_module(module))
    verify(again)
    x = _rand(3, 2, 2, 8, 8, seed=4, scale=3.0)
    a = run(again, {"x": x.numpy()}, batched=True).outputs
    b = run(module, {"x": x.numpy()}, batched=True).outputs
    for k in b:
        np.testing.assert_array_equal(a[k], b[k])


def test_callers_model_is_not_modified():
    from spikingjelly.activation_based import neuron

    m = nn.Sequential(nn.Linear(4, 3), neuron.LIFNode(step_mode="m")).eval()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    import_torch(m, torch.rand(1, 1, 4), time_layout="TB")
    assert isinstance(m[1], neuron.LIFNode)
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k])


# --------------------------------------------------------------------------- SpikingJelly


@pytest.fixture(scope="module")
def examples():
    pytest.importorskip("spikingjelly", reason="spikingjelly not installed")
    return _examples()


@pytest.mark.parametrize("example_tb", [(1, 1), (3, 2)], ids=["T1B1", "T3B2"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_spikingjelly_conv_bn_lif(examples, dtype, example_tb):
    m = examples.conv_bn_lif().to(dtype)
    module = import_torch(m, torch.zeros(*example_tb, 2, 8, 8, dtype=dtype), time_layout="TB")
    x = _rand(6, 3, 2, 8, 8, seed=2, scale=4.0, dtype=dtype)
    _sj_reset(m)
    with torch.no_grad():
        ref = m(x).double().numpy()
    ours = _run(module, x, dtype=np.float64 if dtype == torch.float64 else np.float32)
    _assert_same(ours, ref)  # float32: spikes equal too for this seed (measured)
    assert 0.05 < float(np.mean(ref)) < 0.95


def test_spikingjelly_single_step_loop():
    neuron = pytest.importorskip("spikingjelly.activation_based.neuron", reason="spikingjelly not installed")
    torch.manual_seed(3)
    m = nn.Sequential(
        nn.Linear(8, 6), neuron.LIFNode(tau=3.0, v_reset=None), nn.Linear(6, 4), neuron.IFNode(v_threshold=0.5)
    ).double().eval()
    module = import_torch(m, torch.zeros(1, 8, dtype=torch.float64), time_layout="step")
    x = _rand(7, 3, 8, seed=3, scale=4.0)
    _sj_reset(m)
    with torch.no_grad():
        ref = torch.stack([m(xt) for xt in x]).numpy()
    _assert_same(_run(module, x), ref)
    assert 0.05 < float(np.mean(ref)) < 0.95


def test_spike_driven_transformer_v1_block(examples):
    m = examples.sdt_v1_block().double()
    module = import_torch(m, torch.zeros(1, 1, 8, 4, 4, dtype=torch.float64), time_layout="TB")
    x = _rand(4, 2, 8, 4, 4, seed=5, scale=3.0)
    _sj_reset(m)
    with torch.no_grad():
        ref = m(x).numpy()
    # the output is a membrane (float): equal up to summation order
    _assert_same(_run(module, x), ref, atol=1e-12)
    rates = _lif_rates(module, x)
    assert len(rates) == 7 and min(rates) > 0.02
    names = [op.op_name for op in find_graph(module).body.ops]
    assert "nn.sum" in names and names.count("nn.mul") == 2  # K AND V, Q AND mask


def test_meta_spikeformer_tiny(examples):
    m = examples.meta_spikeformer_tiny().double()
    module = import_torch(m, torch.zeros(1, 1, 3, 16, 16, dtype=torch.float64), time_layout="TB")
    x = _rand(4, 2, 3, 16, 16, seed=6, scale=4.0)
    _sj_reset(m)
    with torch.no_grad():
        ref = m(x).numpy()
    g = find_graph(module)
    assert g.outputs()[0].attr("readout") == "mean"
    ours = _run(module, x)
    assert ours.shape == ref.shape == (2, 5)
    _assert_same(ours, ref, atol=1e-12)
    rates = _lif_rates(module, x)
    assert len(rates) == 25 and np.mean(rates) > 0.1
    names = [op.op_name for op in g.body.ops]
    assert names.count("nn.matmul") == 4  # K^T V and Q (K^T V) in 2 blocks


# --------------------------------------------------------------------------- snnTorch, Norse, Sinabs


class SnnTorchNet(nn.Module):
    def __init__(self, reset: str) -> None:
        super().__init__()
        import snntorch

        self.fc1 = nn.Linear(10, 12)
        self.lif1 = snntorch.Leaky(beta=0.9, threshold=1.0, init_hidden=True, reset_mechanism=reset)
        self.fc2 = nn.Linear(12, 5)
        self.lif2 = snntorch.Leaky(beta=0.8, threshold=0.5, init_hidden=True, reset_mechanism=reset)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lif2(self.fc2(self.lif1(self.fc1(x)).to(x.dtype)))


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_snntorch_leaky_single_step(reset):
    pytest.importorskip("snntorch", reason="snntorch not installed")
    from snntorch import utils

    torch.manual_seed(4)
    m = SnnTorchNet(reset).double().eval()
    module = import_torch(m, torch.zeros(1, 10, dtype=torch.float64), time_layout="step")
    x = _rand(8, 3, 10, seed=7, scale=6.0)
    utils.reset(m)
    with torch.no_grad():
        ref = torch.stack([m(xt) for xt in x]).numpy()
    _assert_same(_run(module, x), ref)
    assert 0.05 < float(np.mean(ref)) < 0.95
    if reset == "subtract":  # snnTorch subtracts the threshold one step late: a delay in the graph
        assert "snn.delay" in [op.op_name for op in module.walk()]


class NorseNet(nn.Module):
    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 6)
        self.cell = cell

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z, _ = self.cell(self.fc(x))
        return z


@pytest.mark.parametrize("kind", ["LIFBoxCell", "LIFCell"])
def test_norse_cells(kind):
    norse = pytest.importorskip("norse.torch", reason="norse not installed")
    torch.manual_seed(5)
    m = NorseNet(getattr(norse, kind)()).double().eval()
    module = import_torch(m, torch.zeros(1, 10, dtype=torch.float64), time_layout="step")
    x = _rand(10, 3, 10, seed=8, scale=80.0)
    state, ref = None, []
    with torch.no_grad():
        for xt in x:  # the Norse idiom: the state is threaded through the calls
            z, state = m.cell(m.fc(xt), state)
            ref.append(z)
    ref_np = torch.stack(ref).numpy()
    _assert_same(_run(module, x), ref_np)
    assert 0.05 < float(np.mean(ref_np)) < 0.95


def test_sinabs_iaf_batch_time_layout():
    sinabs = pytest.importorskip("sinabs", reason="sinabs not installed")
    import sinabs.layers as sl

    torch.manual_seed(6)
    m = nn.Sequential(nn.Linear(10, 6), sl.IAF(spike_fn=sinabs.activation.SingleSpike)).double().eval()
    module = import_torch(m, torch.zeros(1, 1, 10, dtype=torch.float64), time_layout="BT")
    x = _rand(8, 3, 10, seed=9, scale=2.0)  # [T, B, ...] for the interpreter
    with torch.no_grad():
        ref = m(x.transpose(0, 1).contiguous()).transpose(0, 1).numpy()  # Sinabs: [B, T, ...]
    _assert_same(_run(module, x), ref)
    assert 0.05 < float(np.mean(ref)) < 0.95


# --------------------------------------------------------------------------- readouts


class Readout(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.fc = nn.Linear(4, 3)
        self.lif = snnc_nn.LIF(alpha=0.5, v_th=0.6, step_mode="m")
        self.head = nn.Linear(3, 2, bias=how != "sum")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.lif(self.fc(x))
        if self.how == "mean":
            return self.head(s).mean(0)
        if self.how == "sum":
            return self.head(s.sum(0))
        return self.head(s)[-1]


@pytest.mark.parametrize("how", ["mean", "sum", "last"])
def test_readout_from_the_model(how):
    torch.manual_seed(7)
    m = Readout(how).double().eval()
    module = import_torch(m, torch.zeros(1, 1, 4, dtype=torch.float64), time_layout="TB")
    assert find_graph(module).outputs()[0].attr("readout") == how
    x = _rand(5, 3, 4, seed=10, scale=3.0)
    with torch.no_grad():
        ref = m(x).numpy()
    _assert_same(_run(module, x), ref, atol=1e-12)


def test_readout_option_on_per_step_outputs():
    m = nn.Sequential(nn.Linear(4, 3), snnc_nn.LIF(alpha=0.5, v_th=0.6, step_mode="m")).double().eval()
    module = import_torch(m, torch.zeros(1, 1, 4, dtype=torch.float64), time_layout="TB", readout="sum")
    x = _rand(5, 2, 4, seed=11, scale=3.0)
    with torch.no_grad():
        ref = m(x).sum(0).numpy()
    _assert_same(_run(module, x), ref)


# --------------------------------------------------------------------------- timing


def test_import_time_of_a_10m_parameter_model():
    """Weights never pass through text: a ~10M-parameter model imports in seconds."""


    m = nn.Sequential(
        nn.Linear(1024, 2048), snnc_nn.LIF(alpha=0.5, step_mode="s"), nn.Linear(2048, 2560), snnc_nn.LIF(alpha=0.5, step_mode="s"),
        nn.Linear(2560, 1024), snnc_nn.LIF(alpha=0.5, step_mode="s"),
    ).eval()
    n = sum(p.numel() for p in m.parameters())
    assert 9_000_000 < n < 11_000_000
    module = import_torch(m, torch.zeros(1, 1024))  # its time: benchmarks/bench_text.py
    w = next(op for op in module.walk() if op.op_name == "nn.linear").get_attr("weight")
    assert isinstance(w, DenseResourceAttr)
    assert np.shares_memory(w.data, m[0].weight.detach().numpy()) is False  # the caller's tensors are not aliased


# --------------------------------------------------------------------------- aten coverage


class OpZoo(nn.Module):
    """Most converted aten ops in one float model (single step, [B, ...])."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(6, 6, 3, padding=2, dilation=2, groups=3, bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.c1d = nn.Conv1d(6, 4, 3, padding="same")
        self.fc = nn.Linear(16, 5)
        self.w = nn.Parameter(torch.randn(5, 7))
        self.b = nn.Parameter(torch.randn(7))
        self.register_buffer("scale", torch.rand(7) + 0.5)
        self.register_buffer("offset", torch.rand(7), persistent=False)  # torch-mlir's frozen import fails on these
        self.drop = nn.Dropout(0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        y = F.relu(self.bn(self.c2(self.c1(x))))
        a = F.max_pool2d(y, 3, 2, 1)
        p = F.avg_pool2d(y, 2)
        g = F.adaptive_avg_pool2d(y, 1)
        z = self.drop((a - p) * 0.5 + g / 4.0)
        s = self.c1d(z.flatten(2)).permute(0, 2, 1).transpose(1, 2)
        h = self.fc(s)
        h2 = torch.addmm(self.b, h.mean(1), self.w)
        u = torch.cat([h @ self.w, h2.unsqueeze(1)], dim=1)
        u = u * self.scale - self.offset + torch.tensor(0.25)
        return u.mean(dim=1, keepdim=True) + u.sum(-1, keepdim=True).squeeze(-1).unsqueeze(-1)


def test_aten_op_coverage_float64():
    torch.manual_seed(8)
    m = OpZoo().double().eval()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-0.5, 0.5)
        m.bn.running_var.uniform_(0.5, 2.0)
    module = import_torch(m, torch.zeros(1, 3, 16, 16, dtype=torch.float64))
    x = _rand(3, 3, 16, 16, seed=12, scale=1.0)
    with torch.no_grad():
        ref = m(x).numpy()
    ours = run(module, {"x": x[None].numpy()}, batched=True).outputs["output"][0]  # one step, batch 3
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    ops = {op.op_name for op in find_graph(module).body.ops}
    expected = {"nn.conv1d", "nn.conv2d", "nn.batch_norm", "nn.relu", "nn.max_pool2d", "nn.avg_pool2d", "nn.mean",
                "nn.sum", "nn.linear", "nn.concat", "nn.transpose", "nn.scale", "nn.sub", "nn.mul", "nn.add"}
    assert expected <= ops


class SnncAttention(nn.Module):
    """Q, K, V = LIF(Linear(x)) on tokens [T, B, N, C], then snnc.nn's SDSAv1 or MetaSDSA."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.q, self.k, self.v = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)
        self.lifs = nn.ModuleList(snnc_nn.LIF(alpha=0.5, v_th=0.2, step_mode="m") for _ in range(3))
        self.attn = snnc_nn.SDSAv1(num_heads=2) if kind == "v1" else snnc_nn.MetaSDSA(num_heads=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = (lif(fc(x)) for lif, fc in zip(self.lifs, (self.q, self.k, self.v), strict=True))
        return self.attn(q, k, v)


@pytest.mark.parametrize("kind", ["v1", "meta"])
def test_snnc_nn_attention_blocks(kind):
    torch.manual_seed(9)
    m = SnncAttention(kind).double().eval()
    module = import_torch(m, torch.zeros(1, 1, 6, 8, dtype=torch.float64), time_layout="TB")
    x = _rand(5, 2, 6, 8, seed=13, scale=6.0)
    snnc_nn.reset_net(m)
    with torch.no_grad():
        ref = m(x).numpy()
    _assert_same(_run(module, x), ref)
    assert 0.02 < float(np.mean(ref)) < 0.98


def test_the_same_tensor_as_several_inputs_stays_several_inputs():
    """torch.export merges repeated example tensors into one graph input; import_torch copies repeats, so a model
    called as (z, z) still gets two inputs and runs on different data correctly."""
    import numpy as np
    import torch

    from snnc import import_torch
    from snnc.interp import run

    class M(torch.nn.Module):
        def forward(self, a, b):
            return a * 2.0 + b

    z = torch.rand(1, 3, dtype=torch.float64)
    m = import_torch(M(), (z, z))
    a, b = np.arange(3.0).reshape(1, 3), np.full((1, 3), 10.0)  # [T, 3]: one sample per step
    out = run(m, {"a": a, "b": b}).outputs
    (y,) = out.values()
    assert np.array_equal(np.asarray(y).reshape(a.shape), a * 2.0 + b)
