"""Neurons as torch custom ops: schema/fake/autograd checks and torch.export keeping one node per neuron."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import snnc.nn as snn
from snnc.nn.ops import NEURON_OPS, OP_SPECS


def _snnc_calls(ep: torch.export.ExportedProgram) -> list[str]:
    return [
        f"{n.target.namespace}.{n.target._opname}"
        for n in ep.graph.nodes
        if n.op == "call_function" and isinstance(n.target, torch._ops.OpOverload) and n.target.namespace == "snnc"
    ]


class ConvLifLinearLif(nn.Module):
    """SpikingJelly-style multi-step model: [T, B, C, H, W] -> flatten(0, 1) for the layers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.lif1 = snn.LIF.from_tau(2.0, v_th=0.5)
        self.fc = nn.Linear(4 * 5 * 5, 3)
        self.lif2 = snn.LIF(alpha=0.9, beta=1.0, v_th=0.2, reset="soft", cmp="gt")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, b = x.shape[:2]
        y = self.conv(x.flatten(0, 1)).reshape(t, b, 4, 5, 5)
        s = self.lif1(y)
        z = self.fc(s.flatten(2))
        return self.lif2(z)


def test_export_keeps_one_node_per_neuron_and_reruns_equal():
    torch.manual_seed(0)
    model = ConvLifLinearLif()
    x = torch.rand(4, 2, 2, 5, 5) * 2
    eager = model(x)
    snn.reset_net(model)
    ep = torch.export.export(model, (x,))
    assert _snnc_calls(ep) == ["snnc.lif", "snnc.lif"]
    # the exported program starts from rest every call and equals eager from rest
    for _ in range(2):
        torch.testing.assert_close(ep.module()(x), eager, rtol=0, atol=0)
    assert eager.sum() > 0


def test_export_cuba_if_ternary_single_step():
    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = snn.IF(v_th=0.5)
            self.b = snn.CubaLIF(0.8, 0.9, v_th=0.3)
            self.c = snn.TernaryLIF(0.9, v_th=0.3, step_mode="m")

        def forward(self, x):
            return self.c(self.b(self.a(x)) - 0.5)

    x = torch.rand(3, 2, 4) * 2
    eager = M()(x)
    ep = torch.export.export(M(), (x,))
    assert _snnc_calls(ep) == ["snnc.if_", "snnc.cuba_lif", "snnc.ternary_lif"]
    torch.testing.assert_close(ep.module()(x), eager, rtol=0, atol=0)

    single = snn.LIF(0.5, step_mode="s")
    ep1 = torch.export.export(single, (x[0],))
    assert _snnc_calls(ep1) == ["snnc.lif_step"]


def test_every_registered_op_is_listed():
    assert set(NEURON_OPS) == {f"snnc.{s.name}" for s in OP_SPECS}
    for name in NEURON_OPS:
        assert hasattr(torch.ops.snnc, name.split(".")[1])


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda s: s.name)
def test_opcheck(spec):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 2, 4, generator=g, dtype=torch.float64) if spec.multi_step else torch.randn(2, 4, generator=g)
    x = x.double().requires_grad_(True)
    state = torch.zeros(x.shape[1:] if spec.multi_step else x.shape, dtype=torch.float64)
    tail = ("hard", "ge", "atan", 2.0)
    if spec.name.startswith("ternary"):
        tail = ("soft", "atan", 2.0)
    if "_multi" in spec.name:  # reset, max_spikes, v_min, surrogate, surrogate_alpha
        tail = ("soft", 3, -1.0, "atan", 2.0)
    if spec.name.startswith("if_"):
        params = (1.0, 0.0, 0.5, 0.0, 0.0)
    elif spec.cuba:
        params = (0.9, 1.0, 0.0, 0.8, 1.0, 0.0, 0.5, 0.0, 0.0)
    else:
        params = (0.8, 1.0, 0.0, 0.5, 0.0, 0.0)
    states = (state.clone(), state.clone()) if spec.cuba else (state.clone(),)
    args = (x, *states, *params, *tail)
    torch.library.opcheck(
        getattr(torch.ops.snnc, spec.name).default,
        args,
        test_utils=("test_schema", "test_faketensor", "test_autograd_registration"),
    )
