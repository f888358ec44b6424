"""Ops written the lecture's way: `LectureOp`, the op of a node made as
`Value(data, children, "tanh")` with a `_backward` closure assigned to it.

micrograd 0.1.0 and the lecture write an op as a closure that adds into its parents' grads. Such
a node takes part in `backward()`, the walks and anomaly checks like any other: its local
derivative for each parent is read by running the closure once with the node's grad set to 1 and
the parents' grads set to 0 (all put back afterwards). It has no op record, so the tape and
higher-order gradients, which need one, refuse it. The engine makes these (`Value.__init__`);
this module imports nothing of the package.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any


class LectureOp:
    """The op of a node made as `Value(data, children, "tanh")` with a `_backward` closure."""

    __slots__ = ("symbol", "name", "backward", "_node", "local_grads")

    symbol: str
    name: str

    def __init__(self, symbol: str, node: Any) -> None:
        self.symbol = symbol
        self.name = symbol or "custom op"
        self.backward: Callable[[], None] = _nothing_to_do
        self._node = weakref.ref(node)
        self.local_grads: tuple[Callable[..., Any], ...] = tuple(
            (lambda *inputs_and_out, i=i: self._local_grads()[i]) for i in range(len(node.parents))
        )

    @property
    def arity(self) -> int:
        """Number of parents of the node."""
        return len(self.local_grads)

    def grads_on(self, math: SimpleNamespace) -> tuple[Callable[..., Any], ...]:
        """Refused: a closure gives numbers, not a graph that can be differentiated again."""
        raise RuntimeError(self._refusal("higher-order gradients need"))

    def forward(self, *inputs: float) -> float:
        """Refused: the closure holds only the backward step, so the tape cannot replay it."""
        raise RuntimeError(self._refusal("the tape needs"))

    rules: None = None
    array_forward: None = None
    array_local_grads: tuple[()] = ()
    domain: tuple[()] = ()
    kinks: tuple[()] = ()

    def _refusal(self, what: str) -> str:
        return (
            f"node {self.symbol!r} was made the lecture's way (Value(data, children, op) with a "
            f"_backward closure): {what} an op record in micrograd.ops"
        )

    def _local_grads(self) -> list[Any]:
        node = self._node()
        if node is None:  # only the node holds its op, so it is alive whenever the op is used
            raise ReferenceError("the node of this LectureOp no longer exists")
        parents = node.parents
        saved_node, saved = node._grad, [parent._grad for parent in parents]
        try:
            for parent in parents:
                parent._grad = 0.0
            node._grad = 1.0
            self.backward()
            # A parent listed twice (a * a) takes the whole share at its first position.
            return [
                parent._grad if parents.index(parent) == i else 0.0
                for i, parent in enumerate(parents)
            ]
        finally:
            for parent, grad in zip(parents, saved):
                parent._grad = grad
            node._grad = saved_node

    def __repr__(self) -> str:
        return f"LectureOp({self.symbol!r})"


def _nothing_to_do() -> None:
    """A lecture node's backward step until one is assigned (0.1.0's `lambda: None`)."""
