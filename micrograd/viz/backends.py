"""Rendering DOT text to image bytes with whichever Graphviz program is installed.

Two backends: Graphviz's own `dot` (any format it was built with, pdf included) and the PyPI
package `graphviz-pure` (a standalone port installed by `pip`, binary `graphviz-pure`, svg and png
but no pdf). Building the DOT text lives in `micrograd.viz.dot`; this module only runs programs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig

BACKENDS = ("dot", "graphviz-pure")
"""Backend names, in the order `backend=None` tries them."""

INSTALL_HINT = (
    "install the viz extra (pip install 'micrograd[viz]', which brings graphviz-pure for svg and "
    "png) or Graphviz itself (apt-get install graphviz, brew install graphviz) for every format"
)
_FORMAT = re.compile(r"^[a-z][a-z0-9_.:-]{0,30}$")
TIMEOUT_SECONDS = 120.0


class RenderError(RuntimeError):
    """No Graphviz program could turn the DOT text into the requested image."""


def find_executable(backend: str) -> str | None:
    """Path of the program behind `backend`, or None when it is not installed."""
    _check_backend(backend)
    found = shutil.which(backend)
    if found:
        return found
    # `pip install` into a virtual environment puts graphviz-pure next to the interpreter, which
    # is not on PATH when the environment is used without being activated.
    for folder in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        found = shutil.which(backend, path=folder)
        if found:
            return found
    return None


def available_backends() -> list[str]:
    """The backends installed on this machine, in order of preference."""
    return [name for name in BACKENDS if find_executable(name) is not None]


def choose_backend(backend: str | None = None) -> tuple[str, str]:
    """(backend name, executable path): the one asked for, or the first installed."""
    if backend is not None:
        path = find_executable(backend)
        if path is None:
            raise RenderError(f"the {backend!r} backend is not installed: {INSTALL_HINT}")
        return backend, path
    for name in BACKENDS:
        path = find_executable(name)
        if path is not None:
            return name, path
    raise RenderError(f"no Graphviz program found (neither dot nor graphviz-pure): {INSTALL_HINT}")


def render(source: str, format: str = "svg", backend: str | None = None) -> bytes:
    """The image that Graphviz makes from DOT `source`, in `format` (svg, png, pdf, ...)."""
    if not isinstance(format, str) or not _FORMAT.match(format):
        raise ValueError(f"format must be a word such as 'svg' or 'png', received {format!r}")
    name, path = choose_backend(backend)
    try:
        done = subprocess.run(
            [path, f"-T{format}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise RenderError(
            f"{name} did not finish laying out the graph within {TIMEOUT_SECONDS:.0f} s; "
            "draw a smaller graph (model=..., collapse='neuron' or 'layer')"
        ) from error
    message = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0 or not done.stdout:
        if "not recognized" in message:
            raise RenderError(
                f"{name} cannot write {format!r} files ({_first_line(message)}); "
                + (
                    "install Graphviz (apt-get install graphviz, brew install graphviz) for it"
                    if name == "graphviz-pure"
                    else "choose another suffix, such as .svg or .png"
                )
            )
        raise RenderError(f"{name} failed (exit {done.returncode}): {_first_line(message)}")
    return done.stdout


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith("Warning")]
    return (errors or lines or ["no message"])[0][:300]


def _check_backend(backend: object) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or None, received {backend!r}")
