"""The drawings of notebooks 03 and 04 are readable where learners see them, measured in Chromium.

Where: JupyterLab with the notebook opened untrusted (it shows the PNG of each drawing) in a
1366 x 900 window, and the docs site's pages of notebooks 03 and 04 (Material for MkDocs,
mkdocs-jupyter, the site's extra CSS) at 1366 and 1920 px wide, and 390 px (a phone).
What: the smallest text of each Graphviz drawing as displayed, in CSS px: its size in the SVG
stored beside the PNG (Graphviz's points) times the displayed image's width over the SVG's width.
It must be at least 10 px (on a phone the drawings scale down: there the page must only not
scroll sideways). For the step viewer: every frame's text likewise, the frame within its column
(nothing cut off at the side), the highlighted node's box inside the frame as shown in every
step, and the tabs apart from each other, the help line and the frame, with no theme icon over a
tab's text.

The docs pages are built by MkDocs with the site's theme, Markdown extensions, extra CSS and
notebook plugin (read from mkdocs.yml) but with notebooks 03 and 04 as their only pages: the
whole site, with its API reference, takes minutes to build; this takes seconds and lays the
pages out alike (the same theme, navigation and stylesheets). It skips, saying what is missing,
without Chromium, chromedriver, Selenium, JupyterLab or MkDocs.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.browser import headless_chromium, serving
from tests.notebooks.test_pictures_in_jupyterlab import (  # noqa: F401 (fixtures, used by name)
    _screenshot,
    _skip_without_a_browser,  # autouse: this module skips without a browser too
    lab,
)

ROOT = Path(__file__).resolve().parents[2]
NB03 = ROOT / "notebooks" / "03_backprop_by_hand_2_2_2.ipynb"
NB04 = ROOT / "notebooks" / "04_neurons_layers_mlps.ipynb"
MIN_TEXT_PX = 10.0
HOT = "#d62728"  # micrograd.viz.dot.HOT: the current step's outline
WINDOW = "1366,900"
_SVG = "{http://www.w3.org/2000/svg}"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    with headless_chromium(WINDOW) as driver:
        driver.set_page_load_timeout(60)
        yield driver


# --- what the committed notebooks hold --------------------------------------------------------


def _svg_facts(svg: str) -> dict:
    """Width of the SVG's viewBox, its smallest font size, and the highlighted node's box.

    Sizes are in the SVG's own units (Graphviz writes points); the box is (left, top, right,
    bottom) of the red-outlined cells, in the same units, or None when no node is outlined.
    """
    root = ET.fromstring(svg)
    view = [float(v) for v in root.get("viewBox", "").replace(",", " ").split()]
    sizes = [float(t.get("font-size", "14")) for t in root.iter(f"{_SVG}text") if t.text]
    graph = root.find(f"{_SVG}g")
    shift = re.search(r"translate\(([-\d.]+)[ ,]([-\d.]+)\)", graph.get("transform", ""))
    dx, dy = (float(shift.group(1)), float(shift.group(2))) if shift else (0.0, 0.0)
    xs, ys = [], []
    for shape in root.iter(f"{_SVG}polygon"):
        if shape.get("stroke", "").lower() == HOT and shape.get("fill") == "none":
            for point in shape.get("points", "").split():
                x, y = point.split(",")
                xs.append(float(x) + dx)
                ys.append(float(y) + dy)
    box = (min(xs), min(ys), max(xs), max(ys)) if xs else None
    return {"width": view[2], "font": min(sizes), "box": box}


def _drawings(path: Path) -> list[dict]:
    """SVG facts of each output that has a PNG and an SVG (a Graphviz drawing), in order."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data and "image/svg+xml" in data:
                found.append(_svg_facts("".join(data["image/svg+xml"])))
    return found


def _frames(path: Path) -> list[dict]:
    """SVG facts of each frame of the notebook's (first) step viewer, in step order."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            page = "".join(output.get("data", {}).get("text/html", ""))
            if 'class="mg-stepper"' in page:
                uris = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
                return [_svg_facts(base64.b64decode(uri).decode("utf-8")) for uri in uris]
    raise AssertionError(f"{path.name} has no step viewer")


# --- what the browser shows ---------------------------------------------------------------------

_RECT = "const r = e => { const b = e.getBoundingClientRect(); " + (
    "return [b.left, b.top, b.right, b.bottom]; };"
)

# Rectangles of a viewer's parts, measured with its k-th step in front (steps open in order).
_VIEWER = (
    _RECT
    + """
const viewer = document.querySelectorAll(arguments[0])[arguments[1]];
const opened = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (p.tagName === 'DETAILS' && !p.open) return false; } return true; };
const frames = [...viewer.querySelectorAll('img.mg-frame')].filter(opened);
const front = frames[frames.length - 1];
// What may cut the frame off at a side: every ancestor that clips sideways (a page scrolls
// up and down, so above and below only the frame itself counts).
let visible = r(front);
for (let p = front.parentElement; p; p = p.parentElement) {
  if (getComputedStyle(p).overflowX !== 'visible') {
    const b = r(p);
    visible = [Math.max(visible[0], b[0]), visible[1], Math.min(visible[2], b[2]), visible[3]];
  }
}
const column = front.closest(arguments[2]);
const tabs = [...viewer.querySelectorAll('summary.mg-next, span.mg-first')].map(t => {
  const text = document.createRange();
  text.selectNodeContents(t);
  const before = getComputedStyle(t, '::before'), after = getComputedStyle(t, '::after');
  return {box: r(t), text: r(text), label: t.textContent,
          before: [before.content, before.backgroundColor, before.maskImage],
          after: [after.content, after.backgroundColor, after.maskImage, after.right, after.width]};
});
return {front: +front.alt.split(' ')[2], frame: r(front), visible: visible,
        column: r(column), natural: front.naturalWidth, tabs: tabs,
        help: r(viewer.querySelector('div')), loaded: front.complete && front.naturalWidth > 0};
"""
)

_OPEN_NEXT = """
const viewer = document.querySelectorAll(arguments[0])[arguments[1]];
const next = [...viewer.querySelectorAll('summary.mg-next')].filter(
    s => s.checkVisibility() && !s.parentElement.open)[0];
next.scrollIntoView({block: 'center'});
return next;
"""


def _px(value: str) -> float:
    return float(value[:-2]) if value.endswith("px") else 0.0


def _apart(a: list[float], b: list[float]) -> bool:
    """Two rectangles share no area (touching edges allowed, half a pixel of rounding)."""
    return a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5


def _paints_nothing(content: str, colour: str, mask: str) -> bool:
    """A pseudo-element with no content, a transparent colour, or a fully transparent mask."""
    clear = mask.replace("rgba(0, 0, 0, 0)", "transparent")
    return (
        content == "none"
        or colour in ("transparent", "rgba(0, 0, 0, 0)")
        or clear == "linear-gradient(transparent, transparent)"
    )


def _check_tabs(shown: dict) -> None:
    tabs = shown["tabs"]
    for k, tab in enumerate(tabs):
        for other in tabs[k + 1 :]:
            assert _apart(tab["box"], other["box"]), (tab, other)
        assert _apart(tab["box"], shown["help"]) and _apart(tab["box"], shown["frame"]), tab
        # The text inside its tab, and no theme icon over it: a ::before drawn with a colour
        # (Material's admonition icon), or an ::after (its chevron) reaching the text.
        assert tab["box"][0] <= tab["text"][0] and tab["text"][2] <= tab["box"][2], tab
        assert _paints_nothing(*tab["before"]), tab
        content, colour, mask, right, width = tab["after"]
        if not _paints_nothing(content, colour, mask) and width.endswith("px"):
            assert tab["box"][2] - _px(right) - _px(width) >= tab["text"][2], tab
    assert shown["help"][3] <= shown["frame"][1] + 0.5


def _step_through(
    driver, viewers: str, k: int, column: str, frames: list[dict], name: str
) -> list[dict]:
    """Open every step of viewer k in turn; check each as shown; the measurements, per step.

    Screenshots of steps 1, 2 and the last go to `MICROGRAD_SCREENSHOTS` when that is set.
    """
    measured = []
    for step in range(1, len(frames) + 1):
        if step > 1:
            driver.execute_script(_OPEN_NEXT, viewers, k).click()
            time.sleep(0.2)
        if step in (1, 2, len(frames)):
            driver.execute_script(
                "document.querySelectorAll(arguments[0])[arguments[1]].scrollIntoView()", viewers, k
            )
            _screenshot(driver, f"{name}_step{step}.png")
        shown = driver.execute_script(_VIEWER, viewers, k, column)
        assert shown["front"] == step and shown["loaded"], shown
        frame, facts = shown["frame"], frames[step - 1]
        scale = (frame[2] - frame[0]) / facts["width"]  # CSS px per SVG unit, as displayed
        # The frame fits its column: nothing of it is cut off at either side.
        assert shown["column"][0] - 0.5 <= frame[0] and frame[2] <= shown["column"][2] + 0.5
        assert shown["visible"][0] <= frame[0] + 0.5 and frame[2] <= shown["visible"][2] + 0.5
        left, top, right, bottom = facts["box"]
        node = [frame[0] + left * scale, frame[1] + top * scale]
        node += [frame[0] + right * scale, frame[1] + bottom * scale]
        inside = shown["visible"]
        assert inside[0] - 0.5 <= node[0] and node[2] <= inside[2] + 0.5, (step, node, inside)
        assert inside[1] - 0.5 <= node[1] and node[3] <= inside[3] + 0.5, (step, node, inside)
        _check_tabs(shown)
        measured.append({"step": step, "text_px": facts["font"] * scale, "frame": frame})
    return measured


# --- JupyterLab ---------------------------------------------------------------------------------

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
_IMAGES = (
    _RECT
    + f"return [...document.querySelectorAll('{PANEL} .jp-RenderedImage img')]"
    + ".map(i => ({box: r(i), natural: i.naturalWidth, loaded: i.complete,"
    + " column: r(i.closest('.jp-OutputArea-output'))}));"
)


def _open(driver, lab_url: str, path: Path) -> None:  # noqa: F811 (the lab fixture's name)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{lab_url}/lab/workspaces/{path.stem}-readable/tree/{path.name}?reset")
    wait = WebDriverWait(driver, 60)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"))
    wait.until(lambda d: all(i["loaded"] and i["natural"] for i in d.execute_script(_IMAGES)))
    time.sleep(1)


@pytest.mark.parametrize("path", [NB03, NB04], ids=[NB03.name, NB04.name])
def test_drawings_in_jupyterlab_show_text_of_at_least_10_px(lab, browser, path):  # noqa: F811
    drawings = _drawings(path)
    assert drawings, f"{path.name} has no Graphviz drawing"
    _open(browser, lab, path)
    # Only the untrusted notebook's PNGs show: one <img> per picture, the drawings among them.
    images = browser.execute_script(_IMAGES)
    nb = json.loads(path.read_text(encoding="utf-8"))
    is_drawing = [
        "image/svg+xml" in output.get("data", {})
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert len(images) == len(is_drawing)
    shown = [image for image, drawing in zip(images, is_drawing) if drawing]
    browser.execute_script(
        f"document.querySelectorAll('{PANEL} .jp-RenderedImage img')[arguments[0]]"
        ".scrollIntoView()",
        is_drawing.index(True),
    )
    _screenshot(browser, f"jupyterlab_{path.stem[:2]}_drawing1.png")
    for k, (image, facts) in enumerate(zip(shown, drawings)):
        width = image["box"][2] - image["box"][0]
        text_px = facts["font"] * width / facts["width"]
        print(
            f"{path.name} drawing {k + 1}: {image['natural']} px at {width:.0f}: {text_px:.1f} px"
        )
        assert image["box"][2] <= image["column"][2] + 0.5, f"drawing {k + 1} overflows"
        assert text_px >= MIN_TEXT_PX, (
            f"{path.name}, drawing {k + 1}: {image['natural']} px wide, shown at {width:.0f} px "
            f"in a {image['column'][2] - image['column'][0]:.0f} px column: text {text_px:.1f} px"
        )


def test_step_viewer_in_jupyterlab_is_readable_in_every_step(lab, browser):  # noqa: F811
    frames = _frames(NB03)
    _open(browser, lab, NB03)
    viewers = f"{PANEL} .mg-stepper"
    measured = _step_through(
        browser, viewers, 0, ".jp-OutputArea-output", frames, "jupyterlab_03_steps"
    )
    smallest = min(m["text_px"] for m in measured)
    print(f"JupyterLab frames: text {smallest:.1f} px, frame {measured[0]['frame']}")
    assert smallest >= MIN_TEXT_PX, f"frame text {smallest:.1f} px"


# --- the docs site ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory):
    """Address of a site of notebooks 03 and 04, built like the docs site and served locally."""
    yaml = pytest.importorskip("yaml")
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocs_jupyter")
    home = tmp_path_factory.mktemp("docs")
    (home / "docs" / "notebooks").mkdir(parents=True)
    for path in (NB03, NB04):
        (home / "docs" / "notebooks" / path.name).write_bytes(path.read_bytes())
    (home / "docs" / "index.md").write_text("# micrograd\n", encoding="utf-8")
    site = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    for css in site.get("extra_css", []):
        (home / "docs" / css).parent.mkdir(parents=True, exist_ok=True)
        (home / "docs" / css).write_bytes((ROOT / "docs" / css).read_bytes())
    plugins = [p for p in site["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p]
    config = {
        "site_name": "micrograd",
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": site["theme"],
        "markdown_extensions": site["markdown_extensions"],
        "extra_css": site.get("extra_css", []),
        "plugins": plugins,
        "nav": [
            {"Home": "index.md"},
            {"Notebooks": [f"notebooks/{NB03.name}", f"notebooks/{NB04.name}"]},
        ],
    }
    (home / "mkdocs.yml").write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet"],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    with serving(home / "site") as url:
        yield url


def test_step_viewer_on_the_docs_site_is_readable_in_every_step(docs_site, browser):
    frames = _frames(NB03)
    browser.get(f"{docs_site}notebooks/{NB03.stem}/")
    time.sleep(1)
    viewers = ".md-content .mg-stepper"
    assert browser.execute_script(f"return document.querySelectorAll('{viewers}').length") == 1
    browser.execute_script(f"document.querySelector('{viewers}').scrollIntoView()")
    measured = _step_through(browser, viewers, 0, ".md-content__inner", frames, "docs_03_steps")
    smallest = min(m["text_px"] for m in measured)
    print(f"docs frames: text {smallest:.1f} px, frame {measured[0]['frame']}")
    assert smallest >= MIN_TEXT_PX, f"frame text {smallest:.1f} px"


# Every drawing (an <img> of its SVG) and the step viewer's front frame, with their columns;
# and whatever in the page's content reaches past the window's right edge (arguments[0]) where
# nothing clips it. (Material's header, outside the content, holds the page title for when the
# page is scrolled, shifted right and transparent: on a phone a long title reaches past the edge.)
_DOCS_IMAGES = (
    _RECT
    + """
const shown = sel => [...document.querySelectorAll(sel)].filter(i => i.checkVisibility());
const clipped = e => { for (let p = e.parentElement; p && p !== document.body;
    p = p.parentElement) { if (getComputedStyle(p).overflowX !== 'visible') return true; }
  return false; };
const out = [...document.querySelectorAll('.md-content *')].filter(
    e => e.getBoundingClientRect().right > arguments[0] + 0.5 && e.checkVisibility()
    && !clipped(e)).map(e => e.tagName + '.' + e.className);
return {drawings: shown('.md-content .jp-RenderedSVG img').map(i => ({box: r(i),
          loaded: i.complete && i.naturalWidth > 0, column: r(i.closest('.md-content__inner'))})),
        frames: shown('.md-content img.mg-frame').map(i => r(i)),
        past_the_edge: out};
"""
)


@pytest.mark.parametrize("width", [1366, 1920, 390])
@pytest.mark.parametrize("path", [NB03, NB04], ids=[NB03.name, NB04.name])
def test_drawings_on_the_docs_site_show_text_of_at_least_10_px(docs_site, browser, path, width):
    drawings = _drawings(path)
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    try:
        browser.get(f"{docs_site}notebooks/{path.stem}/")
        time.sleep(1)
        shown = browser.execute_script(_DOCS_IMAGES, width)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert not shown["past_the_edge"], shown["past_the_edge"]
    assert len(shown["drawings"]) == len(drawings) and all(d["loaded"] for d in shown["drawings"])
    sizes = []
    for image, facts in zip(shown["drawings"], drawings):
        assert image["box"][2] <= image["column"][2] + 0.5, f"a drawing overflows: {image}"
        sizes.append(facts["font"] * (image["box"][2] - image["box"][0]) / facts["width"])
    if path == NB03:  # the step viewer's front frame (step 1): its text, as in every step
        frame, facts = shown["frames"][0], _frames(NB03)[0]
        sizes.append(facts["font"] * (frame[2] - frame[0]) / facts["width"])
    print(f"docs, {path.name} at {width} px: text " + ", ".join(f"{t:.1f}" for t in sizes))
    if width >= 1366:
        assert min(sizes) >= MIN_TEXT_PX, f"{path.name} at {width} px: text {min(sizes):.1f} px"
