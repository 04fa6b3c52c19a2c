"""Placement analysis: split layers into core-sized pieces and assign them to the cores of a 2-D mesh.

Works on a neutral :class:`LayerGraph` (layers with neuron counts and fan-in, weighted edges), which
:func:`layer_graph_from_module` extracts from graph-level (nn/snn) or spike-level IR, so placement never
materialises individual synapses: synapse counts are per layer (neurons x fan-in).

Cost: ``sum over (source piece, destination piece) of traffic x XY hops`` between their cores, where traffic is
the expected packets per step (source layer firing rate x source piece neurons; one packet per spike per
destination piece). Algorithm (deterministic: same graph, target and seed give the same placement):

1. split: a piece of layer L holds at most ``min(neurons_per_core, synapse_memory_bits // (fan_in(L) * weight_bits))``
   output neurons; a layer whose single neuron exceeds the core fan-in or synapse memory is a diagnostic naming the
   layer, the resource and the excess, as is a model needing more cores than the mesh has;
2. start: min-cut recursive bisection (``networkx`` Kernighan-Lin) of the undirected piece traffic graph onto the
   smallest near-square rectangle of cores holding all pieces: the rectangle is halved along its longer side, the
   pieces (padded with weightless "free core" nodes up to the rectangle's size, so KL also decides where free cores
   go) are bisected by KL from the (layer, piece)-order split with the halves' sizes, and each half recurses;
3. refinement, both on the whole mesh (pieces may also move into free cores):
   a. simulated annealing over swaps / moves of a random piece to a core within a shrinking window of its own core
      (fixed-seed generator, geometric cooling, Metropolis acceptance), keeping the best assignment seen;
   b. greedy pairwise-swap passes (up to ``sweeps``), a swap kept only when the cost strictly drops.
   Both keep the best assignment seen, so the refined cost is never above the start's; the result is the
   cheaper of this and the same refinement applied to a serpentine (boustrophedon) start;
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


def _split(graph: LayerGraph, target) -> Placement:
    """Step 1: the pieces and their traffic; ``core_of`` is row-major (the sequential fill)."""
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
    return Placement(rows, cols, np.array(pl, dtype=np.int64), np.array(ps, dtype=np.int64), piece_size,
                     np.arange(n_pieces, dtype=np.int64), traffic, lower)


class _Adjacency:
    """Undirected piece traffic graph in CSR form (both directions of a pair summed, self traffic dropped)."""

    def __init__(self, pm: Placement) -> None:
        n = len(pm.core_of)
        und: dict[tuple[int, int], float] = {}
        for (s, d), w in pm.traffic.items():
            if s != d and w != 0:
                key = (min(s, d), max(s, d))
                und[key] = und.get(key, 0.0) + w
        self.pairs = und
        if und:
            a, b = np.array(list(und), dtype=np.int64).T
            w = np.fromiter(und.values(), float, len(und))
        else:
            a = b = np.zeros(0, dtype=np.int64)
            w = np.zeros(0)
        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        ww = np.concatenate([w, w])
        order = np.lexsort((dst, src))
        self.indptr = np.searchsorted(src[order], np.arange(n + 1))
        self.idx = dst[order]
        self.w = ww[order]
        self.nbr = [self.idx[self.indptr[p]:self.indptr[p + 1]] for p in range(n)]
        self.nbw = [self.w[self.indptr[p]:self.indptr[p + 1]] for p in range(n)]

    def cost(self, core_of: np.ndarray, cols: int) -> float:
        """sum(traffic x hops) over the undirected pairs (equals Placement.cost() but for self traffic, which
        costs 0 hops)."""
        if not self.pairs:
            return 0.0
        a, b = np.array(list(self.pairs), dtype=np.int64).T
        w = np.fromiter(self.pairs.values(), float, len(self.pairs))
        ca, cb = core_of[a], core_of[b]
        return float((w * (np.abs(ca // cols - cb // cols) + np.abs(ca % cols - cb % cols))).sum())


def _bisection_start(pm: Placement, adj: _Adjacency) -> np.ndarray:
    """Step 2: recursive Kernighan-Lin min-cut bisection of the pieces onto a compact rectangle of cores."""
    import networkx as nx
    from networkx.algorithms.community import kernighan_lin_bisection

    n = len(pm.core_of)
    rows, cols = pm.rows, pm.cols
    best = None
    for h in range(1, rows + 1):
        w = min(cols, math.ceil(n / h))
        if h * w >= n:
            key = (h * w, abs(h - w), h)
            if best is None or key < best[0]:
                best = (key, h, w)
    _, h0, w0 = best
    core_of = np.full(n, -1, dtype=np.int64)
    # work list of (pieces in (layer, piece) order, rectangle); "free core" padding nodes are negative ids
    stack = [(list(range(n)), (0, 0, h0, w0))]
    while stack:
        pieces, (r0, c0, h, w) = stack.pop()
        if not pieces:
            continue
        if h * w == 1:
            core_of[pieces[0]] = r0 * cols + c0
            continue
        if w >= h:
            ha, wa = h, w // 2
            rect_a, rect_b = (r0, c0, h, wa), (r0, c0 + wa, h, w - wa)
        else:
            ha, wa = h // 2, w
            rect_a, rect_b = (r0, c0, ha, w), (r0 + ha, c0, h - ha, w)
        ca = ha * wa
        nodes = pieces + [-1 - k for k in range(h * w - len(pieces))]
        part_a, part_b = nodes[:ca], nodes[ca:]
        members = set(pieces)
        g = nx.Graph()
        g.add_nodes_from(nodes)
        for p in pieces:
            for q, wt in zip(adj.nbr[p].tolist(), adj.nbw[p].tolist(), strict=True):
                if q > p and q in members:
                    g.add_edge(p, q, weight=wt)
        if g.number_of_edges():
            s1, s2 = kernighan_lin_bisection(g, (set(part_a), set(part_b)), max_iter=4, weight="weight")
            sa = s2 if len(s2) == ca else s1  # networkx returns (side 0, side 1) = (initial B, initial A)
            part_a = [x for x in nodes if x in sa]
            part_b = [x for x in nodes if x not in sa]
        stack.append(([p for p in part_b if p >= 0], rect_b))
        stack.append(([p for p in part_a if p >= 0], rect_a))
    return core_of


class _Swaps:
    """Moving piece ``p`` to core ``c`` (swapping with its occupant, if any) on ``core_of`` / ``occupant``:
    the change of sum(traffic x XY hops) over the two pieces' edges, and the move itself."""

    def __init__(self, core_of: np.ndarray, occupant: np.ndarray, adj: _Adjacency, cols: int) -> None:
        self.core_of, self.occupant, self.adj, self.cols = core_of, occupant, adj, cols

    def local(self, p: int, c: int) -> float:
        cols = self.cols
        q = self.core_of[self.adj.nbr[p]]
        return float((self.adj.nbw[p] * (np.abs(c // cols - q // cols) + np.abs(c % cols - q % cols))).sum())

    def delta(self, p: int, c: int) -> float:
        core_of, local = self.core_of, self.local
        cp = int(core_of[p])
        q = int(self.occupant[c])
        before = local(p, cp) + (local(q, c) if q >= 0 else 0.0)
        core_of[p] = c
        if q >= 0:
            core_of[q] = cp
        after = local(p, c) + (local(q, cp) if q >= 0 else 0.0)
        core_of[p] = cp
        if q >= 0:
            core_of[q] = c
        return after - before

    def apply(self, p: int, c: int) -> None:
        cp = int(self.core_of[p])
        q = int(self.occupant[c])
        self.core_of[p] = c
        self.occupant[c] = p
        self.occupant[cp] = q
        if q >= 0:
            self.core_of[q] = cp


def _anneal(core_of: np.ndarray, adj: _Adjacency, rows: int, cols: int, moves: int, seed: int) -> float:
    """Step 3a: fixed-seed simulated annealing over piece moves/swaps; leaves the best assignment seen in
    ``core_of`` and returns its cost."""
    n = len(core_of)
    ncores = rows * cols
    occupant = np.full(ncores, -1, dtype=np.int64)
    occupant[core_of] = np.arange(n)
    rng = np.random.default_rng(seed)
    nbr = adj.nbr
    movable = np.array([p for p in range(n) if len(nbr[p])], dtype=np.int64)
    cur = adj.cost(core_of, cols)
    best, best_core = cur, core_of.copy()
    if len(movable) == 0 or moves <= 0 or cur == 0:
        return cur

    sw = _Swaps(core_of, occupant, adj, cols)
    delta, apply = sw.delta, sw.apply

    ps = movable[rng.integers(0, len(movable), moves)]
    u = rng.random(moves)
    offs = rng.random((moves, 2))
    # initial temperature: the mean |delta| of a sample of window moves; cooled geometrically to 1e-3 of it
    window0 = max(rows, cols)
    sample = []
    for k in range(min(64, moves)):
        p = int(ps[k])
        c = _window_core(int(core_of[p]), offs[k], window0, rows, cols)
        if c != core_of[p]:
            sample.append(abs(delta(p, c)))
    t0 = float(np.mean(sample)) if sample and np.mean(sample) > 0 else 1.0
    alpha = (1e-3) ** (1.0 / moves)
    temp = t0
    for k in range(moves):
        p = int(ps[k])
        frac = k / moves
        window = max(1, int(round(window0 * (1.0 - frac))))
        c = _window_core(int(core_of[p]), offs[k], window, rows, cols)
        if c != core_of[p]:
            dlt = delta(p, c)
            if dlt < 0 or u[k] < math.exp(-dlt / temp):
                apply(p, c)
                cur += dlt
                if cur < best - 1e-9:
                    best = cur
                    best_core[:] = core_of
        temp *= alpha
    core_of[:] = best_core
    return adj.cost(core_of, cols)


def _window_core(core: int, off: np.ndarray, window: int, rows: int, cols: int) -> int:
    r, c = divmod(core, cols)
    r = min(rows - 1, max(0, r - window + int(off[0] * (2 * window + 1))))
    c = min(cols - 1, max(0, c - window + int(off[1] * (2 * window + 1))))
    return r * cols + c


def _greedy(core_of: np.ndarray, adj: _Adjacency, rows: int, cols: int, sweeps: int, seed: int) -> None:
    """Step 3b: greedy pairwise swaps (pieces with free cores too), fixed-seed order; keeps a swap only if the
    cost strictly drops. Candidates: 8 cores near the piece's weighted neighbour centroid and 8 random ones."""
    n = len(core_of)
    ncores = rows * cols
    nbr, nbw = adj.nbr, adj.nbw
    occupant = np.full(ncores, -1, dtype=np.int64)
    occupant[core_of] = np.arange(n)
    rng = np.random.default_rng(seed + 1)

    sw = _Swaps(core_of, occupant, adj, cols)
    for _ in range(sweeps):
        improved = False
        for p in rng.permutation(n):
            if len(nbr[p]) == 0:
                continue
            cp = int(core_of[p])
            q = core_of[nbr[p]]
            wsum = nbw[p].sum()
            rc = int(round(float((nbw[p] * (q // cols)).sum() / wsum)))
            cc = int(round(float((nbw[p] * (q % cols)).sum() / wsum)))
            cands = [min(rows - 1, max(0, rc + dr)) * cols + min(cols - 1, max(0, cc + dc))
                     for dr, dc in ((0, 0), (0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, -1), (1, -1))]
            cands += rng.choice(ncores, size=min(ncores, 8), replace=False).tolist()
            best, best_gain = None, 1e-9
            for c in dict.fromkeys(cands):
                if c == cp:
                    continue
                gain = -sw.delta(p, c)
                if gain > best_gain:
                    best, best_gain = c, gain
            if best is not None:
                sw.apply(p, best)
                improved = True
        if not improved:
            break


def refine(pm: Placement, *, sweeps: int = 4, seed: int = 0, anneal_moves: int | None = None) -> Placement:
    """Step 3 on ``pm`` in place (annealing, then greedy swaps); the cost never rises. Returns ``pm``."""
    n = len(pm.core_of)
    if n < 2 or not pm.traffic or sweeps <= 0:
        return pm
    adj = _Adjacency(pm)
    moves = min(100 * n, 60_000) if anneal_moves is None else anneal_moves
    start = pm.core_of.copy()
    c0 = adj.cost(start, pm.cols)
    _anneal(pm.core_of, adj, pm.rows, pm.cols, moves, seed)
    _greedy(pm.core_of, adj, pm.rows, pm.cols, sweeps, seed)
    if adj.cost(pm.core_of, pm.cols) > c0:  # cannot happen (both steps keep the best); kept as the guarantee
        pm.core_of[:] = start
    return pm


def place(graph: LayerGraph, target, *, sweeps: int = 4, seed: int = 0, start: str = "auto",
          anneal_moves: int | None = None) -> Placement:
    """Place ``graph`` on ``target`` (a :class:`snnc.targets.Target` of kind neuro-core).

    ``start``: ``"bisection"`` (recursive Kernighan-Lin), ``"serpentine"``, or ``"auto"`` (refine both, keep the
    cheaper; ties go to bisection). ``sweeps`` = 0 skips the refinement."""
    pm = _split(graph, target)
    if len(pm.core_of) == 0:
        return pm
    adj = _Adjacency(pm)
    results = []
    for kind in (("bisection", "serpentine") if start == "auto" else (start,)):
        if kind == "bisection":
            core_of = _bisection_start(pm, adj)
        elif kind == "serpentine":
            core_of = _serpentine(pm.rows, pm.cols)[:len(pm.core_of)].copy()
        else:
            raise ValueError(f"unknown placement start '{kind}'")
        cand = Placement(pm.rows, pm.cols, pm.piece_layer, pm.piece_start, pm.piece_size, core_of, pm.traffic,
                         pm.cores_lower_bound)
        refine(cand, sweeps=sweeps, seed=seed, anneal_moves=anneal_moves)
        results.append((adj.cost(cand.core_of, pm.cols), len(results), cand))
    return min(results, key=lambda x: (x[0], x[1]))[2]


def sequential_placement(graph: LayerGraph, target) -> Placement:
    """The baseline: the same pieces on cores in plain row-major order, no refinement."""
    return _split(graph, target)


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


__all__ = ["Layer", "LayerGraph", "Placement", "layer_graph_from_module", "place", "refine", "sequential_placement"]
