"""The solutions of notebooks 2-4's exercises (notebooks/solutions/) agree with the engine.

The notebooks' own runs with the solutions pasted in are in
tests/notebooks/test_try_this_exercises.py (slow); these quick tests check the functions against
`micrograd.Value` and `check_derivative` directly, with the notebook's names they use set on the
module.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from micrograd import Neuron, Value, check_derivative, topological_order

SOLUTIONS = Path(__file__).resolve().parents[2] / "notebooks" / "solutions"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def solutions():
    return _load("02_my_value")


@pytest.mark.parametrize(("a", "b"), [(2.0, -3.0), (0.5, 4.0), (0.0, 1.5)])
def test_mul_local_grads_are_the_engines(solutions, a: float, b: float):
    x, y = Value(a), Value(b)
    (x * y).backward()
    assert solutions.mul_local_grads(a, b) == (x.grad, y.grad)


@pytest.mark.parametrize("a", [-1.5, 0.0, 0.3, 2.0])
def test_tanh_local_grad_is_the_engines(solutions, a: float):
    x = Value(a)
    x.tanh().backward()
    assert solutions.tanh_local_grad(a, math.tanh(a)) == pytest.approx(x.grad, abs=1e-15)


def test_build_order_lists_each_value_once_after_its_parents(solutions):
    x, y = Value(3.0), Value(-1.0)
    s = x + y
    root = (s * s + x).tanh()
    order = solutions.build_order(root)
    assert set(order) == set(topological_order(root)) and len(order) == len(set(order))
    assert order[-1] is root
    position = {node: k for k, node in enumerate(order)}
    assert all(position[parent] < position[node] for node in order for parent in node.parents)


def test_the_sigmoid_slope_is_the_engines_and_the_checkers():
    sigmoid_solution = _load("03_sigmoid")
    sigmoid_solution.sigmoid = lambda z: 1.0 / (1.0 + math.exp(-z))  # the notebook's
    for z in (-3.0, 0.0, 1.1059050):
        x = Value(z)
        x.sigmoid().backward()
        assert sigmoid_solution.sigmoid_slope(z) == pytest.approx(x.grad, abs=1e-15)
    assert check_derivative(sigmoid_solution.sigmoid, sigmoid_solution.sigmoid_slope).right


def test_the_relu_neurons_slope_is_the_engines_and_the_checkers():
    relu_solution = _load("04_relu_neuron")
    neuron = Neuron(2, activation="relu", seed=1)  # the notebook's numbers
    relu_solution.x1, relu_solution.x2 = 0.5, -1.0
    relu_solution.w2, relu_solution.b = neuron.w[1].data, neuron.b.data
    for w1 in (-0.5, 0.5, 2.0, 3.0):  # the kink is at 1.39
        neuron.w[0].data = w1
        neuron.zero_grad()
        neuron([0.5, -1.0]).backward()
        assert relu_solution.d_out_d_w1(w1) == neuron.w[0].grad

    def relu_out(w1: float) -> float:
        return max(0.0, w1 * 0.5 - relu_solution.w2 + relu_solution.b)

    points = [-0.5, 0.5, 1.0, 2.0, 3.0]
    assert check_derivative(relu_out, relu_solution.d_out_d_w1, points).right
