"""What the browser playground asks of the package, answered with JSON-ready data.

The page's worker (worker.js, running Pyodide) calls `handle_page(request_json)` and gets a JSON
text back: `{"ok": true, ...}` or `{"ok": false, "error": "..."}`, so every bad input is a message
the page can show, in its own words (`handle` is the same with the package's words). The state the
page holds is a *spec*, plain data that rebuilds the graph on every call (the graphs are small, and
nothing is left half-changed between calls):

- `{"kind": "expression", "expression": "tanh(a*b + c)", "values": "a=2, b=-3, c=10"}`, parsed
  by the `draw` command's whitelist parser (`micrograd.expr`, never `eval`);
- `{"kind": "network", "weights": [w1, ..., w8], "lr": 0.5, "step": 0}`, the 2-2-2 sigmoid network
  of the backpropagation walk-through (`micrograd.data.TWO_TWO_TWO`), trained by plain SGD on
  w1..w8 with the biases held, as in the walk-through.

The lesson page's requests, `{"call": "lesson", "args": {"part": ...}}`, are answered by
`micrograd.playground.lesson.answer`.

Drawing pixels is the page's job (Graphviz compiled to WebAssembly); here we give it DOT text.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from micrograd.data import TWO_TWO_TWO
from micrograd.engine import Value, topological_order
from micrograd.explain import explain
from micrograd.expr import (
    FUNCTIONS,
    ExpressionError,
    evaluate,
    example_call,
    names_used,
    parse,
    parse_binding,
)
from micrograd.numeric import count, positive, real
from micrograd.playground.rules import forward_steps, node_rule, numeric_check
from micrograd.viz import backward_steps
from micrograd.viz.dot import build_dot

Spec = dict[str, Any]

MAX_TRAIN_STEPS = 10_000
"""Most training steps one request may take: each is a forward and backward pass in the page."""
MAX_OPERATIONS = 40
"""Most operations an expression may make in the page (its graph, its frames stay quick)."""
MAX_MESSAGE = 240
"""Longest message the page shows, in characters."""
MAX_STEP_COUNT = 10**9
"""Largest training-step count an address may state."""

MAX_VALUES_LENGTH = 1_000
"""Longest values text (`a=2, b=-3`) accepted, in characters; the expression's is
`micrograd.expr.MAX_LENGTH`."""

MAX_ADDRESS_LENGTH = 20_000
"""Longest page address (its `#...` part) the page reads, in characters: an expression and its
values at their longest, percent-encoded, fit; a longer shared link is refused unread."""

MAX_REQUEST_LENGTH = 10_000_000
"""Longest request text answered (a laid-out SVG sent back for the frames is the longest)."""

_WEIGHTS = tuple(f"w{k}" for k in range(1, 9))


class PlaygroundError(ValueError):
    """A request the playground cannot answer; the message is shown in the page as it is."""


_Checked = TypeVar("_Checked")


def page_setting(check: Callable[..., _Checked], value: object, *args: Any) -> _Checked:
    """`check(value, *args)`, a checker of the number policy (`micrograd.numeric`), its
    TypeError or ValueError raised as a PlaygroundError with the same message."""
    try:
        return check(value, *args)
    except (TypeError, ValueError) as error:
        raise PlaygroundError(str(error)) from None


def preset() -> Spec:
    """The spec of the 2-2-2 network at the walk-through's initial weights and learning rate."""
    return {
        "kind": "network",
        "weights": list(TWO_TWO_TWO.weights),
        "lr": TWO_TWO_TWO.lr,
        "step": 0,
    }


def build(spec: Spec) -> tuple[Value, dict[str, Value]]:
    """The spec's output after `backward()`, and its named leaves (inputs and weights) by name."""
    if not isinstance(spec, dict):
        raise PlaygroundError(f"a spec must be an object, received {type(spec).__name__}")
    kind = spec.get("kind")
    if kind == "expression":
        out, leaves = _expression(spec.get("expression"), spec.get("values", ""))
        _check_operations(out)
    elif kind == "network":
        out, leaves = _network(_weights(spec))
    else:
        raise PlaygroundError(f'spec kind must be "expression" or "network", received {kind!r}')
    out.backward()
    return out, leaves


def parse_values(text: str) -> dict[str, float]:
    """`"a=2, b=-3 c=1e-2"` as `{"a": 2.0, "b": -3.0, "c": 0.01}`: commas, semicolons or spaces.

    At most `MAX_VALUES_LENGTH` characters, read in time linear in their number.
    """
    if not isinstance(text, str):
        raise PlaygroundError(f"values must be text such as a=2, b=-3; received {text!r:.60}")
    if len(text) > MAX_VALUES_LENGTH:
        raise PlaygroundError(
            f"the values are {len(text):,} characters long; at most {MAX_VALUES_LENGTH:,} are "
            "accepted"
        )
    values: dict[str, float] = {}
    # "a = 2" is one binding: spaces around "=" are dropped before splitting on spaces. By
    # splitting on "=" and stripping each part, not re.sub(r"\s*=\s*"), which retries every
    # start in a run of spaces: quadratic, minutes for a long shared link.
    joined = "=".join(part.strip() for part in text.split("="))
    for item in re.split(r"[,;\s]+", joined):
        if not item:
            continue
        name, number = parse_binding(item)
        if name in values:
            raise PlaygroundError(f"{name} is given a value twice")
        values[name] = number
    return values


def _expression(expression: object, values_text: object) -> tuple[Value, dict[str, Value]]:
    if not isinstance(expression, str):
        raise PlaygroundError(f"the expression must be text, received {expression!r:.60}")
    tree = parse(expression)
    _check_names(names_used(tree))
    values = parse_values(values_text)  # type: ignore[arg-type]  # checked inside
    used = names_used(tree)
    missing = [name for name in used if name not in values]
    if missing:
        raise PlaygroundError(
            f"give a value to {', '.join(missing)} (for example {missing[0]}=1); "
            f"the expression uses {', '.join(used)}"
        )
    unused = [name for name in values if name not in used]
    if unused:
        raise PlaygroundError(
            f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} given a value but not "
            f"used in the expression, which uses {', '.join(used) or 'no names'}"
        )
    leaves = {name: Value(values[name], name) for name in used}
    # The parser reports overflow and domain errors itself, as the draw command does.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = evaluate(tree, leaves)
    if not out.requires_grad:
        raise PlaygroundError("the expression has no names, so there is no gradient to show")
    return out, leaves


def _check_names(names: list[str]) -> None:
    """Refuses names a value cannot be given to, before the page asks for their values."""
    for name in names:
        if name in FUNCTIONS:
            raise PlaygroundError(
                f"{name} is a function: call it, as in {example_call(name)}; names for values "
                "must differ from the function names"
            )
        if name.startswith("_"):
            raise PlaygroundError(
                f"the name {name} starts with _; use names of letters and digits, such as a or x1"
            )


def _check_operations(out: Value) -> None:
    operations = sum(1 for v in topological_order(out) if v.parents)
    if operations > MAX_OPERATIONS:
        raise PlaygroundError(
            f"the expression makes {operations} operations (each +, -, *, /, ** and function "
            f"counts, -, / and clamp count two); the page draws at most {MAX_OPERATIONS} "
            "operations"
        )


def _weights(spec: Spec) -> list[float]:
    weights = spec.get("weights")
    if not isinstance(weights, list) or len(weights) != len(_WEIGHTS):
        raise PlaygroundError(f"the network needs 8 weights w1..w8, received {weights!r:.80}")
    return [page_setting(real, w, name) for name, w in zip(_WEIGHTS, weights)]


def _network(weights: list[float]) -> tuple[Value, dict[str, Value]]:
    """E_total of the 2-2-2 network at `weights`, written as in notebook 3."""
    w = [Value(x, name) for name, x in zip(_WEIGHTS, weights)]
    b1, b2 = Value(TWO_TWO_TWO.b1, "b1"), Value(TWO_TWO_TWO.b2, "b2")
    leaves = {name: x for name, x in zip(_WEIGHTS, w)} | {"b1": b1, "b2": b2}
    return _network_of(*w, b1, b2), leaves


def descent_step(weights: list[float], rate: float) -> tuple[Value, list[float]]:
    """One gradient-descent step on w1..w8: E_total at `weights`, backpropagated (its nodes hold
    their grads), and the weights after the step (the biases are held fixed, as in notebook 3)."""
    error, leaves = _network(weights)
    error.backward()
    return error, [leaves[name].data - rate * leaves[name].grad for name in _WEIGHTS]


def _network_of(*parameters: Value) -> Value:
    """E_total of the 2-2-2 network given w1..w8, b1, b2 as Values."""
    net = TWO_TWO_TWO
    w, (b1, b2) = parameters[:8], parameters[8:]
    # Inputs and targets are data, not parameters: drawn as constants, given no gradient.
    i1, i2 = (Value(x, f"i{k}", requires_grad=False) for k, x in enumerate(net.inputs, 1))
    t1, t2 = (Value(x, f"t{k}", requires_grad=False) for k, x in enumerate(net.targets, 1))
    v = {"net_h1": w[0] * i1 + w[1] * i2 + b1}
    v["out_h1"] = v["net_h1"].sigmoid()
    v["net_h2"] = w[2] * i1 + w[3] * i2 + b1
    v["out_h2"] = v["net_h2"].sigmoid()
    v["net_o1"] = w[4] * v["out_h1"] + w[5] * v["out_h2"] + b2
    v["out_o1"] = v["net_o1"].sigmoid()
    v["net_o2"] = w[6] * v["out_h1"] + w[7] * v["out_h2"] + b2
    v["out_o2"] = v["net_o2"].sigmoid()
    v["E_total"] = 0.5 * (t1 - v["out_o1"]) ** 2 + 0.5 * (t2 - v["out_o2"]) ** 2
    for label, value in v.items():
        value.label = label
    return v["E_total"]


def graph(spec: Spec) -> dict[str, Any]:
    """The graph to draw: DOT text, the output, and each named leaf with its DOT node and grad."""
    out, leaves = build(spec)
    order = topological_order(out)
    node_of = {id(v): f"v{i}" for i, v in enumerate(order)}
    result: dict[str, Any] = {
        "dot": build_dot(out),
        "output": {"label": out.label or "output", "data": out.data},
        "leaves": [
            {"name": name, "node": node_of[id(v)], "data": v.data, "grad": v.grad}
            for name, v in leaves.items()
            if id(v) in node_of
        ],
        # Graphviz nodes: a box per value and a circle per op.
        "node_count": len(order) + sum(1 for v in order if v.parents),
    }
    if spec["kind"] == "network":
        result["network"] = {"lr": _rate(spec.get("lr")), "step": _step_count(spec.get("step", 0))}
    return result


def _rate(rate: object) -> float:
    number = page_setting(positive, rate, "the learning rate")
    if number > 100:
        raise PlaygroundError(f"the learning rate must be in (0, 100], received {rate!r}")
    return number


def _step_count(step: object) -> int:
    return page_setting(count, step, "the step count", 0, MAX_STEP_COUNT)


def backward_frames(out: Value, laid_out_svg: str | None = None) -> dict[str, Any]:
    """The backward pass of `out` as frames the page shows one at a time, as the notebooks do.

    The graph is laid out once, so no node moves between frames: without `laid_out_svg` the
    answer is `{"layout_dot": DOT}`, which the page lays out with its Graphviz and sends back as
    `laid_out_svg`; then each frame is that SVG recoloured and relabelled in Python
    (`micrograd.viz.frames_from_svg`), `{"svg": ...}`. A frame's `"node"` names the Graphviz
    node the page scrolls into view.
    """
    steps = backward_steps(out)
    if laid_out_svg is None:
        return {"layout_dot": steps.layout_source}
    index = {id(v): i for i, v in enumerate(topological_order(out))}
    return {
        "frames": [
            {
                "title": _frame_title(k, len(steps), node),
                "svg": svg,
                "node": f"o{index[id(node)]}",  # the op circle this step is at: kept in view
            }
            for k, (svg, node) in enumerate(
                zip(steps.frames_from_svg(laid_out_svg, compact=False), steps.nodes), start=1
            )
        ]
    }


def _frame_title(k: int, count: int, node: Value) -> str:
    assert node.op is not None  # frames are of op nodes only
    name = node.label or f"the {node.op.name} node"
    return f"step {k} of {count}: backpropagating through {name} ({node.op.symbol})"


def frames(spec: Spec, svg: str | None = None) -> dict[str, Any]:
    """The backward frames of the spec's graph (see `backward_frames`)."""
    out, _ = build(spec)
    return backward_frames(out, svg)


def explain_paths(spec: Spec, name: str) -> dict[str, Any]:
    """`micrograd.explain`'s chain-rule paths from the leaf `name` to the output, for the page."""
    out, leaves = build(spec)
    if name not in leaves:
        raise PlaygroundError(
            f"{name!r} is not an input of this graph; click one of {', '.join(leaves)}"
        )
    order = topological_order(out)
    node_of = {id(v): f"v{i}" for i, v in enumerate(order)}
    rule = explain(out, leaves[name])
    return {
        "wrt": name,
        "grad": leaves[name].grad,
        "total": rule.total,
        "formula": rule.formula,
        "table": str(rule),
        "paths": [
            {
                "nodes": [_node_name(v) for v in path.nodes],
                # The values the factors run between: the input, each labelled value, the output.
                "stops": [
                    _node_name(v)
                    for k, v in enumerate(path.nodes)
                    if v.label or k in (0, len(path.nodes) - 1)
                ],
                # Each value on the path, and the op circle that made it (not for `wrt`).
                "dot_nodes": [node_of[id(v)] for v in path.nodes if id(v) in node_of]
                + ["o" + node_of[id(v)][1:] for v in path.nodes[1:] if id(v) in node_of],
                "local_grads": list(path.local_grads),
                # The named factors of the formula, each with its number: one product per path.
                "factors": [{"name": name, "value": value} for name, value in path.factors],
                "product": path.product,
                "formula": path.formula,
            }
            for path in rule.paths
        ],
    }


def _node_name(v: Value) -> str:
    if v.label:
        return v.label
    return f"{v.op.name} node" if v.op is not None else f"{v.data:.4g}"


def train(spec: Spec, steps: int = 1, lr: float | None = None) -> dict[str, Any]:
    """`steps` SGD steps on w1..w8 of the network spec; the new spec and E_total after each."""
    if not isinstance(spec, dict) or spec.get("kind") != "network":
        raise PlaygroundError("training needs the 2-2-2 network: load the preset first")
    rate = _rate(spec.get("lr") if lr is None else lr)
    steps = page_setting(count, steps, "steps", 1, MAX_TRAIN_STEPS)
    weights = _weights(spec)
    before = []  # E_total before each step: the one after a step is the next step's before
    for _ in range(steps):
        error, weights = descent_step(weights, rate)
        before.append(error.data)
    errors = [*before[1:], _network(weights)[0].data]  # E_total after each step
    step = spec.get("step", 0)
    new_spec = {"kind": "network", "weights": weights, "lr": rate}
    new_spec["step"] = (step if isinstance(step, int) else 0) + steps
    return {"spec": new_spec, "errors": errors}


def explained_frames(spec: Spec, svg: str | None = None) -> dict[str, Any]:
    """`frames`, each with the rule of its step (`rules.node_rule`) in symbols and numbers."""
    out, _ = build(spec)
    answer = backward_frames(out, svg)
    if "frames" in answer:
        for frame, node in zip(answer["frames"], backward_steps(out).nodes):
            frame["rule"] = node_rule(node)
    return answer


def forward(spec: Spec) -> dict[str, Any]:
    """The forward pass of the spec's graph, one op node at a time (`rules.forward_steps`)."""
    out, _ = build(spec)
    return {"steps": forward_steps(out)}


def rule(spec: Spec, node: str) -> dict[str, Any]:
    """The rule of the op circle `node` ("o4", as the drawing names it), with its inputs' nodes."""
    out, _ = build(spec)
    order = topological_order(out)
    index = int(node[1:]) if re.fullmatch(r"o\d{1,6}", str(node)) else -1
    if not 0 <= index < len(order) or not order[index].parents:
        raise PlaygroundError(f"{str(node)[:20]!r} is not an operation of this graph")
    position = {id(v): k for k, v in enumerate(order)}
    answer = node_rule(order[index])
    answer["inputs"] = [f"v{position[id(parent)]}" for parent in order[index].parents]
    return answer


def check(spec: Spec) -> dict[str, Any]:
    """Each input's grad from `backward()` beside a central difference (`rules.numeric_check`)."""
    out, leaves = build(spec)
    if spec["kind"] == "network":
        return numeric_check(_network_of, leaves)
    tree = parse(spec["expression"])
    names = [name for name, leaf in leaves.items() if leaf.requires_grad]

    def f(*values: Value) -> Value:
        return evaluate(tree, dict(zip(names, values)))

    return numeric_check(f, leaves)


# The command line's words, and Python's, as the page says them.
_PAGE_WORDS = (
    (re.compile(r"--set names"), "names given in Values"),
    (re.compile(r"bind it with --set (\w+)=NUMBER"), r"give it a value in Values, such as \1=1"),
    (re.compile(r"--set takes NAME=NUMBER"), "Values takes NAME=NUMBER"),
    (re.compile(r"choose another name for --set .*$"), "choose another name in Values"),
    (re.compile(r"--set "), ""),
    (
        re.compile(r"the expression has \d+ syntax nodes; at most \d+ are accepted"),
        f"the expression is too large: the page draws at most {MAX_OPERATIONS} operations",
    ),
    (
        re.compile(r"at most (\d+) are accepted$"),
        rf"the page takes at most \1 characters and {MAX_OPERATIONS} operations",
    ),
)


def page_message(message: str) -> str:
    """A message in the page's words (no command-line options), at most `MAX_MESSAGE` long."""
    for pattern, replacement in _PAGE_WORDS:
        message = pattern.sub(replacement, message)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return message


def handle_page(request_json: str) -> str:
    """`handle` for the page: messages in its words and capped, never Python's own text.

    Errors the playground and the expression parser raise are messages written for people;
    any other failure is named by its kind only, with what to do next.
    """
    try:
        return json.dumps(_finite({"ok": True, **_answer(request_json)}), allow_nan=False)
    except (PlaygroundError, ExpressionError) as error:
        message = page_message(str(error))
    except RecursionError:
        message = "the request is nested too deeply for the page; try a smaller expression"
    except Exception as error:  # noqa: BLE001 - the page shows every failure as a message
        message = page_message(
            f"micrograd could not compute this ({type(error).__name__}); try smaller numbers "
            "or a simpler expression, or load an example"
        )
    return json.dumps({"ok": False, "error": message})


def _finite(data: Any) -> Any:
    """`data` with each inf or nan float as the string "inf", "-inf" or "nan": JSON has none."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data


def _lesson(**args: Any) -> dict[str, Any]:
    """The lesson page's requests (`micrograd.playground.lesson.answer`), imported when asked."""
    from micrograd.playground import lesson

    return lesson.answer(**args)


_CALLS: dict[str, Callable[..., dict[str, Any]]] = {
    "graph": graph,
    "frames": explained_frames,
    "explain": explain_paths,
    "forward": forward,
    "rule": rule,
    "check": check,
    "train": train,
    "preset": lambda: {"spec": preset()},
    "lesson": _lesson,
}


def _answer(request_json: str) -> dict[str, Any]:
    """The answer to one request `{"call": NAME, "args": {...}}`; raises on a bad request."""
    if not isinstance(request_json, str) or len(request_json) > MAX_REQUEST_LENGTH:
        raise PlaygroundError(
            f"a request must be JSON text of at most {MAX_REQUEST_LENGTH:,} characters, "
            f"received {type(request_json).__name__} of length {len(request_json):,}"
        )
    request = json.loads(request_json)
    call = _CALLS.get(str(request.get("call"))) if isinstance(request, dict) else None
    if call is None:
        raise PlaygroundError(f"unknown request {request!r:.80}; known: {', '.join(_CALLS)}")
    args = request.get("args", {})
    if not isinstance(args, dict):
        raise PlaygroundError(f"a request's args must be an object, received {args!r:.80}")
    return call(**args)


def handle(request_json: str) -> str:
    """Answer one page request `{"call": NAME, "args": {...}}` with JSON, errors included.

    Every request gets an answer: a request too long or too deeply nested, or one that trips
    an error nobody expected, is `{"ok": false, "error": ...}` too, never an exception.
    """
    try:
        return json.dumps(_finite({"ok": True, **_answer(request_json)}), allow_nan=False)
    except (PlaygroundError, ExpressionError, ValueError, TypeError, ArithmeticError) as error:
        return json.dumps({"ok": False, "error": str(error)})
    except RecursionError:
        return json.dumps({"ok": False, "error": "the request is nested too deeply to read"})
    except Exception as error:  # the page shows a message for anything, never a dead end
        return json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"})
