"""Tests for micrograd.viz's DOT text: snapshots, structure, escaping, roles, clusters, limits."""

from __future__ import annotations

import html
import os
import pathlib
import re
import subprocess
import sys
import warnings

import pytest

from micrograd import MLP, Neuron, Value, draw_dot, no_grad
from micrograd.engine import topological_order
from micrograd.viz import DEFAULT_MAX_NODES, GraphTooLargeError
from micrograd.viz.dot import ROLE_COLOURS
from tests.references import facts

SNAPSHOTS = pathlib.Path(__file__).parents[1] / "snapshots"
STATEMENT = re.compile(r"^\s*(v\d+|o\d+|m\d+) \[(.*)\];$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)( \[.*\])?;$")


def check_snapshot(name: str, text: str) -> None:
    """Compare with tests/snapshots/NAME; MICROGRAD_UPDATE_SNAPSHOTS=1 rewrites the file."""
    path = SNAPSHOTS / name
    if os.environ.get("MICROGRAD_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def edges(source: str) -> list[tuple[str, str]]:
    return [m.group(1, 2) for line in source.splitlines() if (m := EDGE.match(line))]


def nodes(source: str) -> dict[str, str]:
    """Node name -> its attribute text."""
    return {m.group(1): m.group(2) for line in source.splitlines() if (m := STATEMENT.match(line))}


def cells(attributes: str) -> list[str]:
    """The texts of a value node's table cells, unescaped (bold markers removed)."""
    found = re.findall(r"<td>(.*?)</td>", attributes)
    return [html.unescape(c.replace("<b>", "").replace("</b>", "")) for c in found]


def membership(source: str) -> dict[str, list[str]]:
    """Node name -> labels of the clusters around it, outermost first."""
    stack: list[str] = []
    found = {}
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph cluster_"):
            stack.append("")
        elif stripped.startswith("label=<") and stack and not stack[-1]:
            stack[-1] = html.unescape(stripped.split(">;")[0][len("label=<") :])
        elif stripped == "}" and stack:
            stack.pop()
        elif m := STATEMENT.match(line):
            found[m.group(1)] = list(stack)
    return found


def neuron_example() -> tuple[Value, list[Value]]:
    # The neuron of Karpathy's micrograd lecture, whose numbers the README prints.
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    out = (x1 * w1 + x2 * w2 + b).tanh()
    out.label = "out"
    out.backward()
    return out, [x1, w1, x2, w2, b]


def test_square_has_two_edges_and_matches_snapshot():
    a = Value(3.0, "a")
    y = a * a
    y.backward()
    source = draw_dot(y).source
    assert edges(source) == [("v0", "o1"), ("v0", "o1"), ("o1", "v1")]
    assert cells(nodes(source)["v0"]) == ["a", "data 3", "grad 6"]
    check_snapshot("viz_square.dot", source)


def test_diamond_shares_the_top_node_and_matches_snapshot():
    a = Value(2.0, "a")
    b, c = a + 1, a * 3
    b.label, c.label = "b", "c"
    d = b * c
    d.label = "d"
    d.backward()
    source = draw_dot(d).source
    labels = {cells(attrs)[0]: name for name, attrs in nodes(source).items() if name[0] == "v"}
    a_node, b_node, c_node = labels["a"], labels["b"], labels["c"]
    # a feeds both branches; each branch feeds d's op once.
    tails = [tail for tail, _ in edges(source)]
    assert tails.count(a_node) == 2
    assert tails.count(b_node) == tails.count(c_node) == 1
    # d = (a + 1) * 3a, so dd/da = 3a + 3(a + 1) = 15 at a = 2.
    assert cells(nodes(source)[a_node]) == ["a", "data 2", "grad 15"]
    check_snapshot("viz_diamond.dot", source)


def test_neuron_numbers_and_snapshot():
    out, (x1, w1, x2, w2, b) = neuron_example()
    source = draw_dot(out).source
    shown = {
        cells(attrs)[0]: cells(attrs)[1:] for attrs in nodes(source).values() if "<td>" in attrs
    }
    # The lecture's numbers: out 0.7071, grads x1 -1.5, w1 1, x2 0.5, w2 0, b 0.5.
    assert shown["out"] == ["data 0.7071", "grad 1"]
    assert shown["x1"] == ["data 2", "grad -1.5"]
    assert shown["w1"] == ["data -3", "grad 1"]
    assert shown["x2"] == ["data 0", "grad 0.5"]
    assert shown["w2"] == ["data 1", "grad 0"]
    assert shown["b"] == ["data 6.881", "grad 0.5"]
    symbols = sorted(re.findall(r"label=<([^<>]*)>\]", source))
    assert symbols == sorted(["*", "*", "+", "+", "tanh"])
    check_snapshot("viz_neuron.dot", source)


def test_minus_zero_is_drawn_as_zero():
    w = Value(3.0, "W")
    source = draw_dot(w * 1.0 - 0.0).source
    assert ">-0<" not in source and "-0 " not in source and ">0<" in source


def test_edges_follow_argument_order():
    a, b = Value(2.0, "a"), Value(3.0, "b")
    y = a**b
    source = draw_dot(y).source
    labels = {cells(attrs)[0]: name for name, attrs in nodes(source).items() if name[0] == "v"}
    into_op = [tail for tail, head in edges(source) if head.startswith("o")]
    assert into_op == [labels["a"], labels["b"]]


@pytest.mark.parametrize(
    "label", ['x|y{z}<w> "q" \\', "a\\lb\\nc", "&amp; &#x41;", "<b>bold</b>", "]; digraph {", "σ²"]
)
def test_labels_are_escaped_so_they_read_as_written(label):
    v = Value(1.0, label)
    source = draw_dot(v * 2).source
    cell = [c for c in cells(nodes(source)["v0"]) if not c.startswith(("data", "grad"))]
    assert cell == [label]
    # Only the markup we write ourselves may contain raw angle brackets or quotes.
    inner = re.search(r"<b>(.*?)</b>", nodes(source)["v0"]).group(1)
    assert not set(inner) & set('<>"')


def test_control_characters_and_long_labels_are_kept_readable():
    source = draw_dot(Value(1.0, "a\x00b" + "x" * 100) * 2).source
    (label,) = [c for c in cells(nodes(source)["v0"]) if not c.startswith(("data", "grad"))]
    # Cut to 60 characters of the original text, then the NUL shown as an escape.
    assert label == "a\\x00b" + "x" * 56 + "…"


def test_roles_are_coloured():
    model = Neuron(2, activation="tanh", seed=1)
    x = Value(0.5, "x")
    out = model([x, 2.0])
    source = draw_dot(out, model=model).source
    colour = {}
    for name, attrs in nodes(source).items():
        if name.startswith("v"):
            colour[cells(attrs)[0]] = re.search(r'bgcolor="(#\w+)"', attrs).group(1)
    assert colour["x"] == ROLE_COLOURS["input"]
    assert colour["w.0"] == colour["w.1"] == colour["b"] == ROLE_COLOURS["parameter"]
    assert colour["2"] == ROLE_COLOURS["constant"]
    root = max((n for n in nodes(source) if n[0] == "v"), key=lambda n: int(n[1:]))
    assert f'bgcolor="{ROLE_COLOURS["output"]}"' in nodes(source)[root]


def test_values_made_under_no_grad_are_constants():
    a = Value(2.0, "a")
    with no_grad():
        c = a * 3
    source = draw_dot(a + c).source
    assert ROLE_COLOURS["constant"] in nodes(source)["v1"]
    assert "grad" not in "".join(cells(nodes(source)["v1"]))


def test_grad_shading_darkens_larger_grads():
    out, _ = neuron_example()
    source = draw_dot(out, shade_grad=True).source
    fills = {}
    for attrs in nodes(source).values():
        if "<td>" in attrs and cells(attrs)[0] in ("x1", "w2"):
            fills[cells(attrs)[0]] = re.search(r'bgcolor="#(\w+)"', attrs).group(1)
    # x1 has the largest |grad| (1.5), w2 has grad 0 and keeps its role's colour.
    assert "#" + fills["w2"] == ROLE_COLOURS["input"]
    brightness = sum(int(fills["x1"][k : k + 2], 16) for k in (0, 2, 4))
    assert brightness < sum(int(ROLE_COLOURS["input"][k : k + 2], 16) for k in (1, 3, 5))


def _graph_text_in_fresh_process(seed: str) -> str:
    code = (
        "from micrograd import MLP, draw_dot\n"
        "m = MLP(2, [3, 1], seed=3)\n"
        "print(draw_dot(m([0.5, -1.0]), model=m).source, end='')\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    root = pathlib.Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True
    )
    return done.stdout


def test_same_graph_gives_same_text_every_run():
    model = MLP(2, [3, 1], seed=3)
    here = draw_dot(model([0.5, -1.0]), model=model).source
    again = draw_dot(model([0.5, -1.0]), model=model).source
    assert here == again
    assert _graph_text_in_fresh_process("1") == _graph_text_in_fresh_process("2") == here


def test_mlp_clusters_put_each_node_with_its_neuron():
    model = MLP(2, [3, 2, 1], seed=0)
    out = model([0.5, -1.0])
    loss = (1 - out).relu()
    loss.backward()
    source = draw_dot(loss, model=model).source
    where = membership(source)
    names = {cells(nodes(source)[n])[0]: n for n in where if n[0] == "v"}
    by_owner = {}
    for name, _ in model.named_parameters():
        owner = (
            name.rsplit(".", 2)[0] if name.endswith(tuple("0123456789")) else name.rsplit(".", 1)[0]
        )
        by_owner.setdefault(owner, []).append(name)
    assert len(by_owner) == 6
    labels_of = {n: [lab.split(":")[0] for lab in where[n]] for n in where}
    for owner in by_owner:
        layer = owner.rsplit(".", 2)[0]
        # The neuron's activation (or its last add, for the linear output) sits in its cluster.
        inside = [n for n, labs in labels_of.items() if labs == [layer, owner]]
        assert len(inside) >= 7
    # The loss (1 - out).relu() is outside every cluster; so is the final ReLU op.
    root = f"v{max(int(n[1:]) for n in where if n[0] == 'v')}"
    assert where[root] == [] and where["o" + root[1:]] == []
    assert len(names) > 0


def test_cluster_false_draws_no_clusters():
    model = MLP(2, [2, 1], seed=0)
    source = draw_dot(model([1.0, 2.0]), model=model, cluster=False).source
    assert "subgraph" not in source
    assert "w.0" in source  # parameters are still named and coloured


def test_collapse_draws_one_box_per_neuron_or_layer():
    model = MLP(2, [3, 2, 1], seed=0)
    out = model([0.5, -1.0])
    by_neuron = draw_dot(out, model=model, collapse="neuron").source
    by_layer = draw_dot(out, model=model, collapse="layer").source
    assert sorted(n for n in nodes(by_neuron) if n[0] == "m") == [f"m{k}" for k in range(6)]
    assert sorted(n for n in nodes(by_layer) if n[0] == "m") == ["m0", "m1", "m2"]
    assert edges(by_layer) == [("m0", "m1"), ("m1", "m2")]
    # Every first-layer neuron feeds every second-layer neuron: 3 * 2 + 2 * 1 edges.
    assert len(edges(by_neuron)) == 8
    assert "out: data " + format(out.data, ".4g") in html.unescape(nodes(by_layer)["m2"])


def test_whole_demo_mlp_is_refused_plain_and_falls_back_to_boxes_with_a_model():
    model = MLP(2, [16, 16, 1], seed=1337)
    out = model([0.3, -0.7])
    loss = (1 - out).relu()
    loss.backward()
    with pytest.raises(GraphTooLargeError, match=r"max_nodes=1000.*collapse="):
        draw_dot(loss)
    with pytest.raises(GraphTooLargeError, match=r"max_nodes=5\b"):
        draw_dot(loss, model=model, max_nodes=5)  # even one box per layer is too many
    fallback = draw_dot(loss, model=model)
    assert "one box per neuron" in fallback.note and "one box per neuron" in repr(fallback)
    assert "one box per neuron" in fallback.source  # the picture says so too
    source = draw_dot(loss, model=model, collapse="neuron").source
    assert nodes(fallback.source) == nodes(source)
    drawn = nodes(source)
    assert sum(1 for n in drawn if n[0] == "m") == 33
    assert len(drawn) < 50
    # Box to box (16 x 16, then 16 into the output neuron), then the loss (1 - out).relu():
    # out * -1 (3 edges with the constant), 1 + that (3), relu (2).
    assert len(edges(source)) == 16 * 16 + 16 + 8


def test_size_guard_counts_nodes_and_can_be_raised():
    x = Value(0.5, "x")
    y = x
    for _ in range(300):
        y = y * 1.001
    with pytest.raises(GraphTooLargeError, match=facts("301 leaves", "300 ops", "901 nodes")):
        draw_dot(y, max_nodes=900)
    assert len(nodes(draw_dot(y).source)) == 901
    assert DEFAULT_MAX_NODES == 1000


def test_size_guard_is_quick_on_a_training_sized_graph():
    x = Value(1.0, "x")
    y = x
    for _ in range(70_000):
        y = y + x
    with pytest.raises(GraphTooLargeError, match="140001 nodes"):
        draw_dot(y)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"collapse": "neuron"}, "needs model="),
        ({"cluster": True}, "needs model="),
        ({"collapse": "box"}, "collapse must be"),
        ({"rankdir": "up"}, "rankdir must be"),
        ({"digits": 0}, "digits must be"),
        ({"max_nodes": 0}, "max_nodes must be"),
        ({"model": 3}, "named_parameters"),
        ({"backend": "neato"}, None),
    ],
)
def test_bad_options_are_named(options, message):
    a = Value(1.0)
    if message is None:
        with pytest.raises(ValueError, match="backend must be one of"):
            draw_dot(a * a, **options).pipe("svg")
        return
    with pytest.raises((ValueError, TypeError), match=message):
        draw_dot(a * a, **options)


def test_draw_dot_rejects_non_values():
    with pytest.raises(TypeError, match=facts("draw_dot", "Value", "float: 1.0")):
        draw_dot(1.0)


def test_value_draw_is_draw_dot():
    out, _ = neuron_example()
    assert out.draw(rankdir="TB").source == draw_dot(out, rankdir="TB").source


def test_grad_that_is_a_value_after_create_graph_is_drawn_as_its_number():
    x = Value(1.5, "x")
    y = x.tanh() * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # drawing reads the number without GradientLostWarning
        source = draw_dot(y).source
    assert f"grad {x.grad.item():.4g}" in source


def test_modules_held_in_a_str_keyed_dict_are_drawn_in_their_clusters():
    from micrograd.nn import Module, Neuron

    class Pair(Module):
        def __init__(self) -> None:
            self.parts = {"a": Neuron(2, seed=0), "b": Neuron(2, seed=1)}

        def __call__(self, x):
            return self.parts["a"](x) + self.parts["b"](x)

    model = Pair()
    out = model([1.0, 2.0])
    source = draw_dot(out, model=model).source  # raised AttributeError: 'dict' has no 'a'
    assert source.count("subgraph cluster_") == 2
    assert "parts.a: " in source and "parts.b: " in source
    boxes = draw_dot(out, model=model, collapse="neuron").source
    assert len([n for n in nodes(boxes) if n.startswith("m")]) == 2


def test_inputs_and_parameters_of_one_rank_are_stacked_in_creation_order():
    w = [Value(0.1 * k, f"w{k}") for k in range(1, 5)]
    i1, i2 = Value(0.05, "i1"), Value(0.1, "i2")
    h1 = w[0] * i1 + w[1] * i2
    h2 = w[2] * i1 + w[3] * i2
    source = draw_dot(h1 * h2).source
    # Graphviz alone stacks w1, w3, w2, w4 (fewer crossings); the chain keeps index order.
    chain = re.search(r"\{rank=same; (.*) \[style=invis\];\}", source).group(1)
    names = dict(re.findall(r"(v\d+) \[shape=plain label=<.*?<b>(\w+)</b>", source))
    assert [names[v] for v in chain.split(" -> ")] == ["w1", "w2", "w3", "w4"]


def test_collapsed_boxes_of_a_layer_are_stacked_in_index_order():
    model = MLP(2, [3, 3, 1], seed=0)
    out = model([0.5, -1.0])
    source = draw_dot(out, model=model, collapse="neuron").source
    names = dict(re.findall(r"(m\d+) \[shape=plain label=<<table.*?<b>([^<]*)</b>", source))
    chains = re.findall(r"\{rank=same; (.*) \[style=invis\];\}", source)
    stacked = [[names[m] for m in chain.split(" -> ")] for chain in chains]
    assert stacked == [[f"layers.{k}.neurons.{j}" for j in range(3)] for k in range(2)]


def test_compact_draws_each_op_inside_its_value_and_keeps_argument_order():
    out, leaves = neuron_example()
    x1, w1, x2, w2, b = leaves
    full, compact = draw_dot(out).source, draw_dot(out, compact=True).source
    order = topological_order(out)
    index = {id(node): i for i, node in enumerate(order)}
    statements = nodes(compact)
    # No op nodes: one node per value, and an edge straight from each parent (in argument
    # order, `a * a` twice) to the value it makes.
    assert sorted(statements) == sorted(f"v{i}" for i in range(len(order)))
    expected = [(f"v{index[id(p)]}", f"v{index[id(node)]}") for node in order for p in node.parents]
    assert edges(compact) == expected
    assert len(edges(full)) == len(expected) + sum(1 for node in order if node.parents)
    for i, node in enumerate(order):
        shown = cells(statements[f"v{i}"])
        grad_cell = re.search(r'<font color="([^"]+)">([^<]*)</font>', statements[f"v{i}"])
        assert f"{node.data:.4g}" in shown
        assert grad_cell is not None and grad_cell.group(2) == f"{node.grad:.4g}"
        if node.parents:
            top = re.search(r"<td[^>]*><b>(.*?)</b></td>", statements[f"v{i}"])
            assert top is not None and top.group(1) == node.op.symbol  # the op that made it
        if node.label:
            assert node.label in shown
    assert "<td>data " not in compact and "<td>grad " not in compact
    assert "grad (blue)" in compact  # the legend says which number is the grad


def test_compact_is_refused_unless_a_bool():
    with pytest.raises(TypeError, match=facts("compact", "True", "False", "'yes'")):
        draw_dot(Value(1.0) * 2, compact="yes")
