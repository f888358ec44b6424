"""Building the DOT text of a computation graph: nodes, colours, clusters, collapsed boxes.

Each value is a table (label, data, grad) coloured by its role; each op is a small circle with
its symbol from the op record; edges run from parents to the op in argument order, so `a * a`
has two. Node names come from the position in `topological_order`, never from memory addresses,
so the same graph gives the same text on every run. All labels are Graphviz HTML-like labels,
escaped here, so any text a user puts in a label is drawn as written. Running Graphviz lives in
`backends`, the backward-pass frames in `steps`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from micrograd.engine import Value, topological_order
from micrograd.numeric import count, flag
from micrograd.viz.groups import ModuleInfo, assign_modules, module_tree

DEFAULT_MAX_NODES = 1000
"""Drawings with more nodes than this are refused (or collapsed, given a model).

Measured: an MLP(2, [12, 12, 1]) graph of 997 drawn nodes takes about 1.5 s to lay out with
either backend, MLP(2, [16, 16, 1]) (1,649 nodes) 3 to 5 s; so the limit keeps a drawing near 2 s.
"""

ROLE_COLOURS = {
    "input": "#cfe2ff",
    "parameter": "#ffe0b2",
    "constant": "#eeeeee",
    "output": "#c8f7c5",
    "intermediate": "#ffffff",
}
"""Fill colour of a value by its role."""

HOT = "#d62728"  # the current step's node and edges, and the grad shading's far end
GRAD_COLOUR = "#1a56b0"
"""Colour of a grad in a compact drawing, where it is told from the data by colour, not a word."""
TRANSPARENT = "#ffffff00"  # text drawn only to take room (Graphviz colours take an alpha)
COMPACT_LEGEND = "each box: op that made it, name, data, grad (blue)"
_COLLAPSE = (None, False, "neuron", "layer")
_RANKDIRS = ("LR", "TB", "RL", "BT")
_MAX_LABEL = 60


class GraphTooLargeError(ValueError):
    """The graph would draw more nodes than `max_nodes` allows (`drawn` of them)."""

    def __init__(self, message: str, drawn: int = 0) -> None:
        super().__init__(message)
        self.drawn = drawn


@dataclass
class Overlay:
    """What a backward step adds to a drawing: grads known so far, edge labels, the current node.

    Nodes are named by their index in `topological_order(root)`; a node missing from `grads` is
    drawn with an empty grad. `edge_labels` maps (child index, parent position) to text.

    With `reserve` (the overlay of the last frame, every label at its widest) the DOT text keeps
    one geometry for every frame: a grad or edge text this overlay does not show yet is drawn in
    a transparent colour, the highlight changes colours only, and the title sits in a cell
    `title_width` points wide (at least as wide as any frame's title). Graphviz then lays out
    every frame alike: same size, same positions, in any format.
    """

    title: str
    grads: dict[int, float] = field(default_factory=dict)
    edge_labels: dict[tuple[int, int], str] = field(default_factory=dict)
    current: int | None = None
    reserve: Overlay | None = None
    title_width: int | None = None


def visible(text: str) -> str:
    """`text` with each character that is not printable (control, format, a lone surrogate)
    written as a `\\xNN` escape: XML and UTF-8 can carry the result. Line breaks stay."""
    if text.isprintable():
        return text
    return "".join(ch if ch == "\n" or ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def escape(text: str, limit: int | None = _MAX_LABEL) -> str:
    """`text` as the inside of a Graphviz HTML-like label, drawn as written (cut to `limit`)."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(visible(text), quote=True).replace("\n", "<br/>")


def title_cell(text: str, width: int) -> str:
    """A title's HTML `text` in a borderless cell at least `width` points wide, flush left."""
    return (
        '<table border="0" cellborder="0" cellspacing="0" cellpadding="0"><tr>'
        f'<td width="{width}" align="left" balign="left">{text}</td></tr></table>'
    )


def roles(order: Sequence[Value], parameters: set[int]) -> list[str]:
    """Role of each node: output (the root), constant, parameter, input or intermediate."""
    found = []
    for node in order:
        if node is order[-1]:
            found.append("output")
        elif node.parents:
            found.append("intermediate")
        elif not node.requires_grad:
            found.append("constant")
        elif id(node) in parameters:
            found.append("parameter")
        else:
            found.append("input")
    return found


def build_dot(
    root: Value,
    *,
    model: object | None = None,
    cluster: bool | None = None,
    collapse: str | bool | None = None,
    shade_grad: bool = False,
    rankdir: str = "LR",
    digits: int = 4,
    max_nodes: int = DEFAULT_MAX_NODES,
    overlay: Overlay | None = None,
    note: str = "",
    compact: bool = False,
) -> str:
    """The DOT text of the graph under `root`; see `micrograd.viz.draw_dot` for the options."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot takes a Value, received {type(root).__name__}: {root!r:.60}")
    _check_options(model, cluster, collapse, rankdir, digits, max_nodes)
    flag(compact, "compact")
    flag(shade_grad, "shade_grad")
    order = topological_order(root)
    owner: dict[int, str] = {}
    modules: dict[str, ModuleInfo] = {}
    groups: list[str | None] = [None] * len(order)
    names: dict[int, str] = {}
    if model is not None:
        owner, modules, names = module_tree(model)
        groups = assign_modules(order, owner)
        if collapse == "layer":
            groups = [_outer(path, modules) for path in groups]
    if collapse is True:
        collapse = "neuron"
    node_roles = roles(order, set(owner))
    builder = _Builder(
        order, node_roles, digits, shade_grad, overlay, names, compact, bool(collapse)
    )
    boxes = sorted({g for g in groups if g is not None}, key=list(modules).index)
    per_op = 1 if compact else 2  # an op is its own node, or drawn inside its value's box
    if collapse:
        drawn = sum(per_op if order[i].parents else 1 for i, g in enumerate(groups) if g is None)
        drawn += len(boxes)
    else:
        drawn = sum(per_op if node.parents else 1 for node in order)
    if drawn > max_nodes:
        raise GraphTooLargeError(_too_large(order, drawn, max_nodes, model, collapse), drawn)

    # Boxes of a collapsed view need room between layers for their many edges (0.5 in keeps
    # an MLP(2, [4, 4, 1]) under 1,100 pt, 10 px text in a 919 px notebook column); a compact
    # drawing packs its columns (about 10 px text at 100%: 1 pt is 4/3 CSS px).
    ranksep = 0.5 if collapse else 0.1 if compact else 0.2
    lines = [
        "digraph micrograd {",
        # A white background keeps the picture readable in dark themes too.
        f'  rankdir={rankdir}; fontname="Helvetica"; bgcolor="white";',
        # Parents in argument order, top to bottom: weights and neurons keep their index order.
        f"  ordering=in; ranksep={ranksep}; nodesep={0.06 if compact else 0.1};",
        f'  node [fontname="Helvetica" fontsize={9 if compact else 12}];',
        f'  edge [fontname="Helvetica" fontsize={8 if compact else 10} arrowsize=0.6];',
    ]
    title = overlay.title if overlay else note
    if compact and not overlay:
        title = (title + "\n" if title else "") + COMPACT_LEGEND
    if shade_grad:
        title = (title + "\n" if title else "") + builder.shade_note()
    if title:
        # Left-justified: a wide frame scrolled to its start still shows its title.
        text = escape(title, limit=None)
        if "\n" in title:
            # Each line flush left too (a frame rewrites the lines, which then stay aligned).
            text = text.replace("<br/>", '<br align="left"/>') + '<br align="left"/>'
        if overlay is not None and overlay.title_width is not None:
            text = title_cell(text, overlay.title_width)
        lines.append(f"  labelloc=t; labeljust=l; label=<{text}>;")
    node_lines = builder.node_lines()
    edges = builder.edges()
    if collapse:
        lines += _collapsed(builder, groups, modules, boxes, node_lines, edges)
    else:
        use_clusters = model is not None and cluster is not False
        shown_groups: list[str | None] = groups if use_clusters else [None] * len(order)
        lines += _clustered(shown_groups, modules, node_lines)
        lines += _leaf_order(order, shown_groups, builder.roles, 1 if compact else 2)
        lines += [
            f"  {tail} -> {head}{_into_next_module(tail, head, attrs, shown_groups)};"
            for tail, head, attrs in edges
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


class _Builder:
    """Node and edge statements for one graph, with or without a backward-step overlay."""

    def __init__(
        self,
        order: Sequence[Value],
        node_roles: list[str],
        digits: int,
        shade_grad: bool,
        overlay: Overlay | None,
        names: dict[int, str],
        compact: bool = False,
        collapse: bool = False,
    ) -> None:
        self.order = order
        self.compact = compact
        self.collapse = collapse
        self.names = names
        self.roles = node_roles
        self.digits = digits
        self.overlay = overlay
        # One geometry for every frame: texts not shown yet are drawn, transparent.
        self.reserve = overlay.reserve if overlay is not None else None
        self.index = {id(node): i for i, node in enumerate(order)}
        self.grad_max = 0.0
        if shade_grad:
            grads = [g for i in range(len(order)) if (g := self.grad(i)) is not None]
            self.grad_max = max((abs(g) for g in grads if math.isfinite(g)), default=0.0)

    def number(self, x: float) -> str:
        # + 0.0 turns -0.0 into 0.0: `W * x - y` with y = 0 records the constant -0.0, and a
        # learner reading "-0" in a box asks what it means.
        return f"{x + 0.0:.{self.digits}g}"

    def grad(self, i: int) -> float | None:
        """The grad to show for node i: None for constants and grads not yet computed."""
        if self.roles[i] == "constant":
            return None
        if self.overlay is None:
            # After backward(create_graph=True) a leaf's grad is a Value; show its number
            # (.data: float() of it would warn that a gradient is lost).
            grad = self.order[i].grad
            return grad.data if isinstance(grad, Value) else float(grad)
        return self.overlay.grads.get(i)

    def shade_note(self) -> str:
        return f"darker fill: larger |grad| (darkest {self.number(self.grad_max)})"

    def fill(self, i: int) -> str:
        base = ROLE_COLOURS[self.roles[i]]
        g = self.grad(i)
        if not self.grad_max or g is None or not math.isfinite(g):
            return base
        return _blend(base, HOT, 0.6 * math.sqrt(min(abs(g) / self.grad_max, 1.0)))

    def grad_text(self, i: int, colour: str) -> str:
        """Node i's grad as cell text in `colour`; with a reserve, its final grad drawn unseen."""
        g = self.grad(i)
        if self.reserve is None:
            shown = "" if g is None else escape(self.number(g))
            return f'<font color="{colour}">{shown}</font>' if self.compact else shown
        if g is not None:
            return f'<font color="{colour}">{escape(self.number(g))}</font>'
        final = self.reserve.grads.get(i)
        text = " " if final is None else escape(self.number(final))
        return f'<font color="{TRANSPARENT}">{text}</font>'

    def value_label(self, i: int) -> str:
        node = self.order[i]
        current = self.overlay is not None and self.overlay.current == i
        # A reserved geometry draws the highlight around the node instead (a border takes room).
        hot = current and self.reserve is None
        border = f'border="3" color="{HOT}"' if hot else 'border="0"'
        if self.reserve is not None:
            border += ' color="black"'  # not the node's transparent outline
        padding = 1 if self.compact else 2
        table = (
            f'<table {border} cellborder="1" cellspacing="0" cellpadding="{padding}" '
            f'bgcolor="{self.fill(i)}">'
        )
        if self.roles[i] == "constant":
            # A named constant (an input or a target of a network) keeps its name: i1 = 0.05.
            named = f"{node.label} = " if node.label else ""
            cells = [f"<td>{escape(named + self.number(node.data))}</td>"]
        elif self.compact:
            # Without the words "data" and "grad" (the legend says which is which), a column
            # is as wide as its longest number, so a whole 2-2-2 network fits a notebook.
            cells = [
                f"<td>{escape(self.number(node.data))}</td>",
                f"<td>{self.grad_text(i, GRAD_COLOUR)}</td>",
            ]
        else:
            cells = [
                f"<td>data {escape(self.number(node.data))}</td>",
                f"<td>grad {self.grad_text(i, 'black')}</td>",
            ]
        if self.roles[i] != "constant":
            label = node.label or self.names.get(id(node), "")
            if label:
                cells.insert(0, f"<td><b>{escape(label)}</b></td>")
        if self.compact and node.parents:
            symbol = escape(node.op.symbol if node.op is not None else "?")
            cells.insert(0, f'<td bgcolor="white"><b>{symbol}</b></td>')
        # One row per cell: a narrow box, so a deep graph drawn left to right fits a page.
        return f"<{table}{''.join(f'<tr>{cell}</tr>' for cell in cells)}</table>>"

    def node_lines(self) -> list[list[str]]:
        """For each node index, the DOT statements of its value (and op) node."""
        found = []
        for i, node in enumerate(self.order):
            # Constants (and op symbols) a little smaller than the values, except beside a
            # collapsed view's boxes: the smallest text of a drawing that is shown scaled down.
            small = " fontsize=10" if self.roles[i] == "constant" and not self.collapse else ""
            shape = "shape=plain"
            if self.reserve is not None:
                # A frame around the table, transparent except on the current node: every
                # node takes the same room in every frame.
                hot = self.overlay is not None and self.overlay.current == i
                shape = (
                    "shape=rect width=0 height=0 margin=0.03 penwidth=2.5 "
                    f'color="{HOT if hot else TRANSPARENT}"'
                )
            statements = [f"v{i} [{shape}{small} label={self.value_label(i)}];"]
            if node.parents and not self.compact:
                hot = self.overlay is not None and self.overlay.current == i
                style = "style=filled "
                if hot and self.reserve is not None:
                    style = f'style="filled,bold" fillcolor="#ffd6d6" color="{HOT}"'
                elif hot:
                    style += f'fillcolor="#ffd6d6" color="{HOT}" penwidth=2'
                else:
                    style += 'fillcolor="white"'
                size = "" if self.collapse else " fontsize=10"
                statements.append(
                    f"o{i} [shape=circle {style}{size} width=0.35 margin=0.02 "
                    f"label=<{escape(node.op.symbol if node.op is not None else '?')}>];"
                )
            found.append(statements)
        return found

    def edges(self) -> list[tuple[str, str, str]]:
        """(tail, head, attributes) of every edge, parents in argument order."""
        found = []
        labels = self.overlay.edge_labels if self.overlay else {}
        # A reserved geometry thickens hot edges with `bold`, which (unlike penwidth) no
        # backend counts in the arrowheads' length: the splines stay where they were.
        thick = "style=bold" if self.reserve is not None else "penwidth=2"
        for i, node in enumerate(self.order):
            if not node.parents:
                continue
            hot = self.overlay is not None and self.overlay.current == i
            for position, parent in enumerate(node.parents):
                attrs = ""
                text = labels.get((i, position))
                widest = self.reserve.edge_labels.get((i, position)) if self.reserve else None
                if widest is not None and not self.compact:
                    attrs = f" [label=<{_reserved(widest, text, HOT if hot else '#555555')}>"
                    attrs += f' color="{HOT}" {thick}]' if hot else "]"
                elif text is not None and self.compact:
                    # A compact frame writes the step's shares in its title, not on edges.
                    attrs = f' [color="{HOT}" {thick}]' if hot else ""
                elif text is not None:
                    colour = HOT if hot else "#555555"
                    attrs = f' [label=<{escape(text)}> fontcolor="{colour}"'
                    attrs += f' color="{HOT}" penwidth=2]' if hot else "]"
                head = f"v{i}" if self.compact else f"o{i}"
                found.append((f"v{self.index[id(parent)]}", head, attrs))
            if not self.compact:
                found.append((f"o{i}", f"v{i}", ""))
        return found


def _reserved(widest: str, text: str | None, colour: str) -> str:
    """An edge label as wide as `widest` ("a × b = c") showing `text`: all of it, c, or nothing.

    Always the same two spans, so the label's size never changes; what is not shown is
    transparent.
    """
    head, equals, tail = widest.rpartition(" = ")
    prefix = head + equals
    return (
        f'<font color="{colour if text == widest else TRANSPARENT}">{escape(prefix)}</font>'
        f'<font color="{colour if text is not None else TRANSPARENT}">{escape(tail)}</font>'
    )


def _clustered(
    groups: list[str | None], modules: dict[str, ModuleInfo], node_lines: list[list[str]]
) -> list[str]:
    """Node statements, nested in one cluster per module (none when every group is None)."""
    members: dict[str | None, list[str]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).extend(node_lines[i])
    shown = set()
    for group in members:
        while group is not None and group not in shown:
            shown.add(group)
            group = modules[group].parent
    # The model itself gets a box only when it owns parameters directly (a lone Neuron).
    if "" in shown and "" not in members:
        shown.discard("")
    children: dict[str | None, list[str]] = {}
    for path in modules:  # in order of first appearance, so cluster numbers are stable
        if path in shown:
            parent = modules[path].parent
            children.setdefault(parent if parent in shown else None, []).append(path)
    number = {path: k for k, path in enumerate(p for p in modules if p in shown)}
    lines = [f"  {statement}" for statement in members.get(None, [])]
    stack: list[tuple[str, bool]] = [(path, False) for path in reversed(children.get(None, []))]
    depth = 1
    while stack:
        path, done = stack.pop()
        if done:
            depth -= 1
            lines.append("  " * depth + "}")
            continue
        pad = "  " * depth
        lines.append(f"{pad}subgraph cluster_{number[path]} {{")
        lines.append(
            f'{pad}  label=<{escape(modules[path].title)}>; style="rounded,filled"; '
            f'fillcolor="#f7f7f7"; color="#999999"; fontsize=10; margin=4;'
        )
        lines += [f"{pad}  {statement}" for statement in members.get(path, [])]
        depth += 1
        stack.append((path, True))
        stack += [(child, False) for child in reversed(children.get(path, []))]
    return lines


def _into_next_module(tail: str, head: str, attrs: str, groups: list[str | None]) -> str:
    """`attrs` of an edge, with `minlen=2` when it goes from one module's cluster to another's.

    Graphviz puts a leaf one rank before its consumer, so the next layer's weights shared a rank
    with this layer's outputs: the two layers' clusters overlapped in rank and were stacked,
    the later one drawn above the earlier. One rank more on each edge out of a module leaves a
    free rank for the next module's leaves, and the layers stand side by side, left to right.
    """
    source, target = groups[int(tail[1:])], groups[int(head[1:])]
    if source is None or target is None or source == target:
        return attrs
    return f"{attrs[:-1]} minlen=2]" if attrs else " [minlen=2]"


def _leaf_order(
    order: Sequence[Value], groups: list[str | None], node_roles: list[str], step: int = 2
) -> list[str]:
    """Invisible edges that stack the single-use leaves (weights) of one rank in creation order.

    Graphviz orders a rank to cut crossings, which put w1, w3, w2, w4 above each other in the
    2-2-2 network; a learner follows w1..w4 (and neurons 0, 1, ...) better in index order. A
    leaf sits one rank before its first consumer (as Graphviz puts it), an op after its
    furthest parent. Leaves inside a module's cluster are left to Graphviz. `step` is the ranks
    from a value to the next (2: value -> op -> value; 1 in a compact drawing).
    """
    index = {id(node): i for i, node in enumerate(order)}
    rank = [0] * len(order)
    for i, node in enumerate(order):
        if node.parents:
            # value node i is `step` ranks after its furthest non-leaf parent
            rank[i] = step + max((rank[index[id(p)]] for p in node.parents if p.parents), default=0)
    first_use: dict[int, int] = {}
    uses = [0] * len(order)
    for i, node in enumerate(order):
        for parent in node.parents:
            p = index[id(parent)]
            uses[p] += 1
            first_use[p] = min(first_use.get(p, rank[i]), rank[i])
    rows: dict[int, list[int]] = {}
    for i, node in enumerate(order):
        if node.parents or groups[i] is not None or node_roles[i] not in ("input", "parameter"):
            continue
        # A leaf used by several ops (an input such as i1, feeding every neuron) must sit
        # between its consumers; chaining it too would contradict the argument order.
        if uses[i] > 1:
            continue
        rows.setdefault(first_use.get(i, step) - step, []).append(i)
    lines = []
    for row in rows.values():
        if len(row) > 1:
            chain = " -> ".join(f"v{i}" for i in row)
            lines.append(f"  {{rank=same; {chain} [style=invis];}}")
    return lines


def _collapsed(
    builder: _Builder,
    groups: list[str | None],
    modules: dict[str, ModuleInfo],
    boxes: list[str],
    node_lines: list[list[str]],
    edges: list[tuple[str, str, str]],
) -> list[str]:
    """Node and edge statements with each module drawn as one box."""
    order = builder.order
    box_name = {path: f"m{k}" for k, path in enumerate(boxes)}
    where: dict[str, str] = {}
    for i, group in enumerate(groups):
        if group is not None:
            where[f"v{i}"] = where[f"o{i}"] = box_name[group]
    lines = []
    for i, group in enumerate(groups):
        if group is None:
            lines += [f"  {statement}" for statement in node_lines[i]]
    consumed_outside = set()
    for i, node in enumerate(order):
        for parent in node.parents:
            p = builder.index[id(parent)]
            if groups[p] is not None and groups[p] != groups[i]:
                consumed_outside.add(p)
    for path in boxes:
        inside = [i for i, g in enumerate(groups) if g == path]
        outputs = [i for i in inside if i in consumed_outside or i == len(order) - 1]
        params = sum(1 for i in inside if builder.roles[i] == "parameter")
        ops = sum(1 for i in inside if order[i].parents)
        rows = [
            f"<b>{escape(path or 'model')}</b>",
            escape(modules[path].description),
            escape(f"{len(inside)} values, {ops} ops, {params} parameters"),
        ]
        if len(outputs) == 1:
            out = order[outputs[0]]
            g = builder.grad(outputs[0])
            shown = "" if g is None else builder.number(g)
            rows.append(escape(f"out: data {builder.number(out.data)}  grad {shown}"))
        else:
            rows.append(escape(f"{len(outputs)} outputs"))
        cells = "".join(f"<tr><td>{row}</td></tr>" for row in rows)
        lines.append(
            f'  {box_name[path]} [shape=plain label=<<table border="1" cellborder="0" '
            f'cellpadding="3" bgcolor="#ffe0b2">{cells}</table>>];'
        )
    seen = set()
    edge_lines = []
    for tail, head, attrs in edges:
        tail, head = where.get(tail, tail), where.get(head, head)
        if tail == head or (tail, head) in seen:
            continue
        boxed = tail.startswith("m") or head.startswith("m")
        seen.add((tail, head))
        edge_lines.append(f"  {tail} -> {head}{'' if boxed else attrs};")
    # Boxes of one layer (one parent module) stacked in index order, top to bottom; but not
    # boxes that feed each other (the layers of an MLP, with collapse="layer"): those stand
    # left to right, in the order they compute.
    siblings: dict[str | None, list[str]] = {}
    for path in boxes:
        siblings.setdefault(modules[path].parent, []).append(box_name[path])
    for names in siblings.values():
        linked = any(tail in names and head in names for tail, head in seen)
        if len(names) > 1 and not linked:
            lines.append(f"  {{rank=same; {' -> '.join(names)} [style=invis];}}")
    return lines + edge_lines


def _outer(path: str | None, modules: dict[str, ModuleInfo]) -> str | None:
    """The module one level out from `path` (a neuron's layer), or `path` for the model itself."""
    if path is None or modules[path].parent is None:
        return path
    return modules[path].parent


def _blend(start: str, end: str, t: float) -> str:
    """The colour a fraction `t` of the way from `start` to `end` (both #rrggbb)."""
    a = [int(start[k : k + 2], 16) for k in (1, 3, 5)]
    b = [int(end[k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def _too_large(
    order: Sequence[Value], drawn: int, max_nodes: int, model: object, collapse: object
) -> str:
    ops = sum(1 for node in order if node.parents)
    if not collapse:
        advice = (
            "pass model=your_model with collapse='neuron' or 'layer' to draw one box per module"
        )
    elif collapse == "neuron":
        advice = "collapse='layer' draws fewer boxes than collapse='neuron'"
    else:
        advice = "draw a smaller part of the graph"
    return (
        f"the graph has {len(order) - ops} leaves and {ops} ops, which would draw {drawn} nodes, "
        f"over max_nodes={max_nodes}: {advice}, or raise max_nodes (Graphviz slows down sharply "
        "beyond a few thousand nodes)"
    )


def _check_options(
    model: object,
    cluster: object,
    collapse: object,
    rankdir: object,
    digits: object,
    max_nodes: object,
) -> None:
    if collapse not in _COLLAPSE and collapse is not True:
        raise ValueError(f"collapse must be 'neuron', 'layer' or None, received {collapse!r}")
    if collapse and model is None:
        raise ValueError(f"collapse={collapse!r} needs model=, the module whose parts to collapse")
    if cluster not in (None, True, False):
        raise TypeError(f"cluster must be True, False or None, received {cluster!r}")
    if cluster and model is None:
        raise ValueError("cluster=True needs model=, the module whose neurons and layers to group")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {_RANKDIRS}, received {rankdir!r}")
    count(digits, "digits", 1, 17)
    count(max_nodes, "max_nodes", 1)
