"""The chain rule written out: every path from one input to the output, and its product.

`explain(E, w5)` lists each path along which `w5` reaches `E`, the local derivative of every
edge on it (read from the op records, as `backward()` does), their product, and the sum of the
products, which is the gradient `backward()` gives. Between labelled values the local
derivatives are grouped into one factor (`∂net_o1/∂w5`), so a labelled network reads like a
textbook decomposition. It computes, it does not change any grad; walking the graph is
iterative. Drawing lives in `viz`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from micrograd.engine import Value, topological_order
from micrograd.numeric import count

__all__ = ["ChainPath", "ChainRule", "bracketed", "explain"]

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ChainPath:
    """One path from `wrt` to the output: its nodes, each edge's local derivative, product."""

    nodes: tuple[Value, ...]
    local_grads: tuple[float, ...]
    product: float
    factors: tuple[tuple[str, float], ...]
    """(name such as "∂out_o1/∂net_o1", value): local derivatives grouped between labelled
    values, from the output down to `wrt`."""

    @property
    def formula(self) -> str:
        """The factors as a product of named derivatives."""
        return " · ".join(name for name, _ in self.factors) or "1"

    def numbers(self, digits: int = 9) -> str:
        """The factors as a product of numbers, with the result."""
        shown = " × ".join(f"{value:.{digits}g}" for _, value in self.factors) or "1"
        return f"{shown} = {self.product:.{digits}g}"


@dataclass(frozen=True)
class ChainRule:
    """All paths from `wrt` to `output`, and `total`, the sum of their products (the grad)."""

    output_name: str
    wrt_name: str
    paths: list[ChainPath]
    total: float

    @property
    def formula(self) -> str:
        """∂output/∂wrt as the sum over paths of products of named derivatives."""
        terms = [f"({p.formula})" if len(self.paths) > 1 else p.formula for p in self.paths]
        whole = f"∂{bracketed(self.output_name)}/∂{bracketed(self.wrt_name)}"
        return f"{whole} = " + (" + ".join(terms) or "0")

    def __str__(self) -> str:
        lines = [
            f"∂{self.output_name}/∂{self.wrt_name}: {len(self.paths)} path"
            f"{'s' if len(self.paths) != 1 else ''} from {self.wrt_name} to {self.output_name}"
        ]
        for k, path in enumerate(self.paths, start=1):
            lines.append(f"  path {k}: {' → '.join(_shown(n) for n in path.nodes)}")
            for name, value in path.factors:
                lines.append(f"    {name:<28} = {value:.9g}")
            lines.append(f"    product {'':<20} = {path.numbers()}")
        lines.append(f"  sum of the products = {self.total:.9g}")
        lines.append(f"  {self.formula}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: paths with node names, local grads, factors, products; total."""
        return {
            "output": self.output_name,
            "wrt": self.wrt_name,
            "paths": [
                {
                    "nodes": [_shown(n) for n in path.nodes],
                    "local_grads": list(path.local_grads),
                    "factors": [{"name": name, "value": value} for name, value in path.factors],
                    "product": path.product,
                    "formula": path.formula,
                }
                for path in self.paths
            ],
            "total": self.total,
            "formula": self.formula,
        }


# Path counts above this are reported as "more than" it (beyond max_paths when that is larger).
_COUNT_CAP = 10**12


def explain(output: Value, wrt: Value, *, max_paths: int = 1000) -> ChainRule:
    """Every path from `wrt` to `output` with its local derivatives, products and their sum."""
    if not isinstance(output, Value) or not isinstance(wrt, Value):
        raise TypeError(
            f"explain takes two Values (output, wrt), received {type(output).__name__} and "
            f"{type(wrt).__name__}"
        )
    max_paths = count(max_paths, "max_paths", 1)
    order = topological_order(output)
    index = {id(node): i for i, node in enumerate(order)}
    if id(wrt) not in index:
        raise ValueError(
            f"{_name(wrt, 'wrt')} is not part of the graph of {_name(output, 'the output')}: "
            "the output does not depend on it"
        )
    # consumers[i]: (child index, argument position) of every edge leaving node i.
    consumers: list[list[tuple[int, int]]] = [[] for _ in order]
    for i, node in enumerate(order):
        for position, parent in enumerate(node.parents):
            consumers[index[id(parent)]].append((i, position))
    # Count the paths first (`reaching`: to the output, from each node), so a huge graph is
    # refused early. Counts stop at `cap`: a chain of n doublings has 2**n paths, and exact big
    # integers made refusing a 200,000-node graph take seconds (and overflow int-to-text).
    cap = max(max_paths, _COUNT_CAP) + 1
    reaching = [0] * len(order)
    reaching[-1] = 1
    for i in reversed(range(len(order) - 1)):
        reaching[i] = min(cap, sum(reaching[child] for child, _ in consumers[i]))
    start = index[id(wrt)]
    if reaching[start] > max_paths:
        many = f"more than {cap - 1:,}" if reaching[start] == cap else f"{reaching[start]:,}"
        raise ValueError(
            f"{many} paths lead from {_name(wrt, 'wrt')} to "
            f"{_name(output, 'the output')}, over max_paths={max_paths}; explain a smaller "
            "graph, or pass a larger max_paths="
        )
    locals_cache: dict[tuple[int, int], float] = {}

    def local(child: int, position: int) -> float:
        key = (child, position)
        if key not in locals_cache:
            node = order[child]
            if node.op is None:
                raise TypeError(
                    f"explain reads local derivatives from op records; {_shown_plain(node)} "
                    "has none (it was built with a _backward closure), so its paths cannot be "
                    "listed"
                )
            inputs = [p.data for p in node.parents]
            locals_cache[key] = float(node.op.local_grads[position](*inputs, node.data))
        return locals_cache[key]

    paths: list[ChainPath] = []
    # Depth-first over edges with an explicit stack: (node, path nodes, edge grads so far).
    stack: list[tuple[int, tuple[int, ...], tuple[float, ...]]] = [(start, (start,), ())]
    while stack:
        i, nodes, grads = stack.pop()
        if i == len(order) - 1:
            paths.append(_path([order[j] for j in nodes], grads, output, wrt))
            continue
        for child, position in reversed(consumers[i]):
            if reaching[child]:
                stack.append((child, nodes + (child,), grads + (local(child, position),)))
    total = math.fsum(p.product for p in paths) if paths else 0.0
    return ChainRule(_name(output, "output"), _name(wrt, "x"), paths, total)


def _path(nodes: list[Value], grads: tuple[float, ...], output: Value, wrt: Value) -> ChainPath:
    product = 1.0
    for g in grads:
        product *= g
    factors = []
    lower, value = 0, 1.0
    for k in range(1, len(nodes)):
        value *= grads[k - 1]
        if nodes[k].label or k == len(nodes) - 1:
            upper = bracketed(_name(nodes[k], "output" if nodes[k] is output else "·"))
            factors.append((f"∂{upper}/∂{bracketed(_name(nodes[lower], 'x'))}", value))
            lower, value = k, 1.0
    # Output first, as the chain rule is usually written: ∂E/∂out · ∂out/∂net · ∂net/∂w.
    return ChainPath(tuple(nodes), grads, product, tuple(reversed(factors)))


def bracketed(label: str) -> str:
    """`label` as one factor of a formula: in brackets unless a plain name or one call."""
    if _PLAIN_NAME.match(label) or _is_call(label):
        return label
    return f"({label})"


def _is_call(label: str) -> bool:
    # "tanh(a + b)" is one factor; "exp(a) * exp(b)" is not, though it ends with ")".
    opening = label.find("(")
    if opening <= 0 or not _PLAIN_NAME.match(label[:opening]) or not label.endswith(")"):
        return False
    depth = 0
    for k, char in enumerate(label[opening:], start=opening):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return k == len(label) - 1
    return False


def _name(node: Value, fallback: str) -> str:
    return node.label or fallback


def _shown(node: Value) -> str:
    """A node in a path: its label, else its op symbol in brackets, else its number."""
    if node.label:
        return node.label
    if node.parents:
        return f"({node.op.symbol})" if node.op is not None else "(?)"
    return f"{node.data:.4g}"


def _shown_plain(node: Value) -> str:
    return node.label or f"the value {node.data:.6g}"
