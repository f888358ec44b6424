"""Published worked examples, reproduced by the engine.

The 2-2-2 sigmoid network is the classic step-by-step backpropagation example (inputs 0.05 and
0.10, targets 0.01 and 0.99, learning rate 0.5); its intermediate numbers are widely used to
check hand calculations. The expected values below are the published ones, not our output.
"""

from __future__ import annotations

import pytest

from micrograd import Value

INPUTS = (0.05, 0.10)
TARGETS = (0.01, 0.99)
WEIGHTS = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)
BIASES = (0.35, 0.60)
LEARNING_RATE = 0.5

PUBLISHED = {
    "out_h1": 0.593269992,
    "out_h2": 0.596884378,
    "out_o1": 0.75136507,
    "out_o2": 0.772928465,
    "E_total": 0.298371109,
    "dE/dw5": 0.082167041,
    "updated": (
        0.149780716,
        0.19956143,
        0.24975114,
        0.29950229,
        0.35891648,
        0.408666186,
        0.511301270,
        0.561370121,
    ),
}


def forward(w, b1, b2):
    i1, i2 = INPUTS
    h1 = (w[0] * i1 + w[1] * i2 + b1).sigmoid()
    h2 = (w[2] * i1 + w[3] * i2 + b1).sigmoid()
    o1 = (w[4] * h1 + w[5] * h2 + b2).sigmoid()
    o2 = (w[6] * h1 + w[7] * h2 + b2).sigmoid()
    error = 0.5 * (TARGETS[0] - o1) ** 2 + 0.5 * (TARGETS[1] - o2) ** 2
    return h1, h2, o1, o2, error


def test_two_two_two_network_forward_backward_and_update():
    w = [Value(x, f"w{i + 1}") for i, x in enumerate(WEIGHTS)]
    b1, b2 = Value(BIASES[0], "b1"), Value(BIASES[1], "b2")
    h1, h2, o1, o2, error = forward(w, b1, b2)
    assert h1.data == pytest.approx(PUBLISHED["out_h1"], abs=1e-9)
    assert h2.data == pytest.approx(PUBLISHED["out_h2"], abs=1e-9)
    assert o1.data == pytest.approx(PUBLISHED["out_o1"], abs=1e-8)
    assert o2.data == pytest.approx(PUBLISHED["out_o2"], abs=1e-9)
    assert error.data == pytest.approx(PUBLISHED["E_total"], abs=1e-9)

    error.backward()
    assert w[4].grad == pytest.approx(PUBLISHED["dE/dw5"], abs=1e-9)

    # The walk-through updates the eight weights with the gradients of the original network.
    for weight in w:
        weight.data -= LEARNING_RATE * weight.grad
    for weight, expected in zip(w, PUBLISHED["updated"]):
        assert weight.data == pytest.approx(expected, abs=1e-8), weight.label


@pytest.mark.slow
def test_two_two_two_network_trains_to_a_small_error():
    # The walk-through reports an error of about 3.5e-5 after 10,000 such steps.
    w = [Value(x) for x in WEIGHTS]
    b1, b2 = Value(BIASES[0]), Value(BIASES[1])
    for _ in range(10_000):
        error = forward(w, b1, b2)[-1]
        for weight in w:
            weight.grad = 0.0
        error.backward()
        for weight in w:
            weight.data -= LEARNING_RATE * weight.grad
    assert forward(w, b1, b2)[-1].data == pytest.approx(3.5e-5, rel=0.05)
