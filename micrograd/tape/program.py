"""The program a tape is, and how it is recorded: `trace`, `Tape`, `Instruction`.

`trace` runs a function on placeholder Values with recording switched on and turns the graph
it built into a straight-line program over numbered slots (inputs, parameters, constants, then
one slot per instruction), each instruction pointing at the same `Op` record the eager engine
used. `Tape.run` and `Tape.run_batch` replay it with a plan, which the backend named in the
table `backends.BACKENDS` builds on first use and the tape keeps (`Tape.plan`).

Left out here: how a replay computes (the plan modules), what a plan takes and checks (`replay`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd.engine import Value, topological_order
from micrograd.grad_mode import TracingError, tracing
from micrograd.lecture import LectureOp
from micrograd.numeric import is_integer
from micrograd.ops import Op
from micrograd.tape.backends import BACKENDS, resolve_backend
from micrograd.tape.replay import BatchResult, ReplayPlan, Result, check_numbers, check_sample

__all__ = ["BatchResult", "Instruction", "Result", "Tape", "TracingError", "trace"]


@dataclass(frozen=True, slots=True)
class Instruction:
    """`out = op(*args)`, with `out` and `args` slot numbers."""

    op: Op | LectureOp  # a LectureOp is recorded, and refuses when replayed
    out: int
    args: tuple[int, ...]

    def __str__(self) -> str:
        return f"v{self.out} = {self.op.name}({', '.join(f'v{a}' for a in self.args)})"


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
    if is_integer(inputs):
        if not 0 <= inputs <= MAX_TRACE_INPUTS:
            raise ValueError(
                f"trace() takes a count of inputs from 0 to {MAX_TRACE_INPUTS:,} (one Value "
                f"each), received {inputs:,}"
            )
        inputs = [0.0] * inputs
    else:
        inputs = check_numbers(inputs, "trace() inputs", "a count or a sequence of numbers")
    placeholders = [Value(x, f"x{i}") for i, x in enumerate(inputs)]
    params = list(params)
    for p in params:
        if not isinstance(p, Value) or p.parents or not p.requires_grad:
            raise TypeError(
                f"params must be leaf Values that require grad (parameters), received {p!r:.80}"
            )
    # Recording is switched on even inside `no_grad()`: a tape of an unrecorded graph would
    # hold only constants.
    with tracing():
        result = fn(*placeholders)
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
        self._plans: dict[str, ReplayPlan] = {}  # by backend name, built on first use

    def __getstate__(self) -> dict[str, Any]:
        # A copy or a pickle leaves the replay plans out: they are caches, rebuilt on first use,
        # and a numpy plan holds the numpy module and each thread's buffers.
        state = self.__dict__.copy()
        state["_plans"] = {}
        return state

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

    def use_counts(self) -> list[int]:
        """How many instructions (or outputs) read each slot; both replays plan from it."""
        uses = [0] * self.n_slots
        for ins in self.instructions:
            for a in ins.args:
                uses[a] += 1
        for o in self.outputs:
            uses[o] += 1
        return uses

    def plan(self, backend: str = "auto") -> ReplayPlan:
        """The tape's replay plan for `backend` (a name in `backends.BACKENDS`, or "auto"),
        built on first use and kept."""
        return self._plan(resolve_backend(backend))

    def _plan(self, name: str) -> ReplayPlan:
        found = self._plans.get(name)
        if found is None:
            found = self._plans[name] = BACKENDS[name](self)
        return found

    def _seeds(self, output_grads: Sequence[float] | None) -> list[float]:
        if output_grads is None:
            return [1.0] * len(self.outputs)
        seeds = check_numbers(output_grads, "output_grads")
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
        row = check_sample(inputs, self.n_inputs)
        result = self._plan("python").run([row], params, "sum", seeds)
        return Result(result.outputs[0], result.input_grads[0], result.param_grads)

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
        `backend` is "numpy", "python" (the samples side by side in pure Python), another name
        in `backends.BACKENDS`, or "auto" (numpy when installed). `output_grads` weights the
        outputs as in `run`, the same weights in every lane (0.0 for an output that is only
        watched, such as a score beside its loss). With `input_grads=False` the result's
        `input_grads` is None and the numpy replay skips computing them, as PyTorch skips
        inputs that do not require grad.
        """
        if reduce not in ("sum", "mean"):
            raise ValueError(f"reduce must be 'sum' or 'mean', received {reduce!r}")
        name = resolve_backend(backend)
        seeds = self._seeds(output_grads)
        return self._plan(name).run(inputs, params, reduce, seeds, input_grads)
