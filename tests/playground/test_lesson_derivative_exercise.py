"""The lesson page's exercise, on the Python side: the learner's formula for the sigmoid's slope,
read by the safe expression parser and checked against central differences point by point,
with the typical slips named by kind (the page words them in English or Chinese)."""

from __future__ import annotations

import json
import math

import pytest

from micrograd.gradcheck import DEFAULT_POINTS
from micrograd.playground import glue
from micrograd.playground.lesson import DERIVATIVE_SOLUTION, answer, check_derivative_text


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def slope(x: float) -> float:  # the textbook derivative, written independently of the package
    return sigmoid(x) * (1.0 - sigmoid(x))


@pytest.mark.parametrize(
    "text",
    [
        DERIVATIVE_SOLUTION,
        "exp(-x) / (1 + exp(-x))**2",
        "sigmoid(x) - sigmoid(x)**2",
        "1 / (exp(x) + 2 + exp(-x))",
    ],
)
def test_every_right_formula_is_right_at_every_point(text):
    result = check_derivative_text(text)
    assert result["right"] and result["wrong"] == 0 and result["mistake"] is None
    assert result["checked"] == len(DEFAULT_POINTS) == len(result["rows"])
    for row, x in zip(result["rows"], DEFAULT_POINTS):
        assert row["x"]["value"] == x and row["right"]
        assert row["central"]["value"] == pytest.approx(slope(x), abs=1e-9)
        assert row["yours"]["value"] == pytest.approx(slope(x), rel=1e-12)


@pytest.mark.parametrize(
    ("text", "mistake", "yours"),
    [
        ("sigmoid(x)", "value", sigmoid),
        ("1 - sigmoid(x)", "one-minus", lambda x: 1 - sigmoid(x)),
        ("-sigmoid(x) * (1 - sigmoid(x))", "sign", lambda x: -slope(x)),
        ("2 * sigmoid(x) * (1 - sigmoid(x))", "factor", lambda x: 2 * slope(x)),
        ("x**2", None, lambda x: x * x),
    ],
)
def test_a_wrong_formula_shows_where_by_how_much_and_which_slip(text, mistake, yours):
    result = check_derivative_text(text)
    assert not result["right"] and result["mistake"] == mistake
    assert result["wrong"] == sum(not row["right"] for row in result["rows"]) > 0
    for row, x in zip(result["rows"], DEFAULT_POINTS):
        assert row["yours"]["value"] == pytest.approx(yours(x), rel=1e-12)
        assert row["difference"]["value"] == pytest.approx(yours(x) - slope(x), abs=1e-9)
    if mistake == "factor":
        assert result["factor"]["shown"] == "2"


def test_what_cannot_be_checked_is_said_not_raised():
    assert check_derivative_text("   ") == {"written": False}
    assert check_derivative_text("net_o1 * 2") == {
        "written": True,
        "problem": "names",
        "names": ["net_o1"],
    }
    for text in ("sigmoid(x", "__import__('os').system('ls')", "x.real", "x" * 501):
        result = check_derivative_text(text)
        assert result["problem"] == "unreadable" and result["message"], text


def test_a_formula_undefined_at_a_point_is_wrong_there_not_an_error():
    result = check_derivative_text("log(x)")  # no log of -1.5 or -0.4
    rows = {row["x"]["value"]: row for row in result["rows"]}
    assert not rows[-1.5]["right"] and not rows[2.0]["right"]
    request = {"call": "lesson", "args": {"part": "derivative", "text": "1/0"}}
    reply = json.loads(glue.handle_page(json.dumps(request)))
    assert reply["ok"] and not reply["right"]  # inf and nan travel as text: JSON has neither


def test_the_page_request_and_the_revealed_solution():
    revealed = answer("derivative", reveal=True)
    assert revealed["text"] == DERIVATIVE_SOLUTION and revealed["right"]
    typed = answer("derivative", text="sigmoid(x)")
    assert typed["text"] == "sigmoid(x)" and typed["mistake"] == "value"
    with pytest.raises(glue.PlaygroundError, match="must be text"):
        answer("derivative", text=3)
