"""PyTorch frontend diagnostics: unsupported ops, time and batch mixing, neuron state, options.

Every error names the op and the Python line of the model it came from (torch.export's
stack traces, carried by torch-mlir as the ops' locations).
"""

from __future__ import annotations

import inspect

import pytest

torch = pytest.importorskip("torch", reason="torch not installed")
pytest.importorskip("torch_mlir", reason="torch-mlir not installed")

from torch import nn  # noqa: E402

import snnc.nn as snnc_nn  # noqa: E402
from snnc.frontends.torch import import_torch  # noqa: E402
from snnc.ir import DiagnosticError, FileLineColLoc  # noqa: E402
from snnc.nn import ops  # noqa: E402
from snnc.nn.ops import NeuronParams  # noqa: E402

HERE = __file__


def _line_of(cls: type, text: str) -> int:
    lines, start = inspect.getsourcelines(cls.forward)
    for i, line in enumerate(lines):
        if text in line:
            return start + i
    raise AssertionError(f"{text!r} not in {cls.__name__}.forward")


def _import_error(model: nn.Module, x: torch.Tensor, **kw) -> DiagnosticError:
    with pytest.raises(DiagnosticError) as info:
        import_torch(model.eval(), x, **kw)
    return info.value


class Sigmoid(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        return torch.sigmoid(y)  # no nn op for this


def test_unsupported_op_names_the_op_and_the_python_line():
    err = _import_error(Sigmoid(), torch.rand(1, 4))
    line = _line_of(Sigmoid, "torch.sigmoid")
    d = err.diagnostics[0]
    assert "unsupported PyTorch operation 'aten.sigmoid'" in d.message
    assert isinstance(d.location, FileLineColLoc)
    assert d.location.file == HERE and d.location.line == line
    text = err.render()
    assert text.startswith(f"{HERE}:{line}:1: error: unsupported PyTorch operation 'aten.sigmoid'")
    assert "return torch.sigmoid(y)  # no nn op for this" in text  # the source line is shown


class NeuronAfterTimeMean(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lif1 = snnc_nn.LIF(alpha=0.5, step_mode="m")
        self.lif2 = snnc_nn.LIF(alpha=0.5, step_mode="m")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.lif1(x).mean(0, keepdim=True)  # mixes time steps
        return self.lif2(m)


def test_time_mixing_before_a_neuron_is_rejected():
    err = _import_error(NeuronAfterTimeMean(), torch.rand(2, 1, 4), time_layout="TB")
    assert "read out over time (mean)" in str(err) or "needs the time axis first" in str(err)
    assert err.diagnostics[0].location.file == HERE  # type: ignore[union-attr]


class BatchSum(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(0)


def test_reduction_over_the_batch_is_rejected():
    err = _import_error(BatchSum(), torch.rand(3, 4))
    assert "reduces over the B axis" in str(err)
    assert err.diagnostics[0].location.line == _line_of(BatchSum, "x.sum(0)")  # type: ignore[union-attr]


class TimeConcat(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x], dim=0)


def test_concatenation_along_time_is_rejected():
    err = _import_error(TimeConcat(), torch.rand(2, 1, 4), time_layout="TB")
    assert "concatenates along the T axis" in str(err)


class SingleStepOnSequence(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lif = snnc_nn.LIF(alpha=0.5, step_mode="s")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lif(x)


def test_single_step_neuron_on_a_time_axis_is_rejected():
    err = _import_error(SingleStepOnSequence(), torch.rand(2, 1, 4), time_layout="TB")
    assert "single-step neuron 'snnc.lif_step' gets an input with a time axis" in str(err)


def test_multi_step_neuron_without_time_layout_is_rejected():
    err = _import_error(nn.Sequential(snnc_nn.LIF(alpha=0.5, step_mode="m")), torch.rand(2, 1, 4))
    assert "needs the time axis first" in str(err) and "time layout" in str(err)


class UsesMembrane(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.p = NeuronParams(alpha=0.5, beta=1.0, gamma=0.0, v_th=1.0, v_reset=0.0, reset="hard")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s, _, v = ops.call(x, self.p, multi_step=False)
        return s + v


def test_using_the_neuron_state_is_rejected():
    err = _import_error(UsesMembrane(), torch.rand(1, 4))
    assert "returned state (membrane / current) is used" in str(err)


class CarriedState(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.p = NeuronParams(alpha=0.5, beta=1.0, gamma=0.0, v_th=1.0, v_reset=0.0, reset="hard")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s, _, _ = ops.call(x, self.p, multi_step=False, v=x * 0.5)
        return s


def test_initial_state_from_the_inputs_is_rejected():
    err = _import_error(CarriedState(), torch.rand(1, 4))
    assert "initial membrane must be the neuron's rest value" in str(err)


def test_bad_options_are_diagnostics():
    m = nn.Linear(4, 3)
    with pytest.raises(DiagnosticError, match="unknown time layout 'TBX'"):
        import_torch(m, torch.rand(1, 4), time_layout="TBX")
    with pytest.raises(DiagnosticError, match="unknown readout 'max'"):
        import_torch(m, torch.rand(1, 4), readout="max")
    with pytest.raises(DiagnosticError, match="expected a torch.nn.Module"):
        import_torch(object(), torch.rand(1, 4))


class ModelMean(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lif = snnc_nn.LIF(alpha=0.5, step_mode="m")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lif(x).mean(0)


def test_conflicting_readout_is_rejected():
    with pytest.raises(DiagnosticError, match="reads out over time with 'mean', but readout 'sum' was requested"):
        import_torch(ModelMean().eval(), torch.rand(2, 1, 4), time_layout="TB", readout="sum")


def test_unsupported_third_party_neuron_is_a_diagnostic():
    snntorch = pytest.importorskip("snntorch", reason="snntorch not installed")
    m = nn.Sequential(nn.Linear(4, 4), snntorch.Alpha(alpha=0.6, beta=0.5))  # (RLeaky is supported)
    with pytest.raises(DiagnosticError, match="Alpha is not supported"):
        import_torch(m, torch.rand(1, 4))
