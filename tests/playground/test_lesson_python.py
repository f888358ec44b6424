"""The lesson page's Python (`micrograd.playground.lesson`), without a browser: every number it
sends is the walk-through's published one, and its strings file speaks both languages fully."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from micrograd.data import TWO_TWO_TWO
from micrograd.playground import glue, lesson


def ask(**args):
    return json.loads(glue.handle_page(json.dumps({"call": "lesson", "args": args})))


@pytest.mark.parametrize(
    ("w", "outputs", "errors", "squared", "total", "slope"),
    [
        (3, ["0", "3", "6"], ["0", "1", "2"], ["0", "1", "4"], "5", "10"),
        (4, ["0", "4", "8"], ["0", "2", "4"], ["0", "4", "16"], "20", "20"),
        (2, ["0", "2", "4"], ["0", "0", "0"], ["0", "0", "0"], "0", "0"),
        (1.5, ["0", "1.5", "3"], ["0", "0.5", "1"], ["0", "0.25", "1"], "1.25", "-5"),
    ],
)
def test_one_weight_table_outputs_errors_and_slope(w, outputs, errors, squared, total, slope):
    answer = ask(part="weight", w=w)
    assert answer["ok"]
    assert [r["y"]["shown"] for r in answer["rows"]] == ["0", "2", "4"]
    assert [r["output"]["shown"] for r in answer["rows"]] == outputs
    assert [r["error"]["shown"] for r in answer["rows"]] == errors
    assert [r["squared"]["shown"] for r in answer["rows"]] == squared
    assert answer["total"]["shown"] == total
    # d/dW of sum (W*x - y)^2 = sum 2 x (W*x - y) = 10 (W - 2), from backward().
    assert answer["slope"]["value"] == pytest.approx(10 * (w - 2))
    assert answer["slope"]["shown"] == slope
    assert answer["at_minimum"] == (w == 2)


def test_following_the_slope_reaches_the_minimum():
    w, steps = 3.0, 0
    while not ask(part="weight", w=w)["at_minimum"]:
        step = ask(part="step", w=w)
        assert step["after"]["total"]["value"] < step["before"]["total"]["value"]
        w, steps = step["after"]["w"]["value"], steps + 1
        assert steps < 100
    assert w == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("w", ["3", None, float("nan"), True, 1e9])
def test_a_bad_weight_is_a_message(w):
    answer = ask(part="weight", w=w)
    assert not answer["ok"] and "W must be" in answer["error"]


def test_the_network_forward_pass_has_the_published_numbers():
    answer = ask(part="network")
    shown = {step["name"]: step["shown"] for step in answer["forward"]}
    assert shown["net_h1"] == "0.3775"
    assert shown["out_h1"] == "0.593269992"
    assert shown["out_h2"] == "0.596884378"
    assert shown["net_o1"] == "1.105905967"
    assert shown["out_o1"] == "0.75136507"
    assert shown["out_o2"] == "0.772928465"
    assert shown["E_o1"] == "0.274811083"
    assert shown["E_o2"] == "0.023560026"
    assert shown["E_total"] == answer["e_total"]["shown"] == "0.298371109"
    first = answer["forward"][0]
    assert first["formula"] == "w1*i1 + w2*i2 + b1"
    assert first["numbers"] == "0.15*0.05 + 0.2*0.1 + 0.35"
    assert [answer["named"][n]["shown"] for n in ("i1", "i2", "b1", "b2", "t1", "t2")] == [
        "0.05",
        "0.1",
        "0.35",
        "0.6",
        "0.01",
        "0.99",
    ]


def test_backward_for_w5_factor_by_factor_and_the_updates():
    answer = ask(part="network")
    w5 = answer["w5"]
    assert [f["shown"] for f in w5["factors"]] == ["0.74136507", "0.186815602", "0.593269992"]
    assert w5["product"]["shown"] == w5["backward"]["shown"] == "0.082167041"
    assert w5["product"]["value"] == pytest.approx(w5["backward"]["value"], rel=1e-12)
    assert w5["sign"] == "positive"
    after = [u["after"]["value"] for u in answer["updates"]]
    assert after == pytest.approx(list(TWO_TWO_TWO.updated_weights), abs=1e-8)
    assert answer["updates"][4]["after"]["shown"] == "0.35891648"
    # w1 is reached through both outputs: two paths whose products add up to backward()'s grad.
    paths = answer["w1"]["paths"]
    assert len(paths) == 2 and {"out_o1", "out_o2"} == {p["nodes"][-2] for p in paths}
    assert sum(p["value"] for p in paths) == pytest.approx(answer["w1"]["backward"]["value"])
    assert answer["w1"]["backward"]["shown"] == "0.000438568"
    assert answer["train_steps"] == 10_000


@pytest.mark.parametrize(
    ("guess", "right", "mistake"),
    [
        (0.1868, True, None),
        (0.19, False, None),
        (0.7514, False, "out_o1"),
        (0.7414, False, "first"),
        (0.2486, False, "one-minus"),
    ],
)
def test_the_learners_factor_is_judged_and_a_typical_mistake_named(guess, right, mistake):
    answer = ask(part="factor", guess=guess)
    assert (answer["right"], answer["mistake"]) == (right, mistake)
    assert answer["value"]["shown"] == "0.186815602"
    assert answer["difference"]["value"] == pytest.approx(guess - 0.186815602, abs=1e-9)
    assert not ask(part="factor", guess="0.2")["ok"]


@pytest.mark.slow  # 2 x 10,000 training steps
def test_training_in_either_order_gives_the_published_numbers():
    correct = ask(part="train", steps=10_000, order="correct")
    assert correct["first"]["shown"] == "0.291027774"
    assert correct["final"]["shown"] == "3.5102e-05"
    assert [o["shown"] for o in correct["outputs"]] == ["0.01591362", "0.984064274"]
    assert correct["curve"][0] == [0, correct["start"]["value"]]
    assert correct["curve"][-1] == [10_000, correct["final"]["value"]]
    assert len(correct["curve"]) <= lesson.CURVE_POINTS + 1
    early = ask(part="train", steps=10_000, order="early")
    assert early["first"]["shown"] == "0.291027924"
    assert [o["shown"] for o in early["outputs"]] == ["0.015912196", "0.984065734"]


def test_one_training_step_is_the_published_update():
    one = ask(part="train", steps=1)
    assert one["start"]["shown"] == "0.298371109" and one["first"]["shown"] == "0.291027774"
    assert one["curve"] == [[0, one["start"]["value"]], [1, one["first"]["value"]]]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"part": "train", "steps": 0}, "steps must be"),
        ({"part": "train", "steps": 10_001}, "steps must be"),
        ({"part": "train", "order": "sideways"}, "order must be"),
        ({"part": "nothing"}, "unknown lesson part"),
    ],
)
def test_bad_requests_are_messages(args, words):
    answer = ask(**args)
    assert not answer["ok"] and words in answer["error"]


@pytest.mark.parametrize(
    ("x", "text"),
    [(3.0, "3"), (0.3775, "0.3775"), (0.0004385677, "0.000438568"), (3.5101878e-05, "3.5102e-05")],
)
def test_numbers_are_shown_as_the_walk_through_prints_them(x, text):
    assert lesson.shown(x) == text


# ---- The strings file ------------------------------------------------------------------------


def strings() -> dict[str, dict[str, str]]:
    static = resources.files("micrograd.playground") / "static"
    return json.loads(static.joinpath("lesson-strings.json").read_text(encoding="utf-8"))


def test_both_languages_have_every_string_with_the_same_placeholders():
    languages = strings()
    assert set(languages) == {"en", "zh"}
    assert set(languages["en"]) == set(languages["zh"])
    for key, english in languages["en"].items():
        chinese = languages["zh"][key]
        assert english.strip() and chinese.strip(), key
        # {w}, {slope}...: the numbers the page puts in, from Python, in both languages.
        assert set(re.findall(r"\{\w+\}", english)) == set(re.findall(r"\{\w+\}", chinese)), key
        assert not re.search(r"\d\.\d", english + chinese), f"{key} types a number"


def test_the_chinese_uses_the_walk_throughs_terms():
    chinese = " ".join(strings()["zh"].values())
    for term in ("正向传播", "反向传播", "误差", "权重", "梯度下降"):
        assert term in chinese


def test_every_key_the_page_uses_is_in_the_strings_file():
    static = resources.files("micrograd.playground") / "static"
    used = set()
    for name in ("lesson.html", "lesson.js"):
        text = static.joinpath(name).read_text(encoding="utf-8")
        used |= set(re.findall(r'data-t="([\w.-]+)"', text))
        used |= set(re.findall(r"\bt\(\"([\w.-]+)\"", text))
    assert used and used <= set(strings()["en"])
    # Keys the page builds from Python's answers: each mistake check_factor can name.
    for mistake in ("out_o1", "first", "one-minus"):
        assert f"factor.mistake-{mistake}" in strings()["en"]


def test_the_playground_and_the_lesson_link_to_each_other():
    static = resources.files("micrograd.playground") / "static"
    assert 'href="lesson.html"' in static.joinpath("index.html").read_text(encoding="utf-8")
    assert 'href="index.html"' in static.joinpath("lesson.html").read_text(encoding="utf-8")
