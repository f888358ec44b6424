"""Replaying a tape in pure Python: instructions grouped so that C loops do the bookkeeping.

Instructions are grouped by depth (longest path from a leaf) and op record; a group's members
never read each other, so a group is replayed by `map`-ing the op's forward function over its
arguments, gathered with `operator.itemgetter`, and writes one contiguous block of a list of
values (slots are renumbered so each group's outputs are adjacent). Backward walks the groups in
reverse and writes each edge's contribution (local derivative times upstream gradient) into
its own place in a list of edges, again one `map` per group and input; a node's gradient is
then gathered as the sum of its edges' entries, with nodes ordered inside their group by how
many edges they have so that those sums are a few `map(add, ...)` per group, not a loop.

Building this plan is a few passes over the instructions with no code generation, so it costs
time and memory linear in the tape's length (a generated function of 200,000 lines took the
CPython compiler tens of seconds and gigabytes). Add and multiply, recognised by their records
(`op is ADD`), skip the calls of their trivial derivatives; every other op calls its record.

Several samples replay side by side (`run_batch(backend="python")`): row r of lane l lives at
r * lanes + l, so each group is still one `map`, over all lanes at once. `Tape.run` is this
replay with one lane.

Left out: numpy (see `numpy_plan`), higher-order gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from math import isfinite
from operator import add, itemgetter, mul
from typing import TYPE_CHECKING, Any

from micrograd.engine import Value
from micrograd.lecture import LectureOp
from micrograd.ops import ADD, MUL, Op
from micrograd.tape.replay import BatchResult, check_params, check_rows, group_by_depth, read_data

if TYPE_CHECKING:
    from micrograd.tape.program import Tape


Getter = Callable[[Sequence[Any]], Sequence[Any]]


def _gather(indices: list[int]) -> Getter:
    """A C-speed `lambda seq: [seq[i] for i in indices]` (a tuple; one index gives a 1-tuple)."""
    if len(indices) == 1:
        index = indices[0]
        return lambda seq: (seq[index],)
    return itemgetter(*indices)


class _Sums:
    """Gradients of a block of nodes: each the sum of its edges' entries in the edge list.

    Nodes come in runs of equal edge counts c (the caller sorts them so); a run's sums are c
    gathers added column by column, in the order the edges were written.
    """

    __slots__ = ("runs",)

    def __init__(self, edge_lists: list[list[int]]) -> None:
        self.runs: list[tuple[int, list[Getter]]] = []
        start = 0
        while start < len(edge_lists):
            count = len(edge_lists[start])
            end = start
            while end < len(edge_lists) and len(edge_lists[end]) == count:
                end += 1
            run = edge_lists[start:end]
            self.runs.append((end - start, [_gather([e[j] for e in run]) for j in range(count)]))
            start = end

    def __call__(self, edges: list[float]) -> list[float]:
        parts: list[Any] = []
        for size, columns in self.runs:
            if not columns:
                parts.append([0.0] * size)  # nothing downstream: a zero gradient
                continue
            total: Any = columns[0](edges)
            for column in columns[1:]:
                total = map(add, total, column(edges))
            parts.append(total)
        return list(parts[0]) if len(parts) == 1 else list(chain.from_iterable(parts))


class _Group:
    """Instructions of one op at one depth: they write rows `lo .. hi-1` and read `rows[i]`;
    their contributions to input i go to edges `edge_starts[i] ..` (one per member)."""

    __slots__ = ("op", "forward", "fast", "local_grads", "lo", "hi", "rows", "edge_starts")

    def __init__(self, op: Op | LectureOp, lo: int, rows: list[list[int]]) -> None:
        self.op = op
        self.forward = op.forward
        # Add and multiply as C functions: a call from `map` into a Python function costs about
        # twice a call between Python functions, which is what a generated replay would make.
        self.fast = add if op is ADD else mul if op is MUL else None
        # A LectureOp's forward refuses to replay, so its closure's derivatives are never read.
        self.local_grads = op.local_grads if isinstance(op, Op) else ()
        self.lo = lo
        self.hi = lo + len(rows[0])
        self.rows = rows
        self.edge_starts: list[int] = []


def _spread(indices: list[int], lanes: int) -> list[int]:
    """Row (or edge) indices for `lanes` samples side by side: entry i of lane l is i*lanes + l."""
    if lanes == 1:
        return indices
    return [i * lanes + lane for i in indices for lane in range(lanes)]


class _Lanes:
    """The plan's gathers and sums for `lanes` samples replayed side by side: the value of row r
    in lane l sits at r * lanes + l, and so does edge e's entry."""

    def __init__(self, plan: PythonPlan, lanes: int) -> None:
        self.lanes = lanes

        def sums(rows: Iterable[int]) -> _Sums:
            edges_of = plan.edges_of
            return _Sums([[e * lanes + k for e in edges_of[r]] for r in rows for k in range(lanes)])

        self.gathers = [[_gather(_spread(r, lanes)) for r in g.rows] for g in plan.groups]
        self.sums = [sums(range(g.lo, g.hi)) for g in plan.groups]
        self.outputs = _gather(_spread(plan.output_rows, lanes)) if plan.output_rows else None
        self.leaf_sums = sums(plan.leaves)
        self.leaf_order = _gather(_spread(plan.leaf_place, lanes)) if plan.leaf_place else None


class PythonPlan:
    """A tape laid out for replay in pure Python (see the module doc); a `ReplayPlan`."""

    n_inputs: int
    n_params: int
    params: list[Value]
    n_leaves: int
    constants: list[float]
    n_rows: int
    output_rows: list[int]
    leaves: list[int]  # input and parameter rows, by number of incoming edges
    leaf_place: list[int]  # where each leaf row sits in `leaves`

    def __init__(self, tape: Tape) -> None:
        n, p = tape.n_inputs, len(tape.params)
        n_leaves = n + p + len(tape.constants)
        self.n_inputs, self.n_params, self.n_leaves = n, p, n_leaves
        self.params = tape.params
        self.constants = list(tape.constants)
        uses = tape.use_counts()
        # Rows: leaves keep their slots; each group's outputs become one block, ordered by how
        # many edges leave them (so their gradient sums come in runs of equal length).
        row = list(range(n_leaves)) + [0] * len(tape.instructions)
        instructions = tape.instructions
        # Grouped by op record, by identity: a user op named "add" is a group of its own.
        nodes = ((ins.out, ins.args, id(ins.op), k) for k, ins in enumerate(instructions))
        ordered = [members for _, _, members in group_by_depth(tape.n_slots, nodes)]
        next_row = n_leaves
        for members in ordered:
            members.sort(key=lambda k: uses[n_leaves + k])
            for k in members:
                row[n_leaves + k] = next_row
                next_row += 1
        self.n_rows = next_row
        self.groups: list[_Group] = []
        lo = n_leaves
        for members in ordered:
            op = instructions[members[0]].op
            rows = [[row[instructions[k].args[i]] for k in members] for i in range(op.arity)]
            self.groups.append(_Group(op, lo, rows))
            lo += len(members)
        self.output_rows = [row[o] for o in tape.outputs]
        # Edges, numbered in the order backward writes them: the output seeds, then each group's
        # contributions, input by input. Every row lists the edges it receives.
        self.edges_of: list[list[int]] = [[] for _ in range(next_row)]
        for k, o in enumerate(self.output_rows):
            self.edges_of[o].append(k)
        n_edges = len(self.output_rows)
        for group in reversed(self.groups):
            for input_rows in group.rows:
                group.edge_starts.append(n_edges)
                for r in input_rows:
                    self.edges_of[r].append(n_edges)
                    n_edges += 1
        self.n_edges = n_edges
        # Leaf gradients: leaves sorted by edge count for the sums, then put back in order.
        self.leaves = sorted(range(n + p), key=lambda r: len(self.edges_of[r]))
        self.leaf_place = [0] * (n + p)
        for position, leaf in enumerate(self.leaves):
            self.leaf_place[leaf] = position
        self._lanes: dict[int, _Lanes] = {1: _Lanes(self, 1)}

    def run(
        self,
        inputs: Any,
        params: Any,
        reduce: str,
        seeds: Sequence[float],
        input_grads: bool = True,
    ) -> BatchResult:
        """`Tape.run_batch` in pure Python (see `replay.ReplayPlan`)."""
        if params is None:
            values = list(map(read_data, self.params))
        else:
            values = check_params(params, self.n_params)
        rows = check_rows(inputs, self.n_inputs)
        outputs, lane_input_grads, param_grads = self._replay(rows, values, seeds)
        if reduce == "mean":
            param_grads = [g / len(rows) for g in param_grads]
        read = values if params is None else None
        return BatchResult(
            outputs, lane_input_grads if input_grads else None, param_grads, self.params, read
        )

    def _replay(
        self, rows: list[list[float]], params: list[float], seeds: Sequence[float]
    ) -> tuple[list[list[float]], list[list[float]], list[float]]:
        """Per sample, the outputs and the input gradients; the parameter gradients summed.

        Samples are replayed side by side, as many at once as keep the lists of values to
        about 2**18 entries.
        """
        outputs: list[list[float]] = []
        input_grads: list[list[float]] = []
        param_grads = [-0.0] * self.n_params  # -0.0 + g is g, for every g
        width = max(1, min(len(rows), (1 << 18) // max(1, self.n_rows)))
        for start in range(0, len(rows), width):
            chunk = rows[start : start + width]
            out, grads = self._run_lanes(chunk, params, seeds)
            lanes = len(chunk)
            n = self.n_inputs
            outputs += [list(out[k::lanes]) for k in range(lanes)]
            input_grads += [list(grads[k : n * lanes : lanes]) for k in range(lanes)]
            for j in range(self.n_params):
                at = (n + j) * lanes
                param_grads[j] = sum(grads[at : at + lanes], param_grads[j])
        return outputs, input_grads, param_grads

    def _lanes_for(self, lanes: int) -> _Lanes:
        found = self._lanes.get(lanes)
        if found is None:
            if len(self._lanes) > 2:  # keep one sample's, and the last two batch sizes'
                del self._lanes[next(k for k in self._lanes if k != 1)]
            found = self._lanes[lanes] = _Lanes(self, lanes)
        return found

    def _run_lanes(
        self, rows: list[list[float]], params: list[float], seeds: Sequence[float]
    ) -> tuple[Sequence[float], Sequence[float]]:
        lanes = len(rows)
        plan = self._lanes_for(lanes)
        if lanes == 1:
            values: list[Any] = [*rows[0], *params, *self.constants]
        else:
            values = list(chain.from_iterable(zip(*rows))) if self.n_inputs else []
            values += [x for x in chain(params, self.constants) for _ in range(lanes)]
        values.extend([0.0] * ((self.n_rows - self.n_leaves) * lanes))
        for g, gathers in zip(self.groups, plan.gathers):
            args = [get(values) for get in gathers]
            lo, hi = g.lo * lanes, g.hi * lanes
            if g.fast is None:
                values[lo:hi] = map(g.forward, *args)
                continue
            block = list(map(g.fast, *args))
            if not all(map(isfinite, block)):  # inf or nan: the record's forward warns as eager
                block = list(map(g.forward, *args))
            values[lo:hi] = block
        edges = [0.0] * (self.n_edges * lanes)
        for k, seed in enumerate(seeds):
            edges[k * lanes : (k + 1) * lanes] = [seed] * lanes
        for g, gathers, sums in zip(
            reversed(self.groups), reversed(plan.gathers), reversed(plan.sums)
        ):
            _backward_group(g, gathers, sums, lanes, values, edges)
        outputs = plan.outputs(values) if plan.outputs else ()
        grads = plan.leaf_order(plan.leaf_sums(edges)) if plan.leaf_order else ()
        return outputs, grads


def _backward_group(
    g: _Group,
    gathers: list[Getter],
    sums: _Sums,
    lanes: int,
    values: list[Any],
    edges: list[float],
) -> None:
    """Writes the group's edges: each input's local derivative times the upstream gradient."""
    upstream = sums(edges)
    size = (g.hi - g.lo) * lanes
    starts = [start * lanes for start in g.edge_starts]
    if g.op is ADD:  # its local derivatives are 1.0: the gradient passes through
        for start in starts:
            edges[start : start + size] = upstream
        return
    args = [get(values) for get in gathers]
    if g.op is MUL:  # d(x*y)/dx = y and d(x*y)/dy = x, as the record says
        edges[starts[0] : starts[0] + size] = map(mul, args[1], upstream)
        edges[starts[1] : starts[1] + size] = map(mul, args[0], upstream)
        return
    out = values[g.lo * lanes : g.hi * lanes]
    for start, local_grad in zip(starts, g.local_grads):
        edges[start : start + size] = map(mul, map(local_grad, *args, out), upstream)
