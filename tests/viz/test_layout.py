"""Where Graphviz puts a model's modules: layers left to right, neurons in index order.

Positions come from Graphviz's JSON output of the DOT text `draw_dot` builds (cluster boxes and
node centres, in points, y growing upwards). The stepper's HTML is checked for what makes its
frames fit any column; tests/notebooks/test_drawings_readable.py measures both in a browser.
"""

from __future__ import annotations

import json
import re

import pytest

from micrograd import MLP
from micrograd.viz import available_backends, backward_steps, draw_dot, render

pytestmark = pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")


def _two_two_two():
    net = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid", seed=0)
    o1, o2 = net([0.05, 0.10])
    loss = 0.5 * (0.01 - o1) ** 2 + 0.5 * (0.99 - o2) ** 2
    loss.backward()
    return net, loss


def _laid_out(source: str) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(cluster label's path -> box [x0, y0, x1, y1], node name -> [x, y]) as Graphviz puts them."""
    laid = json.loads(render(source, "json", "dot" if "dot" in available_backends() else None))
    clusters, nodes = {}, {}
    for obj in laid.get("objects", []):
        if obj["name"].startswith("cluster_"):
            path = re.sub(r"<[^>]*>", "", obj.get("label", "")).split(":")[0]
            clusters[path] = [float(v) for v in obj["bb"].split(",")]
        elif "pos" in obj:
            nodes[obj["name"]] = [float(v) for v in obj["pos"].split(",")]
    return clusters, nodes


def test_a_model_drawing_puts_its_layers_left_to_right_and_neurons_in_index_order():
    net, loss = _two_two_two()
    for compact in (False, True):
        clusters, _ = _laid_out(draw_dot(loss, model=net, compact=compact).source)
        first, second = clusters["layers.0"], clusters["layers.1"]
        assert first[2] < second[0], (compact, first, second)  # side by side, not stacked
        for layer in ("layers.0", "layers.1"):
            top, bottom = clusters[f"{layer}.neurons.0"], clusters[f"{layer}.neurons.1"]
            assert top[1] > bottom[3], (compact, layer)  # neuron 0 above neuron 1


def test_module_labels_are_one_line():
    net, loss = _two_two_two()
    source = draw_dot(loss, model=net).source
    assert "layers.1: Layer(2, 2, activation=&#x27;sigmoid&#x27;)" in source
    assert "<br/>" not in "".join(re.findall(r"label=<([^>]*)>; style=\"rounded", source))


def test_collapsed_layers_stand_left_to_right_and_neurons_top_to_bottom():
    model = MLP(2, [4, 4, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    _, nodes = _laid_out(draw_dot(loss, model=model, collapse="layer").source)
    xs = [nodes[f"m{k}"][0] for k in range(3)]
    assert xs == sorted(xs) and len(set(xs)) == 3, xs
    _, nodes = _laid_out(draw_dot(loss, model=model, collapse="neuron").source)
    layer0 = [nodes[f"m{k}"] for k in range(4)]
    assert [y for _, y in layer0] == sorted((y for _, y in layer0), reverse=True)
    assert max(x for x, _ in layer0) < min(nodes[f"m{k}"][0] for k in range(4, 8))


def test_stepper_frames_scale_with_their_column_and_tabs_undo_a_theme():
    net, loss = _two_two_two()
    page = backward_steps(loss, compact=True)._repr_html_()
    width, height = map(int, re.search(r'width="(\d+)" height="(\d+)"', page).groups())
    # As wide as the column, up to the frame's own width; pulled up by its height in % of width.
    assert 'class="mg-frames" style="margin-top:' in page and f"max-width:{width}px" in page
    assert page.count("width:100%; height:auto;") == page.count('class="mg-frame"')
    pulls = set(re.findall(r"margin:(-[\d.]+)% 0px", page))
    assert len(pulls) == 1 and abs(-float(pulls.pop()) - 100 * height / width) < 0.5
    for summary in re.findall(r'<summary class="mg-next" style="([^"]*)"', page):
        assert "--md-details-icon:linear-gradient(transparent,transparent)" in summary
        assert "--md-admonition-icon--note:linear-gradient(transparent,transparent)" in summary
        assert "padding:1px 2px" in summary and "display:list-item" in summary
    for details in re.findall(r'<details class="mg-step" style="([^"]*)"', page):
        assert "border:0px" in details and "box-shadow:none" in details
