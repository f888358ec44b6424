"""`Drawing`: DOT text that shows itself in Jupyter and saves to an image file.

What the DOT text says is decided in `micrograd.viz.dot`; how it becomes pixels, in
`micrograd.viz.backends`.
"""

from __future__ import annotations

import os
import pathlib

from micrograd.viz.backends import render

# Suffixes written as DOT text directly: no Graphviz program needed.
_DOT_SUFFIXES = {".dot", ".gv"}


class Drawing:
    """A graph drawing: its DOT `source`, rendered on demand by `backend` (None: first found)."""

    def __init__(self, source: str, backend: str | None = None) -> None:
        self.source = source
        self.backend = backend

    def render(self, format: str = "svg") -> bytes:
        """The drawing as image bytes in `format` (svg, png, and pdf where dot is installed)."""
        return render(self.source, format, self.backend)

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> pathlib.Path:
        """Write the drawing to `path`, in the format its suffix names (.svg, .png, .pdf, .dot)."""
        path = pathlib.Path(path)
        if format is None:
            if not path.suffix:
                raise ValueError(
                    f"cannot tell the image format of {str(path)!r}: give the file a suffix "
                    "such as .svg or .png, or pass format="
                )
            format = path.suffix[1:].lower()
        if "." + format in _DOT_SUFFIXES:
            path.write_text(self.source, encoding="utf-8")
        else:
            path.write_bytes(self.render(format))
        return path

    def _repr_svg_(self) -> str:
        return self.render("svg").decode("utf-8")

    def __repr__(self) -> str:
        lines = self.source.count("\n")
        return f"<Drawing: {lines} lines of DOT; .save('graph.svg') or display it in Jupyter>"
