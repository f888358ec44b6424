"""The tape compiler: trace a computation on `Value`s once, then replay it on plain numbers.

`trace(fn, inputs, params)` calls `fn` on placeholder Values and records the graph it builds as
a `Tape`: a straight-line program over numbered slots, one instruction per op, each pointing at
the same `Op` record the eager engine used. `print(tape)` shows it (`v7 = mul(v3, v5)`).

A tape replays forward and backward for new inputs and parameter values without making any
`Value`:

- `tape.run(inputs)`: one sample, by generated straight-line Python that calls the op records
  (no numpy needed);
- `tape.run_batch(rows)`: many samples at once, one sample per lane of numpy arrays, with
  parameter gradients summed or averaged over the lanes. Instructions are grouped by depth and
  op, chains of additions become one sum, and sums of parameter-times-value products (neurons)
  one matrix product per layer, so a replay costs a few numpy calls per layer of the graph
  rather than one per scalar op. Without numpy it falls back to `run` sample by sample.

Parameters are read from the traced parameter Values at each replay unless given, so a model
updated in place (`p.data -= lr * g`) stays the source of truth.

The rule for control flow, as in tracing JITs: a tape records the ops that ran for the example
inputs, not the Python that chose them. Branching on a Value (`if v:`, `bool(v)`, `float(v)`)
while tracing raises `TracingError`; so does using a Value that is neither a declared input nor
a parameter (it would be frozen as a constant). Branching on `v.data`, and values computed under
`no_grad()`, cannot be detected: they are recorded as constants for the path taken. Trace
functions whose ops do not depend on the numbers, or trace each path as its own tape.

Replays take real numbers only (ints, floats and bools, as `Value()` does) and refuse anything
else by name, whichever the backend. The numpy replay warns about inf and nan as numpy does (not
naming the op), and reuses its buffers between calls, one set per thread, so several threads may
replay one tape at once.

The numpy replay calls each op record's array versions (`Op.array_forward`,
`Op.array_local_grads`), so an op defined in `micrograd.ops` replays here with nothing to add.

Left out: anomaly detection (`detect_anomaly()` checks eager ops only; replays are unchecked),
higher-order gradients through a tape, and numpy replay of an op whose record has no
array versions (it raises NotImplementedError; `run` still works).
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from micrograd.engine import (
    TracingError,
    Value,
    _check_number,
    _grad_mode,
    topological_order,
)
from micrograd.ops import Op

__all__ = ["BatchResult", "Instruction", "Result", "Tape", "TracingError", "trace"]


@dataclass(frozen=True)
class Instruction:
    """`out = op(*args)`, with `out` and `args` slot numbers."""

    op: Op
    out: int
    args: tuple[int, ...]

    def __str__(self) -> str:
        return f"v{self.out} = {self.op.name}({', '.join(f'v{a}' for a in self.args)})"


class Result(NamedTuple):
    """One replay: the outputs and the gradients of their sum (see `Tape.run`)."""

    outputs: list[float]
    input_grads: list[float]
    param_grads: list[float]


class BatchResult(NamedTuple):
    """A batched replay: per-lane outputs and input grads, parameter grads reduced over lanes."""

    outputs: Any  # numpy array (lanes, outputs), or a list of lists without numpy
    input_grads: Any  # (lanes, inputs)
    param_grads: Any  # (params,), summed or averaged over lanes


def trace(
    fn: Callable[..., Value | Sequence[Value]],
    inputs: Sequence[float] | int,
    params: Sequence[Value] = (),
) -> Tape:
    """Record `fn(*placeholders)` as a tape.

    `inputs` gives example numbers for the placeholders fn receives (or just their count, for
    zeros); `params` lists the leaf Values fn may read, such as `model.parameters()`. fn returns
    one Value or a sequence of Values.
    """
    if isinstance(inputs, int) and not isinstance(inputs, bool):
        inputs = [0.0] * inputs
    else:
        inputs = _numbers(inputs, "trace() inputs", "a count or a sequence of numbers")
    placeholders = [Value(x, f"x{i}") for i, x in enumerate(inputs)]
    params = list(params)
    for p in params:
        if not isinstance(p, Value) or p.parents or not p.requires_grad:
            raise TypeError(
                f"params must be leaf Values that require grad (parameters), received {p!r:.80}"
            )
    # Recording is switched on even inside `no_grad()`: a tape of an unrecorded graph would
    # hold only constants.
    previous = _grad_mode.tracing, _grad_mode.enabled
    _grad_mode.tracing, _grad_mode.enabled = True, True
    try:
        result = fn(*placeholders)
    finally:
        _grad_mode.tracing, _grad_mode.enabled = previous
    if isinstance(result, Value):
        outputs = [result]
    elif isinstance(result, (list, tuple)):
        outputs = list(result)
    else:
        outputs = [result]  # refused just below, with what was received
    for out in outputs:
        if not isinstance(out, Value):
            raise TypeError(
                f"the traced function must return a Value or a sequence of Values, "
                f"received {type(out).__name__}: {out!r:.60}"
            )
    return Tape._from_graph(placeholders, params, outputs)


class Tape:
    """A recorded computation: slots for inputs, parameters and constants, then instructions.

    Slots `0 .. n_inputs-1` are the inputs, the next `n_params` the parameters, then constants
    (numbers baked in at trace time), then one slot per instruction.
    """

    def __init__(
        self,
        n_inputs: int,
        params: Sequence[Value],
        constants: Sequence[float],
        instructions: Sequence[Instruction],
        outputs: Sequence[int],
    ) -> None:
        self.n_inputs = n_inputs
        self.params = list(params)
        self.constants = list(constants)
        self.instructions = list(instructions)
        self.outputs = list(outputs)
        self.n_slots = n_inputs + len(self.params) + len(self.constants) + len(instructions)
        self._python: Callable | None = None
        self._numpy_plan: _NumpyPlan | None = None

    @classmethod
    def _from_graph(cls, inputs: list[Value], params: list[Value], outputs: list[Value]) -> Tape:
        slot: dict[Value, int] = {}
        for value in [*inputs, *params]:
            if value in slot:
                raise ValueError(f"{value!r} is listed twice among the inputs and params")
            slot[value] = len(slot)
        order: list[Value] = []
        seen: set[Value] = set()
        for out in outputs:
            for node in topological_order(out):
                if node not in seen:
                    seen.add(node)
                    order.append(node)
        constants = []
        for node in order:
            if node.parents or node in slot:
                continue
            if node.requires_grad:
                raise TracingError(
                    f"the traced function used {node!r}, which is neither an input nor one of "
                    "params: its number would be frozen into the tape; pass it in params (or "
                    "use a plain number for a constant)"
                )
            constants.append(node.data)
            slot[node] = len(slot)
        instructions = []
        for node in order:
            if node.parents:
                slot[node] = len(slot)
                args = tuple(slot[parent] for parent in node.parents)
                instructions.append(Instruction(node.op, slot[node], args))
        return cls(len(inputs), params, constants, instructions, [slot[out] for out in outputs])

    def __str__(self) -> str:
        n, p = self.n_inputs, len(self.params)
        lines = [f"tape({n} inputs, {p} params, {len(self.instructions)} instructions)"]
        lines.append("  inputs: " + " ".join(f"v{i}" for i in range(n)))
        if p:
            lines.append(f"  params: v{n}" + (f" .. v{n + p - 1}" if p > 1 else ""))
        for k, c in enumerate(self.constants):
            lines.append(f"  v{n + p + k} = {c!r}")
        lines += [f"  {instruction}" for instruction in self.instructions]
        lines.append("  return " + ", ".join(f"v{o}" for o in self.outputs))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Tape: {self.n_inputs} inputs, {len(self.params)} params, "
            f"{len(self.instructions)} instructions>"
        )

    def __len__(self) -> int:
        return len(self.instructions)

    # Replay in pure Python.

    def _param_values(self, params: Sequence[float] | None) -> list[float]:
        if params is None:
            return [p.data for p in self.params]
        values = _numbers(params, "params")
        if len(values) != len(self.params):
            raise ValueError(f"the tape has {len(self.params)} params, received {len(values)}")
        return values

    def _check_inputs(self, inputs: Sequence[float]) -> list[float]:
        values = _numbers(inputs, "inputs")
        if len(values) != self.n_inputs:
            raise ValueError(f"the tape takes {self.n_inputs} inputs, received {len(values)}")
        return values

    def _seeds(self, output_grads: Sequence[float] | None) -> list[float]:
        if output_grads is None:
            return [1.0] * len(self.outputs)
        seeds = _numbers(output_grads, "output_grads")
        if len(seeds) != len(self.outputs):
            raise ValueError(f"the tape has {len(self.outputs)} outputs, received {len(seeds)}")
        return seeds

    def run(
        self,
        inputs: Sequence[float],
        params: Sequence[float] | None = None,
        output_grads: Sequence[float] | None = None,
    ) -> Result:
        """Forward and backward for one sample, in plain Python.

        The gradients are those of the sum of the outputs (weighted by `output_grads` if given),
        with respect to the inputs and to the parameters (their current `.data` unless `params`
        gives numbers).
        """
        seeds = self._seeds(output_grads)
        return self._replay(self._check_inputs(inputs), self._param_values(params), seeds)

    def _replay(self, inputs: list[float], params: list[float], seeds: list[float]) -> Result:
        # Numbers already checked: run_batch checks all its rows once, then replays them here.
        if self._python is None:
            self._python = _compile_python(self)
        grads = [0.0] * (self.n_inputs + len(self.params))
        outputs = self._python(inputs, params, seeds, grads, self.constants)
        return Result(outputs, grads[: self.n_inputs], grads[self.n_inputs :])

    # Replay batched.

    def run_batch(
        self,
        inputs: Any,
        params: Sequence[float] | None = None,
        *,
        reduce: str = "mean",
        backend: str = "auto",
        output_grads: Sequence[float] | None = None,
    ) -> BatchResult:
        """Forward and backward for many samples: `inputs` has one row per sample.

        Parameter gradients are summed (`reduce="sum"`) or averaged (`"mean"`) over samples.
        `backend` is "numpy", "python" (a loop over `run`) or "auto" (numpy when installed).
        `output_grads` weights the outputs as in `run`, the same weights in every lane (0.0
        for an output that is only watched, such as a score beside its loss).
        """
        if reduce not in ("sum", "mean"):
            raise ValueError(f"reduce must be 'sum' or 'mean', received {reduce!r}")
        if backend not in ("auto", "numpy", "python"):
            raise ValueError(f"backend must be 'auto', 'numpy' or 'python', received {backend!r}")
        seeds = self._seeds(output_grads)
        if backend == "auto":
            backend = "numpy" if _have_numpy() else "python"
        if backend == "numpy":
            if self._numpy_plan is None:
                self._numpy_plan = _NumpyPlan(self)
            return self._numpy_plan.run(inputs, params, reduce, seeds)
        param_values = self._param_values(params)
        rows = _rows(inputs)
        if not rows:
            raise ValueError("run_batch needs at least one row of inputs")
        outputs, input_grads = [], []
        param_grads = [0.0] * len(self.params)
        for row in rows:
            if len(row) != self.n_inputs:
                raise ValueError(f"the tape takes {self.n_inputs} inputs, received {len(row)}")
        for row in rows:
            result = self._replay(row, param_values, seeds)
            outputs.append(result.outputs)
            input_grads.append(result.input_grads)
            param_grads = list(map(operator.add, param_grads, result.param_grads))
        if reduce == "mean":
            param_grads = [g / len(rows) for g in param_grads]
        return BatchResult(outputs, input_grads, param_grads)


def _numbers(values: object, what: str, expected: str = "a sequence of numbers") -> list[float]:
    """`values` as floats, refusing anything but real numbers (bools count, as in `Value()`)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(
            f"{what} must be {expected}, received {type(values).__name__}: {values!r:.60}"
        )
    # Floats, by far the most common, skip the general check (and its f-string).
    return [
        x if type(x) is float else _check_number(x, f"{what}[{i}]") for i, x in enumerate(values)
    ]


def _rows(inputs: object) -> list[list[float]]:
    """`inputs` of run_batch, one sequence of numbers per sample, as lists of floats."""
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(
            "run_batch takes one row of numbers per sample, "
            f"received {type(inputs).__name__}: {inputs!r:.60}"
        )
    return [_numbers(row, f"inputs[{k}]", "a row of numbers") for k, row in enumerate(inputs)]


def _have_numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


# Pure-Python replay: the tape becomes the source of one function, so each instruction costs one
# call to its op record with local variables, not a loop iteration with list lookups. The source
# is generated from slot numbers and op names only, never from user text.


def _compile_python(tape: Tape) -> Callable:
    names: dict[Op, str] = {}
    namespace: dict[str, object] = {}
    for instruction in tape.instructions:
        op = instruction.op
        if op not in names:
            name = f"{op.name}_{len(names)}" if op.name.isidentifier() else f"op_{len(names)}"
            names[op] = name
            namespace[name] = op.forward
            for i, local_grad in enumerate(op.local_grads):
                namespace[f"{name}_d{i}"] = local_grad
    n, p = tape.n_inputs, len(tape.params)
    n_constants = len(tape.constants)
    lines = ["def replay(inputs, params, seeds, grads, constants):"]
    for first, count, source in ((0, n, "inputs"), (n, p, "params"), (n + p, n_constants, "c")):
        if count:
            targets = "".join(f"v{first + k}, " for k in range(count))
            lines.append(f"    {targets}= {source if source != 'c' else 'constants'}")
    for ins in tape.instructions:
        lines.append(f"    v{ins.out} = {names[ins.op]}({', '.join(f'v{a}' for a in ins.args)})")
    # Backward: the first gradient written to a slot assigns it, later ones add to it.
    assigned: set[int] = set()
    for k, out in enumerate(tape.outputs):
        lines.append(f"    g{out} {'+=' if out in assigned else '='} seeds[{k}]")
        assigned.add(out)
    constant_slots = range(n + p, n + p + n_constants)
    for ins in reversed(tape.instructions):
        if ins.out not in assigned:
            continue  # nothing downstream of this instruction reaches an output with a grad
        values = ", ".join(f"v{a}" for a in (*ins.args, ins.out))
        for i, a in enumerate(ins.args):
            if a in constant_slots:
                continue
            lines.append(
                f"    g{a} {'+=' if a in assigned else '='} "
                f"{names[ins.op]}_d{i}({values}) * g{ins.out}"
            )
            assigned.add(a)
    for slot in range(n + p):
        if slot in assigned:
            lines.append(f"    grads[{slot}] += g{slot}")
    lines.append(f"    return [{', '.join(f'v{o}' for o in tape.outputs)}]")
    code = compile("\n".join(lines), "<micrograd tape>", "exec")
    exec(code, namespace)  # noqa: S102 - generated above from slot numbers and op names
    return namespace["replay"]


# Batched replay with numpy, from the array versions in the op records.


def _as_index(rows: list[int]) -> Any:
    """A slice when `rows` is an evenly spaced increasing run (a view, no copy), else an array."""
    import numpy as np

    if len(rows) == 1:
        return slice(rows[0], rows[0] + 1)
    step = rows[1] - rows[0]
    if step > 0 and all(b - a == step for a, b in zip(rows, rows[1:])):
        return slice(rows[0], rows[-1] + 1, step)
    return np.array(rows, dtype=np.intp)


class _Scatter:
    """Adds a block of gradients into the rows it came from, some rows possibly repeated.

    `target[rows] += block` drops all but one of the repeats, and `np.add.at` is slow, so for
    repeated rows the block is sorted by row once and summed per row with `np.add.reduceat`.
    """

    def __init__(self, rows: list[int]) -> None:
        import numpy as np

        self.index = _as_index(rows)
        self.repeats = len(set(rows)) != len(rows)
        if self.repeats:
            self.order = np.argsort(np.array(rows), kind="stable")
            ordered = np.array(rows)[self.order]
            self.starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            self.rows = ordered[self.starts]

    def add(self, target: Any, block: Any) -> None:
        if self.repeats:
            import numpy as np

            target[self.rows] += np.add.reduceat(block[self.order], self.starts, axis=0)
        else:
            target[self.index] += block


class _Group:
    """Same-kind nodes at the same depth, replayed by one or a few numpy calls for all of them.

    Kinds: an `Op` (rows `args[i]` hold argument i of every node); "sum" (a fused chain of
    additions, `args[0]` the (nodes, terms) rows of its terms); "affine" (a fused neuron,
    start + Σ param · x with the same x rows for every node: one matrix product).
    """

    def __init__(self, kind: Op | str, out: slice, args: list[list[int]]) -> None:
        import numpy as np

        self.kind = kind if isinstance(kind, str) else "op"
        self.op = None if isinstance(kind, str) else kind
        self.out = out
        if kind == "sum":
            matrix = np.array(args, dtype=np.intp)  # (nodes, terms)
            self.terms = matrix
            self.scatter = [_Scatter(matrix.ravel().tolist())]
        elif kind == "affine":
            starts, weights, xs = args
            self.start = _Scatter(starts)
            self.weights = np.array(weights, dtype=np.intp)  # (nodes, terms) parameter numbers
            self.weight_scatter = _Scatter(self.weights.ravel().tolist())
            self.x = _Scatter(xs)
        else:
            self.scatter = [_Scatter(rows) for rows in args]


class _NumpyPlan:
    """The tape rearranged for numpy: fused, grouped, rows renumbered so groups write blocks."""

    def __init__(self, tape: Tape) -> None:
        import numpy as np

        self.np = np
        _check_array_versions(tape)
        uses = _use_counts(tape)
        terms, absorbed_adds = _fuse_additions(tape, uses)
        affine, absorbed_products = _find_neurons(tape, uses, terms)
        groups = _group_by_depth(tape, terms, affine, absorbed_adds | absorbed_products)
        row, row_params, self.fixed, self.n_rows = _lay_out_rows(tape, groups)
        self.row_params = np.array(row_params, dtype=np.intp)
        self.groups = [_make_group(kind, members, row) for kind, members in groups]
        self.output_rows = np.array([row[o] for o in tape.outputs], dtype=np.intp)
        if (self.output_rows < 0).any():
            raise NotImplementedError("a parameter is an output of the tape; return p * 1.0")
        self.n_inputs, self.n_params, self.params = tape.n_inputs, len(tape.params), tape.params
        self.constants = np.array(tape.constants, dtype=float)
        # Each thread replays into its own buffers, so one tape can serve several threads.
        self._local = threading.local()

    def run(self, inputs: Any, param_values: Any, reduce: str, seeds: list[float]) -> BatchResult:
        """Tape.run_batch with numpy; `param_values` None reads the parameters' `.data`."""
        np = self.np
        n, p, r = self.n_inputs, self.n_params, len(self.row_params)
        x = _as_floats(np, inputs, lambda: self._rows_or_raise(inputs))
        if x.ndim < 2:  # a number or a single row: say which entry is not a row
            x = self._rows_or_raise(inputs)
        if x.ndim != 2 or x.shape[1] != n:
            raise ValueError(
                f"run_batch takes one row of {n} inputs per sample, "
                f"received an array of shape {x.shape}"
            )
        lanes = x.shape[0]
        if lanes == 0:
            raise ValueError("run_batch needs at least one row of inputs")
        if param_values is None:  # numbers already, checked by Value()
            weights = np.array([v.data for v in self.params], dtype=float)
        else:
            weights = _as_floats(
                np, param_values, lambda: np.array(_numbers(param_values, "params"))
            )
        if weights.shape != (p,):
            raise ValueError(f"the tape has {p} params, received {weights.size} values")
        values, grads = self._buffers(lanes)
        values[:n] = x.T
        values[n : n + r] = weights[self.row_params][:, None]
        values[n + r : self.fixed] = self.constants[:, None]
        saved = self._forward(values, weights)
        param_grads = self._backward(values, grads, saved, seeds)
        if reduce == "mean":
            param_grads /= lanes
        return BatchResult(values[self.output_rows].T.copy(), grads[:n].T.copy(), param_grads)

    def _rows_or_raise(self, inputs: Any) -> Any:
        # The slow path of run's conversion: names the first entry that is not a number.
        rows = _rows(inputs)
        for k, row in enumerate(rows):
            if len(row) != self.n_inputs:
                raise ValueError(
                    f"run_batch takes one row of {self.n_inputs} inputs per sample, "
                    f"received a row of {len(row)} (row {k})"
                )
        return self.np.array(rows, dtype=float).reshape(len(rows), self.n_inputs)

    def _buffers(self, lanes: int) -> tuple[Any, Any]:
        # Reused from this thread's last call with as many lanes: fresh arrays of this size come
        # from new memory pages, and touching those costs more than the replay itself.
        buffers = getattr(self._local, "buffers", None)
        if buffers is None or buffers[0] != lanes:
            np = self.np
            buffers = (lanes, np.empty((self.n_rows, lanes)), np.empty((self.n_rows, lanes)))
            self._local.buffers = buffers
        return buffers[1], buffers[2]

    def _forward(self, values: Any, weights: Any) -> list:
        """Fills the group rows of `values`; returns what each group's backward step needs."""
        np = self.np
        saved: list = []
        for group in self.groups:
            if group.kind == "affine":
                w, xs = weights[group.weights], values[group.x.index]
                values[group.out] = values[group.start.index] + w @ xs
                saved.append((w, xs))
            elif group.kind == "sum":
                # Adding over axis 1 of a (nodes, terms, lanes) array takes the terms in order,
                # lane by lane, as the chain of additions did.
                values[group.out] = np.add.reduce(values[group.terms], axis=1)
                saved.append(None)
            else:
                args = [values[s.index] for s in group.scatter]
                values[group.out] = group.op.array_forward(np, *args)
                saved.append(args)
        return saved

    def _backward(self, values: Any, grads: Any, saved: list, seeds: list[float]) -> Any:
        """Fills `grads` from the output seeds; returns parameter gradients summed over lanes."""
        np = self.np
        n, r, lanes = self.n_inputs, len(self.row_params), values.shape[1]
        grads.fill(0.0)
        weight_grads = np.zeros(self.n_params)  # from matrix products, already summed over lanes
        # add.at: an output may be listed twice.
        np.add.at(grads, self.output_rows, np.array(seeds, dtype=float)[:, None])
        with np.errstate(all="ignore"):  # the forward pass has warned about any bad input
            for group, args in zip(reversed(self.groups), reversed(saved)):
                upstream = grads[group.out]
                if group.kind == "affine":
                    w, xs = args
                    group.start.add(grads, upstream)
                    group.weight_scatter.add(weight_grads, (upstream @ xs.T).ravel())
                    group.x.add(grads, w.T @ upstream)
                elif group.kind == "sum":
                    k, m = group.terms.shape
                    share = np.broadcast_to(upstream[:, None, :], (k, m, lanes))
                    group.scatter[0].add(grads, share.reshape(k * m, lanes))
                else:
                    out = values[group.out]
                    for scatter, local_grad in zip(group.scatter, group.op.array_local_grads):
                        if callable(local_grad):
                            scatter.add(grads, local_grad(np, *args, out) * upstream)
                        elif local_grad == 1.0:  # add's: pass the gradient through as it is
                            scatter.add(grads, upstream)
                        else:  # another constant derivative
                            scatter.add(grads, local_grad * upstream)
        weight_grads[self.row_params] += grads[n : n + r].sum(axis=1)
        return weight_grads


def _as_floats(np: Any, data: Any, slow: Callable[[], Any]) -> Any:
    """`data` as a float array, or `slow()` (checks entry by entry) if it is not all numbers.

    The fast path is one `np.asarray`; only when numpy does not see plain numbers (strings,
    None, Values, ragged rows, ints beyond int64) does `slow()` run to name the bad entry, or to
    turn an int beyond floats into inf with a warning as the engine does.
    """
    try:
        array = np.asarray(data)
    except (ValueError, TypeError, OverflowError):
        array = None
    if array is not None and array.dtype.kind in "biuf":
        return array.astype(float, copy=False)
    return slow()


# Building the plan: each step below is one pass over the tape's instructions.


def _check_array_versions(tape: Tape) -> None:
    for ins in tape.instructions:
        op = ins.op
        if op.array_forward is None or len(op.array_local_grads) != op.arity:
            raise NotImplementedError(
                f"op {op.name!r} has no array versions (Op.array_forward) for the numpy "
                "replay; tape.run and run_batch(backend='python') replay it"
            )


def _use_counts(tape: Tape) -> list[int]:
    """How many instructions (or outputs) read each slot."""
    uses = [0] * tape.n_slots
    for ins in tape.instructions:
        for a in ins.args:
            uses[a] += 1
    for o in tape.outputs:
        uses[o] += 1
    return uses


def _fuse_additions(tape: Tape, uses: list[int]) -> tuple[dict[int, list[int]], set[int]]:
    """The terms of every addition, chains fused; and the additions absorbed into a longer chain.

    An add whose left operand is an add used only there continues that sum. Only the left
    operand, so that adding the terms in order rounds as the chain did.
    """
    terms: dict[int, list[int]] = {}
    absorbed: set[int] = set()
    for ins in tape.instructions:
        if ins.op.name == "add":
            left, right = ins.args
            if left in terms and uses[left] == 1:
                terms[ins.out] = [*terms.pop(left), right]
                absorbed.add(left)
            else:
                terms[ins.out] = [left, right]
    return terms, absorbed


def _find_neurons(
    tape: Tape, uses: list[int], terms: dict[int, list[int]]
) -> tuple[dict[int, tuple[int, list[int], list[int]]], set[int]]:
    """Sums that are neurons, start + Σ w·x, as (start, parameter numbers, x slots); and the
    products they absorb.

    A sum whose terms after the first are products of a parameter and something else, each used
    only there, is a neuron. Neurons reading the same x rows become one matrix product (rounded
    differently from the chain, by ~1e-16 relative).
    """
    n, p = tape.n_inputs, len(tape.params)
    producer = {ins.out: ins for ins in tape.instructions}

    def weight_and_x(slot: int) -> tuple[int, int] | None:
        ins = producer.get(slot)
        if ins is None or ins.op.name != "mul" or uses[slot] != 1:
            return None
        a, b = ins.args
        if n <= a < n + p:
            return a - n, b
        if n <= b < n + p:
            return b - n, a
        return None

    affine: dict[int, tuple[int, list[int], list[int]]] = {}
    absorbed: set[int] = set()
    for out, chain in terms.items():
        pairs = [weight_and_x(t) for t in chain[1:]]
        if all(pairs):
            affine[out] = (chain[0], [w for w, _ in pairs], [x for _, x in pairs])
            absorbed.update(chain[1:])
    return affine, absorbed


def _group_by_depth(
    tape: Tape,
    terms: dict[int, list[int]],
    affine: dict[int, tuple[int, list[int], list[int]]],
    absorbed: set[int],
) -> list[tuple[Op | str, list[tuple[int, list]]]]:
    """The instructions left after fusing, grouped by (depth, kind, shape), in order of depth.

    In that order every group reads only rows written by earlier groups. Each group is its kind
    and its members, (output slot, arguments) pairs.
    """
    depth = [0] * tape.n_slots
    groups: dict[tuple, tuple[Op | str, list[tuple[int, list]]]] = {}
    for ins in tape.instructions:
        if ins.out in absorbed:
            continue
        if ins.out in affine:
            start, weights, xs = affine[ins.out]
            depth[ins.out] = 1 + max(depth[a] for a in (start, *xs))
            key = (depth[ins.out], "affine", 0, tuple(xs))
            entry: tuple[int, list] = (ins.out, [start, weights, xs])
            kind: Op | str = "affine"
        elif len(terms.get(ins.out, ())) > 2:
            depth[ins.out] = 1 + max(depth[a] for a in terms[ins.out])
            key = (depth[ins.out], "sum", 0, len(terms[ins.out]))
            entry, kind = (ins.out, terms[ins.out]), "sum"
        else:
            depth[ins.out] = 1 + max(depth[a] for a in ins.args)
            key = (depth[ins.out], ins.op.name, id(ins.op), len(ins.args))
            entry, kind = (ins.out, list(ins.args)), ins.op
        groups.setdefault(key, (kind, []))[1].append(entry)
    return [groups[key] for key in sorted(groups)]


def _lay_out_rows(
    tape: Tape, groups: list[tuple[Op | str, list[tuple[int, list]]]]
) -> tuple[list[int], list[int], int, int]:
    """The row of each slot (-1 for none), the parameters given rows, the first group row, and
    the number of rows.

    One row per value a group reads or writes, each of one number per lane: inputs, the
    parameters read as rows (weights inside matrix products need none), constants, then group
    outputs block by block.
    """
    n, p = tape.n_inputs, len(tape.params)
    read: set[int] = set()
    for kind, members in groups:
        for _, args in members:
            read.update([args[0], *args[2]] if kind == "affine" else args)
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
    for _, members in groups:
        for out, _ in members:
            row[out] = next_row
            next_row += 1
    return row, row_params, fixed, next_row


def _make_group(kind: Op | str, members: list[tuple[int, list]], row: list[int]) -> _Group:
    """A group's members in rows: where it writes its block and where it reads its arguments."""
    out = slice(row[members[0][0]], row[members[-1][0]] + 1)
    if kind == "affine":
        args = [
            [row[start] for _, (start, _, _) in members],
            [weights for _, (_, weights, _) in members],
            [row[x] for x in members[0][1][2]],
        ]
    elif kind == "sum":
        args = [[row[t] for t in chain] for _, chain in members]
    else:
        args = [[row[a[i]] for _, a in members] for i in range(len(members[0][1]))]
    return _Group(kind, out, args)
