"""Map an integer ``spike`` graph (after ``canonicalize,quantize``) onto neuro-core cores.

Every ``spike.lif`` (binary spikes) is a layer of chip neurons.  Its input must be a *linear* function of
sources -- spikes of earlier ``spike.lif`` layers, spike graph inputs, or quantized / integer graph inputs --
built from ``spike.accumulate``, ``spike.accumulate_dense``, ``spike.accumulate_conv2d`` (expanded into its dense
[out, in] synapse matrix), ``spike.sum_pool2d`` (a synapse matrix of ones, composed into the next synapse),
layout ops (``nn.flatten``, ``nn.reshape``) and ``spike.add`` of several such terms.  The composed integer matrix
per (layer, source) is the synapse table; its nonzero entries are the synapses.

Exactness: a layer fed by one synapse op directly from its source keeps the IR's accumulator width, and the chip
adds events in increasing axon order (= increasing input index), so saturation happens as in the IR.  A composed
input (pool into conv, several terms summed) is mapped only when its worst case ``sum |w| * max|x|`` fits every
intermediate width and the accumulator, so no saturation can occur on either side and the sums are equal; otherwise
a diagnostic.  Real-valued graph inputs are quantized on the host (``spike.quantize``'s scale and width are in the
configuration) and sent as graded events (payload x adds ``x * w``).

Not mappable (a diagnostic at the op): ``spike.li`` / ``spike.requant`` / ``snn.delay`` / ``spike.max_pool2d`` /
attention ops (``spike.and``, ``spike.popcount``, ``spike.matmul``), ternary (``si2``) neurons, float ops, and
outputs that are not spikes of a LIF layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...ir.diagnostics import error

LAYOUT_OPS = ("nn.flatten", "nn.reshape")
WHY = {
    "spike.li": "a non-spiking membrane readout (CUBA current compartments are not modelled by the chip)",
    "spike.requant": "the chip adds synaptic sums to the membrane without a shift",
    "snn.delay": "synaptic delays are not modelled by the chip",
    "spike.max_pool2d": "max pooling is not a synaptic sum",
    "spike.and": "spike-driven attention needs a multiplier of spike pairs",
    "spike.popcount": "spike-driven attention reductions are not a synapse table",
    "spike.matmul": "spike x spike products are not a fixed synapse table",
    "spike.dequantize": "real-valued outputs need the host",
}


@dataclass
class NeuroCoreArtifact:
    out_dir: Path
    report: dict
    cores: int
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class _Source:
    key: int  # id of the defining op
    kind: str  # "layer" | "spikes" | "quantized" | "integer"
    size: int
    bound: int  # max |x|
    layer: int = -1  # layer index for kind "layer"
    input_index: int = -1


def _loc(op):
    return getattr(op, "location", None)


def _conv_matrix(op, in_shape, out_shape, weight, groups, stride, pads, dilation) -> np.ndarray:
    """Dense [out, in] matrix of a (grouped) cross-correlation, zero padding (vectorised index arithmetic:
    ``im2col`` of the input index map gives, per output position and kernel tap, the input element it reads)."""
    from ...interp.spike import im2col

    C, H, W = in_shape
    cout, cg, kh, kw = weight.shape
    og = cout // groups
    P = int(np.prod(out_shape[1:]))
    K = cg * kh * kw
    M = np.zeros((cout * P, C * H * W), dtype=np.int64)
    idx = (np.arange(C * H * W, dtype=np.int64) + 1).reshape(1, C, H, W)
    for g in range(groups):
        cols, _ = im2col(idx[:, g * cg:(g + 1) * cg], (kh, kw), stride, pads, dilation)  # [1, K, P], 0 = padding
        cols = np.asarray(cols[0], dtype=np.int64)
        wg = np.asarray(weight[g * og:(g + 1) * og], dtype=np.int64).reshape(og, K)
        rows = ((g * og + np.arange(og, dtype=np.int64))[:, None, None] * P
                + np.arange(P, dtype=np.int64)[None, None, :])  # [og, 1, P]
        rows = np.broadcast_to(rows, (og, K, P))
        src = np.broadcast_to(cols[None], (og, K, P))
        val = np.broadcast_to(wg[:, :, None], (og, K, P))
        ok = (src > 0) & (val != 0)
        # distinct taps of one output read distinct inputs (padding excluded), so plain assignment is exact
        M[rows[ok], src[ok] - 1] = val[ok]
    return M


def _int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer product; through float64 BLAS when every partial sum stays below 2^53 (then exact)."""
    if a.size and b.size and int(np.abs(a).max()) * int(np.abs(b).max()) * a.shape[1] < (1 << 53):
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a @ b


class _Tracer:
    def __init__(self, target):
        self.target = target
        self.sources: dict[int, _Source] = {}
        self.layers: list = []  # spike.lif ops
        self.layer_of: dict[int, int] = {}
        self.inputs: list = []  # (snn.input op, kind, quantize op or None)
        self.memo: dict[int, tuple[dict[int, np.ndarray], np.ndarray, bool]] = {}

    def source_of_value(self, v):
        from ...dialects import spike as sp
        from ...ir.types import TensorType, i1

        d = v.defining_op()
        if d is None:
            raise error("neuro-core: a block argument cannot feed a synapse")
        if d.op_name == "spike.lif":
            if id(d) not in self.layer_of:
                raise error("neuro-core: spike.lif used before it is defined", _loc(d))
            li = self.layer_of[id(d)]
            return self._src(id(d), "layer", int(np.prod(v.type.shape)), 1, layer=li)
        if d.op_name == "snn.input":
            t = v.type
            assert isinstance(t, TensorType)
            if not hasattr(t.element, "width") or t.element.__class__.__name__ != "IntegerType":
                raise error(f"neuro-core cannot take the real-valued input '{d.attr('name')}' directly: it must be "
                            "quantized (spike.quantize) by the host", _loc(d))
            kind = "spikes" if t.element == i1 else "integer"
            return self._src(id(d), kind, int(np.prod(t.shape)), sp.value_bound(t), inp=(d, kind, None))
        if d.op_name == "spike.quantize":
            g = d.operands[0].defining_op()
            if g is None or g.op_name != "snn.input":
                raise error("neuro-core: spike.quantize of an inner value needs a host in the loop; only graph "
                            "inputs may be quantized", _loc(d))
            return self._src(id(d), "quantized", int(np.prod(v.type.shape)), sp.value_bound(v.type), inp=(g, "quantized", d))
        return None

    def _src(self, key, kind, size, bound, layer=-1, inp=None):
        if key not in self.sources:
            s = _Source(key, kind, size, bound, layer)
            if inp is not None:
                s.input_index = len(self.inputs)
                self.inputs.append(inp)
            self.sources[key] = s
        return self.sources[key]

    def trace(self, v):
        """(matrices {source key: [n_v, n_src]}, worst-case |value| per element, the first op that may saturate)."""
        from ...dialects import spike as sp
        from ...dialects.common import int_tuple
        from ...dialects.nn import spatial_padding

        src = self.source_of_value(v)
        n = int(np.prod(v.type.shape))
        if src is not None:
            return {src.key: np.eye(n, dtype=np.int64)}, np.full(n, src.bound, dtype=np.int64), None
        d = v.defining_op()
        if id(d) in self.memo:
            return self.memo[id(d)]
        name = d.op_name
        if name in ("spike.accumulate", "spike.accumulate_dense", "spike.accumulate_conv2d", "spike.sum_pool2d"):
            inner, ib, idirect = self.trace(d.operands[0])  # idirect: the first op that may saturate
            if name == "spike.sum_pool2d":
                C = v.type.shape[0]
                kh, kw = int_tuple(d, "kernel_size")
                Wm = np.ones((C, 1, kh, kw), dtype=np.int64)
                W = _conv_matrix(d, tuple(d.operands[0].type.shape), tuple(v.type.shape), Wm, C,
                                 int_tuple(d, "stride"), spatial_padding(d, 2), (1, 1))
            elif name == "spike.accumulate_conv2d":
                W = _conv_matrix(d, tuple(d.operands[0].type.shape), tuple(v.type.shape),
                                 np.asarray(d.get_attr("weight").data, dtype=np.int64), int(d.attr("groups")),
                                 int_tuple(d, "stride"), spatial_padding(d, 2), int_tuple(d, "dilation"))
            else:
                W = np.asarray(d.get_attr("weight").data, dtype=np.int64)
            if self.source_of_value(d.operands[0]) is not None:  # inner is the identity: no product needed
                mats = {k: W for k in inner}
            else:
                mats = {k: _int_matmul(W, m) for k, m in inner.items()}
            res = (mats, np.abs(W) @ ib, idirect)
        elif name in LAYOUT_OPS:
            res = self.trace(d.operands[0])
        elif name == "spike.add":
            a, ab, asat = self.trace(d.operands[0])
            b, bb, bsat = self.trace(d.operands[1])
            mats = dict(a)
            for k, m in b.items():
                mats[k] = mats[k] + m if k in mats else m
            res = (mats, ab + bb, asat or bsat)
        else:
            why = WHY.get(name, "the chip has no such operation" if name.startswith("spike.")
                          else "a float operation (the chip is integer-only; lower with canonicalize,quantize first)")
            raise error(f"neuro-core cannot run '{name}': {why}", _loc(d))
        if name not in LAYOUT_OPS and res[2] is None:
            lo, hi = sp.signed_range(sp.width(v.type))
            if res[1].size and int(res[1].max()) > hi:
                res = (res[0], res[1], d)
        self.memo[id(d)] = res
        return res


def _param(op, name, n, default=0):
    v = op.attr(name)
    return np.broadcast_to(np.asarray(default if v is None else v, dtype=np.int64), op.results[0].type.shape).reshape(n)


def emit(module, target="neuro-core", out_dir=".", *, inputs: dict[str, np.ndarray] | None = None,
         seed: int = 0) -> NeuroCoreArtifact:
    """Write the configuration and ``report.json`` for ``module`` (integer spike IR) into ``out_dir``.

    ``inputs`` (named graph inputs [T, *shape], e.g. the calibration data): the report's energy comes from a
    simulated run on them; otherwise from expected activity (every neuron updated each step, 10 % firing)."""
    from ...dialects import spike as sp
    from ...dialects.snn import find_graph
    from ...ir.types import i1
    from ...passes.place import Layer, LayerGraph, place
    from ...sim import write_config
    from ...targets import load_target

    tgt = load_target(target) if isinstance(target, str) else target
    if tgt.kind != "neuro-core":
        raise error(f"target '{tgt.name}' is not a neuro-core target (kind '{tgt.kind}')")
    core = tgt["core"]
    out = Path(out_dir)
    g = find_graph(module)
    tr = _Tracer(tgt)
    layer_in: list[tuple[dict[int, np.ndarray], np.ndarray, bool]] = []
    for op in g.body.ops:
        if op.op_name != "spike.lif":
            continue
        t = op.results[0].type
        if t.element != i1:
            raise error("neuro-core cannot run a ternary (si2) spike.lif: the chip's neurons fire binary spikes "
                        f"(target ternary = {tgt['core'].get('ternary', False)})", _loc(op))
        layer_in.append(tr.trace(op.operands[0]))
        tr.layer_of[id(op)] = len(tr.layers)
        tr.layers.append(op)
    if not tr.layers:
        raise error("neuro-core: the graph has no spike.lif layer to map")
    # outputs
    out_specs = []
    for o in g.outputs():
        v = o.operands[0]
        d = v.defining_op()
        while d is not None and d.op_name in LAYOUT_OPS:
            v = d.operands[0]
            d = v.defining_op()
        if d is None or d.op_name != "spike.lif":
            nm = d.op_name if d is not None else "a block argument"
            raise error(f"neuro-core cannot produce graph output '{o.attr('name')}' from '{nm}': chip outputs are "
                        "the spikes of a LIF layer", _loc(o))
        out_specs.append((str(o.attr("name")), list(o.operands[0].type.shape), tr.layer_of[id(d)]))
    wmax = (1 << (core["weight_bits"] - 1)) - 1
    amax_t = (1 << (core["accumulator_bits"] - 1)) - 1
    layers, widths, params = [], [], []
    for li, (op, (mats, bound, sat_op)) in enumerate(zip(tr.layers, layer_in, strict=True)):
        n = int(np.prod(op.results[0].type.shape))
        d = op.operands[0].defining_op()
        direct = (d is not None and d.op_name in ("spike.accumulate", "spike.accumulate_dense", "spike.accumulate_conv2d")
                  and tr.source_of_value(d.operands[0]) is not None)
        if sat_op is not None and not direct:
            raise error(f"neuro-core: '{sat_op.op_name}' may saturate (its worst case exceeds its width) inside a "
                        "composed synapse; the chip sums it in one accumulator, so the result could differ from the "
                        "IR's saturation order", _loc(sat_op))
        for m in mats.values():
            if m.size and int(np.abs(m).max()) > wmax:
                raise error(f"neuro-core: layer {li} ('spike.lif') has a synaptic weight {int(np.abs(m).max())} "
                            f"beyond the core's {core['weight_bits']}-bit weights", _loc(op))
        N = int(op.attr("membrane_bits"))
        if N > core["membrane_bits"]:
            raise error(f"neuro-core: layer {li} needs {N}-bit membranes, the core has {core['membrane_bits']} "
                        f"(excess {N - core['membrane_bits']} bits)", _loc(op))
        A_ir = sp.width(op.operands[0].type)
        worst = int(bound.max(initial=0))
        if A_ir <= core["accumulator_bits"] and (direct or worst <= (1 << (A_ir - 1)) - 1):
            A = A_ir
        elif worst <= amax_t:
            A = core["accumulator_bits"]
        else:
            raise error(f"neuro-core: layer {li}'s {A_ir}-bit accumulator may reach {worst}, beyond the core's "
                        f"{core['accumulator_bits']}-bit accumulator", _loc(op))
        mode = str(op.attr("leak_mode"))
        if mode not in core["leak_modes"]:
            raise error(f"neuro-core cannot run leak mode '{mode}' (the core has {', '.join(core['leak_modes'])})", _loc(op))
        reset = str(op.attr("reset"))
        if reset not in core["reset_modes"]:
            raise error(f"neuro-core cannot run reset mode '{reset}'", _loc(op))
        p = np.zeros((9, n), dtype=np.int64)
        p[0] = _param(op, "v_th", n)
        p[1] = _param(op, "v_reset", n)
        p[2] = _param(op, "bias", n)
        if mode == "shift":
            p[3] = _param(op, "leak_shift", n)
        elif mode == "mul":
            p[6] = 1
            p[7] = _param(op, "decay", n)
            p[8] = int(op.attr("frac_bits"))
        p[4] = {"none": 0, "hard": 1, "soft": 2}[reset]
        p[5] = 1 if op.attr("cmp") == "gt" else 0
        params.append(p)
        widths.append((N, A))
        fan = max((int(np.count_nonzero(np.hstack([m for m in mats.values()]) if mats else 0, axis=1).max(initial=0))
                   if mats else 0), 1)
        layers.append(Layer(f"spike.lif#{li}", n, fan))
    edges = sorted({(tr.sources[k].layer, li) for li, (mats, _, _) in enumerate(layer_in) for k in mats
                    if tr.sources[k].kind == "layer"})
    graph = LayerGraph(layers, edges)
    pm = place(graph, tgt)
    cols = tgt["mesh"]["cols"]
    # cores in (layer, piece) order: that is the per-step order (topological)
    n_pieces = len(pm.piece_layer)
    piece_core = list(range(n_pieces))
    where: list[np.ndarray] = []  # per layer: [neurons, 2] = (core id, local neuron)
    for li, layer in enumerate(layers):
        w = np.zeros((layer.neurons, 2), dtype=np.int64)
        for p in np.nonzero(pm.piece_layer == li)[0]:
            s, z = int(pm.piece_start[p]), int(pm.piece_size[p])
            w[s:s + z, 0] = piece_core[p]
            w[s:s + z, 1] = np.arange(z)
        where.append(w)
    cores, routes, in_routes = [], [], {k: [] for k in range(len(tr.inputs))}
    synapses = 0
    src_keys = sorted(tr.sources, key=lambda k: (tr.sources[k].kind != "layer", tr.sources[k].layer,
                                                 tr.sources[k].input_index))
    for p in range(n_pieces):
        li = int(pm.piece_layer[p])
        s, z = int(pm.piece_start[p]), int(pm.piece_size[p])
        mats = layer_in[li][0]
        blocks, axon = [], 0
        for k in src_keys:
            if k not in mats:
                continue
            m = mats[k][s:s + z]
            used = np.nonzero(np.any(m != 0, axis=0))[0]
            if len(used) == 0:
                continue
            blocks.append(m[:, used].T)
            src = tr.sources[k]
            for a, j in enumerate(used.tolist()):
                if src.kind == "layer":
                    sc, sn = where[src.layer][j]
                    routes.append((int(sc), int(sn), p, axon + a))
                else:
                    in_routes[src.input_index].append((j, p, axon + a))
            axon += len(used)
        if axon > core["fan_in"]:
            raise error(f"neuro-core: a piece of layer '{layers[li].name}' needs {axon} input axons, the core has "
                        f"{core['fan_in']} (excess {axon - core['fan_in']})", _loc(tr.layers[li]))
        wt = np.vstack(blocks) if blocks else np.zeros((0, z), dtype=np.int64)
        synapses += int(np.count_nonzero(wt))
        cores.append((wt, params[li][:, s:s + z]))
    routes.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    positions = [divmod(int(pm.core_of[p]), cols) for p in range(n_pieces)]
    out.mkdir(parents=True, exist_ok=True)
    from ...dialects.common import param_array

    in_specs = []
    for k, (iop, kind, q) in enumerate(tr.inputs):
        shape = list(iop.results[0].type.shape)
        spec = {"name": str(iop.attr("name")), "shape": shape, "kind": kind, "routes": f"input{k}_routes.npy"}
        if q is not None:
            spec["bits"] = sp.width(q.results[0].type)
            np.save(out / f"input{k}_scale.npy", np.broadcast_to(param_array(q, "scale", np.float64), shape).copy())
        np.save(out / f"input{k}_routes.npy", np.asarray(in_routes[k], dtype=np.int64).reshape(-1, 3))
        in_specs.append(spec)
    for k, iop in enumerate(g.inputs()):
        if not any(s["name"] == str(iop.attr("name")) for s in in_specs):  # an unused input: nothing to route
            np.save(out / f"input_unused{k}_routes.npy", np.zeros((0, 3), dtype=np.int64))
            in_specs.append({"name": str(iop.attr("name")), "shape": list(iop.results[0].type.shape),
                             "kind": "spikes", "routes": f"input_unused{k}_routes.npy"})
    o_specs = []
    for k, (name, shape, li) in enumerate(out_specs):
        np.save(out / f"output{k}_neurons.npy", where[li])
        o_specs.append({"name": name, "shape": shape, "neurons": f"output{k}_neurons.npy"})
    energy = dict(tgt["energy"])
    write_config(out, cores, routes, list(range(n_pieces)), weight_bits=core["weight_bits"],
                 membrane_bits=core["membrane_bits"], accumulator_bits=core["accumulator_bits"],
                 mesh=(tgt["mesh"]["rows"], cols), positions=positions, core_widths=[widths[int(pm.piece_layer[p])]
                                                                                     for p in range(n_pieces)],
                 extra={"energy": energy, "inputs": in_specs, "outputs": o_specs, "target": tgt.name})
    rep = pm.report(graph)
    rep["synapses"] = synapses
    rep["routes"] = len(routes)
    if inputs is not None:
        from ...sim import run_config

        _, res = run_config(out, inputs)
        rep.update({"energy_pj": float(res.energy_pj or 0.0), "energy_basis": f"simulated run of {res.steps} steps "
                    "on the given inputs", "sim_steps": res.steps, "synaptic_ops": res.synaptic_ops,
                    "packets": res.packets, "hops": res.hops})
    else:
        rate = 0.1
        syn_per_step = rate * synapses
        packets = rate * len({(r[0], r[1], r[2]) for r in routes})
        hop_sum = rate * sum(abs(positions[r[0]][0] - positions[r[2]][0]) + abs(positions[r[0]][1] - positions[r[2]][1])
                             for r in {(r[0], r[1], r[2]) for r in routes})
        e = (syn_per_step * energy["synaptic_op_pj"] + graph.neurons * energy["neuron_update_pj"]
             + packets * energy["packet_pj"] + hop_sum * energy["hop_pj"])
        rep.update({"energy_pj": float(e), "energy_basis": "expected per time step: every neuron updated, "
                    f"{int(rate * 100)} % of neurons firing (no inputs given)"})
    (out / "report.json").write_text(json.dumps(rep, indent=1, sort_keys=True) + "\n")
    return NeuroCoreArtifact(out, rep, n_pieces, {"config": out / "config.json", "report": out / "report.json"})
