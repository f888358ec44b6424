"""The program a tape is, and how it is recorded: `trace`, `Tape`, `Instruction`.

`trace` runs a function on placeholder Values with recording switched on and turns the graph
it built into a straight-line program over numbered slots (inputs, parameters, constants, then
one slot per instruction), each instruction pointing at the same `Op` record the eager engine
used. The replays live beside this file: `python_plan` (pure Python) and `numpy_plan` (batched);
`Tape.run` and `Tape.run_batch` build them on first use and keep them.

Left out here: how a replay computes (see the two plan modules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from micrograd.engine import (
    LectureOp,
    TracingError,
    Value,
    _check_number,
    _grad_mode,
    topological_order,
)
from micrograd.ops import Op
from micrograd.parameter import Store

if TYPE_CHECKING:
    from micrograd.tape.numpy_plan import NumpyPlan
    from micrograd.tape.python_plan import PythonPlan

__all__ = ["BatchResult", "Instruction", "Result", "Tape", "TracingError", "trace"]


@dataclass(frozen=True, slots=True)
class Instruction:
    """`out = op(*args)`, with `out` and `args` slot numbers."""

    op: Op | LectureOp  # a LectureOp is recorded, and refuses when replayed
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
    """A batched replay: per-lane outputs and input grads, parameter grads reduced over lanes.

    `params` are the tape's parameter Values, in the order of `param_grads`, and `param_values`
    the numbers the replay read from them (None when `run_batch` was given numbers instead):
    what an optimizer's `step(result)` needs to update the Values in place. When the params are
    one run of a Parameter store (a model built by `nn`), `param_run` says where: `(store, index
    of the first)`, and `step(result)` updates the store in place.
    """

    outputs: Any  # numpy array (lanes, outputs), or a list of lists without numpy
    input_grads: Any  # (lanes, inputs)
    param_grads: Any  # (params,), summed or averaged over lanes
    params: Sequence[Value] = ()
    param_values: Any = None  # (params,), as read from `params` at the replay
    param_run: tuple[Store, int] | None = None  # where the params sit, if one run of a store

    def __repr__(self) -> str:
        # The parameters are counted, not listed: a model has hundreds.
        return (
            f"BatchResult(outputs={self.outputs!r}, input_grads={self.input_grads!r}, "
            f"param_grads={self.param_grads!r}, params=<{len(self.params)} Values>)"
        )


MAX_TRACE_INPUTS = 10_000_000
"""Most placeholders `trace(fn, count)` makes: each is a Value (a 10**12 count was a bare
MemoryError)."""


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
        if not 0 <= inputs <= MAX_TRACE_INPUTS:
            raise ValueError(
                f"trace() takes a count of inputs from 0 to {MAX_TRACE_INPUTS:,} (one Value "
                f"each), received {inputs:,}"
            )
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
    # A sequence's items, or the result itself: each is checked below, so only objects here.
    found: list[object] = list(result) if isinstance(result, (list, tuple)) else [result]
    outputs: list[Value] = []
    for out in found:
        if not isinstance(out, Value):
            raise TypeError(
                f"the traced function must return a Value or a sequence of Values, "
                f"received {type(out).__name__}: {out!r:.60}"
            )
        outputs.append(out)
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
        self.n_inputs: int = n_inputs
        self.params: list[Value] = list(params)
        self.constants: list[float] = list(constants)
        self.instructions: list[Instruction] = list(instructions)
        self.outputs: list[int] = list(outputs)
        self.n_slots: int = n_inputs + len(self.params) + len(self.constants) + len(instructions)
        self._python_plan: PythonPlan | None = None
        self._numpy_plan: NumpyPlan | None = None

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
            if node.op is not None:  # made by an op (it has parents)
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

    def use_counts(self) -> list[int]:
        """How many instructions (or outputs) read each slot; both replays plan from it."""
        uses = [0] * self.n_slots
        for ins in self.instructions:
            for a in ins.args:
                uses[a] += 1
        for o in self.outputs:
            uses[o] += 1
        return uses

    def _param_values(self, params: Sequence[float] | None) -> list[float]:
        if params is None:
            return list(map(_read_data, self.params))
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
        if self._python_plan is None:
            from micrograd.tape.python_plan import PythonPlan

            self._python_plan = PythonPlan(self)
        outputs, input_grads, param_grads = self._python_plan.run([inputs], params, seeds)
        return Result(outputs[0], input_grads[0], param_grads)

    # Replay batched.

    def run_batch(
        self,
        inputs: Any,
        params: Sequence[float] | None = None,
        *,
        reduce: str = "mean",
        backend: str = "auto",
        output_grads: Sequence[float] | None = None,
        input_grads: bool = True,
    ) -> BatchResult:
        """Forward and backward for many samples: `inputs` has one row per sample.

        Parameter gradients are summed (`reduce="sum"`) or averaged (`"mean"`) over samples.
        `backend` is "numpy", "python" (a loop over `run`) or "auto" (numpy when installed).
        `output_grads` weights the outputs as in `run`, the same weights in every lane (0.0
        for an output that is only watched, such as a score beside its loss). With
        `input_grads=False` the result's `input_grads` is None and the numpy replay skips
        computing them, as PyTorch skips inputs that do not require grad.
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
                from micrograd.tape.numpy_plan import NumpyPlan

                self._numpy_plan = NumpyPlan(self)
            return self._numpy_plan.run(inputs, params, reduce, seeds, input_grads)
        param_values = self._param_values(params)
        rows = _rows(inputs, self.n_inputs)
        if not rows:
            raise ValueError("run_batch needs at least one row of inputs")
        if self._python_plan is None:
            from micrograd.tape.python_plan import PythonPlan

            self._python_plan = PythonPlan(self)
        # The samples side by side: one map over every lane per group of instructions.
        outputs, lane_input_grads, param_grads = self._python_plan.run(rows, param_values, seeds)
        if reduce == "mean":
            param_grads = [g / len(rows) for g in param_grads]
        read = param_values if params is None else None
        return BatchResult(
            outputs, lane_input_grads if input_grads else None, param_grads, self.params, read
        )


# The number in each parameter, read from its slot: Value.data checks only what is assigned.
_read_data = attrgetter("_data")


def _numbers(values: object, what: str, expected: str = "a sequence of numbers") -> list[float]:
    """`values` as floats, refusing anything but real numbers (bools count, as in `Value()`)."""
    if isinstance(values, (str, bytes, Mapping, AbstractSet)) or not isinstance(values, Iterable):
        # A dict would give its keys, a set its items in no fixed order.
        raise TypeError(
            f"{what} must be {expected}, received {type(values).__name__}: {values!r:.60}"
        )
    # Floats, by far the most common, skip the general check (and its f-string).
    return [
        x if type(x) is float else _check_number(x, f"{what}[{i}]") for i, x in enumerate(values)
    ]


def _rows(inputs: object, n_inputs: int) -> list[list[float]]:
    """`inputs` of run_batch, one row of `n_inputs` numbers per sample, as lists of floats."""
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(
            "run_batch takes one row of numbers per sample, "
            f"received {type(inputs).__name__}: {inputs!r:.60}"
        )
    rows = [_numbers(row, f"inputs[{k}]", "a row of numbers") for k, row in enumerate(inputs)]
    # Numbers first, then lengths, in every row: both replays name the same first fault.
    for k, row in enumerate(rows):
        if len(row) != n_inputs:
            raise ValueError(
                f"run_batch takes one row of {n_inputs} inputs per sample, "
                f"received a row of {len(row)} (row {k})"
            )
    return rows


def _have_numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True
