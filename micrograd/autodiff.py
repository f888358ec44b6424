"""The graph walks: topological order, and the two reverse walks every gradient comes from.

This module sits below the engine and imports only the op records' maths (`micrograd.ops`). It
works on any node with the engine's graph fields: `parents` (an ordered tuple), `op` (an op
record, or None for a leaf), `requires_grad`, and the float slots `_data` and `_grad` behind
`Value.data` and `Value.grad`. Nothing here recurses over a graph.

- `topological_order(root)`: iterative depth-first search, parents in argument order.
- `backpropagate(order, check)`: the in-place float walk `backward()` runs. It adds each
  parent's share into the parent's `_grad`. `check`, when given, is called once per edge after
  the addition (anomaly detection plugs in there); without it the walk pays one truth test per
  node and nothing else.
- `gradient_table(order, wrt, ...)`: one walk that keeps gradients in a table instead of in the
  nodes, on floats or, with `create_graph=True`, as Values built from the op records' rules on
  Values (`graph_grads(op)`, with the namespace `GRAPH_MATH`), so that a gradient can be
  differentiated again. `backward(create_graph=True)` and `micrograd.functional` use it; its
  `on_edge` callback lets a caller watch every edge, which is what the step-by-step drawings
  need.

Left out: forward mode, and any cache of orders between calls (a graph may change between them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from micrograd.ops import FLOAT_MATH

# check(node, position, upstream, before, after): called after input `position`'s gradient went
# from `before` to `after`, with `upstream` the gradient flowing into `node`.
EdgeCheck = Callable[[Any, int, Any, Any, Any], None]
# on_edge(node, position, parent, local, upstream): see `gradient_table`.
OnEdge = Callable[[Any, int, Any, Any, Any], None]


def _number(x: Any) -> float:
    return x if isinstance(x, (int, float)) else x._data


# The maths namespace on Values (see `micrograd.ops.FLOAT_MATH`): each name means what it means
# there, computed with the node's own ops (`x.exp()`, `x ** y`), so that a derivative is a graph.
GRAPH_MATH = SimpleNamespace(
    name="Value",
    # A branch given as a function is built only if chosen: no graph, no warning, for the other.
    where=FLOAT_MATH.where,
    eq=lambda x, y: _number(x) == _number(y),
    ge=lambda x, y: _number(x) >= _number(y),
    # The graph of a * b is kept even where a is 0 (its derivative with respect to a is b).
    mul0=lambda a, b: 0.0 if _number(a) == 0.0 and not math.isfinite(_number(b)) else a * b,
    pow=lambda x, y: x**y,
    exp=lambda x: x.exp(),
    log=lambda x: x.log(),
    recip=lambda x: x**-1.0,
    sin=lambda x: x.sin(),
    cos=lambda x: x.cos(),
    step=lambda x: FLOAT_MATH.step(_number(x)),  # piecewise constant: a float, no graph
    sign=lambda x: FLOAT_MATH.sign(_number(x)),
)


def graph_grads(op: Any) -> tuple[Callable[..., Any], ...]:
    """The op's derivative rules on Values (empty for an op written without rules)."""
    result: tuple[Callable[..., Any], ...] = op.grads_on(GRAPH_MATH)
    return result


def topological_order(root: Any) -> list[Any]:
    """Every node `root` depends on, each after all of its parents, `root` last.

    Iterative depth-first search with an explicit stack, visiting parents in argument order,
    so the order is the same on every run.
    """
    return sort_for_backward(root, reset_grads=False)[0]


def sort_for_backward(root: Any, reset_grads: bool) -> tuple[list[Any], set[Any]]:
    """`topological_order` and the set of its nodes, optionally zeroing intermediate grads.

    `backward()` zeroes them here rather than in a second pass over the order: each node is
    in the processor's cache when it is placed, which makes a difference on large graphs. The
    set lets a caller ask "is this node in the graph" in O(1) (anomaly detection does).
    """
    order: list[Any] = []
    # Nodes hash by identity, so the set holds the nodes themselves, not their ids.
    visited = {root}
    stack = [root]
    while stack:
        node = stack[-1]
        for parent in node.parents:
            if parent not in visited:
                # Descend into the first parent not yet seen; `node` is revisited after it.
                visited.add(parent)
                stack.append(parent)
                break
        else:
            # All parents are in `order` already: `node` can follow them.
            stack.pop()
            order.append(node)
            if reset_grads and node.parents:
                node._grad = 0.0
    return order, visited


def backpropagate(order: list[Any], check: EdgeCheck | None = None) -> None:
    """Chain rule over `order` (a topological order) from last to first, on floats, in place.

    Each node passes `local derivative * its grad` to every parent that requires grad, adding
    into the parent's `_grad`. With `check`, each addition is reported (see `EdgeCheck`) before
    the walk moves past the next node, so a check that raises stops the walk there.
    """
    # One truth test per node when there is no check: the edges of a node are reported when the
    # walk reaches the next node (and at the end), by `step`, which remembers the grads before.
    step = None if check is None else _edge_reporter(check)
    for node in reversed(order):
        parents = node.parents
        if not parents:
            continue
        if step:
            step(node)
        grad = node._grad
        local_grads = node.op.local_grads
        # One and two inputs spelled out (every op in OPS); the general case below.
        if len(parents) == 2:
            x, y = parents
            # Each number read once: a Parameter's is a property (micrograd.parameter).
            a, b, out = x._data, y._data, node._data
            if x.requires_grad:
                x._grad += local_grads[0](a, b, out) * grad
            if y.requires_grad:
                y._grad += local_grads[1](a, b, out) * grad
        elif len(parents) == 1:
            x = parents[0]
            if x.requires_grad:
                x._grad += local_grads[0](x._data, node._data) * grad
        else:
            inputs = [parent._data for parent in parents]
            for parent, local_grad in zip(parents, local_grads):
                if parent.requires_grad:
                    parent._grad += local_grad(*inputs, node._data) * grad
    if step:
        step(None)


def _edge_reporter(check: EdgeCheck) -> Callable[[Any], None]:
    """`step(node)`: report the edges of the node stepped before, then remember `node`'s."""
    previous: list[Any] = []  # [node, its grad, its parents' grads before its step]

    def step(node: Any) -> None:
        if previous:
            done, upstream, before = previous
            for position, parent in enumerate(done.parents):
                if parent.requires_grad:
                    check(done, position, upstream, before[position], parent._grad)
        if node is not None:
            previous[:] = [node, node._grad, [parent._grad for parent in node.parents]]

    return step


def gradient_table(
    order: list[Any],
    wrt: Sequence[Any],
    *,
    create_graph: bool = False,
    on_edge: OnEdge | None = None,
    check: EdgeCheck | None = None,
) -> list[Any]:
    """d root / d v for each v in `wrt`, root being `order[-1]`; the nodes' `_grad` untouched.

    Gradients are floats, or with `create_graph` Values (or floats while constant) built from
    each op's `graph_grads(op)`: call it with graph recording on. `wrt` may hold intermediate nodes
    as well as leaves; a node the root does not depend on gets 0.0. Only nodes on a path from a
    `wrt` node to the root get a gradient (constants that are not in `wrt` get none).

    `on_edge(node, position, parent, local, upstream)` is called for each edge that passes a
    gradient, in the order of the walk (reverse topological, then argument order): `node` passes
    `local * upstream` to `parent` (its input number `position`), where `local` is the op's local
    derivative there and `upstream` is `node`'s full gradient (final by then). The step-by-step
    drawings label their edges from it. `check` is as for `backpropagate`, with table entries.
    """
    targets = {id(v) for v in wrt}
    # Only nodes on a path from a target to the root need a gradient. Skipping the rest matters
    # most with create_graph, where every gradient computed is a new piece of graph.
    on_path: set[int] = set()
    for node in order:
        if id(node) in targets or any(id(parent) in on_path for parent in node.parents):
            on_path.add(id(node))
    # Gradients start as plain floats even with create_graph, and stay floats while they are
    # constant: multiplying by a float 1 (the seed, add's derivative) would only grow the graph.
    grads: dict[int, Any] = {}
    if order and id(order[-1]) in on_path:
        grads[id(order[-1])] = 1.0
    results: dict[int, Any] = {}
    on_values: dict[Any, tuple[Callable[..., Any], ...]] = {}  # graph_grads(op), once per op
    for node in reversed(order):
        upstream = grads.pop(id(node), None)
        if upstream is None:
            continue
        if id(node) in targets:
            results[id(node)] = upstream
        parents = node.parents
        if not parents:
            continue
        if create_graph:
            local_fns = on_values.get(node.op)
            if local_fns is None:
                local_fns = on_values[node.op] = graph_grads(node.op)
            inputs, result = parents, node
            if len(local_fns) != len(parents):
                raise RuntimeError(
                    f"create_graph needs the Value-level derivatives of op {node.op.name!r}, "
                    f"but its record has {len(local_fns)} graph_grads for {len(parents)} inputs"
                )
        else:
            local_fns = node.op.local_grads
            inputs, result = [parent._data for parent in parents], node._data
        for position, (parent, local_fn) in enumerate(zip(parents, local_fns)):
            if id(parent) not in on_path:
                continue
            local = local_fn(*inputs, result)
            if type(local) is float and local == 1.0:
                contribution = upstream
            elif type(upstream) is float and upstream == 1.0:
                contribution = local
            else:
                contribution = local * upstream
            previous = grads.get(id(parent))
            total = contribution if previous is None else previous + contribution
            grads[id(parent)] = total
            if on_edge is not None:
                on_edge(node, position, parent, local, upstream)
            if check is not None:
                check(node, position, upstream, 0.0 if previous is None else previous, total)
    return [results.get(id(v), 0.0) for v in wrt]
