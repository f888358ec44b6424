"""The functional API: `grad`, `value_and_grad`, `jacobian`, `hessian`, and their composition.

References: sympy's symbolic derivatives of random straight-line programs up to third order,
PyTorch float64 double backward when torch is installed, and closed forms (tanh'', the Hessian
of Rosenbrock's function, Newton's method). Per-op checks live in engine/test_create_graph.py.
"""

from __future__ import annotations

import doctest
import math
import re
import weakref
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from micrograd import MLP, Value, no_grad
from micrograd.functional import grad, hessian, jacobian, value_and_grad
from tests.references import examples, facts

# --- random programs, evaluated by micrograd, sympy and torch ----------------------------------
#
# A program is a list of instructions (kind, i, j); each applies `kind` to registers i and j
# (taken modulo the number of registers so far) and appends the result. Registers 0 and 1 are
# the inputs x and y, and the last register is the output. Logs, powers and exps are guarded
# (log(1 + a^2), ...) so that every program is smooth and finite on the whole plane; relu and
# abs are left out because sympy's derivatives of them are distributions at their kinks.

POWERS = (-1.5, 0.5, 2.0, 3.0)
KINDS = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (1 + b * b),
    "pow_const": lambda m, a, b: (1 + a * a) ** m.number(POWERS[int(m.value(b) * 7) % 4]),
    "pow_var": lambda m, a, b: (1 + a * a) ** m.tanh(b),
    "exp": lambda m, a, b: m.exp(m.sin(a)),
    "log": lambda m, a, b: m.log(1 + a * a),
    "sqrt": lambda m, a, b: m.sqrt(1 + a * a),
    "tanh": lambda m, a, b: m.tanh(a),
    "sigmoid": lambda m, a, b: m.sigmoid(a),
    "sin": lambda m, a, b: m.sin(a),
    "cos": lambda m, a, b: m.cos(b),
}


class Micrograd:
    """Math functions on micrograd Values."""

    value = staticmethod(lambda v: v.data)
    number = staticmethod(float)
    exp = staticmethod(lambda v: v.exp())
    log = staticmethod(lambda v: v.log())
    sqrt = staticmethod(lambda v: v.sqrt())
    tanh = staticmethod(lambda v: v.tanh())
    sigmoid = staticmethod(lambda v: v.sigmoid())
    sin = staticmethod(lambda v: v.sin())
    cos = staticmethod(lambda v: v.cos())


class Sympy:
    """The same functions on sympy expressions; `value` needs the point to pick a power."""

    def __init__(self, sympy, point: dict) -> None:
        self.point = point
        self.number = sympy.Rational
        self.sigmoid = lambda e: 1 / (1 + sympy.exp(-e))
        for name in ("exp", "log", "sqrt", "tanh", "sin", "cos"):
            setattr(self, name, getattr(sympy, name))

    def value(self, e):
        return float(e.subs(self.point))


class ZeroTanhWatch(Micrograd):
    """Micrograd's functions, noting whether any tanh gave exactly 0."""

    saw_zero = False

    def tanh(self, v):
        out = v.tanh()
        self.saw_zero = self.saw_zero or out.data == 0.0
        return out


class Torch:
    """The same functions on torch float64 tensors."""

    def __init__(self, torch) -> None:
        self.value = lambda t: t.item()
        self.number = float
        for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos"):
            setattr(self, name, getattr(torch, name))


def run(program, math_functions, x, y):
    registers = [x, y]
    for kind, i, j in program:
        a, b = registers[i % len(registers)], registers[j % len(registers)]
        registers.append(KINDS[kind](math_functions, a, b))
    return registers[-1]


instructions = st.tuples(st.sampled_from(sorted(KINDS)), st.integers(0, 10), st.integers(0, 10))
programs = st.lists(instructions, min_size=1, max_size=5)
coordinates = st.floats(-1.5, 1.5, allow_nan=False)
# Which partial derivative: a sequence of argument positions, differentiated in that order.
partials = st.lists(st.integers(0, 1), min_size=1, max_size=3)


def sympy_partial(program, index, x, y) -> float:
    # Imported here, not at the top: only slow tests use sympy, and importing it costs the quick
    # loop a third of a second.
    import sympy

    sx, sy = sympy.symbols("x y", real=True)
    # The powers in a program are chosen from the data at the point, as micrograd does.
    expression = run(program, Sympy(sympy, {sx: x, sy: y}), sx, sy)
    for i in index:
        expression = sympy.diff(expression, (sx, sy)[i])
    return float(expression.subs({sx: x, sy: y}).evalf(30))


def as_values(f):
    """f with number arguments turned into constant Values: grad passes them on unchanged."""

    def with_values(*args):
        return f(*(a if isinstance(a, Value) else Value(a, requires_grad=False) for a in args))

    return with_values


def nested_grad(f, index):
    for i in index:
        f = grad(f, argnums=i)
    return f


@pytest.mark.slow
@settings(max_examples=examples(150), deadline=None)
@given(program=programs, index=partials, x=coordinates, y=coordinates)
def test_random_programs_up_to_third_order_match_sympy(program, index, x, y):
    expected = sympy_partial(program, index, x, y)
    got = nested_grad(as_values(lambda a, b: run(program, Micrograd, a, b)), index)(x, y)
    assert type(got) is float
    assert math.isclose(got, expected, rel_tol=1e-8, abs_tol=1e-8), (got, expected)


@settings(max_examples=examples(30), deadline=None)
@given(program=programs, x=coordinates, y=coordinates)
def test_hessian_of_random_programs_matches_torch(program, x, y, torch):
    # PyTorch zeroes d(a ** e)/da where the exponent e is exactly 0, which is wrong for its
    # derivative with respect to e (sympy agrees with us there; see the pow tests). Keep clear of
    # exponents that are exactly 0: the pow_var exponents are tanh outputs.
    watch = ZeroTanhWatch()
    run(program, watch, Value(x), Value(y))
    assume(not watch.saw_zero)
    tx, ty = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y))
    out = run(program, Torch(torch), tx, ty)
    if out.requires_grad:
        first = torch.autograd.grad(out, (tx, ty), create_graph=True, allow_unused=True)
    else:
        first = (None, None)
    expected = []
    for g in first:
        if g is None or not g.requires_grad:
            expected.append((0.0, 0.0))
            continue
        second = torch.autograd.grad(g, (tx, ty), retain_graph=True, allow_unused=True)
        expected.append(tuple(0.0 if s is None else s.item() for s in second))
    got = hessian(lambda a, b: run(program, Micrograd, a, b), (0, 1))(x, y)
    for got_row, expected_row in zip(got, expected):
        for g, e in zip(got_row, expected_row):
            assert math.isclose(g, e, rel_tol=1e-9, abs_tol=1e-9), (got, expected)


@pytest.mark.slow
@settings(max_examples=examples(30), deadline=None)
@given(program=programs, x=coordinates, y=coordinates)
def test_backward_create_graph_matches_sympy_second_derivatives(program, x, y):
    a, b = Value(x), Value(y)
    out = run(program, Micrograd, a, b)
    if not out.requires_grad:
        return  # the program ignores both inputs; backward() rightly refuses
    out.backward(create_graph=True)
    first = a.grad
    a.grad, b.grad = 0.0, 0.0
    if isinstance(first, Value) and first.requires_grad:
        first.backward()
    for leaf, index in ((a, (0, 0)), (b, (0, 1))):
        expected = sympy_partial(program, index, x, y)
        assert math.isclose(float(leaf.grad), expected, rel_tol=1e-8, abs_tol=1e-8)


@settings(max_examples=examples(50), deadline=None)
@given(program=programs, x=coordinates, y=coordinates)
def test_first_order_results_are_exactly_those_of_backward(program, x, y):
    a, b = Value(x), Value(y)
    out = run(program, Micrograd, a, b)
    if out.requires_grad:
        out.backward()
    value, gradient = value_and_grad(as_values(lambda p, q: run(program, Micrograd, p, q)), (0, 1))(
        x, y
    )
    assert value == out.data and gradient == (a.grad, b.grad)


# --- closed forms -------------------------------------------------------------------------------


@settings(max_examples=examples(50), deadline=None)
@given(x=st.floats(-5.0, 5.0, allow_nan=False))
def test_second_derivative_of_tanh_is_the_closed_form(x):
    t = math.tanh(x)
    assert grad(grad(lambda v: v.tanh()))(x) == pytest.approx(-2 * t * (1 - t * t), abs=1e-15)
    # Third derivative: d/dx of -2t(1 - t^2) = -2(1 - t^2)(1 - 3t^2)
    expected = -2 * (1 - t * t) * (1 - 3 * t * t)
    assert grad(grad(grad(lambda v: v.tanh())))(x) == pytest.approx(expected, abs=1e-14)


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def test_hessian_of_rosenbrock_at_its_minimum():
    assert hessian(rosenbrock, (0, 1))(1.0, 1.0) == ((802.0, -400.0), (-400.0, 200.0))
    assert grad(rosenbrock, (0, 1))(1.0, 1.0) == (0.0, 0.0)
    assert value_and_grad(rosenbrock, (0, 1))(1.0, 1.0) == (0.0, (0.0, 0.0))


def test_hessian_of_rosenbrock_elsewhere_is_the_closed_form():
    x, y = -1.2, 1.0  # the classic starting point
    expected = ((1200 * x * x - 400 * y + 2, -400 * x), (-400 * x, 200.0))
    got = hessian(rosenbrock, (0, 1))(x, y)
    for got_row, expected_row in zip(got, expected):
        assert got_row == pytest.approx(expected_row, rel=1e-14)


def test_newtons_method_with_grad_of_grad_finds_the_minimum():
    # f(x) = x^4 - 3x^3 + 2 has f'(x) = x^2 (4x - 9): its minimum is at x = 9/4.
    def f(x):
        return x**4 - 3 * x**3 + 2

    df, d2f = grad(f), grad(grad(f))
    x = 3.0
    for _ in range(8):
        x -= df(x) / d2f(x)
    assert x == pytest.approx(9 / 4, rel=1e-15)


def test_third_derivatives_of_polynomials_and_sin():
    assert grad(grad(grad(lambda x: x**4)))(2.0) == 48.0
    assert grad(grad(grad(lambda x: x.sin())))(0.3) == pytest.approx(-math.cos(0.3), rel=1e-15)
    assert grad(grad(grad(grad(lambda x: x**4))))(-7.0) == 24.0


def test_mixed_derivative_of_pow_at_a_zero_exponent():
    # d/dy d/dx x ** y = x ** (y - 1) (1 + y log x), which is 1 / x at y = 0.
    assert hessian(lambda x, y: x**y, (0, 1))(2.0, 0.0)[0][1] == 0.5


# --- API shapes and composition -----------------------------------------------------------------


def test_value_and_grad_with_argnums_and_aux():
    def f(x, y, scale):
        loss = scale * x * y.exp()
        return loss, {"scale": scale}

    (value, aux), (dx, dy) = value_and_grad(f, argnums=(0, 1), has_aux=True)(2.0, 0.0, 3.0)
    assert (value, aux, dx, dy) == (6.0, {"scale": 3.0}, 3.0, 6.0)
    assert value_and_grad(lambda x: x * x)(3.0) == (9.0, 6.0)


def test_grad_with_negative_argnums_and_a_tuple_of_one():
    f = lambda x, y: x * y * y  # noqa: E731
    assert grad(f, -1)(2.0, 3.0) == 12.0
    assert grad(f, (1,))(2.0, 3.0) == (12.0,)
    assert grad(f, [1, 0])(2.0, 3.0) == (12.0, 9.0)


def test_jacobian_of_several_outputs():
    def polar_to_cartesian(r, theta):
        return [r * theta.cos(), r * theta.sin()]

    r, theta = 2.0, 0.5
    got = jacobian(polar_to_cartesian, (0, 1))(r, theta)
    expected = (
        (math.cos(theta), -r * math.sin(theta)),
        (math.sin(theta), r * math.cos(theta)),
    )
    for got_row, expected_row in zip(got, expected):
        assert got_row == pytest.approx(expected_row, rel=1e-15)
    # With an int argnums, one entry per output; a constant Value argument gives floats too.
    by_r = jacobian(polar_to_cartesian)(r, Value(theta, requires_grad=False))
    assert by_r == pytest.approx((math.cos(theta), math.sin(theta)), rel=1e-15)
    # One output: the same as grad. A constant output: a zero row.
    assert jacobian(lambda x: x * x)(3.0) == 6.0
    assert jacobian(lambda x: (x * x, 1.0))(3.0) == (6.0, 0.0)


def test_hessian_matches_torch_on_a_small_network_input(torch):
    model = MLP(2, [3, 1], activation="tanh", seed=0)

    def f(x, y):
        return model([x, y])

    # The parameters need grad, so the results are Values (see the next tests): read the numbers
    # (item(): float() of a Value with a graph warns that its gradient is lost).
    got = [[h.item() for h in row] for row in hessian(f, (0, 1))(0.3, -0.8)]
    weights = [[(n.w, n.b) for n in layer.neurons] for layer in model.layers]

    def torch_f(inputs):
        h = inputs
        for k, layer in enumerate(weights):
            h = torch.stack(
                [sum(w.data * h[i] for i, w in enumerate(ws)) + b.data for ws, b in layer]
            )
            if k < len(weights) - 1:
                h = torch.tanh(h)
        return h[0]

    expected = torch.autograd.functional.hessian(
        torch_f, torch.tensor([0.3, -0.8], dtype=torch.float64)
    )
    for got_row, expected_row in zip(got, expected.tolist()):
        assert got_row == pytest.approx(expected_row, rel=1e-12, abs=1e-15)


def test_results_are_floats_unless_inside_another_differentiation():
    f = lambda x: x**3  # noqa: E731
    assert type(grad(f)(2.0)) is float
    assert type(grad(f)(Value(2.0, requires_grad=False))) is float
    x = Value(2.0)
    g = grad(f)(x)  # a Value connected to x: differentiate it by backward() or grad()
    assert isinstance(g, Value) and g.data == 12.0
    g.backward()
    assert x.grad == 12.0  # d/dx 3x^2
    assert x.grad == grad(grad(f))(2.0)


def test_a_leaf_that_f_makes_itself_counts_as_a_variable_from_outside():
    # micrograd cannot tell it from a parameter, and treating it as a constant would give wrong
    # answers for parameters; a plain number is a constant.
    inside = grad(lambda x: x * Value(2.0))(1.0)
    assert isinstance(inside, Value) and inside.data == 2.0
    assert type(grad(lambda x: x * 2.0)(1.0)) is float
    assert type(grad(lambda x: x * Value(2.0, requires_grad=False))(1.0)) is float


def test_input_gradient_penalty_reaches_the_parameters():
    # The gradient with respect to an input depends on a parameter w read from the enclosing
    # scope, so it is a Value, and a loss built from it backpropagates to w.
    w = Value(3.0)
    slope = grad(lambda x: w * x * x)(2.0)  # 2 w x = 4 w
    assert isinstance(slope, Value) and slope.data == 12.0
    (slope * slope).backward()
    assert w.grad == 2 * 12.0 * 4.0


def test_closures_over_an_outer_variable_are_not_confused():
    # Siskind and Pearlmutter's perturbation-confusion example: d/dx [x * d/dy (x + y)] = 1.
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(1.0) == 1.0
    # The inner argument is the outer variable itself: d/dx [x * d/dy (x * y) at y = x] = 2x.
    assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == 6.0


def test_functional_api_does_not_touch_grad_and_frees_its_graph():
    kept = []

    def f(x):
        y = (x * x).tanh()
        kept.append(weakref.ref(y))
        return y * x

    x = Value(0.5)
    assert isinstance(grad(grad(f))(x), Value)
    assert x.grad == 0.0
    grad(grad(f))(0.5)
    assert kept[-1]() is None  # no reference cycle keeps the graph alive


# --- bad input ----------------------------------------------------------------------------------


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match=facts("argnums 2", "2 positional")):
        grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError, match=facts("argnums -3", "-2 to 1")):
        hessian(lambda x, y: x * y, argnums=(0, -3))(1.0, 2.0)
    with pytest.raises(ValueError, match="same argument twice"):
        grad(lambda x, y: x * y, argnums=(0, -2))(1.0, 2.0)


@pytest.mark.parametrize("argnums", [1.0, "0", True, None, (0, "1")])
def test_argnums_of_the_wrong_type(argnums):
    with pytest.raises(TypeError, match=facts("argnums", "int", "tuple")):
        grad(lambda x: x, argnums=argnums)


def test_empty_argnums_and_a_function_that_is_not_callable():
    with pytest.raises(ValueError, match="argnums is empty"):
        jacobian(lambda x: x, argnums=())
    with pytest.raises(TypeError, match=facts("grad", "float")):
        grad(3.0)


def test_non_scalar_output_where_a_scalar_is_needed():
    with pytest.raises(TypeError, match=facts("grad", "tuple of 2", "jacobian")):
        grad(lambda x: (x, x))(1.0)
    with pytest.raises(TypeError, match=facts("hessian", "list of 3")):
        hessian(lambda x: [x, x, x])(1.0)
    with pytest.raises(TypeError, match=facts("Value", "str")):
        value_and_grad(lambda x: "loss")(1.0)
    with pytest.raises(TypeError, match=facts("has_aux=True", "pair", "Value")):
        value_and_grad(lambda x: x, has_aux=True)(1.0)
    with pytest.raises(TypeError, match="output 1 is a list"):
        jacobian(lambda x: (x, [x]))(1.0)


def test_an_argument_that_is_not_a_number():
    with pytest.raises(TypeError, match=facts("argument 1", "str")):
        grad(lambda x, y: x, argnums=1)(1.0, "two")


def test_output_that_does_not_depend_on_the_input_has_zero_gradient():
    assert grad(lambda x: 5.0)(1.0) == 0.0
    assert grad(lambda x, y: y * y, argnums=(0, 1))(1.0, 3.0) == (0.0, 6.0)
    assert hessian(lambda x, y: x + y, (0, 1))(1.0, 2.0) == ((0.0, 0.0), (0.0, 0.0))
    assert grad(lambda x: x.detach() * 2)(1.0) == 0.0
    assert grad(grad(lambda x: 3 * x + 1))(4.0) == 0.0


def test_no_grad_inside_f_stops_the_gradient_but_outside_it_does_not():
    def f(x):
        with no_grad():
            c = x * x  # a constant to the differentiation, like detach()
        return c * x

    assert grad(f)(3.0) == 9.0

    def all_under_no_grad(x):
        with no_grad():
            return x * x

    assert grad(all_under_no_grad)(3.0) == 0.0
    with no_grad():
        # A transform does not depend on where it is called, as with torch.func.grad.
        assert grad(lambda x: x * x)(3.0) == 6.0
        assert hessian(lambda x: x**3)(2.0) == 12.0


# --- documentation ------------------------------------------------------------------------------


def test_guide_page_examples_print_what_they_say():
    page = Path(__file__).resolve().parents[2] / "docs" / "guide" / "higher-order.md"
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"```pycon\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 2
    parser, tries = doctest.DocTestParser(), 0
    for number, block in enumerate(blocks):
        runner = doctest.DocTestRunner()
        test = parser.get_doctest(block, {}, f"{page.name} block {number}", str(page), 0)
        runner.run(test)
        assert runner.failures == 0, (
            f"{page.name} block {number} printed something else (see above)"
        )
        tries += runner.tries
    assert tries >= 10
