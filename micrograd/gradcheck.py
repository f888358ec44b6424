"""Check derivatives against central finite differences: `backward()`'s, or a learner's own.

`gradcheck` has PyTorch's signature and checks the engine; `check_derivative` checks a derivative
a learner wrote as a function and reports, never raises, where it is wrong and which typical
mistake it matches. Only first derivatives of scalar functions of scalars.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from micrograd.engine import Number, Value
from micrograd.grad_mode import no_grad
from micrograd.numeric import flag, is_real, non_negative, positive, to_float
from micrograd.ops import Op


class GradcheckError(RuntimeError):
    """A gradient from `backward()` disagrees with the finite-difference estimate."""


def numerical_grad(
    f: Callable[..., Value], inputs: Sequence[Number], eps: float = 1e-6
) -> list[float]:
    """Central differences (f(x + eps) - f(x - eps)) / 2 eps for each input in turn."""
    eps = positive(eps, "eps")
    point, _ = _check_point(inputs, "numerical_grad", values_allowed=False)
    return _central_differences(lambda p: _evaluate(f, p), point, eps)


def _central_differences(
    evaluate: Callable[[list[float]], float], point: list[float], eps: float
) -> list[float]:
    """(evaluate(x + eps e_i) - evaluate(x - eps e_i)) / 2 eps for each input i, no graph built."""
    slopes = []
    with no_grad():
        for i, x in enumerate(point):
            upper = evaluate(point[:i] + [x + eps] + point[i + 1 :])
            lower = evaluate(point[:i] + [x - eps] + point[i + 1 :])
            slopes.append((upper - lower) / (2.0 * eps))
    return slopes


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
    eps = positive(eps, "eps")
    atol = non_negative(atol, "atol")
    rtol = non_negative(rtol, "rtol")
    flag(raise_exception, "raise_exception")
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


# Where a learner gives no points: away from 0, where ReLU has its kink and 1/x its pole.
DEFAULT_POINTS = (-1.5, -0.4, 0.3, 1.2, 2.0)
# What a learner's blank returns: `...` as a body gives None, `return ...` gives Ellipsis.
_PLACEHOLDERS = (None, Ellipsis, NotImplemented)


@dataclass(frozen=True)
class Disagreement:
    """One input at one point where the learner's derivative and central differences differ."""

    point: tuple[float, ...]
    input_name: str
    yours: float | str  # the learner's number, or what went wrong computing it
    central: float

    @property
    def difference(self) -> float:
        """Yours minus the central difference (nan when yours is not a number)."""
        return self.yours - self.central if isinstance(self.yours, float) else math.nan


@dataclass(frozen=True)
class DerivativeReport:
    """What `check_derivative` found; `str(report)` is the text to show the learner."""

    name: str
    input_names: tuple[str, ...]
    checked: int  # how many (point, input) pairs were compared
    written: bool
    disagreements: tuple[Disagreement, ...]
    mistake: str | None  # the typical mistake the wrong numbers match, if one does
    problem: str | None  # why nothing could be compared (f raised, ...), if so
    # Which mistake, as a word a page can translate: "sign", "swapped", "value", "one-minus",
    # "gate" or "factor" (None when `mistake` is).
    mistake_kind: str | None = None
    # Every comparison made, point by point (empty when none was): the points, the learner's
    # number for each input there (or what went wrong) and the central difference.
    points: tuple[tuple[float, ...], ...] = ()
    yours: tuple[tuple[float | str, ...], ...] = ()
    central: tuple[tuple[float, ...], ...] = ()

    @property
    def right(self) -> bool:
        """Whether the derivative agrees with central differences everywhere it was checked."""
        return self.written and self.problem is None and not self.disagreements

    def __str__(self) -> str:
        if not self.written:
            return (
                f"… {self.name}: not written yet. Replace the placeholder (..., None or "
                f"NotImplemented) with a function of {', '.join(self.input_names)} that "
                f"returns the derivative, then run the check again."
            )
        if self.problem is not None:
            return f"✗ {self.name}: {self.problem}"
        if self.right:
            return f"✓ {self.name}: right at all {self.checked} checks against central differences"
        lines = [f"✗ {self.name}: wrong at {len(self.disagreements)} of {self.checked} checks"]
        texts = {d.yours if isinstance(d.yours, str) else "" for d in self.disagreements}
        if len(texts) == 1 and "" not in texts and len(self.disagreements) == self.checked:
            return f"{lines[0]}: at every point, yours {texts.pop()}"  # one error, said once
        for d in self.disagreements:
            at = ", ".join(f"{n} = {x:g}" for n, x in zip(self.input_names, d.point))
            which = f" ∂/∂{d.input_name}" if len(self.input_names) > 1 else ""
            if isinstance(d.yours, float):
                lines.append(
                    f"  at {at}:{which} yours {d.yours:.6g}, central difference {d.central:.6g}"
                    f", off by {d.difference:+.3g}"
                )
            else:
                lines.append(f"  at {at}:{which} yours {d.yours}")
        if self.mistake is not None:
            lines.append(f"  looks like {self.mistake}")
        return "\n".join(lines)


def check_derivative(
    f: Callable[..., object] | Op,
    derivative: object = None,
    points: Sequence[float | Sequence[float]] | None = None,
    name: str = "your derivative",
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> DerivativeReport:
    """Compare a learner's derivative of `f` with central differences and name a typical slip.

    `f` takes numbers and returns a number (or a Value). `derivative` is one function taking
    the same numbers, returning a number, or for several inputs a tuple with one per input; or
    a sequence of such functions, one per input. `points` are numbers (one input) or tuples.
    Or `f` is an op record (`micrograd.ops.Op`) and `derivative` is left out: its own rules are
    checked against its `forward`, inputs named x and y as in its notation, at points inside its
    `domain`. Nothing the learner wrote is raised: errors and placeholders are reported.
    """
    eps = positive(eps, "eps")
    atol = non_negative(atol, "atol")
    rtol = non_negative(rtol, "rtol")
    if isinstance(f, Op):
        if derivative is not None:
            raise TypeError(
                f"an op record carries its own rules: check_derivative({f.name!r} op) takes no "
                f"derivative, received {type(derivative).__name__}"
            )
        op = f
        input_names = ("x", "y")[: op.arity]
        f, derivative = op.forward, _rules_of(op)
        points = points or _points_inside(op.domain, op.arity)
        name = f"{op.name}'s rules" if name == "your derivative" else name
    else:
        input_names = _input_names(f)
    grid = [_as_point(p, len(input_names)) for p in (points or _default_points(len(input_names)))]

    checked = len(grid) * len(input_names)
    yours = [_yours(derivative, point, len(input_names)) for point in grid]
    rows = [row for row in yours if row is not None]
    if len(rows) < len(yours):
        return DerivativeReport(name, input_names, checked, False, (), None, None)
    try:
        values = [_float_of(f(*point)) for point in grid]
        central = [_central(f, point, eps) for point in grid]
    except Exception as error:  # the learner's f may raise anything: report it
        problem = f"f itself raised {_describe(error)}"
        return DerivativeReport(name, input_names, checked, True, (), None, problem)
    disagreements = tuple(
        Disagreement(point, input_names[i], mine[i], slope[i])
        for point, mine, slope in zip(grid, rows, central)
        for i in range(len(input_names))
        if not _close(mine[i], slope[i], atol, rtol)
    )
    kind, mistake = (
        _mistake(rows, central, values, input_names, disagreements, atol, rtol)
        if disagreements
        else (None, None)
    )
    return DerivativeReport(
        name,
        input_names,
        checked,
        True,
        disagreements,
        mistake,
        None,
        kind,
        tuple(grid),
        tuple(tuple(row) for row in rows),
        tuple(tuple(slopes) for slopes in central),
    )


def _rules_of(op: Op) -> list[object]:
    """The record's float rules as functions of its inputs alone (each also takes `out`); a
    placeholder left in the rules stays one, so the report says "not written yet"."""

    def rule(grad: object) -> object:
        if _is_blank(grad):
            return grad
        if not callable(grad):
            return lambda *xs: grad  # a constant derivative, given as a number
        return lambda *xs: grad(*xs, op.forward(*xs))

    return [rule(grad) for grad in op.local_grads]


def _points_inside(domain: tuple[tuple[float, float], ...], n: int) -> list[tuple[float, ...]]:
    """The default points, each input's moved into its range where the record gives one."""
    if not domain:
        return _default_points(n)
    inside = []
    for point in _default_points(n):
        moved = []
        for x, (lo, hi) in zip(point, domain):
            fraction = (x - DEFAULT_POINTS[0]) / (DEFAULT_POINTS[-1] - DEFAULT_POINTS[0])
            moved.append(x if lo < x < hi else lo + (hi - lo) * (0.1 + 0.8 * fraction))
        inside.append(tuple(moved))
    return inside


def _input_names(f: Callable[..., object]) -> tuple[str, ...]:
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # builtins such as math.tanh may have no signature
        return ("x",)
    names = tuple(
        p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    return names or ("x",)


def _default_points(n: int) -> list[tuple[float, ...]]:
    size = len(DEFAULT_POINTS)
    return [tuple(DEFAULT_POINTS[(i + 2 * k) % size] for k in range(n)) for i in range(size)]


def _as_point(point: object, n: int) -> tuple[float, ...]:
    numbers = [point] if is_real(point) else point
    if not isinstance(numbers, Iterable) or isinstance(numbers, (str, bytes)):
        raise TypeError(f"a point must be a number or a tuple of numbers, received {point!r:.60}")
    point_tuple = tuple(to_float(x, "a point's coordinate") for x in numbers)
    if len(point_tuple) != n:
        raise ValueError(f"f takes {n} inputs, but the point {point!r:.60} has {len(point_tuple)}")
    return point_tuple


def _yours(derivative: object, point: tuple[float, ...], n: int) -> list[float | str] | None:
    """The learner's derivative for each input at `point` (text where it failed); None: a blank."""
    if _is_blank(derivative):
        return None
    functions = list(derivative) if isinstance(derivative, (list, tuple)) else [derivative]
    if any(_is_blank(fn) for fn in functions):
        return None
    if len(functions) not in (1, n):
        return [f"{len(functions)} functions for {n} inputs" for _ in range(n)]
    results: list[object] = []
    for fn in functions:
        if not callable(fn):
            return [f"is a {type(fn).__name__}, not a function" for _ in range(n)]
        try:
            result = fn(*point)
        except NotImplementedError:
            return None
        except Exception as error:  # the learner's code may raise anything: report it
            return [f"raised {_describe(error)}" for _ in range(n)]
        results.extend(
            result if len(functions) == 1 and isinstance(result, (list, tuple)) else [result]
        )
    if any(_is_blank(r) for r in results):
        return None
    if len(results) != n:
        return [f"{len(results)} numbers for {n} inputs" for _ in range(n)]
    mine: list[float | str] = []
    for result in results:
        try:
            mine.append(_float_of(result))
        except (TypeError, ValueError, OverflowError):
            mine.append(f"returned a {type(result).__name__}, not a number: {result!r:.40}")
    return mine


def _is_blank(x: object) -> bool:
    return any(x is placeholder for placeholder in _PLACEHOLDERS)  # `is`: Values overload ==


def _float_of(x: object) -> float:
    return x.data if isinstance(x, Value) else to_float(x, "a derivative")


def _central(f: Callable[..., object], point: tuple[float, ...], eps: float) -> list[float]:
    # The learner's f takes plain numbers and may return a number or a Value.
    return _central_differences(lambda p: _float_of(f(*p)), list(point), eps)


def _close(mine: float | str, wanted: float, atol: float, rtol: float) -> bool:
    return isinstance(mine, float) and abs(mine - wanted) <= atol + rtol * abs(wanted)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _mistake(
    yours: list[list[float | str]],
    central: list[list[float]],
    values: list[float],
    input_names: tuple[str, ...],
    disagreements: tuple[Disagreement, ...],
    atol: float,
    rtol: float,
) -> tuple[str, str] | tuple[None, None]:
    """The typical slip that gives the learner's numbers at every point, if one does: its kind
    (a word) and its description."""
    if not all(isinstance(x, float) for row in yours for x in row):
        return None, None

    def everywhere(wanted: Callable[[int, int], float]) -> bool:
        return all(
            _close(row[i], wanted(p, i), atol, rtol)
            for p, row in enumerate(yours)
            for i in range(len(row))
        )

    n = len(input_names)
    pairs = [(row[i], central[p][i]) for p, row in enumerate(yours) for i in range(n)]
    if everywhere(lambda p, i: -central[p][i]):
        return "sign", "a flipped sign: yours is minus the derivative at every point"
    if n == 2 and everywhere(lambda p, i: central[p][1 - i]):
        a, b = input_names
        return "swapped", (
            f"swapped factors: yours for {a} is ∂f/∂{b} and yours for {b} is ∂f/∂{a} "
            f"(for a product {a}·{b}, ∂/∂{a} is {b})"
        )
    if n == 1 and everywhere(lambda p, i: values[p]):
        return "value", (
            "the function's own value, not its slope: for the sigmoid, σ(x) where the "
            "derivative is σ(x)(1 - σ(x))"
        )
    if n == 1 and everywhere(lambda p, i: 1.0 - values[p]):
        return "one-minus", (
            "1 - f(x): for tanh the square is missing (tanh' is 1 - tanh(x)**2), for the "
            "sigmoid the factor σ(x) (σ' is σ(x)(1 - σ(x)))"
        )
    if all(abs(d.central) <= atol for d in disagreements) and len(disagreements) < len(pairs):
        return "gate", (
            "a missing gate: yours is not 0 where f is flat (a ReLU passes no gradient back "
            "where its input is below 0)"
        )
    mine, wanted = max(pairs, key=lambda pair: abs(pair[1]))
    if isinstance(mine, float) and abs(wanted) > atol:
        factor = mine / wanted
        if abs(factor) > 1e-9 and everywhere(lambda p, i: factor * central[p][i]):
            return "factor", (
                f"a missing factor of the chain rule: yours is {factor:.6g} times the "
                f"derivative at every point (an inner derivative of {1 / factor:.6g} left out?)"
            )
    return None, None
