"""Sinabs multi-spike models (the default ``spike_fn=MultiSpike``, ``MaxSpike``) through the PyTorch
frontend: the imported graph (``snn.if`` / ``snn.lif`` / ``snn.cuba_lif`` with ``spike_fn = "multi"``)
interpreted equals Sinabs' own forward; ``snnc import`` / ``snnc run`` on a model file; NIR export and
quantize stop with located diagnostics.

Sinabs' spike functions return float32 even for float64 inputs (``.float()``), so a float64 Sinabs
model with a layer after a spiking layer fails in Sinabs itself; the float64 references here cast
the counts back to float64 (:class:`ToDouble`, an exact identity on the swapped model).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed")
pytest.importorskip("torch_mlir", reason="torch-mlir not installed")
sinabs = pytest.importorskip("sinabs", reason="sinabs not installed")

import sinabs.activation as sa  # noqa: E402
import sinabs.layers as sl  # noqa: E402
from torch import nn  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from snnc.cli import app  # noqa: E402
from snnc.dialects.snn import find_graph  # noqa: E402
from snnc.frontends.torch import import_torch  # noqa: E402
from snnc.interp import run  # noqa: E402

B, T = 3, 10


class ToDouble(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.float64)


def _mlp(dtype) -> nn.Module:
    torch.manual_seed(6)
    cast = [ToDouble()] if dtype == torch.float64 else []
    return nn.Sequential(
        nn.Linear(10, 16), sl.IAF(spike_threshold=torch.tensor(0.7)), *cast,
        nn.Linear(16, 12), sl.LIF(tau_mem=4.0, tau_syn=2.0, spike_threshold=torch.tensor(0.3), norm_input=False,
                                  reset_fn=sa.MembraneReset()), *cast,
        nn.Linear(12, 8), sl.LIF(tau_mem=4.0, spike_threshold=torch.tensor(0.25), spike_fn=sa.MaxSpike(3)),
    ).to(dtype).eval()  # fmt: skip


def _compare(m: nn.Module, module, x_tb: torch.Tensor, dtype) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        ref = m(x_tb.transpose(0, 1).contiguous()).transpose(0, 1).to(torch.float64).numpy()  # Sinabs: [B, T, ...]
    name = str(find_graph(module).inputs()[0].attr("name"))
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    ours = run(module, {name: x_tb.numpy()}, batched=True, dtype=np_dtype).outputs["output"]
    assert ours.dtype == np_dtype
    return ours.astype(np.float64), ref


def _rates(module, x_tb: torch.Tensor) -> list[tuple[float, float]]:
    """(fraction of neuron-steps with a spike, max count) of every neuron layer."""
    from snnc.ir import value_names

    name = str(find_graph(module).inputs()[0].attr("name"))
    r = run(module, {name: x_tb.numpy()}, batched=True, probe=True)
    names = value_names(module)
    return [
        (float(np.mean(r.probes[names[op.results[0]]] != 0)), float(np.max(r.probes[names[op.results[0]]])))
        for op in module.walk()
        if op.op_name in ("snn.lif", "snn.if", "snn.cuba_lif")
    ]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_sinabs_multispike_mlp_import_identical_counts(dtype):
    m = _mlp(dtype)
    module = import_torch(m, torch.zeros(1, 1, 10, dtype=dtype), time_layout="BT")
    ops = [op for op in find_graph(module).body.ops if op.op_name.startswith("snn.") and "put" not in op.op_name]
    assert [op.op_name for op in ops] == ["snn.if", "snn.cuba_lif", "snn.lif"]
    assert all(op.attr("spike_fn") == "multi" for op in ops)
    assert [op.attr("max_spikes") for op in ops] == [None, None, 3]
    assert [op.attr("reset") for op in ops] == ["soft", "hard", "soft"]
    g = torch.Generator().manual_seed(9)
    x = (torch.rand(T, B, 10, generator=g, dtype=torch.float64) * 4.0).to(dtype)
    ours, ref = _compare(m, module, x, dtype)
    np.testing.assert_array_equal(ours, ref)
    rates = _rates(module, x)
    assert all(0.05 < r < 0.95 for r, _ in rates), rates
    assert all(mx >= 2 for _, mx in rates), rates  # every layer emits several spikes in some step


def test_sinabs_squeeze_conv_model_import():
    """FlattenTime -> Conv2d -> IAFSqueeze -> pool -> Linear -> LIFSqueeze -> UnflattenTime (batch-major [B*T])."""
    torch.manual_seed(6)
    m = nn.Sequential(
        sl.FlattenTime(), nn.Conv2d(2, 4, 3, padding=1), sl.IAFSqueeze(batch_size=B, spike_threshold=torch.tensor(0.5)),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 6),
        sl.LIFSqueeze(num_timesteps=T, tau_mem=3.0, spike_threshold=torch.tensor(0.2)), sl.UnflattenTime(B),
    ).eval()  # fmt: skip
    module = import_torch(m, torch.zeros(B, T, 2, 8, 8), time_layout="BT")
    g = torch.Generator().manual_seed(9)
    x = torch.rand(T, B, 2, 8, 8, generator=g) * 3
    ours, ref = _compare(m, module, x, torch.float32)
    np.testing.assert_array_equal(ours, ref)
    assert all(0.05 < r < 0.95 and mx >= 2 for r, mx in _rates(module, x))


FACTORY = """
import torch
from torch import nn
import sinabs.layers as sl


def factory():
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(10, 16), sl.IAF(spike_threshold=torch.tensor(0.5)),
                         nn.Linear(16, 4), sl.LIF(tau_mem=3.0, spike_threshold=torch.tensor(0.2))).eval()
"""


def test_cli_import_and_run_sinabs_multispike_file(tmp_path):
    (tmp_path / "sinabs_model.py").write_text(FACTORY)
    runner = CliRunner()
    spec = f"{tmp_path / 'sinabs_model.py'}:factory"
    r = runner.invoke(app, ["import", spec, "--input-shape", "2,5,10", "--time-layout", "BT", "-o", str(tmp_path / "m.mlir")])
    assert r.exit_code == 0, r.output
    text = (tmp_path / "m.mlir").read_text()
    assert 'spike_fn = "multi"' in text
    g = torch.Generator().manual_seed(1)
    x = torch.rand(T, 10, generator=g) * 4
    np.save(tmp_path / "x.npy", x.numpy())
    r = runner.invoke(app, ["run", str(tmp_path / "m.mlir"), "--input", str(tmp_path / "x.npy"), "-o",
                            str(tmp_path / "out.npy"), "--dtype", "float32"])
    assert r.exit_code == 0, r.output
    ns: dict = {}
    exec(FACTORY, ns)
    with torch.no_grad():
        ref = ns["factory"]()(x[None]).numpy()[0]  # [B=1, T, ...]
    out = np.load(tmp_path / "out.npy")
    assert out.shape == ref.shape == (T, 4)
    np.testing.assert_array_equal(out.astype(np.float32), ref)
    assert ref.max() >= 2

    # .pt2 of the swapped model (its neurons are snnc ops)
    from snnc.frontends.torch_neurons import swap_neurons

    ep = torch.export.export(swap_neurons(ns["factory"]()).eval(), (torch.zeros(1, T, 10),))
    torch.export.save(ep, tmp_path / "m.pt2")
    r = runner.invoke(app, ["import", str(tmp_path / "m.pt2"), "--time-layout", "BT", "-o", str(tmp_path / "m2.mlir")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["run", str(tmp_path / "m2.mlir"), "--input", str(tmp_path / "x.npy"), "-o",
                            str(tmp_path / "out2.npy"), "--dtype", "float32"])
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(np.load(tmp_path / "out2.npy").astype(np.float32), ref)

    # NIR cannot express a spike count: a located diagnostic, nothing written
    r = runner.invoke(app, ["export-nir", str(tmp_path / "m.mlir"), "-o", str(tmp_path / "m.nir")])
    assert r.exit_code == 1
    assert "'snn.if' op spike_fn = 'multi'" in r.output and "NIR has no equivalent" in r.output
    assert not (tmp_path / "m.nir").exists()

    # integer level: quantize lowers the counts to spike.lif{spike_fn = "multi"}, the C code is bit-exact
    r = runner.invoke(app, ["check", str(tmp_path / "m.mlir"), "--target", "c"])
    assert r.exit_code == 0, r.output
    assert "integer levels agree bit for bit" in r.output


def _quantized(m: nn.Module, shape: tuple[int, ...]):
    from snnc.passes.quantize import Quantize

    module = import_torch(m, torch.zeros(1, 1, *shape), time_layout="BT")
    g = torch.Generator().manual_seed(1)
    cal = (torch.rand(32, 16, *shape, generator=g) * 2).numpy()
    x = (torch.rand(64, 16, *shape, generator=torch.Generator().manual_seed(2)) * 2).numpy()
    name = str(find_graph(module).inputs()[0].attr("name"))
    fl = run(module, {name: x}, batched=True, dtype=np.float32).outputs["output"]
    q = Quantize(calibration={name: cal})
    q.run(module)
    return module, fl, run(module, {name: x}, batched=True).outputs["output"]


def test_quantize_multispike_counts_feed_dense_accumulators():
    """Float counts vs integer counts (weights and thresholds rounded): measured agreement."""
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(10, 32), sl.IAF(spike_threshold=torch.tensor(0.5)),
                      nn.Linear(32, 8), sl.LIF(tau_mem=4.0, spike_threshold=torch.tensor(0.2), spike_fn=sa.MaxSpike(5)),
                      ).eval()  # fmt: skip
    module, fl, it = _quantized(m, (10,))
    ops = [op for op in find_graph(module).body.ops if op.op_name.startswith("spike.")]
    lifs = [op for op in ops if op.op_name == "spike.lif"]
    assert [op.attr("spike_fn") for op in lifs] == ["multi", "multi"]
    assert lifs[1].attr("max_spikes") == 5
    # the first layer's counts (scale 1) feed the second layer as a dense integer input: weight x count
    acc2 = lifs[1].operands[0].defining_op()
    assert acc2.op_name == "spike.accumulate_dense" and acc2.operands[0] is lifs[0].results[0]
    assert it.dtype.kind == "i" and it.max() <= 5
    assert fl.max() >= 2
    # measured: 92.7% of the output counts equal, the rest differ by 1; equal total count
    assert np.mean(it == fl) > 0.85
    assert np.max(np.abs(it - fl)) <= 2
    assert abs(int(it.sum()) - int(fl.sum())) <= 0.05 * fl.sum()


def test_quantize_multispike_with_synaptic_current():
    """Sinabs LIF with tau_syn: spike.li (current) feeding a multi-spike spike.lif."""
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(10, 16), sl.LIF(tau_mem=4.0, tau_syn=2.0, spike_threshold=torch.tensor(0.3))).eval()
    module, fl, it = _quantized(m, (10,))
    names = [op.op_name for op in find_graph(module).body.ops if op.op_name.startswith("spike.")]
    assert names.count("spike.li") == 1 and names.count("spike.lif") == 1
    assert fl.max() >= 2
    assert np.mean(it == fl) > 0.85 and np.max(np.abs(it - fl)) <= 2


class _BT(nn.Module):
    """[B, T, ...] -> Sinabs' batch-major [B*T, ...] for the Squeeze layers, and back."""

    def __init__(self, m: nn.Module, b: int, t: int) -> None:
        super().__init__()
        self.m, self.b, self.t = m, b, t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.m(x.flatten(0, 1)).unflatten(0, (self.b, self.t))


def test_sinabs_from_model_min_v_mem(tmp_path):
    """sinabs.from_model (IAFSqueeze, MultiSpike, min_v_mem = -1): v_min in the IR, identical counts;
    NIR export stops with a located diagnostic; snnc check --target c is bit-exact (spike.lif v_min)."""
    from snnc.frontends.nir.exporter import export_nir
    from snnc.ir import print_module
    from snnc.ir.diagnostics import DiagnosticError

    torch.manual_seed(0)
    ann = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(64, 6), nn.ReLU())
    with torch.no_grad():
        ann[3].weight.mul_(3.0)
    snn = sinabs.from_model(ann, input_shape=(2, 8, 8), batch_size=B).spiking_model.eval()
    m = _BT(snn, B, T).eval()
    module = import_torch(m, torch.zeros(B, T, 2, 8, 8), time_layout="BT")
    neurons = [op for op in find_graph(module).body.ops if op.op_name == "snn.if"]
    assert len(neurons) == 2 and all(op.attr("v_min") == -1.0 and op.attr("spike_fn") == "multi" for op in neurons)
    x = torch.rand(T, B, 2, 8, 8, generator=torch.Generator().manual_seed(1)) * 12 - 3
    for layer in snn.modules():  # from_model leaves the layers with the state of its shape-probing forward
        if hasattr(layer, "reset_states"):
            layer.reset_states()
    ours, ref = _compare(m, module, x, torch.float32)
    np.testing.assert_array_equal(ours, ref)
    rates = _rates(module, x)
    assert all(0.05 < r < 0.95 for r, _ in rates) and rates[0][1] >= 2, rates
    with pytest.raises(DiagnosticError, match="spike_fn = 'multi'"):
        export_nir(module)
    path = tmp_path / "from_model.mlir"
    path.write_text(print_module(module))
    np.save(tmp_path / "cal.npy", x[:, 0].numpy())
    r = CliRunner().invoke(app, ["check", str(path), "--target", "c", "--calibration", str(tmp_path / "cal.npy")])
    assert r.exit_code == 0, r.output
    assert "integer levels agree bit for bit" in r.output
    assert 'v_min = -' in CliRunner().invoke(
        app, ["opt", str(path), "--pass-pipeline", f"quantize{{calibration-file={tmp_path / 'cal.npy'}}}"]).output
