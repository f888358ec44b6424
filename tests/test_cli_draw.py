"""Tests for `python -m micrograd draw`: files written, numbers printed, one-line errors."""

from __future__ import annotations

import math
import pathlib
import subprocess
import sys

import pytest

from micrograd.cli import main
from micrograd.viz import available_backends

ROOT = pathlib.Path(__file__).parent.parent
needs_backend = pytest.mark.skipif(not available_backends(), reason="no Graphviz program")


def draw(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["draw", *args])
    out, err = capsys.readouterr()
    return code, out, err


@needs_backend
def test_issue_example_writes_svg_and_frames(capsys, tmp_path):
    code, out, err = draw(
        capsys,
        "tanh(a*b + c)",
        "--set",
        "a=2",
        "b=-3",
        "c=10",
        "-o",
        str(tmp_path / "graph.svg"),
        "--steps",
        str(tmp_path / "steps"),
    )
    assert (code, err) == (0, "")
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg and "tanh" in svg
    frames = sorted(p.name for p in (tmp_path / "steps").iterdir())
    assert frames == ["step_001.svg", "step_002.svg", "step_003.svg"]
    # tanh(4) and d/da = b * (1 - tanh(4)**2), computed independently with math.
    t = math.tanh(4.0)
    assert f"= {t:.6g}" in out
    assert f"d/da = {-3 * (1 - t * t):.6g}" in out
    assert f"d/db = {2 * (1 - t * t):.6g}" in out


@needs_backend
def test_png_output_and_dot_output(capsys, tmp_path):
    assert draw(capsys, "a*a", "--set", "a=3", "-o", str(tmp_path / "g.png"))[0] == 0
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert draw(capsys, "a*a", "--set", "a=3", "-o", str(tmp_path / "g.dot"))[0] == 0
    dot = (tmp_path / "g.dot").read_text()
    assert dot.count("v0 -> o1;") == 2


def test_dot_output_needs_no_graphviz(capsys, tmp_path, monkeypatch):
    from micrograd.viz import backends

    monkeypatch.setattr(backends, "find_executable", lambda name: None)
    code, _, err = draw(capsys, "a*a", "--set", "a=3", "-o", str(tmp_path / "g.dot"))
    assert (code, err) == (0, "")
    code, _, err = draw(capsys, "a*a", "--set", "a=3", "-o", str(tmp_path / "g.svg"))
    assert code == 1 and "pip install 'micrograd[viz]'" in err


HOSTILE = [
    ("__import__('os')", "received a call to __import__"),
    ("__import__('os').system('touch PWNED')", "attribute access"),
    ("a.__class__.__bases__", "attribute access"),
    ("(lambda: a)()", "lambda is not allowed"),
    ("[c for c in ().__class__.__base__.__subclasses__()]", "is not allowed"),
    ("2**10**10", r"2 \*\* 10 \*\* 10 is inf"),
    ("a ** 10 ** 10", "is inf"),
    ("9" * 400, "out of range"),
    ("a" * 600, "at most 500"),
    ("eval('1')", "received a call to eval"),
    ("b + a", "unknown name 'b'"),
    ("a +* 2", "syntax error"),
]


@pytest.mark.parametrize(("expression", "message"), HOSTILE)
def test_hostile_expressions_fail_with_one_line(capsys, tmp_path, expression, message):
    import re

    output = tmp_path / "g.svg"
    args = [expression, "-o", str(output)]
    if re.search(r"\ba\b", expression):
        args += ["--set", "a=2"]
    code, out, err = draw(capsys, *args)
    assert code == 1
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1
    assert err.startswith("micrograd draw: error: ")
    assert re.search(message, err)
    assert not output.exists()
    assert not (pathlib.Path.cwd() / "PWNED").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a", "--set", "a=two"], "needs a number"),
        (["a", "--set", "a=1", "a=2"], "gives a twice"),
        (["a", "--set", "a=1", "b=2"], "gives b, not used"),
        (["2 * 3"], "no names"),
        (["a"], "unknown name 'a'"),
    ],
)
def test_bad_bindings_fail_with_one_line(capsys, tmp_path, args, message):
    code, _, err = draw(capsys, *args, "-o", str(tmp_path / "g.svg"))
    assert code == 1 and err.count("\n") == 1 and message in err


def test_unwritable_output_is_one_line(capsys, tmp_path):
    target = tmp_path / "missing" / "g.dot"
    code, _, err = draw(capsys, "a", "--set", "a=1", "-o", str(target))
    assert code == 1 and err.count("\n") == 1 and "missing" in err


@needs_backend
def test_unknown_suffix_is_one_line(capsys, tmp_path):
    code, _, err = draw(capsys, "a", "--set", "a=1", "-o", str(tmp_path / "g.nosuchformat"))
    assert code == 1 and err.count("\n") == 1 and "cannot write 'nosuchformat'" in err


def test_command_runs_as_a_module(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "micrograd", "draw", "__import__('os')", "-o", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "micrograd draw: error: calls are allowed only to exp, log, tanh, sigmoid, relu, abs, "
        "sin, cos, sqrt; received a call to __import__"
    ]
