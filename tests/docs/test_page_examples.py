"""The Python examples of the README, the guide's pages and the package page run, and print what
they say.

The guide is the manual, one page per topic in docs/guide/; the package page (PACKAGE.md) is the
distribution's long description, shown on the package index. In a code block of any of them, a
comment at the end of a `print(...)` line and a comment on a line of its own are the output the
block must produce, in order.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.references import HAVE_TORCH

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PACKAGE_PAGE = ROOT / "PACKAGE.md"
GUIDE_PAGES = sorted((ROOT / "docs" / "guide").glob("*.md"))
# Every page whose examples must run: a new guide page is picked up by being there.
PAGES = [README, *GUIDE_PAGES]


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)


BLOCKS = [(page, block) for page in PAGES for block in python_blocks(page)]


def expected_output(block: str) -> list[str]:
    lines = []
    for line in block.splitlines():
        if line.startswith("# "):
            lines.append(line[2:])
        elif line.startswith("print(") and "  # " in line:
            lines.append(line.split("  # ", 1)[1])
    return lines


def test_readme_and_guide_have_examples():
    # The README's one example, and the guide's: as many as the README had when it was the manual.
    assert len(python_blocks(README)) == 1
    assert len(GUIDE_PAGES) >= 14
    assert len(BLOCKS) >= 13


def _param(page: Path, i: int, block: str) -> object:
    # The eager 100-step training loop takes most of a minute on a busy machine.
    slow = "range(100)" in block and ".backward()" in block
    marks = [pytest.mark.slow] if slow else []
    if "torch" in block:
        marks.append(pytest.mark.torch)
    return pytest.param(page, block, id=f"{page.stem}-block{i}", marks=marks)


def _params() -> list[object]:
    return [_param(page, i, block) for page in PAGES for i, block in enumerate(python_blocks(page))]


def run_block(block: str, page: Path) -> list[str]:
    """The lines a code block of one of our own pages prints."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(block, str(page), "exec"), {"__name__": "readme"})  # our own page
    return stdout.getvalue().splitlines()


@pytest.mark.parametrize(("page", "block"), _params())
def test_page_block(page, block, tmp_path, monkeypatch):
    if "torch" in block and not HAVE_TORCH:
        pytest.skip("this example needs PyTorch")
    monkeypatch.chdir(tmp_path)  # blocks may write files
    printed = run_block(block, page)
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


def test_ci_runs_every_command_block_the_readme_marks_for_it():
    """Each `<!-- ci: NAME -->` block is a bash block that `.ci/run` runs by name, and CI runs
    no block the README lacks: the commands a user is given are the commands CI checks."""
    readme = README.read_text(encoding="utf-8")
    marked = re.findall(r"^<!-- ci: ([\w-]+) -->\n```bash\n(.+?)```", readme, re.M | re.S)
    names = [name for name, _ in marked]
    assert len(names) == readme.count("<!-- ci: "), "a ci marker is not followed by a bash block"
    assert {"quick-start", "tests", "checks", "docs", "torch-tests"} <= set(names)
    assert len(set(names)) == len(names)
    if not (ROOT / ".ci" / "run").is_file():
        pytest.skip("no .ci/run here (the sdist leaves CI out)")
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    run = re.findall(r"^run_block ([\w-]+)", script, re.M)
    assert sorted(run) == sorted(names)
    # The tests run first without PyTorch, then with it; the quick start comes before both.
    assert run.index("quick-start") < run.index("tests") < run.index("torch-tests")
    assert script.index("run_block tests") < script.index("pip install -q torch")
    assert script.index("pip install -q torch") < script.index("run_block torch-tests")
    # No flag that turns a failure into a pass, in the blocks or in the script.
    for text in [script, *(block for _, block in marked)]:
        assert "|| true" not in text and "--quiet" not in text
        assert "set +e" not in text
    assert "set -euo pipefail" in script
