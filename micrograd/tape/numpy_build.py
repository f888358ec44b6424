"""Building the numpy replay's plan from a tape: which numpy call computes which rows.

The plan rearranges the tape once: chains of additions become one sum, sums of
parameter-times-value products (neurons) reading the same values become one matrix product,
sums of parameters squared (an L2 penalty) become one sum of the parameters' squares, and what
is left is grouped by depth and op record, each group one numpy call on a block of rows. Ops
are recognised by their records (`op is ADD`), never by name. What depends only on parameters
and constants (an L2 penalty) is the same in every lane: those groups are marked shared and
come first. Rows are then laid out so that each group writes one block, and each
group's reads are planned: straight from the caller's inputs, from the one-column buffer of
shared rows, or from the value rows; and which backward writes come first into their rows, so
that they assign rather than add.

Each step is one pass over the tape's instructions; the grouping by depth is the one both
replays use (`replay.group_by_depth`). `NumpyLayout` holds the result; `Scatter` and `Group` are
its parts.

Left out: replaying the plan (buffers, checking inputs, the forward and backward loops) is
`numpy_plan.NumpyPlan`. An op without array versions is refused here (NotImplementedError).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from micrograd.engine import Value
from micrograd.lecture import LectureOp
from micrograd.ops import ADD, MUL, Op
from micrograd.tape.replay import group_by_depth

if TYPE_CHECKING:
    from micrograd.tape.program import Tape


def _as_index(rows: list[int]) -> Any:
    """A slice when `rows` is an evenly spaced increasing run (a view, no copy), else an array."""
    import numpy as np

    if len(rows) == 1:
        return slice(rows[0], rows[0] + 1)
    step = rows[1] - rows[0]
    if step > 0 and all(b - a == step for a, b in zip(rows, rows[1:])):
        return slice(rows[0], rows[-1] + 1, step)
    return np.array(rows, dtype=np.intp)


class Scatter:
    """Rows a group reads as one argument, some possibly repeated, and how its gradients go back
    into them (the replay's `numpy_steps._adder`).

    `target[rows] += block` drops all but one of the repeats, and `np.add.at` is slow, so for
    repeated rows the block is sorted by row once and summed per row with `np.add.reduceat`.
    The first scatter into rows in a backward pass assigns instead (see `_mark_first_writes`):
    those rows are not zeroed beforehand.
    """

    index: Any  # a slice, or an array of row numbers
    rows_list: list[int]
    kind: str
    column: bool
    assign: bool
    repeats: bool
    order: Any  # with repeats: the sort of the rows, the start of each run, each run's row
    starts: Any
    rows: Any

    def __init__(self, rows: list[int]) -> None:
        import numpy as np

        self.index = _as_index(rows)
        self.rows_list = rows
        self.kind = ""  # "inputs" or "constants" when every row is one (see _mark_reads)
        # Shared rows read by a group of lanes from the one-column buffer, which numpy
        # broadcasts; their gradients are summed over the lanes and added there.
        self.column = False
        self.assign = False
        self.repeats = len(set(rows)) != len(rows)
        if self.repeats:
            self.order = np.argsort(np.array(rows), kind="stable")
            ordered = np.array(rows)[self.order]
            self.starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            self.rows = ordered[self.starts]


class Group:
    """Same-kind nodes at the same depth, replayed by one or a few numpy calls for all of them.

    Kinds: an `Op` (rows `args[i]` hold argument i of every node); "sum" (a fused chain of
    additions, `args[0]` the (nodes, terms) rows of its terms); "affine" (a fused neuron,
    start + Σ param · x with the same x rows for every node: one matrix product); "squares"
    (Σ param · param, every term a parameter times itself: its parameters need no rows).
    """

    shared: bool
    kind: str
    op: Op | LectureOp | None
    out: slice
    terms: Any  # "sum": the (nodes, terms) rows
    scatter: list[Scatter]
    start: Scatter  # "affine": the start rows, the parameter numbers and the x rows
    weights: Any
    weight_scatter: Scatter
    x: Scatter

    def __init__(
        self, kind: Op | LectureOp | str, out: slice, args: list[list[int]], shared: bool
    ) -> None:
        import numpy as np

        self.shared = shared  # the same in every lane: computed in the one-column buffers
        self.kind = kind if isinstance(kind, str) else "op"
        self.op = None if isinstance(kind, str) else kind
        self.out = out
        if kind == "sum":
            matrix = np.array(args, dtype=np.intp)  # (nodes, terms)
            self.terms = matrix
            self.scatter = [Scatter(matrix.ravel().tolist())]
        elif kind == "affine":
            starts, weights, xs = args
            self.start = Scatter(starts)
            self.weights = np.array(weights, dtype=np.intp)  # (nodes, terms) parameter numbers
            self.weight_scatter = Scatter(self.weights.ravel().tolist())
            self.x = Scatter(xs)
        elif kind == "squares":
            starts, weights = args  # no start rows when every term is a square
            self.weights = np.array(weights, dtype=np.intp)  # (nodes, terms) parameter numbers
            self.weight_scatter = Scatter(self.weights.ravel().tolist())
            self.scatter = [Scatter(starts)] if starts else []
        else:
            self.scatter = [Scatter(rows) for rows in args]


class NumpyLayout:
    """The tape rearranged for numpy: fused, grouped, rows renumbered so groups write blocks."""

    fixed: int  # the first group row
    n_rows: int
    row_params: Any  # a slice or numpy int array; output_rows is an int array
    n_row_params: int
    groups: list[Group]
    shared_groups: list[Group]  # computed once, in the one-column buffers
    lane_groups: list[Group]
    first_lane_row: int
    output_rows: Any
    n_inputs: int
    n_params: int
    params: list[Value]
    constants: Any  # numpy float array
    unique_outputs: bool
    # Row indexes (see `_plan_reads_and_writes`), None where there are none.
    copied_inputs: Any
    spread: Any
    zeroed_lane_rows: Any

    def __init__(self, tape: Tape) -> None:
        import numpy as np

        _check_array_versions(tape)
        uses = tape.use_counts()
        terms, absorbed_adds = _fuse_additions(tape, uses)
        shared = _lane_invariant(tape)
        affine, squares, absorbed_products = _find_neurons(tape, uses, terms, shared)
        fused = _Fused(terms, affine, squares, absorbed_adds | absorbed_products)
        groups = _group_by_depth(tape, fused, shared)
        row, row_params, self.fixed, self.n_rows = _lay_out_rows(tape, groups)
        # A slice when the parameters read as rows are a run (all of them, often): a view.
        self.row_params = _as_index(row_params) if row_params else np.array([], dtype=np.intp)
        self.n_row_params = len(row_params)
        self.groups = [
            _make_group(kind, members, row, is_shared) for is_shared, kind, members in groups
        ]
        self.shared_groups = [group for group in self.groups if group.shared]
        self.lane_groups = [group for group in self.groups if not group.shared]
        # Shared groups come first: every row from the parameters' up to here is shared.
        self.first_lane_row = self.lane_groups[0].out.start if self.lane_groups else self.n_rows
        self.output_rows = np.array([row[o] for o in tape.outputs], dtype=np.intp)
        if (self.output_rows < 0).any():
            raise NotImplementedError("a parameter is an output of the tape; return p * 1.0")
        self.n_inputs, self.n_params, self.params = tape.n_inputs, len(tape.params), tape.params
        self.constants = np.array(tape.constants, dtype=float)
        self.unique_outputs = len(set(self.output_rows.tolist())) == len(self.output_rows)
        shared_rows = [False] * self.n_rows
        for slot, r in enumerate(row):
            if r >= 0:
                shared_rows[r] = shared[slot]
        self._plan_reads_and_writes(shared_rows, self.n_inputs + len(row_params))

    def _plan_reads_and_writes(self, shared_rows: list[bool], first_constant: int) -> None:
        """Where each group reads its rows from, which rows are copied before the lanes run, and
        which gradient rows are zeroed before the backward pass."""
        n = self.n_inputs
        outputs = self.output_rows.tolist()
        # Input rows that are outputs or read other than from the caller's array, copied in at
        # each replay; shared rows that are outputs or read other than as a column, copied from
        # the one-column buffer to every lane (their gradients summed back over the lanes).
        copied = {r for r in outputs if r < n}
        spread = {r for r in outputs if shared_rows[r]}
        for group in self.groups:
            _mark_reads(group, n, first_constant, self.fixed, shared_rows, copied)
            if not group.shared:
                spread.update(_full_width_reads(group, shared_rows))
        self.copied_inputs = _as_index(sorted(copied)) if copied else None
        self.spread = _as_index(sorted(spread)) if spread else None
        assigned = _mark_first_writes(self.lane_groups, self.shared_groups, self.output_rows)
        if self.unique_outputs:  # the seeds are assigned too
            assigned.update(outputs)
        zeroed = [r for r in range(self.first_lane_row, self.n_rows) if r not in assigned]
        self.zeroed_lane_rows = _as_index(zeroed) if zeroed else None


# Building the plan: each step below is one pass over the tape's instructions.


def _check_array_versions(tape: Tape) -> None:
    for ins in tape.instructions:
        op = ins.op
        if op.array_forward is None or len(op.array_local_grads) != op.arity:
            raise NotImplementedError(
                f"op {op.name!r} has no array versions (Op.array_forward) for the numpy "
                "replay; tape.run and run_batch(backend='python') replay it"
            )


def _fuse_additions(tape: Tape, uses: list[int]) -> tuple[dict[int, list[int]], set[int]]:
    """The terms of every addition, chains fused; and the additions absorbed into a longer chain.

    An add whose left operand is an add used only there continues that sum. Only the left
    operand, so that adding the terms in order rounds as the chain did.
    """
    terms: dict[int, list[int]] = {}
    absorbed: set[int] = set()
    for ins in tape.instructions:
        if ins.op is ADD:
            left, right = ins.args
            if left in terms and uses[left] == 1:
                terms[ins.out] = [*terms.pop(left), right]
                absorbed.add(left)
            else:
                terms[ins.out] = [left, right]
    return terms, absorbed


def _find_neurons(
    tape: Tape, uses: list[int], terms: dict[int, list[int]], shared: list[bool]
) -> tuple[
    dict[int, tuple[int, list[int], list[int]]], dict[int, tuple[int | None, list[int]]], set[int]
]:
    """Sums that are neurons, start + Σ w·x, as (start, parameter numbers, x slots); sums of
    squared parameters, [start +] Σ w·w, as (start or None, parameter numbers); and the
    products they absorb.

    A sum whose terms after the first are products of a parameter and something else, each used
    only there, is a neuron. Neurons reading the same x rows become one matrix product (rounded
    differently from the chain, by ~1e-16 relative). A sum whose terms after the first are a
    parameter times itself, and whose first is one too or is the same in every lane (Python's
    `sum` starts from 0), is a sum of squares (an L2 penalty), computed from the parameters'
    numbers with no rows for them (rounded differently too; its gradients are the chain's).
    """
    n, p = tape.n_inputs, len(tape.params)
    producer = {ins.out: ins for ins in tape.instructions}

    def weight_and_x(slot: int) -> tuple[int, int] | None:
        ins = producer.get(slot)
        if ins is None or ins.op is not MUL or uses[slot] != 1:
            return None
        a, b = ins.args
        if n <= a < n + p:
            return a - n, b
        if n <= b < n + p:
            return b - n, a
        return None

    affine: dict[int, tuple[int, list[int], list[int]]] = {}
    squares: dict[int, tuple[int | None, list[int]]] = {}
    absorbed: set[int] = set()
    for out, chain in terms.items():
        found = [weight_and_x(t) for t in chain]
        squared = [pair is not None and pair[1] == n + pair[0] for pair in found]
        if all(squared[1:]) and (squared[0] or shared[chain[0]]):
            start = None if squared[0] else chain[0]
            squares[out] = (start, [pair[0] for pair in found if pair is not None])
            absorbed.update(chain if start is None else chain[1:])
            continue
        pairs = [pair for pair in found[1:] if pair is not None]
        if len(pairs) == len(found) - 1:
            affine[out] = (chain[0], [w for w, _ in pairs], [x for _, x in pairs])
            absorbed.update(chain[1:])
    return affine, squares, absorbed


def _lane_invariant(tape: Tape) -> list[bool]:
    """For each slot, whether it is the same in every lane: parameters, constants, and what is
    computed from them only."""
    n = tape.n_inputs
    shared = [False] * n + [True] * (tape.n_slots - n)
    for ins in tape.instructions:
        shared[ins.out] = all(shared[a] for a in ins.args)
    return shared


_Groups = list[tuple[bool, Op | LectureOp | str, list[tuple[int, list[Any]]]]]


class _Fused(NamedTuple):
    """What fusing found: each addition's terms, the neurons, the sums of squares (see
    `_fuse_additions` and `_find_neurons`), and the instructions they absorbed."""

    terms: dict[int, list[int]]
    affine: dict[int, tuple[int, list[int], list[int]]]
    squares: dict[int, tuple[int | None, list[int]]]
    absorbed: set[int]


def _group_by_depth(tape: Tape, fused: _Fused, shared: list[bool]) -> _Groups:
    """The instructions left after fusing, grouped by (shared, depth, kind, shape): the shared
    groups first, then the others, each in order of depth.

    In that order every group reads only rows written by earlier groups. Each group is whether
    it is shared, its kind and its members, (output slot, arguments) pairs.
    """
    grouped = group_by_depth(tape.n_slots, _nodes(tape, fused, shared))
    # Within a depth by kind, op and shape: the keys differ, so the order does not depend on
    # the order the groups were found in.
    grouped.sort(key=lambda group: (group[1][0], group[0], group[1][1:]))
    return [
        (not key[0], members[0][0], [entry for _, entry in members]) for _, key, members in grouped
    ]


_Node = tuple[int, Sequence[int], tuple[Any, ...], tuple[Op | LectureOp | str, tuple[int, Any]]]


def _nodes(tape: Tape, fused: _Fused, shared: list[bool]) -> Iterator[_Node]:
    """The nodes left after fusing, for `group_by_depth`: the slot each writes and those it
    reads; its key, (not shared, kind, op name, op identity, shape); and its kind and entry."""
    terms, affine, squares, absorbed = fused
    for ins in tape.instructions:
        if ins.out in absorbed:
            continue
        in_lanes = not shared[ins.out]  # False sorts first: the shared groups come first
        if ins.out in affine:
            start, weights, xs = affine[ins.out]
            key: tuple[Any, ...] = (in_lanes, "affine", "", 0, tuple(xs))
            yield ins.out, (start, *xs), key, ("affine", (ins.out, [start, weights, xs]))
        elif ins.out in squares:
            first, weights = squares[ins.out]
            reads = () if first is None else (first,)
            key = (in_lanes, "squares", "", first is None, len(weights))
            yield ins.out, reads, key, ("squares", (ins.out, [first, weights]))
        elif len(terms.get(ins.out, ())) > 2:
            chain = terms[ins.out]
            yield ins.out, chain, (in_lanes, "sum", "", 0, len(chain)), ("sum", (ins.out, chain))
        else:
            # By record identity: two ops sharing a name are still two groups.
            key = (in_lanes, "op", ins.op.name, id(ins.op), len(ins.args))
            yield ins.out, ins.args, key, (ins.op, (ins.out, list(ins.args)))


def _reads(kind: Op | LectureOp | str, members: list[tuple[int, list[Any]]]) -> list[int]:
    """The slots a group's members read as rows (weights inside matrix products are not rows)."""
    if kind == "affine":
        return [slot for _, args in members for slot in (args[0], *args[2])]
    if kind == "squares":  # the start, if any: the parameters' numbers are read where they are
        return [args[0] for _, args in members if args[0] is not None]
    if kind == "sum":
        return [slot for _, chain in members for slot in chain]
    return [slot for _, args in members for slot in args]


def _lay_out_rows(tape: Tape, groups: _Groups) -> tuple[list[int], list[int], int, int]:
    """The row of each slot (-1 for none), the parameters given rows, the first group row, and
    the number of rows.

    One row per value a group reads or writes, each of one number per lane: inputs, the
    parameters read as rows (weights inside matrix products need none), constants, then group
    outputs block by block.
    """
    n, p = tape.n_inputs, len(tape.params)
    read: set[int] = set()
    for _, kind, members in groups:
        read.update(_reads(kind, members))
    row = [-1] * tape.n_slots
    row[:n] = range(n)
    row_params = [k for k in range(p) if n + k in read]
    for r, k in enumerate(row_params):
        row[n + k] = n + r
    next_row = n + len(row_params)
    for k in range(len(tape.constants)):
        row[n + p + k] = next_row
        next_row += 1
    fixed = next_row
    for _, _, members in groups:
        for out, _ in members:
            row[out] = next_row
            next_row += 1
    return row, row_params, fixed, next_row


def _make_group(
    kind: Op | LectureOp | str, members: list[tuple[int, list[Any]]], row: list[int], shared: bool
) -> Group:
    """A group's members in rows: where it writes its block and where it reads its arguments."""
    out = slice(row[members[0][0]], row[members[-1][0]] + 1)
    if kind == "affine":
        args = [
            [row[start] for _, (start, _, _) in members],
            [weights for _, (_, weights, _) in members],
            [row[x] for x in members[0][1][2]],
        ]
    elif kind == "squares":
        starts = [row[start] for _, (start, _) in members if start is not None]
        args = [starts, [weights for _, (_, weights) in members]]
    elif kind == "sum":
        args = [[row[t] for t in chain] for _, chain in members]
    else:
        args = [[row[a[i]] for _, a in members] for i in range(len(members[0][1]))]
    return Group(kind, out, args, shared)


# Planning reads and writes, once the rows are laid out.


def _mark_reads(
    group: Group,
    n_inputs: int,
    first_constant: int,
    fixed: int,
    shared_rows: list[bool],
    copied: set[int],
) -> None:
    """Marks the group's scatters whose rows are all inputs or all constants, and those a lane
    group reads as a column; adds to `copied` the input rows it reads from the value rows."""
    if group.kind == "affine":
        scatters = [group.start, group.x]
    else:
        scatters = group.scatter
    for scatter in scatters:
        rows = scatter.rows_list
        if all(first_constant <= row < fixed for row in rows):
            scatter.kind = "constants"
        elif all(row < n_inputs for row in rows):
            scatter.kind = "inputs"
        # A sum gathers its terms in one call, and a matrix product needs its x rows full.
        reads_whole = group.kind == "sum" or scatter is getattr(group, "x", None)
        if not group.shared and not reads_whole and all(shared_rows[row] for row in rows):
            scatter.column = True
        if group.kind == "sum" or scatter.kind != "inputs":
            copied.update(row for row in rows if row < n_inputs)
        del scatter.rows_list


def _mark_first_writes(
    lane_groups: list[Group], shared_groups: list[Group], output_rows: Any
) -> set[int]:
    """Marks the scatters that write first into lane rows, or into parameters' gradients from
    matrix products, in a backward pass: they assign their block, which spares zeroing those
    rows and reading them back to add. Returns the lane rows they assign.

    Rows repeated within a scatter are always added to, and so are outputs (their seeds come
    first). Shared rows read as a column get their gradients in the one-column buffer, summed
    over the lanes: the first lane group to write them there assigns too (the others, the
    spread rows' sums and the shared groups add, after it).
    """
    written = set(output_rows.tolist())
    column_written: set[int] = set()
    assigned: set[int] = set()
    weights_written: set[int] = set()
    for group in [*reversed(lane_groups), *reversed(shared_groups)]:
        if group.kind in ("affine", "squares"):
            numbers = group.weights.ravel().tolist()
            if not group.weight_scatter.repeats and not weights_written.intersection(numbers):
                group.weight_scatter.assign = True
            weights_written.update(numbers)
        if group.shared:
            continue
        scatters = [group.start, group.x] if group.kind == "affine" else group.scatter
        for scatter in scatters:  # in the order the backward step adds them
            rows = _index_rows(scatter.index)
            if scatter.column:
                scatter.assign = not (scatter.repeats or column_written.intersection(rows))
                column_written.update(rows)
                continue
            if not (scatter.repeats or written.intersection(rows)):
                scatter.assign = True
                assigned.update(rows)
            written.update(rows)
    return assigned


def _full_width_reads(group: Group, shared_rows: list[bool]) -> list[int]:
    """The shared rows a lane group reads in every lane (not as a column)."""
    if group.kind == "sum":
        rows = group.terms.ravel().tolist()
    else:
        scatters = [group.start, group.x] if group.kind == "affine" else group.scatter
        rows = [row for s in scatters if not s.column for row in _index_rows(s.index)]
    return [row for row in rows if shared_rows[row]]


def _index_rows(index: Any) -> list[int]:
    if isinstance(index, slice):
        return list(range(index.start, index.stop, index.step or 1))
    rows: list[int] = index.tolist()
    return rows
