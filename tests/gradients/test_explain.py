"""Tests for `explain`: the chain rule as paths, against backward() and the 2-2-2 example."""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import Value
from micrograd.data import TWO_TWO_TWO
from micrograd.explain import explain
from tests.references import examples, facts


def two_two_two() -> dict[str, Value]:
    """Matt Mazur's 2-2-2 network with every input, target, parameter and neuron labelled."""
    net = TWO_TWO_TWO
    v = {name: Value(x, name) for name, x in zip(("i1", "i2"), net.inputs)}
    v |= {name: Value(x, name) for name, x in zip(("t1", "t2"), net.targets)}
    v |= {f"w{k}": Value(x, f"w{k}") for k, x in enumerate(net.weights, 1)}
    v["b1"], v["b2"] = Value(net.b1, "b1"), Value(net.b2, "b2")
    v["net_h1"] = v["w1"] * v["i1"] + v["w2"] * v["i2"] + v["b1"]
    v["net_h2"] = v["w3"] * v["i1"] + v["w4"] * v["i2"] + v["b1"]
    v["out_h1"], v["out_h2"] = v["net_h1"].sigmoid(), v["net_h2"].sigmoid()
    v["net_o1"] = v["w5"] * v["out_h1"] + v["w6"] * v["out_h2"] + v["b2"]
    v["net_o2"] = v["w7"] * v["out_h1"] + v["w8"] * v["out_h2"] + v["b2"]
    v["out_o1"], v["out_o2"] = v["net_o1"].sigmoid(), v["net_o2"].sigmoid()
    v["E_total"] = 0.5 * (v["t1"] - v["out_o1"]) ** 2 + 0.5 * (v["t2"] - v["out_o2"]) ** 2
    for name, value in v.items():
        value.label = name
    return v


def published(x: float, text: str) -> bool:
    """`x` agrees with a published number to within one unit of its last printed digit."""
    return abs(x - float(text)) <= 10.0 ** -len(text.split(".")[1])


def test_de_dw5_is_the_published_three_factor_product():
    v = two_two_two()
    rule = explain(v["E_total"], v["w5"])
    (path,) = rule.paths
    assert path.formula == "∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5"
    (_, de_dout), (_, dout), (_, dnet) = path.factors
    assert published(de_dout, "0.74136507") and published(dout, "0.186815602")
    assert published(dnet, "0.593269992") and published(rule.total, "0.082167041")
    v["E_total"].backward()
    assert math.isclose(rule.total, v["w5"].grad, rel_tol=1e-14)
    assert math.isclose(path.product, math.prod(path.local_grads), rel_tol=1e-15)


def test_de_dw1_sums_the_two_paths_through_o1_and_o2():
    v = two_two_two()
    rule = explain(v["E_total"], v["w1"])
    assert len(rule.paths) == 2
    via = [{n.label for n in path.nodes} & {"net_o1", "net_o2"} for path in rule.paths]
    assert via == [{"net_o1"}, {"net_o2"}]
    # The product of the factors above out_h1 on each path is that output's share.
    shares = []
    for path in rule.paths:
        above = [value for name, value in path.factors if not name.endswith(("∂w1", "∂net_h1"))]
        shares.append(math.prod(above))
    assert published(shares[0], "0.055399425") and published(shares[1], "-0.019049119")
    assert published(sum(shares), "0.036350306")
    assert published(rule.total, "0.000438568")
    v["E_total"].backward()
    assert math.isclose(rule.total, v["w1"].grad, rel_tol=1e-13)
    assert rule.formula.startswith("∂E_total/∂w1 = (∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ")
    assert " + (" in rule.formula


def test_table_and_dict_carry_the_numbers():
    v = two_two_two()
    rule = explain(v["E_total"], v["w5"])
    text = str(rule)
    assert "1 path from w5 to E_total" in text and "0.0821670" in text
    data = json.loads(json.dumps(rule.to_dict()))
    assert data["paths"][0]["nodes"][0] == "w5" and data["paths"][0]["nodes"][-1] == "E_total"
    assert data["total"] == rule.total and data["formula"] == rule.formula
    assert len(data["paths"][0]["local_grads"]) == len(rule.paths[0].nodes) - 1


def test_a_value_used_twice_gives_one_path_per_edge():
    a = Value(3.0, "a")
    y = a * a
    y.label = "y"
    rule = explain(y, a)
    assert [p.product for p in rule.paths] == [3.0, 3.0] and rule.total == 6.0


def test_too_many_paths_is_refused_with_the_count_and_the_cap():
    x = Value(1.0, "x")
    y = x
    for _ in range(12):  # each step doubles the paths: y + y
        y = y + y
    with pytest.raises(ValueError, match=facts("4,096 paths", "x", "max_paths=1000")):
        explain(y, x)
    assert len(explain(y, x, max_paths=5000).paths) == 4096


def test_a_huge_number_of_paths_is_refused_in_bounded_time():
    # 200,000 doublings: 2**200000 paths. Counted exactly, refusing took seconds and the
    # message failed on Python's int-to-text limit; counted with a cap, it is a message.
    x = Value(0.0, "x")  # 0: no overflow on the way
    y = x
    for _ in range(200_000):
        y = y + y
    started = time.perf_counter()
    with pytest.raises(ValueError, match=facts("more than 1,000,000,000,000 paths", "x")):
        explain(y, x)
    assert time.perf_counter() - started < 2.0  # about 0.3 s; the exact count took 3-9 s


def test_bad_input_is_refused_clearly():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    with pytest.raises(ValueError, match="b is not part of the graph"):
        explain(a * 2, b)
    with pytest.raises(TypeError, match="two Values"):
        explain(a, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_paths"):
        explain(a, a, max_paths=0)
    assert explain(a, a).total == 1.0


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3))
def test_sum_of_path_products_equals_backward(xs):
    a, b, c = (Value(x, n) for x, n in zip(xs, "abc"))
    mid = (a * b + c).tanh()
    out = mid * a + (b * mid).sigmoid() * c
    out.backward()
    for leaf in (a, b, c):
        assert math.isclose(explain(out, leaf).total, leaf.grad, rel_tol=1e-12, abs_tol=1e-12)
