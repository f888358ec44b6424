"""The command line: `python -m micrograd`."""

from __future__ import annotations

import math
import subprocess
import sys

from micrograd.cli import main


def test_example_prints_every_node(capsys):
    assert main(["example"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split(":")[0].strip(): line for line in lines[1:]}
    assert set(rows) == {"a", "b", "c", "a*b", "n", "out"}
    out = math.tanh(2 * -3 + 10)
    assert f"{out:10.6f}" in rows["out"]
    assert f"{-3 * (1 - out**2):10.6f}" in rows["a"]  # d out / d a = b * tanh'(n)


def test_no_command_prints_help_and_fails():
    result = subprocess.run(
        [sys.executable, "-m", "micrograd"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "COMMAND" in result.stdout


def test_unknown_command_fails_with_a_message():
    result = subprocess.run(
        [sys.executable, "-m", "micrograd", "frobnicate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "frobnicate" in result.stderr
