"""micrograd.clip_grad: clipping by norm and by value, against PyTorch float64."""

from __future__ import annotations

import math
import random

import pytest

from micrograd import MLP, Value, clip_grad_norm_, clip_grad_value_
from tests.references import facts, needs_torch, same


def params_with(grads: list[float]) -> list[Value]:
    params = [Value(0.0) for _ in grads]
    for p, g in zip(params, grads):
        p.grad = g
    return params


def torch_norm_clip(grads, max_norm, norm_type, error_if_nonfinite=False):
    import torch

    tensors = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type, error_if_nonfinite)
    return total.item(), [t.grad.item() for t in tensors]


GRAD_SETS = [
    [3.0, 4.0],
    [0.1, -0.2, 0.05],
    [0.0, 0.0],
    [1e100, 1e100, -3.0],
    [math.inf, 1.0],
    [math.nan, 1.0],
    [-math.inf, math.inf],
]


@needs_torch
@pytest.mark.parametrize("grads", GRAD_SETS, ids=str)
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize("max_norm", [1.0, 0.0, 1e6])
def test_clip_grad_norm_is_torchs(grads, norm_type, max_norm):
    params = params_with(grads)
    total = clip_grad_norm_(params, max_norm, norm_type)
    torch_total, torch_grads = torch_norm_clip(grads, max_norm, norm_type)
    assert same(total, torch_total, rel=1e-12), (total, torch_total)
    for p, want in zip(params, torch_grads):
        assert same(p.grad, want, rel=1e-12), (p.grad, want)


@needs_torch
def test_clip_grad_norm_on_random_models_matches_torch():
    rng = random.Random(0)
    for _ in range(20):
        grads = [rng.gauss(0, rng.choice([0.01, 1.0, 100.0])) for _ in range(rng.randint(1, 30))]
        norm_type = rng.choice([1.0, 2.0, 2.5, math.inf])
        params = params_with(grads)
        total = clip_grad_norm_(params, 1.0, norm_type)
        torch_total, torch_grads = torch_norm_clip(grads, 1.0, norm_type)
        assert same(total, torch_total, rel=1e-12)
        assert all(same(p.grad, g, rel=1e-12) for p, g in zip(params, torch_grads))


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_the_norm_neither_overflows_nor_underflows(scale):
    # PyTorch float64 sums the powers as they are: inf for these large gradients (which then
    # zeroes them all) and 0 for the small ones (left unclipped). Scaled by the largest first,
    # the norm here is the true one.
    for norm_type, norm in ((2.0, math.sqrt(5.0)), (3.0, 9.0 ** (1 / 3)), (1.0, 3.0)):
        params = params_with([scale, -2.0 * scale])
        total = clip_grad_norm_(params, 1.0, norm_type)
        assert total == pytest.approx(norm * scale, rel=1e-14)
        if scale > 1:
            assert [p.grad for p in params] == pytest.approx([1 / norm, -2 / norm], rel=1e-12)


def test_a_nonfinite_norm_can_be_an_error_that_leaves_the_grads():
    params = params_with([math.nan, 1.0])
    with pytest.raises(RuntimeError, match=facts("nan", "error_if_nonfinite")):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isnan(params[0].grad) and params[1].grad == 1.0


@needs_torch
@pytest.mark.parametrize("clip_value", [0.0, 0.5, 10.0])
def test_clip_grad_value_is_torchs(clip_value):
    import torch

    grads = [-3.0, -0.5, 0.0, -0.0, 0.25, 0.5, 7.0, math.inf, -math.inf, math.nan]
    params = params_with(grads)
    assert clip_grad_value_(params, clip_value) is None
    tensors = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    torch.nn.utils.clip_grad_value_(tensors, clip_value)
    for p, t in zip(params, tensors):
        assert same(p.grad, t.grad.item()), (p.grad, t.grad.item())


def test_clipping_a_model_before_the_step():
    model = MLP(2, [4, 1], seed=0)
    out = model([10.0, -20.0])
    (out * 100.0).backward()
    total = clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert total > 1.0
    clipped = math.sqrt(math.fsum(p.grad**2 for p in model.parameters()))
    assert clipped == pytest.approx(1.0, rel=1e-5)
    clip_grad_value_(model.parameters(), 0.1)
    assert max(abs(p.grad) for p in model.parameters()) <= 0.1
    single = Value(0.0)
    single.grad = 5.0
    assert clip_grad_norm_(single, 1.0) == 5.0 and single.grad == pytest.approx(
        1.0 / (5 + 1e-6) * 5
    )


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: clip_grad_norm_([1.0], 1.0), ["Values", "float"]),
        (lambda: clip_grad_norm_([Value(1.0)], -1.0), ["max_norm", ">= 0", "-1.0"]),
        (lambda: clip_grad_norm_([Value(1.0)], math.nan), ["max_norm", "nan"]),
        (lambda: clip_grad_norm_([Value(1.0)], 1.0, norm_type=0), ["norm_type", "> 0"]),
        (lambda: clip_grad_value_([Value(1.0)], "1"), ["clip_value", "'1'"]),
    ],
)
def test_bad_arguments_are_named(call, words):
    with pytest.raises((TypeError, ValueError), match=facts(*words)):
        call()
