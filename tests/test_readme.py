"""The Python examples of the README and of the package page run, and print what they say.

The package page (PACKAGE.md) is the distribution's long description, shown on the package index.
In a code block of either, a comment at the end of a `print(...)` line and a comment on a line of
its own are the output the block must produce, in order.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.references import HAVE_TORCH

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PACKAGE_PAGE = ROOT / "PACKAGE.md"


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)


BLOCKS = python_blocks(README)


def expected_output(block: str) -> list[str]:
    lines = []
    for line in block.splitlines():
        if line.startswith("# "):
            lines.append(line[2:])
        elif line.startswith("print(") and "  # " in line:
            lines.append(line.split("  # ", 1)[1])
    return lines


def test_readme_has_examples():
    assert len(BLOCKS) >= 3


def _param(i: int, block: str) -> object:
    # The eager 100-step training loop takes most of a minute on a busy machine.
    slow = "range(100)" in block and ".backward()" in block
    return pytest.param(block, id=f"block{i}", marks=[pytest.mark.slow] if slow else [])


def run_block(block: str, page: Path) -> list[str]:
    """The lines a code block of one of our own pages prints."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(block, str(page), "exec"), {"__name__": "readme"})  # our own page
    return stdout.getvalue().splitlines()


@pytest.mark.parametrize("block", [_param(i, block) for i, block in enumerate(BLOCKS)])
def test_readme_block(block, tmp_path, monkeypatch):
    if "torch" in block and not HAVE_TORCH:
        pytest.skip("this README example needs PyTorch")
    monkeypatch.chdir(tmp_path)  # blocks may write files
    printed = run_block(block, README)
    expected = expected_output(block)
    if expected:
        assert printed == expected


def test_package_page_example_prints_what_the_page_shows(tmp_path, monkeypatch):
    # One example, with its output: the page has no other way to show what the package does.
    (block,) = python_blocks(PACKAGE_PAGE)
    expected = expected_output(block)
    assert len(expected) >= 2, "the package page's example shows no output"
    monkeypatch.chdir(tmp_path)
    assert run_block(block, PACKAGE_PAGE) == expected
