"""The tape compiler: trace a computation on `Value`s once, then replay it on plain numbers.

`trace(fn, inputs, params)` calls `fn` on placeholder Values and records the graph it builds as
a `Tape`: a straight-line program over numbered slots, one instruction per op, each pointing at
the same `Op` record the eager engine used. `print(tape)` shows it (`v7 = mul(v3, v5)`).

A tape replays forward and backward for new inputs and parameter values without making any
`Value`:

- `tape.run(inputs)`: one sample in pure Python (no numpy needed), instructions grouped by
  depth and op so that each group is one `map` over the op record's functions;
- `tape.run_batch(rows)`: many samples at once, one sample per lane of numpy arrays, with
  parameter gradients summed or averaged over the lanes. Instructions are grouped by depth and
  op, chains of additions become one sum, and sums of parameter-times-value products (neurons)
  one matrix product per layer, so a replay costs a few numpy calls per layer of the graph
  rather than one per scalar op; what depends on the parameters only (an L2 penalty) is computed
  once for all lanes. Without numpy it replays the samples side by side in pure Python, as
  `run` does one.

Both replays are built on first use in time and memory linear in the tape's length, and find
additions and products by their op records (`op is ADD`), never by name, so a user op called
"add" is replayed by its own functions.

Parameters are read from the traced parameter Values at each replay unless given, so a model
updated in place (`p.data -= lr * g`) stays the source of truth. A batch result carries those
Values and the numbers read, so that an optimizer's `step(result)` (`micrograd.optim`) updates
the model from it with numpy.

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

The seam between a tape and its replays is public: a backend is a plan builder, named in the
table `BACKENDS` (`backends.py`); a plan's `run` follows `ReplayPlan` (`replay.py`, with the
input checks and the grouping by depth that every plan shares); `tape.plan(backend)` is the
tape's plan, built on first use and kept. A new backend is a new file and one table entry.

Files: `program.py` (the tape and `trace`), `replay.py` (the plan protocol, the results, the
checks), `backends.py` (the table), `python_plan.py` (pure-Python replay), `numpy_build.py` (the
batched replay's plan: fused sums and matrix products, groups, rows) and `numpy_plan.py`
(running that plan from each record's `array_forward`/`array_local_grads`).

Left out: anomaly detection (`detect_anomaly()` checks eager ops only; replays are unchecked),
higher-order gradients through a tape, and numpy replay of an op whose record has no
array versions (it raises NotImplementedError; `run` still works).
"""

from micrograd.tape.backends import BACKENDS, default_backend
from micrograd.tape.program import BatchResult, Instruction, Result, Tape, TracingError, trace
from micrograd.tape.replay import ReplayPlan

__all__ = [
    "BACKENDS",
    "BatchResult",
    "Instruction",
    "ReplayPlan",
    "Result",
    "Tape",
    "TracingError",
    "default_backend",
    "trace",
]
