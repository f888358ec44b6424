"""Check `backward()` against central finite differences, with PyTorch's `gradcheck` signature.

Only first derivatives of scalar functions of scalars: `f` takes Values and returns one Value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from micrograd.engine import Number, Value, _to_float, no_grad


class GradcheckError(RuntimeError):
    """A gradient from `backward()` disagrees with the finite-difference estimate."""


def numerical_grad(
    f: Callable[..., Value], inputs: Sequence[Number], eps: float = 1e-6
) -> list[float]:
    """Central differences (f(x + eps) - f(x - eps)) / 2 eps for each input in turn."""
    point = [_to_float(x) for x in inputs]
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
    if eps <= 0:
        raise ValueError(f"eps must be positive, received {eps!r}")
    if not inputs:
        raise ValueError("gradcheck needs at least one input, received none")
    labels = [x.label if isinstance(x, Value) else "" for x in inputs]
    point = [x.data if isinstance(x, Value) else _to_float(x) for x in inputs]
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
    return out.data if isinstance(out, Value) else _to_float(out)
