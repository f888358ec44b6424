"""The package's one answer to "is this a real number?", used wherever a number comes in.

A real number is an int, a float, or anything registered as `numbers.Real` (numpy's floats and
ints, `fractions.Fraction`). A `bool` counts, as 0.0 or 1.0: it is an int in Python, numpy and
PyTorch treat it so (`torch.tensor(2.0) * True` is 2.0), and refusing it in one place but not
another is what this module is here to end. Complex numbers, `Decimal`, strings, None and
Values are not real numbers. An int too large for a float becomes +-inf with a warning, as op
results do, never an OverflowError.

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
from typing import Any

from micrograd.ops import user_stacklevel

__all__ = ["as_row", "is_real", "is_row", "to_float"]


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
