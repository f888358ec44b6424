"""The primitive operations: one record per op, read by everything that runs or draws a graph.

Each `Op` holds an op's name, the symbol drawings use, its forward function and its derivative
rules, one per input, written once as ordinary Python: `rules` is a function of a small maths
namespace `m` that returns the rules, each a function of the inputs and the result `out`
(`rules=lambda m: (lambda x, out: m.cos(x),)`). Calling it with a namespace gives the rules on
that kind of number, with nothing rebuilt and nothing registered:

- `rules(FLOAT_MATH)`: floats, the record's `local_grads`, for `backward()`, the tape's Python
  replay, gradcheck, the step frames;
- `rules(GRAPH_MATH)`: `Value`s, for higher-order gradients (`micrograd.autodiff`, which owns the
  namespace on Values, calls it; this file never imports the engine);
- `rules(array_math(np))`: numpy arrays, the record's `array_local_grads`, for the tape's
  batched replay (numpy is passed in, so this file needs the standard library only).

A rule does its maths through `m` (what every namespace has, see `FLOAT_MATH`) plus `+ - *` and
literals, and may use anything of its own module. Where a special case reads badly or costs time
on floats, a record may carry an explicit fast float version beside its rules (`local_grads=`);
the tests check that it equals the rule. Composite operations (subtraction, division, square
root, ...) are not here: the engine writes them from these primitives.

Numeric policy: forward functions never raise on a float. Outside an op's domain they return the
IEEE result that PyTorch float64 and numpy give (nan or +-inf) and emit a `RuntimeWarning` that
names the op and its input. Derivatives follow the same IEEE rules but stay quiet, since the
forward pass has already warned about the input. The array versions give the same numbers and
leave warnings to numpy (which does not name the op).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable
from types import FrameType, SimpleNamespace
from typing import Any

INF = math.inf
NAN = math.nan

Domain = tuple[float, float]
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


def _branch(branch: Any) -> Any:
    """A branch of `where`: a value, or a function of no arguments that computes it."""
    return branch() if callable(branch) else branch


# The maths a rule may use. Every namespace has these names with the same meaning: FLOAT_MATH
# on floats, `array_math(np)` element by element on arrays, and `micrograd.autodiff.GRAPH_MATH`
# on Values. `where(condition, if_true, if_false)` may take a branch as a function of no
# arguments: on floats and Values only the branch chosen is then computed (so a derivative
# graph never holds, nor warns about, the log(0) of a branch not taken); arrays compute both.
FLOAT_MATH = SimpleNamespace(
    name="float",
    where=lambda condition, if_true, if_false: _branch(if_true if condition else if_false),
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


def array_math(np: Any) -> SimpleNamespace:
    """The maths namespace on arrays of the numpy module `np` (this file never imports numpy)."""
    return SimpleNamespace(
        name="array",
        where=lambda condition, if_true, if_false: np.where(
            condition, _branch(if_true), _branch(if_false)
        ),
        eq=np.equal,
        ge=np.greater_equal,
        mul0=lambda a, b: np.where(a == 0.0, 0.0, a * b),
        pow=np.power,
        exp=np.exp,
        log=np.log,
        recip=lambda x: 1.0 / x,
        sin=np.sin,
        cos=np.cos,
        # Arithmetic on comparisons, not np.where, which on a mask as random as relu's is ten
        # times slower (benchmarks/numpy_calls.py: 190 against 16 us for 32 x 1,797 numbers).
        step=lambda x: 1.0 - (x <= 0.0),  # 1 at nan, where x <= 0 is False
        sign=lambda x: (x > 0.0) - (x < 0.0).astype(float),  # 0 at nan, as `_sign`
    )


# --- The record ----------------------------------------------------------------------------------

Rule = Callable[..., Any] | float
Rules = Callable[[SimpleNamespace], tuple[Rule, ...]]


class Op:
    """A primitive operation on floats and its derivative rules.

    `rules(m)` returns one rule per input: the partial derivative of the output with respect to
    that input, as a function of the inputs and `out` that does its maths through the namespace
    `m` it was given, or a number for a constant derivative. Calling it with a namespace gives
    the rules on that kind of number, with the same call signatures as ever:

    - `local_grads[i](*inputs, out)`, on floats (`rules(FLOAT_MATH)`, made here);
    - `grads_on(m)[i](*inputs, out)` on any other namespace: `micrograd.autodiff.graph_grads`
      uses it for Values, so that a gradient is itself a graph that can be differentiated again;
    - `array_local_grads[i](np, *inputs, out)`, on arrays of the numpy module `np` passed in
      (`rules(array_math(np))`, made on first use; a constant derivative stays a number there).

    A rule is ordinary Python: it may use the module it is written in (a helper, a constant).
    A version given explicitly is used as it is: that is how a record states a fast float
    version (`local_grads=`) next to its rules, and how an op can still be written without
    rules, by hand (`local_grads=`, `array_local_grads=`; no higher-order gradients then).
    `array_forward(np, *inputs)` is `forward` on arrays (without it, no numpy replay). `domain`
    gives, per input, a range where the op is smooth and finite (the tests draw inputs from
    it); `kinks` lists input values where a derivative jumps, and `kink_where_equal` says that
    one jumps where two inputs are equal (maximum, clamp_min, ...). `notation[i]` is rule `i` as
    a reader writes it, in the inputs `x`, `y` and the result `out` (the playground shows it with
    the numbers put in; a test evaluates it against the rule, so the two cannot drift apart).
    """

    __slots__ = (
        "name",
        "symbol",
        "forward",
        "rules",
        "local_grads",
        "array_forward",
        "array_local_grads",
        "domain",
        "kinks",
        "kink_where_equal",
        "notation",
    )

    name: str
    symbol: str
    forward: Callable[..., float]
    rules: Rules | None
    local_grads: tuple[Callable[..., float], ...]
    array_forward: Callable[..., Any] | None
    array_local_grads: tuple[Callable[..., Any] | float, ...]
    domain: tuple[Domain, ...]
    kinks: tuple[float, ...]
    kink_where_equal: bool
    notation: tuple[str, ...]

    def __init__(
        self,
        name: str,
        symbol: str,
        forward: Callable[..., float],
        *,
        rules: Rules | None = None,
        local_grads: tuple[Callable[..., float], ...] | None = None,
        array_forward: Callable[..., Any] | None = None,
        array_local_grads: tuple[Callable[..., Any] | float, ...] | None = None,
        domain: tuple[Domain, ...] = (),
        kinks: tuple[float, ...] = (),
        kink_where_equal: bool = False,
        notation: tuple[str, ...] = (),
    ) -> None:
        if rules is not None and not callable(rules):
            raise TypeError(
                f"Op {name!r}: rules must be a function of the maths namespace m returning one "
                f"derivative per input, e.g. rules=lambda m: (lambda x, out: m.cos(x),); "
                f"received {type(rules).__name__}: {rules!r:.60}"
            )
        if rules is None and local_grads is None:
            raise TypeError(f"Op {name!r} needs derivative rules (rules=) or local_grads=")
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.rules = rules
        self.local_grads = tuple(self.grads_on(FLOAT_MATH) if local_grads is None else local_grads)
        self.array_forward = array_forward
        if array_local_grads is None:
            array_local_grads = () if rules is None else _array_versions(rules)
        self.array_local_grads = tuple(array_local_grads)
        self.domain = tuple(domain)
        self.kinks = tuple(kinks)
        self.kink_where_equal = kink_where_equal
        self.notation = tuple(notation)

    @property
    def arity(self) -> int:
        """Number of inputs the op takes."""
        return len(self.local_grads)

    def grads_on(self, math: SimpleNamespace) -> tuple[Callable[..., Any], ...]:
        """The derivative rules on the numbers of the namespace `math`, each a function of the
        inputs and `out` (a constant derivative becomes a function returning it); empty for an
        op written without rules, whose floats only are known."""
        if self.rules is None:
            return ()
        rules = self.rules(math)
        return tuple(_as_function(rule, len(rules)) for rule in rules)

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


def _as_function(rule: Rule, arity: int) -> Callable[..., Any]:
    """A rule as a function of the inputs and `out`: a constant (add's 1.0) is wrapped."""
    if callable(rule):
        return rule
    # Spelled out for one and two inputs (every op in OPS): they run once per edge.
    if arity == 1:
        return lambda x, out: rule
    if arity == 2:
        return lambda x, y, out: rule
    return lambda *inputs_and_out: rule


class ArrayRule:
    """Rule `position` of an op on arrays, called as `rule(np, *inputs, out)`; `bind(np)` gives
    the rule on that numpy's arrays as a plain function of the inputs and `out` (the tape's
    replay binds each once, when its plan is built)."""

    __slots__ = ("rules", "position", "versions")

    rules: Rules
    position: int
    versions: dict[int, tuple[Rule, ...]]

    def __init__(self, rules: Rules, position: int, versions: dict[int, tuple[Rule, ...]]) -> None:
        self.rules, self.position = rules, position
        self.versions = versions  # by id(np), shared by the op's rules: rules(array_math(np))

    def bind(self, np: Any) -> Callable[..., Any]:
        found = self.versions.get(id(np))
        if found is None:
            found = self.versions[id(np)] = self.rules(array_math(np))
        rule = found[self.position]
        assert callable(rule)  # constants were kept as numbers by _array_versions
        return rule

    def __call__(self, np: Any, *inputs_and_out: Any) -> Any:
        return self.bind(np)(*inputs_and_out)


def _array_versions(rules: Rules) -> tuple[ArrayRule | float, ...]:
    """The rules on arrays, each taking the numpy module first, as the tape calls them."""
    on_floats = rules(FLOAT_MATH)  # only to see which derivatives are constants
    versions: dict[int, tuple[Rule, ...]] = {}
    # A constant derivative stays a number: the tape passes gradients through it.
    return tuple(
        rule if not callable(rule) else ArrayRule(rules, i, versions)
        for i, rule in enumerate(on_floats)
    )


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
    rules=lambda m: (1.0, 1.0),
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    array_forward=lambda np, x, y: x + y,
    notation=("1", "1"),
)
MUL = Op(
    "mul",
    "*",
    _mul,
    rules=lambda m: (lambda x, y, out: y, lambda x, y, out: x),
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    array_forward=lambda np, x, y: x * y,
    notation=("y", "x"),
)
POW = Op(
    "pow",
    "**",
    _pow,
    rules=lambda m: (
        # y x^(y-1), and 0 where y = 0 (x^0 is constant, even at x = 0 where x^-1 is inf).
        lambda x, y, out: m.mul0(y, m.pow(x, y - 1.0)),
        # x^y log x, and 0 at x = 0 for y >= 0: the limit PyTorch uses (log 0 would give nan).
        # (a function of no arguments: log(0) is not computed where it is not needed).
        lambda x, y, out: m.where(m.eq(x, 0.0) & m.ge(y, 0.0), 0.0, lambda: out * m.log(x)),
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
    rules=lambda m: (lambda x, out: out,),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.exp(x),
    notation=("exp(x)",),
)
LOG = Op(
    "log",
    "log",
    _log,
    rules=lambda m: (lambda x, out: m.recip(x),),
    domain=((0.01, 100.0),),
    array_forward=lambda np, x: np.log(x),
    notation=("1 / x",),
)
TANH = Op(
    "tanh",
    "tanh",
    math.tanh,
    rules=lambda m: (lambda x, out: 1.0 - out * out,),
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
    rules=lambda m: (lambda x, out: out * (1.0 - out),),
    domain=((-10.0, 10.0),),
    array_forward=_sigmoid_array,
    notation=("σ(x) * (1 - σ(x))",),
)
RELU = Op(
    "relu",
    "ReLU",
    _relu,
    # relu'(0) = 0 as in PyTorch, which also passes the gradient through at nan (out <= 0 fails).
    rules=lambda m: (lambda x, out: m.step(out),),
    local_grads=(lambda x, out: 0.0 if out <= 0.0 else 1.0,),  # m.step inlined: a call less
    domain=((-10.0, 10.0),),
    kinks=(0.0,),
    # maximum passes nan through and gives +0.0 for -0.0, as `_relu` does; np.where was ten
    # times slower (see `array_math`'s step).
    array_forward=lambda np, x: np.maximum(x, 0.0),
    notation=("1 if x > 0, else 0",),
)
ABS = Op(
    "abs",
    "abs",
    math.fabs,  # abs() on the floats it is given; fabs is typed as returning one
    rules=lambda m: (lambda x, out: m.sign(x),),
    domain=((-10.0, 10.0),),
    kinks=(0.0,),
    array_forward=lambda np, x: np.abs(x),
    notation=("1 if x > 0, -1 if x < 0, else 0",),
)
SIN = Op(
    "sin",
    "sin",
    _trig("sin", math.sin),
    rules=lambda m: (lambda x, out: m.cos(x),),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.sin(x),
    notation=("cos(x)",),
)
COS = Op(
    "cos",
    "cos",
    _trig("cos", math.cos),
    rules=lambda m: (lambda x, out: -m.sin(x),),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: np.cos(x),
    notation=("-sin(x)",),
)

# x * x as one op (PyTorch's square): one node in drawings, and 2x instead of pow's rules.
SQUARE = Op(
    "square",
    "²",
    _square,
    rules=lambda m: (lambda x, out: 2.0 * x,),
    domain=((-10.0, 10.0),),
    array_forward=lambda np, x: x * x,
    notation=("2 * x",),
)
# The derivatives are PyTorch's: at a tie each input gets half, and at nan both get all of it.
MAXIMUM = Op(
    "maximum",
    "max",
    _maximum,
    rules=lambda m: (
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
    rules=lambda m: (
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
    rules=lambda m: (
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
    rules=lambda m: (
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
