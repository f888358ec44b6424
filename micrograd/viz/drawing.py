"""`Drawing`: DOT text that shows itself in Jupyter and answers graphviz's calls.

The calls mean what they mean on a `graphviz.Source`: `source`, `format`, `pipe(format=...)`
returns image bytes, `render(filename, format=..., cleanup=...)` writes `filename` (the DOT text)
and `filename.<format>` and returns the image's path, `save()` writes the DOT text. Jupyter gets
an SVG and a PNG (an untrusted notebook shows only the PNG). What the DOT text says is decided in
`micrograd.viz.dot`; how it becomes pixels, in `micrograd.viz.backends`.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Container

from micrograd.files import check_writable, write_atomically
from micrograd.viz.backends import render as _render

# Suffixes written as DOT text directly: no Graphviz program needed.
_DOT_SUFFIXES = {".dot", ".gv"}
DEFAULT_FILENAME = "micrograd.gv"
_OLD_FORMATS = {"svg", "png", "pdf", "dot", "gv", "jpg", "jpeg", "gif", "ps", "eps"}


class Drawing:
    """A graph drawing: its DOT `source`, rendered on demand by `backend` (None: first found)."""

    def __init__(
        self,
        source: str,
        backend: str | None = None,
        format: str = "svg",
        note: str = "",
    ) -> None:
        self.source = source
        self.backend = backend
        self.format = format
        """The format `render()` and `pipe()` use when given none (graphviz's attribute)."""
        self.note = note
        """Why the drawing differs from what was asked (a fallback), or ""."""
        self.filename = DEFAULT_FILENAME

    def pipe(self, format: str | None = None, encoding: str | None = None) -> bytes | str:
        """The drawing as image bytes in `format` (str when `encoding` is given), as graphviz."""
        data = _render(self.source, format or self.format, self.backend)
        return data.decode(encoding) if encoding is not None else data

    def render(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        outfile: str | os.PathLike[str] | None = None,
        *,
        overwrite_read_only: bool = False,
    ) -> str:
        """Write the DOT text to `filename` and the image to `filename.<format>`; its path.

        As in graphviz: `cleanup=True` removes the DOT file afterwards; `outfile` names the image
        directly (its suffix gives the format) and must not be the DOT file's path. `view` is
        refused: open the file yourself. A read-only file is replaced only with
        `overwrite_read_only=True` (see `micrograd.files`).
        """
        if view:
            raise ValueError("render(view=True) is not supported: open the returned path yourself")
        if isinstance(filename, str) and filename.lower() in _OLD_FORMATS and format is None:
            # Before 0.3, render("png") returned image bytes; as graphviz's render it would
            # quietly write files named "png" and "png.svg".
            raise ValueError(
                f"render({filename!r}) writes the files {filename!r} and "
                f"{filename!r}.{self.format}; for the image bytes use pipe({filename!r}), for a "
                f"file render('graph', format={filename!r}) or save('graph.{filename}')"
            )
        if outfile is not None:
            image = pathlib.Path(outfile)
            if format is None:
                format = image.suffix[1:].lower() or self.format
            source_path = image.with_suffix(".gv") if filename is None else pathlib.Path(filename)
        else:
            format = format or self.format
            source_path = pathlib.Path(filename if filename is not None else self.filename)
            image = source_path.with_name(f"{source_path.name}.{format}")
        if directory is not None:
            source_path = pathlib.Path(directory) / source_path
            image = pathlib.Path(directory) / image
        if os.path.abspath(source_path) == os.path.abspath(image):
            # One would overwrite the other (and cleanup would delete the image); graphviz
            # refuses this call too.
            raise ValueError(
                f"render(outfile={str(image)!r}) would write the image over the DOT file "
                f"{str(source_path)!r}; expected an outfile other than the DOT file's path "
                "(pass filename= for the DOT file, or give outfile another suffix)"
            )
        for path in (source_path, image):
            check_writable(path, overwrite_read_only=overwrite_read_only)  # before either
        data = _render(self.source, format, self.backend)
        source_path.parent.mkdir(parents=True, exist_ok=True)
        image.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(source_path, self.source, overwrite_read_only=overwrite_read_only)
        write_atomically(image, data, overwrite_read_only=overwrite_read_only)
        if cleanup:
            source_path.unlink()
        return str(image)

    def save(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        format: str | None = None,
        *,
        overwrite_read_only: bool = False,
    ) -> str:
        """Write the drawing; its path. A .gv/.dot name (graphviz's `save`) gets the DOT text.

        Any other suffix (.svg, .png, .pdf) or `format=` writes that image instead. A read-only
        file is replaced only with `overwrite_read_only=True` (see `micrograd.files`).
        """
        path = pathlib.Path(filename if filename is not None else self.filename)
        if directory is not None:
            path = pathlib.Path(directory) / path
        if format is None:
            if not path.suffix:
                raise ValueError(
                    f"cannot tell what to write to {str(path)!r}: give the file a suffix such as "
                    ".gv (DOT text), .svg or .png, or pass format="
                )
            format = path.suffix[1:].lower()
        check_writable(path, overwrite_read_only=overwrite_read_only)  # before rendering
        if "." + format in _DOT_SUFFIXES:
            data: str | bytes = self.source
        else:
            data = _render(self.source, format, self.backend)
        write_atomically(path, data, overwrite_read_only=overwrite_read_only)
        return str(path)

    def to_graphviz(self) -> object:
        """The drawing as a `graphviz.Source` (needs the `graphviz` package from PyPI)."""
        try:
            import graphviz
        except ImportError as error:
            raise ImportError(
                "to_graphviz() needs the graphviz package (pip install graphviz) and Graphviz's "
                "dot program; without them use .source, .pipe(), .render() or .save() here"
            ) from error
        return graphviz.Source(self.source, filename=self.filename, format=self.format)

    def _repr_mimebundle_(
        self, include: Container[str] | None = None, exclude: Container[str] | None = None
    ) -> dict[str, str | bytes]:
        """SVG, PNG (what an untrusted notebook shows) and text, for Jupyter."""
        wanted: dict[str, Callable[[], str | bytes]] = {
            "image/svg+xml": lambda: _render(self.source, "svg", self.backend).decode("utf-8"),
            "image/png": lambda: _render(self.source, "png", self.backend),
            "text/plain": lambda: repr(self),
        }
        return {
            mime: make()
            for mime, make in wanted.items()
            if (include is None or mime in include) and (exclude is None or mime not in exclude)
        }

    def __repr__(self) -> str:
        nodes = self.source.count("shape=")
        note = f" {self.note}" if self.note else ""
        return (
            f"<Drawing: {nodes} nodes of DOT.{note} If you see this text instead of a picture, "
            "save it with .save('graph.png') or .render('graph', format='png') and open the "
            "file, or trust the notebook.>"
        )
