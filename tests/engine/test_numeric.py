"""The one number policy, `micrograd.numeric`: what counts as a real number, everywhere."""

from __future__ import annotations

import decimal
import fractions
import math

import pytest

from micrograd import Value
from micrograd.gradcheck import gradcheck
from micrograd.numeric import is_real, to_float
from tests.references import facts


@pytest.mark.parametrize(
    ("number", "expected"),
    [(2, 2.0), (-0.5, -0.5), (True, 1.0), (False, 0.0), (fractions.Fraction(1, 4), 0.25)],
)
def test_real_numbers_become_floats(number, expected):
    assert is_real(number) and type(to_float(number)) is float and to_float(number) == expected


@pytest.mark.parametrize("bad", ["1", None, 1j, decimal.Decimal("1.5"), [1.0], Value(1.0)])
def test_anything_else_is_refused_naming_what_and_the_type(bad):
    assert not is_real(bad)
    with pytest.raises(TypeError, match=facts("Value.data", type(bad).__name__)):
        to_float(bad, "Value.data")


def test_numpy_scalars_become_python_floats():
    np = pytest.importorskip("numpy")
    for number in (np.float32(0.1), np.float64(2.5), np.int64(3)):
        assert type(to_float(number)) is float and to_float(number) == float(number)


def test_an_int_beyond_the_float_range_is_inf_with_a_warning():
    with pytest.warns(RuntimeWarning, match=facts("int", "inf")):
        assert to_float(10**400) == math.inf
    with pytest.warns(RuntimeWarning, match=facts("int", "-inf")):
        assert to_float(-(10**400)) == -math.inf


def test_one_answer_for_bool_in_the_modules_that_use_the_policy():
    # Data (Value(), .data, operators, gradcheck's inputs) takes True as 1.0; a setting refuses it.
    v = Value(True)
    v.data = False
    assert (Value(True).data, v.data, (Value(2.0) * True).data) == (1.0, 0.0, 2.0)
    assert gradcheck(lambda x: x * x, [True], eps=1e-6)
    with pytest.raises(TypeError, match=facts("atol", "bool", "True")):
        gradcheck(lambda x: x * x, [0.5], eps=1e-6, atol=True)


def test_the_row_policy():
    np = pytest.importorskip("numpy")
    from micrograd.numeric import as_row, is_row

    assert as_row([1, 2]) == [1, 2] and as_row((1.5,)) == [1.5] and as_row(range(2)) == [0, 1]
    row = as_row(np.array([0.5, 1.0], dtype=np.float32))
    assert row == [0.5, 1.0] and all(type(x) is float for x in row)
    assert as_row(np.array([[1, 2], [3, 4]]), ndim=2) == [[1, 2], [3, 4]]
    for not_a_row in ("ab", b"ab", {1: 2}, {1, 2}, 3, np.float64(1.0), np.zeros((2, 2))):
        assert not is_row(not_a_row)
        with pytest.raises(TypeError, match="received"):
            as_row(not_a_row, "f")
