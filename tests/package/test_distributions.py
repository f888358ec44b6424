"""The distributions: an sdist that carries its own test suite, a wheel with the package alone.

Builds both with `python -m build` (the sdist first, then the wheel from it, as the package index
sees them) into a temporary folder and reads their file lists and metadata.
"""

from __future__ import annotations

import email.parser
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import micrograd

ROOT = Path(__file__).resolve().parents[2]
# Tracked files the sdist leaves out on purpose: CI's own script and git's settings.
NOT_IN_SDIST = re.compile(r"(\.ci/.*|\.git\w*)")
# What a working tree may hold that is never part of a distribution.
SCRATCH = shutil.ignore_patterns(
    ".git", ".venv*", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", "site",
    ".hypothesis", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".ipynb_checkpoints", ".cache",
    "out", "micrograd-demo", "node_modules", ".ci-out",
)  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("build") is None,
        reason="the `build` package is not installed (it comes with the test extra)",
    ),
]


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel built from a copy of this source tree."""
    tmp = tmp_path_factory.mktemp("dist")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=SCRATCH)
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp / "out"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = (tmp / "out").glob("*.tar.gz")
    (wheel,) = (tmp / "out").glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def sdist_files(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as archive:
        names = [member.name for member in archive.getmembers() if member.isfile()]
    return {name.split("/", 1)[1] for name in names}


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if not name.endswith("/")}


def tracked_files() -> set[str] | None:
    """Files git tracks here, or None outside a git checkout (an unpacked sdist, say)."""
    if shutil.which("git") is None:
        return None
    done = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return None
    return {name for name in done.stdout.split("\0") if name and (ROOT / name).is_file()}


def source_files(folder: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def readme_links() -> set[str]:
    """Relative link and image targets in README.md and the guide's pages (docs/guide/), as
    paths from the repository's root, without their #anchors."""
    found = set()
    for page in [ROOT / "README.md", *(ROOT / "docs" / "guide").glob("*.md")]:
        targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
        for target in targets:
            if not re.match(r"[a-z]+:|#", target):
                path = os.path.normpath(page.parent / target.split("#")[0])
                found.add(Path(path).relative_to(ROOT).as_posix())
    return found


def test_sdist_carries_the_test_suite_and_what_it_reads(dists):
    files = sdist_files(dists["sdist"])
    needed = {"pyproject.toml", "setup.cfg", "README.md", "PACKAGE.md", "LICENSE", "CHANGELOG.md"}
    needed |= {"tests/conftest.py", "tests/references.py"}
    for folder in ("micrograd", "tests", "notebooks", "docs"):
        needed |= source_files(folder)
    needed |= readme_links()
    assert any(name.startswith("tests/snapshots/") for name in needed)
    assert any(name.endswith(".ipynb") for name in needed)
    missing = sorted(needed - files)
    assert not missing, f"the sdist lacks {missing}: add them to MANIFEST.in"


def test_sdist_carries_every_tracked_file_but_ci_and_git_settings(dists):
    tracked = tracked_files()
    if tracked is None:
        pytest.skip("not a git checkout, so there is no list of tracked files to compare with")
    wanted = {name for name in tracked if not NOT_IN_SDIST.fullmatch(name)}
    missing = sorted(wanted - sdist_files(dists["sdist"]))
    assert not missing, f"the sdist lacks tracked files {missing}: add them to MANIFEST.in"


def test_wheel_holds_the_package_alone(dists):
    files = wheel_files(dists["wheel"])
    package = {name for name in files if name.startswith("micrograd/")}
    metadata = {name for name in files if ".dist-info/" in name}
    assert files == package | metadata, f"outside the package: {sorted(files - package - metadata)}"
    assert package == source_files("micrograd"), "the wheel's package differs from the source's"
    assert "micrograd/py.typed" in package


def test_wheel_metadata(dists):
    with zipfile.ZipFile(dists["wheel"]) as archive:
        (info,) = {name.split("/")[0] for name in archive.namelist() if ".dist-info/" in name}
        metadata = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert metadata["Name"] != "micrograd"
    assert metadata["Version"] == micrograd.__version__
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata.get_all("Requires-Dist") is None or all(
        "extra ==" in requirement for requirement in metadata.get_all("Requires-Dist")
    ), "the core must need the standard library alone"
    assert {"viz", "test", "docs"} <= set(metadata.get_all("Provides-Extra"))
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert re.search(r"^micrograd = micrograd\.cli:main$", entry_points, re.MULTILINE)


def relative_targets(markdown: str) -> list[str]:
    """Link and image targets that are neither absolute http(s) addresses nor #anchors."""
    # [text](target) and ![alt](target); then [ref]: target; then HTML's src= and href=.
    targets = re.findall(r"\]\(\s*<?([^)\s>]*)", markdown)
    targets += re.findall(r"^ {0,3}\[[^\]]+\]:\s*<?([^\s>]*)", markdown, re.MULTILINE)
    targets += re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", markdown, re.IGNORECASE)
    return [t for t in targets if not re.match(r"https?://|#", t)]


def test_relative_targets_finds_what_the_package_index_cannot_follow():
    page = (
        "[guide](README.md) ![a](docs/images/a.svg) [up](../x) [ok](https://example.org/a.md)\n"
        "[top](#install) <img src='b.png'> <a href=\"notebooks/\">n</a>\n[ref]: CHANGELOG.md\n"
    )
    assert relative_targets(page) == [
        "README.md",
        "docs/images/a.svg",
        "../x",
        "CHANGELOG.md",
        "b.png",
        "notebooks/",
    ]


def test_long_description_is_the_self_contained_package_page(dists):
    with zipfile.ZipFile(dists["wheel"]) as archive:
        (info,) = {name.split("/")[0] for name in archive.namelist() if ".dist-info/" in name}
        metadata = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
    description = metadata.get_payload()
    page = (ROOT / "PACKAGE.md").read_text(encoding="utf-8")
    assert description.strip() == page.strip(), "the long description is not PACKAGE.md"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "![" not in description, "an image on the package page"
    assert not re.search(r"<img\b", description, re.IGNORECASE), "an image on the package page"
    assert not relative_targets(description), (
        f"the package page links {relative_targets(description)}, which the index cannot follow"
    )


def test_twine_accepts_both(dists):
    if importlib.util.find_spec("twine") is None:
        pytest.skip("twine is not installed (it comes with the test extra)")
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dists.values())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
