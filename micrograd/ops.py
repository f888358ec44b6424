"""The primitive operations: one record per op, read by everything that runs or draws a graph.

Each `Op` holds an op's name, the symbol drawings use, its forward function and one
local-derivative function per input, three times over: on floats for the eager engine, with
`Value` operations for higher-order gradients, and on arrays for the tape's batched replay. The
array versions take the numpy module as their first argument, so this file needs the standard
library only. The eager engine, higher-order gradients, the tape compiler, the gradient checker,
the graph drawer and the op-driven tests all read these records, so adding an op is one entry in
`OPS` plus its test domain. Composite operations (subtraction, division, square root, ...) are
not here: the engine writes them from these primitives.

Numeric policy: forward functions never raise on a float. Outside an op's domain they return the
IEEE result that PyTorch float64 and numpy give (nan or +-inf) and emit a `RuntimeWarning` that
names the op and its input. Local derivatives follow the same IEEE rules but stay quiet, since
the forward pass has already warned about the input. The array versions give the same numbers
and leave warnings to numpy (which does not name the op).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from micrograd.engine import Value

INF = math.inf
NAN = math.nan

Domain = tuple[float, float]
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


@dataclass(frozen=True, slots=True)
class Op:
    """A primitive operation on floats and its local derivatives.

    `local_grads[i](*inputs, out)` is the partial derivative of the output with respect to
    input `i`, given the input values and the forward result `out`. `domain` gives, per input, a
    range where the op is smooth and finite (the tests draw inputs from it); `kinks` lists input
    values where a derivative jumps, so finite differences must keep away from them.

    `graph_grads[i](*inputs, out)` is the same derivative written with `Value` operations on
    the input Values and the output Value, so that the gradient it builds is itself a graph that
    can be differentiated again (`backward(create_graph=True)`, `micrograd.functional`). Where
    the derivative is piecewise constant (add, relu, abs) it returns a plain float. Its `.data`
    equals `local_grads[i]` on the same numbers.

    `array_forward(np, *inputs)` and `array_local_grads[i](np, *inputs, out)` are `forward` and
    `local_grads[i]` element by element on arrays, written against the numpy module `np` passed
    in (this file never imports numpy); the tape's batched replay calls them. A derivative that
    is a constant is given as that number (add's are 1.0). Without them an op still runs
    eagerly and in the tape's pure-Python replay, but not batched with numpy.
    """

    name: str
    symbol: str
    forward: Callable[..., float]
    local_grads: tuple[Callable[..., float], ...]
    domain: tuple[Domain, ...]
    kinks: tuple[float, ...] = ()
    graph_grads: tuple[Callable[..., Value | float], ...] = ()
    array_forward: Callable[..., Any] | None = None
    array_local_grads: tuple[Callable[..., Any] | float, ...] = ()

    @property
    def arity(self) -> int:
        """Number of inputs the op takes."""
        return len(self.local_grads)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.symbol!r})"


def _warn(op: str, inputs: tuple[float, ...], result: float, why: str) -> None:
    shown = ", ".join(repr(x) for x in inputs)
    warnings.warn(
        f"{op}({shown}) is {result!r}: {why}", RuntimeWarning, stacklevel=_user_stacklevel()
    )


def _outside_package(frame: FrameType | None) -> tuple[FrameType | None, int]:
    """The first frame from `frame` outwards not in this package (the user's), and its distance."""
    steps = 0
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        steps += 1
    return frame, steps


def _user_stacklevel() -> int:
    # warnings.warn's stacklevel that points at the user's line: level 1 is our caller.
    return 1 + _outside_package(sys._getframe(1))[1]


def _div(x: float, y: float) -> float:
    """IEEE division: x / 0 is +-inf (nan for 0 / 0) instead of ZeroDivisionError."""
    if y != 0.0:
        return x / y
    if x == 0.0 or x != x:
        return NAN
    return math.copysign(INF, x) * math.copysign(1.0, y)


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == int(y) and int(y) % 2 == 1


def _pow_quiet(x: float, y: float) -> float:
    """x ** y with the IEEE results of C's pow() where Python would raise or go complex."""
    try:
        return math.pow(x, y)
    except ValueError:
        if x == 0.0:  # 0 ** negative
            return math.copysign(INF, x) if _is_odd_integer(y) else INF
        return NAN  # negative base, non-integer exponent
    except OverflowError:
        return -INF if x < 0 and _is_odd_integer(y) else INF


def _pow(x: float, y: float) -> float:
    result = _pow_quiet(x, y)
    # The result is checked first: it is finite almost always, so one test instead of three.
    if not math.isfinite(result) and math.isfinite(x) and math.isfinite(y):
        if x == 0.0:
            why = "zero to a negative power"
        elif result != result:
            why = "a negative base to a non-integer power has no real value"
        else:
            why = "the result overflows a float"
        _warn("pow", (x, y), result, why)
    return result


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        _warn("exp", (x,), INF, "the result overflows a float (exp is finite for x < 709.78)")
        return INF


def _log_quiet(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -INF
    return NAN  # negative, or nan


def _log(x: float) -> float:
    result = _log_quiet(x)
    if x <= 0.0:
        _warn("log", (x,), result, "log is defined for x > 0")
    return result


def _add(x: float, y: float) -> float:
    out = x + y
    if out - out != 0.0 and math.isfinite(x) and math.isfinite(y):  # only inf/nan fail this
        _warn("add", (x, y), out, "the result overflows a float")
    return out


def _mul(x: float, y: float) -> float:
    out = x * y
    if out - out != 0.0 and math.isfinite(x) and math.isfinite(y):
        _warn("mul", (x, y), out, "the result overflows a float")
    return out


def _sigmoid(x: float) -> float:
    # Each branch calls exp on a non-positive number, so neither overflows.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _relu(x: float) -> float:
    # `x <= 0` is False for nan, so nan passes through as it does in PyTorch.
    return 0.0 if x <= 0.0 else x


def _trig(name: str, fn: Callable[[float], float]) -> Callable[[float], float]:
    def forward(x: float) -> float:
        if math.isinf(x):
            _warn(name, (x,), NAN, f"{name} of an infinity is undefined")
            return NAN
        return fn(x)

    forward.__name__ = f"_{name}"
    return forward


def _sign(x: float) -> float:
    # sign(0) = 0, the subgradient PyTorch uses for abs at 0; PyTorch also gives 0 for nan.
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


def _pow_grad_base(x: float, y: float, out: float) -> float:
    if y == 0.0:
        return 0.0  # x ** 0 is constant, even at x = 0 where x ** -1 is inf
    return y * _pow_quiet(x, y - 1.0)


def _pow_grad_exponent(x: float, y: float, out: float) -> float:
    if x == 0.0 and y >= 0.0:
        return 0.0  # the limit PyTorch uses; log(0) would give 0 * -inf = nan
    return out * _log_quiet(x)


# Value-level derivatives of pow. They mirror the float ones above, including the special cases,
# and use plain numbers where an input is a constant so that x ** 2 does not grow a graph for
# its exponent.
def _pow_graph_grad_base(x: Value, y: Value, out: Value) -> Value | float:
    if not y.requires_grad:
        return 0.0 if y.data == 0.0 else y.data * x ** (y.data - 1.0)
    if y.data == 0.0 and not math.isfinite(_pow_quiet(x.data, -1.0)):
        return 0.0  # as in the float version: y * x ** (y - 1) would be 0 * inf (or nan)
    return y * x ** (y - 1.0)


def _pow_graph_grad_exponent(x: Value, y: Value, out: Value) -> Value | float:
    if x.data == 0.0 and y.data >= 0.0:
        return 0.0
    if not x.requires_grad:
        return out * _log_quiet(x.data)
    return out * x.log()


# Array versions that take more than one numpy call. The tape calls the derivatives with numpy's
# warnings off, as the float derivatives are quiet: the forward pass has warned about the input.


def _sigmoid_array(np: Any, x: Any) -> Any:
    e = np.exp(-np.abs(x))  # never overflows, as in the float version
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _pow_array_grad_base(np: Any, x: Any, y: Any, out: Any) -> Any:
    return np.where(y == 0.0, 0.0, y * np.power(x, y - 1.0))


def _pow_array_grad_exponent(np: Any, x: Any, y: Any, out: Any) -> Any:
    return np.where((x == 0.0) & (y >= 0.0), 0.0, out * np.log(x))


def _sign_array(np: Any, x: Any, out: Any) -> Any:
    return np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0))  # 0 at 0 and nan, as `_sign`


# Derivatives that read the same on floats and on Values are written once, for both
# `local_grads` and `graph_grads`; the others differ (special cases, math vs Value methods).
_ADD_GRADS = (lambda x, y, out: 1.0, lambda x, y, out: 1.0)
_MUL_GRADS = (lambda x, y, out: y, lambda x, y, out: x)
_EXP_GRADS = (lambda x, out: out,)
_TANH_GRADS = (lambda x, out: 1.0 - out * out,)
_SIGMOID_GRADS = (lambda x, out: out * (1.0 - out),)


ADD = Op(
    "add",
    "+",
    forward=_add,
    local_grads=_ADD_GRADS,
    graph_grads=_ADD_GRADS,
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    array_forward=lambda np, x, y: x + y,
    array_local_grads=(1.0, 1.0),
)
MUL = Op(
    "mul",
    "*",
    forward=_mul,
    local_grads=_MUL_GRADS,
    graph_grads=_MUL_GRADS,
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    array_forward=lambda np, x, y: x * y,
    array_local_grads=(lambda np, x, y, out: y, lambda np, x, y, out: x),
)
POW = Op(
    "pow",
    "**",
    forward=_pow,
    local_grads=(_pow_grad_base, _pow_grad_exponent),
    graph_grads=(_pow_graph_grad_base, _pow_graph_grad_exponent),
    domain=((0.1, 5.0), (-3.0, 3.0)),
    array_forward=lambda np, x, y: np.power(x, y),
    array_local_grads=(_pow_array_grad_base, _pow_array_grad_exponent),
)
EXP = Op(
    "exp",
    "exp",
    forward=_exp,
    local_grads=_EXP_GRADS,
    graph_grads=_EXP_GRADS,
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.exp(x),
    array_local_grads=(lambda np, x, out: out,),
)
LOG = Op(
    "log",
    "log",
    forward=_log,
    local_grads=(lambda x, out: _div(1.0, x),),
    graph_grads=(lambda x, out: x**-1.0,),
    domain=((0.01, 100.0),),
    array_forward=lambda np, x: np.log(x),
    array_local_grads=(lambda np, x, out: 1.0 / x,),
)
TANH = Op(
    "tanh",
    "tanh",
    forward=math.tanh,
    local_grads=_TANH_GRADS,
    graph_grads=_TANH_GRADS,
    domain=((-5.0, 5.0),),
    array_forward=lambda np, x: np.tanh(x),
    array_local_grads=(lambda np, x, out: 1.0 - out * out,),
)
# A primitive rather than 1 / (1 + exp(-x)): one node instead of four in drawings, and a forward
# pass that cannot overflow for large negative x.
SIGMOID = Op(
    "sigmoid",
    "σ",
    forward=_sigmoid,
    local_grads=_SIGMOID_GRADS,
    graph_grads=_SIGMOID_GRADS,
    domain=((-10.0, 10.0),),
    array_forward=_sigmoid_array,
    array_local_grads=(lambda np, x, out: out * (1.0 - out),),
)
RELU = Op(
    "relu",
    "ReLU",
    forward=_relu,
    # relu'(0) = 0 as in PyTorch, which also passes the gradient through at nan (out <= 0 fails).
    local_grads=(lambda x, out: 0.0 if out <= 0.0 else 1.0,),
    graph_grads=(lambda x, out: 0.0 if out.data <= 0.0 else 1.0,),
    domain=((-10.0, 10.0),),
    kinks=(0.0,),
    array_forward=lambda np, x: np.where(x <= 0.0, 0.0, x),
    array_local_grads=(lambda np, x, out: np.where(out <= 0.0, 0.0, 1.0),),
)
ABS = Op(
    "abs",
    "abs",
    forward=abs,
    local_grads=(lambda x, out: _sign(x),),
    graph_grads=(lambda x, out: _sign(x.data),),
    domain=((-10.0, 10.0),),
    kinks=(0.0,),
    array_forward=lambda np, x: np.abs(x),
    array_local_grads=(_sign_array,),
)
SIN = Op(
    "sin",
    "sin",
    forward=_trig("sin", math.sin),
    local_grads=(lambda x, out: math.cos(x) if math.isfinite(x) else NAN,),
    graph_grads=(lambda x, out: x.cos(),),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.sin(x),
    array_local_grads=(lambda np, x, out: np.cos(x),),
)
COS = Op(
    "cos",
    "cos",
    forward=_trig("cos", math.cos),
    local_grads=(lambda x, out: -math.sin(x) if math.isfinite(x) else NAN,),
    graph_grads=(lambda x, out: -x.sin(),),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.cos(x),
    array_local_grads=(lambda np, x, out: -np.sin(x),),
)

OPS: dict[str, Op] = {
    op.name: op for op in (ADD, MUL, POW, EXP, LOG, TANH, SIGMOID, RELU, ABS, SIN, COS)
}
