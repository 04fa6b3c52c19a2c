"""snnTorch ``RLeaky`` through the PyTorch frontend: the imported graph (``snn.lif`` fed by
``nn.add(x, R(snn.delay(s)))``) interpreted equals snnTorch's own forward.

float64: identical spikes (asserted exactly); float32: identical spikes on these inputs (the IR
adds ``x + R(d)`` before the leaked membrane, snnTorch after: a flip needs a membrane within
one rounding error of the threshold).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed")
pytest.importorskip("torch_mlir", reason="torch-mlir not installed")
snntorch = pytest.importorskip("snntorch", reason="snntorch not installed")

from torch import nn  # noqa: E402

import snnc.nn as snnc_nn  # noqa: E402
from snnc.dialects.snn import find_graph  # noqa: E402
from snnc.frontends.torch import import_torch  # noqa: E402
from snnc.interp import run  # noqa: E402

T, B = 12, 3


def _spike_fn(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)  # snnTorch's Heaviside in the input dtype (its default returns float32)


class RNet(nn.Module):
    """fc -> RLeaky (init_hidden), one step per call: the snnTorch idiom."""

    def __init__(self, rec: str, reset: str) -> None:
        super().__init__()
        common = dict(beta=0.85, threshold=0.8, reset_mechanism=reset, spike_grad=_spike_fn, init_hidden=True)
        if rec == "conv2d":
            self.fc = nn.Conv2d(2, 3, 3, padding=1)
            self.lif = snntorch.RLeaky(conv2d_channels=3, kernel_size=3, **common)
        else:
            self.fc = nn.Linear(10, 8)
            if rec == "linear":
                self.lif = snntorch.RLeaky(linear_features=8, **common)
            elif rec == "v_scalar":
                self.lif = snntorch.RLeaky(all_to_all=False, V=-0.5, **common)
            else:
                self.lif = snntorch.RLeaky(all_to_all=False, V=torch.rand(8) * 2 - 1, **common)
        if hasattr(self.lif.recurrent, "weight"):
            with torch.no_grad():
                self.lif.recurrent.weight.mul_(2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lif(self.fc(x))


def _case(rec: str, reset: str, dtype):
    torch.manual_seed(11)
    m = RNet(rec, reset).to(dtype).eval()
    shape = (2, 5, 5) if rec == "conv2d" else (10,)
    module = import_torch(m, torch.zeros(1, *shape, dtype=dtype), time_layout="step")
    g = torch.Generator().manual_seed(7)
    x = (torch.randn(T, B, *shape, generator=g, dtype=torch.float64) * 2.0 + 0.5).to(dtype)
    from snntorch import utils

    utils.reset(m)
    with torch.no_grad():
        ref = torch.stack([m(xt) for xt in x]).to(torch.float64).numpy()
    name = str(find_graph(module).inputs()[0].attr("name"))
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    ours = run(module, {name: x.numpy()}, batched=True, dtype=np_dtype).outputs["output"]
    return module, ours.astype(np.float64), ref


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("rec", ["linear", "v_scalar", "v_vector", "conv2d"])
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_rleaky_import_identical_spikes(reset, rec, dtype):
    module, ours, ref = _case(rec, reset, dtype)
    np.testing.assert_array_equal(ours, ref)
    assert 0.05 < float(ref.mean()) < 0.95
    names = [op.op_name for op in find_graph(module).body.ops]
    assert names.count("snn.delay") == 1 and names.count("snn.lif") == 1
    assert {"linear": "nn.linear", "conv2d": "nn.conv2d"}.get(rec, "nn.scale") in names


def test_recurrent_lif_multi_step_import():
    torch.manual_seed(2)
    lif = snnc_nn.RecurrentLIF(0.9, 0.6, "subtract", recurrent=nn.Linear(6, 6), step_mode="m")
    m = nn.Sequential(nn.Linear(4, 6), lif).double().eval()
    module = import_torch(m, torch.zeros(1, 1, 4, dtype=torch.float64), time_layout="TB")
    x = torch.rand(T, B, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 3
    lif.reset_state()
    with torch.no_grad():
        ref = m(x).numpy()
    name = str(find_graph(module).inputs()[0].attr("name"))
    ours = run(module, {name: x.numpy()}, batched=True, dtype=np.float64).outputs["output"]
    np.testing.assert_array_equal(ours.astype(np.float64), ref)
    assert 0.05 < float(ref.mean()) < 0.95


def _check_c(rec: str, reset: str, tmp_path):
    from typer.testing import CliRunner

    from snnc.cli import app
    from snnc.ir import print_module

    torch.manual_seed(0)
    m = RNet(rec, reset).float().eval()
    shape = (2, 5, 5) if rec == "conv2d" else (10,)
    path = tmp_path / "rleaky.mlir"
    path.write_text(print_module(import_torch(m, torch.zeros(1, *shape), time_layout="step")))
    return CliRunner().invoke(app, ["check", str(path), "--target", "c"])


@pytest.mark.parametrize("rec", ["linear", "v_scalar", "v_vector", "conv2d"])
@pytest.mark.parametrize("reset", ["subtract", "none"])
def test_rleaky_check_target_c(reset, rec, tmp_path):
    """snnc check --target c: quantize lowers the recurrence (subtract folds v_th into the diagonal / centre
    tap / V); a one-to-one V (nn.scale of the delayed spikes) becomes a diagonal synapse."""
    res = _check_c(rec, reset, tmp_path)
    assert res.exit_code == 0, res.output
    assert "integer levels agree bit for bit" in res.output


@pytest.mark.parametrize("rec", ["linear", "v_vector"])
def test_rleaky_zero_reset_quantize_diagnostic(rec, tmp_path):
    """reset_mechanism='zero' gates the input with the delayed spikes: a located diagnostic at the neuron."""
    res = _check_c(rec, "zero", tmp_path)
    assert res.exit_code == 1
    assert "rleaky.mlir:" in res.output and "'snn.lif' op input is gated by the neuron's own delayed spikes" in res.output
    assert "reset_mechanism='subtract' or 'none'" in res.output and "Traceback" not in res.output
