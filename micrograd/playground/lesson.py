"""What the lesson page (`lesson.html`) asks of the package: the walk-through's numbers, computed.

The lesson follows the backpropagation walk-through in its order: one weight `y = W*x` on the
table 0 -> 0, 1 -> 2, 2 -> 4 (`micrograd.data.LINEAR_TABLE`), then the 2-2-2 sigmoid network
(`micrograd.data.TWO_TWO_TWO`): its forward pass one quantity at a time, backward for w5 factor
by factor, the update, and training. Every number the page shows comes from here, computed with
`Value` and `backward()`, and is sent both as a float and as the text to show (`shown`), so the
page types no number of its own.

The page's worker calls `handle_page('{"call": "lesson", "args": {"part": ..., ...}}')`
(`micrograd.playground.glue`), which calls `answer(part, ...)`:

- `answer("weight", w=3)`: the table for the learner's W, its total squared error and the slope;
- `answer("step", w=3)`: one "follow the slope" step from W; `answer("descend", w=3)`: steps
  until the minimum;
- `answer("factor", guess=0.19)`: the learner's number for d out_o1 / d net_o1, judged;
- `answer("derivative", text="sigmoid(x) * (1 - sigmoid(x))")`: the learner's own formula for
  the sigmoid's derivative, checked against central differences (`check_derivative_text`);
  `reveal=True` checks `DERIVATIVE_SOLUTION` instead;
- `answer("network")`: forward pass, E_total, backward for w5, the eight updates;
- `answer("train", steps=10000, order="correct")` or `order="early"`: training, where "early"
  updates w5..w8 before backpropagating into the hidden layer (the update-order bug behind the
  walk-through's first-round error 0.291027924 and outputs 0.015912196 / 0.984065734).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from micrograd.data import LINEAR_TABLE, TWO_TWO_TWO
from micrograd.engine import Value, topological_order
from micrograd.explain import explain
from micrograd.expr import ExpressionError, evaluate, names_used, parse
from micrograd.gradcheck import DEFAULT_POINTS, check_derivative
from micrograd.numeric import count, real
from micrograd.ops import SIGMOID
from micrograd.playground.glue import (
    _WEIGHTS,
    PlaygroundError,
    _network,
    descent_step,
    page_setting,
)

TRAIN_STEPS = 10_000
"""The walk-through's training length, and the most one request runs."""
CURVE_POINTS = 200
"""Most points of the error curve sent to the page."""
SLOPE_RATE = 0.05
"""The learning rate of the one-weight "follow the slope" step."""
AT_MINIMUM = 1e-6
"""A slope this small (in absolute value) counts as the minimum reached."""
MAX_WEIGHT = 1e6
"""Largest |W| the one-weight table accepts."""
MAX_DESCENT = 200
"""Most steps `descend` takes."""
WEIGHT_CHOICES = (3.0, 4.0, 2.0)
"""The walk-through's W, in its order: the first is where the lesson starts."""
WEIGHT_CURVE = (0.0, 4.0, 41)
"""The error-versus-W curve: from, to (widened to take in the learner's W), points."""

FACTOR_TOLERANCE = 0.01
"""A guessed factor within this fraction of the true one counts as right."""


def shown(x: float) -> str:
    """`x` as the page shows it: the walk-through's 9 decimals without trailing zeros, or, below
    0.0001, 5 significant digits in scientific form (3.5102e-05); whole numbers as integers."""
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if abs(x) < 1e-4:
        return f"{x:.4e}"
    text = f"{x:.9f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _number(x: float) -> dict[str, Any]:
    return {"value": x, "shown": shown(x)}


def _weight(w: object) -> float:
    number = page_setting(real, w, "W")
    if abs(number) > MAX_WEIGHT:
        raise PlaygroundError(f"W must be between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}")
    return number


def one_weight(w: object) -> dict[str, Any]:
    """The table `y = W*x` for the learner's W: outputs, errors, squared errors, their total, and
    d(total)/dW from `backward()`."""
    weight = Value(_weight(w), "W")
    rows = []
    total = Value(0.0, requires_grad=False)
    for x, y in LINEAR_TABLE:
        output = weight * x
        error = output - y
        squared = error**2
        total = total + squared
        rows.append(
            {
                "x": _number(x),
                "y": _number(y),
                "output": _number(output.data),
                "error": _number(abs(error.data)),
                "squared": _number(squared.data),
            }
        )
    total.backward()
    slope = weight.grad
    return {
        "w": _number(weight.data),
        "rows": rows,
        "total": _number(total.data),
        "slope": _number(slope),
        "slope_sign": "positive" if slope > 0 else "negative" if slope < 0 else "zero",
        "at_minimum": abs(slope) < AT_MINIMUM,
        "rate": _number(SLOPE_RATE),
        "choices": [_number(c) for c in WEIGHT_CHOICES],
        "curve": _weight_curve(weight.data),
    }


def descend(w: object) -> dict[str, Any]:
    """Follow the slope from W, one gradient-descent step at a time, until the slope is below
    `AT_MINIMUM` (at most `MAX_DESCENT` steps): each W and its total error, and the minimum
    itself (W = sum(x*y) / sum(x*x), where the slope is zero) for comparison."""
    answer = one_weight(w)
    path = [[answer["w"]["value"], answer["total"]["value"]]]
    while not answer["at_minimum"] and len(path) <= MAX_DESCENT:
        answer = one_weight(answer["w"]["value"] - SLOPE_RATE * answer["slope"]["value"])
        path.append([answer["w"]["value"], answer["total"]["value"]])
    best = sum(x * y for x, y in LINEAR_TABLE) / sum(x * x for x, _ in LINEAR_TABLE)
    return {
        "after": answer,
        "path": path,
        "steps": len(path) - 1,
        "minimum": {"w": _number(best), "total": _number(_total_error(best))},
    }


def _total_error(w: float) -> float:
    return sum((w * x - y) ** 2 for x, y in LINEAR_TABLE)


def _weight_curve(w: float) -> list[list[float]]:
    """[W, total squared error] along `WEIGHT_CURVE`, widened to take in `w`."""
    low, high, points = WEIGHT_CURVE
    low, high = min(low, w), max(high, w)
    return [
        [low + (high - low) * k / (points - 1), _total_error(low + (high - low) * k / (points - 1))]
        for k in range(int(points))
    ]


def slope_step(w: object) -> dict[str, Any]:
    """One step of gradient descent from W: W - rate * slope, and the table at the new W."""
    before = one_weight(w)
    new_w = before["w"]["value"] - SLOPE_RATE * before["slope"]["value"]
    return {"before": before, "after": one_weight(new_w)}


def _labelled(error: Value) -> dict[str, Value]:
    return {v.label: v for v in topological_order(error) if v.label}


# The forward pass in the walk-through's order: (name, formula, the names the formula uses).
_FORWARD = (
    ("net_h1", "w1*i1 + w2*i2 + b1", ("w1", "i1", "w2", "i2", "b1")),
    ("out_h1", "1 / (1 + e^-net_h1)", ("net_h1",)),
    ("net_h2", "w3*i1 + w4*i2 + b1", ("w3", "i1", "w4", "i2", "b1")),
    ("out_h2", "1 / (1 + e^-net_h2)", ("net_h2",)),
    ("net_o1", "w5*out_h1 + w6*out_h2 + b2", ("w5", "out_h1", "w6", "out_h2", "b2")),
    ("out_o1", "1 / (1 + e^-net_o1)", ("net_o1",)),
    ("net_o2", "w7*out_h1 + w8*out_h2 + b2", ("w7", "out_h1", "w8", "out_h2", "b2")),
    ("out_o2", "1 / (1 + e^-net_o2)", ("net_o2",)),
    ("E_o1", "1/2 (t1 - out_o1)^2", ("t1", "out_o1")),
    ("E_o2", "1/2 (t2 - out_o2)^2", ("t2", "out_o2")),
    ("E_total", "E_o1 + E_o2", ("E_o1", "E_o2")),
)


def network() -> dict[str, Any]:
    """The 2-2-2 network at the walk-through's start: its named numbers, the forward pass one
    quantity at a time (formula, formula with numbers, value), backward for w5 factor by factor,
    w1's two paths, and every weight's update at the walk-through's learning rate."""
    net = TWO_TWO_TWO
    error, leaves = _network(list(net.weights))
    error.backward()
    values = {name: v.data for name, v in _labelled(error).items()}
    values |= {name: leaves[name].data for name in (*_WEIGHTS, "b1", "b2")}
    values |= {"i1": net.inputs[0], "i2": net.inputs[1], "t1": net.targets[0]}
    values["t2"] = net.targets[1]
    t1, t2 = net.targets
    values["E_o1"] = 0.5 * (t1 - values["out_o1"]) ** 2
    values["E_o2"] = 0.5 * (t2 - values["out_o2"]) ** 2
    forward = []
    for name, formula, uses in _FORWARD:
        numbers = formula
        # Longest names first, so that "out_h1" is replaced before "h1" could be.
        for used in sorted(uses, key=len, reverse=True):
            numbers = numbers.replace(used, shown(values[used]))
        forward.append(
            {"name": name, "formula": formula, "numbers": numbers, **_number(values[name])}
        )
    out_o1, out_h1 = values["out_o1"], values["out_h1"]
    factors = [
        {"name": "∂E_total/∂out_o1", "formula": "out_o1 - t1", **_number(out_o1 - t1)},
        {
            "name": "∂out_o1/∂net_o1",
            "formula": "out_o1 (1 - out_o1)",
            **_number(out_o1 * (1 - out_o1)),
        },
        {"name": "∂net_o1/∂w5", "formula": "out_h1", **_number(out_h1)},
    ]
    product = math.prod(f["value"] for f in factors)
    w1_paths = explain(error, leaves["w1"])
    updates = [
        {
            "name": name,
            "before": _number(leaves[name].data),
            "grad": _number(leaves[name].grad),
            "after": _number(leaves[name].data - net.lr * leaves[name].grad),
        }
        for name in _WEIGHTS
    ]
    return {
        "named": {
            name: _number(values[name]) for name in ("i1", "i2", *_WEIGHTS, "b1", "b2", "t1", "t2")
        },
        "lr": _number(net.lr),
        "forward": forward,
        "e_total": _number(error.data),
        "w5": {
            "factors": factors,
            "product": _number(product),
            "backward": _number(leaves["w5"].grad),
            "sign": "positive" if leaves["w5"].grad > 0 else "negative",
        },
        "w1": {
            "paths": [
                {
                    "nodes": [v.label for v in path.nodes if v.label],
                    **_number(path.product),
                }
                for path in w1_paths.paths
            ],
            "backward": _number(leaves["w1"].grad),
        },
        "updates": updates,
        "train_steps": TRAIN_STEPS,
    }


def check_factor(guess: object) -> dict[str, Any]:
    """The learner's number for the factor d out_o1 / d net_o1 = out_o1 (1 - out_o1), judged:
    right within `FACTOR_TOLERANCE` (relative); if not, how far off, and which typical mistake
    it matches ("out_o1": the sigmoid's value, not its slope; "first": the factor before it,
    out_o1 - t1; "one-minus": 1 - out_o1 alone), or None."""
    guess = page_setting(real, guess, "the guess")
    error, _ = _network(list(TWO_TWO_TWO.weights))
    out_o1 = _labelled(error)["out_o1"].data
    value = out_o1 * (1 - out_o1)

    def near(x: float, target: float) -> bool:
        return abs(x - target) <= FACTOR_TOLERANCE * abs(target)

    right = near(guess, value)
    mistakes = {"out_o1": out_o1, "first": out_o1 - TWO_TWO_TWO.targets[0], "one-minus": 1 - out_o1}
    mistake = None if right else next((k for k, x in mistakes.items() if near(guess, x)), None)
    return {
        "right": right,
        "guess": _number(float(guess)),
        "value": _number(value),
        "difference": _number(guess - value),
        "out_o1": _number(out_o1),
        "mistake": mistake,
    }


DERIVATIVE_SOLUTION = "sigmoid(x) * (1 - sigmoid(x))"
"""A right answer to the page's exercise, which `?reveal=all` checks."""


def check_derivative_text(text: object) -> dict[str, Any]:
    """The learner's formula for the derivative of sigmoid(x) = 1 / (1 + exp(-x)), a text in x
    (read by `micrograd.expr`, never run as Python), checked by `check_derivative` at its
    default points.

    Returns `written` (False for a blank), `problem` ("unreadable" with `message`, or "names"
    with the names used besides x) or, when the formula was read, `right`, one row per point
    (x, yours, the central difference, the difference, whether it agrees), the mistake's kind
    (`gradcheck.DerivativeReport.mistake_kind`) and, for a missing factor, the factor."""
    if not isinstance(text, str):
        raise PlaygroundError(f"the formula must be text, received {text!r:.40}")
    if not text.strip():
        return {"written": False}
    try:
        tree = parse(text)
    except ExpressionError as error:
        return {"written": True, "problem": "unreadable", "message": str(error)}
    others = [name for name in names_used(tree) if name != "x"]
    if others:
        return {"written": True, "problem": "names", "names": others}

    def yours(x: float) -> float:
        try:
            with warnings.catch_warnings():  # 1/x at 0 warns, as eager Python would; shown as inf
                warnings.simplefilter("ignore", RuntimeWarning)
                return evaluate(tree, {"x": Value(x, "x")}).data
        except ExpressionError:
            return math.nan  # out of range at this point (1/0, log of a negative): shown as nan

    report = check_derivative(SIGMOID.forward, yours, points=DEFAULT_POINTS, name="dσ/dx")
    wrong = {d.point for d in report.disagreements}
    rows = []
    for point, (mine,), (slope,) in zip(report.points, report.yours, report.central):
        assert isinstance(mine, float)  # yours() returns nan, never raises
        rows.append(
            {
                "x": _number(point[0]),
                "yours": _number(mine),
                "central": _number(slope),
                "difference": _number(mine - slope),
                "right": point not in wrong,
            }
        )
    factor = None
    if report.mistake_kind == "factor":
        d = max(report.disagreements, key=lambda d: abs(d.central))
        factor = _number(d.difference / d.central + 1.0)
    return {
        "written": True,
        "problem": None,
        "right": report.right,
        "rows": rows,
        "wrong": len(report.disagreements),
        "checked": report.checked,
        "mistake": report.mistake_kind,
        "factor": factor,
    }


def _step(weights: list[float], rate: float, early: bool) -> tuple[float, list[float]]:
    """E_total at `weights` and the weights after one gradient step.

    With `early`, w5..w8 are updated first and the hidden layer's gradients go back through
    the *updated* w5..w8 (the update-order bug): each output's delta (dE/dnet_o, from the same
    `backward()`) is held fixed and backpropagated through the moved weights."""
    error, new = descent_step(weights, rate)
    if early:
        nodes = _labelled(error)
        d1, d2 = nodes["net_o1"].grad, nodes["net_o2"].grad
        hidden, hidden_leaves = _network([*weights[:4], *new[4:]])
        h = _labelled(hidden)
        w5, w6, w7, w8 = (hidden_leaves[f"w{k}"] for k in range(5, 9))
        surrogate = d1 * (w5 * h["out_h1"] + w6 * h["out_h2"]) + d2 * (
            w7 * h["out_h1"] + w8 * h["out_h2"]
        )
        surrogate.backward()
        new[:4] = [weights[k] - rate * hidden_leaves[_WEIGHTS[k]].grad for k in range(4)]
    return error.data, new


def train(steps: object = TRAIN_STEPS, order: object = "correct") -> dict[str, Any]:
    """Train the 2-2-2 network `steps` steps from the walk-through's start, updating every weight
    from one backward pass (`order="correct"`) or w5..w8 first (`order="early"`, the bug).

    Returns E_total after the first step and at the end, the outputs at the end, and the error
    curve (E_total after 0, ..., steps steps) thinned to at most `CURVE_POINTS` points."""
    steps = page_setting(count, steps, "steps", 1, TRAIN_STEPS)
    if order not in ("correct", "early"):
        raise PlaygroundError(f'order must be "correct" or "early", received {order!r:.40}')
    weights = list(TWO_TWO_TWO.weights)
    errors = []
    for _ in range(steps):
        error, weights = _step(weights, TWO_TWO_TWO.lr, order == "early")
        errors.append(error)
    final = _network(weights)[0]
    errors.append(final.data)
    outputs = _labelled(final)
    every = max(1, math.ceil(steps / CURVE_POINTS))
    curve = [[k, errors[k]] for k in range(0, steps + 1, every)]
    if curve[-1][0] != steps:
        curve.append([steps, errors[steps]])
    return {
        "order": order,
        "steps": steps,
        "first": _number(errors[1]),
        "start": _number(errors[0]),
        "final": _number(errors[steps]),
        "outputs": [_number(outputs["out_o1"].data), _number(outputs["out_o2"].data)],
        "targets": [_number(t) for t in TWO_TWO_TWO.targets],
        "curve": curve,
    }


def answer(part: object, **args: Any) -> dict[str, Any]:
    """The lesson page's request `part` with its arguments (see the module's docstring)."""
    if part == "weight":
        return one_weight(args.get("w", WEIGHT_CHOICES[0]))
    if part == "step":
        return slope_step(args.get("w"))
    if part == "descend":
        return descend(args.get("w"))
    if part == "factor":
        return check_factor(args.get("guess"))
    if part == "derivative":
        text = DERIVATIVE_SOLUTION if args.get("reveal") is True else args.get("text", "")
        return {**check_derivative_text(text), "text": text}
    if part == "network":
        return network()
    if part == "train":
        return train(args.get("steps", TRAIN_STEPS), args.get("order", "correct"))
    raise PlaygroundError(f"unknown lesson part {part!r:.40}")
