"""Tests for the backward pass drawn step by step, and its Jupyter stepping control."""

from __future__ import annotations

import html
import json
import re
import struct
import xml.etree.ElementTree as ET

import pytest

from micrograd import MLP, Value
from micrograd.data import TWO_TWO_TWO
from micrograd.engine import apply, topological_order
from micrograd.ops import ADD, MUL, TANH, Op
from micrograd.viz import available_backends, backward_steps
from micrograd.viz.dot import GRAD_COLOUR, HOT, TRANSPARENT, escape

CELL = re.compile(r"<td>(.*?)</td>")


def value_cells(source: str) -> dict[str, list[str]]:
    """Value node name -> its cells, unescaped, for the nodes that have a label."""
    found = {}
    for name, attrs in re.findall(r"^\s*(v\d+) \[(.*)\];$", source, re.MULTILINE):
        cells = [
            html.unescape(c.replace("<b>", "").replace("</b>", "")) for c in CELL.findall(attrs)
        ]
        found[name] = cells
    return found


def by_label(source: str) -> dict[str, list[str]]:
    return {cells[0]: cells[1:] for cells in value_cells(source).values() if len(cells) == 3}


def edge_labels(source: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"-> o\d+ \[label=<(.*?)>", source)]


def logged(op, log):
    """A copy of `op` whose local derivatives note the output they are asked about."""

    def wrap(fn):
        def local(*args):
            log.append(args[-1])
            return fn(*args)

        return local

    local_grads = tuple(wrap(f) for f in op.local_grads)
    return Op(op.name, op.symbol, op.forward, rules=op.rules, local_grads=local_grads)


def test_frames_follow_the_order_backward_visits_nodes():
    log: list[float] = []
    add, mul, tanh = logged(ADD, log), logged(MUL, log), logged(TANH, log)
    a, b, c = Value(0.3, "a"), Value(-0.7, "b"), Value(1.1, "c")
    ab = apply(mul, a, b)
    s = apply(add, ab, c)
    t = apply(tanh, s)
    u = apply(mul, t, a)
    root = apply(add, apply(mul, u, u), s)  # s and u are reused, a is used twice
    data = [node.data for node in (ab, s, t, u, root)]
    assert len(set(data)) == len(data)  # outputs are distinct, so the log names nodes
    root.backward()
    visited = [x for k, x in enumerate(log) if k == 0 or log[k - 1] != x]
    steps = backward_steps(root)
    assert [node.data for node in steps.nodes] == visited
    assert len(steps) == len(visited) == 6


def test_neuron_frames_show_grads_only_once_final():
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1w1", "x2w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    out = n.tanh()
    out.label = "out"
    steps = backward_steps(out)
    assert len(steps) == 5
    first = by_label(steps[0].source)
    assert first["out"] == ["data 0.7071", "grad 1"]
    # tanh has passed 1 - 0.7071**2 = 0.5 to n, n's only consumer: its grad is final.
    assert first["n"] == ["data 0.8814", "grad 0.5"]
    assert all(first[name][1] == "grad " for name in ("x1", "w1", "x2", "w2", "b", "x1w1"))
    assert edge_labels(steps[0].source) == ["0.5 × 1 = 0.5"]
    last = by_label(steps[-1].source)
    # The lecture's published gradients.
    assert last["x1"][1] == "grad -1.5" and last["w1"][1] == "grad 1"
    assert last["x2"][1] == "grad 0.5" and last["w2"][1] == "grad 0"
    assert last["b"][1] == "grad 0.5"
    # The last step is x1 * w1 (the first op made); to x1 it passes w1 * 0.5, to w1 x1 * 0.5.
    current = [text for text in edge_labels(steps[-1].source) if "×" in text]
    assert current == ["-3 × 0.5 = -1.5", "2 × 0.5 = 1"]
    assert steps.nodes[-1] is x1w1
    # backward_steps reads the graph but never writes a grad.
    assert x1.grad == 0.0 and out.grad == 0.0


def test_square_shows_both_edges_and_the_summed_grad():
    a = Value(3.0, "a")
    y = a * a
    y.label = "y"
    (frame,) = backward_steps(y)
    assert edge_labels(frame.source) == ["3 × 1 = 3", "3 × 1 = 3"]
    assert by_label(frame.source)["a"] == ["data 3", "grad 6"]


def test_current_node_and_edges_are_highlighted():
    a, b = Value(2.0, "a"), Value(5.0, "b")
    c = a * b + a
    steps = backward_steps(c)
    for frame in steps:
        assert frame.source.count('border="3"') == 1  # one highlighted value
        assert frame.source.count('fillcolor="#ffd6d6"') == 1  # and its op


def test_constants_take_no_gradient_on_their_edge():
    a = Value(2.0, "a")
    y = a * 4.0
    (frame,) = backward_steps(y)
    assert edge_labels(frame.source) == ["4 × 1 = 4"]


def test_leaf_grads_accumulated_earlier_do_not_leak_into_frames():
    a = Value(2.0, "a")
    y = a * a
    y.backward()
    y.backward()  # a.grad is now 8, twice the gradient
    (frame,) = backward_steps(y)
    assert by_label(frame.source)["a"] == ["data 2", "grad 4"]


def test_collapse_is_refused_and_size_guard_applies():
    model = MLP(2, [2, 1], seed=0)
    out = model([1.0, 2.0])
    with pytest.raises(ValueError, match="does not take collapse"):
        backward_steps(out, model=model, collapse="neuron")
    with pytest.raises(ValueError, match="max_nodes=5"):
        backward_steps(out, max_nodes=5)


def test_model_clusters_carry_into_frames():
    model = MLP(2, [2, 1], seed=0)
    out = model([1.0, 2.0])
    steps = backward_steps(out, model=model)
    assert all("subgraph cluster_" in frame.source for frame in steps)
    assert len(steps) == sum(1 for _ in steps)


def test_leaf_alone_has_no_steps():
    steps = backward_steps(Value(1.0))
    assert len(steps) == 0
    assert "No backward steps" in steps._repr_html_()


@pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")
def test_saved_frames_are_numbered_images(tmp_path):
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    out = (a * b + 10).tanh()
    paths = backward_steps(out).save(tmp_path / "frames", "png")
    assert [p.name for p in paths] == ["step_001.png", "step_002.png", "step_003.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)


@pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")
def test_stepper_is_made_of_parts_an_untrusted_notebook_keeps():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    steps = backward_steps((a * b + 10).tanh())
    page = steps._repr_html_()
    # No <style>, no inline <svg>, no script, no radio buttons (their name is stripped).
    for banned in ("<style", "<svg", "<script", 'type="radio"', " name="):
        assert banned not in page
    assert page.count('<img class="mg-frame"') == len(steps) == 3
    assert page.count("data:image/svg+xml;base64,") == 3
    assert page.count("<details") == page.count("<summary") == 2  # steps 2 and 3
    sizes = set(re.findall(r'width="(\d+)" height="(\d+)"', page))
    assert len(sizes) == 1  # every frame the same size
    # Each display has its own id, so two copies in one notebook do not share state.
    ids = re.findall(r'id="(mg-steps-[^"]+)"', page + steps._repr_html_())
    assert len(ids) == len(set(ids)) == 2


@pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")
@pytest.mark.parametrize("backend", available_backends())
def test_frames_share_one_layout_and_differ_only_in_text_and_colour(backend):
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    out = (x1 * w1 + x2 * w2 + Value(6.8813735870195432, "b")).tanh()
    steps = backward_steps(out, backend=backend)
    svgs = steps.svgs()
    assert len(svgs) == len(steps) == 5

    def geometry(svg):
        return re.findall(r'(?:points|cx|cy|d|x|y)="([^"]+)"', svg)

    assert len({geometry(svg).__repr__() for svg in svgs}) == 1
    assert len({re.search(r"<svg[^>]*>", svg).group(0) for svg in svgs}) == 1
    # The texts are those of each frame's own DOT: first frame, n's grad 0.5 and one edge label.
    first = svgs[0]
    assert ">grad 0.5<" in first and "0.5 × 1 = 0.5" in first and ">grad -1.5<" not in first
    last = svgs[-1]
    assert ">grad -1.5<" in last and "-3 × 0.5 = -1.5" in last and "2 × 0.5 = 1" in last
    assert "backward step 5 of 5" in last


def test_frames_from_svg_needs_no_graphviz_and_refuses_other_text():
    from micrograd.viz.steps import frames_from_svg

    with pytest.raises(ValueError, match="not SVG"):
        frames_from_svg("digraph {}", [])


@pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")
def test_jupyter_shows_drawings_as_svg_and_png_and_steps_as_html():
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    formatter = interactiveshell.InteractiveShell.instance().display_formatter
    a = Value(2.0, "a")
    y = (a * a).tanh()
    data, _ = formatter.format(y.draw())
    assert "<svg" in data["image/svg+xml"] and "image/png" in data
    data, _ = formatter.format(backward_steps(y))
    assert data["text/html"].count("<img") == 2


@pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")
def test_compact_frames_write_the_shares_under_the_title_and_recolour_grads():
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    out = (x1 * w1 + x2 * w2 + Value(6.8813735870195432, "b")).tanh()
    out.label = "out"
    steps = backward_steps(out, compact=True)
    wide = backward_steps(out)
    # The same steps, overlays and edge shares as the default frames ...
    assert [f.overlay.edge_labels for f in steps] == [f.overlay.edge_labels for f in wide]
    assert "-3 × 0.5 = -1.5" in steps[-1].overlay.edge_labels.values()
    # ... but the edges carry no text: the step's shares are the title's second line.
    assert "-> v" in steps.layout_source and not re.search(r"-> v\d+ \[label", steps.layout_source)
    assert re.search(r"-> o\d+ \[label", wide.layout_source)
    lines = steps[-1].overlay.title.split("\n")
    assert lines[1] == "to x1: -3 × 0.5 = -1.5; to w1: 2 × 0.5 = 1"
    svgs = steps.svgs()
    assert len({re.search(r"<svg[^>]*>", svg).group(0) for svg in svgs}) == 1
    for svg, frame in zip(svgs, steps):
        root = ET.fromstring(svg)
        texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert texts[:3] == frame.overlay.title.split("\n")
        shown = [
            "".join(t.itertext())
            for t in root.iter("{http://www.w3.org/2000/svg}text")
            if t.get("fill") == GRAD_COLOUR
        ]
        expected = sorted(f"{g:.4g}" for g in frame.overlay.grads.values())
        assert sorted(text for text in shown if text) == expected
    # The first frame: only the output's grad is known; the last: every grad, w1's -1.5.
    assert "-1.5" not in svgs[0] and HOT in svgs[0]
    assert ">-1.5<" in svgs[-1]


def png_size(path) -> tuple[int, int]:
    """(width, height) from a PNG's header chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def laid_out(source: str, backend: str) -> dict[str, object]:
    """Where Graphviz puts everything of `source`: graph box, nodes, clusters, edges, labels."""
    from micrograd.viz.backends import render

    found = json.loads(render(source, "json", backend))
    objects = found.get("objects", [])
    places: dict[str, object] = {"bb": found["bb"], "title": found.get("lp")}
    for thing in objects:
        places[thing["name"]] = [thing.get(key) for key in ("pos", "width", "height", "bb")]
    for k, edge in enumerate(found.get("edges", [])):
        ends = (objects[edge["tail"]]["name"], objects[edge["head"]]["name"])
        places[f"edge {k} {ends}"] = [edge.get("pos"), edge.get("lp")]
    return places


def network_2_2_2() -> Value:
    """Notebook 03's 2-2-2 network: its error, every input, weight and neuron labelled."""
    net = TWO_TWO_TWO
    w = [Value(x, f"w{k}") for k, x in enumerate(net.weights, 1)]
    b1, b2 = Value(net.b1, "b1"), Value(net.b2, "b2")
    i1, i2 = (Value(x, name) for x, name in zip(net.inputs, ("i1", "i2")))
    t1, t2 = (Value(x, name) for x, name in zip(net.targets, ("t1", "t2")))
    out_h1 = (w[0] * i1 + w[1] * i2 + b1).sigmoid()
    out_h2 = (w[2] * i1 + w[3] * i2 + b1).sigmoid()
    out_o1 = (w[4] * out_h1 + w[5] * out_h2 + b2).sigmoid()
    out_o2 = (w[6] * out_h1 + w[7] * out_h2 + b2).sigmoid()
    out_h1.label, out_h2.label, out_o1.label, out_o2.label = "out_h1", "out_h2", "out_o1", "out_o2"
    return 0.5 * (t1 - out_o1) ** 2 + 0.5 * (t2 - out_o2) ** 2


def tanh_neuron() -> Value:
    a, b, c, d = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(0.5, "d")
    return (a * b + c * d).tanh()


def square() -> Value:
    s = Value(3.0, "s")
    return (s * s).relu()  # two frames whose titles are wider than the graph


def mlp_with_model() -> tuple[Value, dict[str, object]]:
    model = MLP(2, [3, 1], seed=1)
    out = model([Value(0.5, "x1"), Value(-1.0, "x2")])
    return out, {"model": model, "shade_grad": True, "rankdir": "TB"}


EXAMPLES = {
    "tanh neuron": lambda: (tanh_neuron(), {}),
    "2-2-2 network": lambda: (network_2_2_2(), {}),
    "2-2-2 network, compact": lambda: (network_2_2_2(), {"compact": True}),
    "s*s": lambda: (square(), {}),
    "MLP, clusters, shaded, top to bottom": mlp_with_model,
}


# The two big graphs take seconds per backend: CI runs them, the quick loop keeps the small ones
# (the compact 2-2-2 network among them).
SLOW_EXAMPLES = {
    "2-2-2 network",
    "2-2-2 network, compact",
    "MLP, clusters, shaded, top to bottom",
}


@pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")
@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize(
    "example",
    [pytest.param(e, marks=pytest.mark.slow) if e in SLOW_EXAMPLES else e for e in EXAMPLES],
)
def test_png_frames_share_one_size_and_every_position(tmp_path, backend, example):
    root, options = EXAMPLES[example]()
    steps = backward_steps(root, backend=backend, **options)
    paths = steps.save(tmp_path, "png")
    assert len(paths) == len(steps) > 1
    assert len({png_size(path) for path in paths}) == 1, [png_size(p) for p in paths]
    # The png frames are drawn from these sources: each laid out exactly as the first.
    sources = steps.fixed_sources()
    first = laid_out(sources[0], backend)
    for k, source in enumerate(sources[1:], start=2):
        assert laid_out(source, backend) == first, f"frame {k} is laid out differently"
    # Yet each frame shows its own step: title, highlight, the grads known so far.
    assert len(set(sources)) == len(sources)
    order = topological_order(root)
    for frame, source in zip(steps, sources):
        assert escape(frame.overlay.title.split("\n")[0], limit=None) in source
        spans = re.findall(r'<font color="([^"]+)">([^<]+)</font>', source)
        shown = {text for colour, text in spans if colour != TRANSPARENT}
        hidden = {text for colour, text in spans if colour == TRANSPARENT}
        known = frame.overlay.grads
        # Every grad of the frame is visible; the final grads not yet known are not.
        assert {f"{g:.4g}" for i, g in known.items() if order[i].requires_grad} <= shown
        final = steps[-1].overlay.grads
        unknown = {f"{final[i]:.4g}" for i in final if i not in known and order[i].requires_grad}
        assert unknown <= hidden


@pytest.mark.skipif("dot" not in available_backends(), reason="Graphviz's dot is not installed")
def test_pdf_frames_share_one_page_size(tmp_path):
    steps = backward_steps(tanh_neuron(), backend="dot")
    boxes = {
        re.search(rb"/MediaBox \[([^\]]+)\]", path.read_bytes()).group(1)
        for path in steps.save(tmp_path, "pdf")
    }
    assert len(boxes) == 1


@pytest.mark.parametrize("label", ["o\x0bx", "o\x00x", "o\ud800x", "o\x1b[2Jx", "o\u2028x"])
def test_a_label_with_any_character_gives_valid_frames_that_save_and_display(label, tmp_path):
    # A control character made a frame invalid SVG; a lone surrogate crashed save() and the
    # notebook display.
    a, b = Value(2.0, "a"), Value(3.0, "b")
    out = a * b
    out.label = label
    out.backward()
    steps = backward_steps(out)
    for svg in steps.svgs():
        root = ET.fromstring(svg.encode("utf-8"))
        shown = "".join(root.itertext())
        assert label not in shown and "o\\x" in shown  # escaped, as in the DOT drawings
    assert [p.name for p in steps.save(tmp_path)] == ["step_001.svg"]
    assert steps._repr_mimebundle_()["text/html"].isprintable()


def test_saving_into_a_folder_of_older_frames_leaves_only_this_drawings(tmp_path):
    a, b = Value(2.0, "a"), Value(3.0, "b")
    long = (a * b + a).tanh() * b
    long.backward()
    assert len(backward_steps(long).save(tmp_path)) == 4
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "step_099.png").write_bytes(b"another format")
    short = a * b
    short.backward()
    written = backward_steps(short).save(tmp_path)
    assert [p.name for p in written] == ["step_001.svg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt",
        "step_001.svg",
        "step_099.png",
    ]
