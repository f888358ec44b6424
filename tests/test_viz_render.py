"""Tests for rendering drawings through each installed backend, and its error messages."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from micrograd import MLP, Value, draw_dot
from micrograd.viz import BACKENDS, Drawing, RenderError, available_backends, render
from micrograd.viz import backends as render_module

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
    assert svg_path == tmp_path / "neuron.svg"
    texts = svg_texts(svg_path.read_bytes())
    for expected in ("x1", "data 2", "grad -1.5", "w2", "grad 0", "data 0.7071", "tanh"):
        assert expected in [t.strip() for t in texts]
    assert png_path.read_bytes().startswith(PNG_MAGIC)
    assert png_path.stat().st_size > 1000


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_hostile_label_is_drawn_as_written(backend):
    label = 'x|y{z}<w> "q" \\ & \\n'
    svg = draw_dot(Value(1.0, label) * 2, backend=backend).render("svg")
    assert label in [t.strip() for t in svg_texts(svg)]


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_collapsed_demo_mlp_renders(backend):
    model = MLP(2, [16, 16, 1], seed=1337)
    out = model([0.3, -0.7])
    out.backward()
    svg = draw_dot(out, model=model, collapse="neuron", backend=backend).render("svg")
    texts = [t.strip() for t in svg_texts(svg)]
    assert sum(1 for t in texts if t.startswith("layers.1.neurons.")) == 16
    assert len(svg) < 400_000  # a readable page, not the 1.4 MB of the uncollapsed graph


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_jupyter_repr_is_svg(backend):
    text = draw_dot(neuron(), backend=backend)._repr_svg_()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


@pytest.mark.skipif("dot" not in available_backends(), reason="dot is not installed")
def test_dot_writes_pdf(tmp_path):
    path = draw_dot(neuron(), backend="dot").save(tmp_path / "n.pdf")
    assert path.read_bytes().startswith(b"%PDF")


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
    assert drawing.save(tmp_path / "n.dot").read_text() == drawing.source


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
    with pytest.raises(ValueError, match="format must be a word"):
        render("digraph {}", fmt)


@pytest.mark.skipif(not available_backends(), reason="no Graphviz program installed")
def test_broken_dot_text_gives_the_programs_message():
    with pytest.raises(RenderError, match=r"failed \(exit"):
        Drawing("digraph { a -> }").render("svg")


def test_drawing_repr_is_short():
    assert repr(draw_dot(neuron())).startswith("<Drawing: ")
