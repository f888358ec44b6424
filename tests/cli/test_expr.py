"""Tests for micrograd.expr, the safe expression parser behind `python -m micrograd draw`."""

from __future__ import annotations

import ast
import inspect
import math
import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import OPS, Value
from micrograd.expr import (
    ARGUMENTS,
    FUNCTIONS,
    MAX_LENGTH,
    ExpressionError,
    evaluate,
    example_call,
    listed_functions,
    names_used,
    parse,
    parse_binding,
)
from tests.references import examples, facts, needs_torch


def run(text: str, **numbers: float) -> Value:
    return evaluate(parse(text), {name: Value(x, name) for name, x in numbers.items()})


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# Each expression with the same formula written with the math module, as an independent reference.
REFERENCES = [
    ("tanh(a*b + c)", lambda a, b, c: math.tanh(a * b + c)),
    ("a / b - c ** 2", lambda a, b, c: a / b - c**2),
    ("-a + +b * (c - 1.5e-1)", lambda a, b, c: -a + b * (c - 0.15)),
    ("exp(a) * log(abs(b)) + sqrt(c * c)", lambda a, b, c: math.exp(a) * math.log(abs(b)) + abs(c)),
    (
        "sigmoid(a) + relu(b) + sin(c) * cos(a)",
        lambda a, b, c: sigmoid(a) + max(b, 0) + math.sin(c) * math.cos(a),
    ),
    ("2 ** a + a ** 3 + 1 / c", lambda a, b, c: 2**a + a**3 + 1 / c),
    # Inputs kept apart (b < 0 < a, c; a <= 2 < 5) so that no kink is within the differences' h.
    (
        "maximum(a, b) * square(c) + minimum(b, c) - clamp_min(c, b) + clamp_max(b, c)",
        lambda a, b, c: max(a, b) * c * c + min(b, c) - max(c, b) + min(b, c),
    ),
    ("clamp(a, b, 5) * square(b)", lambda a, b, c: min(max(a, b), 5) * b * b),
]


@pytest.mark.parametrize(("text", "reference"), REFERENCES)
@settings(max_examples=examples(25), deadline=None)
@given(
    a=st.floats(0.2, 2.0),
    b=st.floats(-3.0, -0.2),
    c=st.floats(0.3, 3.0),
)
def test_values_and_gradients_match_the_formula(text, reference, a, b, c):
    out = run(text, a=a, b=b, c=c)
    assert math.isclose(out.data, reference(a, b, c), rel_tol=1e-12, abs_tol=1e-12)
    out.backward()
    values = {"a": a, "b": b, "c": c}
    leaves = {v.label: v for v in _leaves(out)}
    for name, leaf in leaves.items():
        h = 1e-6
        up = reference(**{**values, name: values[name] + h})
        down = reference(**{**values, name: values[name] - h})
        assert math.isclose(leaf.grad, (up - down) / (2 * h), rel_tol=1e-4, abs_tol=1e-5)


def _leaves(root: Value) -> list[Value]:
    from micrograd import topological_order

    return [v for v in topological_order(root) if not v.parents and v.requires_grad]


def test_a_name_used_twice_is_one_value():
    out = run("a * a", a=3.0)
    assert out.parents[0] is out.parents[1]
    out.backward()
    assert out.parents[0].grad == 6.0


def test_numbers_are_constants_and_intermediates_get_their_source_as_label():
    out = run("tanh(a*b + 1)", a=2.0, b=-3.0)
    assert out.label == "tanh(a * b + 1)"
    (inner,) = out.parents
    assert inner.label == "a * b + 1"
    assert inner.parents[1].requires_grad is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "calls are allowed only to exp, .*received a call to __import__"),
        ("max(a, a)", facts("received a call to max", *FUNCTIONS)),
        ("__import__('os').system('true')", "attribute access"),
        ("a.__class__", r"attribute access \(x.y\) is not allowed"),
        ("(lambda: 1)()", "lambda is not allowed"),
        ("open('/etc/passwd')", "received a call to open"),
        ("exec('1')", "received a call to exec"),
        ("a[0]", "indexing"),
        ("a if a else a", "if/else"),
        ("a < 1", "comparison"),
        ("a and a", "and/or"),
        ("(x := 1)", "assignment"),
        ("a // 2", "operator // is not allowed"),
        ("a % 2", "operator % is not allowed"),
        ("a @ a", "operator @ is not allowed"),
        ("~a", "operator ~ is not allowed"),
        ("not a", "operator not is not allowed"),
        ("'text'", "only numbers are allowed as literals, received 'text'"),
        ("True * a", "only numbers are allowed as literals, received True"),
        ("1j * a", "received 1j"),
        ("[a]", "List is not allowed"),
        ("f'{a}'", "JoinedStr is not allowed"),
        ("exp(a, a)", facts("exp()", "1 argument", "exp(x)", "received 2")),
        ("exp()", facts("exp()", "1 argument", "exp(x)", "received 0")),
        ("exp(x=a)", facts("exp()", "keyword argument", "x=a", "exp(x)")),
        ("exp(*a)", r"unpacking \(\*x\)"),
        ("1e400 * a", "the literal 1e400 is out of range"),
        ("1" + "0" * 200 + " * a", "is out of range"),
        ("a +", "syntax error"),
        ("a = 1", "syntax error"),
        ("import os", "syntax error"),
        ("", "empty"),
        ("   ", "empty"),
        ("a\x00", r"the character .\\x00. \(U\+0000\) at column 2"),
        ("a" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}"),
        ("(" * 210 + "a" + ")" * 210, "syntax error|cannot parse"),
        ("+".join(["a"] * 120), "syntax nodes; at most 200"),
    ],
)
def test_disallowed_input_is_one_clear_line(text, message):
    with pytest.raises(ExpressionError, match=message) as caught:
        parse(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 ** 10 ** 10", r"2 \*\* 10 \*\* 10 is inf"),
        ("a ** 1000", r"a \*\* 1000 is 1.07151e\+301, beyond"),
        ("exp(a * 1000)", r"exp\(a \* 1000\) is inf"),
        ("log(a - 2)", r"log\(a - 2\) is -inf"),
        ("sqrt(-a)", r"sqrt\(-a\) is nan"),
        ("a / 0", r"a / 0 is inf"),
        ("x + a", "unknown name 'x'; bind it with --set x=NUMBER"),
        ("exp + a", "exp is a function; call it"),
        ("maximum + a", re.escape("maximum is a function; call it, as in maximum(x, y)")),
        ("maximum(a, 1e60) ** 2", r"maximum\(a, 1e\+60\) \*\* 2 is 1e\+120, beyond"),
    ],
)
def test_evaluation_errors_name_the_subexpression(text, message):
    with pytest.raises(ExpressionError, match=message):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the ops warn; we test our error
            run(text, a=2.0)


def test_parse_takes_only_strings():
    with pytest.raises(ExpressionError, match=facts("str", "bytes")):
        parse(b"a")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a=2", ("a", 2.0)), (" b = -3.5 ", ("b", -3.5)), ("x1=1e-3", ("x1", 0.001))],
)
def test_bindings(text, expected):
    assert parse_binding(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a", "NAME=NUMBER"),
        ("=2", "NAME=NUMBER"),
        ("1a=2", "NAME=NUMBER"),
        ("__class__=2", "NAME=NUMBER"),
        ("exp=2", "exp is a function name"),
        ("maximum=2", "maximum is a function name"),
        ("clamp_min=0", "clamp_min is a function name"),
        ("a=two", "needs a number, received 'two'"),
        ("a=nan", "out of range"),
        ("a=inf", "out of range"),
        ("a=1e200", "out of range"),
    ],
)
def test_bad_bindings(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse_binding(text)


def test_names_used_are_in_reading_order_without_functions():
    assert names_used(parse("tanh(c * b) + a * c")) == ["c", "b", "a"]


def test_functions_are_the_packages_value_methods_with_their_arguments():
    unary = ["exp", "log", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "sqrt", "square"]
    binary = ["maximum", "minimum", "clamp_min", "clamp_max"]
    assert sorted(FUNCTIONS) == sorted([*unary, *binary, "clamp"]) == sorted(ARGUMENTS)
    assert {name: len(ARGUMENTS[name]) for name in FUNCTIONS} == {
        **dict.fromkeys(unary, 1),
        **dict.fromkeys(binary, 2),
        "clamp": 3,
    }
    for name, fn in FUNCTIONS.items():
        assert fn is getattr(Value, name)
        # The table's count is the method's: self and its positional parameters.
        parameters = inspect.signature(fn).parameters
        assert len(parameters) == len(ARGUMENTS[name])
    assert example_call("clamp_min") == "clamp_min(x, low)"
    assert "maximum(x, y)" in listed_functions() and "clamp(x, low, high)" in listed_functions()


def leaves_at(a: float, b: float) -> dict[str, Value]:
    return {"a": Value(a, "a"), "b": Value(b, "b")}


# Each new call beside the Value method it stands for. The points include ties (a == b, a at a
# bound), where the derivatives are PyTorch's conventions rather than calculus.
BY_METHOD = [
    ("square(a)", lambda a, b: a.square(), "square"),
    ("maximum(a, b)", lambda a, b: a.maximum(b), "maximum"),
    ("minimum(a, b)", lambda a, b: a.minimum(b), "minimum"),
    ("clamp_min(a, b)", lambda a, b: a.clamp_min(b), "clamp_min"),
    ("clamp_max(a, b)", lambda a, b: a.clamp_max(b), "clamp_max"),
    ("clamp(a, b, 1)", lambda a, b: a.clamp(b, 1), "clamp_max"),
    ("maximum(a, 0.5) * minimum(b, a)", lambda a, b: a.maximum(0.5) * b.minimum(a), "mul"),
]


@pytest.mark.parametrize(("text", "method", "op"), BY_METHOD)
@pytest.mark.parametrize(("a", "b"), [(1.5, -2.0), (-1.0, 3.0), (2.0, 2.0), (0.5, 0.5), (1.0, 1.0)])
def test_calls_compute_what_the_value_methods_compute(text, method, op, a, b):
    parsed = leaves_at(a, b)
    out = evaluate(parse(text), parsed)
    direct = leaves_at(a, b)
    expected = method(direct["a"], direct["b"])
    assert out.op is OPS[op] and out.data == expected.data
    out.backward()
    expected.backward()
    assert {n: v.grad for n, v in parsed.items()} == {n: v.grad for n, v in direct.items()}


def test_a_tie_in_maximum_splits_the_gradient_in_half():
    leaves = leaves_at(2.0, 2.0)
    out = evaluate(parse("maximum(a, b)"), leaves)
    out.backward()
    assert (leaves["a"].grad, leaves["b"].grad) == (0.5, 0.5)
    a = Value(2.0, "a")
    out = evaluate(parse("maximum(a, a)"), {"a": a})
    out.backward()
    assert out.parents == (a, a) and a.grad == 1.0  # a half along each edge


@needs_torch
@pytest.mark.parametrize(("text", "method", "op"), BY_METHOD)
@pytest.mark.parametrize(("a", "b"), [(1.5, -2.0), (2.0, 2.0), (1.0, 1.0)])
def test_calls_give_pytorchs_numbers(torch, text, method, op, a, b):
    del op
    leaves = leaves_at(a, b)
    out = evaluate(parse(text), leaves)
    out.backward()
    ta, tb = (torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (a, b))
    to = {
        "square(a)": lambda: torch.square(ta),
        "maximum(a, b)": lambda: torch.maximum(ta, tb),
        "minimum(a, b)": lambda: torch.minimum(ta, tb),
        "clamp_min(a, b)": lambda: torch.clamp_min(ta, tb),
        "clamp_max(a, b)": lambda: torch.clamp_max(ta, tb),
        "clamp(a, b, 1)": lambda: torch.clamp(ta, tb, torch.tensor(1.0, dtype=torch.float64)),
        "maximum(a, 0.5) * minimum(b, a)": lambda: (
            torch.maximum(ta, torch.tensor(0.5, dtype=torch.float64)) * torch.minimum(tb, ta)
        ),
    }[text]()
    to.backward()
    grads = [0.0 if t.grad is None else t.grad.item() for t in (ta, tb)]
    assert (out.data, leaves["a"].grad, leaves["b"].grad) == (to.item(), *grads)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_wrong_number_of_arguments_names_the_function_and_both_counts(name):
    expected = len(ARGUMENTS[name])
    for received in (expected - 1, expected + 1):
        text = f"{name}({', '.join(['a'] * received)})"
        with pytest.raises(ExpressionError) as caught:
            parse(text)
        message = str(caught.value)
        for fact in (f"{name}()", f"exactly {expected} argument", f"received {received}"):
            assert fact in message
        assert example_call(name) in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("clamp_min(a, min=0)", ["clamp_min()", "keyword argument min=0", "clamp_min(x, low)"]),
        ("maximum(a, other=b)", ["maximum()", "keyword argument other=b", "maximum(x, y)"]),
        ("clamp(a, min=0, max=1)", ["clamp()", "keyword argument min=0", "clamp(x, low, high)"]),
        ("square(**a)", ["square()", "keyword argument **a", "square(x)"]),
        ("open(file=a)", ["received a call to open"]),  # not a function: that is said first
    ],
)
def test_keywords_are_refused_naming_the_function_and_its_positional_form(text, pieces):
    with pytest.raises(ExpressionError, match=facts(*pieces)):
        parse(text)


ALPHABET = "ab()+-*/.e0123456789 _,[]'\"=:lambdxpqrstuvwxyz<>!%&|^~@{}\\\n\t\x00é"


@settings(max_examples=examples(400), deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60) | st.text(max_size=60))
def test_any_text_is_accepted_or_refused_with_expression_error(text):
    try:
        tree = parse(text)
    except ExpressionError as error:
        assert "\n" not in str(error)
        return
    assert isinstance(tree, ast.Expression)
    names = {name: Value(0.5, name) for name in names_used(tree)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = evaluate(tree, names)
    except ExpressionError:
        return
    assert isinstance(out, Value)


@pytest.mark.parametrize(
    ("bound", "message"),
    [
        (2.0, "a is bound to float: 2.0; names must be bound to Values"),
        ("2", "a is bound to str: '2'; names must be bound to Values"),
        (None, "a is bound to NoneType: None; names must be bound to Values"),
    ],
)
def test_names_must_be_bound_to_values(bound, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        evaluate(parse("a"), {"a": bound})
    with pytest.raises(ExpressionError, match=re.escape(message)):
        evaluate(parse("exp(a) + 1"), {"a": bound})


def hand_built(body: ast.AST) -> ast.Expression:
    return ast.Expression(body=body)  # no source positions, as a hand-built tree may lack them


def missing_left() -> ast.AST:
    node = ast.BinOp(ast.Constant(1.0), ast.Add(), ast.Constant(1.0))
    node.left = None  # an empty field; `ast.BinOp()` with no fields is an error from Python 3.15
    return node


def call(name: str, *args: ast.AST) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def looping_sum() -> ast.AST:
    node = ast.BinOp(ast.Constant(1.0), ast.Add(), ast.Constant(1.0))
    node.right = node  # a "tree" that contains itself
    return node


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ("a + 1", "evaluate takes the syntax tree from parse(), received str"),
        (ast.parse("a = 1"), "evaluate takes the syntax tree from parse(), received Module"),
        (ast.Expression(body=ast.Load()), "Expression.body is Load, expected expr"),
        (hand_built(ast.BinOp(ast.Constant(1.0), ast.FloorDiv(), ast.Constant(2.0))), "//"),
        (hand_built(missing_left()), "BinOp.left is NoneType, expected expr"),
        (hand_built(ast.Name(id=["a"], ctx=ast.Load())), "Name.id is list, expected str"),
        (hand_built(ast.Constant("x")), "only numbers are allowed as literals, received 'x'"),
        (hand_built(ast.Constant(1e300)), "1e+300 is out of range"),
        (hand_built(ast.Call(ast.Name("exp", ast.Load()), [], [])), "exactly 1 argument"),
        (hand_built(call("maximum", ast.Name("a", ast.Load()))), "exactly 2 arguments"),
        # A keyword is let through as part of a call; out of place, it is still refused.
        (hand_built(call("exp", ast.keyword("x", ast.Constant(1.0)))), "keyword is not allowed"),
        (hand_built(ast.Call(ast.Name("eval", ast.Load()), [ast.Constant(1.0)], [])), "eval"),
        (hand_built(ast.Expression(body=ast.Constant(1.0))), "body is Expression, expected expr"),
        (hand_built(looping_sum()), "at most 200 are accepted"),
    ],
)
def test_a_tree_not_from_parse_is_checked_as_parse_would(tree, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        evaluate(tree, {"a": Value(1.0)})


def test_names_must_be_a_mapping():
    with pytest.raises(ExpressionError, match=facts("names", "Values", "list")):
        evaluate(parse("a"), [("a", Value(1.0))])


# Issue 13: what is drawn is exactly what was typed.


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("a #", 3),
        ("a # + b", 3),  # Python's parser would read only "a"
        ("#a", 1),
        ("a +\\\n1", 4),
        ("a\u00a0+ 1", 2),  # a no-break space
        ("\u0430 + 1", 1),  # a Cyrillic letter that looks like "a"
        ("\U0001d44e", 1),  # mathematical italic a: Python would fold it into "a"
    ],
)
def test_characters_the_tree_would_not_show_are_refused(text, column):
    with pytest.raises(ExpressionError, match=f"at column {column} is not allowed") as caught:
        parse(text)
    assert str(caught.value).isascii() and str(caught.value).isprintable()


@settings(max_examples=examples(200), deadline=None)
@given(st.text(max_size=40))
def test_an_accepted_expression_is_printable_ascii_without_comments(text):
    try:
        parse(text)
    except ExpressionError as error:
        assert str(error).isprintable()
        return
    assert text.isascii() and text.isprintable() and "#" not in text and "\\" not in text


@pytest.mark.parametrize("text", ["\u0430=1", "\U0001d44e=1", "é=2"])
def test_set_names_are_ascii_as_in_expressions(text):
    with pytest.raises(ExpressionError, match="--set takes NAME=NUMBER"):
        parse_binding(text)


def test_a_function_name_in_set_is_quoted():
    with pytest.raises(ExpressionError) as caught:
        parse_binding("exp=\x1b[2J")
    assert "\x1b" not in str(caught.value) and "'exp=\\x1b[2J'" in str(caught.value)
