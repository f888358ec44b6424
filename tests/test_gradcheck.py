"""gradcheck: passes correct gradients, catches wrong ones with a message that names them."""

from __future__ import annotations

import math

import pytest

from micrograd import GradcheckError, Op, Value, gradcheck, numerical_grad
from micrograd.engine import apply
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
