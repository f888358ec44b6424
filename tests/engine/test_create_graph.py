"""Gradients of gradients: every op's rules on Values, and `backward(create_graph=True)`.

References: each op's float `local_grads` (the Value-level derivatives must agree with them),
central differences of first derivatives, PyTorch float64 double backward when torch is
installed, and closed forms. The functional API has its own file, gradients/test_functional.py.
"""

from __future__ import annotations

import math
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import OPS, Op, Value, no_grad
from micrograd.autodiff import graph_grads
from micrograd.engine import apply
from micrograd.functional import grad, hessian
from tests.references import examples, facts, torch_functions

SETTINGS = settings(max_examples=examples(30), deadline=None)
OP_NAMES = sorted(OPS)


def _inputs(op_name: str) -> st.SearchStrategy[list[float]]:
    """Points in the op's domain, kept away from its kinks (where derivatives jump)."""
    op = OPS[op_name]
    coordinates = [
        st.floats(low, high, allow_nan=False).filter(
            lambda x: all(abs(x - kink) > 1e-3 for kink in op.kinks)
        )
        for low, high in op.domain
    ]
    inputs = st.tuples(*coordinates).map(list)
    if op.kink_where_equal:  # maximum, clamp_min, ...: a derivative jumps where inputs meet
        inputs = inputs.filter(lambda xs: abs(xs[0] - xs[1]) > 1e-3)
    return inputs


def _op_function(op):
    """The op as a function of Values or numbers (arguments not differentiated stay numbers)."""

    def function(*xs):
        return apply(
            op, *(x if isinstance(x, Value) else Value(x, requires_grad=False) for x in xs)
        )

    return function


def _number(local: Value | float) -> float:
    return local.data if isinstance(local, Value) else float(local)


# --- the op registry ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", OP_NAMES)
def test_every_op_has_one_graph_grad_per_input(name):
    op = OPS[name]
    assert len(graph_grads(op)) == op.arity == len(op.domain)


@pytest.mark.parametrize("name", OP_NAMES)
@SETTINGS
@given(data=st.data())
def test_graph_grads_agree_with_float_local_grads(name, data):
    op = OPS[name]
    point = data.draw(_inputs(name))
    # Each input either needs grad or is a constant: pow takes a different branch for each.
    needs_grad = data.draw(st.lists(st.booleans(), min_size=op.arity, max_size=op.arity))
    values = [Value(x, requires_grad=flag) for x, flag in zip(point, needs_grad)]
    out = Value(0.0) + apply(op, *values)  # an op node whose inputs may all be constants
    node = out.parents[1] if out.parents[1].op is op else None
    result = op.forward(*point)
    result_value = node if node is not None else Value(result, requires_grad=False)
    for i in range(op.arity):
        expected = op.local_grads[i](*point, result)
        got = _number(graph_grads(op)[i](*values, result_value))
        # Equal to the last bit, except that log's x ** -1 may round differently from 1 / x.
        assert abs(got - expected) <= math.ulp(expected), (name, i, point, got, expected)


@pytest.mark.parametrize("name", OP_NAMES)
@SETTINGS
@given(data=st.data())
def test_second_derivatives_of_every_op_match_central_differences(name, data):
    op = OPS[name]
    point = data.draw(_inputs(name))
    eps = 1e-6

    def first_derivative(i: int, at: list[float]) -> float:
        leaves = [Value(x) for x in at]
        apply(op, *leaves).backward()
        return leaves[i].grad

    h = hessian(_op_function(op), tuple(range(op.arity)))(*point)
    for i in range(op.arity):
        for j in range(op.arity):
            upper = point[:j] + [point[j] + eps] + point[j + 1 :]
            lower = point[:j] + [point[j] - eps] + point[j + 1 :]
            estimate = (first_derivative(i, upper) - first_derivative(i, lower)) / (2 * eps)
            assert math.isclose(h[i][j], estimate, rel_tol=1e-5, abs_tol=1e-5), (i, j, point)


def _torch_partials(torch, fn, point, order):
    """All partial derivatives of fn up to `order`, as {(i, j, ...): float}, by double backward."""
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    layer = {(): fn(*xs)}
    partials = {}
    for _ in range(order):
        next_layer = {}
        for index, value in layer.items():
            if not value.requires_grad:
                derivatives = [None] * len(xs)
            else:
                derivatives = torch.autograd.grad(value, xs, create_graph=True, allow_unused=True)
            for i, d in enumerate(derivatives):
                d = torch.zeros((), dtype=torch.float64) if d is None else d
                next_layer[index + (i,)] = d
                partials[index + (i,)] = d.item()
        layer = next_layer
    return partials


@pytest.mark.parametrize("name", OP_NAMES)
@SETTINGS
@given(data=st.data())
def test_every_op_up_to_third_order_matches_torch_double_backward(name, data, torch):
    op = OPS[name]
    point = data.draw(_inputs(name))
    if name == "pow" and point[1] in (0.0, 1.0, 2.0):
        # PyTorch zeroes d(x ** e)/dx where the exponent e is exactly 0, and the exponents
        # y, y - 1, y - 2 all appear up to third order; that also zeroes the derivative of
        # y * x ** (y - 1) with respect to y, which is x ** (y - 1), not 0 (central differences
        # agree with us: see the test above, and test_functional's pow test).
        point[1] += 0.25
    expected = _torch_partials(torch, torch_functions()[name], point, order=3)
    for index, reference in expected.items():
        derivative = _op_function(op)
        for i in index:
            derivative = grad(derivative, argnums=i)
        got = derivative(*point)
        assert math.isclose(got, reference, rel_tol=1e-9, abs_tol=1e-9), (index, point)


# --- backward(create_graph=True) ----------------------------------------------------------------


def test_create_graph_gives_leaves_value_grads_with_the_plain_numbers():
    def build():
        x, w, b = Value(0.7, "x"), Value(-1.3, "w"), Value(0.2, "b")
        hidden = (x * w + b).tanh()
        out = hidden * hidden.exp() + (x / w).sin()
        return out, hidden, (x, w, b)

    plain_out, plain_hidden, plain_leaves = build()
    plain_out.backward()
    out, hidden, leaves = build()
    out.backward(create_graph=True)
    for leaf, plain in zip(leaves, plain_leaves):
        assert isinstance(leaf.grad, Value) and leaf.grad.requires_grad
        assert leaf.grad.data == plain.grad
    # Intermediate values keep float grads, the same as backward() gives them.
    assert type(hidden.grad) is float and hidden.grad == plain_hidden.grad
    assert out.grad == 1.0


def test_grad_of_grad_by_backward_gives_the_second_derivative_of_tanh():
    x = Value(0.4)
    y = x.tanh()
    y.backward(create_graph=True)
    first = x.grad
    x.grad = 0.0  # otherwise the next backward() adds to the first derivative, as in PyTorch
    first.backward()
    t = math.tanh(0.4)
    assert first.data == pytest.approx(1 - t * t, rel=1e-15)
    assert x.grad == pytest.approx(-2 * t * (1 - t * t), rel=1e-14)


def test_create_graph_through_a_a_a_diamond_and_a_reused_intermediate():
    a = Value(1.5)
    (a * a).backward(create_graph=True)
    assert a.grad.data == 3.0
    grad_of_square = a.grad
    a.grad = 0.0
    grad_of_square.backward()
    assert a.grad == 2.0

    # diamond: b feeds c and d, both feed e; e = (2b)(b + 1) with b = a ** 2, so e = 2a^4 + 2a^2
    a = Value(1.5)
    b = a**2
    e = (b * 2) * (b + 1)
    e.backward(create_graph=True)
    assert a.grad.data == pytest.approx(8 * 1.5**3 + 4 * 1.5)
    first = a.grad
    a.grad = 0.0
    first.backward()
    assert a.grad == pytest.approx(24 * 1.5**2 + 4)


def test_third_derivative_by_three_backward_calls():
    x = Value(2.0)
    (x**4).backward(create_graph=True)
    first = x.grad
    x.grad = 0.0
    first.backward(create_graph=True)
    second = x.grad
    x.grad = 0.0
    second.backward()
    assert (first.data, second.data, x.grad) == (32.0, 48.0, 48.0)  # 4x^3, 12x^2, 24x


def test_create_graph_twice_accumulates_in_the_leaves_like_pytorch():
    x = Value(2.0)
    y = x**3
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert x.grad.data == 2 * 12.0
    total = x.grad
    x.grad = 0.0
    total.backward()
    assert x.grad == 2 * 12.0  # d/dx of 2 * 3x^2 = 12x


def test_create_graph_then_grad_backward_without_zeroing_adds_like_pytorch(torch):
    x = Value(0.3)
    y = (x * x.sin()).exp()
    y.backward(create_graph=True)
    x.grad.backward()
    tx = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    ty = (tx * tx.sin()).exp()
    ty.backward(create_graph=True)
    tx.grad.backward()
    assert x.grad.data == pytest.approx(tx.grad.item(), rel=1e-13)


def test_a_constant_gradient_is_a_value_without_graph():
    x = Value(2.0)
    (x * 3.0).backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 3.0
    assert not x.grad.requires_grad
    with pytest.raises(RuntimeError, match="no graph"):
        x.grad.backward()
    # The functional API gives the documented zero for the same second derivative.
    assert grad(grad(lambda v: v * 3.0))(2.0) == 0.0


def test_create_graph_on_a_leaf_and_on_constants():
    x = Value(2.0)
    x.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 1.0
    c = Value(5.0, requires_grad=False)
    out = Value(1.0) * c
    out.backward(create_graph=True)
    assert c.grad == 0.0  # constants take no gradient


def test_create_graph_on_a_graph_built_under_no_grad_is_an_error():
    x = Value(2.0)
    with no_grad():
        y = x * x
    with pytest.raises(RuntimeError, match=facts("create_graph=True", "no_grad")):
        y.backward(create_graph=True)


def test_create_graph_inside_no_grad_still_builds_the_gradient_graph():
    x = Value(2.0)
    y = x**3
    with no_grad():
        y.backward(create_graph=True)  # as in PyTorch, create_graph wins inside backward
    assert x.grad.requires_grad
    first = x.grad
    x.grad = 0.0
    first.backward()
    assert x.grad == 12.0


@pytest.mark.slow
def test_create_graph_on_a_chain_deeper_than_the_recursion_limit():
    depth = 20_000
    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = y + x * x  # y = x + depth * x^2
    y.backward(create_graph=True)
    assert x.grad.data == pytest.approx(1 + 2 * depth * 0.5)
    first = x.grad
    x.grad = 0.0
    first.backward()
    assert x.grad == pytest.approx(2 * depth)


def test_default_backward_still_gives_floats():
    x = Value(2.0)
    (x * x).backward()
    assert type(x.grad) is float and x.grad == 4.0


def test_gradient_graph_is_freed_once_the_leaf_lets_go():
    x = Value(1.0)
    y = (x * 2.0).tanh()
    y.backward(create_graph=True)
    watch = weakref.ref(y)
    del y
    # The leaf's gradient graph holds y's node (tanh's derivative uses its output).
    assert watch() is not None
    x.grad = 0.0
    assert watch() is None


def test_an_op_without_graph_grads_names_itself_when_create_graph_needs_them():
    cube = Op(
        "cube",
        "³",
        forward=lambda x: x**3,
        local_grads=(lambda x, out: 3 * x * x,),
        domain=((-2.0, 2.0),),
    )
    x = Value(2.0)
    apply(cube, x).backward()
    assert x.grad == 12.0  # the float path needs only local_grads
    with pytest.raises(RuntimeError, match=facts("'cube'", "0 graph_grads", "1 inputs")):
        apply(cube, x).backward(create_graph=True)
