"""The backward pass as frames: one picture per node, in the order `backward()` visits them.

Frame k shows the graph while backpropagation is at its k-th node: that node highlighted, the
gradient it passes to each parent written on the edge as local derivative × upstream grad =
passed, edges of earlier steps labelled with what they passed, and a grad shown only once it is
final (every consumer of the node has passed its share). The gradients come from the engine's
walk with a gradient table (`micrograd.autodiff.gradient_table`, whose `on_edge` reports each
edge), which touches no `Value`: they are those of a fresh backward pass, so a leaf's shown grad
does not include grads accumulated by earlier calls.

Every frame has the same size and node positions. In SVG the graph is laid out ONCE
(`layout_source`, DOT text whose labels are the widest each will ever be), and each frame is that
SVG with texts and colours changed (`frames_from_svg`, pure Python on the SVG text, no Graphviz
call, so a browser that lays out with viz.js can reuse it). Other formats (png, pdf, ...) cannot
be edited so: each frame is drawn from its own DOT text (`fixed_sources`) that takes exactly the
room of the layout's (texts not shown yet are there, transparent; the highlight changes colours
only; the title sits in a cell as wide as the widest title), and Graphviz, deterministic, lays
them all out alike. The stepping control for Jupyter is in `widget`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from micrograd.autodiff import gradient_table
from micrograd.engine import Value, topological_order
from micrograd.files import check_writable, write_atomically
from micrograd.viz.backends import render
from micrograd.viz.dot import (
    COMPACT_LEGEND,
    DEFAULT_MAX_NODES,
    GRAD_COLOUR,
    HOT,
    Overlay,
    build_dot,
    visible,
)

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", _SVG)
ET.register_namespace("xlink", _XLINK)
_EDGE_TITLE = re.compile(r"^(v\d+)->([ov](\d+))$")  # parent to op, or to value (compact)
_CURRENT_FILL = "#ffd6d6"
_TWO_DECIMALS = re.compile(r"(\d\.\d)\d+")
_TITLE = re.compile(r"^  labelloc=t; labeljust=l; label=<(.*)>;$", re.MULTILINE)


@dataclass(frozen=True)
class Frame:
    """One step: its node, the overlay it draws, and its own DOT text (laid out by itself)."""

    node: Value
    overlay: Overlay
    source: str


class BackwardSteps:
    """The frames of one backward pass: index it, iterate it, `save()` it, show it in Jupyter."""

    def __init__(
        self,
        frames: list[Frame],
        layout_source: str,
        backend: str | None = None,
        digits: int = 4,
        fixed: Callable[[Overlay, int | None], str] | None = None,
    ) -> None:
        self.frames = frames
        self.digits = digits
        self.layout_source = layout_source
        """DOT text laid out once for every frame (each label as wide as it ever gets)."""
        self.backend = backend
        # Given a frame's overlay and a title width, its DOT text in the layout's geometry.
        self._fixed_source = fixed
        self._svgs: list[str] | None = None
        self._fixed: list[str] | None = None

    @property
    def nodes(self) -> list[Value]:
        """The node each frame backpropagates through, in backward order."""
        return [frame.node for frame in self.frames]

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, k: int) -> Frame:
        return self.frames[k]

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)

    def frames_from_svg(self, layout_svg: str, *, compact: bool = True) -> list[str]:
        """Each frame's SVG text, made from `layout_svg` (Graphviz's SVG of `layout_source`)."""
        overlays = [frame.overlay for frame in self.frames]
        return frames_from_svg(layout_svg, overlays, self.digits, compact=compact)

    def svgs(self) -> list[str]:
        """Each frame as SVG text, all from one Graphviz layout (same size, same positions)."""
        if self._svgs is None:
            layout = render(self.layout_source, "svg", self.backend).decode("utf-8")
            self._svgs = self.frames_from_svg(layout)
        return list(self._svgs)

    def fixed_sources(self) -> list[str]:
        """Each frame's DOT text, all taking the same room: Graphviz lays them out alike.

        Texts a frame does not show yet are drawn transparent, the current node is outlined in
        red (the others transparent), and the title sits in a cell as wide as the widest
        frame's title (measured once with the backend). These draw png, pdf, ... frames.
        """
        if self._fixed is None:
            if self._fixed_source is None:
                raise ValueError("these BackwardSteps were not made by backward_steps()")
            titles = [_TITLE.search(frame.source) for frame in self.frames]
            found = [m.group(1) for m in titles if m is not None]
            width = _widest(found, self.backend) if found else None
            self._fixed = [self._fixed_source(frame.overlay, width) for frame in self.frames]
        return list(self._fixed)

    def save(
        self,
        directory: str | os.PathLike[str],
        format: str = "svg",
        *,
        overwrite_read_only: bool = False,
    ) -> list[pathlib.Path]:
        """Write the frames as `step_001.svg`, `step_002.svg`, ... into `directory`.

        Every format shares one layout: each frame has the same size, and each node the same
        place. "svg" frames are one Graphviz SVG recoloured (`svgs()`); other formats ("png",
        "pdf", ...) draw each frame from `fixed_sources()`, which Graphviz lays out alike.
        Every frame's path is checked before any is written (`micrograd.files`: a read-only
        frame is replaced only with `overwrite_read_only=True`). Frames of an earlier save in
        the same format that this one does not overwrite (`step_*.svg` of a longer backward
        pass) are removed afterwards, so the folder holds this drawing's frames only; other
        files are left alone.
        """
        folder = pathlib.Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        width = max(3, len(str(len(self.frames))))
        paths = [folder / f"step_{k:0{width}d}.{format}" for k in range(1, len(self.frames) + 1)]
        for path in paths:
            check_writable(path, overwrite_read_only=overwrite_read_only)
        if format == "svg":
            images = [svg.encode("utf-8") for svg in self.svgs()]
        else:
            images = [render(source, format, self.backend) for source in self.fixed_sources()]
        for path, image in zip(paths, images):
            write_atomically(path, image, overwrite_read_only=overwrite_read_only)
        _remove_stale_frames(folder, format, {path.name for path in paths})
        return paths

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        from micrograd.viz.widget import stepper_html

        return {"text/html": stepper_html(self.svgs()), "text/plain": repr(self)}

    def _repr_html_(self) -> str:
        return self._repr_mimebundle_()["text/html"]

    def __repr__(self) -> str:
        return (
            f"<BackwardSteps: {len(self.frames)} frames; .save('steps/') writes them as SVG "
            "files, Jupyter shows a stepping control>"
        )


def backward_steps(
    root: Value,
    *,
    model: object | None = None,
    cluster: bool | None = None,
    collapse: str | bool | None = None,
    shade_grad: bool = False,
    rankdir: str = "LR",
    digits: int = 4,
    max_nodes: int = DEFAULT_MAX_NODES,
    backend: str | None = None,
    compact: bool = False,
) -> BackwardSteps:
    """One frame per node that `root.backward()` backpropagates through, in the same order.

    Options are those of `draw_dot` except `collapse` (a box hides the steps inside it). With
    `compact=True` the edges carry no text (a label between every two columns would triple the
    width): the step's "local derivative × upstream grad = passed" for each parent is written
    under the frame's title instead, and a grad appears in its box once final.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps takes a Value, received {type(root).__name__}")
    if collapse:
        raise ValueError("backward_steps draws every node; it does not take collapse=")

    def build(overlay: Overlay) -> str:
        return build_dot(
            root,
            model=model,
            cluster=cluster,
            shade_grad=shade_grad,
            rankdir=rankdir,
            digits=digits,
            max_nodes=max_nodes,
            overlay=overlay,
            compact=compact,
        )

    order = topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    for node in order:
        if node.parents and node.op is None:
            raise TypeError(
                f"backward_steps reads local derivatives from op records; {node.label or node!r} "
                "has none"
            )
    # The chain rule itself is the engine's walk with a gradient table (the one higher-order
    # gradients use): it reports each edge's local derivative and upstream gradient, in the order
    # backward() visits them, and the frames only arrange what it reports.
    passes: dict[int, list[tuple[int, Value, float, float]]] = {}

    def on_edge(node: Value, position: int, parent: Value, local: float, upstream: float) -> None:
        passes.setdefault(index[id(node)], []).append((position, parent, local, upstream))

    gradient_table(order, [node for node in order if node.requires_grad], on_edge=on_edge)
    # A node's grad is final once each of its consumers (distinct children) has passed its share.
    waiting = [0] * len(order)
    for node in order:
        for key in set(map(id, node.parents)):
            waiting[index[key]] += 1
    sums = [0.0] * len(order)
    sums[-1] = 1.0
    steps = [i for i in reversed(range(len(order))) if order[i].parents]
    edge_labels: dict[tuple[int, int], str] = {}
    widest: dict[tuple[int, int], str] = {}
    overlays: list[Overlay] = []
    for k, i in enumerate(steps, start=1):
        node = order[i]
        current = dict(edge_labels)
        for position, parent, local, upstream in passes.get(i, []):
            passed = local * upstream
            sums[index[id(parent)]] += passed
            current[(i, position)] = widest[(i, position)] = (
                f"{local:.{digits}g} × {upstream:.{digits}g} = {passed:.{digits}g}"
            )
            edge_labels[(i, position)] = f"{passed:.{digits}g}"
        for key in set(map(id, node.parents)):
            waiting[index[key]] -= 1
        grads = {j: sums[j] for j in range(len(order)) if waiting[j] == 0}
        assert node.op is not None  # checked above for every node with parents
        title = (
            f"backward step {k} of {len(steps)}: through {_name(node)} ({node.op.symbol}), "
            f"grad {sums[i]:.{digits}g}"
        )
        if compact:
            shares = [
                f"to {_name(node.parents[position])}: {current[(i, position)]}"
                for position, *_ in passes.get(i, [])
            ]
            title += "\n" + ("; ".join(shares) or "passes nothing on") + "\n" + COMPACT_LEGEND
        overlays.append(Overlay(title, grads, current, i))
    frames = [Frame(order[i], overlay, build(overlay)) for i, overlay in zip(steps, overlays)]
    # The layout: every label at its widest (final grads, every edge's "a × b = c", the longest
    # title), so no frame's text needs more room than the layout gave it.
    title = max((o.title for o in overlays), key=len, default="")
    final = overlays[-1].grads if overlays else {}
    layout = Overlay(title, dict(final), widest, None)

    def fixed(overlay: Overlay, title_width: int | None) -> str:
        return build(dataclasses.replace(overlay, reserve=layout, title_width=title_width))

    return BackwardSteps(frames, build(layout), backend, digits, fixed)


def _widest(titles: list[str], backend: str | None) -> int:
    """Points of the widest of `titles` (HTML label texts) as a graph title, rounded up."""
    # Each title as a node as tight as its label, in the graph title's font; JSON gives sizes.
    nodes = "".join(f"  t{k} [label=<{text}>];\n" for k, text in enumerate(dict.fromkeys(titles)))
    source = 'digraph { node [shape=plain fontname="Helvetica" fontsize=14];\n' + nodes + "}\n"
    laid = json.loads(render(source, "json", backend))
    inches = [float(node["width"]) for node in laid.get("objects", []) if "width" in node]
    if len(inches) != len(set(titles)):
        raise ValueError(f"Graphviz measured {len(inches)} titles, expected {len(set(titles))}")
    return math.ceil(max(inches) * 72) + 1


def frames_from_svg(
    layout_svg: str, overlays: list[Overlay], digits: int = 4, *, compact: bool = True
) -> list[str]:
    """The SVG of each overlay, made by changing texts and colours of one laid-out SVG.

    `layout_svg` is any Graphviz's SVG of `BackwardSteps.layout_source`; the result for each
    overlay has the same size and positions, only grads, edge labels, title and highlight differ.
    `compact=False` keeps Graphviz's titles, ids and classes (a page that finds nodes by name).
    """
    text = re.sub(r"^.*?(?=<svg\b)", "", layout_svg, count=1, flags=re.DOTALL)
    try:
        ET.fromstring(text)
    except ET.ParseError as error:
        raise ValueError(f"layout_svg is not SVG text ({error})") from error
    return [_recolour(ET.fromstring(text), overlay, digits, compact) for overlay in overlays]


def _tag(name: str) -> str:
    return f"{{{_SVG}}}{name}"


def _title(group: ET.Element) -> str:
    title = group.find(_tag("title"))
    return "" if title is None or title.text is None else title.text


def _recolour(svg: ET.Element, overlay: Overlay, digits: int, compact: bool) -> str:
    graph = svg.find(_tag("g"))
    if graph is None:
        raise ValueError("layout_svg has no graph group; pass Graphviz's SVG output")
    # The title's lines, top to bottom (the layout's title has as many lines as any frame's).
    titles = [t for t in graph.findall(_tag("text"))]
    lines = overlay.title.split("\n")
    for k, title in enumerate(titles):
        title.text = lines[k] if k < len(lines) else ""
    seen: dict[int, int] = {}
    for group in graph.iter(_tag("g")):
        kind = group.get("class")
        name = _title(group)
        if kind == "node" and name.startswith("v"):
            i = int(name[1:])
            children = list(group)
            for k, child in enumerate(children):
                if child.tag != _tag("text"):
                    continue
                g = overlay.grads.get(i)
                shown = "" if g is None else f"{g:.{digits}g}"
                if (child.text or "").startswith("grad "):
                    child.text = f"grad {shown}"
                elif child.get("fill", "").lower() == GRAD_COLOUR:  # a compact drawing's grad
                    child.text = shown
                else:
                    continue
                _centre_in_cell(child, children[:k])
            if overlay.current == i:
                for shape in group.iter(_tag("polygon")):
                    if shape.get("fill") == "none":
                        shape.set("stroke", HOT)
                        shape.set("stroke-width", "2")
        elif kind == "node" and name.startswith("o"):
            if overlay.current == int(name[1:]):
                for shape in group.iter(_tag("ellipse")):
                    shape.set("fill", _CURRENT_FILL)
                    shape.set("stroke", HOT)
                    shape.set("stroke-width", "2")
        elif kind == "edge":
            match = _EDGE_TITLE.match(name.replace("&#45;", "-").replace("&gt;", ">"))
            if match is None:
                continue
            i = int(match.group(3))
            position = seen.get(i, 0)
            seen[i] = position + 1
            label = overlay.edge_labels.get((i, position))
            hot = overlay.current == i
            for node in group.iter(_tag("text")):
                node.text = label or ""
                node.set("fill", HOT if hot else "#555555")
            if hot:
                for shape in list(group.iter(_tag("path"))) + list(group.iter(_tag("polygon"))):
                    shape.set("stroke", HOT)
                    shape.set("stroke-width", "2")
                    if shape.tag == _tag("polygon"):
                        shape.set("fill", HOT)
    if compact:
        _compact(svg)
    return ET.tostring(svg, encoding="unicode")


def _centre_in_cell(text: ET.Element, before: list[ET.Element]) -> None:
    """Centre a replaced cell text in its cell (the polygon Graphviz draws just before it).

    Graphviz anchors table text at its left end, placed for the layout's (widest) text; a
    shorter text would hug the left border.
    """
    cells = [e for e in before if e.tag == _tag("polygon") and e.get("fill") == "none"]
    if not cells:
        return
    xs = [float(p.split(",")[0]) for p in (cells[-1].get("points") or "").split() if "," in p]
    if xs:
        text.set("x", f"{(min(xs) + max(xs)) / 2:.2f}")
        text.set("text-anchor", "middle")


def _compact(svg: ET.Element) -> None:
    """Drop what a picture does not need (titles, ids, classes, repeated fonts, blank text).

    A viewer carries every frame as a data: URI, so a third off each frame matters.
    """
    fonts = {node.get("font-family") for node in svg.iter(_tag("text"))} - {None}
    common = fonts.pop() if len(fonts) == 1 else None
    if common is not None:
        svg.set("font-family", common)
    for parent in list(svg.iter()):
        for child in list(parent):
            if child.tag == _tag("title"):
                parent.remove(child)
                continue
            for name in ("id", "class"):
                child.attrib.pop(name, None)
            if common is not None and child.get("font-family") == common:
                del child.attrib["font-family"]
            for name in ("points", "d"):  # a tenth of a point is finer than a pixel
                if name in child.attrib:
                    child.set(name, _TWO_DECIMALS.sub(r"\1", child.get(name, "")))
            child.tail = None
        parent.text = parent.text if parent.tag == _tag("text") else None


def _remove_stale_frames(folder: pathlib.Path, format: str, written: set[str]) -> None:
    """Delete `step_<number>.<format>` regular files in `folder` other than `written`."""
    frame = re.compile(rf"step_\d+\.{re.escape(format)}")
    for entry in os.scandir(folder):
        if (
            frame.fullmatch(entry.name)
            and entry.name not in written
            and entry.is_file(follow_symlinks=False)
        ):
            os.unlink(entry.path)


def _name(node: Value) -> str:
    """A node's name in a frame's title: its label (cut to 40 characters) or its op.

    Characters that are not printable are shown escaped: raw, a control character made the
    frame invalid SVG and a lone surrogate could not be written as UTF-8.
    """
    if node.label:
        return visible(node.label if len(node.label) <= 40 else node.label[:39] + "…")
    return f"the {node.op.name} node" if node.op is not None else "a leaf"
