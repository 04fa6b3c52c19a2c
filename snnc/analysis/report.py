"""Per-layer operation and energy report (``snnc report``), in the units of the spike-driven papers.

A *layer* is one synapse op: ``nn.linear``, ``nn.conv1d``, ``nn.conv2d``, ``nn.matmul``.  For each
layer, with ``T`` time steps and counts per sample (averaged over the batch):

* ``neurons``: elements of the layer's output (the neurons it drives);
* ``synapses``: weight elements (0 for ``nn.matmul``, whose operands are both activations);
* ``flops``: dense multiply-accumulates per step (linear: ``out elements x in features``;
  conv: ``out elements x Cin/groups x kernel size``; matmul ``[.., M, K] x [.., K, N]``:
  ``out elements x K``);
* mask-and-add ops (``attention-mask-add``): ``nn.and_popcount`` (flops: the broadcast product
  shape, one AND each), ``nn.masked_accumulate`` (as a matmul) and ``nn.spike_and`` (its output
  elements); their ACs are the additions actually made on the probed run: one per coincidence of two
  spikes (the sum of the counts) for spike operands, ``nnz(mask) x N`` row elements for
  ``nn.masked_accumulate`` of numbers, none for ``nn.spike_and`` (logic); ``firing_rate`` is that
  count over ``T x flops``;
* ``input_kind``: ``spike`` when the (first spiking) operand has a spike type (``i1``/``si2``),
  else ``real``;
* ``firing_rate``: the mean fraction of nonzero input elements per step, measured by running
  the interpreter with probes on the calibration inputs (or random ones).  For a matmul of two
  spike tensors it is the product of both rates (an AND fires only where both do); of a spike and
  a real tensor, the spike operand's rate;
* ``macs`` = ``T x flops`` for a real-valued input (the encoding layer, or any layer left
  real-valued), else 0; ``acs`` = ``firing_rate x T x flops`` for a spiking input, else 0
  (SEEDS.md: E = 4.6 pJ x MACs + 0.9 pJ x ACs);
* ``energy_pj`` with :class:`~snnc.analysis.energy.EnergyModel` (a target's ``[energy]`` table
  overrides the constants);
* NeuroBench fields: ``effective_macs`` (MACs whose real input is nonzero:
  ``nonzero fraction x T x flops``), ``effective_acs`` (= ``acs``), ``connection_sparsity``
  (fraction of zero weights), ``activation_sparsity`` of the input (``1 - nonzero fraction``),
  ``footprint_bytes`` (weight and bias bytes at the IR's element width).

Totals: the sums, plus the model's ``footprint_bytes`` (every tensor attribute and constant in the
graph: weights, biases, BN statistics), its ``connection_sparsity`` (zero weights / all synapse
weights) and ``activation_sparsity`` (1 - the mean firing rate of all neuron outputs, NeuroBench's
definition over the spiking neurons), and ``neurons`` (elements of all neuron-op outputs).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..ir.attributes import DenseElementsAttr, DenseResourceAttr
from ..ir.core import Operation, Value
from ..ir.diagnostics import error
from ..ir.types import FloatType, IntegerType, TensorType, is_spike_tensor
from .energy import DEFAULT_ENERGY, EnergyModel

#: attention-mask-add's products without a multiplier (AND, AND + popcount, select-and-add rows)
MASK_ADD_OPS = ("nn.spike_and", "nn.and_popcount", "nn.masked_accumulate")
SYNAPSE_OPS = ("nn.linear", "nn.conv1d", "nn.conv2d", "nn.matmul", *MASK_ADD_OPS)
NEURON_OPS = ("snn.lif", "snn.if", "snn.cuba_lif", "snn.threshold", "spike.lif")

SCHEMA_VERSION = 1


@dataclass
class LayerReport:
    name: str
    op: str
    shape: list[int]
    neurons: int
    synapses: int
    flops: int
    input_kind: str  # "spike" | "real"
    firing_rate: float
    macs: float
    acs: float
    energy_pj: float
    effective_macs: float
    effective_acs: float
    connection_sparsity: float
    activation_sparsity: float
    footprint_bytes: int


@dataclass
class ModelReport:
    time_steps: int
    batch: int
    inputs: str  # "calibration" | "random"
    energy_model: dict[str, Any]
    layers: list[LayerReport] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "time_steps": self.time_steps,
            "batch": self.batch,
            "inputs": self.inputs,
            "energy_model": self.energy_model,
            "layers": [asdict(layer) for layer in self.layers],
            "totals": self.totals,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


# --------------------------------------------------------------------------- counting


def _shape(v: Value) -> tuple[int, ...]:
    t = v.type
    assert isinstance(t, TensorType)
    return tuple(t.shape)


def _attr_array(op: Operation, name: str) -> np.ndarray | None:
    a = op.get_attr(name)
    if isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        return np.asarray(a.data)
    return None


def _attr_bytes(a: Any) -> int:
    if not isinstance(a, (DenseElementsAttr, DenseResourceAttr)):
        return 0
    el = a.type.element
    width = getattr(el, "width", 32) if isinstance(el, (FloatType, IntegerType)) else 32
    return int(math.ceil(a.type.num_elements * width / 8))


def layer_flops(op: Operation) -> int:
    """Dense multiply-accumulates per step of a synapse op."""
    out = int(np.prod(_shape(op.results[0])))
    if op.op_name == "nn.linear":
        return out * _shape(op.operands[0])[-1]
    if op.op_name in ("nn.conv1d", "nn.conv2d"):
        w = _attr_array(op, "weight")
        assert w is not None
        return out * int(np.prod(w.shape[1:]))
    if op.op_name in ("nn.matmul", "nn.masked_accumulate"):
        return out * _shape(op.operands[0])[-1]
    if op.op_name == "nn.and_popcount":
        return int(np.prod(op.broadcast_shape()))  # type: ignore[attr-defined]
    if op.op_name == "nn.spike_and":
        return out
    raise error(f"'{op.op_name}' is not a synapse op", op.location)


def _nonzero_fraction(arr: np.ndarray | None) -> float | None:
    if arr is None or arr.size == 0:
        return None
    return float(np.count_nonzero(arr)) / arr.size


def _mask_add_rate(op: Operation, ins: list[np.ndarray | None], out: np.ndarray | None, dense: int) -> float:
    """The measured additions of a mask-and-add op over the run, as a fraction of its dense products.

    ``nn.and_popcount`` and ``nn.masked_accumulate`` of spikes add 1 per coincidence of two spikes: the
    sum of their counts.  ``nn.masked_accumulate`` of numbers adds one row element per mask spike and
    output column: ``nnz(mask) x N``.  ``nn.spike_and`` is logic only: no addition (rate 0)."""
    if op.op_name == "nn.spike_and" or dense == 0:
        return 0.0
    if op.op_name == "nn.and_popcount" or is_spike_tensor(op.operands[1].type):
        if out is None:
            return 0.0
        return float(np.sum(np.asarray(out, dtype=np.float64))) / dense
    if ins[0] is None:
        return 0.0
    return float(np.count_nonzero(ins[0])) * _shape(op.operands[1])[-1] / dense


# --------------------------------------------------------------------------- the analysis


def _prepare_inputs(graph: Operation, calibration: Any, time_steps: int, seed: int) -> tuple[dict[str, np.ndarray], bool, str]:
    from ..interp.core import graph_inputs

    ins = graph_inputs(graph)
    if calibration is None:
        rng = np.random.default_rng(seed)
        data: dict[str, np.ndarray] = {}
        for op in ins:
            t = op.results[0].type
            assert isinstance(t, TensorType)
            shape = (time_steps, *t.shape)
            if is_spike_tensor(t):
                data[op.attr("name")] = (rng.random(shape) < 0.3)  # type: ignore[index]
            else:
                data[op.attr("name")] = rng.random(shape)  # type: ignore[index]
        return data, False, "random"
    if isinstance(calibration, np.ndarray):
        if len(ins) != 1:
            raise error(f"the graph has {len(ins)} inputs; give calibration data by input name (.npz)")
        calibration = {ins[0].attr("name"): calibration}
    data = {}
    batched = None
    for op in ins:
        name = op.attr("name")
        if name not in calibration:
            raise error(f"no calibration data for graph input '{name}'")
        arr = np.asarray(calibration[name])
        t = op.results[0].type
        assert isinstance(t, TensorType)
        rank = len(t.shape)
        if arr.ndim == rank + 1 and tuple(arr.shape[1:]) == tuple(t.shape):
            b = False
        elif arr.ndim == rank + 2 and tuple(arr.shape[2:]) == tuple(t.shape):
            b = True
        else:
            raise error(f"calibration data for '{name}' must be [T, *{list(t.shape)}] or [T, B, *{list(t.shape)}], "
                        f"got {list(arr.shape)}")
        if batched is not None and b != batched:
            raise error("calibration arrays must all be batched or all unbatched")
        batched = b
        data[name] = arr  # type: ignore[index]
    return data, bool(batched), "calibration"


def analyze(
    module: Operation,
    *,
    calibration: Any = None,
    time_steps: int = 4,
    energy: EnergyModel = DEFAULT_ENERGY,
    seed: int = 0,
    graph: str | None = None,
) -> ModelReport:
    """Run the graph with probes on ``calibration`` (or random inputs for ``time_steps`` steps) and count.

    ``calibration``: an array (one graph input) or a mapping name -> array, ``[T, *shape]`` or
    ``[T, B, *shape]``.  Random inputs: spikes Bernoulli(0.3), real values uniform in [0, 1).
    """
    from ..dialects.snn import find_graph
    from ..interp import run
    from ..ir.printer import value_names

    if time_steps < 1:
        raise error(f"time steps must be >= 1, got {time_steps}")
    g = find_graph(module, graph)
    from ..passes.fuse_lif import fused_ops, unfuse

    if fused_ops(g):  # fuse-lif's units are their regions' ops in order: count those (on a copy)
        module = module.clone()
        unfuse(module)
        g = find_graph(module, graph)
    data, batched, kind = _prepare_inputs(g, calibration, time_steps, seed)
    res = run(module, data, probe=True, batched=batched, graph=graph)
    names = value_names(module)
    first = next(iter(data.values()))
    T = int(first.shape[0])
    B = int(first.shape[1]) if batched else 1

    def probe(v: Value) -> np.ndarray | None:
        n = names.get(v)
        if n is None:
            return None
        return res.probes.get(n)

    layers: list[LayerReport] = []
    for op in g.body.ops:
        if op.op_name not in SYNAPSE_OPS:
            continue
        flops = layer_flops(op)
        spikes = [is_spike_tensor(v.type) for v in op.operands]  # type: ignore[arg-type]
        fracs = [_nonzero_fraction(probe(v)) for v in op.operands]
        fracs_f = [1.0 if f is None else f for f in fracs]
        if op.op_name in MASK_ADD_OPS:
            kind_in, rate = "spike", _mask_add_rate(op, [probe(v) for v in op.operands], probe(op.results[0]),
                                                    T * B * flops)
        elif op.op_name == "nn.matmul":
            if all(spikes):
                kind_in, rate = "spike", fracs_f[0] * fracs_f[1]
            elif any(spikes):
                i = spikes.index(True)
                kind_in, rate = "spike", fracs_f[i]
            else:
                kind_in, rate = "real", fracs_f[0] * fracs_f[1]
        else:
            kind_in, rate = ("spike" if spikes[0] else "real"), fracs_f[0]
        w = _attr_array(op, "weight")
        synapses = 0 if w is None else int(w.size)
        zeros = 0 if w is None else int(synapses - np.count_nonzero(w))
        fp = _attr_bytes(op.get_attr("weight")) + _attr_bytes(op.get_attr("bias"))
        dense = float(T * flops)
        if kind_in == "spike":
            macs, acs, eff_macs = 0.0, rate * dense, 0.0
        else:
            macs, acs, eff_macs = dense, 0.0, rate * dense
        layers.append(
            LayerReport(
                name=names.get(op.results[0], "?"),
                op=op.op_name,
                shape=list(_shape(op.results[0])),
                neurons=int(np.prod(_shape(op.results[0]))),
                synapses=synapses,
                flops=flops,
                input_kind=kind_in,
                firing_rate=rate,
                macs=macs,
                acs=acs,
                energy_pj=energy.energy_pj(macs, acs),
                effective_macs=eff_macs,
                effective_acs=acs,
                connection_sparsity=(zeros / synapses) if synapses else 0.0,
                activation_sparsity=1.0 - rate,
                footprint_bytes=fp,
            )
        )

    # model-wide NeuroBench fields
    footprint = 0
    for op in g.walk():
        for a in op.attributes.values():
            footprint += _attr_bytes(a)
    spikes_total = 0.0
    neuron_elems = 0
    for op in g.body.ops:
        if op.op_name in NEURON_OPS:
            n = int(np.prod(_shape(op.results[0])))
            neuron_elems += n
            f = _nonzero_fraction(probe(op.results[0]))
            spikes_total += (f or 0.0) * n
    syn = sum(la.synapses for la in layers)
    zeros = sum(round(la.connection_sparsity * la.synapses) for la in layers)
    macs = sum(la.macs for la in layers)
    acs = sum(la.acs for la in layers)
    totals = {
        "layers": len(layers),
        "neurons": neuron_elems,
        "synapses": syn,
        "flops": sum(la.flops for la in layers),
        "macs": macs,
        "acs": acs,
        "synaptic_operations": macs + acs,
        "effective_macs": sum(la.effective_macs for la in layers),
        "effective_acs": sum(la.effective_acs for la in layers),
        "energy_pj": energy.energy_pj(macs, acs),
        "energy_mj": energy.energy_pj(macs, acs) * 1e-9,
        "footprint_bytes": footprint,
        "connection_sparsity": (zeros / syn) if syn else 0.0,
        "activation_sparsity": (1.0 - spikes_total / neuron_elems) if neuron_elems else 0.0,
    }
    return ModelReport(
        time_steps=T,
        batch=B,
        inputs=kind,
        energy_model={"e_mac_pj": energy.e_mac_pj, "e_ac_pj": energy.e_ac_pj, "source": energy.source},
        layers=layers,
        totals=totals,
    )


def attention_energy(report: ModelReport) -> dict[str, float]:
    """The attention products of a report (mask-and-add ops and activation x activation ``nn.matmul``):
    as executed (``acs``, ``energy_pj``: their ACs) and priced as dense matmuls (``dense_macs`` =
    ``T x flops``, ``dense_energy_pj`` at E_MAC), the convention of a non-spike-driven attention."""
    att = [la for la in report.layers if la.op in (*MASK_ADD_OPS, "nn.matmul")]
    e = report.energy_model
    acs = sum(la.acs for la in att)
    macs = sum(la.macs for la in att)
    dense = float(sum(report.time_steps * la.flops for la in att))
    return {
        "layers": float(len(att)),
        "acs": acs,
        "macs": macs,
        "energy_pj": e["e_mac_pj"] * macs + e["e_ac_pj"] * acs,
        "dense_macs": dense,
        "dense_energy_pj": e["e_mac_pj"] * dense,
    }


# --------------------------------------------------------------------------- rendering


def _si(x: float) -> str:
    for unit, s in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= s:
            return f"{x / s:.3g}{unit}"
    return f"{x:.3g}"


def render_table(report: ModelReport, console: Any = None) -> None:
    """Print the report as a rich table (to ``console``, default stdout)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    t = Table(title=f"snnc report: T={report.time_steps}, {report.inputs} inputs, "
              f"E_MAC={report.energy_model['e_mac_pj']} pJ, E_AC={report.energy_model['e_ac_pj']} pJ")
    for col in ("layer", "op", "shape", "neurons", "synapses", "input", "rate", "MACs", "ACs", "energy pJ", "conn.sp"):
        t.add_column(col, justify="left" if col in ("layer", "op", "shape", "input") else "right")
    for la in report.layers:
        t.add_row(la.name, la.op, "x".join(map(str, la.shape)), _si(la.neurons), _si(la.synapses), la.input_kind,
                  f"{la.firing_rate:.3f}", _si(la.macs), _si(la.acs), _si(la.energy_pj), f"{la.connection_sparsity:.2f}")
    tt = report.totals
    t.add_row("total", "", "", _si(tt["neurons"]), _si(tt["synapses"]), "", f"{1 - tt['activation_sparsity']:.3f}",
              _si(tt["macs"]), _si(tt["acs"]), _si(tt["energy_pj"]), f"{tt['connection_sparsity']:.2f}", style="bold")
    console.print(t)
    console.print(
        f"energy {tt['energy_mj']:.6g} mJ; footprint {tt['footprint_bytes']} B; "
        f"activation sparsity {tt['activation_sparsity']:.3f}; effective MACs {_si(tt['effective_macs'])}, "
        f"effective ACs {_si(tt['effective_acs'])}"
    )


def write_plot(report: ModelReport, path: str) -> None:
    """PNG with per-layer input firing rate (top) and energy (bottom, log scale; MAC layers marked)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(report.layers)
    labels = [f"{la.name} {la.op.split('.')[-1]}" for la in report.layers]
    x = np.arange(n)
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(max(6.0, 0.45 * n + 2), 7), sharex=True)
    colors = ["tab:red" if la.input_kind == "real" else "tab:blue" for la in report.layers]
    a1.bar(x, [la.firing_rate for la in report.layers], color=colors)
    a1.set_ylabel("input firing rate\n(nonzero fraction)")
    a1.set_ylim(0, 1.05)
    a1.set_title(f"per-layer input firing rate and energy, T={report.time_steps}\n"
                 "blue: spike input (ACs), red: real-valued input (MACs)", fontsize=10)
    energies = [la.energy_pj for la in report.layers]
    positive = [e for e in energies if e > 0]
    floor = min(positive) / 2 if positive else 1.0
    a2.bar(x, [max(e, floor) for e in energies], color=colors)
    for i, e in enumerate(energies):
        if e == 0:
            a2.text(i, floor, "0", ha="center", va="bottom", fontsize=8)
    a2.set_yscale("log")
    a2.set_ylim(bottom=floor)
    a2.set_ylabel("energy (pJ)")
    a2.set_xticks(x)
    a2.set_xticklabels(labels, rotation=60, ha="right", fontsize=8)
    tt = report.totals
    a2.set_xlabel(f"total {tt['energy_mj']:.4g} mJ = {report.energy_model['e_mac_pj']} pJ x {_si(tt['macs'])} MACs"
                  f" + {report.energy_model['e_ac_pj']} pJ x {_si(tt['acs'])} ACs")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load_calibration(path: str, input_names: list[str]) -> Mapping[str, np.ndarray]:
    from ..driver import load_inputs

    return load_inputs(path, input_names)


__all__ = ["LayerReport", "ModelReport", "SYNAPSE_OPS", "analyze", "layer_flops", "render_table", "write_plot"]
