"""The lesson page (lesson.html) in a real browser, in English and in Chinese: the walk-through's
published numbers are shown, predictions get feedback, `?reveal=all` trains to 3.5102e-05, and a
phone-sized page has no sideways scroll.

Built and served as the playground's browser tests do (same assets variable, same Chromium);
skipped without them. Screenshots go to MICROGRAD_PLAYGROUND_SHOTS when it is set.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
from importlib import resources

import pytest

from micrograd.data import TWO_TWO_TWO
from micrograd.playground.lesson import shown
from tests.browser import headless_chromium
from tests.playground.test_playground_browser import wait_for

pytestmark = pytest.mark.slow

# The walk-through's published numbers, as it prints them.
PUBLISHED = (
    "0.3775",  # net_h1
    "0.593269992",  # out_h1
    "0.75136507",  # out_o1
    "0.298371109",  # E_total
    "0.74136507 × 0.186815602 × 0.593269992 = 0.082167041",  # backward for w5
    "0.35891648",  # w5+
    "0.291027774",  # E_total after the first round (the algorithm as described)
    "3.5102e-05",  # after 10,000 steps
)
EARLY = ("0.291027924", "0.015912196", "0.984065734")  # the update-order bug's numbers
LANGUAGES = ("en", "zh")


def strings(lang: str) -> dict[str, str]:
    static = resources.files("micrograd.playground") / "static"
    return json.loads(static.joinpath("lesson-strings.json").read_text(encoding="utf-8"))[lang]


@pytest.fixture(scope="module")
def browser(server):
    with headless_chromium() as driver:
        yield driver


@pytest.fixture
def shots(tmp_path) -> pathlib.Path:
    folder = pathlib.Path(os.environ.get("MICROGRAD_PLAYGROUND_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settle(driver) -> None:
    wait_for(driver, "return !!(window.lesson && window.lesson.ready && window.lesson.idle())")


def open_lesson(driver, server: str, query: str = "") -> None:
    driver.get(f"{server}lesson.html{query}")
    settle(driver)


def text_of(driver, selector: str = "body") -> str:
    return driver.find_element("css selector", selector).text


def error_text(driver) -> str:
    return driver.execute_script(
        "const e = document.getElementById('error'); return e.hidden ? '' : e.textContent"
    )


def guess(driver, box: str, answer: str) -> str:
    driver.find_element("css selector", f'#{box} button[data-guess="{answer}"]').click()
    settle(driver)
    return text_of(driver, f"#{box} .feedback")


def full_page(driver, path: pathlib.Path) -> None:
    """A screenshot of the whole page, not only the window (through the DevTools protocol)."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reveal_all_shows_every_published_number_and_trains_to_the_end(
    browser, server, lang, shots
):
    open_lesson(browser, server, f"?lang={lang}&reveal=all")
    assert error_text(browser) == ""
    page = text_of(browser)
    for number in PUBLISHED:
        assert number in page, number
    # The eight updated weights (published to 8 or 9 decimals), in the updates table's last column.
    after = browser.execute_script(
        "return [...document.querySelectorAll('#updates tbody tr')]"
        ".map(tr => tr.lastChild.textContent)"
    )
    assert [float(x) for x in after] == pytest.approx(list(TWO_TWO_TWO.updated_weights), abs=1e-8)
    assert shown(TWO_TWO_TWO.updated_weights[4]) in after
    assert "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775" in page
    final = text_of(browser, "#train-final")
    assert "3.5102e-05" in final and "10000" in final
    # The exercise, answered by the package's own solution and checked like a learner's.
    assert browser.find_element("id", "derivative-text").get_attribute("value") != ""
    feedback = text_of(browser, "#derivative-feedback")
    assert feedback == strings(lang)["derivative.right"].replace("{checked}", "5")
    # Every text is in the chosen language, with its numbers filled in.
    words = strings(lang)
    assert text_of(browser, "h1") == words["title"]
    assert text_of(browser, "#forward-list + p button") == words["forward.next"]
    assert "{" not in page and "weight.title" not in page
    if lang == "zh":
        assert browser.execute_script("return document.documentElement.lang") == "zh-CN"
        for term in ("正向传播", "反向传播", "误差", "权重"):
            assert term in page
    full_page(browser, shots / f"lesson-{lang}-desktop.png")


def test_the_update_order_switch_shows_the_walk_throughs_own_numbers(browser, server):
    open_lesson(browser, server, "?reveal=all")
    assert all(number not in text_of(browser, "#train-panel") for number in EARLY)
    browser.find_element("id", "early").click()
    settle(browser)
    panel = text_of(browser, "#train-panel")
    for number in EARLY:
        assert number in panel, number
    assert "update-order" in text_of(browser, "#train-why") or "w5..w8" in panel
    # The pseudocode changes with it: the hidden layer's backward comes after w5..w8 moved.
    lines = browser.execute_script(
        "return [...document.querySelectorAll('#pseudocode li')].map(li => li.dataset.line)"
    )
    assert lines.index("code.update-out") < lines.index("code.backward-hidden")
    browser.find_element("id", "early").click()
    settle(browser)
    assert "0.291027774" in text_of(browser, "#train-first")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_predict_then_reveal_gives_feedback(browser, server, lang):
    words = strings(lang)
    open_lesson(browser, server, f"?lang={lang}")
    # Nothing is revealed before the learner commits.
    for panel in ("slope-panel", "w5-panel", "train-panel"):
        assert not browser.find_element("id", panel).is_displayed()
    # W from 3 to 4: the error goes up (5 to 20); "down" is wrong, and the page says why.
    feedback = guess(browser, "predict-up", "down")
    assert feedback.startswith(words["feedback.wrong"]) and "20" in feedback and "5" in feedback
    assert "wrong" in browser.find_element("css selector", "#predict-up .feedback").get_attribute(
        "class"
    )
    assert browser.find_element("id", "w").get_attribute("value") == "4"
    # The slope at W = 4 is positive (20): "positive" is right, and the slope panel appears.
    feedback = guess(browser, "predict-sign", "positive")
    assert feedback.startswith(words["feedback.right"]) and "20" in feedback
    assert browser.find_element("id", "slope-panel").is_displayed()
    # dE/dw5 is positive: "negative" is wrong; the factors are shown after the guess.
    feedback = guess(browser, "predict-w5", "negative")
    assert feedback.startswith(words["feedback.wrong"]) and "0.082167041" in feedback
    # The middle factor, typed by the learner: judged, with the typical mistake named.
    assert not browser.find_element("id", "w5-detail").is_displayed()
    typed, right = {"en": ("0.75", False), "zh": ("0.187", True)}[lang]
    browser.find_element("id", "factor-guess").send_keys(typed + "\n")
    settle(browser)
    feedback = text_of(browser, "#predict-factor .feedback")
    assert feedback.startswith(words["feedback.right" if right else "feedback.wrong"])
    assert "0.186815602" in feedback
    if not right:
        assert words["factor.mistake-out_o1"].split("{")[0] in feedback
    assert "0.74136507 × 0.186815602 × 0.593269992" in text_of(browser, "#w5-detail")
    # One step lowers E_total: "down" is right.
    feedback = guess(browser, "predict-train", "down")
    assert feedback.startswith(words["feedback.right"]) and "0.291027774" in feedback
    assert error_text(browser) == ""


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_learners_own_derivative_is_checked_point_by_point(browser, server, lang):
    words = strings(lang)
    open_lesson(browser, server, f"?lang={lang}")
    guess(browser, "predict-w5", "positive")
    browser.find_element("id", "factor-skip").click()
    settle(browser)
    field = browser.find_element("id", "derivative-text")
    line = "#derivative-feedback"
    # A slip: the sigmoid's value, not its slope. Wrong at all five points, said by kind.
    field.send_keys("sigmoid(x)\n")
    settle(browser)
    feedback = text_of(browser, line)
    assert feedback.startswith(words["derivative.wrong"].split("{")[0])
    assert words["derivative.mistake-value"] in feedback
    rows = browser.find_elements("css selector", "#derivative-table tbody tr")
    assert [r.get_attribute("class") for r in rows] == ["wrong"] * 5
    # Row x = 0.3: yours sigmoid(0.3), the central difference sigmoid'(0.3), the difference.
    cells = [td.text for td in rows[2].find_elements("css selector", "td")]
    assert cells[:2] == ["0.3", "0.574442517"]
    assert float(cells[2]) == pytest.approx(0.244458312, abs=2e-9)  # sigmoid'(0.3) 0.2444583117
    # Text the parser refuses is a message in the exercise, not the page's error.
    field.clear()
    field.send_keys("__import__('os')\n")
    settle(browser)
    assert text_of(browser, line).startswith(words["derivative.unreadable"].split("{")[0])
    assert not browser.find_element("id", "derivative-table").is_displayed()
    field.clear()
    field.send_keys("sigmoid(x) * (1 - sigmoid(x))\n")
    settle(browser)
    assert text_of(browser, line) == words["derivative.right"].replace("{checked}", "5")
    assert "right" in browser.find_element("css selector", line).get_attribute("class")
    assert error_text(browser) == ""


def test_the_learners_own_weight_and_following_the_slope(browser, server):
    open_lesson(browser, server)
    field = browser.find_element("id", "w")
    field.clear()
    field.send_keys("1.5\n")
    settle(browser)
    cells = [td.text for td in browser.find_elements("css selector", "#weight-table tbody td")]
    assert cells == ["0", "0", "0", "0", "0", "1", "2", "1.5", "0.5", "0.25"] + [
        "2",
        "4",
        "3",
        "1",
        "1",
    ]
    assert text_of(browser, "#w-total") == "1.25"
    guess(browser, "predict-sign", "negative")
    assert "-5" in text_of(browser, "#slope-line")
    browser.find_element("id", "follow").click()
    settle(browser)
    assert browser.find_element("id", "w").get_attribute("value") == "1.75"
    browser.find_element("id", "descend").click()
    settle(browser)
    line = text_of(browser, "#follow-line")
    assert "global minimum, W = 2," in line and "W = 1.99999994" in line
    # A weight that is not a number is a message, and the page goes on.
    field.clear()
    field.send_keys("abc\n")
    settle(browser)
    assert "W must be a finite number" in error_text(browser)


def test_the_language_switch_and_the_pseudocode_walk(browser, server):
    open_lesson(browser, server, "?reveal=all")
    browser.find_element("css selector", '[data-lang="zh"]').click()
    assert text_of(browser, "h1") == strings("zh")["title"]
    assert "lang=zh" in browser.current_url and "reveal=all" in browser.current_url
    assert "3.5102e-05" in text_of(browser, "#train-final")
    for expected in ("code.init", "code.repeat", "code.forward"):
        browser.find_element("id", "walk").click()
        settle(browser)
        current = browser.find_element("css selector", "#pseudocode li.current")
        assert current.get_attribute("data-line") == expected
    assert "0.298371109" in current.text


def test_a_long_or_strange_address_is_read_safely(browser, server):
    open_lesson(browser, server, "?lang=<b>x</b>&reveal=" + "a" * 5000)
    assert text_of(browser, "h1") == strings("en")["title"]
    assert not browser.find_element("id", "w5-panel").is_displayed()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_phone_sized_lesson_has_no_sideways_scroll(server, lang, shots):
    with headless_chromium("390,844") as phone:
        phone.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
        )
        open_lesson(phone, server, f"?lang={lang}&reveal=all")
        assert phone.execute_script("return window.innerWidth") == 390
        assert "3.5102e-05" in text_of(phone, "#train-final")
        wide = "return document.documentElement.scrollWidth - window.innerWidth"
        assert phone.execute_script(wide) <= 0
        phone.save_screenshot(str(shots / f"lesson-{lang}-phone-top.png"))
        full_page(phone, shots / f"lesson-{lang}-phone.png")
