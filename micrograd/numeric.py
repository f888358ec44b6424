"""The package's one answer to "is this a real number?", used wherever a number comes in.

Two kinds of number come in, and each has one rule:

- **Data** (a Value's number, an input, a target, a point to check): a real number is an int, a
  float, or anything registered as `numbers.Real` (numpy's floats and ints, `fractions.Fraction`).
  A `bool` counts, as 0.0 or 1.0: it is an int in Python, numpy and PyTorch treat it so
  (`torch.tensor(2.0) * True` is 2.0). An int too large for a float becomes +-inf with a warning,
  as op results do, never an OverflowError. `is_real` and `to_float` say this.
- **Settings** (a learning rate, a tolerance, a batch size, a switch): `real`, `positive`,
  `non_negative`, `in_unit_interval`, `count` and `flag` (and `is_integer` for an argument
  that may be a count or something else). A number setting takes the same real numbers, numpy
  scalars included, but never a `bool`: `lr=True` or `batch_size=False` is always a slip, so it
  is a TypeError, as is a string or None. A number of the right type but outside
  the range (negative, nan, inf unless the checker allows inf, a count too small) is a
  ValueError. A `flag` takes True or False only (not 0, 1 or "yes"). Every error names the
  setting, the value and type received, and what was expected.

Complex numbers, `Decimal`, strings, None and Values are not real numbers by either rule.

The same for "is this a row of numbers": `as_row` accepts a sequence (list, tuple, range; not a
string) or a 1-D array (numpy's `ndarray`, anything with `ndim == 1` and `tolist()`), whose
items come out as plain Python numbers. A 2-D array, a dict or a set is not a row (a dict would
give its keys, a set its items in no fixed order).

Imports only `micrograd.ops` (for where a warning points), so everything above can use it.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any, TypeGuard

from micrograd.ops import user_stacklevel

__all__ = [
    "as_row",
    "count",
    "flag",
    "in_unit_interval",
    "is_integer",
    "is_real",
    "is_row",
    "non_negative",
    "positive",
    "real",
    "to_float",
]


def is_real(x: object) -> bool:
    """Whether `x` is a real number by the package's policy (bools count)."""
    return type(x) is float or isinstance(x, numbers.Real)


def to_float(x: object, what: str = "this") -> float:
    """`x` as a Python float, or a TypeError naming `what`, the type received and the policy.

    numpy's float32 and friends become plain floats here, so they cannot turn later arithmetic
    into float32.
    """
    if type(x) is float:
        return x
    if not isinstance(x, numbers.Real):
        raise TypeError(
            f"{what} takes a real number (int or float), received {type(x).__name__}: {x!r:.60}"
        )
    try:
        return float(x)
    except OverflowError:
        # float() raises here; the numeric policy is IEEE results, not exceptions
        # (`Value(1.0) / math.factorial(200)` is 0.0, as the exact quotient rounds).
        result = -math.inf if x < 0 else math.inf  # (numbers.Real is typed with < only)
        kind = type(x).__name__
        warnings.warn(
            f"{'a negative' if result < 0 else 'an'} {kind} too large for a float is {result}",
            RuntimeWarning,
            stacklevel=user_stacklevel(),
        )
        return result


def _refuse_type(x: object, name: str, expected: str) -> TypeError:
    note = " (a bool is not a number here)" if isinstance(x, bool) else ""
    return TypeError(f"{name} must be {expected}, received {type(x).__name__}: {x!r:.60}{note}")


def _setting_number(x: object, name: str, expected: str) -> float:
    """`x` as a float if it is a real number other than a bool, else the TypeError."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise _refuse_type(x, name, expected)
    try:
        return float(x)
    except OverflowError:  # an int beyond the float range: infinite, refused or kept below
        return -math.inf if x < 0 else math.inf  # (numbers.Real is typed with < only)


def _bounded(
    x: object, name: str, expected: str, low: float, high: float, low_open: bool, high_open: bool
) -> float:
    """`x` as a float within low..high (each end open or closed); nan is never within."""
    number = _setting_number(x, name, expected)
    above = number > low if low_open else number >= low
    below = number < high if high_open else number <= high
    if not (above and below):  # also true for nan, which compares False
        raise ValueError(f"{name} must be {expected}, received {type(x).__name__}: {x!r:.60}")
    return number


def real(x: object, name: str, *, allow_inf: bool = False) -> float:
    """A number setting as a float: finite (or also +-inf with `allow_inf`), never nan or a bool."""
    if type(x) is float and x - x == 0.0:  # a finite float, the usual case: no ABC check
        return x
    expected = "a number (inf allowed, not nan)" if allow_inf else "a finite number"
    top = math.inf if allow_inf else math.nextafter(math.inf, 0.0)  # inf, or the largest float
    return _bounded(x, name, expected, -top, top, False, False)


def positive(x: object, name: str, *, allow_inf: bool = False) -> float:
    """A number setting > 0 as a float: finite (or also inf with `allow_inf`), never a bool."""
    if type(x) is float and 0.0 < x < math.inf:
        return x
    expected = "a number > 0 or inf (not nan)" if allow_inf else "a finite number > 0"
    return _bounded(x, name, expected, 0.0, math.inf, True, not allow_inf)


def non_negative(x: object, name: str, *, allow_inf: bool = False) -> float:
    """A number setting >= 0 as a float: finite (or also inf with `allow_inf`), never a bool."""
    if type(x) is float and 0.0 <= x < math.inf:
        return x
    expected = "a number >= 0 or inf (not nan)" if allow_inf else "a finite number >= 0"
    return _bounded(x, name, expected, 0.0, math.inf, False, not allow_inf)


def in_unit_interval(
    x: object, name: str, *, include_zero: bool = True, include_one: bool = False
) -> float:
    """A number setting between 0 and 1 as a float: [0, 1) unless told otherwise; never a bool."""
    if type(x) is float and 0.0 < x < 1.0:
        return x
    expected = f"a number in {'[' if include_zero else '('}0, 1{']' if include_one else ')'}"
    return _bounded(x, name, expected, 0.0, 1.0, not include_zero, not include_one)


def is_integer(x: object) -> TypeGuard[int]:
    """Whether `x` is an int by the settings rule (numpy's ints too, never a bool): for an
    argument that is either a count or something else, such as `n_samples` or `test_size`.

    (Typed as `int`: numpy's ints behave as one, and `count` turns them into one.)"""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def count(x: object, name: str, minimum: int = 0, maximum: int | None = None) -> int:
    """An int setting (numpy's ints too, never a bool or a float) from `minimum` to `maximum`."""
    expected = f"an int >= {minimum}" if maximum is None else f"an int from {minimum} to {maximum}"
    if not is_integer(x):
        raise _refuse_type(x, name, expected)
    number = int(x)
    if number < minimum or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be {expected}, received {type(x).__name__}: {x!r:.60}")
    return number


def flag(x: object, name: str) -> bool:
    """A switch: True or False only (not 0, 1, None or a string), else a TypeError naming it."""
    if not isinstance(x, bool):
        raise TypeError(f"{name} must be True or False, received {type(x).__name__}: {x!r:.60}")
    return x


def is_row(x: object, ndim: int = 1) -> bool:
    """Whether `x` is a row by the package's policy: a sequence, not text, or an `ndim`-D array."""
    if isinstance(x, (str, bytes, bytearray)):
        return False
    if isinstance(x, Sequence):
        return True
    return getattr(x, "ndim", None) == ndim and callable(getattr(x, "tolist", None))


def as_row(x: object, what: str = "this", ndim: int = 1) -> list[Any]:
    """`x` as a list, or a TypeError naming `what` and what was received.

    An array becomes `x.tolist()`: numpy's numbers become Python's (a float32 array gives
    floats), and `ndim=2` gives a list of rows.
    """
    if not is_row(x, ndim):
        shape = getattr(x, "ndim", None)
        kind = f"a {shape}-D {type(x).__name__}" if isinstance(shape, int) else type(x).__name__
        expected = (
            "a sequence (list, tuple) or a 1-D array"
            if ndim == 1
            else (f"a sequence of rows or a {ndim}-D array")
        )
        raise TypeError(f"{what} takes {expected}, received {kind}: {x!r:.60}")
    if isinstance(x, Sequence):
        return list(x)
    items: list[Any] = x.tolist()  # type: ignore[attr-defined]  # checked by is_row
    return items
