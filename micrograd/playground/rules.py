"""What the playground says about each step: the op's rule in symbols and with the numbers.

For an op node `out = op(x)` or `op(x, y)` this writes the forward step (`out = tanh(x) =
tanh(0.8814) = 0.7071`) and, for each input, the local derivative as the op record states it
(`micrograd.ops.Op.notation`, never a second copy) with the numbers put in, and what the
backward pass passes on (`∂out/∂x × out.grad`). The numbers are the engine's: the value of the
derivative is the record's own rule run on floats, as `backward()` runs it. It also compares
every gradient with central differences (`micrograd.gradcheck`). JSON-ready dicts throughout;
`glue` serves them to the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from micrograd.engine import Value, topological_order
from micrograd.explain import bracketed
from micrograd.gradcheck import gradcheck, numerical_grad
from micrograd.ops import Op

_INPUT_NAMES = ("x", "y")
# ASCII word boundaries: "x²" is the input x squared, though ² is a word character to Unicode.
_NAME = re.compile(r"\b(x|y)\b", re.ASCII)


def number(x: float) -> str:
    """A number as the page writes it in a rule: six significant digits."""
    return f"{x:.6g}"


def node_name(v: Value) -> str:
    """How the page names a value: its label, else the op that made it, else its number."""
    if v.label:
        return v.label
    if v.op is not None:
        return f"the {v.op.symbol} node"
    return number(v.data)


def forward_formula(node: Value) -> str:
    """The op as a formula of its inputs x (and y), written from its record's symbol.

    An operator symbol stays an operator (`x * y`; `x²`, after its input as a superscript is
    read); a symbol that is a name is called (`tanh(x)`, `σ(x)`, `max(x, y)`); one that is
    neither (`clamp≥`, a drawing's shorthand) gives way to the op's name, which is also the
    function an expression calls (`clamp_min(x, y)`).
    """
    op = node.op
    assert op is not None  # only op nodes have a rule
    inputs = ", ".join(_INPUT_NAMES[: op.arity])
    if not any(char.isalpha() for char in op.symbol):
        return f"x {op.symbol} y" if op.arity == 2 else f"x{op.symbol}"
    return f"{op.symbol if op.symbol.isidentifier() else op.name}({inputs})"


def _with_numbers(text: str, inputs: Sequence[float]) -> str:
    def put(match: re.Match[str]) -> str:
        shown = number(inputs[_INPUT_NAMES.index(match.group(1))])
        before, after = text[: match.start()], text[match.end() : match.end() + 1]
        # A whole argument of a call, tanh(x) or max(x, y), reads right as it is: tanh(-1.5).
        if before.endswith(("(", ", ")) and after in (")", ","):
            return shown
        # Elsewhere a sign, or an exponent right before a postfix ² (1e+06²), would read as
        # part of what is around it: 2 * (-3), (-1.5)².
        postfix = after not in ("", " ", ",", ")")
        return f"({shown})" if shown.startswith("-") or (postfix and "e" in shown) else shown

    return _NAME.sub(put, text)


def node_rule(node: Value) -> dict[str, Any]:
    """The forward and backward rule of one op node, in symbols and with its numbers."""
    op = node.op
    assert isinstance(op, Op)  # the page's graphs are made of op records only
    inputs = [p.data for p in node.parents]
    formula = forward_formula(node)
    derivatives = []
    for position, (name, text) in enumerate(zip(_INPUT_NAMES, op.notation)):
        local = float(op.local_grads[position](*inputs, node.data))
        passed = local * node.grad
        filled = _with_numbers(text, inputs)
        derivatives.append(
            {
                "wrt": name,
                "position": position,
                "symbols": f"∂out/∂{name} = {text}",
                # Nothing to fill in for a constant rule (add's 1): no second "= 1".
                "numbers": "" if filled == text else f"= {filled} = {number(local)}",
                "local": local,
                "upstream": node.grad,
                "passed": passed,
                "chain": (
                    f"{name}.grad += ∂out/∂{name} × out.grad = {number(local)} × "
                    f"{number(node.grad)} = {number(passed)}"
                ),
            }
        )
    return {
        "op": op.name,
        "out": node_name(node),
        "forward": f"out = {formula} = {_with_numbers(formula, inputs)} = {number(node.data)}",
        "where": ", ".join(
            f"{name} = {bracketed(parent.label)} = {number(parent.data)}"
            if parent.label
            else f"{name} = {number(parent.data)}"
            for name, parent in zip(_INPUT_NAMES, node.parents)
        ),
        "derivatives": derivatives,
    }


def forward_steps(out: Value) -> list[dict[str, Any]]:
    """The forward pass, one op node at a time in the order it is computed.

    Each step names the Graphviz nodes computed so far (`done`, as `build_dot` names them: `vK`
    a value, `oK` the op circle that made it), the op circle of this step, and its rule.
    """
    order = topological_order(out)
    done = [f"v{k}" for k, v in enumerate(order) if not v.parents]
    op_nodes = [k for k, v in enumerate(order) if v.parents]
    steps = []
    for count, k in enumerate(op_nodes, start=1):
        node = order[k]
        done += [f"o{k}", f"v{k}"]
        rule = node_rule(node)
        steps.append(
            {
                "title": f"forward step {count} of {len(op_nodes)}: {node_name(node)} "
                f"({node.op.symbol if node.op else '?'})",
                "node": f"o{k}",
                "done": list(done),
                "rule": rule,
            }
        )
    return steps


def numeric_check(
    f: Callable[..., Value], leaves: dict[str, Value], eps: float = 1e-6
) -> dict[str, Any]:
    """Each leaf's grad from `backward()` beside its central difference (f takes the leaves).

    `leaves` must hold their grads from one `backward()` of `f` at their data. The verdict is
    `gradcheck`'s, with its default tolerances.
    """
    names = [name for name, leaf in leaves.items() if leaf.requires_grad]
    point = [leaves[name].data for name in names]
    estimates = numerical_grad(f, point, eps)
    rows = [
        {
            "name": name,
            "backward": leaves[name].grad,
            "central": estimate,
            "difference": abs(leaves[name].grad - estimate),
        }
        for name, estimate in zip(names, estimates)
    ]
    agrees = gradcheck(f, point, eps=eps, raise_exception=False)
    return {
        "eps": eps,
        "rows": rows,
        "agrees": agrees,
        "formula": f"(f(x + h) - f(x - h)) / 2h with h = {eps:g}",
    }
