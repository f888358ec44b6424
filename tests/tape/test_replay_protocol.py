"""The tape's seam: one plan protocol, one table of backends, one input checker, one grouping.

Covers `micrograd/tape/replay.py` and `micrograd/tape/backends.py`: both shipped plans have the
protocol's `run`; a third backend added as one table entry replays through `run_batch`; an
unknown name lists the known ones; every backend refuses the same inputs with the same message;
`group_by_depth` orders groups so that none reads another of its depth; and no module imports a
private name of the tape package.
"""

from __future__ import annotations

import ast
import inspect
import math
import pathlib

import pytest

import micrograd
from micrograd import MLP, Value
from micrograd.losses import cross_entropy
from micrograd.tape import BACKENDS, BatchResult, ReplayPlan, trace
from micrograd.tape.python_plan import PythonPlan
from micrograd.tape.replay import check_params, check_rows, group_by_depth

PACKAGE = pathlib.Path(micrograd.__file__).parent


class CountingPlan:
    """A toy third backend: counts its replays and lets the Python plan compute them."""

    def __init__(self, tape) -> None:
        self.inner = PythonPlan(tape)
        self.replays = 0

    def run(self, inputs, params, reduce, seeds, input_grads=True) -> BatchResult:
        self.replays += 1
        return self.inner.run(inputs, params, reduce, seeds, input_grads)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> str:
    # The documented way, as a test does it: one entry in the table (undone after the test).
    monkeypatch.setitem(BACKENDS, "counting", CountingPlan)
    return "counting"


def small_tape():
    model = MLP(3, [4, 2], seed=7)
    tape = trace(lambda *x: cross_entropy(model(list(x)), 1), 3, model.parameters())
    return model, tape


ROWS = [[0.3, -1.0, 2.0], [1.5, 0.2, -0.7], [0.0, 0.4, 0.9]]


def test_every_shipped_plan_has_the_protocols_run():
    wanted = inspect.signature(ReplayPlan.run)
    for name, build in BACKENDS.items():
        found = inspect.signature(build.run)
        assert list(found.parameters) == list(wanted.parameters), name
        assert found.parameters["input_grads"].default is True, name


def test_a_third_backend_is_one_table_entry_and_replays_through_run_batch(counting):
    _, tape = small_tape()
    for reduce in ("sum", "mean"):
        found = tape.run_batch(ROWS, backend=counting, reduce=reduce, output_grads=[0.5])
        expected = tape.run_batch(ROWS, backend="python", reduce=reduce, output_grads=[0.5])
        assert found == expected  # the same plan underneath: equal to the last bit
    plan = tape.plan(counting)
    assert isinstance(plan, CountingPlan) and plan.replays == 2  # built once, kept
    assert tape.plan("python") is not plan.inner  # each backend has its own plan
    lean = tape.run_batch(ROWS, backend=counting, input_grads=False)
    assert lean.input_grads is None and lean.params == tape.params
    assert lean.param_values == [p.data for p in tape.params]  # what an optimizer steps from


def test_an_unknown_backend_is_refused_with_the_known_names(counting):
    _, tape = small_tape()
    with pytest.raises(ValueError, match="'gpu'") as error:
        tape.run_batch(ROWS, backend="gpu")
    for name in ("auto", "numpy", "python", "counting"):
        assert repr(name) in str(error.value)
    with pytest.raises(ValueError, match="'gpu'"):
        tape.plan("gpu")
    with pytest.raises(ValueError, match=r"\['gpu'\]"):
        tape.run_batch(ROWS, backend=["gpu"])


# Bad inputs, and a pattern of the facts each message must carry, the same for every backend.
BAD_INPUTS = [
    ([[1.0, 2.0, 3.0], ["1", 2.0, 3.0]], TypeError, r"inputs\[1\]\[0\] .*str: '1'"),
    ([[1.0, None, 3.0]], TypeError, r"inputs\[0\]\[1\] .*NoneType"),
    ([[1.0, 2.0, 3.0], [1.0]], ValueError, r"3 inputs.* of 1 \(row 1\)"),
    ([], ValueError, "at least one row"),
    (3.0, TypeError, "float: 3.0"),
    ([{0: 1.0, 1: 2.0, 2: 3.0}], TypeError, "dict"),
]


@pytest.mark.parametrize(("inputs", "kind", "facts"), BAD_INPUTS)
def test_every_backend_refuses_the_same_inputs_with_the_same_message(counting, inputs, kind, facts):
    pytest.importorskip("numpy")
    _, tape = small_tape()
    messages = set()
    for backend in BACKENDS:
        with pytest.raises(kind, match=facts) as error:
            tape.run_batch(inputs, backend=backend)
        messages.add(str(error.value))
    assert len(messages) == 1, messages


def test_params_given_as_numbers_are_checked_by_every_backend(counting):
    pytest.importorskip("numpy")
    _, tape = small_tape()
    n = len(tape.params)
    messages = set()
    for backend in BACKENDS:
        with pytest.raises(TypeError, match=r"params\[1\] .*NoneType"):
            tape.run_batch(ROWS, [0.0, None] + [0.0] * (n - 2), backend=backend)
        with pytest.raises(ValueError, match=f"{n} params, received {n - 1}") as error:
            tape.run_batch(ROWS, [0.0] * (n - 1), backend=backend)
        messages.add(str(error.value))
    assert len(messages) == 1, messages


def test_the_checkers_turn_numbers_into_floats():
    assert check_rows([[True, 2], (3, 4.5)], 2) == [[1.0, 2.0], [3.0, 4.5]]
    assert check_params(range(3), 3) == [0.0, 1.0, 2.0]
    with pytest.warns(RuntimeWarning, match="too large for a float"):
        assert check_rows([[10**400]], 1) == [[math.inf]]


def test_group_by_depth_puts_each_node_one_deeper_than_what_it_reads():
    # Slots 0 and 1 are leaves. 2 = f(0), 3 = g(0, 1), 4 = f(2), 5 = f(1), 6 = g(4, 3).
    nodes = [
        (2, (0,), "f", "a"),
        (3, (0, 1), "g", "b"),
        (4, (2,), "f", "c"),
        (5, (1,), "f", "d"),
        (6, (4, 3), "g", "e"),
    ]
    groups = group_by_depth(7, nodes)
    # Depth 1: f (a, d) before g (b), in order of first appearance; then c; then e.
    assert groups == [(1, "f", ["a", "d"]), (1, "g", ["b"]), (2, "f", ["c"]), (3, "g", ["e"])]


def test_both_plans_group_a_tape_by_depth_from_one_function():
    # The Python plan's groups are group_by_depth's, one group per (depth, op record).
    _, tape = small_tape()
    nodes = ((ins.out, ins.args, id(ins.op), k) for k, ins in enumerate(tape.instructions))
    grouped = group_by_depth(tape.n_slots, nodes)
    plan = tape.plan("python")
    assert [g.op for g in plan.groups] == [tape.instructions[m[0]].op for _, _, m in grouped]
    assert [g.hi - g.lo for g in plan.groups] == [len(m) for _, _, m in grouped]


def test_a_replay_plan_is_built_once_per_backend_and_kept():
    w = Value(0.5)
    tape = trace(lambda x: (w * x).relu(), 1, [w])
    assert tape.plan("python") is tape.plan("python")
    assert tape.run([2.0]).outputs == [1.0]
    assert tape.plan("python") is tape.plan("python")


def _private_imports(path: pathlib.Path) -> list[str]:
    """`from micrograd.x import _name` lines of a file, as 'module._name'."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("micrograd"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_no_module_imports_a_private_name_of_the_tape_package():
    crossing = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in _private_imports(path)
        if name.startswith("micrograd.tape")
    ]
    assert crossing == []
