"""Drawing computation graphs: `draw_dot` for a graph, `backward_steps` for backpropagation.

`draw_dot(root)` returns a `Drawing` that shows inline in Jupyter and saves to .svg, .png, .pdf
or .dot. Rendering uses Graphviz's `dot` when installed, else the `graphviz-pure` program from
PyPI (the `viz` extra). The modules: `dot` builds the DOT text, `groups` places nodes in a
model's modules, `backends` runs Graphviz, `drawing` holds the result, `steps` and `widget` make
the backward pass into frames and a stepping control. Nothing here changes a graph.
"""

from __future__ import annotations

from micrograd.engine import Value
from micrograd.viz.backends import BACKENDS, RenderError, available_backends, render
from micrograd.viz.dot import DEFAULT_MAX_NODES, GraphTooLargeError, build_dot
from micrograd.viz.drawing import Drawing
from micrograd.viz.steps import BackwardSteps, Frame, backward_steps, frames_from_svg

__all__ = [
    "BACKENDS",
    "DEFAULT_MAX_NODES",
    "BackwardSteps",
    "Drawing",
    "Frame",
    "GraphTooLargeError",
    "RenderError",
    "available_backends",
    "backward_steps",
    "draw_dot",
    "frames_from_svg",
    "render",
]


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    *,
    model: object | None = None,
    cluster: bool | None = None,
    collapse: str | bool | None = None,
    shade_grad: bool = False,
    digits: int = 4,
    max_nodes: int = DEFAULT_MAX_NODES,
    backend: str | None = None,
    compact: bool = False,
) -> Drawing:
    """The graph under `root` as a `Drawing`, each value with its label, data and grad.

    - `model`: a `Module` whose parameters are coloured as parameters and whose neurons and
      layers become clusters (`cluster=False` turns those off), the layers left to right, the
      neurons of a layer top to bottom in index order.
    - `collapse`: with `model`, draw one box per `"neuron"` (innermost module) or per `"layer"`
      (the module holding those), so a whole MLP's forward pass fits on a page.
    - `shade_grad`: darken each value's fill by the size of its grad.
    - `format`: what `render()`/`pipe()` write by default, as graphviz's (Karpathy's call
      `draw_dot(root, format='svg', rankdir='LR')` works unchanged).
    - `rankdir`: "LR" (default), "TB", "RL" or "BT"; `digits`: significant digits shown.
    - `max_nodes`: a drawing of more nodes than this (about 2 s of Graphviz here) is refused
      with `GraphTooLargeError`, unless `model` is given and `collapse` is not: then each
      neuron (or, if still too many, each layer) becomes one box and the drawing says so.
    - `backend`: "dot", "graphviz-pure", or None for the first one installed.
    - `compact`: draw each op's symbol in the box of the value it makes (no op circles), smaller
      text, and the grad told from the data by colour; about a third as wide, so a 2-2-2
      network fits a notebook's width (with `model` too, and `digits=3`: 1,081 px).
    """

    def build(collapse: str | bool | None, note: str = "") -> str:
        return build_dot(
            root,
            model=model,
            cluster=cluster,
            collapse=collapse,
            shade_grad=shade_grad,
            rankdir=rankdir,
            digits=digits,
            max_nodes=max_nodes,
            note=note,
            compact=compact,
        )

    note = ""
    try:
        source = build(collapse)
    except GraphTooLargeError as error:
        if model is None or collapse:
            raise
        too_many = f"Too many nodes to draw one by one ({error.drawn} > max_nodes={max_nodes})"
        try:
            note = f"{too_many}: one box per neuron (collapse='neuron')."
            source = build("neuron", note)
        except GraphTooLargeError:
            note = f"{too_many}: one box per layer (collapse='layer')."
            source = build("layer", note)
    return Drawing(source, backend, format=format, note=note)
