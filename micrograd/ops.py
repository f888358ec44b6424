"""The primitive operations: one record per op, read by everything that runs or draws a graph.

Each `Op` holds an op's name, the symbol drawings use, its forward function and one
derivative rule per input. A rule is written once, as a function of the inputs and the result
`out` that does its maths through the name `m` (`m.cos(x)`, `m.where(...)`): a small maths
namespace. The rule as written runs on floats (`m` is `FLOAT_MATH` here); the same code with `m`
bound to another namespace gives the other versions when they are first needed:

- `local_grads`: floats, for `backward()`, the tape's Python replay, gradcheck, the step frames;
- `graph_grads`: `Value`s, for higher-order gradients (the engine passes its namespace in with
  `use_graph_math`, so this file never imports the engine);
- `array_local_grads`: numpy arrays, for the tape's batched replay (numpy is passed in as the
  first argument, so this file needs the standard library only).

A rule may call only what every namespace has (see `FLOAT_MATH`), plus `+ - *` and literals.
Where a special case reads badly or costs time on floats, a record may carry an explicit fast
float version beside its rules (`local_grads=`); the tests check that it equals the rule. Composite
operations (subtraction, division, square root, ...) are not here: the engine writes them from
these primitives.

Numeric policy: forward functions never raise on a float. Outside an op's domain they return the
IEEE result that PyTorch float64 and numpy give (nan or +-inf) and emit a `RuntimeWarning` that
names the op and its input. Derivatives follow the same IEEE rules but stay quiet, since the
forward pass has already warned about the input. The array versions give the same numbers and
leave warnings to numpy (which does not name the op).
"""

from __future__ import annotations

import builtins
import math
import os
import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType, SimpleNamespace
from typing import Any

INF = math.inf
NAN = math.nan

Domain = tuple[float, float]
Rule = Callable[..., Any] | float
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


# --- Where a warning points: the user's line, not ours ------------------------------------------


def outside_package(frame: FrameType | None) -> tuple[FrameType | None, int]:
    """The first frame from `frame` outwards not in this package (the user's), and its distance."""
    steps = 0
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        steps += 1
    return frame, steps


def user_stacklevel() -> int:
    """`warnings.warn`'s stacklevel that points at the first line of user code calling us."""
    # Level 1 is our caller.
    return 1 + outside_package(sys._getframe(1))[1]


def _warn(op: str, inputs: tuple[float, ...], result: float, why: str) -> None:
    shown = ", ".join(repr(x) for x in inputs)
    warnings.warn(
        f"{op}({shown}) is {result!r}: {why}", RuntimeWarning, stacklevel=user_stacklevel()
    )


# --- Float maths: quiet IEEE versions (for derivatives) and warning forwards ---------------------


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


def _log_quiet(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -INF
    return NAN  # negative, or nan


def _exp_quiet(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def _sign(x: float) -> float:
    # sign(0) = 0, the subgradient PyTorch uses for abs at 0; PyTorch also gives 0 for nan.
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


def _quiet_trig(fn: Callable[[float], float]) -> Callable[[float], float]:
    return lambda x: fn(x) if math.isfinite(x) else NAN  # math.sin(inf) raises


# The maths a rule may use. Every namespace has these names with the same meaning: FLOAT_MATH
# on floats, `array_math(np)` element by element on arrays, and the engine's on Values.
FLOAT_MATH = SimpleNamespace(
    name="float",
    where=lambda condition, if_true, if_false: if_true if condition else if_false,
    eq=lambda x, y: x == y,
    ge=lambda x, y: x >= y,
    # a * b, but 0 where a is 0 even if b is inf or nan: the limit PyTorch takes for x ** 0.
    mul0=lambda a, b: 0.0 if a == 0.0 else a * b,
    pow=_pow_quiet,
    exp=_exp_quiet,
    log=_log_quiet,
    recip=lambda x: _div(1.0, x),
    sin=_quiet_trig(math.sin),
    cos=_quiet_trig(math.cos),
    # relu's derivative: 0 at and below 0, 1 above and at nan (as PyTorch passes nan through).
    step=lambda x: 0.0 if x <= 0.0 else 1.0,
    sign=_sign,
)
m = FLOAT_MATH  # the name rules are written against; see the module docstring


def array_math(np: Any) -> SimpleNamespace:
    """The maths namespace on arrays of the numpy module `np` (this file never imports numpy)."""
    return SimpleNamespace(
        name="array",
        where=np.where,
        eq=np.equal,
        ge=np.greater_equal,
        mul0=lambda a, b: np.where(a == 0.0, 0.0, a * b),
        pow=np.power,
        exp=np.exp,
        log=np.log,
        recip=lambda x: 1.0 / x,
        sin=np.sin,
        cos=np.cos,
        step=lambda x: np.where(x <= 0.0, 0.0, 1.0),
        sign=lambda x: np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0)),  # 0 at nan, as `_sign`
    )


# --- Deriving a rule's versions -----------------------------------------------------------------

_namespace_globals: dict[int, dict[str, Any]] = {}


def specialise(rule: Rule, math: SimpleNamespace, arity: int) -> Callable[..., Any]:
    """The rule's code with `m` bound to `math`: the same function on another kind of number.

    A rule given as a constant (add's 1.0) becomes a function of `arity` inputs and `out`.
    """
    if not callable(rule):
        return _constant_function(rule, arity)
    scope = _namespace_globals.get(id(math))
    if scope is None:
        scope = _namespace_globals[id(math)] = {"m": math, "__builtins__": builtins}
    return types.FunctionType(
        rule.__code__, scope, rule.__name__, rule.__defaults__, rule.__closure__
    )


def _constant_function(value: float, arity: int) -> Callable[..., float]:
    # Spelled out for one and two inputs (every op in OPS): they run once per edge.
    if arity == 1:
        return lambda x, out: value
    if arity == 2:
        return lambda x, y, out: value
    return lambda *inputs_and_out: value


def _array_version(rule: Rule, arity: int) -> Callable[..., Any] | float:
    """`rule` on arrays, taking the numpy module first, as the tape calls it."""
    if not callable(rule):
        return rule  # a constant derivative stays a number: the tape passes gradients through
    versions: dict[int, Callable[..., Any]] = {}

    def on_arrays(np: Any, *inputs_and_out: Any) -> Any:
        version = versions.get(id(np))
        if version is None:
            version = versions[id(np)] = specialise(rule, _array_math_of(np), arity)
        return version(*inputs_and_out)

    return on_arrays


_array_maths: dict[int, SimpleNamespace] = {}


def _array_math_of(np: Any) -> SimpleNamespace:
    math_ = _array_maths.get(id(np))
    if math_ is None:
        math_ = _array_maths[id(np)] = array_math(np)
    return math_


# The namespace on Values, given by the engine when it loads (see `use_graph_math`), and the ops
# made before that, whose `graph_grads` are derived then.
_graph_math: list[SimpleNamespace] = []
_waiting_for_graph_math: list[Op] = []


def use_graph_math(math: SimpleNamespace) -> None:
    """Set the maths namespace on Values that `Op.graph_grads` is derived with (the engine's)."""
    _graph_math[:] = [math]
    for op in _waiting_for_graph_math:
        assert op.grads is not None  # only ops with rules wait (Op.__post_init__)
        object.__setattr__(op, "graph_grads", _derive(op.grads, math))
    _waiting_for_graph_math.clear()


def _derive(rules: tuple[Rule, ...], math: SimpleNamespace) -> tuple[Callable[..., Any], ...]:
    return tuple(specialise(rule, math, len(rules)) for rule in rules)


@dataclass(frozen=True, eq=False)
class Op:
    """A primitive operation on floats and its derivative rules.

    `grads[i]` is the rule for the partial derivative of the output with respect to input `i`:
    a function of the inputs and `out` written against the maths namespace `m`, or a number
    for a constant derivative. From it come, with the same call signatures as ever:

    - `local_grads[i](*inputs, out)`, on floats;
    - `graph_grads[i](*inputs, out)`, on Values, so that the gradient it builds is itself a
      graph that can be differentiated again; a piecewise-constant derivative is a float;
    - `array_local_grads[i](np, *inputs, out)`, on arrays of the numpy module `np` passed in
      (a constant derivative stays a number there).

    A version given explicitly is used as it is: that is how a record states a fast float
    version (`local_grads=`) next to its rules, and how an op can still be written the old way,
    each version by hand, without `grads` (a version not given is then empty).
    `array_forward(np, *inputs)` is `forward` on arrays (without it, no numpy replay). `domain`
    gives, per input, a range where the op is smooth and finite (the tests draw inputs from
    it); `kinks` lists input values where a derivative jumps, and `kink_where_equal` says that
    one jumps where two inputs are equal (maximum, clamp_min, ...). `notation[i]` is rule `i` as
    a reader writes it, in the inputs `x`, `y` and the result `out` (the playground shows it with
    the numbers put in; a test evaluates it against the rule, so the two cannot drift apart).
    """

    name: str
    symbol: str
    forward: Callable[..., float]
    local_grads: tuple[Callable[..., float], ...] = None  # type: ignore[assignment]
    domain: tuple[Domain, ...] = ()
    kinks: tuple[float, ...] = ()
    graph_grads: tuple[Callable[..., Any], ...] = None  # type: ignore[assignment]
    array_forward: Callable[..., Any] | None = None
    array_local_grads: tuple[Callable[..., Any] | float, ...] = None  # type: ignore[assignment]
    grads: tuple[Rule, ...] | None = None
    notation: tuple[str, ...] = ()
    kink_where_equal: bool = False

    def __post_init__(self) -> None:
        if self.grads is None and self.local_grads is None:
            raise TypeError(f"Op {self.name!r} needs derivative rules (grads=) or local_grads=")
        derived: dict[str, Any] = {}
        if self.grads is None:
            derived = {
                "graph_grads": self.graph_grads or (),
                "array_local_grads": self.array_local_grads or (),
            }
        else:
            rules = derived["grads"] = tuple(self.grads)
            arity = len(rules)
            if self.local_grads is None:
                derived["local_grads"] = _derive(rules, FLOAT_MATH)
            if self.array_local_grads is None:
                derived["array_local_grads"] = tuple(_array_version(r, arity) for r in rules)
            if self.graph_grads is None:
                if _graph_math:
                    derived["graph_grads"] = _derive(rules, _graph_math[0])
                else:
                    derived["graph_grads"] = ()
                    _waiting_for_graph_math.append(self)
        for name in ("local_grads", "domain", "kinks", "notation"):
            if name not in derived:
                derived[name] = tuple(getattr(self, name))
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def arity(self) -> int:
        """Number of inputs the op takes."""
        return len(self.local_grads)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.symbol!r})"

    # A record is one object per op (the tape and the tests compare them with `is`): copying
    # gives the record itself, and pickling refers to it by its name in OPS.

    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Op:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        if OPS.get(self.name) is not self:
            raise TypeError(
                f"{self!r} is not in micrograd.OPS, so it cannot be pickled by name (a pickle "
                "refers to an op record, it does not store its functions)"
            )
        return (_registered_op, (self.name,))


def _registered_op(name: str) -> Op:
    """The record `OPS[name]`, for unpickling."""
    return OPS[name]


# --- Forward functions on floats: IEEE results, a warning naming the op when finite inputs give
# --- nan or inf -----------------------------------------------------------------------------------


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


def _square(x: float) -> float:
    out = x * x
    if out == INF and math.isfinite(x):
        _warn("square", (x,), out, "the result overflows a float")
    return out


# maximum and minimum give nan if either input is nan, as PyTorch and numpy do (Python's max()
# depends on the order), and the first input at a tie.
def _maximum(x: float, y: float) -> float:
    if x != x or y != y:
        return NAN
    return x if x >= y else y


def _minimum(x: float, y: float) -> float:
    if x != x or y != y:
        return NAN
    return x if x <= y else y


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


def _sigmoid_array(np: Any, x: Any) -> Any:
    e = np.exp(-np.abs(x))  # never overflows, as in the float version
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --- Fast float versions, each beside the rule it replaces on floats (tests: they agree) --------
# pow's rules pay for `m.where` and `m.mul0` calls on every edge; relu's for `m.step`. Measured
# on the benchmark's dag (which uses x ** 2 and relu), these keep backward as fast as before.


def _pow_grad_base_fast(x: float, y: float, out: float) -> float:
    if y == 0.0:
        return 0.0  # x ** 0 is constant, even at x = 0 where x ** -1 is inf
    return y * _pow_quiet(x, y - 1.0)


def _pow_grad_exponent_fast(x: float, y: float, out: float) -> float:
    if x == 0.0 and y >= 0.0:
        return 0.0  # the limit PyTorch uses; log(0) would give 0 * -inf = nan
    return out * _log_quiet(x)


# --- The records ---------------------------------------------------------------------------------

ADD = Op(
    "add",
    "+",
    _add,
    grads=(1.0, 1.0),
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    array_forward=lambda np, x, y: x + y,
    notation=("1", "1"),
)
MUL = Op(
    "mul",
    "*",
    _mul,
    grads=(lambda x, y, out: y, lambda x, y, out: x),
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    array_forward=lambda np, x, y: x * y,
    notation=("y", "x"),
)
POW = Op(
    "pow",
    "**",
    _pow,
    grads=(
        # y x^(y-1), and 0 where y = 0 (x^0 is constant, even at x = 0 where x^-1 is inf).
        lambda x, y, out: m.mul0(y, m.pow(x, y - 1.0)),
        # x^y log x, and 0 at x = 0 for y >= 0: the limit PyTorch uses (log 0 would give nan).
        lambda x, y, out: m.where(m.eq(x, 0.0) & m.ge(y, 0.0), 0.0, out * m.log(x)),
    ),
    local_grads=(_pow_grad_base_fast, _pow_grad_exponent_fast),
    domain=((0.1, 5.0), (-3.0, 3.0)),
    array_forward=lambda np, x, y: np.power(x, y),
    notation=("y * x^(y - 1)", "x^y * log(x)"),
)
EXP = Op(
    "exp",
    "exp",
    _exp,
    grads=(lambda x, out: out,),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.exp(x),
    notation=("exp(x)",),
)
LOG = Op(
    "log",
    "log",
    _log,
    grads=(lambda x, out: m.recip(x),),
    domain=((0.01, 100.0),),
    array_forward=lambda np, x: np.log(x),
    notation=("1 / x",),
)
TANH = Op(
    "tanh",
    "tanh",
    math.tanh,
    grads=(lambda x, out: 1.0 - out * out,),
    domain=((-5.0, 5.0),),
    array_forward=lambda np, x: np.tanh(x),
    notation=("1 - tanh(x)^2",),
)
# A primitive rather than 1 / (1 + exp(-x)): one node instead of four in drawings, and a forward
# pass that cannot overflow for large negative x.
SIGMOID = Op(
    "sigmoid",
    "σ",
    _sigmoid,
    grads=(lambda x, out: out * (1.0 - out),),
    domain=((-10.0, 10.0),),
    array_forward=_sigmoid_array,
    notation=("σ(x) * (1 - σ(x))",),
)
RELU = Op(
    "relu",
    "ReLU",
    _relu,
    # relu'(0) = 0 as in PyTorch, which also passes the gradient through at nan (out <= 0 fails).
    grads=(lambda x, out: m.step(out),),
    local_grads=(lambda x, out: 0.0 if out <= 0.0 else 1.0,),  # m.step inlined: a call less
    domain=((-10.0, 10.0),),
    kinks=(0.0,),
    array_forward=lambda np, x: np.where(x <= 0.0, 0.0, x),
    notation=("1 if x > 0, else 0",),
)
ABS = Op(
    "abs",
    "abs",
    math.fabs,  # abs() on the floats it is given; fabs is typed as returning one
    grads=(lambda x, out: m.sign(x),),
    domain=((-10.0, 10.0),),
    kinks=(0.0,),
    array_forward=lambda np, x: np.abs(x),
    notation=("1 if x > 0, -1 if x < 0, else 0",),
)
SIN = Op(
    "sin",
    "sin",
    _trig("sin", math.sin),
    grads=(lambda x, out: m.cos(x),),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.sin(x),
    notation=("cos(x)",),
)
COS = Op(
    "cos",
    "cos",
    _trig("cos", math.cos),
    grads=(lambda x, out: -m.sin(x),),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.cos(x),
    notation=("-sin(x)",),
)

# x * x as one op (PyTorch's square): one node in drawings, and 2x instead of pow's rules.
SQUARE = Op(
    "square",
    "²",
    _square,
    grads=(lambda x, out: 2.0 * x,),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: x * x,
    notation=("2 * x",),
)
# The derivatives are PyTorch's: at a tie each input gets half, and at nan both get all of it.
MAXIMUM = Op(
    "maximum",
    "max",
    _maximum,
    grads=(
        lambda x, y, out: m.where(m.eq(x, y), 0.5, m.where(m.ge(y, x), 0.0, 1.0)),
        lambda x, y, out: m.where(m.eq(x, y), 0.5, m.where(m.ge(x, y), 0.0, 1.0)),
    ),
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    kink_where_equal=True,
    array_forward=lambda np, x, y: np.maximum(x, y),
    notation=("1 if x > y, 0.5 if x = y, else 0", "1 if y > x, 0.5 if x = y, else 0"),
)
MINIMUM = Op(
    "minimum",
    "min",
    _minimum,
    grads=(
        lambda x, y, out: m.where(m.eq(x, y), 0.5, m.where(m.ge(x, y), 0.0, 1.0)),
        lambda x, y, out: m.where(m.eq(x, y), 0.5, m.where(m.ge(y, x), 0.0, 1.0)),
    ),
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    kink_where_equal=True,
    array_forward=lambda np, x, y: np.minimum(x, y),
    notation=("1 if x < y, 0.5 if x = y, else 0", "1 if y < x, 0.5 if x = y, else 0"),
)
# clamp(x, min, max) is clamp_max(clamp_min(x, min), max), as PyTorch defines it (with min > max
# everything is max). Unlike maximum, at the bound the gradient goes to x, all of it; at nan,
# nowhere. The second input is the bound, which takes the gradient where it is the result.
CLAMP_MIN = Op(
    "clamp_min",
    "clamp≥",
    _maximum,  # the same numbers as maximum; only the derivatives differ, at ties and nan
    grads=(
        lambda x, low, out: m.where(m.ge(x, low), 1.0, 0.0),
        lambda x, low, out: m.where(m.ge(x, low), 0.0, m.where(m.ge(low, x), 1.0, 0.0)),
    ),
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    kink_where_equal=True,
    array_forward=lambda np, x, low: np.maximum(x, low),
    notation=("1 if x ≥ y, else 0", "1 if y > x, else 0"),  # y is the bound
)
CLAMP_MAX = Op(
    "clamp_max",
    "clamp≤",
    _minimum,
    grads=(
        lambda x, high, out: m.where(m.ge(high, x), 1.0, 0.0),
        lambda x, high, out: m.where(m.ge(high, x), 0.0, m.where(m.ge(x, high), 1.0, 0.0)),
    ),
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    kink_where_equal=True,
    array_forward=lambda np, x, high: np.minimum(x, high),
    notation=("1 if x ≤ y, else 0", "1 if y < x, else 0"),  # y is the bound
)

OPS: dict[str, Op] = {
    op.name: op
    for op in (
        *(ADD, MUL, POW, EXP, LOG, TANH, SIGMOID, RELU, ABS, SIN, COS),
        *(SQUARE, MAXIMUM, MINIMUM, CLAMP_MIN, CLAMP_MAX),
    )
}
