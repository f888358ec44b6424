"""The package's one answer to "is this a real number?", used wherever a number comes in.

A real number is an int, a float, or anything registered as `numbers.Real` (numpy's floats and
ints, `fractions.Fraction`). A `bool` counts, as 0.0 or 1.0: it is an int in Python, numpy and
PyTorch treat it so (`torch.tensor(2.0) * True` is 2.0), and refusing it in one place but not
another is what this module is here to end. Complex numbers, `Decimal`, strings, None and
Values are not real numbers. An int too large for a float becomes +-inf with a warning, as op
results do, never an OverflowError.

Imports only `micrograd.ops` (for where a warning points), so everything above can use it.
"""

from __future__ import annotations

import math
import numbers
import warnings

from micrograd.ops import user_stacklevel

__all__ = ["is_real", "to_float"]


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
