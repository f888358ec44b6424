"""Optimizers stepped side by side with torch.optim from the same start; schedules; bad input."""

import math
import random

import pytest

from micrograd import MLP, Value
from micrograd.optim import SGD, Adam, AdamW, LambdaLR, LinearLR

START = [0.5, -1.5, 2.0, 0.1]


def objective(ps):
    """A non-quadratic loss with cross terms, so every optimizer takes a different path."""
    a, b, c, d = ps
    return (a * b - 1.0) ** 2 + (b + c).tanh() + (c * d).exp() * 0.1 + a**4 * 0.05


def run_ours(make, steps, scheduler=None):
    ps = [Value(x) for x in START]
    opt = make(ps)
    sched = scheduler(opt) if scheduler else None
    for _ in range(steps):
        opt.zero_grad()
        objective(ps).backward()
        opt.step()
        if sched:
            sched.step()
    return [p.data for p in ps]


def run_torch(torch, make, steps, scheduler=None):
    ps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    opt = make(ps)
    sched = scheduler(opt) if scheduler else None
    for _ in range(steps):
        opt.zero_grad()
        objective(ps).backward()
        opt.step()
        if sched:
            sched.step()
    return [p.item() for p in ps]


SGD_CASES = [
    {"lr": 0.05},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
]
ADAM_CASES = [
    {"lr": 0.05},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True},
]


@pytest.mark.parametrize("kwargs", SGD_CASES)
def test_sgd_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: SGD(ps, **kwargs), 12)
    theirs = run_torch(torch, lambda ps: torch.optim.SGD(ps, **kwargs), 12)
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)
    assert ours != pytest.approx(START)  # it moved


@pytest.mark.parametrize("kwargs", ADAM_CASES)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    cls = {"Adam": Adam, "AdamW": AdamW}[name]
    ours = run_ours(lambda ps: cls(ps, **kwargs), 15)
    theirs = run_torch(torch, lambda ps: getattr(torch.optim, name)(ps, **kwargs), 15)
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)


def test_adamw_default_decay_differs_from_adam():
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: AdamW(ps, lr=0.05), 10)
    theirs = run_torch(torch, lambda ps: torch.optim.AdamW(ps, lr=0.05), 10)
    assert ours == pytest.approx(theirs, rel=1e-10)
    assert ours != pytest.approx(run_ours(lambda ps: Adam(ps, lr=0.05), 10), rel=1e-6)


def test_lambda_lr_matches_torch():
    torch = pytest.importorskip("torch")

    def decay(k):
        return 1.0 - 0.9 * k / 10

    ours = run_ours(lambda ps: SGD(ps, lr=0.1, momentum=0.5), 10, lambda o: LambdaLR(o, decay))
    theirs = run_torch(
        torch,
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5),
        10,
        lambda o: torch.optim.lr_scheduler.LambdaLR(o, decay),
    )
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_linear_lr_is_the_demo_schedule():
    opt = SGD([Value(1.0)], lr=1.0)
    sched = LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100)
    seen = []
    for _ in range(100):
        seen.append(opt.lr)
        sched.step()
    assert seen == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)], rel=1e-15)
    assert opt.lr == pytest.approx(0.1)
    sched.step()
    assert opt.lr == pytest.approx(0.1)  # holds the end factor


def test_linear_lr_matches_torch():
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: SGD(ps, lr=0.1), 8, lambda o: LinearLR(o, 1.0, 0.1, 5))
    theirs = run_torch(
        torch,
        lambda ps: torch.optim.SGD(ps, lr=0.1),
        8,
        lambda o: torch.optim.lr_scheduler.LinearLR(o, 1.0, 0.1, 5),
    )
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_plain_sgd_is_the_textbook_update():
    p = Value(3.0)
    opt = SGD([p], lr=0.1)
    (p * p).backward()
    opt.step()
    assert p.data == pytest.approx(3.0 - 0.1 * 6.0)


def test_state_lives_in_the_optimizer_and_zero_grad_clears():
    model = MLP(2, [3, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    model([1.0, -1.0]).backward()
    opt.step()
    assert set(opt.state) == set(model.parameters())
    assert all("momentum_buffer" in s for s in opt.state.values())
    assert not hasattr(model.parameters()[0], "__dict__")  # Values have slots: nothing stored
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_adam_converges_on_a_quadratic():
    rng = random.Random(0)
    ps = [Value(rng.uniform(-3, 3)) for _ in range(3)]
    opt = Adam(ps, lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        sum((p - 1.0) ** 2 for p in ps).backward()
        opt.step()
    assert [p.data for p in ps] == pytest.approx([1.0] * 3, abs=1e-3)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: SGD(iter([]), lr=0.1), ValueError, "empty parameter list"),
        (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "invalid learning rate: -0.1"),
        (lambda: SGD([Value(1.0)], lr=math.nan), ValueError, "invalid learning rate"),
        (lambda: SGD([Value(1.0)], lr="0.1"), TypeError, "learning rate must be a number"),
        (lambda: SGD([1.0], lr=0.1), TypeError, r"params\[0\] must be a Value"),
        (lambda: SGD(Value(1.0), lr=0.1), TypeError, "not one Value"),
        (lambda: SGD(5, lr=0.1), TypeError, "iterable of Values"),
        (
            lambda: SGD([Value(1.0, requires_grad=False)], lr=0.1),
            ValueError,
            "does not require grad",
        ),
        (lambda: SGD([Value(1.0)] * 2, lr=0.1), ValueError, "more than once"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=-1), ValueError, "invalid momentum"),
        (lambda: SGD([Value(1.0)], lr=0.1, nesterov=True), ValueError, "Nesterov"),
        (lambda: Adam([Value(1.0)], betas=(1.0, 0.9)), ValueError, "beta1"),
        (lambda: Adam([Value(1.0)], betas=(0.9,)), ValueError, "pair"),
        (lambda: AdamW([Value(1.0)], eps=-1), ValueError, "invalid eps"),
        (lambda: LambdaLR(SGD([Value(1.0)], lr=1.0), lambda k: -1.0), ValueError, "step 0"),
        (lambda: LinearLR(SGD([Value(1.0)], lr=1.0), total_iters=0), ValueError, "total_iters"),
    ],
)
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1),
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda ps: Adam(ps, lr=0.1, weight_decay=0.1),
        lambda ps: AdamW(ps, lr=0.1, amsgrad=True),
    ],
)
def test_a_grad_with_a_graph_steps_by_its_number(make):
    # After backward(create_graph=True) the grads are Values; the step must use their numbers
    # and leave the parameters plain floats, exactly as a float grad would.
    graphed, plain = [Value(x) for x in START], [Value(x) for x in START]
    opt_graphed, opt_plain = make(graphed), make(plain)
    for _ in range(3):
        opt_graphed.zero_grad()
        opt_plain.zero_grad()
        objective(graphed).backward(create_graph=True)
        objective(plain).backward()
        assert all(isinstance(p.grad, Value) for p in graphed)
        opt_graphed.step()
        opt_plain.step()
    assert all(type(p.data) is float for p in graphed)
    assert [p.data for p in graphed] == [p.data for p in plain]


def test_a_grad_with_a_graph_steps_like_torch():
    torch = pytest.importorskip("torch")
    x = Value(2.0)
    (x * x * x).backward(create_graph=True)
    SGD([x], lr=0.1).step()
    t = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (t * t * t).backward(create_graph=True)
    torch.optim.SGD([t], lr=0.1).step()
    assert type(x.data) is float
    assert x.data == pytest.approx(t.item(), rel=1e-12, abs=0)


def test_adam_refuses_zero_eps_instead_of_dividing_by_zero():
    with pytest.raises(ValueError, match=r"invalid eps: 0\.0; expected a number > 0"):
        Adam([Value(1.0)], eps=0.0)
    # The smallest positive eps is accepted, and a zero gradient then gives a zero step.
    p = Value(1.0)
    Adam([p], eps=5e-324).step()
    assert p.data == 1.0


@pytest.mark.parametrize("returned", ["0.5", None, [1.0], True])
def test_lr_lambda_returning_a_non_number_is_named(returned):
    with pytest.raises(TypeError, match=r"lr_lambda\(0\) must return a number.*received"):
        LambdaLR(SGD([Value(1.0)], lr=1.0), lambda k: returned)
