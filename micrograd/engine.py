"""The scalar autograd engine: `Value`, the graph it records, and backpropagation over it.

A `Value` holds a float and, when it was made by an op, the op and its parents (in argument
order, so `a * a` has two edges to `a`). `backward()` walks the graph in topological order with
an explicit stack, never recursion, so a graph a million ops deep is fine.

Read top to bottom: the slots, the primitive ops (each a record of `micrograd.ops`), the ops
written from them, `backward()`; then numbers, comparisons, PyTorch's and 0.1.0's names, and the
functions that build nodes. Left out, each in a module below: the walks (`autodiff`), grad mode,
tracing and anomaly's hooks (`grad_mode`), the lecture's ops (`lecture`), copying and pickling
(`copying`). Nothing above is imported: drawing is a lazy facade (`Value.draw`).
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, SupportsIndex

from micrograd import autodiff, copying, grad_mode, ops
from micrograd.autodiff import (
    topological_order as topological_order,
)  # re-exported: a public name here
from micrograd.grad_mode import GradientLostWarning, TracingError, enable_grad, state
from micrograd.lecture import LectureOp
from micrograd.numeric import flag, is_real, to_float
from micrograd.ops import Op, user_stacklevel

if TYPE_CHECKING:  # for Value.draw's annotation only; viz is imported when drawing
    from micrograd.viz import Drawing

Number = int | float


class Value:
    """A scalar in a computation graph: its data, its gradient, and how it was computed.

    `Value(data, label="")` makes a leaf. micrograd 0.1.0's constructor also works:
    `Value(data, _children=(a, b), _op="+", label="c")` makes a node whose backward step is the
    `_backward` closure you assign to it (see docs/guide/coming-from-0.1.0.md); the
    second argument is told apart by its type (a str is a label).
    """

    # `_data` and `_grad` sit behind the `data` and `grad` properties, which check what is
    # assigned; the engine and the walks read the slots directly, so that check costs them nothing.
    __slots__ = ("_data", "_grad", "parents", "op", "label", "requires_grad", "__weakref__")

    _data: float
    _grad: float | Value  # a Value only after backward(create_graph=True)
    parents: tuple[Value, ...]
    op: Op | LectureOp | None
    label: str
    requires_grad: bool

    def __init__(
        self,
        data: Number,
        _children: Iterable[Value] | str = (),
        _op: str = "",
        label: str = "",
        *,
        requires_grad: bool = True,
    ) -> None:
        if isinstance(_children, str):  # Value(data, "label"): the second argument is a label
            if label:
                raise TypeError(f"Value() got two labels: {_children!r} and label={label!r}")
            label, _children = _children, ()
        _check_arguments(data, _op, label, requires_grad)
        self._data = to_float(data, "Value()")
        self._grad = 0.0
        self.label = label
        self.requires_grad = requires_grad
        self.parents = () if _children == () else _lecture_parents(_children)
        self.op = LectureOp(_op, self) if self.parents else None
        if self.parents and grad_mode.forward_check is not None:
            grad_mode.forward_check(self.op, self.parents, self)

    # Primitive ops: each is one record in micrograd.ops.

    def __add__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _apply2(ops.ADD, self, other)
        value = _as_value(other, "+", "__radd__")
        return NotImplemented if value is None else _apply2(ops.ADD, self, value)

    def __radd__(self, other: Number) -> Value:
        value = _as_value(other, "+", None)
        return NotImplemented if value is None else _apply2(ops.ADD, value, self)

    def __mul__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _apply2(ops.MUL, self, other)
        value = _as_value(other, "*", "__rmul__")
        return NotImplemented if value is None else _apply2(ops.MUL, self, value)

    def __rmul__(self, other: Number) -> Value:
        value = _as_value(other, "*", None)
        return NotImplemented if value is None else _apply2(ops.MUL, value, self)

    def __pow__(self, exponent: Value | Number) -> Value:
        if isinstance(exponent, Value):
            return _apply2(ops.POW, self, exponent)
        value = _as_value(exponent, "**", "__rpow__")
        return NotImplemented if value is None else _apply2(ops.POW, self, value)

    def __rpow__(self, base: Number) -> Value:
        value = _as_value(base, "**", None)
        return NotImplemented if value is None else _apply2(ops.POW, value, self)

    def exp(self) -> Value:
        """e ** self."""
        return _apply1(ops.EXP, self)

    def log(self) -> Value:
        """Natural logarithm; nan (with a RuntimeWarning) for negative input, -inf at 0."""
        return _apply1(ops.LOG, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _apply1(ops.TANH, self)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1 / (1 + e ** -self)."""
        return _apply1(ops.SIGMOID, self)

    def relu(self) -> Value:
        """max(0, self), with derivative 0 at 0 as in PyTorch."""
        return _apply1(ops.RELU, self)

    def abs(self) -> Value:
        """|self|, with derivative 0 at 0 as in PyTorch."""
        return _apply1(ops.ABS, self)

    __abs__ = abs

    def sin(self) -> Value:
        """Sine (radians)."""
        return _apply1(ops.SIN, self)

    def cos(self) -> Value:
        """Cosine (radians)."""
        return _apply1(ops.COS, self)

    def square(self) -> Value:
        """self * self, as one op (PyTorch's `square`)."""
        return _apply1(ops.SQUARE, self)

    def maximum(self, other: Value | Number) -> Value:
        """The larger of the two, as `torch.maximum`: nan if either is nan; at a tie each
        input gets half the gradient."""
        return _apply2(ops.MAXIMUM, self, _operand(other, "maximum"))

    def minimum(self, other: Value | Number) -> Value:
        """The smaller of the two, as `torch.minimum` (nan if either is nan; ties split)."""
        return _apply2(ops.MINIMUM, self, _operand(other, "minimum"))

    def clamp_min(self, min: Value | Number) -> Value:
        """max(self, min), as `torch.clamp_min`: at the bound the gradient goes to self."""
        return _apply2(ops.CLAMP_MIN, self, _operand(min, "clamp_min"))

    def clamp_max(self, max: Value | Number) -> Value:
        """min(self, max), as `torch.clamp_max`: at the bound the gradient goes to self."""
        return _apply2(ops.CLAMP_MAX, self, _operand(max, "clamp_max"))

    def pow(self, exponent: Value | Number) -> Value:
        """self ** exponent, as `torch.pow` / `Tensor.pow`."""
        return _apply2(ops.POW, self, _operand(exponent, "pow"))

    # Composite ops, written from the primitives above.

    def __neg__(self) -> Value:
        return _apply2(ops.MUL, self, _leaf(-1.0, False))  # -x is x * -1

    def __pos__(self) -> Value:
        return self

    def __sub__(self, other: Value | Number) -> Value:
        value = _as_value(other, "-", "__rsub__")
        return NotImplemented if value is None else self + (-value)  # a - b = a + (-b)

    def __rsub__(self, other: Number) -> Value:
        value = _as_value(other, "-", None)
        return NotImplemented if value is None else value + (-self)

    def __truediv__(self, other: Value | Number) -> Value:
        value = _as_value(other, "/", "__rtruediv__")
        # a / b = a * b ** -1; b = 0 gives inf with a RuntimeWarning, as in PyTorch.
        return NotImplemented if value is None else self * value**-1.0

    def __rtruediv__(self, other: Number) -> Value:
        value = _as_value(other, "/", None)
        return NotImplemented if value is None else value * self**-1.0

    def sqrt(self) -> Value:
        """Square root, written as self ** 0.5."""
        return self**0.5

    def clamp(self, min: Value | Number | None = None, max: Value | Number | None = None) -> Value:
        """self limited to [min, max], as `torch.clamp` (either bound may be None, not both).

        The gradient is 1 for min <= self <= max (the bounds included) and 0 outside; with
        min > max the result is max, as in PyTorch.
        """
        if min is None and max is None:
            raise ValueError("clamp needs at least one of min and max; received neither")
        out = self if min is None else self.clamp_min(min)
        return out if max is None else out.clamp_max(max)  # clamp_max(clamp_min(x)), as torch

    clip = clamp  # PyTorch's alias

    # Backpropagation.

    def backward(
        self,
        gradient: Number | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Fill in `grad` of every value this one depends on, by reverse-mode differentiation.

        Sets `self.grad` to 1 (or `gradient`) and walks the graph in reverse topological order.
        Gradients of intermediate values are recomputed from scratch on every call; gradients
        of leaves (values made by `Value(...)`, such as parameters) accumulate, as in PyTorch.
        So calling `backward()` twice doubles the leaves' grads, and zeroing the leaves in
        between (`model.zero_grad()`) reproduces the first result exactly.

        `retain_graph` is accepted for PyTorch's sake: graphs are always kept here. With
        `create_graph=True` the leaves' grads become Values with a graph of their own, so
        they can be differentiated again (see `micrograd.functional`). Calls from several
        threads are serialised, so leaves they share get the exact sum.
        """
        if not self.requires_grad:
            called = "backward(create_graph=True)" if create_graph else "backward()"
            raise RuntimeError(
                f"{called} called on {self!r}, which has no graph: it was computed under "
                "no_grad(), from constants only, or detached"
            )
        seed = 1.0 if gradient is None else to_float(gradient, "backward(gradient)")
        if create_graph:
            return _backward_with_graph(self, seed)
        # One lock for every walk: `parent._grad += ...` is not atomic, and a leaf shared by
        # graphs in several threads must get every share (taken once per call, not per edge).
        with _walk_lock:
            order, seen = autodiff.sort_for_backward(self, reset_grads=True)
            self._grad += seed
            # None unless anomaly detection is on or a graph made inside it is alive here.
            check = grad_mode.backward_check(order, seen)
            autodiff.backpropagate(order, check)

    @property
    def data(self) -> float:
        """The number this value holds (a float; what is assigned is checked and converted)."""
        return self._data

    @data.setter
    def data(self, value: Number) -> None:
        # Converted, so a numpy float32 cannot turn later arithmetic into float32.
        self._data = value if type(value) is float else to_float(value, "Value.data")

    @property
    def grad(self) -> Any:
        """d root / d self after `root.backward()`: a float (a Value after create_graph=True)."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if type(value) is float or isinstance(value, Value):
            self._grad = value
        elif value is None:
            raise TypeError(
                "Value.grad cannot be None here: a grad is a number that backward() adds into; "
                "reset it with v.grad = 0.0 (zero_grad() does)"
            )
        else:
            self._grad = to_float(value, "Value.grad")

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data!r}, grad={self._grad!r}{label})"

    # Turning a Value into a plain number, as PyTorch's scalar tensors do. Each refuses while
    # tracing, since the tape could not record what the number then decides.

    def __float__(self) -> float:
        """The number, as PyTorch's float(t) gives it; warns if a gradient could be lost here.

        `math.sin(v)` and friends call this, so the graph stops there and `backward()` would be
        silently wrong: a Value that records a graph warns `GradientLostWarning` at the user's
        line. `v.item()` and `v.data` read the number quietly.
        """
        if state.tracing:
            _refuse_while_tracing(self, "float()")
        if self.requires_grad and state.enabled:
            warnings.warn(
                f"float() of {self!r}, which is part of a graph, is a plain number with no "
                "gradient: math.sin(v) and friends call it, so what they return drops out of "
                "backward(). Use v.sin(), v.exp(), ... to keep the gradient, or v.item() to "
                "read the number",
                GradientLostWarning,
                stacklevel=user_stacklevel(),
            )
        return self._data

    def item(self) -> float:
        """The number as a Python float, as `tensor.item()` gives it."""
        if state.tracing:
            _refuse_while_tracing(self, "item()")
        return self._data

    def numel(self) -> int:
        """How many numbers this holds: 1, so `sum(p.numel() for p in model.parameters())`
        counts a model's parameters as it does in PyTorch."""
        return 1

    def __bool__(self) -> bool:
        # Every Value is true, as any object is; defined only to refuse it while tracing.
        if state.tracing:
            _refuse_while_tracing(self, "bool() (an `if`, `while`, `and`, `or` or `not`)")
        return True

    def __format__(self, spec: str) -> str:
        """`f"{loss:.4f}"` formats the number; an empty spec gives the repr, as str() does."""
        if not spec:
            return repr(self)
        if state.tracing:
            _refuse_while_tracing(self, "format()")
        return format(self._data, spec)

    def __round__(self, ndigits: int | None = None) -> float:
        """`round(v, n)`: the number rounded, as a float (PyTorch keeps floats too)."""
        if state.tracing:
            _refuse_while_tracing(self, "round()")
        if ndigits is None:
            return float(round(self._data)) if math.isfinite(self._data) else self._data
        return round(self._data, ndigits)

    # Ordering compares the numbers, as for PyTorch scalars (`loss < best`, `max(a, b)`). `==`
    # is not defined: it stays identity, so that Values can be set members and dict keys (the
    # graph walks rely on that) and `a == b` never silently means "same number".

    def __lt__(self, other: Value | Number) -> bool:
        other = _number_to_compare(self, other, "<")
        return NotImplemented if other is NotImplemented else self._data < other

    def __le__(self, other: Value | Number) -> bool:
        other = _number_to_compare(self, other, "<=")
        return NotImplemented if other is NotImplemented else self._data <= other

    def __gt__(self, other: Value | Number) -> bool:
        other = _number_to_compare(self, other, ">")
        return NotImplemented if other is NotImplemented else self._data > other

    def __ge__(self, other: Value | Number) -> bool:
        other = _number_to_compare(self, other, ">=")
        return NotImplemented if other is NotImplemented else self._data >= other

    # micrograd 0.1.0's backward step of one node, and its other names for the graph's facts.

    @property
    def _backward(self) -> Callable[[], None]:
        """One backward step, as in micrograd 0.1.0: pass this node's grad to its parents.

        Each parent that requires grad gets `local derivative * self.grad` added to its grad,
        so `o.grad = 1.0` then `node._backward()` for each node in reverse topological order
        gives the gradients `backward()` gives (from zeroed grads). A no-op on leaves.
        """
        if type(self.op) is LectureOp:
            return self.op.backward
        return self._push_grad

    @_backward.setter
    def _backward(self, step: Callable[[], None]) -> None:
        if not callable(step):
            raise TypeError(f"_backward must be a function, received {type(step).__name__}")
        if type(self.op) is not LectureOp:
            made = "a leaf" if self.op is None else f"made by the op {self.op.name!r}"
            raise AttributeError(
                f"_backward can be assigned only to a node made as Value(data, children, op); "
                f"{self!r} is {made}"
            )
        self.op.backward = step

    def _push_grad(self) -> None:
        # The float walk over this one node (it skips a leaf): the same chain rule as backward().
        with _walk_lock:
            autodiff.backpropagate([self])

    @property
    def is_leaf(self) -> bool:
        """True for a value not made by a recorded op (PyTorch's meaning)."""
        return not self.parents

    def requires_grad_(self, requires_grad: bool = True) -> Value:
        """Set `requires_grad` in place and return self; only leaves can stop requiring grad."""
        flag(requires_grad, "requires_grad")
        if self.op is not None and not requires_grad:
            raise RuntimeError(
                f"requires_grad_(False) on {self!r}, made by op {self.op.name!r}: only a leaf's "
                "flag can change; use detach() for a copy outside the graph"
            )
        self.requires_grad = requires_grad
        return self

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
        return _constant(self._data, self.label)

    def draw(self, **options: Any) -> Drawing:
        """The graph under this value as a drawing; options as for `micrograd.viz.draw_dot`."""
        from micrograd.viz import draw_dot  # a documented facade: drawing is not part of the core

        return draw_dot(self, **options)

    # Copying and pickling keep the graph (see `micrograd.copying`).

    def __copy__(self) -> Value:
        copied: Value = copying.shallow_copy(self, Value)  # the same parents and op
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        copied: Value = copying.deep_copy(autodiff.topological_order(self), memo, Value)
        return copied

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        return copying.reduce(autodiff.topological_order(self), Value)


def _backward_with_graph(root: Value, seed: float) -> None:
    """`root.backward(create_graph=True)`: each leaf's grad += d root / d leaf, as a Value whose
    graph can be differentiated again; intermediate values get the float. The leaf and its grad
    now refer to each other (as in PyTorch): set `leaf.grad = 0.0` when done, or use
    `micrograd.functional`."""
    order = autodiff.topological_order(root)
    nodes = [node for node in order if node.requires_grad]
    check = grad_mode.backward_check(order, None)
    # Recorded even under no_grad(): the gradient's graph is what was asked for. Under anomaly
    # checks, the ops that build it are checked too.
    with _walk_lock, enable_grad(), grad_mode.checked_block() if check else nullcontext():
        grads = autodiff.gradient_table(order, nodes, create_graph=True, check=check)
        for node, gradient in zip(nodes, grads):
            if seed != 1.0:
                gradient = gradient * seed
            if type(gradient) is float:
                gradient = _constant(gradient)
            if node.parents:
                node._grad = gradient._data
            elif type(node._grad) is float and node._grad == 0.0:
                node._grad = gradient
            else:
                node._grad = node._grad + gradient


_walk_lock = threading.RLock()


# --- Building nodes ----------------------------------------------------------------------------


def _refuse_while_tracing(value: Value, what: str) -> None:
    raise TracingError(
        f"{what} of {value!r} while tracing: a tape records ops, not Python control flow, so "
        "a branch or number taken from a Value now would be frozen into every replay; use ops "
        "such as relu() or abs() instead, or trace each branch as its own tape"
    )


def _number_to_compare(value: Value, other: object, symbol: str) -> float:
    if state.tracing:
        _refuse_while_tracing(value, f"comparison {symbol}")
    if isinstance(other, Value):
        return other._data
    return to_float(other) if is_real(other) else NotImplemented


def _operand(other: object, name: str) -> Value:
    """A named method's other operand: a Value, or a real number as a constant leaf."""
    if isinstance(other, Value):
        return other
    if is_real(other):
        return _leaf(to_float(other), False)
    raise TypeError(
        f"{name} takes a Value or a real number, received {type(other).__name__}: {other!r:.60}"
    )


def _as_value(other: object, symbol: str, reflected: str | None) -> Value | None:
    """Wrap a plain number as a constant leaf; otherwise None ("not ours": NotImplemented).

    `reflected` names the reflected operator (`__radd__` for `+`) when the Value is the left
    operand: a type that defines it (numpy arrays) gets its turn, except sequences, whose `*`
    repeats; anything else is a TypeError saying what is accepted. As the right operand
    (`reflected` None) it is None, so that Python names both types in order.
    """
    # float and int first: the ABC check below is several times slower, and they are most numbers.
    if type(other) is float or type(other) is int:
        try:
            return _leaf(float(other), False)
        except OverflowError:  # an int beyond the float range: inf, with a warning
            return _leaf(to_float(other), False)
    if isinstance(other, Value):
        return other
    if is_real(other):
        return _leaf(to_float(other), False)
    if reflected is None or (
        hasattr(type(other), reflected) and not isinstance(other, (str, bytes, list, tuple))
    ):
        return None
    raise TypeError(
        f"unsupported operand for {symbol}: Value and {type(other).__name__} ({other!r:.60}); "
        "a Value combines with a Value, an int or a float"
    )


# Values made inside the engine skip `Value.__init__`: their data is already a float and their
# label empty, so the argument checks there would only cost time on every op.
_new_value = object.__new__


def _leaf(data: float, requires_grad: bool) -> Value:
    out = _new_value(Value)
    out._data = data
    out._grad = 0.0
    out.parents = ()
    out.op = None
    out.label = ""
    out.requires_grad = requires_grad
    return out


def _constant(data: float, label: str = "") -> Value:
    out = _leaf(data, False)
    out.label = label
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
    out = _leaf(op.forward(*[value._data for value in inputs]), False)
    if state.enabled and any(value.requires_grad for value in inputs):
        out.parents = inputs
        out.op = op
        out.requires_grad = True
    if grad_mode.forward_check is not None:
        grad_mode.forward_check(op, inputs, out)
    return out


# `_apply1` and `_apply2` are `apply` spelled out for one and two inputs (every op in OPS): they
# run once per node built, and avoiding the argument tuple, the list of inputs and `any()` there
# makes building a graph about twice as fast. `forward_check` is None unless a thread is inside
# `detect_anomaly()`.


def _apply1(op: Op, x: Value) -> Value:
    out = _new_value(Value)
    out._data = op.forward(x._data)
    out._grad = 0.0
    out.label = ""
    if x.requires_grad and state.enabled:
        out.parents = (x,)
        out.op = op
        out.requires_grad = True
    else:
        out.parents = ()
        out.op = None
        out.requires_grad = False
    if grad_mode.forward_check is not None:
        grad_mode.forward_check(op, (x,), out)
    return out


def _apply2(op: Op, x: Value, y: Value) -> Value:
    out = _new_value(Value)
    out._data = op.forward(x._data, y._data)
    out._grad = 0.0
    out.label = ""
    if (x.requires_grad or y.requires_grad) and state.enabled:
        out.parents = (x, y)
        out.op = op
        out.requires_grad = True
    else:
        out.parents = ()
        out.op = None
        out.requires_grad = False
    if grad_mode.forward_check is not None:
        grad_mode.forward_check(op, (x, y), out)
    return out


def _check_arguments(data: object, op: object, label: object, requires_grad: object) -> None:
    """`Value()`'s argument checks (the number itself is checked by `to_float`)."""
    if isinstance(data, Value):
        raise TypeError(
            "Value() takes a real number (int or float), received a Value; "
            "use v.data for its number or v.detach() for a copy outside the graph"
        )
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, received {type(label).__name__}: {label!r}")
    if not isinstance(op, str):
        raise TypeError(f"_op must be a str, received {type(op).__name__}: {op!r:.60}")
    flag(requires_grad, "requires_grad")


def _lecture_parents(children: Iterable[Value]) -> tuple[Value, ...]:
    try:
        parents = tuple(children)
    except TypeError:
        raise TypeError(
            f"Value()'s second argument is a label (str) or the children (Values), received "
            f"{type(children).__name__}: {children!r:.60}"
        ) from None
    for i, parent in enumerate(parents):
        if not isinstance(parent, Value):
            raise TypeError(f"Value() children must be Values, child {i} is {parent!r:.60}")
    return parents
