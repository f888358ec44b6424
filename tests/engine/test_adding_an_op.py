"""Adding an op as docs/guide/engine.md says: a scratch op, softplus, and nothing else.

The op is one record (its rule calls a helper of this module, as any Python function may) and
its PyTorch function's name in `tests.references.TORCH_NAMES`. With those two, eager first and
second derivatives match central differences, the tape replays it, and the op-driven tests
(test_ops, test_create_graph, test_edge_values_on_every_path), run here on it, pass without an
edit elsewhere.
"""

from __future__ import annotations

import math

import pytest

from micrograd import OPS, Value, gradcheck, numerical_grad, trace
from micrograd.engine import apply
from micrograd.functional import grad
from micrograd.ops import Op
from tests import references
from tests.engine import test_create_graph, test_ops
from tests.engine import test_edge_values_on_every_path as every_path


def _sigmoid(m, x):
    """σ(x) = 1 / (1 + e^-x) in the maths namespace `m`: a helper the rule below calls."""
    return m.recip(1.0 + m.exp(-x))


def _softplus(x: float) -> float:
    # log(1 + e^x), written so that e^x never overflows; nan stays nan.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


SOFTPLUS = Op(
    "softplus",
    "softplus",
    _softplus,
    rules=lambda m: (lambda x, out: _sigmoid(m, x),),  # d/dx log(1 + e^x) = σ(x)
    domain=((-5.0, 5.0),),
    array_forward=lambda np, x: np.logaddexp(0.0, x),
    notation=("1 / (1 + exp(-x))",),
)
POINTS = [-3.0, -0.7, 0.0, 0.4, 2.5]


def softplus(x: Value) -> Value:
    return apply(SOFTPLUS, x)


@pytest.mark.parametrize("x", POINTS)
def test_first_derivative_matches_central_differences(x):
    leaf = Value(x)
    softplus(leaf).backward()
    (estimate,) = numerical_grad(softplus, [x], eps=1e-6)
    assert math.isclose(leaf.grad, estimate, rel_tol=1e-7, abs_tol=1e-9)
    assert gradcheck(softplus, [x])


@pytest.mark.parametrize("x", POINTS)
def test_second_derivative_matches_central_differences(x):
    second = grad(grad(softplus))(x)  # the rule on Values: a graph, differentiated again
    eps = 1e-5
    estimate = (grad(softplus)(x + eps) - grad(softplus)(x - eps)) / (2 * eps)
    assert math.isclose(second, estimate, rel_tol=1e-6, abs_tol=1e-9)
    sigma = 1 / (1 + math.exp(-x))
    assert math.isclose(second, sigma * (1 - sigma), rel_tol=1e-12)


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_the_tape_replays_it(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    w = Value(0.5)
    tape = trace(lambda x: softplus(x * w) * 2.0, [0.3], [w])
    rows = [[x] for x in POINTS]
    batch = tape.run_batch(rows, reduce="sum", backend=backend)
    w.grad = 0.0
    for row, output, input_grads in zip(rows, batch.outputs, batch.input_grads):
        x = Value(row[0])
        out = softplus(x * w) * 2.0
        out.backward()  # w.grad adds up over the rows, as reduce="sum" does
        assert math.isclose(float(output[0]), out.data, rel_tol=1e-12)
        assert math.isclose(float(input_grads[0]), x.grad, rel_tol=1e-12)
    assert math.isclose(float(batch.param_grads[0]), w.grad, rel_tol=1e-12)


@pytest.fixture
def softplus_registered(monkeypatch):
    """SOFTPLUS in `OPS` and its PyTorch name in the references: the two documented places."""
    monkeypatch.setitem(OPS, "softplus", SOFTPLUS)
    monkeypatch.setitem(references.TORCH_NAMES, "softplus", "nn.functional.softplus")


def test_the_op_driven_tests_accept_it(softplus_registered):
    test_ops.test_registry_is_well_formed()
    test_ops.test_backward_matches_central_differences("softplus")
    test_ops.test_array_versions_agree_with_the_float_versions("softplus")
    test_ops.test_non_finite_result_from_finite_input_warns_naming_the_op("softplus")
    test_ops.test_each_notation_says_what_its_rule_computes("softplus")
    test_ops.test_every_op_in_the_registry_is_written_as_rules()
    test_create_graph.test_every_op_has_one_graph_grad_per_input("softplus")
    test_create_graph.test_graph_grads_agree_with_float_local_grads("softplus")
    test_create_graph.test_second_derivatives_of_every_op_match_central_differences("softplus")
    for path in sorted(every_path.PATHS):
        every_path.test_every_path_agrees_with_backward_on_edge_values("softplus", path)
    every_path.test_gradcheck_answers_on_edge_values_without_a_bare_error("softplus")
    # numpy has no softplus: the edge values are checked against PyTorch instead (below).
    with pytest.raises(pytest.skip.Exception):
        test_ops.test_edge_values_follow_ieee_like_numpy("softplus")


def test_the_pytorch_tests_accept_it(softplus_registered, torch):
    test_ops.test_every_op_has_a_pytorch_reference()
    test_ops.test_matches_pytorch_float64("softplus")
    test_ops.test_edge_values_gradients_like_pytorch("softplus")
    test_create_graph.test_every_op_up_to_third_order_matches_torch_double_backward(
        "softplus", torch=torch
    )
