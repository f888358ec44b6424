"""The promises table (docs/guide/promises.md): every line names tests, and every test it names
exists."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[2]
TESTS = ROOT / "tests"


def promise_rows() -> list[tuple[str, list[str]]]:
    """(promise, [folder/file.py::test, ...]) for each row of the guide's "Promises" table."""
    section = (ROOT / "docs" / "guide" / "promises.md").read_text(encoding="utf-8")
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("promise", "---"):
            continue
        rows.append((cells[0], re.findall(r"`((?:\w+/)?test_\w+\.py::test_\w+)`", cells[1])))
    return rows


def defined_tests(file: str) -> set[str]:
    path = TESTS / file
    if not path.exists():
        return set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


ROWS = promise_rows()
# Promises whose tests have not landed yet (strict: once a row passes, its mark fails).
PENDING: set[str] = set()


def test_the_table_covers_threads_files_and_untrusted_input():
    promises = " ".join(promise for promise, _ in ROWS)
    assert len(ROWS) >= 8
    for topic in ("thread", "file", "draw", "demo"):
        assert topic in promises.lower()


@pytest.mark.parametrize(
    ("promise", "tests"),
    [
        pytest.param(
            promise,
            tests,
            marks=[pytest.mark.xfail(strict=True, reason="the engine branch's test")]
            if any(promise.startswith(p) for p in PENDING)
            else [],
            id=promise[:40],
        )
        for promise, tests in ROWS
    ],
)
def test_every_promise_names_tests_that_exist(promise, tests):
    assert tests, f"the promise {promise!r} names no test"
    for reference in tests:
        file, name = reference.split("::")
        assert name in defined_tests(file), f"{reference} (for {promise!r}) is not a test"
