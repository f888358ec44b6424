"""The README's Python examples run, and print what the README says they print.

In a README code block, a comment at the end of a `print(...)` line and a comment on a line of
its own are the output the block must produce, in order.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.references import HAVE_TORCH

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


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


@pytest.mark.parametrize("block", [_param(i, block) for i, block in enumerate(BLOCKS)])
def test_readme_block(block, tmp_path, monkeypatch):
    if "torch" in block and not HAVE_TORCH:
        pytest.skip("this README example needs PyTorch")
    monkeypatch.chdir(tmp_path)  # blocks may write files
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})  # our own README
    expected = expected_output(block)
    if expected:
        assert stdout.getvalue().splitlines() == expected
