"""The committed notebooks, opened untrusted in JupyterLab in headless Chromium, show pictures.

An untrusted notebook (any fresh clone) drops SVG outputs and sanitizes HTML: no `<style>`, no
inline `<svg>`, no script. This test serves a temporary copy of `notebooks/` with JupyterLab
(bound to 127.0.0.1, no token, its own config and data folders, so nothing is trusted), opens
each notebook in Chromium through Selenium, and checks that every drawing and plot output shows
as a loaded `<img>`, and that clicking a step viewer's next tab brings the next frame to the
front. Screenshots go to `MICROGRAD_SCREENSHOTS` when that is set. It skips, saying what is
missing, without Chromium, chromedriver, JupyterLab or Selenium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser import free_port, headless_chromium, wait_until_up
from tests.browser import missing as browser_missing

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _missing() -> str | None:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "jupyterlab is not installed (pip install jupyterlab)"
    return browser_missing()


pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _skip_without_a_browser() -> None:
    # Checked when a test runs, not when the module is collected: importing jupyterlab to find
    # out costs the quick loop (which leaves these slow tests out) a fifth of a second.
    reason = _missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the notebooks; yields its base URL, stopped by PID."""
    home = tmp_path_factory.mktemp("lab")
    work = home / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no windowing), so outputs far down the page are in the DOM too.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    apputils = settings.parent / "apputils-extension"
    apputils.mkdir()
    (apputils / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    if os.environ.get("MICROGRAD_DARK"):  # look at the pictures in the dark theme too
        theme = {"theme": "JupyterLab Dark"}
        (apputils / "themes.jupyterlab-settings").write_text(json.dumps(theme))
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),  # a fresh trust database: nothing is trusted
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        PYTHONPATH=str(ROOT),
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=",
            "--LabServerApp.announcements_url=",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=work,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/status", server, 60, "JupyterLab")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as driver:
        driver.set_page_load_timeout(60)
        yield driver


def _expected_images(path: Path) -> tuple[int, int]:
    """(outputs that carry a PNG, step viewers) in the committed notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    pictures = steppers = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                pictures += 1
            if 'class="mg-stepper"' in "".join(data.get("text/html", "")):
                steppers += 1
    return pictures, steppers


def _screenshot(driver, name: str) -> None:
    folder = os.environ.get("MICROGRAD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


# The notebook on show (others in the page are hidden tabs) and its step viewers.
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
_VIEWERS = f"const VIEWERS = '{PANEL} .mg-stepper';"

_STATE = (
    _VIEWERS
    + """
const open = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (p.tagName === 'DETAILS' && !p.open) return false; } return el.checkVisibility(); };
const out = [];
for (const viewer of document.querySelectorAll(VIEWERS)) {
  const shown = [...viewer.querySelectorAll('img.mg-frame')].filter(open);
  const next = [...viewer.querySelectorAll('summary.mg-next')].filter(
      s => open(s.parentElement) && !s.parentElement.open);
  out.push({front: shown.length ? +shown[shown.length - 1].alt.split(' ')[2] : 0,
            html: viewer.outerHTML.replace(/base64,[^"]*/g, '').slice(0, 3000),
            loaded: shown.every(i => i.complete && i.naturalWidth > 0),
            hasNext: next.length > 0});
}
return out;
"""
)

_CLICK_NEXT = (
    _VIEWERS
    + """
const viewer = document.querySelectorAll(VIEWERS)[arguments[0]];
const next = [...viewer.querySelectorAll('summary.mg-next')].filter(
    s => s.checkVisibility() && !s.parentElement.open)[0];
next.scrollIntoView({block: 'center'});
return next;
"""
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_untrusted_notebook_shows_every_picture_and_steps(lab, browser, path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    pictures, steppers = _expected_images(path)
    # A workspace of its own per notebook: only this notebook's outputs are in the page.
    browser.get(f"{lab}/lab/workspaces/{path.stem}/tree/{path.name}?reset")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"))
    time.sleep(2)  # let every output render
    # Untrusted: the SVG beside each PNG is not rendered (a trusted notebook would prefer it).
    assert (
        browser.execute_script(
            f"return document.querySelectorAll('{PANEL} .jp-RenderedSVG').length"
        )
        == 0
    )
    images = (
        "const PANEL = '.jp-NotebookPanel:not(.lm-mod-hidden)';"
        + """
    return [...document.querySelectorAll(PANEL + ' .jp-RenderedImage img')]
           .map(i => [i.complete && i.naturalWidth > 0, i.src.slice(0, 15)]);
    """
    )
    wait.until(lambda d: len(d.execute_script(images)) >= pictures)
    shown = browser.execute_script(images)
    assert len(shown) == pictures, f"{len(shown)} pictures shown, {pictures} in the notebook"
    assert all(ok for ok, _ in shown), "a picture did not load"
    # No output fell back to the text of a Drawing.
    texts = browser.execute_script(
        f"return [...document.querySelectorAll('{PANEL} .jp-OutputArea-output')]"
        ".map(o => o.innerText)"
    )
    assert not [t for t in texts if t.startswith("<Drawing:")]
    if pictures:
        browser.execute_script(
            f"document.querySelector('{PANEL} .jp-RenderedImage img')"
            ".scrollIntoView({block: 'start'})"
        )
        _screenshot(browser, f"{path.stem}.png")
    states = browser.execute_script(_STATE)
    assert len(states) == steppers
    for k, state in enumerate(states):
        assert state["front"] == 1 and state["loaded"] and state["hasNext"], state
        browser.execute_script(_CLICK_NEXT, k).click()
        time.sleep(0.3)
        after = browser.execute_script(_STATE)[k]
        assert after["front"] == 2 and after["loaded"], after
        browser.execute_script(
            _VIEWERS + "document.querySelectorAll(VIEWERS)[arguments[0]].scrollIntoView()",
            k,
        )
        _screenshot(browser, f"{path.stem}_stepper{k + 1}_step2.png")
        # Clicking the open tab goes back.
        browser.execute_script(
            _VIEWERS + "const v = document.querySelectorAll(VIEWERS)"
            "[arguments[0]]; v.querySelector('details.mg-step > summary').click();",
            k,
        )
        assert browser.execute_script(_STATE)[k]["front"] == 1


# The kernel's state as the notebook's toolbar shows it ("idle" once it has started and answered
# with its language_info, which JupyterLab writes into the notebook's metadata).
_KERNEL = (
    f"const i = document.querySelector('{PANEL} .jp-Notebook-ExecutionIndicator');"
    "return i && i.getAttribute('data-status');"
)
_DIRTY_TABS = "return [...document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty')].length"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_opening_a_notebook_leaves_it_unmodified(lab, browser, path):
    """Opening a committed notebook and starting its kernel changes nothing (no dirty tab, so no
    autosave turns `git status` red): its metadata already holds what JupyterLab would write."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{lab}/lab/workspaces/{path.stem}-open/tree/{path.name}?reset")
    WebDriverWait(browser, 90).until(lambda d: d.execute_script(_KERNEL) == "idle")
    time.sleep(2)  # the kernel's info reply is applied to the model after the status changes
    assert browser.execute_script(_DIRTY_TABS) == 0, f"opening {path.name} modified it"
