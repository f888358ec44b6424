"""Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_` do it.

Both work in place on the `grad` of each parameter, after `backward()` and before the
optimizer's `step()`:

    loss.backward()
    clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

`clip_grad_norm_` scales all gradients together so that their joint norm is at most `max_norm`
and returns the norm they had; `clip_grad_value_` limits each gradient to
[-clip_value, clip_value]. The numbers are PyTorch's, nan and infinity included (a nan norm
makes every gradient nan unless `error_if_nonfinite=True`), except that the norm is taken
without overflow or underflow: PyTorch float64 gives inf for gradients near 1e200 (and then
zeroes them) and 0 near 1e-200; here the norm is the true one. A gradient that is a Value (from
`backward(create_graph=True)`) is clipped as its number. Left out: per-group norms.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from micrograd.engine import Value
from micrograd.numeric import flag, non_negative, positive

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _parameters(parameters: Iterable[Value] | Value, who: str) -> list[Value]:
    params = [parameters] if isinstance(parameters, Value) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(
                f"{who} takes Values (model.parameters()), received {type(p).__name__} at "
                f"position {i}: {p!r:.60}"
            )
    return params


def _grad(p: Value) -> float:
    g = p.grad
    return g.data if isinstance(g, Value) else float(g)


def _norm(grads: list[float], p: float) -> float:
    """The p-norm of `grads`, scaled by the largest so that no power overflows on the way."""
    if any(math.isnan(g) for g in grads):
        return math.nan
    largest = max((abs(g) for g in grads), default=0.0)
    if largest == 0.0 or math.isinf(largest) or math.isinf(p):
        return largest
    if p == 2.0:
        return math.hypot(*grads)
    scaled = math.fsum((abs(g) / largest) ** p for g in grads)
    return largest * math.pow(scaled, 1.0 / p)


def clip_grad_norm_(
    parameters: Iterable[Value] | Value,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> float:
    """Scale the gradients of `parameters` together so that their norm is at most `max_norm`.

    The norm is taken over all gradients as one vector (`norm_type` p > 0, or `math.inf` for
    the largest absolute value); every gradient is multiplied by min(1, max_norm / (norm +
    1e-6)), as in PyTorch. Returns the norm before clipping. With `error_if_nonfinite=True` a
    nan or infinite norm raises RuntimeError and leaves the gradients alone. `foreach` is
    accepted for PyTorch's sake and changes nothing here.
    """
    who = "clip_grad_norm_"
    params = _parameters(parameters, who)
    limit = non_negative(max_norm, f"{who}: max_norm", allow_inf=True)
    p = positive(norm_type, f"{who}: norm_type", allow_inf=True)
    flag(error_if_nonfinite, f"{who}: error_if_nonfinite")
    grads = [_grad(param) for param in params]
    total = _norm(grads, p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{who}: the total norm of order {norm_type} of the gradients is {total}, so they "
            "cannot be clipped; expected finite gradients (or pass error_if_nonfinite=False)"
        )
    coefficient = limit / (total + 1e-6)
    if coefficient > 1.0:  # min(1, ...) that keeps nan, as torch.clamp does
        coefficient = 1.0
    for param, g in zip(params, grads):
        param.grad = g * coefficient
    return total


def clip_grad_value_(
    parameters: Iterable[Value] | Value, clip_value: float, foreach: bool | None = None
) -> None:
    """Limit each gradient of `parameters` to [-clip_value, clip_value] (nan stays nan).

    `foreach` is accepted for PyTorch's sake and changes nothing here.
    """
    who = "clip_grad_value_"
    params = _parameters(parameters, who)
    limit = non_negative(clip_value, f"{who}: clip_value", allow_inf=True)
    for param in params:
        g = _grad(param)
        param.grad = limit if g > limit else -limit if g < -limit else g
