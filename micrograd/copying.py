"""Copying and pickling a graph of Values, for `Value.__copy__`, `__deepcopy__` and `__reduce_ex__`.

`copy.copy(v)` shares the graph; `copy.deepcopy(v)` and `pickle` keep it whole. Both walk the
topological order the engine passes in, never recursing: Python's default recursion through
`parents` fails on a chain some thousand ops long. A leaf is pickled on its own, so a leaf
shared by several pickled values (a parameter) stays one object; a graph is a flat list of its
op nodes, each pointing at its op record (pickled by name). A node made the lecture's way (a
`_backward` closure) is refused: its closure refers to the original nodes.

Works on any node with the engine's fields; the class to build is passed in, so this module
imports nothing of the package but `LectureOp`.
"""

from __future__ import annotations

import copy
from typing import Any

from micrograd.lecture import LectureOp

_FIELDS = ("_data", "_grad", "parents", "op", "label", "requires_grad")


def shallow_copy(node: Any, cls: type) -> Any:
    """A new `cls` node with the same data, grad, parents and op as `node`."""
    copied: Any = object.__new__(cls)
    for name in _FIELDS:
        setattr(copied, name, getattr(node, name))
    return copied


def deep_copy(order: list[Any], memo: dict[int, Any], cls: type) -> Any:
    """A copy of the graph of `order` (a topological order, root last), as `copy.deepcopy`."""
    own_copy = getattr(cls, "__deepcopy__", None)
    for node in order:
        if id(node) in memo:
            continue
        if getattr(type(node), "__deepcopy__", None) is not own_copy:  # a Parameter, with its store
            memo[id(node)] = copy.deepcopy(node, memo)
        else:
            memo[id(node)] = _copied(node, tuple(memo[id(p)] for p in node.parents), cls)
    for node in order:  # a leaf's grad may be a Value whose graph holds the leaf
        if type(node._grad) is not float:
            memo[id(node)]._grad = copy.deepcopy(node._grad, memo)
    return memo[id(order[-1])]


def reduce(order: list[Any], cls: type) -> tuple[Any, ...]:
    """What `__reduce_ex__` returns for the root of `order` (a topological order, root last)."""
    root = order[-1]
    grad_state = (None, {"_grad": root._grad})  # set after creation: grad may refer back
    if not root.parents:
        return (rebuilt_leaf, (cls, root._data, root.requires_grad, root.label), grad_state)
    nodes = [node for node in order if node.parents]
    index = {id(node): i for i, node in enumerate(nodes)}
    entries = [
        (
            node._data,
            node._grad,
            node.label,
            node.requires_grad,
            _picklable_op(node),
            tuple(index.get(id(p), p) for p in node.parents),  # int: an op node of `nodes`
        )
        for node in nodes
    ]
    return (rebuilt_graph, (cls, entries))


def rebuilt_leaf(cls: type, data: float, requires_grad: bool, label: str) -> Any:
    """A leaf pickled by `reduce`."""
    leaf: Any = object.__new__(cls)
    leaf._data, leaf._grad, leaf.label, leaf.requires_grad = data, 0.0, label, requires_grad
    leaf.op, leaf.parents = None, ()
    return leaf


def rebuilt_graph(cls: type, entries: list[tuple[Any, ...]]) -> Any:
    """The root of a graph pickled by `reduce`."""
    nodes: list[Any] = []
    for data, grad, label, requires_grad, op, parents in entries:
        node: Any = object.__new__(cls)
        node._data, node._grad, node.label, node.requires_grad = data, grad, label, requires_grad
        node.op = op
        node.parents = tuple(nodes[p] if isinstance(p, int) else p for p in parents)
        nodes.append(node)
    return nodes[-1]


def _copied(node: Any, parents: tuple[Any, ...], cls: type) -> Any:
    """A copy of `node` over `parents` (its grad, if a Value, is filled in by the caller)."""
    _picklable_op(node)
    new: Any = object.__new__(cls)
    new._data, new.label, new.requires_grad = node._data, node.label, node.requires_grad
    new._grad = node._grad if type(node._grad) is float else 0.0
    new.op, new.parents = node.op, parents
    return new


def _picklable_op(node: Any) -> Any:
    if isinstance(node.op, LectureOp):
        raise TypeError(
            f"{node!r} was made the lecture's way (a _backward closure), which cannot be "
            "copied or pickled: its closure refers to the original nodes"
        )
    return node.op
