"""The package as installed users see it: the core needs the standard library alone."""

from __future__ import annotations

import subprocess
import sys

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
