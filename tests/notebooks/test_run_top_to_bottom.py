"""The teaching notebooks run top to bottom in a real Jupyter kernel and reproduce their outputs.

Each notebook in `notebooks/` is executed from a copy held in memory (the committed file is never
rewritten), in a fresh kernel running this interpreter with this checkout first on the import
path, from a temporary working directory. Any error, including a failed `assert` in a notebook,
fails the test, and so does a notebook that overruns its time budget.

The committed outputs must come from the committed code: the text a fresh run prints to stdout
and the values it displays must equal those stored in the file (object addresses and kernel
temp paths aside). A cell whose text legitimately changes between runs, such as a timing,
carries the cell tag `volatile-output` and is executed but not compared. Images are not compared
byte for byte, and stderr is not compared, since third-party packages warn differently from one
version to the next; the committed notebooks must simply have none.
"""

from __future__ import annotations

import copy
import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

# Each notebook is written to run in well under a minute; the budget leaves room for a slow CI
# machine and kernel start-up while still catching a notebook that has grown far too slow.
NOTEBOOK_TIMEOUT = 120  # seconds, for the whole notebook
VOLATILE_TAG = "volatile-output"

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_KERNEL_PATH = re.compile(r"\S*ipykernel_\d+[/\\]\d+\.py")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]


def _normalise(text: str) -> str:
    return _KERNEL_PATH.sub("<cell>", _ADDRESS.sub("0x?", text))


def _text_outputs(cell) -> list[tuple[str, str]]:
    """(kind, text) for each output of a cell; adjacent chunks of one stream are joined."""
    found: list[tuple[str, str]] = []
    for output in cell.get("outputs", []):
        kind = output.output_type
        if kind == "stream":
            if output.name == "stderr":
                continue
            kind, text = f"stream:{output.name}", output.text
            if found and found[-1][0] == kind:
                found[-1] = (kind, found[-1][1] + text)
                continue
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain", "")
        elif kind == "error":
            text = f"{output.ename}: {output.evalue}"
        else:
            text = ""
        found.append((kind, text))
    return [(kind, _normalise(text)) for kind, text in found]


def _execute(nb, cwd: Path):
    """Run every cell of `nb` in a new kernel, in place, within NOTEBOOK_TIMEOUT seconds."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    client = nbclient.NotebookClient(
        nb,
        timeout=NOTEBOOK_TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT
    executed = 0
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"over {NOTEBOOK_TIMEOUT} s, stopped before cell {index}")
            # nbclient's timeout is per cell; shrinking it makes it a budget for the notebook.
            client.timeout = max(1, int(remaining))
            if cell.cell_type == "code":
                executed += 1
            client.execute_cell(cell, index, execution_count=executed)
    return nb


def test_notebooks_exist_are_numbered_and_listed_in_order():
    names = [path.name for path in NOTEBOOKS]
    assert names, f"no notebooks found in {NOTEBOOK_DIR}"
    numbers = [name.split("_", 1)[0] for name in names]
    assert numbers == [f"{n:02d}" for n in range(1, len(names) + 1)], names
    readme = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    positions = [readme.find(name) for name in names]
    assert -1 not in positions, f"notebooks/README.md does not list {names[positions.index(-1)]}"
    assert positions == sorted(positions), "notebooks/README.md lists them out of order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_committed_notebook_was_run_top_to_bottom(path: Path):
    nb = _read(path)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1)), (
        "the committed outputs do not come from one run from the top; re-run all cells and save"
    )
    for cell in cells:
        kinds = [output.output_type for output in cell.outputs]
        streams = [output.name for output in cell.outputs if output.output_type == "stream"]
        assert "error" not in kinds and "stderr" not in streams, (
            f"the committed notebook shows an error or a warning in:\n{cell.source}"
        )
    assert any("assert " in cell.source for cell in cells), "the notebook checks no claim"


# What JupyterLab writes into a notebook's metadata when its ipykernel starts; a notebook that
# lacks any of it is changed on open (a dirty tab, then an autosave;
# tests/notebooks/test_pictures_in_jupyterlab.py opens each one to check). The Python version is
# that of the run that made the outputs.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_metadata_is_complete_so_opening_it_changes_nothing(path: Path):
    from ipykernel.ipkernel import IPythonKernel

    metadata = _read(path).metadata
    assert metadata.get("kernelspec") == KERNELSPEC
    written = dict(IPythonKernel.language_info)  # what the kernel reports, but for its version
    stored = dict(metadata.get("language_info", {}))
    assert re.fullmatch(r"3\.\d+\.\d+", str(stored.pop("version", ""))), stored
    written.pop("version")
    assert stored == written, f"{path.name}: language_info differs from ipykernel's"
    # One run of one Python made them all.
    first = _read(NOTEBOOKS[0]).metadata
    assert metadata == first, f"{path.name}'s metadata differs from {NOTEBOOKS[0].name}'s"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_and_reproduces_its_committed_outputs(path: Path, tmp_path: Path):
    committed = _read(path)
    executed = _execute(copy.deepcopy(committed), tmp_path)
    for index, (old, new) in enumerate(zip(committed.cells, executed.cells)):
        if old.cell_type != "code" or VOLATILE_TAG in old.metadata.get("tags", []):
            continue
        assert _text_outputs(new) == _text_outputs(old), (
            f"cell {index} prints something else than the committed notebook shows; "
            f"re-run the notebook and commit its outputs. Cell source:\n{old.source}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_every_committed_picture_has_a_png_and_viewers_keep_to_safe_html(path: Path):
    """An untrusted notebook shows PNG but not SVG, and strips <style>, inline <svg>, scripts."""
    nb = _read(path)
    for cell in _code_cells(nb):
        for output in cell.outputs:
            data = output.get("data", {})
            if "image/svg+xml" in data:
                assert "image/png" in data, f"an SVG without a PNG in:\n{cell.source}"
            page = data.get("text/html", "")
            page = "".join(page) if isinstance(page, list) else page
            for banned in ("<style", "<svg", "<script"):
                assert banned not in page, f"{banned} in an HTML output of:\n{cell.source}"
