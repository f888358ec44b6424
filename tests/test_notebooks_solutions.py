"""The solutions of notebook 2's exercises (notebooks/solutions/) agree with the engine.

The notebook's own run with the solutions pasted in is in tests/test_notebooks_exercises.py
(slow); this quick test checks the three functions against `micrograd.Value` directly.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from micrograd import Value, topological_order

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions" / "02_my_value.py"


@pytest.fixture(scope="module")
def solutions():
    spec = importlib.util.spec_from_file_location("my_value_solutions", SOLUTIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
