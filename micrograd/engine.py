"""The scalar autograd engine: `Value`, the graph it records, and backpropagation over it.

A `Value` holds a float and, when it was made by an op, the op and its parents (in argument
order, so `a * a` has two edges to `a`). `backward()` walks the graph in topological order with
an explicit stack, never recursion, so a graph a million ops deep is fine.

Primitive ops come from `micrograd.ops`; everything here that is not a primitive (subtraction,
division, square root, ...) is written in terms of them. Drawing, higher-order gradients and
compiling live elsewhere, and so does anomaly detection (`micrograd.anomaly`), which builds
on this module and plugs in through the two hooks at the end of it.
"""

from __future__ import annotations

import math
import numbers
import threading
import warnings
from collections.abc import Callable, Iterator, Sized
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from micrograd.ops import (
    ABS,
    ADD,
    COS,
    EXP,
    LOG,
    MUL,
    POW,
    RELU,
    SIGMOID,
    SIN,
    TANH,
    Op,
    _user_stacklevel,
)

if TYPE_CHECKING:  # for Value.draw's annotation only; viz is imported when drawing
    from micrograd.viz import Drawing

Number = int | float


class _GradMode(threading.local):
    """Whether ops record a graph; the class attributes are each new thread's defaults.

    `tracing` is set while `micrograd.tape.trace` runs a function: turning a Value into a
    Python bool or float then raises, since the tape could not record the branch it decides.
    `anomaly` is set inside `micrograd.anomaly.detect_anomaly()`.
    """

    enabled = True
    tracing = False
    anomaly = False


class TracingError(RuntimeError):
    """A traced function did something a tape cannot record (see `micrograd.tape`)."""


# The package's mode, per thread: whether ops record a graph, trace, or check for anomalies.
# The only other module state is what anomaly detection sets through the hooks at the end of
# this file: which `_apply1` and `_apply2` the operators call, and `_recorded_sites`.
_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether ops in this thread record a graph (False inside `no_grad()`)."""
    return _grad_mode.enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block (in this thread only), ops compute values but record no graph."""
    with _grad_mode_set(False):
        yield


@contextmanager
def enable_grad() -> Iterator[None]:
    """Within this block (in this thread only), ops record a graph, even inside `no_grad()`."""
    with _grad_mode_set(True):
        yield


@contextmanager
def _grad_mode_set(enabled: bool) -> Iterator[None]:
    previous = _grad_mode.enabled
    _grad_mode.enabled = enabled
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def is_tracing() -> bool:
    """Whether this thread is inside `micrograd.tape.trace` (Values must not become numbers)."""
    return _grad_mode.tracing


def _check_number(data: object, where: str) -> float:
    # bool is an int subclass and numpy's floats are float subclasses: numbers.Real takes both.
    if isinstance(data, numbers.Real) and not isinstance(data, Value):
        return _to_float(data)
    raise TypeError(
        f"{where} takes a real number (int or float), received {type(data).__name__}: {data!r:.60}"
    )


def _to_float(number: numbers.Real) -> float:
    """float(number), but an int too large for a float is +-inf with a warning, as op results are.

    Python's float() raises OverflowError there; the numeric policy is IEEE results, not
    exceptions (`Value(1.0) / math.factorial(200)` is 0.0, as the exact quotient rounds).
    """
    try:
        return float(number)
    except OverflowError:
        result = math.inf if number > 0 else -math.inf
        kind = type(number).__name__
        warnings.warn(
            f"{'a negative' if result < 0 else 'an'} {kind} too large for a float is {result}",
            RuntimeWarning,
            stacklevel=_user_stacklevel(),
        )
        return result


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
        if not isinstance(requires_grad, bool):
            raise TypeError(
                f"requires_grad must be True or False, received {type(requires_grad).__name__}: "
                f"{requires_grad!r:.60}"
            )
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        if _grad_mode.tracing:
            _refuse_while_tracing(self, "float()")
        return self.data

    def __bool__(self) -> bool:
        # Every Value is true, as any object is; defined only to refuse it while tracing.
        if _grad_mode.tracing:
            _refuse_while_tracing(self, "bool() (an `if`, `while`, `and`, `or` or `not`)")
        return True

    # Primitive ops: each is one record in micrograd.ops.

    def __add__(self, other: Value | Number) -> Value:
        if not isinstance(other, Value):
            other = _as_value(other, "+", "__radd__")
            if other is NotImplemented:
                return NotImplemented
        return _apply2(ADD, self, other)

    def __radd__(self, other: Number) -> Value:
        other = _as_value(other, "+", None)
        return NotImplemented if other is NotImplemented else _apply2(ADD, other, self)

    def __mul__(self, other: Value | Number) -> Value:
        if not isinstance(other, Value):
            other = _as_value(other, "*", "__rmul__")
            if other is NotImplemented:
                return NotImplemented
        return _apply2(MUL, self, other)

    def __rmul__(self, other: Number) -> Value:
        other = _as_value(other, "*", None)
        return NotImplemented if other is NotImplemented else _apply2(MUL, other, self)

    def __pow__(self, exponent: Value | Number) -> Value:
        if not isinstance(exponent, Value):
            exponent = _as_value(exponent, "**", "__rpow__")
            if exponent is NotImplemented:
                return NotImplemented
        return _apply2(POW, self, exponent)

    def __rpow__(self, base: Number) -> Value:
        base = _as_value(base, "**", None)
        return NotImplemented if base is NotImplemented else _apply2(POW, base, self)

    def exp(self) -> Value:
        """e ** self."""
        return _apply1(EXP, self)

    def log(self) -> Value:
        """Natural logarithm; nan (with a RuntimeWarning) for negative input, -inf at 0."""
        return _apply1(LOG, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _apply1(TANH, self)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1 / (1 + e ** -self)."""
        return _apply1(SIGMOID, self)

    def relu(self) -> Value:
        """max(0, self), with derivative 0 at 0 as in PyTorch."""
        return _apply1(RELU, self)

    def abs(self) -> Value:
        """|self|, with derivative 0 at 0 as in PyTorch."""
        return _apply1(ABS, self)

    __abs__ = abs

    def sin(self) -> Value:
        """Sine (radians)."""
        return _apply1(SIN, self)

    def cos(self) -> Value:
        """Cosine (radians)."""
        return _apply1(COS, self)

    # Composite ops, written from the primitives above.

    def __neg__(self) -> Value:
        return _apply2(MUL, self, _leaf(-1.0, False))  # -x is x * -1

    def __pos__(self) -> Value:
        return self

    def __sub__(self, other: Value | Number) -> Value:
        other = _as_value(other, "-", "__rsub__")
        return NotImplemented if other is NotImplemented else self + (-other)  # a - b = a + (-b)

    def __rsub__(self, other: Number) -> Value:
        other = _as_value(other, "-", None)
        return NotImplemented if other is NotImplemented else other + (-self)

    def __truediv__(self, other: Value | Number) -> Value:
        other = _as_value(other, "/", "__rtruediv__")
        # a / b = a * b ** -1; b = 0 gives inf with a RuntimeWarning, as in PyTorch.
        return NotImplemented if other is NotImplemented else self * other**-1.0

    def __rtruediv__(self, other: Number) -> Value:
        other = _as_value(other, "/", None)
        return NotImplemented if other is NotImplemented else other * self**-1.0

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
        order = _depth_first(self, reset_grads=True)
        self.grad += 1.0
        # One test per call, not per node: anomaly detection is consulted only in its mode or
        # while some graph made inside detect_anomaly() is still alive.
        if _grad_mode.anomaly or _recorded_sites:
            from micrograd import anomaly  # it builds on this module, so it is imported here

            if anomaly._anomaly_checks(order):
                anomaly._backpropagate_checked(order)
                return
        _backpropagate(order)

    # micrograd 0.1.0's internal names, read by the drawing code people copy from its notebooks.

    @property
    def _prev(self) -> set[Value]:
        """The parents as a set, as micrograd 0.1.0 stored them (use `parents`: ordered)."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """The op's symbol, or '' for a leaf, as micrograd 0.1.0 stored it (use `op`)."""
        return "" if self.op is None else self.op.symbol

    def detach(self) -> Value:
        """A new leaf with the same data that does not require grad and has no graph."""
        return Value(self.data, self.label, requires_grad=False)

    def draw(self, **options: Any) -> Drawing:
        """The graph under this value as a drawing; options as for `micrograd.viz.draw_dot`."""
        from micrograd.viz import draw_dot  # lazily: drawing is not part of the core

        return draw_dot(self, **options)


def _refuse_while_tracing(value: Value, what: str) -> None:
    raise TracingError(
        f"{what} of {value!r} while tracing: a tape records ops, not Python control flow, so "
        "a branch or number taken from a Value now would be frozen into every replay; use ops "
        "such as relu() or abs() instead, or trace each branch as its own tape"
    )


def _as_value(other: object, symbol: str, reflected: str | None) -> Value:
    """Wrap a plain number as a constant leaf; otherwise NotImplemented or a clear TypeError.

    `reflected` names the reflected operator (`__radd__` for `+`) when the Value is the left
    operand. A type that defines it gets NotImplemented, so that Python gives it its turn, as
    numpy arrays expect; sequences are the exception, since their `*` means repetition and would
    only produce a confusing error. Anything else is a TypeError that says what is accepted.
    `reflected` is None when the Value is the right operand (`__radd__` itself): the other
    operand has had its turn, and NotImplemented makes Python name both types in order.
    """
    # float and int first: the ABC check below is several times slower, and they are most numbers.
    if type(other) is float or type(other) is int:
        try:
            return _leaf(float(other), False)
        except OverflowError:  # an int beyond the float range: inf, with a warning
            return _leaf(_to_float(other), False)
    if isinstance(other, Value):
        return other
    if isinstance(other, numbers.Real):
        return _leaf(_to_float(other), False)
    if reflected is None or (
        hasattr(type(other), reflected) and not isinstance(other, (str, bytes, list, tuple))
    ):
        return NotImplemented
    raise TypeError(
        f"unsupported operand for {symbol}: Value and {type(other).__name__} ({other!r:.60}); "
        "a Value combines with a Value, an int or a float"
    )


# Values made inside the engine skip `Value.__init__`: their data is already a float and their
# label empty, so the argument checks there would only cost time on every op.
_new_value = object.__new__


def _leaf(data: float, requires_grad: bool) -> Value:
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.parents = ()
    out.op = None
    out.label = ""
    out.requires_grad = requires_grad
    return out


def apply(op: Op, *inputs: Value) -> Value:
    """Apply a primitive op to values, recording the graph when any input requires grad."""
    if len(inputs) != op.arity:
        raise TypeError(f"op {op.name!r} takes {op.arity} inputs, received {len(inputs)}")
    for i, value in enumerate(inputs):
        if not isinstance(value, Value):
            raise TypeError(
                f"apply({op.name!r}, ...) takes Values, received {type(value).__name__} "
                f"for input {i}: {value!r:.60}; wrap numbers as Value(x)"
            )
    if len(inputs) == 1:
        return _apply1(op, inputs[0])
    if len(inputs) == 2:
        return _apply2(op, inputs[0], inputs[1])
    out = _leaf(op.forward(*[value.data for value in inputs]), False)
    if _grad_mode.enabled and any(value.requires_grad for value in inputs):
        out.parents = inputs
        out.op = op
        out.requires_grad = True
    if _grad_mode.anomaly:
        from micrograd.anomaly import _check_forward  # it builds on this module

        _check_forward(op, inputs, out)
    return out


# `_apply1` and `_apply2` are `apply` spelled out for one and two inputs (every op in OPS): they
# run once per node built, and avoiding the argument tuple, the list of inputs and `any()` there
# makes building a graph about twice as fast.


def _apply1(op: Op, x: Value) -> Value:
    out = _new_value(Value)
    out.data = op.forward(x.data)
    out.grad = 0.0
    out.label = ""
    if x.requires_grad and _grad_mode.enabled:
        out.parents = (x,)
        out.op = op
        out.requires_grad = True
    else:
        out.parents = ()
        out.op = None
        out.requires_grad = False
    return out


def _apply2(op: Op, x: Value, y: Value) -> Value:
    out = _new_value(Value)
    out.data = op.forward(x.data, y.data)
    out.grad = 0.0
    out.label = ""
    if (x.requires_grad or y.requires_grad) and _grad_mode.enabled:
        out.parents = (x, y)
        out.op = op
        out.requires_grad = True
    else:
        out.parents = ()
        out.op = None
        out.requires_grad = False
    return out


def _backpropagate(order: list[Value]) -> None:
    """Chain rule over `order` (a topological order) from last to first, on floats."""
    for node in reversed(order):
        parents = node.parents
        if not parents:
            continue
        grad = node.grad
        local_grads = node.op.local_grads
        # One and two inputs spelled out (every op in OPS); the general case below.
        if len(parents) == 2:
            x, y = parents
            if x.requires_grad:
                x.grad += local_grads[0](x.data, y.data, node.data) * grad
            if y.requires_grad:
                y.grad += local_grads[1](x.data, y.data, node.data) * grad
        elif len(parents) == 1:
            x = parents[0]
            if x.requires_grad:
                x.grad += local_grads[0](x.data, node.data) * grad
        else:
            inputs = [parent.data for parent in parents]
            for parent, local_grad in zip(parents, local_grads):
                if parent.requires_grad:
                    parent.grad += local_grad(*inputs, node.data) * grad


def topological_order(root: Value) -> list[Value]:
    """Every value `root` depends on, each after all of its parents, `root` last.

    Iterative depth-first search with an explicit stack, visiting parents in argument order,
    so the order is the same on every run.
    """
    return _depth_first(root, reset_grads=False)


def _depth_first(root: Value, reset_grads: bool) -> list[Value]:
    """`topological_order`, optionally zeroing the grads of intermediate values on the way.

    `backward()` zeroes them here rather than in a second pass over the order: each node is
    in the processor's cache when it is placed, which makes a difference on large graphs.
    """
    order: list[Value] = []
    # Values hash by identity, so the set holds the values themselves, not their ids.
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
                node.grad = 0.0
    return order


# Hooks for anomaly detection (`micrograd.anomaly`), the only code that calls them. Operators look
# `_apply1` and `_apply2` up at call time, so installing checking versions reaches every op while
# the functions above stay free of any test for the mode. `_recorded_sites` is anomaly
# detection's table of the nodes made inside `detect_anomaly()`: while it is empty (or before it
# is installed), `backward()` knows no checked graph is alive and takes the fast path.
_recorded_sites: Sized = ()


def _use_apply_functions(
    apply1: Callable[[Op, Value], Value], apply2: Callable[[Op, Value, Value], Value]
) -> None:
    """Make every operator build its nodes with `apply1` (one input) and `apply2` (two)."""
    global _apply1, _apply2
    _apply1, _apply2 = apply1, apply2


def _use_recorded_sites(sites: Sized) -> None:
    """Have `backward()` consult anomaly detection while `sites` is non-empty."""
    global _recorded_sites
    _recorded_sites = sites
