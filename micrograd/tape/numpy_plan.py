"""Replaying a tape for many samples at once with numpy, one sample per lane.

`NumpyPlan` is the plan `numpy_build` lays out, with its replay: it checks the inputs, fills
buffers of one row per value and one column per lane, then runs each group's numpy call
forward (an op record's `array_forward`, a sum, or a matrix product) and its backward step
(`array_local_grads` times the upstream gradient) last group first. Each group's two steps are
functions made when the plan is built (`numpy_steps`), with where it reads and writes already
decided, and bound to a set of buffers when those are made (`_Bound`), with the views of the
rows they read and write already cut: a replay is a loop of calls, a few dozen numpy calls per
step for an MLP of any width, and little Python around them.

Values the same in every lane (parameters, constants, an L2 penalty) are computed once, in a
buffer of one column, and their gradient from all lanes is their sum. Buffers are reused
between calls with as many lanes, one set per thread.

Left out: how the tape becomes groups and rows (`numpy_build`), what each group's steps compute
(`numpy_steps`), ops without array versions (NotImplementedError), higher-order gradients.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from micrograd.parameter import ParameterRun, Store, to_store
from micrograd.tape.numpy_build import NumpyLayout
from micrograd.tape.numpy_steps import Backward, Forward, backward_step, forward_step
from micrograd.tape.replay import BatchResult, check_array, check_param_array, read_data

# Largest pair of per-lane buffers kept between calls (bytes): minibatches reuse theirs, and a
# huge one-off batch gives its memory back when it returns.
_KEEP_BUFFER_BYTES = 64 * 2**20

if TYPE_CHECKING:
    from micrograd.tape.program import Tape


class NumpyPlan(NumpyLayout):
    """The laid-out tape with its replay, a `ReplayPlan`: `run` is `Tape.run_batch` with numpy."""

    # A subclass rather than a layout held in an attribute: the replay loops read the layout's
    # rows as `self.spread`, `self.output_rows`, ..., one attribute lookup each.

    def __init__(self, tape: Tape) -> None:
        import numpy as np

        self.np = np
        super().__init__(tape)
        # Each thread replays into its own buffers, so one tape can serve several threads.
        self._local = threading.local()
        # The output seeds of the last replay, as a column (replaced whole: safe across threads).
        self._seeds: tuple[tuple[float, ...], Any] = ((), None)
        # Whether the parameters are one run of a Parameter store, and that store's array.
        self._param_run = ParameterRun(self.params)
        self._view: tuple[Store | None, Any] = (None, None)
        self._forward_shared = [forward_step(np, group) for group in self.shared_groups]
        self._forward_lanes = [forward_step(np, group) for group in self.lane_groups]
        # Backward steps, last group first, with input gradients and without: gradients flowing
        # only into inputs are skipped unless asked for (as PyTorch skips tensors that do not
        # require grad); those flowing only into constants always are.
        self._backward_steps = {
            wanted: (
                [backward_step(np, group, skip) for group in reversed(self.lane_groups)],
                [backward_step(np, group, skip) for group in reversed(self.shared_groups)],
            )
            for wanted, skip in ((True, ("constants",)), (False, ("constants", "inputs")))
        }

    def run(
        self,
        inputs: Any,
        params: Any,
        reduce: str,
        seeds: Sequence[float],
        input_grads: bool = True,
    ) -> BatchResult:
        """`Tape.run_batch` with numpy (see `replay.ReplayPlan`)."""
        np = self.np
        n, p, r = self.n_inputs, self.n_params, self.n_row_params
        x = check_array(np, inputs, n)
        lanes = x.shape[0]
        run = None
        if params is None:  # numbers already, checked by Value()
            run = self._param_run.get()
            if run is None:
                weights = np.fromiter(map(read_data, self.params), float, p)
            else:  # a model's Parameters: their numbers in their store, read there
                to_store(self.params, run[0])
                weights = self._store_view(run[0])[run[1] : run[1] + p]
        else:
            weights = check_param_array(np, params, p)
        bound = self._bound(lanes)
        values, column = bound.values, bound.column
        inputs = x.T  # groups read the caller's rows of inputs as they are, one sample a column
        if self.copied_inputs is not None:
            values[self.copied_inputs] = inputs[self.copied_inputs]
        # Parameters are the same in every lane: the one-column buffer holds them (and the
        # constants, written when the buffers were made).
        column[n : n + r, 0] = weights[self.row_params]
        shared_saved = [step(inputs, weights) for step in bound.forward_shared]
        if self.spread is not None:
            values[self.spread] = column[self.spread]
        lane_saved = [step(inputs, weights) for step in bound.forward_lanes]
        param_grads = self._backward(bound, (shared_saved, lane_saved), seeds, input_grads)
        if reduce == "mean":
            param_grads /= lanes
        outputs = values.take(self.output_rows, axis=0).T.copy()  # take: faster than values[rows]
        input_grads_out = bound.grads[:n].T.copy() if input_grads else None
        # The numbers as read, kept: a store's view would change with the next step.
        read = (weights if run is None else weights.copy()) if params is None else None
        return BatchResult(outputs, input_grads_out, param_grads, self.params, read, run)

    def _store_view(self, store: Store) -> Any:
        """The numbers of `store` as a writable numpy array (no copy), made once per store."""
        seen, view = self._view
        if seen is not store:
            view = self.np.frombuffer(store.numbers, dtype=float)
            self._view = (store, view)  # replaced whole: safe across threads
        return view

    def _bound(self, lanes: int) -> _Bound:
        """This thread's buffers for `lanes` lanes, with the steps bound to them."""
        # Reused from this thread's last call with as many lanes: fresh arrays of this size come
        # from new memory pages, and touching those costs more than the replay itself.
        bound: _Bound | None = getattr(self._local, "buffers", None)
        if bound is None or bound.lanes != lanes:
            bound = _Bound(self, lanes)
            # Kept for the next call only when small: one 10**6-row batch otherwise left some
            # 700 MiB per thread alive after it returned.
            keep = 2 * self.n_rows * lanes * 8 <= _KEEP_BUFFER_BYTES
            self._local.buffers = bound if keep else None
        return bound

    def _backward(
        self,
        bound: _Bound,
        saved: tuple[list[Any], list[Any]],
        seeds: Sequence[float],
        input_grads: bool,
    ) -> Any:
        """Fills the gradient buffers from the output seeds; returns parameter gradients summed
        over lanes.

        `saved` is what the shared and the lane groups' forward steps returned; the gradients
        of inputs are computed only when `input_grads` is True."""
        np = self.np
        n, r = self.n_inputs, self.n_row_params
        grads, column_grads = bound.grads, bound.column_grads
        # Rows of inputs get gradients only when asked for; zeroing them would cost a pass.
        if input_grads:
            grads[:n].fill(0.0)
        column_grads[n : self.first_lane_row] = 0.0
        if self.zeroed_lane_rows is not None:  # the others are assigned before they are read
            grads[self.zeroed_lane_rows] = 0.0
        if self.spread is not None:  # shared rows read in every lane
            grads[self.spread] = 0.0
        weight_grads = np.zeros(self.n_params)  # from matrix products, already summed over lanes
        cached, key = self._seeds, tuple(seeds)  # read once: another thread may replace it
        if cached[0] != key:  # else the same seeds as last time, as a training loop passes
            cached = self._seeds = (key, np.array(seeds, dtype=float)[:, None])
        column_seeds = cached[1]
        if self.unique_outputs:
            grads[self.output_rows] = column_seeds
        else:  # add.at: an output listed twice gets both seeds
            np.add.at(grads, self.output_rows, column_seeds)
        shared_saved, lane_saved = saved
        lane_steps, shared_steps = bound.backward(bool(input_grads))
        with np.errstate(all="ignore"):  # the forward pass has warned about any bad input
            for step, group_saved in zip(lane_steps, reversed(lane_saved)):
                step(weight_grads, group_saved)
            if self.spread is not None:  # a shared value's gradient: the sum over its lanes
                column_grads[self.spread] += np.add.reduce(
                    grads[self.spread], axis=1, keepdims=True
                )
            for step, group_saved in zip(shared_steps, reversed(shared_saved)):
                step(weight_grads, group_saved)
        weight_grads[self.row_params] += column_grads[n : n + r, 0]
        return weight_grads


class _Bound:
    """One thread's buffers for a number of lanes, and the plan's steps bound to them.

    Values and gradients have one column per lane; the values and gradients of the shared rows,
    one column (the other rows of each buffer go unused). Each step is bound once, here, to the
    views of the rows it reads and writes, so a replay cuts no views for them."""

    lanes: int
    values: Any
    grads: Any
    column: Any
    column_grads: Any
    forward_shared: list[Forward]
    forward_lanes: list[Forward]
    _plan: NumpyPlan
    _backward: dict[bool, tuple[list[Backward], list[Backward]]]

    def __init__(self, plan: NumpyPlan, lanes: int) -> None:
        np = plan.np
        shape = (plan.n_rows, lanes)
        self.lanes, self._plan = lanes, plan
        self.values, self.grads = np.empty(shape), np.empty(shape)
        self.column, self.column_grads = np.empty((plan.n_rows, 1)), np.empty((plan.n_rows, 1))
        self.column[plan.n_inputs + plan.n_row_params : plan.fixed, 0] = plan.constants
        self.forward_shared = [bind(self.column, self.column) for bind in plan._forward_shared]
        self.forward_lanes = [bind(self.values, self.column) for bind in plan._forward_lanes]
        self._backward = {}

    def backward(self, input_grads: bool) -> tuple[list[Backward], list[Backward]]:
        """The backward steps bound to these buffers, lanes then shared, last group first
        (bound on first use: a training loop never asks for input gradients)."""
        found = self._backward.get(input_grads)
        if found is None:
            lane_binds, shared_binds = self._plan._backward_steps[input_grads]
            values, grads, column_grads = self.values, self.grads, self.column_grads
            found = self._backward[input_grads] = (
                [bind(values, grads, column_grads) for bind in lane_binds],
                [bind(self.column, column_grads, column_grads) for bind in shared_binds],
            )
        return found
