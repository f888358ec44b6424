"""Code written for Karpathy's micrograd 0.1.0 runs unchanged, with the same results."""

from __future__ import annotations

import random

import pytest

from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Neuron


def test_readme_example_of_0_1_0():
    # The expression from micrograd 0.1.0's README and the numbers it documents.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    assert f"{g.data:.4f}" == "24.7041"
    g.backward()
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_unseeded_weights_come_from_the_global_random_module_in_0_1_0_order():
    # 0.1.0 draws each neuron's weights with random.uniform(-1, 1), neuron by neuron, layer by
    # layer, and starts every bias at 0.
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    random.seed(1337)
    for layer in model.layers:
        for neuron in layer.neurons:
            assert [w.data for w in neuron.w] == [random.uniform(-1, 1) for _ in neuron.w]
            assert neuron.b.data == 0.0


def test_nonlin_switch_and_single_output():
    linear = Neuron(2, nonlin=False)
    assert linear.activation == "linear" and not linear.nonlin
    relu = Neuron(2)
    assert relu.activation == "relu" and relu.nonlin
    assert isinstance(MLP(3, [4, 1])([1.0, 2.0, 3.0]), Value)
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    assert len(Layer(2, 3)([1.0, 2.0])) == 3


@pytest.mark.slow
def test_classic_training_loop_runs():
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    xs = [[2.0, 3.0], [3.0, -1.0], [0.5, 1.0], [1.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for k in range(30):
        scores = list(map(model, xs))
        loss = sum((1 + -yi * si).relu() for yi, si in zip(ys, scores)) * (1.0 / len(xs))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 30) * 0.1 * p.grad
        losses.append(loss.data)
    assert losses[-1] < losses[0]
    assert losses[-1] == pytest.approx(0.0, abs=0.05)


def test_0_1_0_internal_names_used_by_copied_drawing_code():
    # Drawing code copied from 0.1.0's notebooks walks `_prev` (a set) and reads `_op`.
    a, b = Value(2.0), Value(-3.0)
    out = (a * b + a).tanh()
    nodes, edges, stack = set(), set(), [out]
    while stack:
        v = stack.pop()
        if v not in nodes:
            nodes.add(v)
            for parent in v._prev:
                edges.add((parent, v))
                stack.append(parent)
    assert len(nodes) == 5 and len(edges) == 5
    assert out._op == "tanh" and a._op == ""
    assert (a * a)._prev == {a}


# The lecture's four-sample dataset and loop (sum of squared errors, 20 steps of -0.1 * grad):
# its network is tanh in every layer, as the README says to write it here.
LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]


def lecture_loss_after_training(model: MLP) -> float:
    loss = None
    for _ in range(20):
        predictions = [model(x) for x in LECTURE_XS]
        loss = sum((p - y) ** 2 for p, y in zip(predictions, LECTURE_YS))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data += -0.1 * p.grad
    return loss.data


def test_lecture_training_cell_learns_with_the_tanh_mlp_the_readme_names():
    tanh = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=0)
    assert lecture_loss_after_training(tanh) < 0.1


def test_lecture_training_cell_stalls_with_the_default_relu_mlp_as_the_readme_warns():
    # 0.1.0's network (ReLU hidden layers, linear output) from the same seed stays near 4.0,
    # the loss of predicting 0 for all four samples.
    relu = MLP(3, [4, 4, 1], seed=0)
    assert lecture_loss_after_training(relu) == pytest.approx(4.0, abs=1e-3)
