"""Tests for rendering drawings through each installed backend, and its error messages."""

from __future__ import annotations

import pathlib
import re
import xml.etree.ElementTree as ET

import pytest

from micrograd import MLP, Value, draw_dot
from micrograd.engine import topological_order
from micrograd.viz import (
    BACKENDS,
    Drawing,
    RenderError,
    available_backends,
    backward_steps,
    render,
)
from micrograd.viz import backends as render_module
from tests.references import facts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def present(backend: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        backend not in available_backends(), reason=f"{backend} is not installed"
    )


BACKEND_PARAMS = [pytest.param(name, marks=present(name)) for name in BACKENDS]


def svg_texts(svg: bytes) -> list[str]:
    """Every text drawn in an SVG, as the reader sees it (XML entities decoded)."""
    root = ET.fromstring(svg)
    return ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("}text")]


def neuron() -> Value:
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    out = (x1 * w1 + x2 * w2 + Value(6.8813735870195432, "b")).tanh()
    out.backward()
    return out


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_neuron_renders_to_svg_and_png(backend, tmp_path):
    drawing = draw_dot(neuron(), backend=backend)
    svg_path = drawing.save(tmp_path / "neuron.svg")
    png_path = drawing.save(tmp_path / "neuron.png")
    assert svg_path == str(tmp_path / "neuron.svg")
    texts = svg_texts(pathlib.Path(svg_path).read_bytes())
    for expected in ("x1", "data 2", "grad -1.5", "w2", "grad 0", "data 0.7071", "tanh"):
        assert expected in [t.strip() for t in texts]
    assert pathlib.Path(png_path).read_bytes().startswith(PNG_MAGIC)
    assert pathlib.Path(png_path).stat().st_size > 1000


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_hostile_label_is_drawn_as_written(backend):
    label = 'x|y{z}<w> "q" \\ & \\n'
    svg = draw_dot(Value(1.0, label) * 2, backend=backend).pipe("svg")
    assert label in [t.strip() for t in svg_texts(svg)]


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_collapsed_demo_mlp_renders(backend):
    model = MLP(2, [16, 16, 1], seed=1337)
    out = model([0.3, -0.7])
    out.backward()
    svg = draw_dot(out, model=model, collapse="neuron", backend=backend).pipe("svg")
    texts = [t.strip() for t in svg_texts(svg)]
    assert sum(1 for t in texts if t.startswith("layers.1.neurons.")) == 16
    assert len(svg) < 400_000  # a readable page, not the 1.4 MB of the uncollapsed graph


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_jupyter_gets_svg_png_and_a_text_that_says_how_to_see_it(backend):
    bundle = draw_dot(neuron(), backend=backend)._repr_mimebundle_()
    assert (
        bundle["image/svg+xml"].lstrip().startswith("<?xml") and "<svg" in bundle["image/svg+xml"]
    )
    # An untrusted notebook drops SVG; the PNG is what it shows.
    assert bundle["image/png"].startswith(PNG_MAGIC)
    assert ".save('graph.png')" in bundle["text/plain"]
    only = draw_dot(neuron(), backend=backend)._repr_mimebundle_(include={"image/png"})
    assert list(only) == ["image/png"]


@pytest.mark.skipif("dot" not in available_backends(), reason="dot is not installed")
def test_dot_writes_pdf(tmp_path):
    path = draw_dot(neuron(), backend="dot").save(tmp_path / "n.pdf")
    assert pathlib.Path(path).read_bytes().startswith(b"%PDF")


@pytest.mark.skipif("graphviz-pure" not in available_backends(), reason="not installed")
def test_graphviz_pure_says_what_to_install_for_pdf(tmp_path):
    with pytest.raises(RenderError, match=r"graphviz-pure cannot write 'pdf'.*apt-get install"):
        draw_dot(neuron(), backend="graphviz-pure").save(tmp_path / "n.pdf")
    assert not (tmp_path / "n.pdf").exists()


def test_without_any_backend_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(render_module, "find_executable", lambda backend: None)
    assert available_backends() == []
    drawing = draw_dot(neuron())
    with pytest.raises(RenderError, match=r"pip install 'micrograd\[viz\]'.*apt-get install"):
        drawing.save(tmp_path / "n.svg")
    with pytest.raises(RenderError, match="'dot' backend is not installed"):
        render(drawing.source, "svg", backend="dot")
    # DOT text needs no program at all.
    assert pathlib.Path(drawing.save(tmp_path / "n.dot")).read_text() == drawing.source


def test_auto_backend_prefers_dot_then_graphviz_pure(monkeypatch):
    installed = {"graphviz-pure": "/opt/bin/graphviz-pure"}
    monkeypatch.setattr(render_module, "find_executable", installed.get)
    assert render_module.choose_backend() == ("graphviz-pure", "/opt/bin/graphviz-pure")
    installed["dot"] = "/usr/bin/dot"
    assert render_module.choose_backend() == ("dot", "/usr/bin/dot")


def test_graphviz_pure_is_found_next_to_the_interpreter(monkeypatch, tmp_path):
    # A virtual environment that is not activated: its bin folder is not on PATH.
    program = tmp_path / "graphviz-pure"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(render_module.sys, "executable", str(tmp_path / "python"))
    assert render_module.find_executable("graphviz-pure") == str(program)


@pytest.mark.parametrize("name", ["graph", "graph."])
def test_save_needs_a_suffix(name, tmp_path):
    with pytest.raises(ValueError, match="suffix|format must be"):
        draw_dot(neuron()).save(tmp_path / name)


@pytest.mark.parametrize("fmt", ["", "-o/tmp/x", "svg png", "SVG;"])
def test_render_rejects_odd_formats_before_running_anything(fmt):
    with pytest.raises(ValueError, match=facts("format", repr(fmt))):
        render("digraph {}", fmt)


@pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")
def test_broken_dot_text_gives_the_programs_message():
    with pytest.raises(RenderError, match=r"failed \(exit"):
        Drawing("digraph { a -> }").pipe("svg")


def test_drawing_repr_is_short():
    assert repr(draw_dot(neuron())).startswith("<Drawing: ")


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_render_pipe_and_save_mean_what_they_mean_in_graphviz(backend, tmp_path):
    drawing = draw_dot(neuron(), "svg", "LR", backend=backend)  # Karpathy's signature
    assert drawing.format == "svg"
    # render(filename, format=...) writes the DOT text to filename, the image to filename.fmt.
    image = drawing.render(str(tmp_path / "gout"), format="png")
    assert image == str(tmp_path / "gout.png")
    assert (tmp_path / "gout").read_text() == drawing.source
    assert (tmp_path / "gout.png").read_bytes().startswith(PNG_MAGIC)
    image = drawing.render("g2", directory=tmp_path, cleanup=True)  # format from the drawing
    assert image == str(tmp_path / "g2.svg") and not (tmp_path / "g2").exists()
    assert "<svg" in (tmp_path / "g2.svg").read_text()
    assert drawing.pipe(format="png").startswith(PNG_MAGIC)
    assert drawing.pipe(encoding="utf-8").lstrip().startswith("<?xml")
    # save() of a .gv name writes the DOT text, as graphviz's save().
    assert pathlib.Path(drawing.save(tmp_path / "g.gv")).read_text() == drawing.source
    with pytest.raises(ValueError, match="view=True"):
        drawing.render(tmp_path / "x", view=True)


def test_to_graphviz_gives_a_graphviz_source_or_says_what_to_install(monkeypatch):
    drawing = draw_dot(neuron(), format="png")
    graphviz = pytest.importorskip("graphviz")
    source = drawing.to_graphviz()
    assert isinstance(source, graphviz.Source)
    assert source.source == drawing.source and source.format == "png"


def test_to_graphviz_without_the_package(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_graphviz(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("No module named 'graphviz'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_graphviz)
    with pytest.raises(ImportError, match="pip install graphviz"):
        draw_dot(neuron()).to_graphviz()


def test_saving_into_a_missing_folder_names_the_users_path(tmp_path):
    target = tmp_path / "missing" / "g.gv"
    with pytest.raises(FileNotFoundError, match="missing.*does not exist") as error:
        draw_dot(neuron()).save(target)
    assert ".tmp" not in str(error.value)


def test_overwriting_a_drawing_keeps_its_permissions(tmp_path):
    target = tmp_path / "g.gv"
    target.write_text("old")
    target.chmod(0o600)
    draw_dot(neuron()).save(target)
    assert target.stat().st_mode & 0o777 == 0o600 and target.read_text().startswith("digraph")


def test_render_of_a_bare_format_word_points_to_pipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"pipe\('png'\)"):
        draw_dot(neuron()).render("png")
    assert list(tmp_path.iterdir()) == []  # nothing written


def notebook_two_two_two() -> Value:
    """E_total of notebook 03's 2-2-2 network, built in the notebook's order, after backward()."""
    from micrograd.data import TWO_TWO_TWO

    net = TWO_TWO_TWO
    w = [Value(x, f"w{k}") for k, x in enumerate(net.weights, 1)]
    b1, b2 = Value(net.b1, "b1"), Value(net.b2, "b2")
    i = [Value(x, f"i{k}") for k, x in enumerate(net.inputs, 1)]
    t = [Value(x, f"t{k}") for k, x in enumerate(net.targets, 1)]
    v = {"net_h1": w[0] * i[0] + w[1] * i[1] + b1}
    v["out_h1"] = v["net_h1"].sigmoid()
    v["net_h2"] = w[2] * i[0] + w[3] * i[1] + b1
    v["out_h2"] = v["net_h2"].sigmoid()
    v["net_o1"] = w[4] * v["out_h1"] + w[5] * v["out_h2"] + b2
    v["out_o1"] = v["net_o1"].sigmoid()
    v["net_o2"] = w[6] * v["out_h1"] + w[7] * v["out_h2"] + b2
    v["out_o2"] = v["net_o2"].sigmoid()
    v["E_total"] = 0.5 * (t[0] - v["out_o1"]) ** 2 + 0.5 * (t[1] - v["out_o2"]) ** 2
    for name, value in v.items():
        value.label = name
    v["E_total"].backward()
    return v["E_total"]


def svg_width_pt(svg: str) -> float:
    """Width of an SVG in points, from its root element (Graphviz writes pt)."""
    width = ET.fromstring(svg).get("width", "")
    assert width.endswith("pt"), width
    return float(width[:-2])


@present("dot")
def test_compact_two_two_two_fits_a_notebook_and_keeps_every_number():
    # JupyterLab's output area is about 1,000 CSS px wide, 750 pt (1 pt = 4/3 px); the default
    # drawing of this graph is about 1,940 pt wide and its step frames about 3,500 pt.
    loss = notebook_two_two_two()
    drawing = draw_dot(loss, compact=True)
    svg = render(drawing.source, "svg", "dot").decode("utf-8")
    assert svg_width_pt(svg) <= 750
    default_width = svg_width_pt(render(draw_dot(loss).source, "svg", "dot").decode("utf-8"))
    assert default_width > 2 * svg_width_pt(svg)
    texts = svg_texts(svg.encode())
    # Text no smaller than 9 pt (12 CSS px) inside the boxes.
    sizes = {float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)}
    assert min(sizes) >= 9
    for node in topological_order(loss):
        assert f"{node.data:.4g}" in texts
        if node.label:
            assert node.label in texts
        if node.requires_grad:
            assert f"{node.grad:.4g}" in texts
        if node.parents:
            assert node.op.symbol in texts
    names = [f"w{k}" for k in range(1, 9)] + ["i1", "i2", "t1", "t2", "b1", "b2"]
    assert set(names) <= set(texts)
    frames = backward_steps(loss, compact=True, backend="dot").svgs()
    assert {svg_width_pt(frame) for frame in frames} == {svg_width_pt(frames[0])}
    assert svg_width_pt(frames[0]) <= 750


@pytest.mark.parametrize(
    ("args", "outfile"),
    [({"outfile": "g.gv", "cleanup": True}, "g.gv"), ({"filename": "out"}, "out")],
)
def test_an_outfile_that_is_the_dot_files_path_is_refused(tmp_path, args, outfile):
    # The image would be written over the DOT file (and cleanup would delete it); graphviz
    # refuses this call too.
    drawing = draw_dot(neuron())
    args = {**args, "outfile": str(tmp_path / outfile)}
    if "filename" in args:
        args["filename"] = str(tmp_path / args["filename"])
    with pytest.raises(ValueError) as info:
        drawing.render(**args)
    assert str(tmp_path / outfile) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_render_refuses_a_read_only_image_before_writing_the_dot_file(tmp_path):
    image = tmp_path / "g.gv.svg"
    image.write_text("old")
    image.chmod(0o444)
    with pytest.raises(PermissionError) as info:
        draw_dot(neuron()).render(str(tmp_path / "g.gv"), format="svg")
    assert info.value.filename == str(image)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.gv.svg"]
