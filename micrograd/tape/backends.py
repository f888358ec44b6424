"""The table of replay backends: each name `run_batch(backend=...)` takes, and its plan builder.

Adding a backend is a new file with its plan (see `replay.ReplayPlan` for what `run` takes and
returns, and the checks a plan calls) and one entry below. The table is written here, never
filled at import. "auto" is not a backend: it is numpy when numpy is installed, else Python.

Left out: the plans themselves (`python_plan`, `numpy_plan`).
"""

from __future__ import annotations

from micrograd.tape.numpy_plan import NumpyPlan
from micrograd.tape.python_plan import PythonPlan
from micrograd.tape.replay import PlanBuilder

__all__ = ["BACKENDS", "default_backend", "have_numpy", "resolve_backend"]

BACKENDS: dict[str, PlanBuilder] = {
    "numpy": NumpyPlan,  # many samples at once, one per lane of numpy arrays
    "python": PythonPlan,  # pure Python, the samples side by side in lists
}
"""Backend names and their plan builders: a builder takes a `Tape` and returns its plan."""


def have_numpy() -> bool:
    """Whether numpy can be imported."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def default_backend() -> str:
    """The backend "auto" stands for: "numpy" when it is installed, else "python"."""
    return "numpy" if have_numpy() else "python"


def resolve_backend(backend: str) -> str:
    """`backend` checked against the table, with "auto" resolved to `default_backend()`."""
    if backend == "auto":
        return default_backend()
    if not isinstance(backend, str) or backend not in BACKENDS:
        known = ", ".join(repr(name) for name in ["auto", *BACKENDS])
        raise ValueError(f"backend must be one of {known}, received {backend!r}")
    return backend
