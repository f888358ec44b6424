"""The engine: operators, graph shapes, the accumulation rule, grad mode, memory, bad input."""

from __future__ import annotations

import fractions
import gc
import math
import threading
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import Value, is_grad_enabled, no_grad, numerical_grad, topological_order
from tests.references import facts, needs_torch

# Operators with plain numbers on either side.


@pytest.mark.parametrize(
    ("build", "value", "grad"),
    [
        (lambda x: x + 2, 5.0, 1.0),
        (lambda x: 2 + x, 5.0, 1.0),
        (lambda x: x - 2, 1.0, 1.0),
        (lambda x: 2 - x, -1.0, -1.0),
        (lambda x: x * 2, 6.0, 2.0),
        (lambda x: 2 * x, 6.0, 2.0),
        (lambda x: x / 2, 1.5, 0.5),
        (lambda x: 2 / x, 2 / 3, -2 / 9),
        (lambda x: x**2, 9.0, 6.0),
        (lambda x: 2**x, 8.0, 8.0 * math.log(2)),
        (lambda x: -x, -3.0, -1.0),
        (lambda x: +x, 3.0, 1.0),
        (lambda x: x.sqrt(), math.sqrt(3), 0.5 / math.sqrt(3)),
        (lambda x: abs(-x), 3.0, 1.0),
    ],
)
def test_operator_with_numbers(build, value, grad):
    x = Value(3.0)
    out = build(x)
    out.backward()
    assert out.data == pytest.approx(value, rel=1e-15)
    assert x.grad == pytest.approx(grad, rel=1e-15)


def test_value_exponent_gets_a_gradient():
    x, y = Value(2.0), Value(3.0)
    out = x**y
    out.backward()
    assert out.data == 8.0
    assert x.grad == 12.0  # y * x ** (y - 1)
    assert y.grad == pytest.approx(8.0 * math.log(2.0))  # x ** y * log x


def test_in_place_operators_rebind():
    x = Value(1.0)
    y = x
    y += 2
    y *= 3
    y -= 1
    y /= 2
    y **= 2
    y.backward()
    assert y.data == 16.0  # ((1 + 2) * 3 - 1) / 2 = 4, squared
    assert x.grad == 12.0  # d/dx ((3x + 5) / 2) ** 2 = 2 * 4 * 1.5
    assert x.data == 1.0


def test_data_and_grad_are_floats():
    v = Value(2)
    assert type(v.data) is float and type(v.grad) is float
    w = v * 3
    w.backward()
    assert type(w.data) is float and type(v.grad) is float


def test_repr_and_label():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2.0, "a")) == "Value(data=2.0, grad=0.0, label='a')"


def test_slots_and_identity():
    a, b = Value(1.0), Value(1.0)
    with pytest.raises(AttributeError):
        a.something = 1
    assert a != b and a == a
    assert len({a, b}) == 2


# Graph shapes.


def test_a_plus_a_and_a_times_a_keep_both_edges():
    a = Value(3.0)
    s = a + a
    assert s.parents == (a, a)
    s.backward()
    assert a.grad == 2.0
    a.grad = 0.0
    p = a * a
    assert p.parents == (a, a)
    p.backward()
    assert a.grad == 6.0


def test_parents_in_argument_order():
    a, b = Value(1.0), Value(2.0)
    assert (a * b).parents == (a, b)
    assert (b * a).parents == (b, a)
    c = 2 * a
    assert c.parents[1] is a and c.parents[0].data == 2.0


def test_diamond():
    x = Value(2.0)
    a = x * 3
    b = x.exp()
    out = a * b
    out.backward()
    assert x.grad == pytest.approx(3 * math.exp(2) + 6 * math.exp(2))


def test_reused_intermediate():
    # A naive recursive backward that does not wait for all consumers gets this wrong.
    x = Value(0.5)
    h = x.tanh()
    out = h * h + h
    out.backward()
    t = math.tanh(0.5)
    assert x.grad == pytest.approx((2 * t + 1) * (1 - t * t), rel=1e-14)
    assert h.grad == pytest.approx(2 * t + 1, rel=1e-14)


def test_backward_twice_accumulates_in_leaves_only():
    x = Value(3.0)
    y = x * x * x
    y.backward()
    assert x.grad == 27.0
    x.grad = 0.0
    y.backward()
    assert x.grad == 27.0  # micrograd 0.1.0 gives 45 here
    y.backward()
    assert x.grad == 54.0  # leaves accumulate, as in PyTorch
    intermediate = y.parents[0]
    assert intermediate.grad == 3.0  # x * x receives dy/d(x*x) = x, recomputed each call


def test_topological_order_puts_parents_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order[-1] is e
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert len(order) == len({id(n) for n in order})


DEPTH = 1_000_000


@pytest.mark.slow
def test_million_op_chain_builds_backpropagates_and_is_freed():
    x = Value(1.0)
    y = x
    for _ in range(DEPTH):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    assert y.data == pytest.approx(2.0)
    probe = weakref.ref(y.parents[0])
    del y
    assert probe() is None  # freed by reference counting, without gc and without a crash


def test_graph_is_freed_without_the_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        x = Value(0.3)
        out = x
        for _ in range(100):
            out = (out * 1.01).tanh() + x
        out.backward()
        probe = weakref.ref(out.parents[0])
        before = len(gc.get_objects())
        del out
        assert probe() is None
        assert len(gc.get_objects()) <= before
    finally:
        gc.enable()


# Gradient mode.


def test_no_grad_records_no_graph():
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * x
    assert is_grad_enabled()
    assert y.parents == () and y.op is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="no graph"):
        y.backward()


def test_no_grad_is_per_thread():
    seen = {}

    def worker():
        seen["other thread"] = is_grad_enabled()

    with no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen["other thread"] is True


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError), no_grad():
        1 / 0  # noqa: B018
    assert is_grad_enabled()


def test_detach_and_constants_take_no_gradient():
    x = Value(2.0)
    d = x.detach()
    assert d.data == 2.0 and not d.requires_grad
    out = x * d + 3
    out.backward()
    assert x.grad == 2.0 and d.grad == 0.0
    constant = out.parents[1]
    assert constant.data == 3.0 and constant.grad == 0.0


def test_backward_on_a_leaf():
    x = Value(5.0)
    x.backward()
    assert x.grad == 1.0


# Bad input.


@pytest.mark.parametrize("bad", ["abc", None, [1], (1.0,), 1j, {"a": 1}])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match=type(bad).__name__) as info:
        Value(bad)
    assert "int or float" in str(info.value)


def test_value_of_a_value_says_what_to_do():
    with pytest.raises(TypeError, match="v.data"):
        Value(Value(1.0))


@pytest.mark.parametrize("bad", ["x", None, [1]])
@pytest.mark.parametrize(
    "operation",
    [
        lambda v, o: v + o,
        lambda v, o: v * o,
        lambda v, o: v - o,
        lambda v, o: v / o,
        lambda v, o: v**o,
    ],
)
def test_operators_reject_non_numbers(bad, operation):
    with pytest.raises(TypeError, match=type(bad).__name__):
        operation(Value(1.0), bad)


def test_numpy_arrays_get_their_turn():
    np = pytest.importorskip("numpy")
    out = Value(1.0) + np.array([1.0, 2.0])
    assert [v.data for v in out] == [2.0, 3.0]


def test_domain_errors_are_ieee_values_with_warnings():
    with pytest.warns(RuntimeWarning, match=r"log\(-1.0\)"):
        assert math.isnan(Value(-1.0).log().data)
    with pytest.warns(RuntimeWarning, match=r"pow\(0.0, -1.0\)"):
        assert (1 / Value(0.0)).data == math.inf
    with pytest.warns(RuntimeWarning, match="exp"):
        assert Value(1000.0).exp().data == math.inf
    with pytest.warns(RuntimeWarning, match="non-integer"):
        assert math.isnan((Value(-8.0) ** (1 / 3)).data)


def test_an_int_too_large_for_a_float_is_an_infinity_with_a_warning():
    # float(10 ** 400) raises OverflowError in Python; here it is the IEEE overflow, as in ops.
    with pytest.warns(RuntimeWarning, match=facts("int", "inf")) as caught:
        assert Value(10**400).data == math.inf
    assert caught[0].filename == __file__
    with pytest.warns(RuntimeWarning, match=facts("int", "-inf")):
        assert (Value(1.0) + -(10**400)).data == -math.inf
    with pytest.warns(RuntimeWarning, match="an int too large"):
        assert (10**400 - Value(1.0)).data == math.inf
    with pytest.warns(RuntimeWarning, match="Fraction too large"):
        assert Value(fractions.Fraction(-(10**400), 3)).data == -math.inf
    x = Value(2.0)
    with pytest.warns(RuntimeWarning, match="too large"):
        y = x / math.factorial(200)  # the exact quotient rounds to 0.0 in floats, and so does this
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)


# Random expression graphs with shared sub-expressions, against finite differences.

SAFE_UNARY = [
    lambda v: v.tanh(),
    lambda v: v.sigmoid(),
    lambda v: (v * 0.3).exp(),
    lambda v: (v * v + 1).log(),
    lambda v: v.sin(),
    lambda v: (v * v + 0.5).sqrt(),
]
SAFE_BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1),
    lambda a, b: (a * a + 1) ** (b.tanh()),
]


@st.composite
def expressions(draw):
    """A recipe: a list of steps, each combining earlier nodes (so nodes get reused)."""
    n_inputs = draw(st.integers(1, 3))
    steps = []
    for i in range(draw(st.integers(1, 12))):
        available = n_inputs + i
        if draw(st.booleans()):
            steps.append(
                (
                    "u",
                    draw(st.integers(0, len(SAFE_UNARY) - 1)),
                    draw(st.integers(0, available - 1)),
                )
            )
        else:
            steps.append(
                (
                    "b",
                    draw(st.integers(0, len(SAFE_BINARY) - 1)),
                    draw(st.integers(0, available - 1)),
                    draw(st.integers(0, available - 1)),
                )
            )
    inputs = draw(st.lists(st.floats(-2, 2), min_size=n_inputs, max_size=n_inputs))
    return steps, inputs


def evaluate(steps, *xs):
    nodes = list(xs)
    for step in steps:
        if step[0] == "u":
            nodes.append(SAFE_UNARY[step[1]](nodes[step[2]]))
        else:
            nodes.append(SAFE_BINARY[step[1]](nodes[step[2]], nodes[step[3]]))
    return sum(nodes[len(xs) :], nodes[-1])  # every step reaches the output


@given(expressions())
def test_random_graphs_match_central_differences(recipe):
    steps, inputs = recipe
    leaves = [Value(x) for x in inputs]
    out = evaluate(steps, *leaves)
    out.backward()
    estimate = numerical_grad(lambda *xs: evaluate(steps, *xs), inputs, eps=1e-6)
    for leaf, numeric in zip(leaves, estimate):
        assert leaf.grad == pytest.approx(numeric, rel=1e-4, abs=1e-5)


@pytest.mark.slow
@needs_torch
@given(expressions())
def test_random_graphs_match_pytorch(recipe):
    import torch

    steps, inputs = recipe
    leaves = [Value(x) for x in inputs]
    out = evaluate(steps, *leaves)
    out.backward()

    class TorchValue:
        """Adapts a float64 tensor to the few Value methods the recipes use."""

        def __init__(self, t):
            self.t = t

        def _wrap(self, other):
            return other.t if isinstance(other, TorchValue) else other

        def __add__(self, o):
            return TorchValue(self.t + self._wrap(o))  # noqa: E704

        def __radd__(self, o):
            return TorchValue(o + self.t)  # noqa: E704

        def __sub__(self, o):
            return TorchValue(self.t - self._wrap(o))  # noqa: E704

        def __mul__(self, o):
            return TorchValue(self.t * self._wrap(o))  # noqa: E704

        def __truediv__(self, o):
            return TorchValue(self.t / self._wrap(o))  # noqa: E704

        def __pow__(self, o):
            return TorchValue(self.t ** self._wrap(o))  # noqa: E704

        def tanh(self):
            return TorchValue(self.t.tanh())  # noqa: E704

        def sigmoid(self):
            return TorchValue(self.t.sigmoid())  # noqa: E704

        def exp(self):
            return TorchValue(self.t.exp())  # noqa: E704

        def log(self):
            return TorchValue(self.t.log())  # noqa: E704

        def sin(self):
            return TorchValue(self.t.sin())  # noqa: E704

        def sqrt(self):
            return TorchValue(self.t.sqrt())  # noqa: E704

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    torch_out = evaluate(steps, *[TorchValue(t) for t in tensors]).t
    torch_out.backward()
    assert out.data == pytest.approx(torch_out.item(), rel=1e-12, abs=1e-12)
    for leaf, tensor in zip(leaves, tensors):
        expected = 0.0 if tensor.grad is None else tensor.grad.item()  # None: input unused
        assert leaf.grad == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_enable_grad_inside_no_grad():
    from micrograd import enable_grad

    x = Value(2.0)
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            y = x * x
        assert not is_grad_enabled()
    y.backward()
    assert x.grad == 4.0


def test_is_tracing_only_inside_trace():
    from micrograd import is_tracing, trace

    seen = []
    trace(lambda x: seen.append(is_tracing()) or x * 2.0, [1.0])
    assert seen == [True] and not is_tracing()


def test_foreign_left_operand_gets_pythons_message_in_order():
    from decimal import Decimal

    with pytest.raises(TypeError, match="'decimal.Decimal' and 'Value'"):
        Decimal(1) + Value(1.0)
    with pytest.raises(TypeError, match="'NoneType' and 'Value'"):
        None * Value(1.0)


def test_apply_checks_its_arguments():
    from micrograd.engine import apply
    from micrograd.ops import ADD

    with pytest.raises(TypeError, match="'add' takes 2 inputs, received 1"):
        apply(ADD, Value(1.0))
    with pytest.raises(TypeError, match=facts("float", "input 0")):
        apply(ADD, 1.0, Value(2.0))


def test_requires_grad_must_be_a_bool():
    with pytest.raises(TypeError, match=facts("requires_grad", "str")):
        Value(1.0, requires_grad="no")


# --- Grad mode as a decorator, as in PyTorch ---------------------------------------------------


def test_no_grad_and_enable_grad_decorate_with_or_without_parentheses():
    from micrograd import enable_grad, is_grad_enabled, no_grad

    seen = []

    @no_grad
    def bare():
        seen.append(is_grad_enabled())
        return Value(1.0) * 2

    @no_grad()
    def called():
        seen.append(is_grad_enabled())

    @enable_grad
    def inside():
        seen.append(is_grad_enabled())

    assert not bare().requires_grad
    called()
    with no_grad():
        inside()
    assert seen == [False, False, True] and is_grad_enabled()
    with pytest.raises(TypeError, match="function to decorate"):
        no_grad(3)


def test_set_grad_enabled_as_a_decorator_leaves_the_mode_alone_until_called():
    from micrograd import is_grad_enabled, set_grad_enabled

    @set_grad_enabled(False)
    def quiet():
        return is_grad_enabled()

    assert is_grad_enabled()  # decorating did not switch recording off
    assert quiet() is False and is_grad_enabled()


def test_a_decorated_function_is_reentrant_and_per_call():
    from micrograd import is_grad_enabled, no_grad

    @no_grad
    def depth(n):
        return [is_grad_enabled()] + (depth(n - 1) if n else [])

    assert depth(3) == [False] * 4 and is_grad_enabled()


# --- Copying and pickling keep the graph, however long -------------------------------------------


def _chain(n: int) -> tuple[Value, Value]:
    x = Value(0.5, "x")
    y = x
    for _ in range(n):
        y = y * 1.0 + 0.0
    return x, y


@pytest.mark.slow  # a chain deep enough to need the iterative walk: seconds
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_long_chain_copies_and_pickles(how):
    import copy
    import pickle

    x, y = _chain(50_000)  # 100,000 op nodes: Python's recursion stopped near 1,000
    twin = copy.deepcopy(y) if how == "deepcopy" else pickle.loads(pickle.dumps(y))
    assert twin is not y and twin.data == y.data and twin.op is y.op
    twin.backward()
    leaf = topological_order(twin)[0]
    assert leaf.label == "x" and leaf.grad == 1.0 and x.grad == 0.0


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_keep_sharing_and_grads(how):
    import copy
    import pickle

    a = Value(2.0, "a")
    b = a * a + a  # a three times, b's parents share a
    b.backward()
    pair = copy.deepcopy([a, b]) if how == "deepcopy" else pickle.loads(pickle.dumps([a, b]))
    a2, b2 = pair
    assert b2.parents[0].parents == (a2, a2) and b2.parents[1] is a2
    assert (a2.grad, b2.grad, a2.label) == (5.0, 1.0, "a")
    c = Value(1.5)
    (c * c).backward(create_graph=True)  # c.grad is a Value whose graph holds c
    c2 = copy.deepcopy(c) if how == "deepcopy" else pickle.loads(pickle.dumps(c))
    assert isinstance(c2.grad, Value) and c2.grad.data == 3.0
    assert c in topological_order(c.grad) and c2 in topological_order(c2.grad)


def test_a_lecture_node_is_refused_by_name():
    import copy

    a = Value(1.0)
    node = Value(2.0, (a,), "custom")
    with pytest.raises(TypeError, match="lecture's way"):
        copy.deepcopy(node)


def test_a_shallow_copy_shares_the_parents():
    import copy

    a = Value(2.0, "a")
    b = a * a
    twin = copy.copy(b)
    assert twin is not b and twin.parents == (a, a) and twin.op is b.op and twin.data == 4.0
