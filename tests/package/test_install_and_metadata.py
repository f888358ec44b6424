"""The package as installed users see it: the core needs the standard library alone."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

OPTIONAL = ("numpy", "torch", "matplotlib", "IPython", "sympy", "nbclient")


def test_import_pulls_in_no_optional_package():
    code = (
        "import sys, micrograd, micrograd.engine, micrograd.nn, micrograd.viz, micrograd.tape; "
        f"print([m for m in {OPTIONAL!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_package_ships_type_information():
    import importlib.resources

    assert importlib.resources.files("micrograd").joinpath("py.typed").is_file()


ROOT = Path(__file__).resolve().parents[2]


def pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: pytest itself depends on tomli there
        import tomli as tomllib
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )


def test_version_is_written_once_and_reported_by_the_command_line():
    import micrograd

    project = pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    attr = pyproject()["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "micrograd.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", micrograd.__version__)
    done = run_cli("-m", "micrograd", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"micrograd {micrograd.__version__}"


def test_console_script_runs_the_command_line():
    scripts = pyproject()["project"]["scripts"]
    module, _, function = scripts["micrograd"].partition(":")
    done = run_cli("-c", f"import sys, {module}; sys.exit({module}.{function}(['--version']))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("micrograd ")
    # Its help names the command as the user typed it.
    code = "import sys; sys.argv[0] = '/venv/bin/micrograd'; from micrograd.cli import main; main()"
    done = run_cli("-c", code, "--help")
    assert done.stdout.startswith("usage: micrograd "), done.stdout
    assert run_cli("-m", "micrograd", "--help").stdout.startswith("usage: python -m micrograd ")


def test_changelog_starts_with_this_version():
    import micrograd

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## (\S+)", changelog, re.MULTILINE)
    assert first is not None, "CHANGELOG.md has no '## VERSION' heading"
    assert first.group(1) == micrograd.__version__


def test_metadata_names_license_pythons_and_extras():
    project = pyproject()["project"]
    assert project["name"] != "micrograd", "that name on the index is Karpathy's 0.1.0"
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in project["classifiers"]), (
        "an SPDX license expression replaces the license classifier"
    )
    oldest = re.fullmatch(r">=3\.(\d+)", project["requires-python"])
    assert oldest is not None, project["requires-python"]
    minors = sorted(
        int(c.rsplit(".", 1)[1])
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert minors[0] == int(oldest.group(1))
    assert minors == list(range(minors[0], minors[-1] + 1)), f"a gap in 3.{minors}"
    extras = project["optional-dependencies"]
    assert {"viz", "fast", "demo", "notebooks", "test", "docs", "all"} <= set(extras)


def test_the_viz_extra_installs_a_backend():
    # `pip install NAME[viz]` must bring a renderer, so drawing works with no system package.
    assert "graphviz-pure" in pyproject()["project"]["optional-dependencies"]["viz"]


def test_readme_installs_the_published_name_and_from_a_clone():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    name = pyproject()["project"]["name"]
    assert f'pip install "{name}[viz]"' in readme
    assert 'pip install ".[demo]"' in readme  # the quick start from a clone, which works today


def test_package_page_is_the_long_description_and_installs_both_ways():
    project = pyproject()["project"]
    assert project["readme"] == "PACKAGE.md"
    page = (ROOT / "PACKAGE.md").read_text(encoding="utf-8")
    name = project["name"]
    assert f'pip install "{name}[viz]"' in page
    assert "not on the package index yet" in page
    assert 'pip install ".[viz]"' in page  # from a clone or an unpacked sdist
    assert "import micrograd" in page and "python -m micrograd" in page and "--version" in page
    # It names where the rest is as files, since the repository has no address to link to.
    for where in ("README.md", "notebooks/", "CHANGELOG.md", "mkdocs build"):
        assert where in page, f"the package page does not mention {where}"


# The ```python blocks of the README, the package page and the guide's pages (docs/guide/), one
# file each (blocks reuse names for new things), named after the page. A block that imports torch
# is checked only where torch is installed: it is optional, as are its types.
PAGES = [ROOT / "README.md", ROOT / "PACKAGE.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]
PAGE_BLOCKS = {
    ("guide_" if page.parent.name == "guide" else "") + re.sub(r"\W", "_", page.stem.lower()): (
        re.findall(r"```python\n(.*?)```", page.read_text("utf-8"), re.DOTALL)
    )
    for page in PAGES
}
# Written beside the blocks: the checkers must see the package's types, here a loss's overloads
# (reduction="none" gives a list), and report this line and no other.
CANARY = (
    "from micrograd import Value\n"
    "from micrograd.losses import mse\n"
    "print(mse([Value(1.0)], [0.0], reduction='none').data)  # a list has no .data\n"
)
# The functional API's overloads: one derivative or a tuple, by argnums and by what f returns.
# Every line type-checks but the last, which gives a tuple to a scalar.
PRECISE = """\
from micrograd import Value
from micrograd.functional import grad, hessian, jacobian, value_and_grad


def f(x: Value, y: Value) -> Value:
    return x * y


def g(x: Value, y: Value) -> list[Value]:
    return [x * y, x + y]


one: float | Value = grad(f)(2.0, 3.0)
both: tuple[float | Value, ...] = grad(f, argnums=(0, 1))(2.0, 3.0)
h: tuple[tuple[float | Value, ...], ...] = hessian(f, argnums=(0, 1))(2.0, 3.0)
value, derivative = value_and_grad(f)(2.0, 3.0)
first: float | Value = derivative
_, derivatives = value_and_grad(f, argnums=(0, 1))(2.0, 3.0)
pair: tuple[float | Value, ...] = derivatives
(_, aux), d_aux = value_and_grad(lambda x: (x * x, "aux"), has_aux=True)(2.0)
scalar: float | Value = d_aux
rows: tuple[float | Value, ...] = jacobian(g)(2.0, 3.0)
table: tuple[tuple[float | Value, ...], ...] = jacobian(g, (0, 1))(2.0, 3.0)
alone: float | Value = jacobian(f)(2.0, 3.0)
wrong: float | Value = jacobian(g)(2.0, 3.0)
"""
EXPECTED_ERRORS = {"canary.py:3", f"precise.py:{PRECISE.count(chr(10))}"}


def write_page_blocks(folder: Path) -> None:
    assert PAGE_BLOCKS["readme"] and PAGE_BLOCKS["package"], (
        "the README or PACKAGE.md lost its example"
    )
    assert sum(len(blocks) for blocks in PAGE_BLOCKS.values()) >= 14
    for page, blocks in PAGE_BLOCKS.items():
        for number, block in enumerate(blocks):
            if "import torch" in block and importlib.util.find_spec("torch") is None:
                continue
            name = f"{page}_block_{number:02d}.py"
            (folder / name).write_text(block, encoding="utf-8")
    (folder / "canary.py").write_text(CANARY, encoding="utf-8")
    (folder / "precise.py").write_text(PRECISE, encoding="utf-8")


def reported_lines(output: str) -> set[str]:
    """The `file:line` of each error the checker printed (mypy's and pyright's formats)."""
    return {f"{m[1]}:{m[2]}" for m in re.finditer(r"(\w+\.py):(\d+):(?:\d+ - )? ?error", output)}


@pytest.mark.slow
@pytest.mark.torch  # the examples that use torch are checked only with it
def test_readme_examples_pass_mypy_strict(tmp_path):
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it comes with the test extra)")
    write_page_blocks(tmp_path)
    done = subprocess.run(
        # The package's own mypy settings (setup.cfg: optional packages such as torch may be
        # missing). torch's own Tensor.backward() has no annotations; calling it is not the
        # page's fault.
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "setup.cfg"), "--strict",
         "--untyped-calls-exclude=torch", "--cache-dir", str(tmp_path / ".mypy_cache"), "."],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "MYPYPATH": str(ROOT)},
        check=False,
    )  # fmt: skip
    assert reported_lines(done.stdout) == EXPECTED_ERRORS, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.torch  # the examples that use torch are checked only with it
def test_readme_examples_pass_pyright(tmp_path):
    if importlib.util.find_spec("pyright") is None:
        pytest.skip("pyright is not installed (it comes with the test extra)")
    write_page_blocks(tmp_path)
    config = {
        "extraPaths": [str(ROOT)],
        # The training loops read their last loss after `for k in range(100)`, which pyright
        # cannot tell runs at least once (docs/guide/development.md).
        "reportPossiblyUnboundVariable": False,
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, "-p", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert reported_lines(done.stdout) == EXPECTED_ERRORS, done.stdout + done.stderr


def test_setup_cfg_holds_the_settings_of_the_tools_that_read_it(pytestconfig):
    import configparser

    setup = configparser.ConfigParser()
    assert setup.read(ROOT / "setup.cfg", encoding="utf-8")
    assert {"tool:pytest", "mypy"} <= set(setup.sections())
    # This very run read its settings there (markers, -ra, the tests folder) ...
    assert pytestconfig.inipath == ROOT / "setup.cfg"
    assert "slow" in setup["tool:pytest"]["markers"]
    # ... and no setting is written twice: pyproject.toml keeps the tools that read only it.
    tools = pyproject()["tool"]
    assert "pytest" not in tools and "mypy" not in tools
    assert {"pyright", "ruff", "setuptools"} <= set(tools)


@pytest.mark.slow  # a mypy run: 10 s, too long for the quick loop
def test_mypy_reads_setup_cfg(tmp_path):
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it comes with the test extra)")
    # Strict mode is on (an untyped function is an error) and a missing optional package is not.
    (tmp_path / "probe.py").write_text(
        "import torch\nimport matplotlib.pyplot\n\n\ndef f(x):\n    return x\n", encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "setup.cfg"),
         "--cache-dir", str(tmp_path / ".mypy_cache"), "probe.py"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert reported_lines(done.stdout) == {"probe.py:5"}, done.stdout + done.stderr
    assert "missing a type annotation" in done.stdout
