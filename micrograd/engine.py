"""The scalar autograd engine: `Value`, the graph it records, and backpropagation over it.

A `Value` holds a float and, when it was made by an op, the op and its parents (in argument
order, so `a * a` has two edges to `a`). `backward()` walks the graph in topological order with
an explicit stack, never recursion, so a graph a million ops deep is fine.

Primitive ops come from `micrograd.ops`; everything here that is not a primitive (subtraction,
division, square root, ...) is written in terms of them. Drawing, higher-order gradients and
compiling live elsewhere.
"""

from __future__ import annotations

import numbers
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from micrograd.ops import ABS, ADD, COS, EXP, LOG, MUL, POW, RELU, SIGMOID, SIN, TANH, Op

if TYPE_CHECKING:  # for Value.draw's annotation only; viz is imported when drawing
    from micrograd.viz import Drawing

Number = int | float

# The only global mutable state in the package: whether ops record a graph, per thread.
_grad_mode = threading.local()


def is_grad_enabled() -> bool:
    """Whether ops in this thread record a graph (False inside `no_grad()`)."""
    return getattr(_grad_mode, "enabled", True)


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block (in this thread only), ops compute values but record no graph."""
    previous = is_grad_enabled()
    _grad_mode.enabled = False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def _check_number(data: object, where: str) -> float:
    # bool is an int subclass and numpy's floats are float subclasses: numbers.Real takes both.
    if isinstance(data, numbers.Real) and not isinstance(data, Value):
        return float(data)
    raise TypeError(
        f"{where} takes a real number (int or float), received {type(data).__name__}: {data!r:.60}"
    )


class Value:
    """A scalar in a computation graph: its data, its gradient, and how it was computed."""

    __slots__ = ("data", "grad", "parents", "op", "label", "requires_grad", "__weakref__")

    data: float
    grad: float
    parents: tuple[Value, ...]
    op: Op | None
    label: str
    requires_grad: bool

    def __init__(self, data: Number, label: str = "", *, requires_grad: bool = True) -> None:
        if isinstance(data, Value):
            raise TypeError(
                "Value() takes a real number (int or float), received a Value; "
                "use v.data for its number or v.detach() for a copy outside the graph"
            )
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, received {type(label).__name__}: {label!r}")
        self.data = _check_number(data, "Value()")
        self.grad = 0.0
        self.parents = ()
        self.op = None
        self.label = label
        self.requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    # Primitive ops: each is one record in micrograd.ops.

    def __add__(self, other: Value | Number) -> Value:
        other = _as_value(other, "+", "__radd__")
        return NotImplemented if other is NotImplemented else apply(ADD, self, other)

    def __radd__(self, other: Number) -> Value:
        other = _as_value(other, "+", None)
        return apply(ADD, other, self)

    def __mul__(self, other: Value | Number) -> Value:
        other = _as_value(other, "*", "__rmul__")
        return NotImplemented if other is NotImplemented else apply(MUL, self, other)

    def __rmul__(self, other: Number) -> Value:
        other = _as_value(other, "*", None)
        return apply(MUL, other, self)

    def __pow__(self, exponent: Value | Number) -> Value:
        exponent = _as_value(exponent, "**", "__rpow__")
        return NotImplemented if exponent is NotImplemented else apply(POW, self, exponent)

    def __rpow__(self, base: Number) -> Value:
        base = _as_value(base, "**", None)
        return apply(POW, base, self)

    def exp(self) -> Value:
        """e ** self."""
        return apply(EXP, self)

    def log(self) -> Value:
        """Natural logarithm; nan (with a RuntimeWarning) for negative input, -inf at 0."""
        return apply(LOG, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return apply(TANH, self)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1 / (1 + e ** -self)."""
        return apply(SIGMOID, self)

    def relu(self) -> Value:
        """max(0, self), with derivative 0 at 0 as in PyTorch."""
        return apply(RELU, self)

    def abs(self) -> Value:
        """|self|, with derivative 0 at 0 as in PyTorch."""
        return apply(ABS, self)

    __abs__ = abs

    def sin(self) -> Value:
        """Sine (radians)."""
        return apply(SIN, self)

    def cos(self) -> Value:
        """Cosine (radians)."""
        return apply(COS, self)

    # Composite ops, written from the primitives above.

    def __neg__(self) -> Value:
        return self * -1.0  # -x is x * -1

    def __pos__(self) -> Value:
        return self

    def __sub__(self, other: Value | Number) -> Value:
        other = _as_value(other, "-", "__rsub__")
        return NotImplemented if other is NotImplemented else self + (-other)  # a - b = a + (-b)

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other, "-", None) + (-self)

    def __truediv__(self, other: Value | Number) -> Value:
        other = _as_value(other, "/", "__rtruediv__")
        # a / b = a * b ** -1; b = 0 gives inf with a RuntimeWarning, as in PyTorch.
        return NotImplemented if other is NotImplemented else self * other**-1.0

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other, "/", None) * self**-1.0

    def sqrt(self) -> Value:
        """Square root, written as self ** 0.5."""
        return self**0.5

    # Gradients.

    def backward(self, *, create_graph: bool = False) -> None:
        """Fill in `grad` of every value this one depends on, by reverse-mode differentiation.

        Sets `self.grad` to 1 and walks the graph in reverse topological order. Gradients of
        intermediate values are recomputed from scratch on every call; gradients of leaves
        (values made by `Value(...)`, such as parameters) accumulate, as in PyTorch. So calling
        `backward()` twice doubles the leaves' grads, and zeroing the leaves in between
        (`model.zero_grad()`) reproduces the first result exactly.

        With `create_graph=True` the leaves' grads become Values with a graph of their own, so
        they can be differentiated again (see `micrograd.functional`).
        """
        if create_graph:
            from micrograd.functional import backward_with_graph  # functional imports engine

            return backward_with_graph(self)
        if not self.requires_grad:
            raise RuntimeError(
                f"backward() called on {self!r}, which has no graph: it was computed under "
                "no_grad(), from constants only, or detached"
            )
        order = topological_order(self)
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(order):
            if not node.parents:
                continue
            inputs = [parent.data for parent in node.parents]
            for parent, local_grad in zip(node.parents, node.op.local_grads):
                if parent.requires_grad:
                    parent.grad += local_grad(*inputs, node.data) * node.grad

    def detach(self) -> Value:
        """A new leaf with the same data that does not require grad and has no graph."""
        return Value(self.data, self.label, requires_grad=False)

    def draw(self, **options: Any) -> Drawing:
        """The graph under this value as a drawing; options as for `micrograd.viz.draw_dot`."""
        from micrograd.viz import draw_dot  # lazily: drawing is not part of the core

        return draw_dot(self, **options)


def _as_value(other: object, symbol: str, reflected: str | None) -> Value:
    """Wrap a plain number as a constant leaf; reject anything else with a clear TypeError.

    For a type that defines the reflected operator (`__radd__` for `+`, ...), return
    NotImplemented so that Python gives it its turn, as numpy arrays expect. Sequences are the
    exception: their `*` means repetition, which would only produce a confusing error.
    """
    if isinstance(other, Value):
        return other
    if isinstance(other, numbers.Real):
        return Value(float(other), requires_grad=False)
    if (
        reflected is not None
        and hasattr(type(other), reflected)
        and not isinstance(other, (str, bytes, list, tuple))
    ):
        return NotImplemented
    raise TypeError(
        f"unsupported operand for {symbol}: Value and {type(other).__name__} ({other!r:.60}); "
        "a Value combines with a Value, an int or a float"
    )


def apply(op: Op, *inputs: Value) -> Value:
    """Apply a primitive op to values, recording the graph when any input requires grad."""
    out = Value.__new__(Value)
    out.data = op.forward(*[value.data for value in inputs])
    out.grad = 0.0
    out.label = ""
    if is_grad_enabled() and any(value.requires_grad for value in inputs):
        out.parents = inputs
        out.op = op
        out.requires_grad = True
    else:
        out.parents = ()
        out.op = None
        out.requires_grad = False
    return out


def topological_order(root: Value) -> list[Value]:
    """Every value `root` depends on, each after all of its parents, `root` last.

    Iterative depth-first search with an explicit stack, visiting parents in argument order,
    so the order is the same on every run.
    """
    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in visited:
                stack.append((parent, False))
    return order
