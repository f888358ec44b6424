"""Losses against PyTorch float64, central differences, hand-computed cases and bad input."""

import functools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import Value, topological_order
from micrograd.engine import TracingError
from micrograd.gradcheck import gradcheck
from micrograd.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    l2_penalty,
    log_sum_exp,
    mse,
)
from micrograd.tape import trace
from tests.references import examples, facts

finite = st.floats(-5, 5, allow_nan=False)


def values(numbers):
    return [Value(x) for x in numbers]


def test_mse_by_hand():
    preds = values([1.0, 2.0, 4.0])
    loss = mse(preds, [1.0, 0.0, 1.0])
    assert loss.data == pytest.approx((0 + 4 + 9) / 3)
    loss.backward()
    # d/dp mean((p - t)^2) = 2 (p - t) / n
    assert [p.grad for p in preds] == pytest.approx([0.0, 4 / 3, 2.0])
    assert mse(values([1.0, 2.0]), [0.0, 0.0], reduction="sum").data == 5.0
    assert [v.data for v in mse(values([1.0, 2.0]), [0.0, 0.0], reduction="none")] == [1.0, 4.0]


def test_hinge_matches_classic_demo_formula():
    scores = values([2.0, 0.5, -0.3])
    labels = [1, 1, -1]
    loss = hinge(scores, labels)
    expected = sum(max(0.0, 1 - y * s.data) for s, y in zip(scores, labels)) / 3
    assert loss.data == pytest.approx(expected)
    loss.backward()
    # margin met -> no gradient; violated -> -y / n
    assert [s.grad for s in scores] == pytest.approx([0.0, -1 / 3, 1 / 3])


def test_hinge_rejects_zero_one_labels():
    with pytest.raises(ValueError, match=facts("targets[1]", "0.0", "-1", "+1")):
        hinge(values([1.0, 2.0]), [1, 0])


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(st.tuples(finite, st.floats(0, 1)), min_size=1, max_size=5))
def test_bce_with_logits_matches_torch(torch, pairs):
    logits = [x for x, _ in pairs]
    targets = [t for _, t in pairs]
    agrees_with_torch(
        torch,
        binary_cross_entropy_with_logits,
        torch.nn.functional.binary_cross_entropy_with_logits,
        logits,
        targets,
        grad_rel=1e-12,
    )


def agrees_with_torch(torch, ours_loss, torch_loss, inputs, targets, grad_rel):
    """Loss and input gradients against torch float64, with reduction "mean" and "sum"."""
    ours = values(inputs)
    for reduction in ("mean", "sum"):
        for v in ours:
            v.grad = 0.0
        loss = ours_loss(ours, targets, reduction=reduction)
        loss.backward()
        x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
        ref = torch_loss(x, torch.tensor(targets, dtype=torch.float64), reduction=reduction)
        ref.backward()
        assert loss.data == pytest.approx(ref.item(), rel=1e-12, abs=1e-12)
        assert [v.grad for v in ours] == pytest.approx(x.grad.tolist(), rel=grad_rel, abs=1e-12)


@pytest.mark.parametrize("logit", [-1000.0, -40.0, -1e-300, 0.0, 1e-300, 40.0, 1000.0])
@pytest.mark.parametrize("target", [0.0, 0.3, 1.0])
def test_bce_with_logits_is_stable_for_large_logits(logit, target):
    x = Value(logit)
    loss = binary_cross_entropy_with_logits([x], [target])
    loss.backward()
    # Independent reference: softplus(x) - t x, with softplus computed from log1p.
    softplus = max(logit, 0.0) + math.log1p(math.exp(-abs(logit)))

    def sigmoid(z):
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))

    assert math.isfinite(loss.data) and math.isfinite(x.grad)
    # The loss is log(1 + tiny) without a log1p primitive: exact to 1e-15 absolute, not relative.
    assert loss.data == pytest.approx(softplus - target * logit, rel=1e-12, abs=1e-15)
    # sigmoid(x) - t, written so that neither term cancels: (1 - t) sigmoid(x) - t sigmoid(-x)
    grad = (1 - target) * sigmoid(logit) - target * sigmoid(-logit)
    assert x.grad == pytest.approx(grad, rel=1e-12, abs=1e-300)


def test_bce_with_logits_gradient_at_zero_is_sigmoid_not_one_sided():
    x = Value(0.0)
    binary_cross_entropy_with_logits([x], [1.0]).backward()
    assert x.grad == pytest.approx(-0.5)


def test_bce_with_logits_central_differences():
    assert gradcheck(lambda a, b: binary_cross_entropy_with_logits([a, b], [0.2, 0.9]), [0.7, -1.3])


@settings(max_examples=examples(30), deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.lists(
            st.tuples(st.lists(finite, min_size=n, max_size=n), st.integers(0, n - 1)),
            min_size=1,
            max_size=4,
        )
    )
)
def test_cross_entropy_matches_torch(torch, samples):
    rows = [row for row, _ in samples]
    targets = [t for _, t in samples]
    ours = [values(row) for row in rows]
    loss = cross_entropy(ours, targets)
    loss.backward()
    x = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(x, torch.tensor(targets))
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), rel=1e-12, abs=1e-12)
    grads = [[v.grad for v in row] for row in ours]
    for mine, theirs in zip(grads, x.grad.tolist()):
        assert mine == pytest.approx(theirs, rel=1e-10, abs=1e-12)


def test_cross_entropy_large_logits_stay_finite():
    row = values([1000.0, -1000.0, 999.0])
    loss = cross_entropy(row, 2)  # one sample: a row and an int target
    loss.backward()
    # log(e^1000 + e^999) - 999 = 1 + log(1 + e^-1)
    assert loss.data == pytest.approx(1 + math.log1p(math.exp(-1)), rel=1e-12)
    p0 = 1 / (1 + math.exp(-1))
    assert [v.grad for v in row] == pytest.approx([p0, 0.0, (1 - p0) - 1], rel=1e-12)


def test_log_sum_exp_matches_math():
    got = log_sum_exp([1.0, 2.0, 3.0]).data
    assert got == pytest.approx(math.log(math.exp(1) + math.exp(2) + math.exp(3)), rel=1e-14)
    with pytest.warns(RuntimeWarning, match="log"):
        assert log_sum_exp([-math.inf, -math.inf]).data == -math.inf


def test_cross_entropy_central_differences():
    assert gradcheck(lambda a, b, c: cross_entropy([[a, b, c]], [1]), [0.5, -0.2, 1.5])


def test_l2_penalty():
    params = values([1.0, -2.0])
    reg = l2_penalty(params, 0.5)
    assert reg.data == 2.5
    reg.backward()
    assert [p.grad for p in params] == [1.0, -2.0]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: mse(values([1.0, 2.0]), [1.0]), ValueError, "2 predictions but 1 targets"),
        (lambda: mse([], []), ValueError, "no predictions"),
        (lambda: mse(values([1.0]), [1.0], reduction="avg"), ValueError, "reduction must be"),
        (lambda: mse(values([1.0]), ["1"]), TypeError, r"targets\[0\] must be a number"),
        (lambda: mse(["a"], [1.0]), TypeError, r"predictions\[0\] must be a Value"),
        (lambda: binary_cross_entropy_with_logits([0.0], [2.0]), ValueError, r"in \[0, 1\]"),
        (lambda: cross_entropy([[1.0, 2.0]], [2]), ValueError, "class 2, out of range for 2"),
        (lambda: cross_entropy([[1.0, 2.0]], [-1]), ValueError, "out of range"),
        (lambda: cross_entropy([[1.0, 2.0]], [0, 1]), ValueError, "1 rows of logits but 2"),
        (lambda: cross_entropy([[1.0, 2.0]], [0.5]), TypeError, "int class index"),
        (lambda: cross_entropy([1.0, 2.0], [0, 1]), TypeError, "sequence of class scores"),
        (lambda: l2_penalty([]), ValueError, "no parameters"),
    ],
)
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_hinge_skips_satisfied_margins_without_changing_any_number():
    scores = values([3.0, 0.25, -2.0, 1.0, -0.5])
    labels = [1, 1, -1, 1, 1]
    loss = hinge(scores, labels)
    loss.backward()
    # The sum of all terms, zeros included, written out independently.
    terms = [(1 + -y * s.data) if 1 + -y * s.data > 0 else 0.0 for s, y in zip(scores, labels)]
    assert loss.data == sum(terms) * (1 / 5)
    assert [s.grad for s in scores] == [0.0, -0.2, 0.0, 0.0, -0.2]
    all_met = values([2.0, -3.0])
    zero = hinge(all_met, [1, -1], reduction="sum")
    zero.backward()  # still a graph: the gradient is zero, not an error
    assert zero.data == 0.0 and [s.grad for s in all_met] == [0.0, 0.0]
    nan = hinge(values([float("nan"), 5.0]), [1, 1])
    assert nan.data != nan.data
    # prune=False keeps every sample in the graph (for recording a graph to replay): same numbers.
    again = values([3.0, 0.25, -2.0, 1.0, -0.5])
    full = hinge(again, labels, prune=False)
    full.backward()
    assert full.data == loss.data and [s.grad for s in again] == [s.grad for s in scores]
    assert len(topological_order(full)) > len(topological_order(loss))


def test_hinge_matches_torch_hinge_form(torch):
    data = [0.3, -1.7, 2.5, 0.9, -0.1]
    labels = [1, 1, -1, -1, 1]
    ours = values(data)
    loss = hinge(ours, labels)
    loss.backward()
    x = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    ref = torch.relu(1 - torch.tensor(labels, dtype=torch.float64) * x).mean()
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), rel=1e-15)
    assert [v.grad for v in ours] == pytest.approx(x.grad.tolist(), rel=1e-15)


# Tracing: what a tape would freeze is refused, or (log_sum_exp's shift) frozen harmlessly.


def test_value_targets_are_refused_while_tracing():
    for loss in (mse, functools.partial(hinge, prune=False)):
        with pytest.raises(TracingError, match=r"targets\[0\] is Value"):
            trace(lambda s, y, loss=loss: loss([s], [y]), [0.5, 1.0])
    # Outside tracing a Value target is read as its number, as before.
    assert mse([Value(2.0)], [Value(0.5)]).data == 2.25


def test_hinge_with_pruning_is_refused_while_tracing():
    with pytest.raises(TracingError, match="prune=False"):
        trace(lambda a, b: hinge([a, b], [1.0, -1.0]), [0.5, 2.0])
    tape = trace(lambda a, b: hinge([a, b], [1.0, -1.0], prune=False), [0.5, 2.0])
    # Traced where the first sample is inside the margin, replayed where only the second is:
    # without pruning the tape keeps both and follows the eager loss.
    a, b = Value(3.0), Value(0.5)
    eager = hinge([a, b], [1.0, -1.0])
    eager.backward()
    assert tape.run([3.0, 0.5]) == ([eager.data], [a.grad, b.grad], [])
    assert eager.data == 0.75 and (a.grad, b.grad) == (0.0, 0.5)


def test_bce_with_logits_is_refused_while_tracing():
    with pytest.raises(TracingError, match="sign of each logit"):
        trace(lambda x: binary_cross_entropy_with_logits([x], [1.0]), [0.5])


def test_log_sum_exp_traces_with_a_frozen_shift():
    tape = trace(lambda a, b, c: log_sum_exp([a, b, c]), [0.0, 1.0, 2.0])
    assert "= 2.0" in str(tape)  # the shift, a constant of the tape
    for row in ([0.0, 1.0, 2.0], [5.0, -3.0, 30.0], [-50.0, -40.0, -45.0]):
        xs = values(row)
        eager = log_sum_exp(xs)
        eager.backward()
        replay = tape.run(row)
        assert replay.outputs[0] == pytest.approx(eager.data, rel=1e-12)
        assert replay.input_grads == pytest.approx([x.grad for x in xs], rel=1e-12, abs=1e-300)
    # The frozen shift overflows once a logit exceeds it by more than about 709.
    with pytest.warns(RuntimeWarning, match="exp"):
        assert tape.run([0.0, 0.0, 800.0]).outputs[0] == math.inf


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        (3, TypeError, "sequence of Values or numbers, received int: 3"),
        ("ab", TypeError, "received str: 'ab'"),
        ({1.0, 2.0}, TypeError, "received set"),
        ([], ValueError, "empty sequence; expected at least one"),
        ([1.0, "2"], TypeError, r"values\[1\] must be a Value or a number, received str"),
    ],
)
def test_log_sum_exp_bad_input_is_named_by_kind(values, error, message):
    with pytest.raises(error, match=message):
        log_sum_exp(values)


# binary_cross_entropy takes probabilities, as torch.nn.functional.binary_cross_entropy does.


def test_bce_takes_a_probability_as_pytorch_does():
    # The example: 0.9 read as a probability gives -log(0.9), not softplus(-0.9).
    p = Value(0.9)
    loss = binary_cross_entropy([p], [1.0])
    loss.backward()
    assert loss.data == pytest.approx(-math.log(0.9), rel=1e-15)
    assert p.grad == pytest.approx(-1 / 0.9, rel=1e-15)
    assert binary_cross_entropy_with_logits([0.9], [1.0]).data == pytest.approx(
        math.log1p(math.exp(-0.9)), rel=1e-15
    )


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(st.tuples(st.floats(1e-6, 1 - 1e-6), st.floats(0, 1)), min_size=1, max_size=5))
def test_bce_matches_torch(torch, pairs):
    probs = [p for p, _ in pairs]
    targets = [t for _, t in pairs]
    agrees_with_torch(
        torch,
        binary_cross_entropy,
        torch.nn.functional.binary_cross_entropy,
        probs,
        targets,
        grad_rel=1e-9,
    )


@pytest.mark.parametrize("p", [0.0, 1.0, 1e-50])
@pytest.mark.parametrize("t", [0.0, 0.4, 1.0])
def test_bce_clamps_its_logs_at_minus_100_as_pytorch(p, t, torch):
    loss = binary_cross_entropy([p], [t])
    log_p = max(math.log(p), -100.0) if p > 0 else -100.0
    log_q = math.log1p(-p) if p < 1 else -100.0
    assert loss.data == pytest.approx(-(t * log_p + (1 - t) * log_q), rel=1e-15)
    ref = torch.nn.functional.binary_cross_entropy(
        torch.tensor([p], dtype=torch.float64), torch.tensor([t], dtype=torch.float64)
    )
    assert loss.data == pytest.approx(ref.item(), rel=1e-12)


def test_bce_central_differences():
    assert gradcheck(lambda a, b: binary_cross_entropy([a, b], [0.2, 0.9]), [0.7, 0.05])


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan])
def test_bce_refuses_a_number_outside_0_1_and_points_to_logits(p):
    with pytest.raises(ValueError, match=facts("predictions[0]", "[0, 1]", "with_logits")):
        binary_cross_entropy([Value(p)], [1.0])


def test_bce_is_refused_while_tracing():
    with pytest.raises(TracingError, match="clamps each log"):
        trace(lambda x: binary_cross_entropy([x], [1.0]), [0.5])


def test_numpy_rows_work_in_losses_as_lists_do():
    np = pytest.importorskip("numpy")
    from micrograd.losses import cross_entropy, log_sum_exp, mse

    assert mse(np.array([1.0, 2.0]), np.array([1.0, 3.0])).data == mse([1.0, 2.0], [1.0, 3.0]).data
    logits = [[1.0, 2.0, 0.5], [0.0, 1.0, -1.0]]
    want = cross_entropy(logits, [1, 0]).data
    assert cross_entropy(np.array(logits), np.array([1, 0])).data == want
    assert cross_entropy([np.array(row) for row in logits], [1, 0]).data == want
    assert cross_entropy(np.array(logits[0]), np.int64(1)).data == cross_entropy(logits[0], 1).data
    assert log_sum_exp(np.array([1.0, 2.0])).data == log_sum_exp([1.0, 2.0]).data
    with pytest.raises(TypeError, match="3-D"):
        cross_entropy(np.zeros((1, 2, 2)), [0])
