"""Placement analysis: split layers into core-sized pieces and assign them to the cores of a 2-D mesh.

Works on a neutral :class:`LayerGraph` (layers with neuron counts and fan-in, weighted edges), which
:func:`layer_graph_from_module` extracts from graph-level (nn/snn) or spike-level IR, so placement never
materialises individual synapses: synapse counts are per layer (neurons x fan-in).

Algorithm (deterministic):
1. split: a piece of layer L holds at most ``min(neurons_per_core, synapse_memory_bits // (fan_in(L) * weight_bits))``
   output neurons; a layer whose single neuron exceeds the core fan-in or synapse memory is a diagnostic naming the
   layer, the resource and the excess, as is a model needing more cores than the mesh has;
2. initial assignment: pieces in topological (layer, piece) order along a serpentine (boustrophedon) walk of the mesh;
3. refinement: pairwise swaps of cores (a fixed-seed random sweep, then accepted only when the cost
   sum(traffic x XY hops) strictly decreases), up to ``sweeps`` passes;
4. routing: XY (dimension-ordered) routes for every (source piece, destination core) pair; per-link loads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from snnc.ir.diagnostics import error


@dataclass
class Layer:
    name: str
    neurons: int
    fan_in: int
    rate: float = 1.0  # expected spikes per neuron per step (calibration firing rate, or 1 = fan-out count)


@dataclass
class LayerGraph:
    layers: list[Layer]
    edges: list[tuple[int, int]]  # (source layer index, destination layer index); sources feed destinations

    @property
    def neurons(self) -> int:
        return sum(layer.neurons for layer in self.layers)

    @property
    def synapses(self) -> int:
        return sum(layer.neurons * layer.fan_in for layer in self.layers)


@dataclass
class Placement:
    rows: int
    cols: int
    piece_layer: np.ndarray  # [P] layer index of each piece
    piece_start: np.ndarray  # [P] first output neuron of the piece within its layer
    piece_size: np.ndarray  # [P] neurons in the piece
    core_of: np.ndarray  # [P] core index (row * cols + col)
    traffic: dict[tuple[int, int], float] = field(repr=False)  # (src piece, dst piece) -> expected packets/step
    cores_lower_bound: int = 0

    def coords(self, core: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(core) // self.cols, np.asarray(core) % self.cols

    def hops(self, a, b) -> np.ndarray:
        ra, ca = self.coords(a)
        rb, cb = self.coords(b)
        return np.abs(ra - rb) + np.abs(ca - cb)

    def cost(self) -> float:
        if not self.traffic:
            return 0.0
        src, dst = np.array(list(self.traffic)).T
        w = np.fromiter(self.traffic.values(), float)
        return float((w * self.hops(self.core_of[src], self.core_of[dst])).sum())

    def routing_tables(self) -> dict[int, list[int]]:
        """Source piece -> sorted destination cores (one packet per spike per destination core, XY-routed)."""
        table: dict[int, set[int]] = {}
        for s, d in self.traffic:
            table.setdefault(int(s), set()).add(int(self.core_of[d]))
        return {s: sorted(v) for s, v in sorted(table.items())}

    def link_loads(self) -> dict[tuple[int, int], float]:
        """Expected packets/step on each directed mesh link (core, neighbour core), XY routing (X first, then Y)."""
        loads: dict[tuple[int, int], float] = {}
        for (s, d), w in self.traffic.items():
            a, b = int(self.core_of[s]), int(self.core_of[d])
            r, c = divmod(a, self.cols)
            rb, cb = divmod(b, self.cols)
            while c != cb:
                n = c + (1 if cb > c else -1)
                key = (r * self.cols + c, r * self.cols + n)
                loads[key] = loads.get(key, 0.0) + w
                c = n
            while r != rb:
                n = r + (1 if rb > r else -1)
                key = (r * self.cols + c, n * self.cols + c)
                loads[key] = loads.get(key, 0.0) + w
                r = n
        return loads

    def report(self, graph: LayerGraph) -> dict:
        total = sum(self.traffic.values())
        inter = sum(w for (s, d), w in self.traffic.items() if self.core_of[s] != self.core_of[d])
        loads = self.link_loads()
        return {
            "cores_used": int(len(np.unique(self.core_of))),
            "cores_lower_bound": int(self.cores_lower_bound),
            "neurons": int(graph.neurons),
            "synapses": int(graph.synapses),
            "intercore_spikes": float(inter),
            "max_link_load": float(max(loads.values(), default=0.0)),
            "mean_hops": float(self.cost() / total) if total else 0.0,
        }


def _serpentine(rows: int, cols: int) -> np.ndarray:
    order = []
    for r in range(rows):
        cs = range(cols) if r % 2 == 0 else range(cols - 1, -1, -1)
        order.extend(r * cols + c for c in cs)
    return np.array(order, dtype=np.int64)


def place(graph: LayerGraph, target, *, sweeps: int = 4, seed: int = 0) -> Placement:
    """Place ``graph`` on ``target`` (a :class:`snnc.targets.Target` of kind neuro-core)."""
    core = target["core"]
    rows, cols = target["mesh"]["rows"], target["mesh"]["cols"]
    wbits = core["weight_bits"]
    sizes, lb_terms = [], [0, 0]
    for layer in graph.layers:
        if layer.fan_in > core["fan_in"]:
            raise error(f"layer '{layer.name}' does not fit: fan-in {layer.fan_in} exceeds the core fan-in "
                        f"{core['fan_in']} by {layer.fan_in - core['fan_in']}")
        per_neuron_bits = layer.fan_in * wbits
        if per_neuron_bits > core["synapse_memory_bits"]:
            raise error(f"layer '{layer.name}' does not fit: one neuron needs {per_neuron_bits} bits of synapse "
                        f"memory, {per_neuron_bits - core['synapse_memory_bits']} bits over the core's "
                        f"{core['synapse_memory_bits']}")
        cap = core["neurons"] if per_neuron_bits == 0 else min(core["neurons"],
                                                               core["synapse_memory_bits"] // per_neuron_bits)
        sizes.append(cap)
        lb_terms[0] += layer.neurons
        lb_terms[1] += layer.neurons * per_neuron_bits
    lower = max(math.ceil(lb_terms[0] / core["neurons"]), math.ceil(lb_terms[1] / core["synapse_memory_bits"]), 1)
    pl, ps, pz, first = [], [], [], []
    for i, (layer, cap) in enumerate(zip(graph.layers, sizes, strict=True)):
        first.append(len(pl))
        starts = np.arange(0, layer.neurons, cap)
        pl.extend([i] * len(starts))
        ps.extend(starts.tolist())
        pz.extend(np.minimum(cap, layer.neurons - starts).tolist())
    first.append(len(pl))
    n_pieces = len(pl)
    if n_pieces > rows * cols:
        worst = max(range(len(graph.layers)), key=lambda i: first[i + 1] - first[i])
        raise error(f"model needs {n_pieces} cores, the target has {rows * cols} (excess {n_pieces - rows * cols}); "
                    f"largest layer '{graph.layers[worst].name}' takes {first[worst + 1] - first[worst]} cores")
    piece_size = np.array(pz, dtype=np.int64)
    traffic: dict[tuple[int, int], float] = {}
    for s, d in graph.edges:
        rate = graph.layers[s].rate
        for sp in range(first[s], first[s + 1]):
            w = float(rate * piece_size[sp])
            for dp in range(first[d], first[d + 1]):
                traffic[(sp, dp)] = traffic.get((sp, dp), 0.0) + w
    pm = Placement(rows, cols, np.array(pl, dtype=np.int64), np.array(ps, dtype=np.int64), piece_size,
                   _serpentine(rows, cols)[:n_pieces].copy(), traffic, lower)
    _refine(pm, sweeps, seed)
    return pm


def _refine(pm: Placement, sweeps: int, seed: int) -> None:
    """Greedy pairwise swaps (pieces with free cores too), fixed-seed order; keeps a swap only if the cost drops."""
    n = len(pm.core_of)
    if n < 2 or not pm.traffic:
        return
    ncores = pm.rows * pm.cols
    nbrs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for (s, d), w in pm.traffic.items():
        if s != d:
            nbrs[s].append((d, w))
            nbrs[d].append((s, w))
    nb_idx = [np.array([j for j, _ in v], dtype=np.int64) for v in nbrs]
    nb_w = [np.array([w for _, w in v]) for v in nbrs]
    occupant = np.full(ncores, -1, dtype=np.int64)
    occupant[pm.core_of] = np.arange(n)
    rng = np.random.default_rng(seed)

    def local(p: int, core: int) -> float:
        if len(nb_idx[p]) == 0:
            return 0.0
        return float((nb_w[p] * pm.hops(core, pm.core_of[nb_idx[p]])).sum())

    for _ in range(sweeps):
        improved = False
        for p in rng.permutation(n):
            cp = int(pm.core_of[p])
            best, best_gain = None, 1e-9
            for c in rng.choice(ncores, size=min(ncores, 16), replace=False):
                c = int(c)
                if c == cp:
                    continue
                q = int(occupant[c])
                before = local(p, cp) + (local(q, c) if q >= 0 else 0.0)
                pm.core_of[p] = c
                if q >= 0:
                    pm.core_of[q] = cp
                after = local(p, c) + (local(q, cp) if q >= 0 else 0.0)
                pm.core_of[p] = cp
                if q >= 0:
                    pm.core_of[q] = c
                if before - after > best_gain:
                    best, best_gain = c, before - after
            if best is not None:
                q = int(occupant[best])
                pm.core_of[p] = best
                occupant[best] = p
                occupant[cp] = q
                if q >= 0:
                    pm.core_of[q] = cp
                improved = True
        if not improved:
            break


def sequential_placement(graph: LayerGraph, target) -> Placement:
    """The baseline: the same pieces on cores in plain row-major order, no refinement."""
    pm = place(graph, target, sweeps=0)
    pm.core_of = np.arange(len(pm.core_of), dtype=np.int64)
    return pm





def layer_graph_from_module(module, rates: dict[str, float] | None = None) -> LayerGraph:
    """Extract the :class:`LayerGraph` of graph-level or spike-level IR.

    A layer is an op carrying a tensor ``weight`` attribute of rank >= 2 (nn.linear / nn.conv*, spike.accumulate*):
    its neurons are the elements of its result, its fan-in is ``weight.size / weight.shape[0]`` (inputs per output
    neuron). Layer A feeds layer B when an operand of B reaches A's result through ops without weights (neurons,
    pools, reshapes, adds). ``rates`` maps layer names (``<op name>#<index>``) to calibration firing rates.
    """
    ops = []

    def visit(op) -> None:
        for region in op.regions:
            for block in region.blocks:
                for inner in block.ops:
                    ops.append(inner)
                    visit(inner)

    visit(module)

    def is_layer(op) -> bool:
        w = op.attributes.get("weight")
        return w is not None and hasattr(w, "type") and len(getattr(w.type, "shape", ())) >= 2

    index: dict[int, int] = {}
    layers: list[Layer] = []
    for op in ops:
        if is_layer(op) and op.results:
            shape = op.attributes["weight"].type.shape
            name = f"{op.name}#{len(layers)}"
            neurons = int(np.prod(op.results[0].type.shape))
            layers.append(Layer(name, neurons, int(np.prod(shape[1:])), (rates or {}).get(name, 1.0)))
            index[id(op)] = len(layers) - 1
    edges: set[tuple[int, int]] = set()
    for op in ops:
        if id(op) not in index:
            continue
        stack, seen = [v for v in op.operands], set()
        while stack:
            d = stack.pop().defining_op()
            if d is None or id(d) in seen:
                continue
            seen.add(id(d))
            if id(d) in index:
                edges.add((index[id(d)], index[id(op)]))
            else:
                stack.extend(d.operands)
    return LayerGraph(layers, sorted(edges))
__all__ = ["Layer", "LayerGraph", "Placement", "layer_graph_from_module", "place", "sequential_placement"]
