"""One numeric policy on every execution path: eager, higher-order, tape replay, gradcheck.

For every op in the registry and every combination of edge values (signed zeros, subnormals,
values where exp overflows, the largest floats, infinities, nan), `backward()` is the
reference, and `backward(create_graph=True)`, `functional.grad` (plain and nested, so through
each op's `graph_grads`) and tape replay (Python and numpy) must give the same value and
gradients, nan and inf included. Zeros compare equal whatever their sign: `backward()` adds
each gradient into a leaf's 0.0, which turns a -0.0 into 0.0. No path may let a Python
`ValueError` ("math domain error"), `OverflowError` or `ZeroDivisionError` escape.
"""

from __future__ import annotations

import itertools
import math
import warnings

import pytest

from micrograd import OPS, Value, gradcheck
from micrograd.engine import apply
from micrograd.functional import grad
from micrograd.tape import trace
from tests.edge_values import EVERY_PATH_EDGES
from tests.references import same

OP_NAMES = sorted(OPS)
# numpy's power is not always correctly rounded (np.power(710.0, 0.5) is one ulp below
# math.pow's); every other path must agree to the bit.
NUMPY_REL = 4 * 2.0**-52

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _number(x: Value | float) -> float:
    return x.data if isinstance(x, Value) else float(x)


def eager(op_name: str, inputs: tuple[float, ...]) -> list[float]:
    leaves = [Value(x) for x in inputs]
    out = apply(OPS[op_name], *leaves)
    out.backward()
    return [out.data] + [leaf.grad for leaf in leaves]


def create_graph(op_name: str, inputs: tuple[float, ...]) -> list[float]:
    leaves = [Value(x) for x in inputs]
    out = apply(OPS[op_name], *leaves)
    out.backward(create_graph=True)
    return [out.data] + [_number(leaf.grad) for leaf in leaves]


def functional(op_name: str, inputs: tuple[float, ...]) -> list[float]:
    f = _op_function(op_name)
    grads = grad(f, argnums=tuple(range(len(inputs))))(*inputs)
    return [_number(f(*[Value(x) for x in inputs]))] + list(grads)


def functional_nested(op_name: str, inputs: tuple[float, ...]) -> list[float]:
    # Arguments that require grad make grad() build its result as a graph (graph_grads).
    f = _op_function(op_name)
    grads = grad(f, argnums=tuple(range(len(inputs))))(*[Value(x) for x in inputs])
    return [_number(f(*[Value(x) for x in inputs]))] + [_number(g) for g in grads]


def tape_python(op_name: str, inputs: tuple[float, ...]) -> list[float]:
    result = trace(_op_function(op_name), list(inputs)).run(list(inputs))
    return result.outputs + result.input_grads


def tape_numpy(op_name: str, inputs: tuple[float, ...]) -> list[float]:
    pytest.importorskip("numpy")
    tape = trace(_op_function(op_name), [1.0] * len(inputs))  # traced elsewhere, replayed here
    result = tape.run_batch([list(inputs)], reduce="sum", backend="numpy")
    return [float(result.outputs[0][0])] + [float(g) for g in result.input_grads[0]]


def _op_function(op_name: str):
    return lambda *xs: apply(OPS[op_name], *xs)


PATHS = {
    "create_graph": create_graph,
    "functional": functional,
    "functional_nested": functional_nested,
    "tape_python": tape_python,
    "tape_numpy": tape_numpy,
}


def edge_cases(op_name: str) -> list[tuple[float, ...]]:
    return list(itertools.product(EVERY_PATH_EDGES, repeat=OPS[op_name].arity))


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("op_name", OP_NAMES)
def test_every_path_agrees_with_backward_on_edge_values(op_name, path):
    rel = NUMPY_REL if path == "tape_numpy" else 0.0
    mismatches = []
    for inputs in edge_cases(op_name):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning other than RuntimeWarning is a failure
            warnings.simplefilter("ignore", RuntimeWarning)
            reference = eager(op_name, inputs)
            try:
                results = PATHS[path](op_name, inputs)
            except (ArithmeticError, ValueError) as error:
                pytest.fail(f"{path} raised {error!r} for {op_name}{inputs}")
        for index, (ours, theirs) in enumerate(zip(results, reference)):
            if not same(ours, theirs, rel):
                mismatches.append((inputs, index, ours, theirs))
    assert not mismatches, f"{path} differs from backward() for {op_name}: {mismatches[:5]}"


@pytest.mark.parametrize("op_name", OP_NAMES)
def test_gradcheck_answers_on_edge_values_without_a_bare_error(op_name):
    f = _op_function(op_name)
    for inputs in edge_cases(op_name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                answer = gradcheck(f, list(inputs), raise_exception=False)
            except (ArithmeticError, ValueError) as error:
                pytest.fail(f"gradcheck raised {error!r} for {op_name}{inputs}")
        assert answer in (True, False)
        if all(abs(x) <= 3.0 for x in inputs) and op_name in ("add", "mul", "tanh", "sigmoid"):
            assert answer, (op_name, inputs)  # smooth there: it must pass


def test_a_nested_argument_keeps_the_sign_of_zero():
    # grad() stands a new node in for a Value argument; -0.0 must stay -0.0, or log's gradient
    # at -0.0 would flip from -inf to inf.
    assert grad(lambda x: x.log())(Value(-0.0)).data == -math.inf
    assert grad(lambda x: x.log())(-0.0) == -math.inf


def test_an_int_beyond_the_float_range_is_inf_on_every_path():
    big = 10**400
    assert Value(big).data == math.inf
    assert (Value(1.0) * big).data == math.inf
    assert grad(lambda x: x * 2.0)(big) == 2.0
    assert grad(lambda x: big)(1.0) == 0.0  # a constant output
    # tanh is flat out there: backward() and central differences both give 0.
    assert gradcheck(lambda x: x.tanh(), [big], raise_exception=False) is True


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_an_int_beyond_the_float_range_in_a_tape_replay(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    tape = trace(lambda x: x * 2.0, [1.0])
    with pytest.warns(RuntimeWarning, match="too large for a float"):
        result = tape.run_batch([[10**400]], backend=backend)
    assert result.outputs[0][0] == math.inf
    with pytest.warns(RuntimeWarning, match="too large for a float"):
        assert tape.run([-(10**400)]).outputs[0] == -math.inf


def test_an_int_beyond_the_float_range_elsewhere_is_a_clear_error_or_inf():
    from micrograd import MLP
    from micrograd.losses import mse
    from micrograd.optim import SGD

    model = MLP(1, [1], seed=0)
    state = model.state_dict()
    state["layers.0.neurons.0.b"] = 10**400
    with pytest.raises(ValueError, match="too large for a float"):
        model.load_state_dict(state)
    with pytest.raises(ValueError, match="lr .*received int"):
        SGD(model.parameters(), lr=10**400)
    with pytest.warns(RuntimeWarning, match="too large for a float"):
        assert mse([Value(1.0)], [10**400]).data == math.inf


@pytest.mark.parametrize("x0", [0.0, -2.0])
def test_a_dead_relu_under_a_division_gives_the_ieee_nan_not_pytorchs_zero(x0, torch):
    # Decided and documented (docs/guide/numerics.md): relu's local 0 times the division's -inf.
    x = Value(x0)
    with pytest.warns(RuntimeWarning, match="pow"):
        y = 1 / x.relu()
    assert y.data == math.inf
    y.backward()
    assert math.isnan(x.grad)
    t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    (1 / t.relu()).backward()
    assert t.grad.item() == 0.0  # PyTorch masks instead: the difference the guide names
