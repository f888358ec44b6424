"""Check `backward()` against central finite differences, with PyTorch's `gradcheck` signature.

Only first derivatives of scalar functions of scalars: `f` takes Values and returns one Value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from micrograd.engine import Number, Value, no_grad
from micrograd.numeric import is_real, to_float


class GradcheckError(RuntimeError):
    """A gradient from `backward()` disagrees with the finite-difference estimate."""


def numerical_grad(
    f: Callable[..., Value], inputs: Sequence[Number], eps: float = 1e-6
) -> list[float]:
    """Central differences (f(x + eps) - f(x - eps)) / 2 eps for each input in turn."""
    eps = _check_setting(eps, "eps", positive=True)
    point, _ = _check_point(inputs, "numerical_grad", values_allowed=False)
    grads = []
    with no_grad():
        for i, x in enumerate(point):
            upper = _evaluate(f, point[:i] + [x + eps] + point[i + 1 :])
            lower = _evaluate(f, point[:i] + [x - eps] + point[i + 1 :])
            grads.append((upper - lower) / (2.0 * eps))
    return grads


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Number | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare `backward()` gradients of `f(*inputs)` with central differences.

    An input passes when |analytic - numerical| <= atol + rtol * |numerical|. On failure,
    raises `GradcheckError` naming the input and both numbers, or returns False when
    `raise_exception` is False. Inputs may be numbers or Values (their labels name them).
    """
    eps = _check_setting(eps, "eps", positive=True)
    atol = _check_setting(atol, "atol", positive=False)
    rtol = _check_setting(rtol, "rtol", positive=False)
    point, labels = _check_point(inputs, "gradcheck", values_allowed=True)
    if not point:
        raise ValueError("gradcheck needs at least one input, received none")
    leaves = [Value(x, label) for x, label in zip(point, labels)]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck needs f to return a Value, received {type(out).__name__}")
    out.backward()
    numerical = numerical_grad(f, point, eps)
    for i, (leaf, estimate) in enumerate(zip(leaves, numerical)):
        analytic = leaf.grad
        close = abs(analytic - estimate) <= atol + rtol * abs(estimate)
        if close or (math.isnan(analytic) and math.isnan(estimate)):
            continue
        if not raise_exception:
            return False
        name = f"input {i} ({labels[i]!r})" if labels[i] else f"input {i}"
        raise GradcheckError(
            f"gradient of {name} at {point[i]!r} is wrong: backward() gave {analytic!r}, "
            f"central differences gave {estimate!r} (eps={eps}, atol={atol}, rtol={rtol})"
        )
    return True


def _evaluate(f: Callable[..., Value], point: list[float]) -> float:
    out = f(*(Value(x) for x in point))
    return out.data if isinstance(out, Value) else to_float(out, "f's result")


def _check_point(inputs: object, where: str, values_allowed: bool) -> tuple[list[float], list[str]]:
    """The numbers of `inputs` and their labels; each a real number (or a Value: its `.data`)."""
    expected = "real numbers or Values" if values_allowed else "real numbers"
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(
            f"{where} inputs must be a sequence of {expected}, "
            f"received {type(inputs).__name__}: {inputs!r:.60}"
        )
    point, labels = [], []
    for i, x in enumerate(inputs):
        if values_allowed and isinstance(x, Value):
            point.append(x.data)
            labels.append(x.label)
        elif is_real(x):
            point.append(to_float(x))
            labels.append("")
        else:
            raise TypeError(
                f"{where} input {i} must be a real number{' or a Value' * values_allowed}, "
                f"received {type(x).__name__}: {x!r:.60}"
            )
    return point, labels


def _check_setting(value: object, name: str, positive: bool) -> float:
    """eps (finite, > 0) or a tolerance (finite, >= 0) as a float."""
    expected = "a finite number > 0" if positive else "a finite number >= 0"
    if not is_real(value):
        raise TypeError(
            f"{name} must be {expected}, received {type(value).__name__}: {value!r:.60}"
        )
    number = to_float(value, name)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{name} must be {expected}, received {value!r}")
    return number
