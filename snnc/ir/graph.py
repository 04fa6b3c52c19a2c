"""Per-step evaluation order of a graph region.

A graph region describes ONE time step.  Ops may reference values defined later in
the block (forward references); the data dependencies between ops must still form an
acyclic graph once the operand edges of ``DELAYED`` ops are removed (a delay's result
at step t is its operand at step t-1, so it can be read before its operand is
computed).  :func:`step_order` returns the ops in an order that respects every
remaining dependency (Kahn's algorithm, ties broken by position in the block so the
order is deterministic), or raises a diagnostic naming an op on a delay-free cycle.
"""

from __future__ import annotations

import heapq

from .core import Block, Operation
from .diagnostics import note
from .opdef import Trait, has_trait


def step_order(block: Block) -> list[Operation]:
    ops = block.ops
    position = {id(op): i for i, op in enumerate(ops)}
    indeg = {id(op): 0 for op in ops}
    succs: dict[int, list[Operation]] = {id(op): [] for op in ops}
    for op in ops:
        if has_trait(op, Trait.DELAYED):
            continue
        for v in op.operands:
            d = v.defining_op()
            if d is not None and id(d) in position:
                succs[id(d)].append(op)
                indeg[id(op)] += 1
    heap = [(position[id(op)], op) for op in ops if indeg[id(op)] == 0]
    heapq.heapify(heap)
    order: list[Operation] = []
    while heap:
        _, op = heapq.heappop(heap)
        order.append(op)
        for s in succs[id(op)]:
            indeg[id(s)] -= 1
            if indeg[id(s)] == 0:
                heapq.heappush(heap, (position[id(s)], s))
    if len(order) != len(ops):
        stuck = [op for op in ops if indeg[id(op)] > 0]
        cycle = _find_cycle(stuck)
        first = cycle[0] if cycle else stuck[0]
        err = first.emit_error("is on a cycle that does not pass through a delay (every recurrence needs an 'snn.delay')")
        for other in cycle[1:]:
            err.diagnostics[0].notes.append(note(f"cycle continues through '{other.op_name}'", other.location))
        raise err
    return order


def _find_cycle(stuck: list[Operation]) -> list[Operation]:
    ids = {id(op) for op in stuck}
    for start in stuck:
        path: list[Operation] = [start]
        seen = {id(start)}
        cur = start
        while True:
            nxt = None
            if has_trait(cur, Trait.DELAYED):
                break
            for v in cur.operands:
                d = v.defining_op()
                if d is not None and id(d) in ids and not has_trait(d, Trait.DELAYED):
                    nxt = d
                    break
            if nxt is None:
                break
            if id(nxt) in seen:
                i = next(k for k, p in enumerate(path) if p is nxt)
                return path[i:]
            path.append(nxt)
            seen.add(id(nxt))
            cur = nxt
    return []
