"""gradcheck: passes correct gradients, catches wrong ones with a message that names them."""

from __future__ import annotations

import math

import pytest

from micrograd import GradcheckError, Op, Value, check_derivative, gradcheck, numerical_grad
from micrograd.engine import apply
from micrograd.gradcheck import DEFAULT_POINTS
from micrograd.ops import OPS
from tests.references import facts

# A deliberately wrong op: the derivative of x * x is 2x, not x.
WRONG_SQUARE = Op(
    "wrong_square",
    "sq",
    forward=lambda x: x * x,
    local_grads=(lambda x, out: x,),
    domain=((-1.0, 1.0),),
)


def test_passes_for_correct_gradients():
    assert gradcheck(lambda x, y: (x * y).tanh() + y.exp() / x, [0.7, -1.3])


def test_numerical_grad_of_a_known_function():
    grads = numerical_grad(lambda x, y: x * x * y, [3.0, 2.0])
    assert grads == pytest.approx([12.0, 9.0], rel=1e-8)


def test_catches_a_wrong_derivative_and_names_the_input():
    def f(a, b):
        return apply(WRONG_SQUARE, b) + a

    with pytest.raises(GradcheckError) as info:
        gradcheck(f, [Value(1.0, "a"), Value(0.5, "b")])
    message = str(info.value)
    assert "input 1 ('b')" in message
    assert "gave 0.5" in message  # what backward() reported
    assert "1.0000" in message  # the central difference, 2 * 0.5


def test_returns_false_without_raising():
    assert gradcheck(lambda x: apply(WRONG_SQUARE, x), [0.5], raise_exception=False) is False


def test_tolerances_are_honoured():
    # Central differences of exp at 10 with a huge eps are off by about eps**2 / 6.
    f = Value.exp
    assert not gradcheck(f, [10.0], eps=1e-1, atol=0.0, rtol=1e-6, raise_exception=False)
    assert gradcheck(f, [10.0], eps=1e-1, atol=0.0, rtol=1e-2)
    assert math.isclose(numerical_grad(f, [10.0], eps=1e-1)[0], math.exp(10), rel_tol=1e-2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        gradcheck(Value.exp, [1.0], eps=0.0)
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda: Value(1.0), [])
    with pytest.raises(TypeError, match="float"):
        gradcheck(lambda x: 3.0, [1.0])


def test_inputs_must_be_numbers_or_values():
    with pytest.raises(TypeError, match=facts("input 0", "str")):
        gradcheck(Value.exp, ["2"])
    with pytest.raises(TypeError, match=facts("input 1", "NoneType")):
        gradcheck(lambda x, y: x * y, [1.0, None])
    with pytest.raises(TypeError, match=facts("inputs", "sequence")):
        gradcheck(Value.exp, 2.0)
    with pytest.raises(TypeError, match=facts("input 0", "str")):
        numerical_grad(Value.exp, ["2"])
    # Ints, bools (as Value() takes them), Values and a generator of them are all fine.
    assert gradcheck(lambda x, y, z: x * y + z, (v for v in [2, True, Value(0.5, "z")]))
    assert numerical_grad(lambda x: x * x, [3]) == pytest.approx([6.0], rel=1e-8)


@pytest.mark.parametrize(
    ("setting", "value", "error", "expected"),  # expected: the facts, "|"-separated
    [
        ("eps", "a", TypeError, "> 0|str|'a'"),
        ("eps", math.nan, ValueError, "> 0|nan"),
        ("eps", math.inf, ValueError, "> 0|inf"),
        ("eps", -1e-6, ValueError, "> 0|-1e-06"),
        ("atol", math.nan, ValueError, ">= 0|nan"),
        ("atol", -1.0, ValueError, ">= 0|-1.0"),
        ("rtol", None, TypeError, ">= 0|NoneType"),
        ("rtol", math.inf, ValueError, ">= 0|inf"),
    ],
)
def test_eps_and_tolerances_are_checked(setting, value, error, expected):
    pattern = facts(setting, *expected.split("|"))
    with pytest.raises(error, match=pattern):
        gradcheck(Value.exp, [1.0], **{setting: value})
    if setting == "eps":
        with pytest.raises(error, match=pattern):
            numerical_grad(Value.exp, [1.0], eps=value)
    # Zero tolerances are allowed: exact agreement is a legitimate (strict) demand.
    assert gradcheck(lambda x: x * 2.0, [1.0], eps=0.5, atol=0.0, rtol=0.0)


# check_derivative: a learner's derivative, as a function, against central differences.


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def product(a: float, b: float) -> float:
    return a * b


def relu_neuron(w: float) -> float:
    """A ReLU neuron's output as a function of its weight: relu(w * 2 - 1)."""
    return max(w * 2.0 - 1.0, 0.0)


def test_a_right_derivative_is_right():
    report = check_derivative(sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)), name="σ'")
    assert report.right and report.written and not report.disagreements
    assert report.mistake is None and report.checked == 5
    assert str(report) == "✓ σ': right at all 5 checks against central differences"


def test_values_as_results_and_a_product_with_one_function_per_input():
    assert check_derivative(lambda x: Value(x).tanh(), lambda x: 1 - Value(x).tanh() ** 2).right
    product = check_derivative(lambda a, b: a * b, [lambda a, b: b, lambda a, b: a])
    assert product.right and product.input_names == ("a", "b") and product.checked == 10
    assert check_derivative(lambda a, b: a * b, lambda a, b: (b, a)).right


def test_the_numbers_of_a_wrong_derivative():
    report = check_derivative(sigmoid, sigmoid, points=[0.0, 2.0], name="σ'")
    assert not report.right
    zero, two = report.disagreements
    assert zero.point == (0.0,) and zero.yours == 0.5
    assert zero.central == pytest.approx(0.25, abs=1e-9)
    assert zero.difference == pytest.approx(0.25, abs=1e-9)
    assert two.central == pytest.approx(sigmoid(2) * (1 - sigmoid(2)), abs=1e-9)
    text = str(report)
    assert "✗ σ': wrong at 2 of 2 checks" in text
    assert "at x = 0: yours 0.5, central difference 0.25, off by +0.25" in text
    assert "at x = 2: yours 0.880797, central difference 0.104994, off by +0.776" in text


@pytest.mark.parametrize(
    ("f", "derivative", "facts_named"),
    [
        (math.tanh, lambda x: -(1 - math.tanh(x) ** 2), ("flipped sign",)),
        (math.tanh, lambda x: 1 - math.tanh(x), ("tanh", "square")),
        (sigmoid, sigmoid, ("σ(x)(1 - σ(x))", "own value")),
        (sigmoid, lambda x: 1 - sigmoid(x), ("sigmoid", "factor σ(x)")),
        (product, lambda a, b: (a, b), ("swapped",)),
        (lambda x: math.tanh(2 * x), lambda x: 1 - math.tanh(2 * x) ** 2, ("chain", "0.5", "2")),
        (lambda x: math.sin(x * x), lambda x: math.cos(x * x) * x, ("chain", "0.5")),
        (relu_neuron, lambda w: 1.0 if w * 2 - 1 > 0 else 0.0, ("chain", "0.5")),
        (relu_neuron, lambda w: 2.0, ("gate", "ReLU")),
    ],
)
def test_typical_mistakes_are_named(f, derivative, facts_named):
    points = None if f is product else [-1.0, 0.2, 0.8, 1.5]  # relu_neuron's kink is at 0.5
    report = check_derivative(f, derivative, points=points)
    assert not report.right and report.mistake is not None
    for fact in facts_named:
        assert fact in report.mistake
    assert report.mistake in str(report)


def test_a_wrong_derivative_matching_no_typical_mistake_names_none():
    report = check_derivative(math.exp, lambda x: x)
    assert not report.right and report.mistake is None and len(report.disagreements) == 5


def blank_by_ellipsis(x): ...


def blank_returning_ellipsis(x):
    return ...


def blank_raising(x):
    raise NotImplementedError


@pytest.mark.parametrize(
    "blank",
    [
        ...,
        None,
        NotImplemented,
        blank_by_ellipsis,
        blank_returning_ellipsis,
        blank_raising,
        lambda x: NotImplemented,
        [None],
    ],
)
def test_a_placeholder_is_not_written_yet(blank):
    report = check_derivative(sigmoid, blank, name="σ'")
    assert not report.written and not report.right and not report.disagreements
    assert str(report).startswith("… σ': not written yet")
    assert "function of x" in str(report)


def test_a_pair_of_blanks_for_two_inputs():
    report = check_derivative(lambda a, b: a * b, lambda a, b: (None, None))
    assert not report.written and "function of a, b" in str(report)


def test_the_learners_errors_are_reported_not_raised():
    raising = check_derivative(sigmoid, lambda x: 1 / 0)
    assert not raising.right and len(raising.disagreements) == 5
    assert str(raising) == (
        "✗ your derivative: wrong at 5 of 5 checks: at every point, yours raised "
        "ZeroDivisionError: division by zero"
    )
    text = check_derivative(sigmoid, lambda x: "0.25")
    assert "returned a str, not a number" in str(text)
    some = check_derivative(math.exp, lambda x: math.exp(x) if x > 0 else math.log(x))
    assert not some.right and len(some.disagreements) == 2  # at -1.5 and -0.4
    assert str(some).count("yours raised ValueError: math domain error") == 2
    broken_f = check_derivative(lambda x: 1 / 0, lambda x: 1.0)
    assert broken_f.problem == "f itself raised ZeroDivisionError: division by zero"
    assert str(broken_f) == "✗ your derivative: f itself raised ZeroDivisionError: division by zero"
    not_a_function = check_derivative(sigmoid, 0.25)
    assert "is a float, not a function" in str(not_a_function)
    too_few = check_derivative(lambda a, b: a * b, lambda a, b: b)
    assert "1 numbers for 2 inputs" in str(too_few)


def test_points_and_settings_that_cannot_be_used_are_the_callers_errors():
    with pytest.raises(ValueError, match=facts("2 inputs", "has 1")):
        check_derivative(lambda a, b: a * b, lambda a, b: (b, a), points=[1.0])
    with pytest.raises(TypeError, match=facts("point", "number")):
        check_derivative(sigmoid, sigmoid, points=["x"])
    with pytest.raises(ValueError, match="eps"):
        check_derivative(sigmoid, sigmoid, eps=0.0)


# --- An op record with its rules, checked as a learner's derivative -------------------------


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_records_rules_pass_when_checked_as_a_learners(name):
    op = OPS[name]
    report = check_derivative(op)
    assert report.right, str(report)
    assert report.input_names == ("x", "y")[: op.arity] and report.name == f"{name}'s rules"
    assert report.checked == len(DEFAULT_POINTS) * op.arity == len(report.points) * op.arity
    # Every point lies inside the record's domain (log's excludes the default points below 0).
    for point in report.points:
        for x, (lo, hi) in zip(point, op.domain):
            assert lo < x < hi, (name, point)


def test_a_learners_op_record_is_checked_by_its_rules_with_the_slip_named():
    def softplus(x):
        return math.log1p(math.exp(x))

    right = Op(
        "softplus", "softplus", softplus, rules=lambda m: (lambda x, out: 1 / (1 + m.exp(-x)),)
    )
    assert check_derivative(right).right
    # The slope of softplus is the sigmoid; a learner who writes softplus itself is told so.
    value = Op("softplus", "softplus", softplus, rules=lambda m: (lambda x, out: out,))
    report = check_derivative(value)
    assert not report.right and report.mistake_kind == "value"
    assert [d.point for d in report.disagreements] == [(x,) for x in DEFAULT_POINTS]
    for d in report.disagreements:
        assert d.yours == pytest.approx(softplus(d.point[0]))
        assert d.central == pytest.approx(1 / (1 + math.exp(-d.point[0])), abs=1e-8)
    # A placeholder left in the rules is "not written yet", not an error.
    blank = Op("softplus", "softplus", softplus, rules=lambda m: (...,))
    assert not check_derivative(blank).written
    # A record takes no separate derivative: that would be two answers to check.
    with pytest.raises(TypeError, match="carries its own rules"):
        check_derivative(right, lambda x: 0.0)
