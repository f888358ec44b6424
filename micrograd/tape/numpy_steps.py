"""Each group's forward and backward step on numpy arrays, for the numpy replay (`numpy_plan`).

A step is made once per group when the plan is built, with the choices that depend on the group
made then (its kind, where each argument comes from, which gradients are skipped, which writes
assign rather than add), and bound to each set of buffers when that is made: binding cuts the
views of the rows the step reads and writes, so that a replay calls each step with only what
changes from call to call (the caller's inputs, the parameters' numbers, the fresh parameter
gradients).

Kinds: a matrix product (a layer of neurons, `affine`), a sum of squared parameters
(`squares`), a fused chain of additions (`sum`), and one op record applied row by row (the
record's `array_forward` and `array_local_grads`; add, mul, exp, log and relu computed straight
into their rows).

Left out: which rows a group reads and writes (`numpy_build`), buffers and the replay loop
(`numpy_plan`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

from micrograd.ops import ADD, EXP, LOG, MUL, RELU, ArrayRule, Op
from micrograd.tape.numpy_build import Group, Scatter

# Matrix products over at most this many lanes use np.dot, above it np.matmul: for the small
# blocks of a minibatch dot's call costs less (1.1 against 1.5 us), for wide ones matmul's BLAS
# path is the faster (digits at 1,797 lanes: 16 against 23 us); benchmarks/numpy_calls.py.
_DOT_LANES = 256


def _product(np: Any, lanes: int) -> Any:
    return np.dot if lanes <= _DOT_LANES else np.matmul


# Each group's forward and backward step, made once when the plan is built and bound to each
# set of buffers when that is made: the replay is then a loop of calls, with no choice by kind,
# source or skipped rows, and no view cut, left for each call.

Forward = Callable[[Any, Any], Any]  # step(inputs, params) -> what the backward step needs
Backward = Callable[[Any, Any], None]  # step(weight_grads, saved)
BindForward = Callable[[Any, Any], Forward]  # bind(values, column)
BindBackward = Callable[[Any, Any, Any], Backward]  # bind(values, grads, column_grads)
_Adder = Callable[[Any], None]  # add(block): adds (or assigns) a block into bound rows
_Read = tuple[Any, Callable[[Any], Any] | None]


def _read(scatter: Scatter, values: Any, column: Any) -> _Read:
    """How a step reads the rows of `scatter`: (a view cut now, None), or (None, a function of
    the caller's inputs that reads them) when they are inputs, which change with every call,
    or are gathered (a copy, made at each call)."""
    index = scatter.index
    if scatter.kind == "inputs":  # the caller's array, transposed: one sample a column
        return None, lambda inputs: inputs[index]
    source = column if scatter.column else values
    if isinstance(index, slice):
        return source[index], None
    return None, lambda inputs: source[index]


def _adder(np: Any, scatter: Scatter) -> Callable[[Any, Any], None]:
    """Adds (or assigns) a block into the rows of `scatter` of an array given at each call:
    add(target, block), for the parameters' gradients, a new array at each replay."""
    index = scatter.index
    if scatter.repeats:
        rows, order, starts, reduceat = scatter.rows, scatter.order, scatter.starts, np.add.reduceat

        def add_repeats(target: Any, block: Any) -> None:
            target[rows] += reduceat(block[order], starts, axis=0)

        return add_repeats
    if scatter.assign:

        def assign(target: Any, block: Any) -> None:
            target[index] = block

        return assign

    def add(target: Any, block: Any) -> None:
        target[index] += block

    return add


def _bound_adder(np: Any, scatter: Scatter, target: Any, column_target: Any) -> _Adder:
    """Adds (or assigns) a block into the rows of `scatter` in `target`, summed over the lanes
    into `column_target` for rows read as a column.

    `target[rows] += block` drops all but one of repeated rows: the block is sorted by row and
    summed per row instead (see `Scatter`)."""
    index = scatter.index
    if scatter.column:
        # np.add.reduce is what ndarray.sum calls, without its Python wrapper.
        reduce = np.add.reduce
        if scatter.assign and isinstance(index, slice):  # the sum straight into the rows
            sums = column_target[index]
            return lambda block: reduce(block, axis=1, keepdims=True, out=sums)
        put = _bound_adder(np, _as_rows(scatter), column_target, None)
        return lambda block: put(reduce(block, axis=1, keepdims=True))
    if scatter.repeats or not isinstance(index, slice):
        add = _adder(np, scatter)
        return lambda block: add(target, block)
    rows = target[index]
    if scatter.assign:
        copyto = np.copyto
        return lambda block: copyto(rows, block)
    add_into = np.add
    return lambda block: add_into(rows, block, out=rows)


def _grid_view(np: Any, buffer: Any, rows: Any) -> Any:
    """`buffer[rows]` for a (nodes, terms) matrix of row numbers, as a view with no copy when
    the rows are a grid (row = first + node · a + term · b, a >= 0, b > 0); else None."""
    k, m = rows.shape
    first = int(rows[0, 0])
    a = int(rows[1, 0]) - first if k > 1 else 0
    b = int(rows[0, 1]) - first
    grid = first + a * np.arange(k)[:, None] + b * np.arange(m)[None, :]
    if a < 0 or b <= 0 or not np.array_equal(grid, rows):
        return None
    row, lane = buffer.strides
    shape, strides = (k, m, buffer.shape[1]), (a * row, b * row, lane)
    return np.lib.stride_tricks.as_strided(buffer[first:], shape, strides)


def _first_write(scatter: Scatter, target: Any) -> Any:
    """The rows of a scatter that assigns into a run of rows (never a column or repeated rows)
    as a view of `target`: a block for them can be computed straight into them (`out=`)."""
    if scatter.column or not scatter.assign or not isinstance(scatter.index, slice):
        return None
    return target[scatter.index]


def _as_rows(scatter: Scatter) -> Scatter:
    """A copy of `scatter` written as rows, not as a column."""
    rows = copy.copy(scatter)
    rows.column = False
    return rows


# The records whose `array_forward` is one numpy ufunc call: their groups compute straight into
# their rows (`out=`), with no temporary to copy. Each entry gives the same numbers as the
# record's `array_forward` (tests/tape/test_plans.py checks every one, edge values included).
def _ufunc_forwards(np: Any) -> dict[Op, Callable[..., Any]]:
    return {
        ADD: np.add,
        MUL: np.multiply,
        EXP: np.exp,
        LOG: np.log,
        RELU: lambda x, out: np.maximum(x, 0.0, out=out),
    }


def forward_step(np: Any, group: Group) -> BindForward:
    """Fills the group's rows: bind(values, column) gives step(inputs, params), which returns
    what its backward step needs."""
    out = group.out
    if group.kind == "affine":
        weights, add = group.weights, np.add

        def bind_affine(values: Any, column: Any) -> Forward:
            (x_rows, read_x), (start, read_start) = (
                _read(group.x, values, column),
                _read(group.start, values, column),
            )
            block = values[out]
            product = _product(np, values.shape[1])

            def affine(inputs: Any, params: Any) -> Any:
                w = params[weights]
                xs = x_rows if read_x is None else read_x(inputs)
                # The product straight into the group's rows (a view): no temporary to copy.
                product(w, xs, out=block)
                add(block, start if read_start is None else read_start(inputs), out=block)
                return w, xs

            return affine

        return bind_affine
    if group.kind == "squares":  # a shared group: `values` is the one-column buffer
        weights, reduce, add = group.weights, np.add.reduce, np.add
        starts = group.scatter[0] if group.scatter else None

        def bind_squares(values: Any, column: Any) -> Forward:
            start, read_start = (None, None) if starts is None else _read(starts, values, column)
            block = values[out]

            def squares(inputs: Any, params: Any) -> Any:
                w = params[weights]  # (nodes, terms)
                reduce(w * w, axis=1, keepdims=True, out=block)
                if starts is not None:
                    add(block, start if read_start is None else read_start(inputs), out=block)
                return w

            return squares

        return bind_squares
    if group.kind == "sum":
        terms, reduce = group.terms, np.add.reduce

        def bind_sum(values: Any, column: Any) -> Forward:
            block, grid = values[out], _grid_view(np, values, terms)

            def add_up(inputs: Any, params: Any) -> None:
                # Adding over axis 1 of a (nodes, terms, lanes) array takes the terms in order,
                # lane by lane, as the chain of additions did.
                reduce(values[terms] if grid is None else grid, axis=1, out=block)

            return add_up

        return bind_sum
    op = group.op
    assert op is not None and op.array_forward is not None  # checked by the layout
    forward = op.array_forward
    ufunc = _ufunc_forwards(np).get(op) if isinstance(op, Op) else None
    copyto = np.copyto

    def bind_op(values: Any, column: Any) -> Forward:
        reads = [_read(scatter, values, column) for scatter in group.scatter]
        block = values[out]
        if len(reads) == 2:  # most ops: spelled out, a list comprehension the less
            (a, read_a), (b, read_b) = reads

            def binary(inputs: Any, params: Any) -> Any:
                args = (
                    a if read_a is None else read_a(inputs),
                    b if read_b is None else read_b(inputs),
                )
                if ufunc is not None:
                    ufunc(*args, out=block)
                else:
                    copyto(block, forward(np, *args))
                return args

            return binary

        def apply(inputs: Any, params: Any) -> Any:
            args = [view if read is None else read(inputs) for view, read in reads]
            if ufunc is not None:
                ufunc(*args, out=block)
            else:
                copyto(block, forward(np, *args))
            return args

        return apply

    return bind_op


def _on_arrays(np: Any, local_grad: Any) -> Any:
    """A rule on arrays as a function of the inputs and `out`, bound to `np` once (a constant
    derivative stays a number)."""
    if isinstance(local_grad, ArrayRule):  # an op's rules on arrays: resolved once, here
        return local_grad.bind(np)
    if callable(local_grad):  # written by hand, taking np first
        return functools.partial(local_grad, np)
    return local_grad


def backward_step(np: Any, group: Group, skip: tuple[str, ...]) -> BindBackward:
    """The group's backward step: bind(values, grads, column_grads) gives
    step(weight_grads, saved), which adds into `grads` (and `column_grads` for shared rows read
    as a column) and `weight_grads`. A scatter whose rows are all of a kind in `skip`
    ("constants", "inputs") is not computed."""
    out = group.out

    def start_adder(scatter: Scatter | None, grads: Any, column_grads: Any) -> _Adder | None:
        if scatter is None or scatter.kind in skip:
            return None
        return _bound_adder(np, scatter, grads, column_grads)

    if group.kind == "affine":
        weights, assign = group.weights, group.weight_scatter.assign
        add_weights = _adder(np, group.weight_scatter)

        one_node, multiply = weights.shape[0] == 1, np.multiply

        def bind_affine(values: Any, grads: Any, column_grads: Any) -> Backward:
            add_start = start_adder(group.start, grads, column_grads)
            add_x = start_adder(group.x, grads, column_grads)
            x_rows = _first_write(group.x, grads) if add_x is not None else None
            upstream = grads[out]
            product = _product(np, values.shape[1])
            # The caller's inputs are read transposed (Fortran order): there matmul is faster.
            weights_product = np.matmul if group.x.kind == "inputs" else product

            def affine(weight_grads: Any, saved: Any) -> None:
                w, xs = saved
                if add_start is not None:
                    add_start(upstream)
                if assign:  # the (nodes, terms) block straight in
                    weight_grads[weights] = weights_product(upstream, xs.T)
                else:  # parameter numbers, never read as a column
                    add_weights(weight_grads, weights_product(upstream, xs.T).ravel())
                if add_x is None:
                    return
                if one_node:  # the outer product w.T * upstream: numpy's matmul with an inner
                    # size of 1 is 1.5 times slower than a broadcast multiply (same numbers)
                    if x_rows is not None:
                        multiply(w.T, upstream, out=x_rows)
                    else:
                        add_x(multiply(w.T, upstream))
                else:  # not `out=` into the rows: at 1,797 lanes numpy then takes another,
                    # slower BLAS path (14% more instructions a replay)
                    add_x(product(w.T, upstream))

            return affine

        return bind_affine
    if group.kind == "squares":
        add_squares = _adder(np, group.weight_scatter)
        starts = group.scatter[0] if group.scatter else None

        def bind_squares(values: Any, grads: Any, column_grads: Any) -> Backward:
            add_start = start_adder(starts, grads, column_grads)
            upstream = grads[out]

            def squares(weight_grads: Any, w: Any) -> None:
                if add_start is not None:
                    add_start(upstream)
                # Each term's two edges, w·g + w·g, is (2g)·w to the bit: doubling is exact.
                add_squares(weight_grads, ((2.0 * upstream) * w).ravel())

            return squares

        return bind_squares
    if group.kind == "sum":
        k, m = group.terms.shape
        terms = group.scatter[0]

        def bind_sum(values: Any, grads: Any, column_grads: Any) -> Backward:
            add_terms = start_adder(terms, grads, column_grads)
            lanes = values.shape[1]
            # Each node's gradient, once per term: a broadcast view, read at each call.
            each = grads[out][:, None, :]
            share = np.broadcast_to(each, (k, m, lanes))
            # Terms in a grid of rows, none twice: the gradient straight into them, no copy.
            grid = None if terms.repeats else _grid_view(np, grads, group.terms)
            if add_terms is None:
                return lambda weight_grads, saved: None
            if grid is not None:
                copyto, add = np.copyto, np.add
                if terms.assign:
                    return lambda weight_grads, saved: copyto(grid, each)
                return lambda weight_grads, saved: add(grid, each, out=grid)

            def add_up(weight_grads: Any, saved: Any) -> None:
                add_terms(share.reshape(k * m, lanes))

            return add_up

        return bind_sum
    assert group.op is not None  # an op group
    local_grads = [_on_arrays(np, local_grad) for local_grad in group.op.array_local_grads]
    if group.op is RELU:
        # relu's slope is step(out), 0 where out <= 0; a relu's out is +0.0, above 0 or nan, so
        # that is where out == 0: one comparison instead of two calls (the same numbers).
        not_equal = np.not_equal
        local_grads = [lambda x, out: not_equal(out, 0.0)]
    multiply = np.multiply
    edges = [
        (scatter, local_grad)
        for scatter, local_grad in zip(group.scatter, local_grads)
        if scatter.kind not in skip
    ]

    def bind_op(values: Any, grads: Any, column_grads: Any) -> Backward:
        upstream, result = grads[out], values[out]
        rules = [
            (
                _bound_adder(np, scatter, grads, column_grads),
                local_grad,
                _first_write(scatter, grads),
            )
            for scatter, local_grad in edges
        ]

        def apply(weight_grads: Any, args: Any) -> None:
            for add, local_grad, rows in rules:
                if callable(local_grad):
                    if rows is None:
                        add(local_grad(*args, result) * upstream)
                    else:
                        multiply(local_grad(*args, result), upstream, out=rows)
                elif local_grad == 1.0:  # add's: pass the gradient through as it is
                    add(upstream)
                elif rows is None:  # another constant derivative
                    add(local_grad * upstream)
                else:
                    multiply(local_grad, upstream, out=rows)

        return apply

    return bind_op
