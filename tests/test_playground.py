"""The playground page in a real browser: built with local assets, served on 127.0.0.1, driven in
headless Chromium by Selenium. Every number the page shows is compared with the engine's here.

Needs selenium, Chromium with its chromedriver, and the pinned npm packages in the folder named
by MICROGRAD_PLAYGROUND_ASSETS (`.ci/run` fetches them with `npm pack`); skipped without them.
The page is loaded once per module (Pyodide takes seconds to start) and each test sets the
state it needs through the form or the address.
"""

from __future__ import annotations

import math
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from micrograd.data import TWO_TWO_TWO
from micrograd.engine import topological_order
from micrograd.playground import glue
from micrograd.playground.build import PYODIDE_VERSION, VIZ_VERSION, AssetError, find_assets
from micrograd.viz import backward_steps
from tests.browser import headless_chromium

pytestmark = pytest.mark.slow

ASSETS_VARIABLE = "MICROGRAD_PLAYGROUND_ASSETS"
LOAD_TIMEOUT = 120  # seconds; Pyodide starts in a few on an idle machine, CI runners are slower


def _assets() -> pathlib.Path:
    folder = os.environ.get(ASSETS_VARIABLE)
    if not folder:
        pytest.skip(
            f"{ASSETS_VARIABLE} is not set: point it at a folder holding `npm pack "
            f"pyodide@{PYODIDE_VERSION} @viz-js/viz@{VIZ_VERSION}` (.ci/run does this)"
        )
    try:
        find_assets(pathlib.Path(folder))
    except AssetError as error:
        pytest.skip(f"{ASSETS_VARIABLE}={folder}: {error}")
    return pathlib.Path(folder)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    from micrograd.cli import main

    assets = _assets()
    out = tmp_path_factory.mktemp("playground")
    assert main(["playground", "--out", str(out), "--assets", str(assets)]) == 0
    return out


@pytest.fixture(scope="module")
def server(site):
    with socket.socket() as probe:  # a free port, chosen by the system
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(site)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()  # by its PID: this test's server only
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(server):
    with headless_chromium() as driver:
        open_page(driver, server)
        yield driver


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait_for(driver, "return !!(window.playground && window.playground.ready)")


def wait_for(driver, script: str, timeout: float = LOAD_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = driver.execute_script(script)
        if result:
            return result
        time.sleep(0.1)
    errors = driver.execute_script("return document.getElementById('error').textContent")
    raise AssertionError(f"timed out waiting for {script!r}; the page says: {errors!r}")


def by_id(driver, name: str):
    return driver.find_element("id", name)


def error_text(driver) -> str:
    return driver.execute_script(
        "const e = document.getElementById('error'); return e.hidden ? '' : e.textContent"
    )


def draw(driver, expression: str, values: str) -> None:
    for name, text in (("expression", expression), ("values", values)):
        field = by_id(driver, name)
        field.clear()
        field.send_keys(text)
    by_id(driver, "draw").click()


def svg_nodes(driver) -> int:
    return len(driver.find_elements("css selector", "#graph svg g.node"))


def shown_value(driver, selector: str) -> float:
    return float(driver.find_element("css selector", selector).get_attribute("data-value"))


def engine(expression: str, values: str):
    """The engine's own answer for what the page was given."""
    out, leaves = glue.build({"kind": "expression", "expression": expression, "values": values})
    order = topological_order(out)
    return out, leaves, len(order) + sum(1 for v in order if v.parents)


def test_first_graph_is_drawn_with_every_node(browser, tmp_path):
    # The default expression, drawn on load.
    out, leaves, count = engine("tanh(a*b + c)", "a=2, b=-3, c=10")
    assert error_text(browser) == ""
    assert svg_nodes(browser) == count == 9
    assert shown_value(browser, "#output-value") == out.data
    for name, leaf in leaves.items():
        assert shown_value(browser, f'[data-grad="{name}"]') == leaf.grad
    # The picture itself: the graph's box holds many dark pixels, not an empty frame.
    image = tmp_path / "graph.png"
    assert by_id(browser, "graph").screenshot(str(image))
    pixels = pytest.importorskip("matplotlib.image").imread(str(image))[..., :3]
    dark = (pixels.mean(axis=2) < 0.5).mean()
    assert 0.005 < dark < 0.5, f"{dark:.2%} of the graph's pixels are dark"
    timings = browser.execute_script("return window.playground.timings")
    print(f"\nfirst graph after {timings['firstGraph'] / 1000:.2f} s")


def test_typed_expression_shows_the_engines_numbers(browser):
    draw(browser, "a*a + sin(b) / c", "a=3 b=0.5 c = 4")
    out, leaves, count = engine("a*a + sin(b) / c", "a=3 b=0.5 c = 4")
    wait_for(browser, f"return document.querySelectorAll('#graph svg g.node').length == {count}")
    assert shown_value(browser, "#output-value") == out.data == 9 + math.sin(0.5) / 4
    for name, leaf in leaves.items():
        assert shown_value(browser, f'[data-grad="{name}"]') == leaf.grad
    assert "expr=a*a+%2B+sin" in browser.current_url  # the state is in the address


@pytest.mark.parametrize(
    ("expression", "values", "words"),
    [
        ("a +* b", "a=1 b=2", "syntax error"),
        ("__import__('os').system('x')", "", "attribute"),
        ("a + q", "a=1", "give a value to q"),
        ("log(a)", "a=0", "log"),
    ],
)
def test_bad_input_is_a_message_in_the_page(browser, expression, values, words):
    draw(browser, "a*b", "a=1 b=2")
    wait_for(browser, "return document.querySelectorAll('#graph svg g.node').length == 4")
    draw(browser, expression, values)
    message = wait_for(browser, "return document.getElementById('error').textContent")
    assert words in message
    assert svg_nodes(browser) == 4  # the last good graph stays


def test_step_through_the_backward_frames(browser):
    draw(browser, "tanh(a*b + c)", "a=2 b=-3 c=10")
    out, _, count = engine("tanh(a*b + c)", "a=2 b=-3 c=10")
    wait_for(browser, f"return document.querySelectorAll('#graph svg g.node').length == {count}")
    steps = backward_steps(out)
    for k in range(1, len(steps) + 1):
        by_id(browser, "next").click()
        title = by_id(browser, "frame-title").text
        assert title.startswith(f"step {k} of {len(steps)}"), title
        assert svg_nodes(browser) == count
        # Each frame shows the grads known by then, as the engine's frames do.
        node = steps.nodes[k - 1]
        assert f"({node.op.symbol})" in title
    assert not by_id(browser, "next").is_enabled()
    by_id(browser, "prev").click()
    assert by_id(browser, "frame-title").text.startswith(f"step {len(steps) - 1} of")
    by_id(browser, "final").click()
    assert "every grad is final" in by_id(browser, "frame-title").text
    assert error_text(browser) == ""
    # The frame shown is part of the address, and an address restores it.
    by_id(browser, "first").click()
    by_id(browser, "next").click()
    address = browser.current_url
    assert "frame=2" in address
    draw(browser, "a*b", "a=1 b=2")
    wait_for(browser, "return document.querySelectorAll('#graph svg g.node').length == 4")
    browser.get(address)  # only the hash differs: the page restores it in place
    wait_for(
        browser, "return document.getElementById('frame-title').textContent.startsWith('step 2')"
    )
    assert svg_nodes(browser) == count


def test_the_2_2_2_preset_has_the_engines_and_published_numbers(browser):
    by_id(browser, "preset").click()
    wait_for(browser, "return !document.getElementById('network-panel').hidden")
    error, leaves = glue.build(glue.preset())
    assert shown_value(browser, "#e-total") == error.data
    assert by_id(browser, "e-total").text == f"{TWO_TWO_TWO.expected_error:.9f}" == "0.298371109"
    assert shown_value(browser, '[data-grad="w5"]') == leaves["w5"].grad
    grad_w5 = browser.find_element("css selector", '[data-grad="w5"]').text
    assert grad_w5 == f"{TWO_TWO_TWO.expected_grad_w5:.9f}" == "0.082167041"

    lr = by_id(browser, "lr")
    lr.clear()
    lr.send_keys("0.5")
    by_id(browser, "train").click()
    wait_for(browser, "return document.getElementById('step-count').textContent == '1'")
    trained = glue.train(glue.preset(), 1, 0.5)["spec"]
    error_after, leaves_after = glue.build(trained)
    w5 = browser.find_element("css selector", '[data-grad="w5"]').find_element("xpath", "..")
    assert w5.find_elements("css selector", "td")[1].text == "0.358916480"  # published 0.35891648
    assert shown_value(browser, "#e-total") == error_after.data < error.data
    assert shown_value(browser, '[data-grad="w5"]') == leaves_after["w5"].grad

    # Backward frames of the whole network: one per op, each drawn quickly.
    out_nodes = len(topological_order(error_after))
    by_id(browser, "first").click()
    assert by_id(browser, "frame-title").text.startswith("step 1 of ")
    for _ in range(5):
        by_id(browser, "next").click()
    timings = browser.execute_script("return window.playground.timings")
    print(
        f"\n2-2-2 backward frames ({out_nodes} values): computed in "
        f"{timings['framesComputed']:.0f} ms; each laid out in "
        f"{[round(t) for t in timings['renders']]} ms; shown after a click in "
        f"{[round(t) for t in timings['frames']]} ms"
    )
    assert error_text(browser) == ""


def test_training_lowers_the_error_and_the_address_restores_it(browser, server):
    by_id(browser, "preset").click()
    lr = by_id(browser, "lr")
    lr.clear()
    lr.send_keys("2")
    by_id(browser, "train10").click()
    wait_for(browser, "return document.getElementById('step-count').textContent == '10'")
    expected = glue.train(glue.preset(), 10, 2.0)
    shown = shown_value(browser, "#e-total")
    assert shown == expected["errors"][-1] < TWO_TWO_TWO.expected_error
    assert len(browser.find_elements("css selector", "#error-chart polyline")) == 1

    address = browser.current_url
    assert "#weights=" in address and "lr=2" in address and "step=10" in address
    browser.get("about:blank")  # elsewhere first, so the next load is a real one, not a hash change
    open_page(browser, address)
    wait_for(browser, "return !document.getElementById('network-panel').hidden")
    assert shown_value(browser, "#e-total") == shown
    assert by_id(browser, "step-count").text == "10"
    timings = browser.execute_script("return window.playground.timings")
    print(f"\nfirst graph after a reload {timings['firstGraph'] / 1000:.2f} s")

    bad = by_id(browser, "lr")
    bad.clear()
    bad.send_keys("fast")
    by_id(browser, "train").click()
    assert "learning rate" in wait_for(
        browser, "return document.getElementById('error').textContent"
    )


def test_clicking_an_input_shows_explains_paths(browser):
    from micrograd import explain

    draw(browser, "a*b + a", "a=2 b=-3")
    out, leaves, count = engine("a*b + a", "a=2 b=-3")
    wait_for(browser, f"return document.querySelectorAll('#graph svg g.node').length == {count}")
    browser.find_element("css selector", '#graph g.node[data-leaf="a"]').click()
    wait_for(browser, "return !document.getElementById('explain-panel').hidden")
    rule = explain.explain(out, leaves["a"])
    rows = browser.find_elements("css selector", "#explain-paths tbody tr")
    assert len(rows) == len(rule.paths) == 2
    shown = sorted(
        float(r.find_elements("css selector", "td")[2].get_attribute("data-value")) for r in rows
    )
    assert shown == sorted(path.product for path in rule.paths) == [-3.0, 1.0]
    for row, path in zip(rows, rule.paths):
        assert row.find_elements("css selector", "td")[0].text.count("→") == len(path.nodes) - 1
    assert shown_value(browser, "#explain-total") == rule.total == leaves["a"].grad
    assert browser.find_elements("css selector", "#graph g.node.on-path")


def test_opened_from_disk_with_local_assets_the_page_says_to_serve_it(site):
    # Browsers refuse a file:// page the WebAssembly beside it; the page must say what to do.
    with headless_chromium() as driver:
        driver.get((site / "index.html").as_uri())
        message = wait_for(driver, "return document.getElementById('error').textContent")
        assert "python -m http.server" in message
        assert "could not start" in by_id(driver, "status").text


def test_frames_keep_every_node_in_place(browser):
    # The frames are one Graphviz layout recoloured in Python: stepping moves no node.
    draw(browser, "a*b + a", "a=2 b=-3")
    count = engine("a*b + a", "a=2 b=-3")[2]
    wait_for(browser, f"return document.querySelectorAll('#graph svg g.node').length == {count}")
    shape = (
        "const svg = document.querySelector('#graph svg');"
        "return [svg.getAttribute('viewBox'), Array.from(svg.querySelectorAll('g.node polygon,"
        " g.node ellipse')).map(e => e.getAttribute('points') || e.getAttribute('cx'))];"
    )
    seen, titles = [], []
    while by_id(browser, "next").is_enabled():
        by_id(browser, "next").click()
        titles.append(by_id(browser, "frame-title").text)
        seen.append(browser.execute_script(shape))
    assert len(seen) == 2  # two ops, a*b and +
    assert seen[0] == seen[1]
    assert titles[0] != titles[1]
    assert svg_nodes(browser) == count
    assert error_text(browser) == ""


def test_a_huge_shared_link_is_refused_at_once_and_the_page_stays_usable(browser, server):
    # A 160 KB values text froze the tab for 174 s (a quadratic re.sub in parse_values).
    huge = f"{server}#expr=a%2Bb&values=a%3D1{'%20' * 60_000}b%3D2"
    browser.get("about:blank")
    started = time.monotonic()
    open_page(browser, huge)
    message = wait_for(browser, "return document.getElementById('error').textContent", 10)
    assert time.monotonic() - started < LOAD_TIMEOUT
    assert str(glue.MAX_ADDRESS_LENGTH) in message and len(message) < 200
    # Just under the address limit, the values' own cap answers with a message.
    long_values = f"{server}#expr=a%2Bb&values=a%3D1{' ' * 5_000}b%3D2"
    browser.get("about:blank")
    open_page(browser, long_values)
    message = wait_for(browser, "return document.getElementById('error').textContent", 10)
    assert f"{glue.MAX_VALUES_LENGTH:,}" in message
    draw(browser, "a*b", "a=2, b=3")
    wait_for(browser, "return document.getElementById('error').hidden")
    assert by_id(browser, "values").get_attribute("maxlength") == str(glue.MAX_VALUES_LENGTH)
