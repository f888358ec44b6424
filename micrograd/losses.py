"""Loss functions on `Value`s: mean squared error, hinge, binary and multi-class cross-entropy.

Names and meanings are PyTorch's: `binary_cross_entropy` takes probabilities,
`binary_cross_entropy_with_logits` takes logits, `cross_entropy` takes logits and class indices.

Each loss takes predictions (Values or plain numbers) and targets (plain numbers), checks that
they line up, and returns one `Value` reduced with `reduction="mean"` or `"sum"` (or, with
`"none"`, the list of per-sample losses). Everything is written from the engine's primitives, so
gradients come from `backward()` like any other expression. Optimizers and the training loop
live elsewhere.

Tracing (`micrograd.tape`): targets are plain numbers, so a Value target is refused while
tracing (its number would be frozen into the tape), as are `hinge(prune=True)` (it drops samples
by their loss's number), `binary_cross_entropy_with_logits` (it picks its formula by the logit's
sign) and `binary_cross_entropy` (it clamps its logs by the probability's number).
`log_sum_exp` and `cross_entropy` trace, with the shift frozen at the traced maximum: a replay
gives the same values and gradients, and overflows only if its logits exceed the traced maximum
by about 709.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Literal, overload

from micrograd.engine import Number, Value
from micrograd.grad_mode import TracingError, is_tracing
from micrograd.numeric import (
    as_row,
    flag,
    is_integer,
    is_real,
    is_row,
    non_negative,
    real,
    to_float,
)

REDUCTIONS = ("mean", "sum", "none")

Scalar = Value | Number
# The reductions that give one Value; "none" gives the list of per-sample losses.
Reduced = Literal["mean", "sum"]


def _check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, received {reduction!r}")
    return reduction


def _check_pair(
    predictions: Sequence[Scalar], targets: Sequence[Scalar], who: str
) -> tuple[list[Scalar], list[float]]:
    for name, seq in (("predictions", predictions), ("targets", targets)):
        if not is_row(seq):
            raise TypeError(
                f"{who}: {name} must be a sequence or a 1-D array, received {type(seq).__name__}"
            )
    predictions, targets = as_row(predictions), as_row(targets)  # numpy rows as Python numbers
    if len(predictions) != len(targets):
        raise ValueError(
            f"{who}: {len(predictions)} predictions but {len(targets)} targets; "
            "they must have the same length"
        )
    if not predictions:
        raise ValueError(f"{who}: received no predictions; expected at least one")
    for i, p in enumerate(predictions):
        if not isinstance(p, (Value, numbers.Real)):
            raise TypeError(
                f"{who}: predictions[{i}] must be a Value or a number, received {type(p).__name__}"
            )
    return list(predictions), [_target_number(t, i, who) for i, t in enumerate(targets)]


def _target_number(target: object, index: int, who: str) -> float:
    if isinstance(target, Value):
        if is_tracing():
            raise TracingError(
                f"{who}: targets[{index}] is {target!r} while tracing; targets are read as "
                "numbers, so the tape would replay this one for every sample; pass plain "
                "numbers, or make the label a factor of the prediction (see demo.py)"
            )
        target = target.data  # targets are constants: no gradient flows into them
    if is_real(target):  # data: the engine's rule, so True is 1.0 as in Value(True)
        return to_float(target)
    raise TypeError(f"{who}: targets[{index}] must be a number, received {type(target).__name__}")


def _reduce(losses: list[Value], reduction: str) -> Value | list[Value]:
    if reduction == "none":
        return losses
    total = _sum(losses)
    return total * (1.0 / len(losses)) if reduction == "mean" else total


def _sum(values: Iterable[Scalar]) -> Value:
    values = iter(values)
    total = next(values)
    for v in values:
        total = total + v
    return total if isinstance(total, Value) else Value(total, requires_grad=False)


@overload
def mse(
    predictions: Sequence[Scalar], targets: Sequence[Number], reduction: Reduced = "mean"
) -> Value: ...
@overload
def mse(
    predictions: Sequence[Scalar], targets: Sequence[Number], reduction: Literal["none"]
) -> list[Value]: ...
@overload
def mse(
    predictions: Sequence[Scalar], targets: Sequence[Number], reduction: str = "mean"
) -> Value | list[Value]: ...


def mse(
    predictions: Sequence[Scalar], targets: Sequence[Number], reduction: str = "mean"
) -> Value | list[Value]:
    """Squared error (prediction - target) ** 2, averaged or summed over the samples."""
    _check_reduction(reduction)
    preds, targs = _check_pair(predictions, targets, "mse")
    return _reduce([_as_value(p - t) ** 2 for p, t in zip(preds, targs)], reduction)


@overload
def hinge(
    scores: Sequence[Scalar],
    targets: Sequence[Number],
    margin: float = 1.0,
    reduction: Reduced = "mean",
    *,
    prune: bool = True,
) -> Value: ...
@overload
def hinge(
    scores: Sequence[Scalar],
    targets: Sequence[Number],
    margin: float,
    reduction: Literal["none"],
    *,
    prune: bool = True,
) -> list[Value]: ...
@overload
def hinge(
    scores: Sequence[Scalar],
    targets: Sequence[Number],
    margin: float = 1.0,
    *,
    reduction: Literal["none"],
    prune: bool = True,
) -> list[Value]: ...
@overload
def hinge(
    scores: Sequence[Scalar],
    targets: Sequence[Number],
    margin: float = 1.0,
    reduction: str = "mean",
    *,
    prune: bool = True,
) -> Value | list[Value]: ...


def hinge(
    scores: Sequence[Scalar],
    targets: Sequence[Number],
    margin: float = 1.0,
    reduction: str = "mean",
    *,
    prune: bool = True,
) -> Value | list[Value]:
    """Max-margin loss relu(margin - y * score) for labels y of -1 or +1 (the classic demo's).

    With `prune`, samples that already meet the margin (loss exactly 0, gradient exactly 0) are
    left out of the summed graph: the same numbers, and a faster `backward()`. The graph's shape
    then depends on the data, so pass `prune=False` when recording a graph to replay later
    (with `prune=True`, tracing raises `TracingError`).
    """
    _check_reduction(reduction)
    margin = real(margin, "hinge: margin")
    if flag(prune, "hinge: prune") and reduction != "none" and is_tracing():
        raise TracingError(
            "hinge(prune=True) while tracing: pruning drops samples by their loss's number, "
            "which a tape would freeze; pass prune=False"
        )
    preds, targs = _check_pair(scores, targets, "hinge")
    for i, t in enumerate(targs):
        if t not in (-1.0, 1.0):
            raise ValueError(f"hinge: targets[{i}] is {t!r}; labels must be -1 or +1")
    # margin + (-y) * score: one op fewer than margin - y * score, which negates a Value.
    losses = [_as_value(margin + (-t) * s).relu() for s, t in zip(preds, targs)]
    if reduction == "none":
        return losses
    # Samples that meet the margin give exactly 0.0 with exactly zero gradient, so leaving them
    # out of the sum changes no bit of the loss or of any grad, and backward() then skips their
    # graphs: most of them once a classifier is trained. (nan != 0.0, so nan still shows.)
    active = [loss for loss in losses if loss.data != 0.0] if prune else losses
    active = active or losses[:1]
    total = _sum(active)
    return total * (1.0 / len(losses)) if reduction == "mean" else total


def _softplus(x: Value) -> Value:
    """log(1 + e**x) without overflow for large |x|.

    Picks between two exact forms of the same smooth function by the sign of x, so the
    gradient (sigmoid(x)) is exact everywhere, including at 0, where a relu/abs form would give
    the one-sided derivative.
    """
    if x.data >= 0:
        return x + ((-x).exp() + 1.0).log()  # x + log(1 + e**-x); e**-x <= 1
    return (x.exp() + 1.0).log()  # e**x < 1


@overload
def binary_cross_entropy(
    probabilities: Sequence[Scalar], targets: Sequence[Number], reduction: Reduced = "mean"
) -> Value: ...
@overload
def binary_cross_entropy(
    probabilities: Sequence[Scalar], targets: Sequence[Number], reduction: Literal["none"]
) -> list[Value]: ...
@overload
def binary_cross_entropy(
    probabilities: Sequence[Scalar], targets: Sequence[Number], reduction: str = "mean"
) -> Value | list[Value]: ...


def binary_cross_entropy(
    probabilities: Sequence[Scalar], targets: Sequence[Number], reduction: str = "mean"
) -> Value | list[Value]:
    """Cross-entropy -(t * log(p) + (1 - t) * log(1 - p)) of probabilities p against targets t.

    PyTorch's `binary_cross_entropy`: p must lie in [0, 1] (a sigmoid's output), and each log is
    clamped at -100 so that p = 0 or 1 gives a finite loss; where it is clamped the gradient is
    0 (PyTorch's is (p - t) / 1e-12). From logits use `binary_cross_entropy_with_logits`, which is
    exact for any logit. Refused while tracing: the clamp is picked by each number.
    """
    preds, targs = _check_binary(
        probabilities,
        targets,
        reduction,
        "binary_cross_entropy",
        untraced="it clamps each log at -100 by the probability's number, which a tape would "
        "freeze; trace -(t * p.log() + (1 - t) * (1 - p).log()) instead",
    )
    losses = []
    for i, (p, t) in enumerate(zip(preds, targs)):
        p = _as_value(p)
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(
                f"binary_cross_entropy: predictions[{i}] is {p.data!r}; expected a probability "
                "in [0, 1] (for logits use binary_cross_entropy_with_logits)"
            )
        losses.append(-(_clamped_log(p) * t + _clamped_log(1.0 - p) * (1.0 - t)))
    return _reduce(losses, reduction)


# PyTorch clamps the logs of binary_cross_entropy at -100 (e ** -100 is about 3.7e-44).
_LOG_FLOOR = -100.0


def _clamped_log(p: Value) -> Value:
    if p.data > math.exp(_LOG_FLOOR):
        return p.log()
    return Value(_LOG_FLOOR, requires_grad=False)


def _check_binary(
    predictions: Sequence[Scalar],
    targets: Sequence[Number],
    reduction: str,
    who: str,
    untraced: str,
) -> tuple[list[Scalar], list[float]]:
    """The two binary cross-entropies' checks; `untraced` says why `who` refuses to be traced."""
    _check_reduction(reduction)
    if is_tracing():
        raise TracingError(f"{who} while tracing: {untraced}")
    preds, targs = _check_pair(predictions, targets, who)
    for i, t in enumerate(targs):
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"{who}: targets[{i}] is {t!r}; expected a number in [0, 1]")
    return preds, targs


@overload
def binary_cross_entropy_with_logits(
    logits: Sequence[Scalar], targets: Sequence[Number], reduction: Reduced = "mean"
) -> Value: ...
@overload
def binary_cross_entropy_with_logits(
    logits: Sequence[Scalar], targets: Sequence[Number], reduction: Literal["none"]
) -> list[Value]: ...
@overload
def binary_cross_entropy_with_logits(
    logits: Sequence[Scalar], targets: Sequence[Number], reduction: str = "mean"
) -> Value | list[Value]: ...


def binary_cross_entropy_with_logits(
    logits: Sequence[Scalar], targets: Sequence[Number], reduction: str = "mean"
) -> Value | list[Value]:
    """Cross-entropy of sigmoid(logit) against targets in [0, 1], taking logits for stability.

    PyTorch's `binary_cross_entropy_with_logits`: softplus(x) - t * x, finite for any finite
    logit (even +-1000), with gradient sigmoid(x) - t. Refused while tracing: the formula is
    picked by the sign of each logit, which a tape would freeze.
    """
    preds, targs = _check_binary(
        logits,
        targets,
        reduction,
        "binary_cross_entropy_with_logits",
        untraced="it picks its overflow-free formula by the sign of each logit's number, which "
        "a tape would freeze; trace with the engine's ops instead, e.g. "
        "(1 + (-x).exp()).log() + (1 - t) * x for logits of moderate size",
    )
    losses = []
    for x, t in zip(preds, targs):
        x = _as_value(x)
        losses.append(_softplus(x) - x * t)
    return _reduce(losses, reduction)


def log_sum_exp(values: Sequence[Scalar]) -> Value:
    """log(sum(e**v)), shifted by the largest value so that no exp overflows.

    While tracing, the shift is the largest traced value, frozen into the tape as a constant.
    """
    if not is_row(values):
        raise TypeError(
            f"log_sum_exp takes a 1-D array or a sequence of Values or numbers, received "
            f"{type(values).__name__}: {values!r:.60}"
        )
    values = as_row(values)
    if not values:
        raise ValueError("log_sum_exp received an empty sequence; expected at least one value")
    for i, v in enumerate(values):
        if not isinstance(v, (Value, numbers.Real)):
            raise TypeError(
                f"log_sum_exp: values[{i}] must be a Value or a number, received "
                f"{type(v).__name__}: {v!r:.60}"
            )
    nodes = [_as_value(v) for v in values]
    # The shift is a constant: log-sum-exp's gradient (softmax) does not depend on it.
    shift = max(v.data for v in nodes)
    if math.isinf(shift):
        shift = 0.0  # all -inf or some +inf: shifting would give nan instead of the IEEE answer
    return _sum((v - shift).exp() for v in nodes).log() + shift


@overload
def cross_entropy(
    logits: Sequence[Sequence[Scalar]] | Sequence[Scalar],
    targets: Sequence[int] | int,
    reduction: Reduced = "mean",
) -> Value: ...
@overload
def cross_entropy(
    logits: Sequence[Sequence[Scalar]] | Sequence[Scalar],
    targets: Sequence[int] | int,
    reduction: Literal["none"],
) -> list[Value]: ...
@overload
def cross_entropy(
    logits: Sequence[Sequence[Scalar]] | Sequence[Scalar],
    targets: Sequence[int] | int,
    reduction: str = "mean",
) -> Value | list[Value]: ...


def cross_entropy(
    logits: Sequence[Sequence[Scalar]] | Sequence[Scalar],
    targets: Sequence[int] | int,
    reduction: str = "mean",
) -> Value | list[Value]:
    """Softmax cross-entropy: log_sum_exp(logits) - logits[target], per sample.

    `logits` is one row of class scores per sample and `targets` one class index per sample,
    as in PyTorch; a single row with a single int target is one sample.
    """
    _check_reduction(reduction)
    rows, classes = _as_batch(logits, targets)  # objects: each is checked below
    if not is_row(classes):
        raise TypeError(
            f"cross_entropy: targets must be class indices (ints), received "
            f"{type(classes).__name__}"
        )
    classes = as_row(classes)
    rows = as_row(rows, "cross_entropy: logits (rows of class scores)", ndim=2)
    if len(rows) != len(classes):
        raise ValueError(
            f"cross_entropy: {len(rows)} rows of logits but {len(classes)} targets; "
            "they must have the same length"
        )
    if not rows:
        raise ValueError("cross_entropy: received no samples; expected at least one")
    losses: list[Value] = []
    for i, (row, target) in enumerate(zip(rows, classes)):
        if isinstance(row, (Value, numbers.Real)) or not is_row(row) or not len(row):
            raise TypeError(
                f"cross_entropy: logits[{i}] must be a non-empty sequence of class scores, "
                f"received {row!r:.60}"
            )
        row = as_row(row)
        if not is_integer(target):
            raise TypeError(
                f"cross_entropy: targets[{i}] must be an int class index, received {target!r}"
            )
        index = int(target)
        if not 0 <= index < len(row):
            raise ValueError(
                f"cross_entropy: targets[{i}] is class {target}, out of range for "
                f"{len(row)} classes (expected 0 to {len(row) - 1})"
            )
        scores = [_as_value(v) for v in row]
        losses.append(log_sum_exp(scores) - scores[index])
    return _reduce(losses, reduction)


def _as_batch(logits: object, targets: object) -> tuple[object, object]:
    """One row of logits with one int target is one sample: a batch of one."""
    if is_integer(targets):
        return [logits], [targets]
    return logits, targets


def l2_penalty(parameters: Iterable[Value], alpha: float = 1.0) -> Value:
    """alpha * sum(p * p): the L2 (weight-decay) term added to a loss."""
    alpha = non_negative(alpha, "l2_penalty: alpha")
    params = list(parameters)
    if not params:
        raise ValueError("l2_penalty received no parameters; expected at least one")
    return alpha * _sum(p * p for p in params)


def _as_value(x: Scalar) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)
