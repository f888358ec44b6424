"""The backward pass as frames: one drawing per node, in the order `backward()` visits them.

Frame k shows the graph while backpropagation is at its k-th node: that node highlighted, the
gradient it passes to each parent (local derivative times its own grad) written on the edge,
edges of earlier steps labelled with what they passed, and a grad shown only once it is final
(every consumer of the node has passed its share). The gradients are recomputed here from the op
records, exactly as `Value.backward` does, without touching any `Value`; they are those of a
fresh backward pass, so a leaf's shown grad does not include grads accumulated by earlier calls.
The stepping control for Jupyter lives in `widget`.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

from micrograd.engine import Value, topological_order
from micrograd.viz.dot import DEFAULT_MAX_NODES, Overlay, build_dot
from micrograd.viz.drawing import Drawing


class BackwardSteps:
    """The frames of one backward pass: index it, iterate it, `save()` it, show it in Jupyter."""

    def __init__(self, frames: list[Drawing], nodes: list[Value]) -> None:
        self.frames = frames
        self.nodes = nodes
        """The node each frame backpropagates through, in backward order."""

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, k: int) -> Drawing:
        return self.frames[k]

    def __iter__(self) -> Iterator[Drawing]:
        return iter(self.frames)

    def save(self, directory: str | os.PathLike[str], format: str = "svg") -> list[pathlib.Path]:
        """Write the frames as `step_001.svg`, `step_002.svg`, ... into `directory`."""
        folder = pathlib.Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        width = max(3, len(str(len(self.frames))))
        return [
            frame.save(folder / f"step_{k:0{width}d}.{format}")
            for k, frame in enumerate(self.frames, start=1)
        ]

    def _repr_html_(self) -> str:
        from micrograd.viz.widget import stepper_html

        return stepper_html([frame.render("svg").decode("utf-8") for frame in self.frames])

    def __repr__(self) -> str:
        return f"<BackwardSteps: {len(self.frames)} frames; .save('steps/') or show in Jupyter>"


def backward_steps(
    root: Value,
    *,
    backend: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    **options: object,
) -> BackwardSteps:
    """One drawing per node that `root.backward()` backpropagates through, in the same order.

    Options are those of `draw_dot` except `collapse` (a box hides the steps inside it).
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps takes a Value, received {type(root).__name__}")
    if options.get("collapse"):
        raise ValueError("backward_steps draws every node; it does not take collapse=")
    order = topological_order(root)
    index = {id(node): i for i, node in enumerate(order)}
    # A node's grad is final once each of its consumers (distinct children) has passed its share.
    waiting = [0] * len(order)
    for node in order:
        for parent in set(map(id, node.parents)):
            waiting[index[parent]] += 1
    sums = [0.0] * len(order)
    sums[-1] = 1.0
    steps = [i for i in reversed(range(len(order))) if order[i].parents]
    edge_labels: dict[tuple[int, int], str] = {}
    digits = options.get("digits", 4)
    frames = []
    for k, i in enumerate(steps, start=1):
        node = order[i]
        inputs = [parent.data for parent in node.parents]
        current = dict(edge_labels)
        for position, (parent, local_grad) in enumerate(zip(node.parents, node.op.local_grads)):
            if not parent.requires_grad:
                continue  # constants take no gradient, as in backward()
            local = local_grad(*inputs, node.data)
            passed = local * sums[i]
            sums[index[id(parent)]] += passed
            current[(i, position)] = (
                f"{local:.{digits}g} × {sums[i]:.{digits}g} = {passed:.{digits}g}"
            )
            edge_labels[(i, position)] = f"{passed:.{digits}g}"
        for parent in set(map(id, node.parents)):
            waiting[index[parent]] -= 1
        grads = {j: sums[j] for j in range(len(order)) if waiting[j] == 0}
        name = node.label if len(node.label) <= 40 else node.label[:39] + "…"
        name = name or f"the {node.op.name} node"
        title = (
            f"backward step {k} of {len(steps)}: through {name} ({node.op.symbol}), "
            f"grad {sums[i]:.{digits}g}"
        )
        overlay = Overlay(title, grads, current, i)
        source = build_dot(root, max_nodes=max_nodes, overlay=overlay, **options)
        frames.append(Drawing(source, backend))
    return BackwardSteps(frames, [order[i] for i in steps])
