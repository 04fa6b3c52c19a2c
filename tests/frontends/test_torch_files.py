"""PyTorch model files through the CLI: ``snnc import model.pt2 -o m.mlir`` then ``snnc run``.

Also ``file.py:factory`` with ``--input-shape``, pickles (refused without ``--trust-pickle``) and
TorchScript (``torch.jit.trace`` of a model with snnc neurons).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed")
pytest.importorskip("torch_mlir", reason="torch-mlir not installed")

from torch import nn  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import snnc.nn as snnc_nn  # noqa: E402
from snnc.cli import app  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def snnc(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.lif = snnc_nn.LIF(alpha=0.5, beta=1.0, v_th=0.6, step_mode="m")
        self.fc = nn.Linear(3 * 4 * 4, 4)
        self.out = snnc_nn.LIF(alpha=0.8, v_th=0.4, step_mode="m")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B = x.shape[:2]
        s = self.lif(self.conv(x.flatten(0, 1)).view(T, B, 3, 4, 4))
        return self.out(self.fc(s.flatten(2)))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("torch_files")
    torch.manual_seed(0)
    m = Net().eval()
    x = torch.rand(6, 1, 1, 4, 4) * 3
    torch.export.save(torch.export.export(m, (x,)), d / "m.pt2")
    torch.save(m, d / "m.pt")
    np.save(d / "x.npy", x[:, 0].numpy())
    with torch.no_grad():
        np.save(d / "ref.npy", m(x)[:, 0].numpy())
    return d


def test_import_pt2_and_run(saved):
    r = snnc("import", saved / "m.pt2", "--time-layout", "TB", "-o", saved / "m.mlir")
    assert r.exit_code == 0, r.output
    text = (saved / "m.mlir").read_text()
    assert '"snn.graph"' in text and "dense_resource<fc.weight>" in text
    r = snnc("run", saved / "m.mlir", "--input", saved / "x.npy", "-o", saved / "out.npy", "--dtype", "float32")
    assert r.exit_code == 0, r.output
    out, ref = np.load(saved / "out.npy"), np.load(saved / "ref.npy")
    assert out.shape == ref.shape == (6, 4)
    np.testing.assert_array_equal(out.astype(np.float32), ref)
    assert 0.05 < float(ref.mean()) < 0.95


def test_pickle_needs_trust(saved):
    r = snnc("import", saved / "m.pt", "--time-layout", "TB", "--input-shape", "2,1,1,4,4")
    assert r.exit_code == 1
    assert "refusing to load" in r.output and "loading a pickle runs arbitrary code" in r.output
    r = snnc("import", saved / "m.pt", "--time-layout", "TB", "--input-shape", "2,1,1,4,4", "--trust-pickle")
    assert r.exit_code == 0, r.output
    assert '"snn.lif"' in r.output


def test_factory_file_with_input_shape(tmp_path):
    pytest.importorskip("spikingjelly", reason="spikingjelly not installed")
    spec = f"{ROOT / 'examples/torch/spiking_models.py'}:conv_bn_lif"
    r = snnc("import", spec, "--time-layout", "TB", "--input-shape", "2,1,2,8,8", "-o", tmp_path / "m.mlir")
    assert r.exit_code == 0, r.output
    assert '"nn.conv2d"' in (tmp_path / "m.mlir").read_text()
    r = snnc("import", spec, "--time-layout", "TB")
    assert r.exit_code == 1 and "needs the example input shape (--input-shape" in r.output
    r = snnc("import", f"{ROOT / 'examples/torch/spiking_models.py'}:no_such_factory", "--input-shape", "1,2")
    assert r.exit_code == 1 and "defines no function 'no_such_factory'" in r.output


def test_torchscript_import_and_run(tmp_path):
    torch.manual_seed(2)
    m = Net().eval()
    x = torch.rand(5, 1, 1, 4, 4) * 3
    with torch.no_grad():
        ts = torch.jit.trace(m, (x,), check_trace=False)  # neurons are snnc ops already
        ref = m(x)[:, 0].numpy()
    ts.save(str(tmp_path / "m.ts"))
    np.save(tmp_path / "x.npy", x[:, 0].numpy())
    r = snnc("import", tmp_path / "m.ts", "--time-layout", "TB", "-o", tmp_path / "m.mlir")
    assert r.exit_code == 1 and "needs the example input shape" in r.output
    r = snnc("import", tmp_path / "m.ts", "--time-layout", "TB", "--input-shape", "2,1,1,4,4", "-o", tmp_path / "m.mlir")
    assert r.exit_code == 0, r.output
    r = snnc("run", tmp_path / "m.mlir", "--input", tmp_path / "x.npy", "-o", tmp_path / "out.npy", "--dtype", "float32")
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy").astype(np.float32), ref)


def test_convert_pass_runs_from_opt(tmp_path):
    """The torch dialect (weights bound) prints, parses and converts with `snnc opt`."""
    from snnc.frontends.torch_importer import import_torch_dialect
    from snnc.ir import print_module

    torch.manual_seed(1)
    m = Net().eval()
    td = import_torch_dialect(m, torch.rand(1, 1, 1, 4, 4), time_layout="TB")
    (tmp_path / "t.mlir").write_text(print_module(td, locations=True))
    r = snnc("opt", tmp_path / "t.mlir", "--pass-pipeline", "convert-torch-to-snn")
    assert r.exit_code == 0, r.output
    assert '"snn.graph"' in r.output and "torch." not in r.output


def test_example_models_through_pt2_import_and_run(tmp_path):
    """examples/torch/export_pt2.py: each example model saved as .pt2, imported and run by the CLI."""
    pytest.importorskip("spikingjelly", reason="spikingjelly not installed")
    import importlib.util

    spec = importlib.util.spec_from_file_location("export_pt2", ROOT / "examples/torch/export_pt2.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    paths = mod.export_all(tmp_path)
    assert [p.stem for p in paths] == ["conv_bn_lif", "sdt_v1_block", "meta_spikeformer_tiny"]
    for p in paths:
        mlir = tmp_path / f"{p.stem}.mlir"
        r = snnc("import", p, "--time-layout", "TB", "-o", mlir)
        assert r.exit_code == 0, r.output
        r = snnc("run", mlir, "--input", tmp_path / f"{p.stem}.x.npy", "-o", tmp_path / f"{p.stem}.out.npy")
        assert r.exit_code == 0, r.output
        out = np.load(tmp_path / f"{p.stem}.out.npy").astype(np.float64)
        expected = np.load(tmp_path / f"{p.stem}.expected.npy")
        assert out.shape == expected.shape
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


def test_compile_takes_a_pt2(saved, tmp_path):
    r = snnc("compile", saved / "m.pt2", "--time-layout", "TB", "--calibration", saved / "x.npy", "-o", tmp_path / "c")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c" / "model.c").is_file()
