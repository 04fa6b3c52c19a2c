"""The RTL generator: an integer ``spike`` graph -> parameters, memory images, testbench and Makefile
for the snnc reference core mesh (``hdl/snnc_mesh.v``).

The mapping onto cores is the neuro-core backend's (:func:`snnc.backends.neuro_core.emit.emit`, placement by
``snnc/passes/place.py``), run with the limits of the ``rtl-core`` target (``snnc/targets/rtl_core.toml``).
Its configuration (per-core weight tables ``[axons, neurons]`` and neuron parameters, routes, input and
output maps; the format of ``snnc.sim``) is translated into the RTL's artifacts:

* every core has its piece's own neuron and axon counts (``CORE_NEURONS`` / ``CORE_AXONS`` of the mesh),
  the neurons padded up to a multiple of ``PAR`` with neurons that can never fire (``v_th`` = the largest
  membrane value, compare ``gt``, no bias, no leak, no reset);
* one membrane width for all cores (a diagnostic if the pieces differ) and the widest accumulator;
  a core whose own accumulator is narrower is accepted only when its worst case ``sum |w| * max|m|``
  fits that narrower width (then no saturation can occur at either width and the sums are equal);
* weights at the smallest two's complement width that holds every weight (>= 2 bits);
* real-valued graph inputs are quantized on the host and sent as graded events (sign + magnitude of
  ``MAG_BITS`` bits: the core adds ``m * w``, saturating like any accumulation); spike inputs as events of
  magnitude 1; integer inputs (ternary ``si2`` spikes: sign + magnitude 1) as events of sign and magnitude
  ``|x|``;
* the per-step core order is the mapping's topological order, so a spike reaches a later core in the same
  time step (no synaptic delay), exactly as the integer interpreter; events reach each core in increasing
  axon order (host events are sorted; routed spikes arrive in neuron order, and the mapping numbers a core's
  axons in source order).

Ternary (``si2``) neurons map to the core's ternary mode (params row 9 of the mapping; a -1 spike is an event
with sign 1, which subtracts the weight, for routed spikes and for ``si2`` graph inputs alike).

What the core cannot do is a located diagnostic at the op: the multiplicative (``mul``) leak on a target
without it, ternary neurons on a target with ``core.ternary = false``, ``spike.li`` and every op the
neuro-core mapping rejects, more than ``rtl.max_cores`` cores, graded (quantized or integer) inputs wider
than ``rtl.graded_input_bits``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...ir.diagnostics import error
from .refmodel import CoreConfig, MeshConfig
from .sim import HDL_DIR, write_images

TARGET = "rtl-core"
HDL_FILES = ("snnc_lif_core.v", "snnc_mesh.v", "snnc_tb.v")


@dataclass
class RtlDesign:
    """A generated design: the mesh (as the refmodel sees it), its build parameters and io map."""

    out_dir: Path
    mesh: MeshConfig
    mag_bits: int
    fifo_depth: int
    par: int
    io: dict
    report: dict
    files: list[Path] = field(default_factory=list)

    @property
    def n_cores(self) -> int:
        return len(self.mesh.cores)

    @property
    def n_neurons(self) -> int:
        """The largest core's neurons (the mesh's N_NEURONS)."""
        return max(c.n_neurons for c in self.mesh.cores)

    @property
    def n_axons(self) -> int:
        return max(c.n_axons for c in self.mesh.cores)


def _loc(op):
    return getattr(op, "location", None)


def _precheck(module, tgt) -> None:
    """Diagnostics for what the reference core cannot do, located at the op, before the mapping runs."""
    from ...dialects.snn import find_graph
    from ...ir.types import i1, si2

    g = find_graph(module)
    modes = tgt["core"]["leak_modes"]
    for op in g.body.ops:
        if op.op_name == "spike.lif":
            mode = str(op.attr("leak_mode"))
            if mode not in modes:
                raise error(
                    f"rtl: spike.lif has leak_mode '{mode}' (a multiplicative decay), which target '{tgt.name}' "
                    f"cannot run: its cores leak by an arithmetic shift only (leak modes {', '.join(modes)}). Lower "
                    "a model whose leak is alpha = 1 - 2^-k (quantize then emits leak_mode 'shift', leak_shift k) "
                    "or alpha = 1 (no leak), or use a target whose core.leak_modes include 'mul' (rtl-core does: "
                    "its cores then get the decay multiplier, FRAC_BITS > 0)", _loc(op))
            if str(op.attr("spike_fn") or "single") == "multi":
                raise error("rtl: a multi-spike spike.lif (spike_fn = \"multi\": it sends its spike count as a graded "
                            "event) has no counterpart in the reference core, whose neurons send single spikes",
                            _loc(op))
            if op.results[0].type.element not in (i1, si2) or (op.results[0].type.element == si2
                                                                and not tgt["core"].get("ternary", False)):
                raise error(f"rtl: spike.lif with {op.results[0].type.element} spikes: target '{tgt.name}' maps "
                            "binary (i1) spike.lif neurons" + (" and ternary (si2) ones" if tgt["core"].get(
                                "ternary", False) else " only (core.ternary = false)"), _loc(op))
        elif op.op_name == "snn.delay" and int(op.attr("steps")) != 1:
            raise error(f"rtl: snn.delay of {int(op.attr('steps'))} steps; the reference core delays by one step "
                        "only (a recurrent route to a core that has already run delivers its spikes in the next "
                        "step)", _loc(op))
        elif op.op_name in _UNSUPPORTED:
            raise error(f"rtl: {op.op_name} {_UNSUPPORTED[op.op_name]}; the reference core has LIF neurons (with an "
                        "optional current compartment) that send single spikes (the neuro-core mapping's relay, "
                        "AND and graded-output neurons are not in the RTL)", _loc(op))
        elif op.op_name == "spike.li" and not any(u.op_name == "spike.lif" for u in _users(g, op)):
            raise error("rtl: spike.li read out as a value (a non-spiking leaky integrator) has no counterpart in "
                        "the reference core, whose neurons output spikes only (a spike.li feeding a spike.lif, the "
                        "current compartment of a CUBA neuron, is supported)", _loc(op))


def _users(g, op):
    res = op.results[0]
    return [u for u in g.body.ops if any(o is res for o in u.operands)]


_UNSUPPORTED = {
    "spike.max_pool2d": "(OR relay neurons with accumulator-wide membranes) is not supported by the rtl generator, "
                        "whose cores share one membrane width",
    "spike.and": "(AND neurons of spike-driven attention) is not supported by the rtl generator",
    "spike.matmul": "(AND neurons of spike-driven attention) is not supported by the rtl generator",
    "spike.popcount": "(a spike count) is not supported by the rtl generator",
    "spike.dequantize": "(a real-valued output: a graded relay neuron) is not supported by the rtl generator",
}


def _check_config(cfg: dict, cores) -> None:
    """Safety net after the mapping: no feature of the neuro-core configuration that the RTL lacks."""
    for c, entry in enumerate(cfg["cores"]):
        if entry.get("input_requant"):
            raise error(f"rtl: core {c} of the mapping uses 'input_requant' (a requantized relay), which the "
                        "reference core does not have")
    rows = {17: "graded or multi-spike outputs", 19: "a membrane floor (v_min)"}
    for c, (_, p) in enumerate(cores):
        for r, what in rows.items():
            if p.shape[0] > r and (p[r] != 0).any():
                raise error(f"rtl: core {c} of the mapping has {what}, which the reference core does not have")
    for o in cfg.get("outputs", []):
        if o.get("scale"):
            raise error(f"rtl: output '{o['name']}' is real-valued (graded); the reference core outputs spikes")


def _adapter_target(tgt):
    """The rtl-core target seen as a neuro-core target (what the neuro-core mapping accepts)."""
    from ...targets.loader import Target

    data = {"name": tgt.name, "kind": "neuro-core", "mesh": dict(tgt["mesh"]), "core": dict(tgt["core"]),
            "energy": {"synaptic_op_pj": 0.0, "neuron_update_pj": 0.0, "packet_pj": 0.0, "hop_pj": 0.0}}
    return Target(name=tgt.name, kind="neuro-core", path=tgt.path, data=data)


def _bits_for(values: np.ndarray) -> int:
    """Smallest two's complement width (>= 2) that holds every value."""
    lo = int(values.min(initial=0))
    hi = int(values.max(initial=0))
    b = 2
    while not (-(1 << (b - 1)) <= lo and hi <= (1 << (b - 1)) - 1):
        b += 1
    return b


def _input_bound(module, name: str) -> int:
    """Largest magnitude of the integer graph input ``name`` (1 for ternary si2 spikes)."""
    from ...dialects.snn import find_graph
    from ...dialects.spike import value_bound
    from ...ir.types import si2

    for op in find_graph(module).body.ops:
        if op.op_name == "snn.input" and str(op.attr("name")) == name:
            t = op.results[0].type
            return 1 if t.element == si2 else int(value_bound(t))  # si2 carries ternary spikes {-1, 0, 1}
    raise error(f"rtl: the mapping names a graph input '{name}' that the graph does not have")


def map_module(module, target=TARGET) -> tuple[dict, list, dict]:
    """Run the neuro-core mapping with the rtl-core limits.

    Returns (config.json dict, per-core (weights, params), io) where io has the input and output maps."""
    from ...sim import load_config
    from ...targets import load_target
    from ..neuro_core.emit import emit

    tgt = load_target(target) if isinstance(target, str) else target
    if tgt.kind != "rtl-core":
        raise error(f"target '{tgt.name}' is not an rtl-core target (kind '{tgt.kind}')")
    _precheck(module, tgt)
    with tempfile.TemporaryDirectory(prefix="snnc-rtl-map-") as td:
        d = Path(td)
        emit(module, _adapter_target(tgt), d)
        cfg = load_config(d)
        cores = [(np.load(d / f"core{i}_weights.npy").astype(np.int64),
                  np.load(d / f"core{i}_params.npy").astype(np.int64)) for i in range(len(cfg["cores"]))]
        _check_config(cfg, cores)
        groups = [(e["groups"], np.load(d / f"core{i}_axon_group.npy").reshape(-1).astype(np.int64),
                   np.load(d / f"core{i}_group_bias.npy").astype(np.int64).reshape(len(e["groups"]), -1)
                   if e.get("group_bias") else None, e.get("group_bias_first") or [False] * len(e["groups"]))
                  if e.get("groups") else None for i, e in enumerate(cfg["cores"])]
        routes = np.load(d / "routes.npy").reshape(-1, 4)
        inputs = []
        for k, spec in enumerate(cfg.get("inputs", [])):
            r = np.load(d / spec["routes"]).reshape(-1, 3)
            e = {"name": spec["name"], "shape": list(spec["shape"]), "kind": spec["kind"],
                 "routes": r.tolist()}
            if spec["kind"] == "quantized":
                e["bits"] = int(spec["bits"])
                sc = np.load(d / f"input{k}_scale.npy").astype(np.float64)
                flat = sc.reshape(-1)
                e["scale"] = float(flat[0]) if flat.size and (flat == flat[0]).all() else sc.tolist()
            elif spec["kind"] == "integer":  # e.g. ternary (si2) spikes: events of sign + magnitude |x|
                e["bound"] = _input_bound(module, spec["name"])
            inputs.append(e)
        outputs = [{"name": s["name"], "shape": list(s["shape"]),
                    "neurons": np.load(d / s["neurons"]).reshape(-1, 2).tolist()} for s in cfg.get("outputs", [])]
    return cfg, cores, {"inputs": inputs, "outputs": outputs, "routes": routes, "groups": groups}


def build_mesh(module, target=TARGET) -> tuple[MeshConfig, dict, dict]:
    """The mesh (identical padded cores), the io map and the report of ``module`` on ``target``."""
    from ...targets import load_target

    tgt = load_target(target) if isinstance(target, str) else target
    cfg, cores, io = map_module(module, tgt)
    rtl = tgt["rtl"]
    C = len(cores)
    if C > rtl["max_cores"]:
        raise error(f"rtl: the model needs {C} cores, the mesh has at most {rtl['max_cores']}")
    widths = [(int(e.get("membrane_bits", cfg["membrane_bits"])), int(e.get("accumulator_bits", cfg["accumulator_bits"])))
              for e in cfg["cores"]]
    mem_bits = max(n for n, _ in widths)
    if any(n != mem_bits for n, _ in widths):
        raise error(f"rtl: the layers use different membrane widths ({sorted({n for n, _ in widths})}); the mesh's "
                    "cores share one MEM_BITS: quantize all layers at one membrane-bits")
    acc_bits = max(a for _, a in widths)
    # magnitude bound per (core, axon): 1 for spikes, 2^(bits-1) for quantized inputs
    mag = [np.ones(w.shape[0], dtype=np.int64) for w, _ in cores]
    mag_bits = 1
    for spec in io["inputs"]:
        if spec["kind"] == "quantized":
            b = int(spec["bits"])
            if b > rtl["graded_input_bits"]:
                raise error(f"rtl: input '{spec['name']}' is quantized to {b} bits, the core's graded events carry "
                            f"at most {rtl['graded_input_bits']} (rtl.graded_input_bits)")
            mag_bits = max(mag_bits, b)
            for _, c, a in spec["routes"]:
                mag[c][a] = max(mag[c][a], 1 << (b - 1))
        elif spec["kind"] == "integer":
            m = int(spec["bound"])
            if m.bit_length() > rtl["graded_input_bits"]:
                raise error(f"rtl: integer input '{spec['name']}' has values of magnitude up to {m}, the core's "
                            f"graded events carry at most {rtl['graded_input_bits']} bits (rtl.graded_input_bits)")
            mag_bits = max(mag_bits, m.bit_length())
            for _, c, a in spec["routes"]:
                mag[c][a] = max(mag[c][a], m)
    for c, ((w, _), (_, a)) in enumerate(zip(cores, widths, strict=True)):
        if a < acc_bits:
            worst = int((np.abs(w) * mag[c][:, None]).sum(axis=0).max(initial=0))
            if worst > (1 << (a - 1)) - 1:
                raise error(f"rtl: core {c} accumulates in {a} bits and may saturate (worst case {worst}), the "
                            f"mesh's cores share ACC_BITS = {acc_bits}: quantize all layers at one acc-bits")
    all_w = np.concatenate([w.reshape(-1) for w, _ in cores]) if cores else np.zeros(0, dtype=np.int64)
    weight_bits = min(_bits_for(all_w), acc_bits)
    # the mul leak: one frac_bits for the whole mesh (quantize uses one per model)
    fracs = sorted({int(f) for _, p in cores if p.shape[0] > 8 for f in p[8][p[6] == 1]})
    if len(fracs) > 1:
        raise error(f"rtl: the layers' mul leaks use different frac_bits ({fracs}); the mesh's cores share one "
                    "FRAC_BITS: quantize all layers at one frac-bits")
    cores = [(w, p if p.shape[0] >= 17 else np.concatenate([p, np.zeros((17 - p.shape[0], p.shape[1]), np.int64)]))
             for w, p in cores]
    fracs = sorted(set(fracs) | {int(f) for _, p in cores for f in p[16][(p[10] == 1) & (p[13] == 1)]})
    if len(fracs) > 1:
        raise error(f"rtl: the layers' mul leaks (membranes and currents) use different frac_bits ({fracs}); the "
                    "mesh's cores share one FRAC_BITS: quantize all layers at one frac-bits")
    frac_bits = fracs[0] if fracs else 0
    cur_unit = int(any((p[10] == 1).any() for _, p in cores))
    for c, (_, p) in enumerate(cores):
        bad = (p[10] == 1) & (p[11] != mem_bits)
        if bad.any():
            raise error(f"rtl: core {c} has current compartments of {int(p[11][bad][0])} bits; the reference core's "
                        f"currents have the membrane width ({mem_bits} bits): quantize currents and membranes at "
                        "one membrane-bits")
    order = [int(c) for c in cfg["order"]]
    grp_cfg = _map_groups(io, order, [int(a) for _, a in widths], [w.shape[0] for w, _ in cores])
    par = int(rtl["par"])
    vmax = (1 << (mem_bits - 1)) - 1
    cfgs = []
    for w, p in cores:
        a, n = w.shape
        nn = max(-(-n // par) * par, par)
        na = max(a, 1)
        W = np.zeros((na, nn), dtype=np.int64)
        W[:a, :n] = w
        pad = nn - n

        def col(row, fill, p=p, pad=pad):
            return np.concatenate([p[row], np.full(pad, fill, dtype=np.int64)])

        cfgs.append(CoreConfig(weights=W, v_th=col(0, vmax), v_reset=col(1, 0), bias=col(2, 0),
                               leak_shift=col(3, 0), reset_mode=col(4, 0), cmp=col(5, 1),
                               ternary=col(9, 0).astype(bool),
                               weight_bits=weight_bits, mem_bits=mem_bits, acc_bits=acc_bits,
                               leak_mul=col(6, 0).astype(bool), decay=col(7, 0), frac_bits=frac_bits,
                               cur_unit=cur_unit, cur=col(10, 0).astype(bool), cur_bias=col(12, 0),
                               cur_leak_shift=np.where(col(13, 0) == 1, 0, col(14, 0)),
                               cur_leak_mul=col(13, 0).astype(bool), cur_decay=col(15, 0),
                               groups=grp_cfg["groups"], axon_group=np.concatenate(
                                   [grp_cfg["axon_group"][len(cfgs)], np.zeros(na - a, np.int64)]),
                               rq_shift=grp_cfg["rq_shift"], rq_half=grp_cfg["rq_half"],
                               gbias=col(0, 0) * 0 if grp_cfg["gbias"][len(cfgs)] is None else np.concatenate(
                                   [grp_cfg["gbias"][len(cfgs)], np.zeros(pad, np.int64)]),
                               gb_delay=grp_cfg["gb_delay"]))
    routes: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for sc, sn, dc, da in io["routes"].tolist():  # sorted by (source, neuron, destination, axon)
        routes.setdefault((sc, sn), []).append((dc, da))
    mesh = MeshConfig(cfgs, routes, order)
    used = [(int(w.shape[0]), int(w.shape[1])) for w, _ in cores]
    report = {
        "target": tgt.name,
        "cores": C,
        "order": order,
        "core_neurons": max(c.n_neurons for c in cfgs),
        "core_axons": max(c.n_axons for c in cfgs),
        "pieces": [{"core": i, "neurons": n, "axons": a} for i, (a, n) in enumerate(used)],
        "neurons": int(sum(n for _, n in used)),
        "synapses": int(sum(int(np.count_nonzero(w)) for w, _ in cores)),
        "routes": len(io["routes"]),
        "fanout": mesh.fanout,
        "weight_bits": weight_bits,
        "membrane_bits": mem_bits,
        "accumulator_bits": acc_bits,
        "mag_bits": mag_bits,
        "frac_bits": frac_bits,
        "current_compartments": int(sum(int(c.cur[:n].sum()) for c, (_, n) in zip(cfgs, used, strict=True))),
        "groups": grp_cfg["groups"],
        "rq_shift": grp_cfg["rq_shift"],
        "rq_half": grp_cfg["rq_half"],
        "gb_delay": grp_cfg["gb_delay"],
        "fifo_depth": int(rtl["fifo_depth"]),
        "par": par,
        "ternary_neurons": int(sum(int(c.ternary[:n].sum()) for c, (_, n) in zip(cfgs, used, strict=True))),
        "weight_memory_bits": int(sum(c.n_axons * c.n_neurons for c in cfgs)) * weight_bits,
    }
    io_json = {"format": "snnc-rtl-io", "version": 1, "cores": C, "neurons": report["core_neurons"],
               "inputs": io["inputs"], "outputs": io["outputs"]}
    return mesh, io_json, report


def _map_groups(io: dict, order: list[int], accs: list[int], n_axons: list[int]) -> dict:
    """The mapping's axon groups -> the core's accumulator banks (GROUPS, axon_group, RQ_SHIFT, RQ_HALF).

    Bank A takes a plain group (no requantization); bank B the other one, requantized by ``(b + h) >>> shift``
    at the update (one shift and rounding for the whole mesh). A delay-1 group is realised by the mesh's
    next-step delivery: every route into it must come from a core that runs at or after this core in the step
    (a recurrence); a delay-0 group's routes must come from earlier cores or the host."""
    pos = {c: k for k, c in enumerate(order)}
    C = len(accs)
    axon_group = [np.zeros(n, dtype=np.int64) for n in n_axons]
    delay = [np.zeros(n, dtype=np.int64) for n in n_axons]
    rq = set()
    two = False
    bias_a: list = [None] * C
    gb_delays: set = set()
    for c, entry in enumerate(io["groups"]):
        if entry is None:
            continue
        gl, grp, gbias, gfirst = entry
        if len(gl) > 2:
            raise error(f"rtl: core {c} of the mapping has {len(gl)} axon groups; the reference core has two "
                        "accumulator banks")
        plain = [g.get("rounding", "none") == "none" or int(g.get("shift", 0)) == 0 for g in gl]
        for k, g in enumerate(gl):
            if int(g["delay"]) not in (0, 1):
                raise error(f"rtl: core {c}'s axon group {k} delays by {g['delay']} steps; the reference mesh "
                            "delays recurrent routes by one step only")
            if int(g["acc_bits"]) != accs[c] or (not plain[k] and int(g["out_bits"]) < accs[c]):
                raise error(f"rtl: core {c}'s axon group {k} accumulates in {g['acc_bits']} bits (out "
                            f"{g['out_bits']}); the reference core's banks use the core's {accs[c]} bits")
        if len(gl) == 2 and not any(plain):
            raise error(f"rtl: core {c} has two requantized axon groups; the reference core requantizes one bank")
        bank_b = 1 if len(gl) == 2 and plain[0] else (0 if len(gl) == 2 else None)
        if bank_b is not None:
            two = True
            g = gl[bank_b]
            if not plain[bank_b]:
                if int(g["shift"]) < 0:
                    raise error(f"rtl: core {c}'s axon group {bank_b} scales up (shift {g['shift']}); the "
                                "reference core's bank B shifts right only")
                rq.add((int(g["shift"]), int(g["rounding"] == "half_up")))
            axon_group[c] = (grp == bank_b).astype(np.int64)
        elif not plain[0]:
            raise error(f"rtl: core {c}'s only axon group is requantized; not supported by the reference core")
        if gbias is not None and gbias.any():
            ka = 1 - bank_b if bank_b is not None else 0
            ga = gl[ka]
            if bank_b is not None and gbias[bank_b].any():
                raise error(f"rtl: core {c}'s requantized axon group {bank_b} has a bias; the reference core adds a "
                            "bias to its plain bank only")
            bits = int(ga["bias_bits"]) if gfirst[ka] else int(ga["out_bits"])
            if bits != accs[c]:
                raise error(f"rtl: core {c}'s axon group {ka} adds its bias at {bits} bits; the reference core adds "
                            f"it at the accumulator's {accs[c]} bits")
            bias_a[c] = gbias[ka]
            gb_delays.add(int(ga["delay"]))
        delay[c] = np.array([int(gl[k]["delay"]) for k in grp], dtype=np.int64)
    if len(rq) > 1:
        raise error(f"rtl: the mapping's requantized axon groups use different shifts/roundings ({sorted(rq)}); the "
                    "mesh's cores share one RQ_SHIFT and RQ_HALF")
    for sc, _sn, dc, da in io["routes"].tolist():
        want = 1 if pos[sc] >= pos[dc] else 0
        if int(delay[dc][da]) != want:
            raise error(f"rtl: a route from core {sc} to core {dc} (axon {da}) needs a delay of {int(delay[dc][da])} "
                        f"step(s), but the mesh delivers it {'in the next step' if want else 'in the same step'} "
                        "(cores run in a fixed order; only recurrent routes are delayed)")
    for spec in io["inputs"]:
        for _, c, a in spec["routes"]:
            if int(delay[c][a]) != 0:
                raise error(f"rtl: graph input '{spec['name']}' reaches a delayed axon group of core {c}; the host "
                            "sends its events in the step they belong to")
    shift, half = (sorted(rq)[0] if rq else (0, 0))
    if len(gb_delays) > 1:
        raise error("rtl: the mapping's biased axon groups have different delays; the mesh's cores share GB_DELAY")
    return {"groups": 2 if two or gb_delays else 1, "axon_group": axon_group, "rq_shift": shift, "rq_half": half,
            "gbias": bias_a, "gb_delay": gb_delays.pop() if gb_delays else 0}


def _vec(values, bits: int) -> str:
    """A packed Verilog constant of len(values) fields of `bits` bits, element 0 in the low bits."""
    total = len(values) * bits
    word = 0
    for i, v in enumerate(values):
        word |= (int(v) & ((1 << bits) - 1)) << (i * bits)
    return f"{total}'h{word:0{(total + 3) // 4}x}"


def cores_vh(mesh: MeshConfig, report: dict) -> str:
    """Per-core localparams: the used sizes and every neuron's parameters as packed vectors."""
    from .sim import widths

    sb = widths(mesh.cores[0])["SB"]
    lines = ["// generated by snnc compile --target rtl: per-core parameters (documentation of the images;",
             "// the cores read them from pXX.memh). Vectors: neuron n at bits [n*B +: B], two's complement.",
             "// reset mode 0 none, 1 hard, 2 soft; cmp 0 ge, 1 gt; leak shift 0 = no leak (unless LEAK_MUL:",
             "// the mul leak v -> (v * DECAY + 2^(f-1)) >>> f, f = FRAC_BITS). Padded neurons",
             "// (index >= COREXX_NEURONS_USED) have v_th = the largest membrane value and cmp gt: they never fire."]
    for i, (c, piece) in enumerate(zip(mesh.cores, report["pieces"], strict=True)):
        N = c.mem_bits
        p = f"CORE{i:02X}"
        lines += [
            f"// core {i}",
            f"localparam integer {p}_NEURONS_USED = {piece['neurons']};",
            f"localparam integer {p}_AXONS_USED = {piece['axons']};",
            f"localparam integer {p}_MEM_BITS = {N};",
            f"localparam integer {p}_ACC_BITS = {c.acc_bits};",
            f"localparam integer {p}_WEIGHT_BITS = {c.weight_bits};",
            f"localparam [{c.n_neurons * N - 1}:0] {p}_V_TH = {_vec(c.v_th, N)};",
            f"localparam [{c.n_neurons * N - 1}:0] {p}_V_RESET = {_vec(c.v_reset, N)};",
            f"localparam [{c.n_neurons * N - 1}:0] {p}_BIAS = {_vec(c.bias, N)};",
            f"localparam [{c.n_neurons * max(sb, 1) - 1}:0] {p}_LEAK_SHIFT = {_vec(c.leak_shift, max(sb, 1))};",
            f"localparam [{c.n_neurons * 2 - 1}:0] {p}_RESET_MODE = {_vec(c.reset_mode, 2)};",
            f"localparam [{c.n_neurons - 1}:0] {p}_CMP_GT = {_vec(c.cmp, 1)};",
        ]
        if c.ternary.any():
            lines.append(f"localparam [{c.n_neurons - 1}:0] {p}_TERNARY = {_vec(c.ternary, 1)};")
        if c.cur.any():
            lines += [f"localparam [{c.n_neurons - 1}:0] {p}_CUR = {_vec(c.cur, 1)};",
                      f"localparam [{c.n_neurons * N - 1}:0] {p}_CUR_BIAS = {_vec(c.cur_bias, N)};",
                      f"localparam [{c.n_neurons * max(sb, 1) - 1}:0] {p}_CUR_LEAK_SHIFT = "
                      f"{_vec(c.cur_leak_shift, max(sb, 1))};"]
            if c.frac_bits:
                lines += [f"localparam [{c.n_neurons - 1}:0] {p}_CUR_MUL = {_vec(c.cur_leak_mul, 1)};",
                          f"localparam [{c.n_neurons * (c.frac_bits + 1) - 1}:0] {p}_CUR_DECAY = "
                          f"{_vec(c.cur_decay, c.frac_bits + 1)};"]
        if c.groups > 1:
            lines += [f"localparam [{c.n_axons - 1}:0] {p}_AXON_GROUP = {_vec(c.axon_group, 1)};",
                      f"localparam [{c.n_neurons * c.acc_bits - 1}:0] {p}_GBIAS = {_vec(c.gbias, c.acc_bits)};"]
        if c.frac_bits:
            lines += [f"localparam integer {p}_FRAC_BITS = {c.frac_bits};",
                      f"localparam [{c.n_neurons - 1}:0] {p}_LEAK_MUL = {_vec(c.leak_mul, 1)};",
                      f"localparam [{c.n_neurons * (c.frac_bits + 1) - 1}:0] {p}_DECAY = "
                      f"{_vec(c.decay, c.frac_bits + 1)};"]
    return "\n".join(lines) + "\n"


MAKEFILE = """\
# generated by snnc compile --target rtl: simulate the design with Icarus Verilog or Verilator.
#   python3 snnc_events.py encode inputs.npz   -> in_spikes.txt (or write it yourself, see snnc_tb.v)
#   make sim-icarus | make sim-verilator       -> out_spikes.txt (spikes and cycles per step)
#   python3 snnc_events.py decode -o out.npz   -> named graph outputs
#   make synth                                 -> synth.log (Yosys, one core at this design's parameters)
SRCS = snnc_lif_core.v snnc_mesh.v snnc_tb.v
IVERILOG ?= iverilog
VVP ?= vvp
VERILATOR ?= verilator
YOSYS ?= yosys

.PHONY: all sim-icarus sim-verilator synth clean
all: sim-icarus

snnc_tb.vvp: $(SRCS) snnc_params.vh
\t$(IVERILOG) -g2005 -Wall -I. -s snnc_tb -o $@ $(SRCS)

sim-icarus: snnc_tb.vvp in_spikes.txt
\t$(VVP) -n snnc_tb.vvp

obj_dir/Vsnnc_tb: $(SRCS) snnc_params.vh
\t$(VERILATOR) --binary --timing -j 0 -O1 -Wno-fatal -Wno-lint -Wno-style -I. --top-module snnc_tb -Mdir obj_dir $(SRCS)

sim-verilator: obj_dir/Vsnnc_tb in_spikes.txt
\t./obj_dir/Vsnnc_tb

synth: snnc_lif_core.v
\t$(YOSYS) -q -l synth.log -p "read_verilog snnc_lif_core.v; hierarchy -check -top snnc_lif_core {chparam}; \\
\t  synth -top snnc_lif_core -run begin:fine; opt -fast -full; opt -full; techmap; opt -fast; abc -fast; \\
\t  opt -fast; memory_unpack; stat"

clean:
\trm -rf snnc_tb.vvp obj_dir out_spikes.txt synth.log
"""


def synth_params(report: dict) -> dict:
    p = {"N_NEURONS": report["core_neurons"], "N_AXONS": report["core_axons"], "WEIGHT_BITS": report["weight_bits"],
         "MEM_BITS": report["membrane_bits"], "ACC_BITS": report["accumulator_bits"],
         "FIFO_DEPTH": report["fifo_depth"], "PAR": report["par"]}
    if report["mag_bits"] != 1:
        p["MAG_BITS"] = report["mag_bits"]
    if report["frac_bits"]:
        p["FRAC_BITS"] = report["frac_bits"]
    if report["current_compartments"]:
        p["CUR"] = 1
    if report["groups"] > 1:
        p.update(GROUPS=2, RQ_SHIFT=report["rq_shift"], RQ_HALF=report["rq_half"], GB_DELAY=report["gb_delay"])
    return p


def _write_all(mesh: MeshConfig, io_json: dict, report: dict, d: Path) -> None:
    mag_bits, fifo, par = report["mag_bits"], report["fifo_depth"], report["par"]
    write_images(mesh, d, fifo, par, mag_bits, relative=True, header="snnc compile --target rtl")
    (d / "cores.vh").write_text(cores_vh(mesh, report))
    for f in HDL_FILES:
        shutil.copyfile(HDL_DIR / f, d / f)
    shutil.copyfile(Path(__file__).with_name("events.py"), d / "snnc_events.py")
    chparam = " ".join(f"-chparam {k} {v}" for k, v in synth_params(report).items())
    (d / "Makefile").write_text(MAKEFILE.replace("{chparam}", chparam))
    (d / "io.json").write_text(json.dumps(io_json, indent=1, sort_keys=True) + "\n")
    (d / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")


def generate(module, out_dir, target=TARGET) -> RtlDesign:
    """Write the design of ``module`` (integer spike IR) into ``out_dir``; nothing is written on a diagnostic.

    The directory is built beside ``out_dir`` and moved into place; an existing ``out_dir`` is replaced only
    when it holds a previous design (``io.json`` of this format) or is empty."""
    mesh, io_json, report = build_mesh(module, target)
    out = Path(out_dir)
    if out.exists():
        if not out.is_dir():
            raise error(f"rtl: output '{out}' exists and is not a directory")
        old = out / "io.json"
        if any(out.iterdir()) and not (old.exists() and '"snnc-rtl-io"' in old.read_text()):
            raise error(f"rtl: output directory '{out}' is not empty and does not hold an snnc RTL design")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
        tmp.chmod(0o755)
    except OSError as e:
        raise error(f"cannot write '{out}': {e.strerror or e}") from None
    try:
        _write_all(mesh, io_json, report, tmp)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise error(f"cannot write '{out}': {e.strerror or e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = sorted(p for p in out.iterdir() if p.is_file())
    return RtlDesign(out, mesh, report["mag_bits"], report["fifo_depth"], report["par"], io_json, report, files)


__all__ = ["RtlDesign", "build_mesh", "cores_vh", "generate", "map_module", "synth_params"]
