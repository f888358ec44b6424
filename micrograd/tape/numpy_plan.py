"""Replaying a tape for many samples at once with numpy, one sample per lane.

`NumpyPlan` is the plan `numpy_build` lays out, with its replay: it checks the inputs, fills
buffers of one row per value and one column per lane, then runs each group's numpy call
forward (an op record's `array_forward`, a sum, or a matrix product) and its backward step
(`array_local_grads` times the upstream gradient) last group first. So a replay costs a few
dozen numpy calls per step for an MLP of any width.

Values the same in every lane (parameters, constants, an L2 penalty) are computed once, in a
buffer of one column, and their gradient from all lanes is their sum. Buffers are reused
between calls with as many lanes, one set per thread.

Left out: how the tape becomes groups and rows (`numpy_build`), ops without array versions
(NotImplementedError), higher-order gradients.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from micrograd.parameter import ParameterRun, Store, to_store
from micrograd.tape.numpy_build import Group, NumpyLayout
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
        buffers = self._buffers(lanes)
        values, column = buffers[0], buffers[2]
        inputs = x.T  # groups read the caller's rows of inputs as they are, one sample a column
        if self.copied_inputs is not None:
            values[self.copied_inputs] = inputs[self.copied_inputs]
        # Parameters are the same in every lane: the one-column buffer holds them (and the
        # constants, written when the buffers were made).
        column[n : n + r, 0] = weights[self.row_params]
        shared_saved = self._forward(column, column, inputs, weights, self.shared_groups)
        if self.spread is not None:
            values[self.spread] = column[self.spread]
        lane_saved = self._forward(values, column, inputs, weights, self.lane_groups)
        # Gradients flowing only into inputs are skipped unless asked for (as PyTorch skips
        # tensors that do not require grad); those flowing only into constants always are.
        skip = ("constants",) if input_grads else ("constants", "inputs")
        param_grads = self._backward(buffers, (shared_saved, lane_saved), seeds, skip)
        if reduce == "mean":
            param_grads /= lanes
        outputs = values[self.output_rows].T.copy()
        input_grads_out = buffers[1][:n].T.copy() if input_grads else None
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

    def _buffers(self, lanes: int) -> tuple[Any, Any, Any, Any]:
        """Values and gradients, one column per lane; values and gradients of the shared rows,
        one column (the other rows of each buffer go unused)."""
        # Reused from this thread's last call with as many lanes: fresh arrays of this size come
        # from new memory pages, and touching those costs more than the replay itself.
        buffers = getattr(self._local, "buffers", None)
        if buffers is None or buffers[0].shape[1] != lanes:
            np = self.np
            shape = (self.n_rows, lanes)
            column = np.empty((self.n_rows, 1))
            column[self.n_inputs + self.n_row_params : self.fixed, 0] = self.constants
            buffers = (np.empty(shape), np.empty(shape), column, np.empty((self.n_rows, 1)))
            # Kept for the next call only when small: one 10**6-row batch otherwise left some
            # 700 MiB per thread alive after it returned.
            if 2 * self.n_rows * lanes * 8 <= _KEEP_BUFFER_BYTES:
                self._local.buffers = buffers
            else:
                self._local.buffers = None
        return buffers

    def _forward(
        self, values: Any, column: Any, inputs: Any, weights: Any, groups: list[Group]
    ) -> list[Any]:
        """Fills the rows of `groups` in `values`; returns what each one's backward step needs."""
        np = self.np
        saved: list[Any] = []
        for group in groups:
            if group.kind == "affine":
                w, xs = weights[group.weights], group.x.read(values, column, inputs)
                # The product straight into the group's rows (a view): no temporary to copy.
                block = values[group.out]
                np.matmul(w, xs, out=block)
                block += group.start.read(values, column, inputs)
                saved.append((w, xs))
            elif group.kind == "sum":
                # Adding over axis 1 of a (nodes, terms, lanes) array takes the terms in order,
                # lane by lane, as the chain of additions did.
                values[group.out] = np.add.reduce(values[group.terms], axis=1)
                saved.append(None)
            else:
                args = [s.read(values, column, inputs) for s in group.scatter]
                op = group.op
                assert op is not None and op.array_forward is not None  # checked by the plan
                values[group.out] = op.array_forward(np, *args)
                saved.append(args)
        return saved

    def _backward(
        self,
        buffers: tuple[Any, Any, Any, Any],
        saved: tuple[list[Any], list[Any]],
        seeds: Sequence[float],
        skip: tuple[str, ...],
    ) -> Any:
        """Fills the gradient buffers from the output seeds; returns parameter gradients summed
        over lanes.

        `saved` is what the shared and the lane groups' forward steps returned. A scatter whose
        rows are all of a kind in `skip` ("constants", "inputs") is not computed."""
        np = self.np
        n, r = self.n_inputs, self.n_row_params
        values, grads, column, column_grads = buffers
        # Rows of inputs get gradients only when asked for; zeroing them would cost a pass.
        if "inputs" not in skip:
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
        with np.errstate(all="ignore"):  # the forward pass has warned about any bad input
            self._backward_groups(
                (values, grads, column_grads), weight_grads, self.lane_groups, lane_saved, skip
            )
            if self.spread is not None:  # a shared value's gradient: the sum over its lanes
                column_grads[self.spread] += grads[self.spread].sum(axis=1, keepdims=True)
            self._backward_groups(
                (column, column_grads, column_grads),
                weight_grads,
                self.shared_groups,
                shared_saved,
                skip,
            )
        weight_grads[self.row_params] += column_grads[n : n + r, 0]
        return weight_grads

    def _backward_groups(
        self,
        buffers: tuple[Any, Any, Any],
        weight_grads: Any,
        groups: list[Group],
        saved: list[Any],
        skip: tuple[str, ...],
    ) -> None:
        """The backward steps of `groups`, last first: into `grads` (and `column_grads` for
        shared rows read as a column) and `weight_grads`."""
        np = self.np
        values, grads, column_grads = buffers
        lanes = values.shape[1]
        for group, args in zip(reversed(groups), reversed(saved)):
            upstream = grads[group.out]
            if group.kind == "affine":
                w, xs = args
                if group.start.kind not in skip:
                    group.start.add(grads, column_grads, upstream)
                if group.weight_scatter.assign:  # the (nodes, terms) block straight in
                    weight_grads[group.weights] = upstream @ xs.T
                else:  # parameter numbers, never read as a column
                    group.weight_scatter.add(weight_grads, None, (upstream @ xs.T).ravel())
                if group.x.kind not in skip:
                    group.x.add(grads, column_grads, w.T @ upstream)
            elif group.kind == "sum":
                k, m = group.terms.shape
                if group.scatter[0].kind not in skip:
                    share = np.broadcast_to(upstream[:, None, :], (k, m, lanes))
                    group.scatter[0].add(grads, column_grads, share.reshape(k * m, lanes))
            else:
                out = values[group.out]
                assert group.op is not None  # an op group
                for scatter, local_grad in zip(group.scatter, group.op.array_local_grads):
                    if scatter.kind in skip:
                        continue
                    if callable(local_grad):
                        scatter.add(grads, column_grads, local_grad(np, *args, out) * upstream)
                    elif local_grad == 1.0:  # add's: pass the gradient through as it is
                        scatter.add(grads, column_grads, upstream)
                    else:  # another constant derivative
                        scatter.add(grads, column_grads, local_grad * upstream)
