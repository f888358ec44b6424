"""The seam between a tape and its replays: what a plan is given, what it checks, what it returns.

A backend is a plan builder: a callable that takes a `Tape` and returns a plan, an object whose
`run` follows `ReplayPlan` below. `backends.BACKENDS` maps each `run_batch(backend=...)` name to
its builder, and a tape builds each plan on first use and keeps it; so a new backend is a new
file (its plan) and one entry in that table.

What the plans share is written here once: the results (`Result`, `BatchResult`); the checks
of what a caller passes (`check_numbers`, `check_sample`, `check_rows`, `check_params` and, for
numpy, `check_array` and `check_param_array`), so that every backend refuses the same inputs
with the same message; how a parameter's number is read (`read_data`); and the grouping of
instructions by depth (`group_by_depth`) that both plans replay one group at a time.

Left out: how a backend computes (`python_plan`, `numpy_plan`), and the table (`backends`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from micrograd.engine import Value
from micrograd.numeric import to_float
from micrograd.parameter import Store

if TYPE_CHECKING:
    from micrograd.tape.program import Tape

__all__ = [
    "BatchResult",
    "PlanBuilder",
    "ReplayPlan",
    "Result",
    "check_array",
    "check_numbers",
    "check_param_array",
    "check_params",
    "check_rows",
    "check_sample",
    "group_by_depth",
    "read_data",
]


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


class ReplayPlan(Protocol):
    """A tape laid out for one backend; `run` is `Tape.run_batch` on that backend."""

    def run(
        self,
        inputs: Any,
        params: Any,
        reduce: str,
        seeds: Sequence[float],
        input_grads: bool = True,
    ) -> BatchResult:
        """Forward and backward for `inputs`, one row per sample, as the caller gave them.

        The plan checks `inputs` (`check_rows` or `check_array`) and `params`: None reads the
        tape's parameter Values (`read_data`), and the result carries those numbers as
        `param_values`; otherwise numbers to use instead (`check_params`). The tape has checked
        `reduce` ("sum" or "mean" over the samples, for the parameter gradients) and `seeds`
        (the weight of each output's gradient, one float per output). With `input_grads`
        False the result's `input_grads` is None, and the plan may skip computing them.
        """
        ...


PlanBuilder = Callable[["Tape"], ReplayPlan]
"""What `backends.BACKENDS` holds for each name: a plan class, or any callable making a plan."""


# The number in each parameter, read from its slot: `Value.data` is a property, and a model's
# hundreds of parameters are read at every replay. A Value's number is checked when assigned.
read_data: Callable[[Value], float] = attrgetter("_data")


def check_numbers(
    values: object, what: str, expected: str = "a sequence of numbers"
) -> list[float]:
    """`values` as floats, refusing anything but real numbers (bools count, as in `Value()`)."""
    if isinstance(values, (str, bytes, Mapping, AbstractSet)) or not isinstance(values, Iterable):
        # A dict would give its keys, a set its items in no fixed order.
        raise TypeError(
            f"{what} must be {expected}, received {type(values).__name__}: {values!r:.60}"
        )
    # Floats, by far the most common, skip the general check (and its f-string).
    return [x if type(x) is float else to_float(x, f"{what}[{i}]") for i, x in enumerate(values)]


def check_sample(inputs: object, n_inputs: int) -> list[float]:
    """The inputs of one sample (`Tape.run`) as floats, `n_inputs` of them."""
    values = check_numbers(inputs, "inputs")
    if len(values) != n_inputs:
        raise ValueError(f"the tape takes {n_inputs} inputs, received {len(values)}")
    return values


def check_rows(inputs: object, n_inputs: int) -> list[list[float]]:
    """The inputs of `run_batch` as lists of floats, one row of `n_inputs` per sample, at least
    one row."""
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(
            "run_batch takes one row of numbers per sample, "
            f"received {type(inputs).__name__}: {inputs!r:.60}"
        )
    rows = [check_numbers(row, f"inputs[{k}]", "a row of numbers") for k, row in enumerate(inputs)]
    # Numbers first, then lengths, in every row: every backend names the same first fault.
    for k, row in enumerate(rows):
        if len(row) != n_inputs:
            raise ValueError(
                f"run_batch takes one row of {n_inputs} inputs per sample, "
                f"received a row of {len(row)} (row {k})"
            )
    if not rows:
        raise ValueError("run_batch needs at least one row of inputs")
    return rows


def check_array(np: Any, inputs: object, n_inputs: int) -> Any:
    """`check_rows` for a numpy backend: the inputs as a float array of shape (rows, n_inputs).

    One `np.asarray` when numpy sees plain numbers (an array of floats is returned as it is, not
    copied); otherwise `check_rows` names the entry that is not a number, or turns an int beyond
    floats into inf with a warning, as the engine does.
    """
    array = _float_array(np, inputs)
    if array is None or array.ndim < 2:  # a number or a single row: say which entry is not a row
        rows = check_rows(inputs, n_inputs)
        array = np.array(rows, dtype=float).reshape(len(rows), n_inputs)
    if array.ndim != 2 or array.shape[1] != n_inputs:
        raise ValueError(
            f"run_batch takes one row of {n_inputs} inputs per sample, "
            f"received an array of shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError("run_batch needs at least one row of inputs")
    return array


def check_params(params: object, n_params: int) -> list[float]:
    """Numbers given for the tape's parameters as floats, `n_params` of them."""
    values = check_numbers(params, "params")
    if len(values) != n_params:
        raise ValueError(f"the tape has {n_params} params, received {len(values)}")
    return values


def check_param_array(np: Any, params: object, n_params: int) -> Any:
    """`check_params` for a numpy backend: a float array (the caller's own when it is one)."""
    array = _float_array(np, params)
    if array is None:
        array = np.array(check_params(params, n_params), dtype=float)
    if array.shape != (n_params,):
        received = array.size if array.ndim == 1 else f"an array of shape {array.shape}"
        raise ValueError(f"the tape has {n_params} params, received {received}")
    return array


def _float_array(np: Any, data: object) -> Any:
    """`data` as a float array when numpy sees plain numbers in it, else None.

    Strings, None, Values, ragged rows and ints beyond int64 give None, for the checks above to
    name the entry.
    """
    try:
        array = np.asarray(data)
    except (ValueError, TypeError, OverflowError):
        return None
    return array.astype(float, copy=False) if array.dtype.kind in "biuf" else None


K = TypeVar("K", bound=Hashable)
M = TypeVar("M")


def group_by_depth(
    n_slots: int, nodes: Iterable[tuple[int, Iterable[int], K, M]]
) -> list[tuple[int, K, list[M]]]:
    """Nodes grouped by (depth, key), as (depth, key, members): groups in order of depth, and
    within a depth in order of first appearance.

    Each node is (the slot it writes, the slots it reads, its key, its member in its group), in
    an order where a node comes after those it reads (the tape's). Its depth is one more than
    the deepest slot it reads; a slot no node writes (a leaf) is at depth 0. So the members of a
    group never read one another, and a replay computes each group in one call, in this order.
    """
    depth = [0] * n_slots
    groups: dict[tuple[int, K], list[M]] = {}
    for out, reads, key, member in nodes:
        d = depth[out] = 1 + max([depth[r] for r in reads], default=0)
        members = groups.get((d, key))
        if members is None:
            groups[(d, key)] = members = []
        members.append(member)
    # Stable sort on depth only: within a depth, groups stay in order of first appearance.
    ordered = sorted(groups.items(), key=lambda item: item[0][0])
    return [(d, key, members) for (d, key), members in ordered]
