"""The scalar autograd engine: `Value`, the graph it records, and backpropagation over it.

A `Value` holds a float and, when it was made by an op, the op and its parents (in argument
order, so `a * a` has two edges to `a`). `backward()` walks the graph in topological order with
an explicit stack, never recursion, so a graph a million ops deep is fine.

Read top to bottom: `Value` and its ops, `backward()`, the code that builds nodes, then grad
mode, the lecture's hand-written ops, and last the hooks through which anomaly detection and
tracing plug in. Primitive ops come from `micrograd.ops` and the walks from
`micrograd.autodiff`; everything here that is not a primitive (subtraction, division, square
root, ...) is written in terms of them. This module imports nothing above it: drawing is a lazy
facade (`Value.draw`), anomaly detection fills in the hooks at the end when its mode is entered.
"""

from __future__ import annotations

import copy
import math
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ContextDecorator, nullcontext
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, SupportsIndex, TypeVar, overload

from micrograd import autodiff
from micrograd.autodiff import EdgeCheck
from micrograd.numeric import is_real, to_float
from micrograd.ops import (
    ABS,
    ADD,
    CLAMP_MAX,
    CLAMP_MIN,
    COS,
    EXP,
    FLOAT_MATH,
    LOG,
    MAXIMUM,
    MINIMUM,
    MUL,
    POW,
    RELU,
    SIGMOID,
    SIN,
    SQUARE,
    TANH,
    Op,
    use_graph_math,
    user_stacklevel,
)

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
            label = _children
            _children = ()
        if isinstance(data, Value):
            raise TypeError(
                "Value() takes a real number (int or float), received a Value; "
                "use v.data for its number or v.detach() for a copy outside the graph"
            )
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, received {type(label).__name__}: {label!r}")
        if not isinstance(_op, str):
            raise TypeError(f"_op must be a str, received {type(_op).__name__}: {_op!r:.60}")
        if not isinstance(requires_grad, bool):
            raise TypeError(
                f"requires_grad must be True or False, received {type(requires_grad).__name__}: "
                f"{requires_grad!r:.60}"
            )
        self._data = to_float(data, "Value()")
        self._grad = 0.0
        self.label = label
        self.requires_grad = requires_grad
        self.parents = () if _children == () else _lecture_parents(_children)
        self.op = LectureOp(_op, self) if self.parents else None
        if self.parents and _grad_mode.anomaly and _forward_check is not None:
            _forward_check(self.op, self.parents, self)

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

        `math.sin(v)`, `math.exp(v)`, ... call this and return a plain float: the graph stops
        there and `backward()` gives a wrong gradient without a word (0.1.0 raised TypeError,
        having no `__float__`). So a Value that records a graph (`requires_grad`, grad mode on)
        warns with `GradientLostWarning`, pointing at the line; `v.item()` and `v.data` read
        the number quietly.
        """
        if _grad_mode.tracing:
            _refuse_while_tracing(self, "float()")
        if self.requires_grad and _grad_mode.enabled:
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
        if _grad_mode.tracing:
            _refuse_while_tracing(self, "item()")
        return self._data

    def numel(self) -> int:
        """How many numbers this holds: 1, so `sum(p.numel() for p in model.parameters())`
        counts a model's parameters as it does in PyTorch."""
        return 1

    def __bool__(self) -> bool:
        # Every Value is true, as any object is; defined only to refuse it while tracing.
        if _grad_mode.tracing:
            _refuse_while_tracing(self, "bool() (an `if`, `while`, `and`, `or` or `not`)")
        return True

    def __format__(self, spec: str) -> str:
        """`f"{loss:.4f}"` formats the number; an empty spec gives the repr, as str() does."""
        if not spec:
            return repr(self)
        if _grad_mode.tracing:
            _refuse_while_tracing(self, "format()")
        return format(self._data, spec)

    def __round__(self, ndigits: int | None = None) -> float:
        """`round(v, n)`: the number rounded, as a float (PyTorch keeps floats too)."""
        if _grad_mode.tracing:
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

    # Primitive ops: each is one record in micrograd.ops.

    def __add__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _apply2(ADD, self, other)
        value = _as_value(other, "+", "__radd__")
        return NotImplemented if value is None else _apply2(ADD, self, value)

    def __radd__(self, other: Number) -> Value:
        value = _as_value(other, "+", None)
        return NotImplemented if value is None else _apply2(ADD, value, self)

    def __mul__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _apply2(MUL, self, other)
        value = _as_value(other, "*", "__rmul__")
        return NotImplemented if value is None else _apply2(MUL, self, value)

    def __rmul__(self, other: Number) -> Value:
        value = _as_value(other, "*", None)
        return NotImplemented if value is None else _apply2(MUL, value, self)

    def __pow__(self, exponent: Value | Number) -> Value:
        if isinstance(exponent, Value):
            return _apply2(POW, self, exponent)
        value = _as_value(exponent, "**", "__rpow__")
        return NotImplemented if value is None else _apply2(POW, self, value)

    def __rpow__(self, base: Number) -> Value:
        value = _as_value(base, "**", None)
        return NotImplemented if value is None else _apply2(POW, value, self)

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

    def square(self) -> Value:
        """self * self, as one op (PyTorch's `square`)."""
        return _apply1(SQUARE, self)

    def maximum(self, other: Value | Number) -> Value:
        """The larger of the two, as `torch.maximum`: nan if either is nan; at a tie each
        input gets half the gradient."""
        return _apply2(MAXIMUM, self, _operand(other, "maximum"))

    def minimum(self, other: Value | Number) -> Value:
        """The smaller of the two, as `torch.minimum` (nan if either is nan; ties split)."""
        return _apply2(MINIMUM, self, _operand(other, "minimum"))

    def clamp_min(self, min: Value | Number) -> Value:
        """max(self, min), as `torch.clamp_min`: at the bound the gradient goes to self."""
        return _apply2(CLAMP_MIN, self, _operand(min, "clamp_min"))

    def clamp_max(self, max: Value | Number) -> Value:
        """min(self, max), as `torch.clamp_max`: at the bound the gradient goes to self."""
        return _apply2(CLAMP_MAX, self, _operand(max, "clamp_max"))

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

    def pow(self, exponent: Value | Number) -> Value:
        """self ** exponent, as `torch.pow` / `Tensor.pow`."""
        return _apply2(POW, self, _operand(exponent, "pow"))

    # Composite ops, written from the primitives above.

    def __neg__(self) -> Value:
        return _apply2(MUL, self, _leaf(-1.0, False))  # -x is x * -1

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

    # Gradients.

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
            check = None if _backward_check is None else _backward_check(order, seen)
            autodiff.backpropagate(order, check)

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

    # PyTorch's and micrograd 0.1.0's names for the graph's facts.

    @property
    def is_leaf(self) -> bool:
        """True for a value not made by a recorded op (PyTorch's meaning)."""
        return not self.parents

    def requires_grad_(self, requires_grad: bool = True) -> Value:
        """Set `requires_grad` in place and return self; only leaves can stop requiring grad."""
        if not isinstance(requires_grad, bool):
            raise TypeError(
                f"requires_grad must be True or False, received {type(requires_grad).__name__}"
            )
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

    # Copying and pickling keep the graph, walked iteratively as backward() does: Python's
    # default recursion through `parents` fails on a chain some thousand ops long.

    def __copy__(self) -> Value:
        copied = _new_value(Value)  # the same parents and op: a shallow copy
        for name in ("_data", "_grad", "parents", "op", "label", "requires_grad"):
            setattr(copied, name, getattr(self, name))
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        order = autodiff.topological_order(self)
        for node in order:
            if id(node) in memo:
                continue
            if type(node).__deepcopy__ is not Value.__deepcopy__:  # a Parameter copies its store
                memo[id(node)] = copy.deepcopy(node, memo)
            else:
                memo[id(node)] = _copied(node, tuple(memo[id(p)] for p in node.parents))
        for node in order:  # a leaf's grad may be a Value whose graph holds the leaf
            if type(node._grad) is not float:
                memo[id(node)]._grad = copy.deepcopy(node._grad, memo)
        copied: Value = memo[id(self)]
        return copied

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        # A leaf is pickled on its own, so a leaf shared by several pickled values (a
        # parameter) stays one object; a graph is a flat list of its op nodes.
        grad_state = (None, {"_grad": self._grad})  # set after creation: grad may refer back
        if not self.parents:
            return (_labelled_leaf, (self._data, self.requires_grad, self.label), grad_state)
        order = [node for node in autodiff.topological_order(self) if node.parents]
        index = {id(node): i for i, node in enumerate(order)}
        entries = [
            (
                node._data,
                node._grad,
                node.label,
                node.requires_grad,
                _picklable_op(node),
                tuple(index.get(id(p), p) for p in node.parents),  # int: an op node of `order`
            )
            for node in order
        ]
        return (_rebuilt_graph, (entries,))


def topological_order(root: Value) -> list[Value]:
    """Every value `root` depends on, each after all of its parents, `root` last.

    Iterative depth-first search with an explicit stack, visiting parents in argument order,
    so the order is the same on every run.
    """
    return autodiff.topological_order(root)


def _backward_with_graph(root: Value, seed: float) -> None:
    """`root.backward(create_graph=True)`: like `backward()`, but leaves' grads become Values.

    Each leaf that requires grad gets `.grad` = (its previous grad) + d root / d leaf, a Value
    with a graph, so `leaf.grad.backward()` can differentiate it again; the accumulation rule
    is `backward()`'s. Intermediate values get the float of their gradient. The leaf and its
    grad now refer to each other (a reference cycle, as in PyTorch): set `leaf.grad = 0.0`
    when done, or use the functional API instead.
    """
    order = autodiff.topological_order(root)
    nodes = [node for node in order if node.requires_grad]
    check = None if _backward_check is None else _backward_check(order, None)
    # Recorded even under no_grad(): the gradient's graph is what was asked for. Under anomaly
    # checks, the ops that build it are checked too.
    with _walk_lock, enable_grad(), checked_block() if check else nullcontext():
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
    if _grad_mode.tracing:
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
    """Wrap a plain number as a constant leaf; otherwise None or a clear TypeError.

    None means "not ours": the operator then returns NotImplemented. `reflected` names the
    reflected operator (`__radd__` for `+`) when the Value is the left operand. A type that
    defines it gets NotImplemented, so that Python gives it its turn, as numpy arrays expect;
    sequences are the exception, since their `*` means repetition and would only produce a
    confusing error. Anything else is a TypeError that says what is accepted. `reflected` is
    None when the Value is the right operand (`__radd__` itself): the other operand has had its
    turn, and NotImplemented makes Python name both types in order.
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
    if _grad_mode.enabled and any(value.requires_grad for value in inputs):
        out.parents = inputs
        out.op = op
        out.requires_grad = True
    if _grad_mode.anomaly and _forward_check is not None:
        _forward_check(op, inputs, out)
    return out


# `_apply1` and `_apply2` are `apply` spelled out for one and two inputs (every op in OPS): they
# run once per node built, and avoiding the argument tuple, the list of inputs and `any()` there
# makes building a graph about twice as fast. Operators look them up at call time, so anomaly
# detection can swap in checking versions (see the hooks below).


def _fast_apply1(op: Op, x: Value) -> Value:
    out = _new_value(Value)
    out._data = op.forward(x._data)
    out._grad = 0.0
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


def _fast_apply2(op: Op, x: Value, y: Value) -> Value:
    out = _new_value(Value)
    out._data = op.forward(x._data, y._data)
    out._grad = 0.0
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


# What the operators call; `set_apply_functions` swaps in anomaly detection's checking versions.
_apply1: Callable[[Op, Value], Value] = _fast_apply1
_apply2: Callable[[Op, Value, Value], Value] = _fast_apply2


# The op records' derivatives on Values (`Op.graph_grads`) are their rules with `m` bound to this
# namespace: each name means what it means in `micrograd.ops.FLOAT_MATH`, on Values.


def _number(x: Value | float) -> float:
    return x._data if isinstance(x, Value) else x


GRAPH_MATH = SimpleNamespace(
    name="Value",
    where=lambda condition, if_true, if_false: if_true if condition else if_false,
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
use_graph_math(GRAPH_MATH)


def _copied(node: Value, parents: tuple[Value, ...]) -> Value:
    """A copy of `node` over `parents` (its grad, if a Value, is filled in by the caller)."""
    _picklable_op(node)
    new = _new_value(Value)
    new._data, new.label, new.requires_grad = node._data, node.label, node.requires_grad
    new._grad = node._grad if type(node._grad) is float else 0.0
    new.op, new.parents = node.op, parents
    return new


def _picklable_op(node: Value) -> Op | None:
    if isinstance(node.op, LectureOp):
        raise TypeError(
            f"{node!r} was made the lecture's way (a _backward closure), which cannot be "
            "copied or pickled: its closure refers to the original nodes"
        )
    return node.op


def _labelled_leaf(data: float, requires_grad: bool, label: str) -> Value:
    """A leaf pickled by `Value.__reduce_ex__`."""
    out = _leaf(data, requires_grad)
    out.label = label
    return out


def _rebuilt_graph(entries: list[tuple[Any, ...]]) -> Value:
    """The root of a graph pickled by `Value.__reduce_ex__`."""
    nodes: list[Value] = []
    for data, grad, label, requires_grad, op, parents in entries:
        node = _new_value(Value)
        node._data, node._grad, node.label, node.requires_grad = data, grad, label, requires_grad
        node.op = op
        node.parents = tuple(nodes[p] if isinstance(p, int) else p for p in parents)
        nodes.append(node)
    return nodes[-1]


# --- Grad mode ---------------------------------------------------------------------------------


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


class GradientLostWarning(UserWarning):
    """A Value that records a graph became a plain float (`float(v)`, `math.sin(v)`)."""


# The package's mode, per thread: whether ops record a graph, trace, or check for anomalies.
_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether ops in this thread record a graph (False inside `no_grad()`)."""
    return _grad_mode.enabled


class _GradModeBlock(ContextDecorator):
    """A block, or a decorated function, that runs with grad mode set (then put back)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.previous: list[bool] = []

    def _recreate_cm(self) -> _GradModeBlock:
        return _GradModeBlock(self.enabled)  # each call of a decorated function its own block

    def __enter__(self) -> None:
        self.previous.append(_grad_mode.enabled)
        _grad_mode.enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        _grad_mode.enabled = self.previous.pop()


F = TypeVar("F", bound=Callable[..., Any])


@overload
def no_grad() -> _GradModeBlock: ...
@overload
def no_grad(func: F) -> F: ...
def no_grad(func: F | None = None) -> _GradModeBlock | F:
    """Within this block (in this thread only), ops compute values but record no graph.

    Also a decorator, as in PyTorch: `@no_grad` or `@no_grad()`.
    """
    return _grad_block(False, func, "no_grad")


@overload
def enable_grad() -> _GradModeBlock: ...
@overload
def enable_grad(func: F) -> F: ...
def enable_grad(func: F | None = None) -> _GradModeBlock | F:
    """Within this block (in this thread only), ops record a graph, even inside `no_grad()`.

    Also a decorator: `@enable_grad` or `@enable_grad()`.
    """
    return _grad_block(True, func, "enable_grad")


def _grad_block(enabled: bool, func: F | None, name: str) -> _GradModeBlock | F:
    if func is None:
        return _GradModeBlock(enabled)
    if not callable(func):
        raise TypeError(
            f"{name} takes no argument, or a function to decorate; received {func!r:.60}"
        )
    decorated: F = _GradModeBlock(enabled)(func)
    return decorated


class set_grad_enabled:  # noqa: N801 -- PyTorch's name, used as a function and a block
    """Turn graph recording on or off in this thread, as `torch.set_grad_enabled`.

    Called, it sets the mode at once: `set_grad_enabled(False)`. As a block,
    `with set_grad_enabled(False):`, it also puts the previous mode back at the end.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled takes True or False, received {mode!r:.60}")
        self.previous: bool = _grad_mode.enabled
        self.mode = mode
        _grad_mode.enabled = mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        _grad_mode.enabled = self.previous

    def __call__(self, func: F) -> F:
        """`@set_grad_enabled(False)`: the function runs with the mode; decorating it leaves
        this thread's mode as it was (as in PyTorch)."""
        _grad_mode.enabled = self.previous
        decorated: F = _GradModeBlock(self.mode)(func)
        return decorated


def is_tracing() -> bool:
    """Whether this thread is inside `micrograd.tape.trace` (Values must not become numbers)."""
    return _grad_mode.tracing


# --- Ops written the lecture's way ------------------------------------------------------------


class LectureOp:
    """The op of a node made as `Value(data, children, "tanh")` with a `_backward` closure.

    micrograd 0.1.0 and the lecture write an op as a closure that adds into its parents' grads.
    Such a node takes part in `backward()`, the walks and anomaly checks like any other: its
    local derivative for each parent is read by running the closure once with the node's grad
    set to 1 and the parents' grads set to 0 (all put back afterwards). It has no op record, so
    the tape and higher-order gradients, which need one, refuse it.
    """

    __slots__ = ("symbol", "name", "backward", "_node", "local_grads")

    symbol: str
    name: str

    def __init__(self, symbol: str, node: Value) -> None:
        self.symbol = symbol
        self.name = symbol or "custom op"
        self.backward: Callable[[], None] = _nothing_to_do
        self._node = weakref.ref(node)
        self.local_grads: tuple[Callable[..., float | Value], ...] = tuple(
            (lambda *inputs_and_out, i=i: self._local_grads()[i]) for i in range(len(node.parents))
        )

    @property
    def arity(self) -> int:
        """Number of parents of the node."""
        return len(self.local_grads)

    @property
    def graph_grads(self) -> tuple[Callable[..., Value], ...]:
        """Refused: a closure gives numbers, not a graph that can be differentiated again."""
        raise RuntimeError(self._refusal("higher-order gradients need"))

    def forward(self, *inputs: float) -> float:
        """Refused: the closure holds only the backward step, so the tape cannot replay it."""
        raise RuntimeError(self._refusal("the tape needs"))

    array_forward: None = None
    array_local_grads: tuple[()] = ()
    domain: tuple[()] = ()
    kinks: tuple[()] = ()

    def _refusal(self, what: str) -> str:
        return (
            f"node {self.symbol!r} was made the lecture's way (Value(data, children, op) with a "
            f"_backward closure): {what} an op record in micrograd.ops"
        )

    def _local_grads(self) -> list[float | Value]:
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


# --- Hooks: anomaly detection (`micrograd.anomaly`) fills these in when its mode is entered ---
# While they are None (always, in a program that never enters the mode), the engine pays one test
# per backward() call and nothing per node.

# check(op, inputs, out) on a node just made, called by `apply` and lecture nodes in the mode.
_forward_check: Callable[[Any, tuple[Value, ...], Value], None] | None = None
# backward_check(order, seen) -> an edge check for the walk, or None to run unchecked. `seen` is
# the set of the order's nodes, or None if the caller has none at hand.
_backward_check: Callable[[list[Value], set[Value] | None], EdgeCheck | None] | None = None
# The context that turns the checks on for the ops built while making a gradient graph.
_checked_block: Callable[[], AbstractContextManager[None]] | None = None


def set_hooks(
    forward_check: Callable[[Any, tuple[Value, ...], Value], None],
    backward_check: Callable[[list[Value], set[Value] | None], EdgeCheck | None],
    checked_block: Callable[[], AbstractContextManager[None]],
) -> None:
    """Install the checks of anomaly detection (see the comments above)."""
    global _forward_check, _backward_check, _checked_block
    _forward_check, _backward_check, _checked_block = forward_check, backward_check, checked_block


def set_apply_functions(
    apply1: Callable[[Op, Value], Value], apply2: Callable[[Op, Value, Value], Value]
) -> None:
    """Make every operator build its nodes with `apply1` (one input) and `apply2` (two)."""
    global _apply1, _apply2
    _apply1, _apply2 = apply1, apply2


def default_apply_functions() -> tuple[
    Callable[[Op, Value], Value], Callable[[Op, Value, Value], Value]
]:
    """The engine's own `_apply1` and `_apply2`, which never look at any mode."""
    return _fast_apply1, _fast_apply2


def backward_check(order: list[Value], seen: set[Value] | None = None) -> EdgeCheck | None:
    """The edge check a walk over `order` must run (anomaly detection's), or None."""
    return None if _backward_check is None else _backward_check(order, seen)


def checked_block() -> AbstractContextManager[None]:
    """A block in which ops are checked for anomalies (a no-op before the mode was ever used)."""
    return nullcontext() if _checked_block is None else _checked_block()


# Names other modules imported before the number policy moved to `micrograd.numeric`.
_to_float = to_float


def _check_number(data: object, where: str) -> float:
    return to_float(data, where)
