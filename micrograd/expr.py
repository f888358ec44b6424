"""A safe parser for arithmetic on Values, used by `python -m micrograd draw`.

The text is parsed with Python's `ast` and only a whitelist is accepted: int and float literals,
names bound by the caller, `+ - * / **`, unary `+ -`, parentheses, and calls to the package's
functions in `FUNCTIONS`, named as the Value methods and PyTorch name them, each with its fixed
number of arguments given by position (`ARGUMENTS`): `exp log tanh sigmoid relu abs sin cos sqrt
square` take one, `maximum minimum clamp_min clamp_max` two and `clamp` three. Nothing is ever
passed to `eval`; anything else (attributes, subscripts, lambdas, keywords, strings,
comparisons, ...) is an `ExpressionError` with a one-line message. So is any character outside
printable ASCII, and the two that Python's parser would silently drop (`#` starts a comment,
`\\` joins lines): what is drawn is exactly what was typed. Every failure, whatever the input,
is an `ExpressionError`. Drawing the result lives in `micrograd.viz`.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable, Mapping

from micrograd.engine import Value

MAX_LENGTH = 500
"""Longest expression text accepted, in characters."""
MAX_NODES = 200
"""Most syntax nodes accepted: the graph stays small enough to draw."""
MAX_MAGNITUDE = 1e100
"""Largest magnitude of a literal, a bound value or an intermediate result."""

FUNCTIONS: dict[str, Callable[..., Value]] = {
    "exp": Value.exp,
    "log": Value.log,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "abs": Value.abs,
    "sin": Value.sin,
    "cos": Value.cos,
    "sqrt": Value.sqrt,
    "square": Value.square,
    "maximum": Value.maximum,
    "minimum": Value.minimum,
    "clamp_min": Value.clamp_min,
    "clamp_max": Value.clamp_max,
    "clamp": Value.clamp,  # both bounds given: clamp_max(clamp_min(x, low), high), as torch
}
"""The functions an expression may call, by name, each taking `len(ARGUMENTS[name])` Values."""

ARGUMENTS: dict[str, tuple[str, ...]] = {name: ("x",) for name in FUNCTIONS} | {
    "maximum": ("x", "y"),
    "minimum": ("x", "y"),
    "clamp_min": ("x", "low"),
    "clamp_max": ("x", "high"),
    "clamp": ("x", "low", "high"),
}
"""Each function's arguments, by position, as `example_call` names them: one (`x`) unless listed."""


def example_call(name: str) -> str:
    """How a call to the function `name` is written in messages: `maximum(x, y)`."""
    return f"{name}({', '.join(ARGUMENTS[name])})"


def listed_functions() -> str:
    """The functions as the draw command's help lists them, those of several arguments with
    their arguments: `exp, log, ..., maximum(x, y), ...`."""
    return ", ".join(
        name if len(ARGUMENTS[name]) == 1 else example_call(name) for name in FUNCTIONS
    )


_BINARY: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: lambda x, y: x + y,
    ast.Sub: lambda x, y: x - y,
    ast.Mult: lambda x, y: x * y,
    ast.Div: lambda x, y: x / y,
    ast.Pow: lambda x, y: x**y,
}
_UNARY: dict[type, Callable[[Value], Value]] = {
    ast.USub: lambda x: -x,
    ast.UAdd: lambda x: x,
}
# The fields evaluate() reads from each kind of node, and their types.
_FIELDS: dict[type, tuple[tuple[str, type], ...]] = {
    ast.Expression: (("body", ast.expr),),
    ast.BinOp: (("left", ast.expr), ("op", ast.operator), ("right", ast.expr)),
    ast.UnaryOp: (("op", ast.unaryop), ("operand", ast.expr)),
    ast.Call: (("func", ast.expr), ("args", list), ("keywords", list)),
    ast.Name: (("id", str),),
}
# Names only: the page shows at most 240 characters, and a call with the wrong arguments is told
# its example (`example_call`).
_ALLOWED = "numbers, --set names, + - * / **, parentheses and calls to " + ", ".join(FUNCTIONS)
_LABEL_LENGTH = 32


class ExpressionError(ValueError):
    """The expression text is not one this parser accepts; the message says why."""


def parse(text: str) -> ast.Expression:
    """The checked syntax tree of `text`; raises `ExpressionError` for anything not allowed."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a str, received {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; at most {MAX_LENGTH} are accepted"
        )
    if not text.strip():
        raise ExpressionError("the expression is empty")
    _check_characters(text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ExpressionError(f"syntax error{where} in {_short(text)!r}: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        raise ExpressionError(f"cannot parse the expression: {error}") from None
    _check_tree(tree, text.strip())
    return tree


def _check_characters(text: str) -> None:
    """Refuses characters the whitelist does not name and the syntax tree would not show."""
    for column, char in enumerate(text, 1):
        if " " <= char <= "~" and char not in "#\\":
            continue
        # ascii(): the message itself must not carry the control character it reports.
        what = {"#": "'#' (a comment)", "\\": "'\\' (a line continuation)"}.get(
            char, f"{ascii(char)} (U+{ord(char):04X})"
        )
        # The character rule, not the whole whitelist: with every function listed, the message
        # would pass the page's 240 characters.
        raise ExpressionError(
            f"the character {what} at column {column} is not allowed; an expression is "
            "printable ASCII, without # or \\"
        )


def _check_tree(tree: ast.Expression, text: str | None) -> None:
    """Raises `ExpressionError` unless every node of `tree` is one `evaluate` knows."""
    # islice: a tree built by hand could contain itself, and the walk would never end.
    nodes = list(itertools.islice(ast.walk(tree), MAX_NODES + 1))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(
            f"the expression has {len(nodes)} syntax nodes; at most {MAX_NODES} are accepted"
        )
    # Constructs first, then calls, then literals, so that `__import__('os')` is reported as
    # the call it is rather than as a string literal, and `(lambda: 0)()` as a lambda.
    for node in nodes:
        _check_fields(node)
        _check_construct(node)
    for node in nodes:
        if isinstance(node, ast.Call):
            _check_call(node)
    for node in nodes:
        if isinstance(node, ast.Constant):
            _check_literal(node, text)


def _check_construct(node: ast.AST) -> None:
    # A keyword belongs to a call: _check_call refuses it, naming the function it was passed to.
    allowed = (
        *(ast.Expression, ast.Load, ast.Name, ast.Constant, ast.Call, ast.keyword),
        *(*_BINARY, *_UNARY),
    )
    if isinstance(node, allowed):
        return
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        if type(node.op) in _BINARY or type(node.op) in _UNARY:
            return
        raise ExpressionError(f"operator {_op_text(node.op)} is not allowed; use {_ALLOWED}")
    what = {
        ast.Attribute: "attribute access (x.y)",
        ast.Subscript: "indexing (x[i])",
        ast.Lambda: "lambda",
        ast.Compare: "comparison",
        ast.BoolOp: "and/or",
        ast.IfExp: "if/else",
        ast.NamedExpr: "assignment (:=)",
        ast.Starred: "unpacking (*x)",
    }.get(type(node), type(node).__name__)
    raise ExpressionError(f"{what} is not allowed; use {_ALLOWED}")


def _check_fields(node: ast.AST) -> None:
    # Only a tree built by hand can lack these; parse() always fills them in.
    for field, kind in _FIELDS.get(type(node), ()):
        value = getattr(node, field, None)
        if not isinstance(value, kind):
            raise ExpressionError(
                f"{type(node).__name__}.{field} is {type(value).__name__}, expected "
                f"{kind.__name__}: not a syntax tree parse() makes"
            )


def _check_call(node: ast.Call) -> None:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in FUNCTIONS:
        called = name if name is not None else _short(_unparse(node.func))
        raise ExpressionError(
            f"calls are allowed only to {', '.join(FUNCTIONS)}; received a call to {called}"
        )
    expected = len(ARGUMENTS[name])
    if node.keywords:
        raise ExpressionError(
            f"{name}() takes no keyword arguments, only {_count(expected)} by position, as in "
            f"{example_call(name)}; received the keyword argument "
            f"{_short(_unparse(node.keywords[0]))}"
        )
    if len(node.args) != expected:
        raise ExpressionError(
            f"{name}() takes exactly {_count(expected)}, as in {example_call(name)}; "
            f"received {len(node.args)}"
        )


def _count(arguments: int) -> str:
    return f"{arguments} argument{'' if arguments == 1 else 's'}"


def _check_literal(node: ast.Constant, text: str | None) -> None:
    written = (text is not None and ast.get_source_segment(text, node)) or repr(node.value)
    value = node.value
    if type(value) is not int and type(value) is not float:
        raise ExpressionError(f"only numbers are allowed as literals, received {_short(written)}")
    _number(value, f"the literal {_short(written)}", shown="")


def evaluate(tree: ast.Expression, names: Mapping[str, Value]) -> Value:
    """The Value that `tree` (from `parse`) computes, with names looked up in `names`.

    Each intermediate result is labelled with its source text when that is short. An unknown
    name, a use of a function name as a value, or a result beyond `MAX_MAGNITUDE` (overflow,
    such as `2 ** 10 ** 10`) raises `ExpressionError`, as does a tree with anything `parse` would
    refuse, or a name bound to something other than a Value.
    """
    if not isinstance(tree, ast.Expression):
        raise ExpressionError(
            "evaluate takes the syntax tree from parse(), "
            f"received {type(tree).__name__}: {_short(repr(tree))}"
        )
    if not isinstance(names, Mapping):
        raise ExpressionError(
            f"names must map names to Values, received {type(names).__name__}: "
            f"{_short(repr(names))}"
        )
    # The tree may have been built or changed by hand since parse(): checked again, cheaply.
    _check_tree(tree, None)
    # An explicit stack instead of recursion, like every walk over a graph in this package.
    results: dict[int, Value] = {}
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    while stack:
        node, ready = stack.pop()
        children = _operands(node)
        if not ready and children:
            stack.append((node, True))
            stack += [(child, False) for child in reversed(children)]
            continue
        results[id(node)] = _compute(node, [results[id(c)] for c in children], names)
    return results[id(tree.body)]


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _compute(node: ast.AST, args: list[Value], names: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, (int, float))  # type and range checked by _check_tree
        return Value(float(node.value), requires_grad=False)
    if isinstance(node, ast.Name):
        if node.id in names:
            value = names[node.id]
            if not isinstance(value, Value):
                raise ExpressionError(
                    f"{node.id} is bound to {type(value).__name__}: {_short(repr(value))}; "
                    "names must be bound to Values"
                )
            return value
        if node.id in FUNCTIONS:
            raise ExpressionError(
                f"{node.id} is a function; call it, as in {example_call(node.id)}"
            )
        raise ExpressionError(f"unknown name {node.id!r}; bind it with --set {node.id}=NUMBER")
    if isinstance(node, ast.BinOp):
        out = _BINARY[type(node.op)](*args)
    elif isinstance(node, ast.UnaryOp):
        out = _UNARY[type(node.op)](*args)
    elif isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)  # checked by _check_tree
        out = FUNCTIONS[node.func.id](*args)
    else:  # _check_tree lets only an Expression node through, and not as an operand
        raise ExpressionError(
            f"{type(node).__name__} is not allowed inside an expression; use {_ALLOWED}"
        )
    if (
        math.isfinite(out.data)
        and abs(out.data) > MAX_MAGNITUDE
        or (not math.isfinite(out.data) and all(math.isfinite(a.data) for a in args))
    ):
        raise ExpressionError(
            f"{_short(_unparse(node))} is {out.data:.6g}, beyond what a drawing can show "
            f"(at most {MAX_MAGNITUDE:g} in magnitude, finite)"
        )
    text = _unparse(node)
    if out is not args[0] and not out.label and len(text) <= _LABEL_LENGTH:
        out.label = text
    return out


def parse_binding(text: str) -> tuple[str, float]:
    """`"a=2.5"` as `("a", 2.5)`; a name must be an identifier, not a function name."""
    name, sep, number = text.partition("=")
    name = name.strip()
    # ASCII names only, as in expressions (where Python would fold "ａ" into "a").
    if not sep or not name.isidentifier() or not name.isascii() or name.startswith("_"):
        raise ExpressionError(f"--set takes NAME=NUMBER, such as a=2.5; received {_short(text)!r}")
    if name in FUNCTIONS:
        raise ExpressionError(
            f"{name} is a function name; choose another name for --set {_short(text)!r}"
        )
    try:
        value = float(number.strip())
    except ValueError:
        raise ExpressionError(
            f"--set {name}= needs a number, received {_short(number.strip())!r}"
        ) from None
    return name, _number(value, f"--set {name}=")


def names_used(tree: ast.Expression) -> list[str]:
    """Names that `tree` reads as values (not the functions it calls), in order of first use."""
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return list(dict.fromkeys(n.id for n in found))


def _number(value: int | float, what: str, shown: str | None = None) -> float:
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
        raise ExpressionError(
            f"{what}{_short(str(value)) if shown is None else shown} is out of range: numbers must "
            "be finite and at most "
            f"{MAX_MAGNITUDE:g} in magnitude"
        )
    return number


def _unparse(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001 - only used for messages and labels
        return type(node).__name__


def _op_text(op: ast.AST) -> str:
    symbols = {
        ast.FloorDiv: "//",
        ast.Mod: "%",
        ast.MatMult: "@",
        ast.BitAnd: "&",
        ast.BitOr: "|",
        ast.BitXor: "^",
        ast.LShift: "<<",
        ast.RShift: ">>",
        ast.Invert: "~",
        ast.Not: "not",
    }
    return symbols.get(type(op), type(op).__name__)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
