"""Tests for the playground's Python side, in plain Python: `micrograd.playground.glue` and the
page builder (`micrograd.playground.build`, `python -m micrograd playground`). The browser tests
are in playground/test_playground_browser.py."""

from __future__ import annotations

import io
import json
import math
import pathlib
import re
import tarfile
import time
from importlib import resources

import pytest

from micrograd.cli import main
from micrograd.data import TWO_TWO_TWO
from micrograd.playground import build, glue
from tests.references import facts


def ask(call: str, **args: object) -> dict:
    """What the page gets back for one request, through the same JSON text it uses."""
    return json.loads(glue.handle(json.dumps({"call": call, "args": args})))


def expression(text: str, values: str) -> dict:
    return {"kind": "expression", "expression": text, "values": values}


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def hand_error(w: list[float]) -> float:
    """E_total of the 2-2-2 network written out with math, as in the walk-through."""
    net = TWO_TWO_TWO
    (i1, i2), (t1, t2) = net.inputs, net.targets
    h1 = sigmoid(w[0] * i1 + w[1] * i2 + net.b1)
    h2 = sigmoid(w[2] * i1 + w[3] * i2 + net.b1)
    o1 = sigmoid(w[4] * h1 + w[5] * h2 + net.b2)
    o2 = sigmoid(w[6] * h1 + w[7] * h2 + net.b2)
    return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2


def central_difference(f, x: list[float], k: int, h: float = 1e-6) -> float:
    up, down = list(x), list(x)
    up[k] += h
    down[k] -= h
    return (f(up) - f(down)) / (2 * h)


def test_preset_has_the_walkthroughs_published_numbers():
    answer = ask("graph", spec=ask("preset")["spec"])
    assert answer["ok"]
    assert answer["output"]["label"] == "E_total"
    assert abs(answer["output"]["data"] - TWO_TWO_TWO.expected_error) < 1e-9
    grads = {leaf["name"]: leaf["grad"] for leaf in answer["leaves"]}
    assert abs(grads["w5"] - TWO_TWO_TWO.expected_grad_w5) < 1e-9
    weights = list(TWO_TWO_TWO.weights)
    for k in range(8):
        assert grads[f"w{k + 1}"] == pytest.approx(
            central_difference(hand_error, weights, k), rel=1e-6, abs=1e-10
        )
    assert answer["network"] == {"lr": 0.5, "step": 0}


def test_one_training_step_gives_the_published_weights():
    answer = ask("train", spec=ask("preset")["spec"], steps=1)
    assert answer["spec"]["step"] == 1
    for got, published in zip(answer["spec"]["weights"], TWO_TWO_TWO.updated_weights):
        # The walk-through prints 8 or 9 decimals: agree to the last one printed.
        assert abs(got - published) <= 10.0 ** -len(repr(published).split(".")[1])
    assert answer["errors"] == [pytest.approx(hand_error(answer["spec"]["weights"]), rel=1e-15)]


def test_training_steps_lower_the_error_and_can_be_split():
    start = ask("preset")["spec"]
    ten = ask("train", spec=start, steps=10, lr=2.0)
    assert all(b < a for a, b in zip(ten["errors"], ten["errors"][1:]))
    assert ten["errors"][0] < TWO_TWO_TWO.expected_error
    five = ask("train", spec=start, steps=5, lr=2.0)
    again = ask("train", spec=five["spec"], steps=5)  # the spec remembers lr=2.0
    assert again["spec"]["weights"] == ten["spec"]["weights"]
    assert again["spec"]["step"] == 10


@pytest.mark.parametrize(
    ("steps", "lr", "words"),
    [(0, 0.5, "steps"), (True, 0.5, "steps"), (10**6, 0.5, "10000"), (1, -1.0, "learning rate")],
)
def test_bad_training_requests_are_messages(steps, lr, words):
    answer = ask("train", spec=ask("preset")["spec"], steps=steps, lr=lr)
    assert not answer["ok"] and words in answer["error"]


def test_expression_graph_matches_math_and_finite_differences():
    answer = ask("graph", spec=expression("tanh(a*b + c)", "a=2, b = -3 c=10"))
    t = math.tanh(4.0)
    assert answer["output"]["data"] == t
    grads = {leaf["name"]: leaf["grad"] for leaf in answer["leaves"]}
    assert grads == pytest.approx({"a": -3 * (1 - t * t), "b": 2 * (1 - t * t), "c": 1 - t * t})
    # Two inputs, a*b, a*b+c, the output (five boxes) and three op circles.
    assert answer["node_count"] == 8 + 1
    assert answer["dot"].startswith("digraph") and "tanh" in answer["dot"]
    leaf_nodes = {leaf["name"]: leaf["node"] for leaf in answer["leaves"]}
    for name, node in leaf_nodes.items():
        assert f"{node} [shape=plain" in answer["dot"]
        assert f"<b>{name}</b>" in answer["dot"].split(f"{node} [", 1)[1].split("\n", 1)[0]


def test_frames_come_from_one_layout_one_per_op():
    render = pytest.importorskip("micrograd.viz").render
    spec = expression("a*a + sin(b)", "a=3 b=0.5")
    layout_dot = ask("frames", spec=spec)["layout_dot"]
    assert layout_dot.startswith("digraph")
    try:
        svg = render(layout_dot, "svg").decode("utf-8")
    except Exception as error:  # no Graphviz program here: the page's viz.js does this part
        pytest.skip(f"no Graphviz to lay out the frames: {error}")
    frames = ask("frames", spec=spec, svg=svg)["frames"]
    # Three ops (a*a, sin(b), +): one frame each, the output's op first.
    assert [f["title"].split(":")[0] for f in frames] == [f"step {k} of 3" for k in (1, 2, 3)]
    assert "(+)" in frames[0]["title"]
    # Every frame is the one layout: same size, same node positions; only texts and colours move.
    sizes = {
        re.search(r'<svg[^>]*width="([^"]+)"[^>]*height="([^"]+)"', f["svg"]).groups()
        for f in frames
    }
    assert len(sizes) == 1
    positions = [re.findall(r'<polygon[^>]*points="([^"]+)"', f["svg"]) for f in frames]
    assert all(p == positions[0] for p in positions)
    assert len({f["svg"] for f in frames}) == 3  # but each frame shows its own step
    for frame in frames:  # the node kept in view is one the SVG draws
        assert f"<title>{frame['node']}</title>" in frame["svg"]


@pytest.mark.parametrize(
    ("text", "values", "words"),
    [
        ("a +* b", "a=1 b=2", "syntax error"),
        ("__import__('os')", "", "__import__"),
        ("a.real", "a=1", "attribute"),
        ("a + q", "a=1", "give a value to q"),
        ("a", "a=1 b=2", "b is given a value but not used"),
        ("a", "a=1 a=2", "a is given a value twice"),
        ("a", "a=x", "needs a number"),
        ("2 + 3", "", "no names"),
        ("exp(a)", "a=1000", "beyond"),
    ],
)
def test_bad_expressions_are_one_line_messages(text, values, words):
    answer = ask("graph", spec=expression(text, values))
    assert answer == {"ok": False, "error": answer["error"]}
    assert words in answer["error"] and "\n" not in answer["error"]


def test_non_finite_grads_reach_the_page_as_text():
    answer = ask("graph", spec=expression("sqrt(a)", "a=0"))
    assert answer["ok"] and answer["leaves"][0]["grad"] == "inf"


@pytest.mark.parametrize(
    "request_text",
    [
        '{"call": "nope"}',
        "[1, 2]",
        "not json",
        '{"call": "graph", "args": {"spec": 3}}',
        '{"call": "graph", "args": {"spec": {"kind": "network", "weights": [1, 2]}}}',
        '{"call": "graph", "args": {"wrong": 1}}',
    ],
)
def test_malformed_requests_are_messages(request_text):
    answer = json.loads(glue.handle(request_text))
    assert answer["ok"] is False and answer["error"]


def test_explain_matches_backward():
    spec = expression("a*b + a", "a=2 b=-3")
    answer = ask("explain", spec=spec, name="a")
    # d/da (a*b + a) = b + 1: two paths, products b and 1.
    assert answer["ok"] and answer["total"] == pytest.approx(-2.0)
    assert sorted(p["product"] for p in answer["paths"]) == pytest.approx([-3.0, 1.0])
    assert ask("explain", spec=spec, name="zz")["ok"] is False


# ---- The page builder -----------------------------------------------------------------------


def test_build_without_assets_uses_the_pinned_cdn(tmp_path, capsys):
    assert main(["playground", "--out", str(tmp_path / "site")]) == 0
    assert "index.html" in capsys.readouterr().out
    site = tmp_path / "site"
    config = (site / "config.js").read_text()
    assert f"pyodide/v{build.PYODIDE_VERSION}/" in config
    assert f"@viz-js/viz@{build.VIZ_VERSION}/" in config
    # Every file fetched from the CDN has its hash, which the worker checks before use.
    settings = json.loads(config.removeprefix("window.PLAYGROUND_CONFIG = ").rstrip().rstrip(";"))
    assert settings["integrity"][build.CDN_VIZ] == build.CDN_INTEGRITY["dist/viz-global.js"]
    for name in build.PYODIDE_FILES:
        assert settings["integrity"][build.CDN_PYODIDE + name] == build.CDN_INTEGRITY[name]
    index = (site / "index.html").read_text()
    for script in ("config.js", "playground.js"):
        assert f'<script src="{script}">' in index
    assert '"micrograd-package.js"' in (site / "worker.js").read_text()  # the worker loads it
    # The package's own sources, unchanged, glue included.
    bundle = (site / "micrograd-package.js").read_text()
    files = json.loads(bundle.removeprefix("self.MICROGRAD_FILES = ").rstrip().rstrip(";"))
    package = pathlib.Path(glue.__file__).parent.parent
    assert files["micrograd/playground/glue.py"] == pathlib.Path(glue.__file__).read_text()
    assert files["micrograd/engine.py"] == (package / "engine.py").read_text()
    assert not any("__pycache__" in name for name in files)
    # Built twice into the same folder: fine; into a folder of other files: refused.
    assert main(["playground", "--out", str(site)]) == 0
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert main(["playground", "--out", str(tmp_path / "other")]) == 1
    assert "not empty" in capsys.readouterr().err


def fake_package(name: str, version: str, files: tuple[str, ...]) -> dict[str, bytes]:
    contents = {"package.json": json.dumps({"name": name, "version": version}).encode()}
    contents.update({f: f"contents of {f}".encode() for f in files})
    return contents


def write_tgz(path: pathlib.Path, contents: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_assets_from_npm_pack_archives_and_unpacked_folders(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    pyodide = fake_package("pyodide", build.PYODIDE_VERSION, build.PYODIDE_FILES)
    write_tgz(assets / f"pyodide-{build.PYODIDE_VERSION}.tgz", pyodide)
    viz = fake_package("@viz-js/viz", build.VIZ_VERSION, build.VIZ_FILES)
    for name, data in viz.items():  # unpacked, as `tar xzf` leaves it
        (assets / "viz" / "package" / name).parent.mkdir(parents=True, exist_ok=True)
        (assets / "viz" / "package" / name).write_bytes(data)
    index = build.build_page(tmp_path / "site", assets)
    site = index.parent
    assert (site / "assets/pyodide/pyodide.asm.wasm").read_bytes() == pyodide["pyodide.asm.wasm"]
    assert (site / "assets/viz/viz-global.js").read_bytes() == viz["dist/viz-global.js"]
    config = (site / "config.js").read_text()
    assert '"pyodide": "assets/pyodide/"' in config
    assert f'"assets/viz/viz-global.js": "{build.sri_hash(viz["dist/viz-global.js"])}"' in config


def test_assets_of_another_version_or_incomplete_are_refused(tmp_path, capsys):
    assets = tmp_path / "assets"
    assets.mkdir()
    write_tgz(assets / "pyodide-0.1.tgz", fake_package("pyodide", "0.1", build.PYODIDE_FILES))
    assert main(["playground", "--out", str(tmp_path / "a"), "--assets", str(assets)]) == 1
    err = capsys.readouterr().err
    assert f"pyodide@{build.PYODIDE_VERSION}" in err and "pyodide@0.1" in err
    assert f"npm pack pyodide@{build.PYODIDE_VERSION} @viz-js/viz@{build.VIZ_VERSION}" in err
    viz = fake_package("@viz-js/viz", build.VIZ_VERSION, ())  # no dist/viz-global.js
    write_tgz(assets / "viz.tgz", viz)
    write_tgz(
        assets / "pyodide.tgz", fake_package("pyodide", build.PYODIDE_VERSION, build.PYODIDE_FILES)
    )
    with pytest.raises(build.AssetError, match="dist/viz-global.js"):
        build.build_page(tmp_path / "b", assets)
    assert not (tmp_path / "b").exists()  # nothing written before the assets were checked


def test_page_files_ship_with_the_package():
    static = resources.files("micrograd.playground") / "static"
    for name in ("index.html", "playground.js", "playground.css", "worker.js"):
        assert static.joinpath(name).is_file()
    # Declared as package data wherever the metadata lives, so wheels carry the page too.
    root = pathlib.Path(__file__).parents[2]
    metadata = "".join(
        (root / name).read_text()
        for name in ("setup.cfg", "pyproject.toml")
        if (root / name).exists()
    )
    assert re.search(r"micrograd\.playground\"?\s*=\s*\[?\s*\"?static/\*", metadata)


def test_the_expression_fields_hint_lists_every_function_the_parser_takes():
    from micrograd.expr import ARGUMENTS, FUNCTIONS, example_call

    index = (resources.files("micrograd.playground") / "static" / "index.html").read_text()
    hint = re.search(r'<input id="expression"[^>]*title="([^"]*)"', index).group(1)
    shown = re.findall(r"\w+(?:\([^)]*\))?", hint.split("parentheses and", 1)[1])
    # Each function once, those of several arguments with the arguments the messages give.
    assert shown == [
        name if len(ARGUMENTS[name]) == 1 else example_call(name) for name in FUNCTIONS
    ]


# ---- What the page says about each step (micrograd.playground.rules) --------------------------


def page(call: str, **args: object) -> dict:
    """What the page's worker gets back: `handle_page`, messages in the page's words."""
    return json.loads(glue.handle_page(json.dumps({"call": call, "args": args})))


NEURON = expression("tanh(x1*w1 + x2*w2 + b)", "x1=2 w1=-3 x2=0 w2=1 b=6.8813735870195432")


def test_a_rule_shows_the_op_records_notation_with_the_numbers():
    from micrograd.ops import TANH

    graph = page("graph", spec=NEURON)
    tanh_node = re.search(r"(o\d+) \[[^\]]*label=<tanh>", graph["dot"]).group(1)
    answer = page("rule", spec=NEURON, node=tanh_node)
    (derivative,) = answer["derivatives"]
    assert derivative["symbols"] == f"∂out/∂x = {TANH.notation[0]}" == "∂out/∂x = 1 - tanh(x)^2"
    assert derivative["numbers"] == "= 1 - tanh(0.881374)^2 = 0.5"
    assert answer["forward"] == "out = tanh(x) = tanh(0.881374) = 0.707107"
    assert answer["where"].startswith("x = (x1 * w1 + x2 * w2 + b) = ")
    assert derivative["local"] == pytest.approx(0.5) and derivative["upstream"] == 1.0
    assert answer["inputs"] and all(re.fullmatch(r"v\d+", v) for v in answer["inputs"])
    for bad in ("v0", "o999", "<script>"):
        assert page("rule", spec=NEURON, node=bad)["ok"] is False


def test_every_backward_frame_carries_its_rule_from_the_engine():
    render = pytest.importorskip("micrograd.viz").render
    from micrograd.viz import backward_steps

    spec = expression("a*b + sin(a) / c", "a=1.5 b=-2 c=4")
    try:
        svg = render(page("frames", spec=spec)["layout_dot"], "svg").decode("utf-8")
    except Exception as error:  # no Graphviz program here: the page's viz.js does this part
        pytest.skip(f"no Graphviz to lay out the frames: {error}")
    frames = page("frames", spec=spec, svg=svg)["frames"]
    out, _ = glue.build(spec)
    nodes = backward_steps(out).nodes
    assert len(frames) == len(nodes)
    for frame, node in zip(frames, nodes):
        rule = frame["rule"]
        assert rule["op"] == node.op.name
        inputs = [p.data for p in node.parents]
        for position, derivative in enumerate(rule["derivatives"]):
            local = node.op.local_grads[position](*inputs, node.data)
            assert derivative["local"] == local and derivative["passed"] == local * node.grad
            assert derivative["symbols"].endswith(node.op.notation[position])


def test_a_rule_with_nothing_to_fill_in_is_written_once():
    spec = expression("a*b + c", "a=2 b=-3 c=1")
    graph = page("graph", spec=spec)
    add = re.search(r"(o\d+) \[[^\]]*label=<\+>", graph["dot"]).group(1)
    mul = re.search(r"(o\d+) \[[^\]]*label=<\*>", graph["dot"]).group(1)
    numbers = [d["numbers"] for d in page("rule", spec=spec, node=add)["derivatives"]]
    assert numbers == ["", ""]  # add's 1: no "= 1 = 1"
    numbers = [d["numbers"] for d in page("rule", spec=spec, node=mul)["derivatives"]]
    assert numbers == ["= (-3) = -3", "= 2 = 2"]


def op_circle(dot: str, symbol: str) -> str:
    return re.search(rf"(o\d+) \[[^\]]*label=<{re.escape(symbol)}>", dot).group(1)


def test_maximum_and_square_nodes_read_as_a_call_and_a_power_with_the_engines_numbers():
    from micrograd import Value
    from micrograd.ops import MAXIMUM, SQUARE

    spec = expression("maximum(a, b) * square(c)", "a=2 b=2 c=-1.5")  # a tie: half each
    graph = page("graph", spec=spec)
    maximum = page("rule", spec=spec, node=op_circle(graph["dot"], MAXIMUM.symbol))
    square = page("rule", spec=spec, node=op_circle(graph["dot"], SQUARE.symbol))
    assert maximum["forward"] == "out = max(x, y) = max(2, 2) = 2"
    assert maximum["where"] == "x = a = 2, y = b = 2"
    assert square["forward"] == "out = x² = (-1.5)² = 2.25"
    assert [d["symbols"] for d in maximum["derivatives"] + square["derivatives"]] == [
        f"∂out/∂{name} = {text}"
        for name, text in [*zip("xy", MAXIMUM.notation), ("x", SQUARE.notation[0])]
    ]
    assert [d["numbers"] for d in maximum["derivatives"]] == [
        "= 1 if 2 > 2, 0.5 if 2 = 2, else 0 = 0.5",
        "= 1 if 2 > 2, 0.5 if 2 = 2, else 0 = 0.5",
    ]
    assert square["derivatives"][0]["numbers"] == "= 2 * (-1.5) = -3"
    # What each rule passes on is the gradient the engine gives each input (each used once).
    a, b, c = Value(2.0), Value(2.0), Value(-1.5)
    (a.maximum(b) * c.square()).backward()
    passed = [d["passed"] for d in maximum["derivatives"] + square["derivatives"]]
    assert passed == [a.grad, b.grad, c.grad] == [1.125, 1.125, -6.0]


@pytest.mark.parametrize(
    ("text", "values", "forward"),
    [
        ("minimum(a, 1)", "a=-2", "out = min(x, y) = min(-2, 1) = -2"),
        ("clamp_min(a, 0)", "a=-0.5", "out = clamp_min(x, y) = clamp_min(-0.5, 0) = 0"),
        ("clamp_max(a, 1)", "a=3", "out = clamp_max(x, y) = clamp_max(3, 1) = 1"),
        ("square(a)", "a=1e7", "out = x² = (1e+07)² = 1e+14"),  # not 1e+07²: an exponent of 7²
        # A negative number as a whole argument needs no brackets of its own: not tanh((-1.5)).
        ("tanh(a)", "a=-1.5", f"out = tanh(x) = tanh(-1.5) = {math.tanh(-1.5):.6g}"),
        ("maximum(a, b)", "a=-1 b=-2", "out = max(x, y) = max(-1, -2) = -1"),
        ("a * b", "a=2 b=-3", "out = x * y = 2 * (-3) = -6"),
    ],
)
def test_the_other_new_ops_read_as_calls_or_a_power_with_their_numbers(text, values, forward):
    spec = expression(text, values)
    out, _ = glue.build(spec)
    graph = page("graph", spec=spec)
    assert (
        page("rule", spec=spec, node=op_circle(graph["dot"], out.op.symbol))["forward"] == forward
    )


def test_every_ops_forward_formula_names_its_inputs_once_each():
    from micrograd import OPS, Value
    from micrograd.playground.rules import forward_formula

    methods = {"add": "__add__", "mul": "__mul__", "pow": "__pow__"}
    formulas = {}
    for name, op in OPS.items():
        x, y = Value(0.5), Value(0.25)
        node = getattr(x, methods.get(name, name))(*[y][: op.arity - 1])
        assert node.op is op
        formulas[name] = forward_formula(node)
        inputs = re.findall(r"\b[xy]\b", formulas[name], re.ASCII)
        assert inputs == ["x", "y"][: op.arity], formulas[name]
    assert formulas["square"] == "x²" and formulas["maximum"] == "max(x, y)"
    assert formulas["clamp_max"] == "clamp_max(x, y)" and formulas["pow"] == "x ** y"
    assert formulas["sigmoid"] == "σ(x)"


def test_forward_steps_go_node_by_node_in_computing_order():
    steps = page("forward", spec=NEURON)["steps"]
    out, _ = glue.build(NEURON)
    assert len(steps) == sum(1 for v in glue.topological_order(out) if v.parents) == 5
    assert steps[0]["title"].startswith("forward step 1 of 5: x1 * w1")
    assert steps[-1]["rule"]["forward"].endswith(f"= {out.data:.6g}")
    assert all(set(a["done"]) < set(b["done"]) for a, b in zip(steps, steps[1:]))


@pytest.mark.parametrize("spec", [NEURON, glue.preset()], ids=["neuron", "network"])
def test_numerical_check_agrees_with_backward(spec):
    answer = page("check", spec=spec)
    assert answer["agrees"] is True
    for row in answer["rows"]:
        assert row["central"] == pytest.approx(row["backward"], rel=1e-5, abs=1e-8)
    names = [row["name"] for row in answer["rows"]]
    assert names == (
        ["x1", "w1", "x2", "w2", "b"] if spec is NEURON else [*glue._WEIGHTS, "b1", "b2"]
    )


@pytest.mark.parametrize(
    ("text", "values", "words"),
    [
        ("tanh + a", "a=1", "tanh is a function"),
        ("maximum + a", "a=1", "maximum is a function: call it, as in maximum(x, y)"),
        ("a", "maximum=1", "maximum is a function name"),
        ("_x + a", "a=1", "starts with _"),
        ("a", "tanh=1", "in Values"),
        ("a" + "*a" * 45, "a=1", f"at most {glue.MAX_OPERATIONS} operations"),
        ("+".join(["a"] * 120), "a=1", f"{glue.MAX_OPERATIONS} operations"),
        ("a" + " " * 600, "a=1", f"{glue.MAX_OPERATIONS} operations"),
        ("a - b / c", "a=1 b=2 c=" + "9" * 300, "out of range"),
    ],
)
def test_page_messages_speak_the_pages_words(text, values, words):
    answer = page("graph", spec=expression(text, values))
    assert answer["ok"] is False and words in answer["error"]
    assert "--set" not in answer["error"] and len(answer["error"]) <= glue.MAX_MESSAGE


def test_page_messages_never_show_pythons_own_text():
    answer = page("graph", wrong=1)  # a TypeError inside: named by kind only
    assert answer["ok"] is False and "TypeError" in answer["error"]
    assert "unexpected keyword" not in answer["error"]


@pytest.mark.parametrize(("lr", "step", "words"), [(1000, 0, "(0, 100]"), (0.5, -7, "step")])
def test_a_networks_numbers_from_an_address_are_checked(lr, step, words):
    spec = {**glue.preset(), "lr": lr, "step": step}
    answer = page("graph", spec=spec)
    assert answer["ok"] is False and words in answer["error"]


@pytest.mark.parametrize(
    "damage",
    ["json list", "json string", "tgz not gzip", "tgz cut off", "tgz list", "tgz member cut off"],
)
def test_odd_asset_folders_end_in_one_line(tmp_path, capsys, damage):
    assets = tmp_path / "assets"
    (assets / "p").mkdir(parents=True)
    good = fake_package("pyodide", build.PYODIDE_VERSION, build.PYODIDE_FILES)
    if damage == "json list":
        (assets / "p" / "package.json").write_text("[1, 2]")
    elif damage == "json string":
        (assets / "p" / "package.json").write_text('"pyodide"')
    elif damage == "tgz not gzip":
        (assets / "pyodide.tgz").write_bytes(b"this is not an archive")
    elif damage == "tgz list":
        write_tgz(assets / "pyodide.tgz", {"package.json": b'["pyodide"]'})
    else:
        write_tgz(assets / "whole.tgz", good)
        data = (assets / "whole.tgz").read_bytes()
        (assets / "whole.tgz").unlink()
        # Cut inside the first member (package.json) or after it, inside the files.
        cut = 60 if damage == "tgz cut off" else len(data) - 40
        (assets / "pyodide.tgz").write_bytes(data[:cut])
    code = main(["playground", "--out", str(tmp_path / "site"), "--assets", str(assets)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert str(assets) in err
    assert not (tmp_path / "site").exists()


def test_playground_prints_its_folder_escaped(tmp_path, capsys):
    out = tmp_path / "site\x1b]0;owned\x07"
    assert main(["playground", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\x07" not in printed
    assert "site\\x1b]0;owned\\x07" in printed


# ---- Whatever a shared link holds, the answer is quick and a message ---------------------------


def test_long_values_are_refused_at_once():
    # re.sub(r"\s*=\s*") over a run of spaces was quadratic: a 160 KB link froze the page 174 s.
    started = time.perf_counter()
    with pytest.raises(glue.PlaygroundError, match=facts("160,006", "1,000")):
        glue.parse_values("a=1" + " " * 160_000 + "b=2")  # spaces not followed by "="
    assert time.perf_counter() - started < 0.05


def test_values_up_to_the_cap_are_read_in_linear_time():
    def seconds(text: str) -> float:
        started = time.perf_counter()
        glue.parse_values(text)
        return time.perf_counter() - started

    assert glue.parse_values(" a  =  2 ,b= -3;c =1e-2\td=4 ") == {
        "a": 2.0,
        "b": -3.0,
        "c": 0.01,
        "d": 4.0,
    }
    # The quadratic case for re.sub(r"\s*=\s*"): a run of spaces not followed by "=".
    worst = "a=1" + " " * (glue.MAX_VALUES_LENGTH - 6) + "b=2"
    assert len(worst) == glue.MAX_VALUES_LENGTH
    assert glue.parse_values(worst) == {"a": 1.0, "b": 2.0}
    assert seconds(worst) < 0.005  # about 6 microseconds (the quadratic sub took 1 ms here)
    spaced = "a" + " " * (glue.MAX_VALUES_LENGTH - 3) + "=1"
    assert glue.parse_values(spaced) == {"a": 1.0}
    with pytest.raises(glue.PlaygroundError):
        glue.parse_values("a" + " " * glue.MAX_VALUES_LENGTH + "=1")


@pytest.mark.parametrize(
    ("request_text", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"call": "graph", "args": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        ('{"call": "graph", "args": [1]}', "args must be an object"),
        (" " * (glue.MAX_REQUEST_LENGTH + 1), "at most 10,000,000 characters"),
    ],
)
def test_deep_or_long_requests_are_answered_with_a_message(request_text, words):
    answer = json.loads(glue.handle(request_text))
    assert answer["ok"] is False and words in answer["error"]


def test_an_unexpected_error_is_answered_with_a_message(monkeypatch):
    def broken(spec):
        raise KeyError("surprise")

    monkeypatch.setitem(glue._CALLS, "graph", broken)
    answer = ask("graph", spec={})
    assert answer["ok"] is False and "KeyError" in answer["error"] and "surprise" in answer["error"]


def test_the_page_caps_the_address_and_the_fields_with_the_packages_limits(tmp_path):
    from micrograd import expr

    site = tmp_path / "site"
    build.build_page(site)
    config = json.loads(
        (site / "config.js").read_text().removeprefix("window.PLAYGROUND_CONFIG = ").rstrip(";\n")
    )
    assert config["limits"] == {
        "expression": expr.MAX_LENGTH,
        "values": glue.MAX_VALUES_LENGTH,
        "address": glue.MAX_ADDRESS_LENGTH,
    }
    # An expression and values at their longest, every character percent-encoded as UTF-8
    # (up to 4 bytes, 12 characters), still fit in an address the page reads.
    longest = 12 * (expr.MAX_LENGTH + glue.MAX_VALUES_LENGTH) + len("#expr=&values=&frame=999")
    assert longest <= glue.MAX_ADDRESS_LENGTH
    script = (site / "playground.js").read_text()
    for use in (
        "const MAX_ADDRESS = config.limits.address;",
        '$("expression").maxLength = config.limits.expression',
        '$("values").maxLength = config.limits.values',
    ):
        assert use in script
