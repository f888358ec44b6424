"""Tests for `python -m micrograd draw`: files written, numbers printed, one-line errors."""

from __future__ import annotations

import contextlib
import io
import math
import os
import pathlib
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.cli import main
from micrograd.viz import available_backends
from tests.references import examples

ROOT = pathlib.Path(__file__).parents[2]
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
def test_maximum_and_square_are_drawn_with_the_value_methods_numbers(capsys, tmp_path):
    from micrograd import Value

    args = ["maximum(a, b) * square(c)", "--set", "a=1", "b=2", "c=3"]
    code, out, err = draw(capsys, *args, "-o", str(tmp_path / "g.svg"))
    assert (code, err) == (0, "")
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    expected = a.maximum(b) * c.square()
    expected.backward()
    assert out.splitlines()[:4] == [
        f"maximum(a, b) * square(c) = {expected.data:.6g}",
        *(f"  d/d{name} = {v.grad:.6g}" for name, v in zip("abc", (a, b, c))),
    ]
    svg = (tmp_path / "g.svg").read_text()
    assert ">max<" in svg and ">²<" in svg  # the op circles carry the records' symbols


@pytest.mark.parametrize(
    ("expression", "facts"),
    [
        ("maximum(a)", ["maximum()", "2 arguments", "maximum(x, y)", "received 1"]),
        ("clamp_min(a, min=0)", ["clamp_min()", "keyword argument min=0", "clamp_min(x, low)"]),
    ],
)
def test_wrong_calls_are_one_line_naming_the_function(capsys, tmp_path, expression, facts):
    code, out, err = draw(capsys, expression, "--set", "a=1", "-o", str(tmp_path / "g.svg"))
    assert (code, out) == (1, "") and len(err.splitlines()) == 1
    assert all(fact in err for fact in facts), err
    assert not (tmp_path / "g.svg").exists()


def test_a_function_name_cannot_be_set(capsys, tmp_path):
    code, out, err = draw(capsys, "a", "--set", "maximum=1", "-o", str(tmp_path / "g.svg"))
    assert (code, out) == (1, "") and "maximum is a function name" in err


def png_size(path: pathlib.Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@needs_backend
@pytest.mark.parametrize("backend", available_backends())
def test_png_frames_are_one_size(capsys, tmp_path, backend):
    # The example of issue 11, whose png frames were 787, 835, 885 and 909 px wide.
    args = ["tanh(a*b + c*d)", "--set", "a=2", "b=-3", "c=10", "d=0.5"]
    args += ["-o", str(tmp_path / "g.png"), "--steps", str(tmp_path / "fr")]
    code, _, err = draw(capsys, *args, "--steps-format", "png", "--backend", backend)
    assert (code, err) == (0, "")
    frames = sorted((tmp_path / "fr").iterdir())
    assert [p.name for p in frames] == [f"step_00{k}.png" for k in range(1, 5)]
    sizes = [png_size(p) for p in frames]
    assert len(set(sizes)) == 1, sizes
    # Not one picture four times: each frame shows its own step.
    assert len({p.read_bytes() for p in frames}) == 4


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


def test_a_fifo_or_a_read_only_file_as_output_is_one_line_and_left_alone(capsys, tmp_path):
    fifo = tmp_path / "g.dot"
    os.mkfifo(fifo)
    code, _, err = draw(capsys, "a", "--set", "a=1", "-o", str(fifo))
    assert code == 1 and err.count("\n") == 1 and "FIFO" in err and str(fifo) in err
    assert fifo.is_fifo()
    locked = tmp_path / "h.dot"
    locked.write_text("old")
    locked.chmod(0o444)
    code, _, err = draw(capsys, "a", "--set", "a=1", "-o", str(locked))
    assert code == 1 and err.count("\n") == 1 and "read-only" in err and str(locked) in err
    assert "--overwrite-read-only" in err and locked.read_text() == "old"
    code, _, _ = draw(capsys, "a", "--set", "a=1", "-o", str(locked), "--overwrite-read-only")
    assert code == 0 and locked.read_text().startswith("digraph")


def test_frames_onto_a_fifo_are_refused_before_any_is_written(capsys, tmp_path):
    steps = tmp_path / "steps"
    steps.mkdir()
    os.mkfifo(steps / "step_002.svg")
    code, _, err = draw(
        capsys, "(a*b+a)*b", "--set", "a=1", "--set", "b=2", "-o", str(tmp_path / "g.dot"),
        "--steps", str(steps),
    )  # fmt: skip
    assert code == 1 and err.count("\n") == 1 and "FIFO" in err
    assert sorted(p.name for p in steps.iterdir()) == ["step_002.svg"]


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
        "sin, cos, sqrt, square, maximum, minimum, clamp_min, clamp_max, clamp; "
        "received a call to __import__"
    ]


# Issue 13: the whitelist is the whole story (no comments), nothing printed is a control
# character, and an expression may start with "-".

ESCAPES = "\x1b]0;PWNED\x07\x1b[2J"


def assert_printable(text: str) -> None:
    """Every character is one a terminal shows, apart from the line ends."""
    assert all(ch.isprintable() for ch in text.replace("\n", "")), repr(text)


def test_a_comment_is_refused_and_its_control_bytes_are_not_echoed(capsys, tmp_path):
    output = tmp_path / "g.dot"
    code, out, err = draw(capsys, "a #" + ESCAPES, "--set", "a=1", "-o", str(output))
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "'#'" in err and "column 3" in err
    assert_printable(err)
    assert not output.exists()


@pytest.mark.parametrize(
    ("expression", "facts"),
    [
        ("a \\\n + 1", ["'\\'", "column 3"]),
        ("(a\n+ 1)", [r"'\n'", "U+000A", "column 3"]),
        ("a\t+ 1", [r"'\t'", "U+0009", "column 2"]),
        ("a\x1b[2J", [r"'\x1b'", "U+001B", "column 2"]),
        ("\uff41 + 1", [r"'\uff41'", "U+FF41", "column 1"]),  # Python would read it as "a"
        ("a\u202e + 1", [r"'\u202e'", "U+202E", "column 2"]),  # right-to-left override
    ],
)
def test_characters_outside_the_whitelist_are_refused(capsys, tmp_path, expression, facts):
    code, out, err = draw(capsys, expression, "--set", "a=1", "-o", str(tmp_path / "g.dot"))
    assert (code, out) == (1, "")
    assert all(fact in err for fact in facts) and err.count("\n") == 1
    assert_printable(err)


@pytest.mark.parametrize(
    "args",
    [
        ["a", "--set", "a=1", "-o", "g" + ESCAPES + ".dot"],  # printed on success
        ["a", "--set", "a=" + ESCAPES, "-o", "g.dot"],
        ["a", "--set", ESCAPES + "=1", "-o", "g.dot"],
        ["a", "--set", "exp=" + ESCAPES, "-o", "g.dot"],
        ["a", "--set", "a=1", "-o", "missing" + ESCAPES + "/g.dot"],
        ["a", "--set", "a=1", "-o", "g.dot", "--steps", "missing/" + ESCAPES],
    ],
)
def test_no_control_character_reaches_the_terminal(capsys, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    code, out, err = draw(capsys, *args)
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\x1b" in out + err  # shown, escaped
    assert_printable(out + err)
    assert code in (0, 1)


@pytest.mark.parametrize(
    "args",
    [
        ["a", "--set", "a=1", "-o", "g.dot", ESCAPES],  # unrecognized argument
        ["a", "--set", "a=1", "-o", "g.dot", "--backend", ESCAPES],  # invalid choice
        ["a", "--set", "a=1", "-o", "g.dot", "--" + ESCAPES],
    ],
)
def test_argparse_errors_are_escaped_too(capsys, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["draw", *args])
    _, err = capsys.readouterr()
    assert info.value.code == 2
    assert "\\x1b" in err and "\x1b" not in err and "\x07" not in err


def test_undecodable_bytes_on_the_command_line_are_escaped(tmp_path):
    # Bytes that are not UTF-8 reach Python as lone surrogates, which cannot even be printed.
    done = subprocess.run(
        [sys.executable, "-m", "micrograd", "draw", b"a\xff\x1b[2J", "--set", "a=1", "-o", "g.dot"],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"},
        check=False,
    )
    assert done.returncode == 1 and done.stdout == b""
    assert b"\x1b" not in done.stderr and b"Traceback" not in done.stderr
    assert done.stderr.decode("ascii").count("\n") == 1
    assert all(fact in done.stderr.decode("ascii") for fact in ("'\\udcff'", "column 2"))


@settings(max_examples=examples(150), deadline=None)
@given(text=st.text(max_size=30), name=st.text(max_size=8))
def test_whatever_is_typed_every_printed_line_is_printable(tmp_path_factory, text, name):
    folder = tmp_path_factory.mktemp("draw")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(["draw", text, "--set", f"{name}=1", "-o", str(folder / f"{name}.dot")])
        except SystemExit:
            pass  # argparse's own errors (text such as "-h" or "--x")
    assert_printable(stdout.getvalue() + stderr.getvalue())


def test_an_expression_may_start_with_minus(capsys, tmp_path):
    code, out, err = draw(capsys, "-a*2", "--set", "a=1", "-o", str(tmp_path / "g.dot"))
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == ["-a*2 = -2", "  d/da = -2"]
    assert "-> " in (tmp_path / "g.dot").read_text()


@needs_backend
def test_the_issue_example_with_a_leading_minus_writes_svg(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = draw(capsys, "-a*2", "--set", "a=1", "-o", "g.svg")
    assert (code, err) == (0, "")
    assert "<svg" in (tmp_path / "g.svg").read_text()


@pytest.mark.parametrize(
    ("args", "value", "grad"),
    [
        (["-o", "{out}", "-a-1", "--set", "a=3"], -4.0, -1.0),  # options first
        (["-1 + a", "--set", "a=3", "-o", "{out}"], 2.0, 1.0),  # a negative number
        (["-exp(a)", "--set", "a=0", "-o", "{out}"], -1.0, -1.0),
        (["-(a)**2", "--set", "a=3", "-o", "{out}"], -9.0, -6.0),
        (["--set", "a=3", "-o", "{out}", "--", "-o*a"], None, None),  # "-o" needs "--"
    ],
)
def test_leading_minus_with_options_anywhere(capsys, tmp_path, args, value, grad):
    args = [a.replace("{out}", str(tmp_path / "g.dot")) for a in args]
    code, out, err = draw(capsys, *args)
    if value is None:
        assert code == 1 and "unknown name 'o'" in err
        return
    assert (code, err) == (0, "")
    assert f"= {value:.6g}" in out and f"d/da = {grad:.6g}" in out


def test_options_still_parse_after_an_expression_with_minus(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["draw", "-a", "--set", "a=1"])  # -o is still required
    assert "required: -o/--output" in capsys.readouterr().err
