"""Optimizers stepped side by side with torch.optim from the same start; schedules; bad input."""

import copy
import json
import math
import random

import pytest

from micrograd import MLP, Value
from micrograd.optim import SGD, Adam, AdamW, ExponentialLR, LambdaLR, LinearLR, StepLR
from tests.references import facts

START = [0.5, -1.5, 2.0, 0.1]


def objective(ps):
    """A non-quadratic loss with cross terms, so every optimizer takes a different path."""
    a, b, c, d = ps
    return (a * b - 1.0) ** 2 + (b + c).tanh() + (c * d).exp() * 0.1 + a**4 * 0.05


def minimise(ps, make, steps, scheduler=None):
    """Take `steps` steps of `make(ps)` (and its `scheduler`) on the objective: ours or torch's."""
    opt = make(ps)
    sched = scheduler(opt) if scheduler else None
    for _ in range(steps):
        opt.zero_grad()
        objective(ps).backward()
        opt.step()
        if sched:
            sched.step()


def run_ours(make, steps, scheduler=None):
    ps = [Value(x) for x in START]
    minimise(ps, make, steps, scheduler)
    return [p.data for p in ps]


def run_torch(torch, make, steps, scheduler=None):
    ps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    minimise(ps, make, steps, scheduler)
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
def test_sgd_matches_torch(kwargs, torch):
    ours = run_ours(lambda ps: SGD(ps, **kwargs), 12)
    theirs = run_torch(torch, lambda ps: torch.optim.SGD(ps, **kwargs), 12)
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)
    assert ours != pytest.approx(START)  # it moved


@pytest.mark.parametrize("kwargs", ADAM_CASES)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_matches_torch(name, kwargs, torch):
    cls = {"Adam": Adam, "AdamW": AdamW}[name]
    ours = run_ours(lambda ps: cls(ps, **kwargs), 15)
    theirs = run_torch(torch, lambda ps: getattr(torch.optim, name)(ps, **kwargs), 15)
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)


def test_adamw_default_decay_differs_from_adam(torch):
    ours = run_ours(lambda ps: AdamW(ps, lr=0.05), 10)
    theirs = run_torch(torch, lambda ps: torch.optim.AdamW(ps, lr=0.05), 10)
    assert ours == pytest.approx(theirs, rel=1e-10)
    assert ours != pytest.approx(run_ours(lambda ps: Adam(ps, lr=0.05), 10), rel=1e-6)


def test_lambda_lr_matches_torch(torch):

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


def test_linear_lr_matches_torch(torch):
    ours = run_ours(lambda ps: SGD(ps, lr=0.1), 8, lambda o: LinearLR(o, 1.0, 0.1, 5))
    theirs = run_torch(
        torch,
        lambda ps: torch.optim.SGD(ps, lr=0.1),
        8,
        lambda o: torch.optim.lr_scheduler.LinearLR(o, 1.0, 0.1, 5),
    )
    assert ours == pytest.approx(theirs, rel=1e-10)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda o: StepLR(o, 3), lambda t, o: t.optim.lr_scheduler.StepLR(o, 3)),
        (lambda o: StepLR(o, 2, 0.5), lambda t, o: t.optim.lr_scheduler.StepLR(o, 2, 0.5)),
        (lambda o: ExponentialLR(o, 0.8), lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, 0.8)),
    ],
)
def test_step_and_exponential_schedules_match_torch(ours, theirs, torch):
    follow_torch_schedule(torch, ours, theirs, groups=False, n=9)


def test_step_lr_holds_the_rate_for_step_size_steps():
    opt = SGD([Value(1.0)], lr=1.0)
    sched = StepLR(opt, step_size=3, gamma=0.5)
    seen = []
    for _ in range(7):
        seen.append(opt.lr)
        sched.step()
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_exponential_lr_multiplies_every_step_and_resumes():
    opt = SGD([Value(1.0)], lr=2.0)
    sched = ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        sched.step()
    assert sched.get_last_lr() == [0.25]
    other = ExponentialLR(SGD([Value(1.0)], lr=2.0), gamma=0.5)
    other.load_state_dict(sched.state_dict())
    assert other.get_last_lr() == [0.25]


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
        (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "lr .*received float: -0.1"),
        (lambda: SGD([Value(1.0)], lr=math.nan), ValueError, "lr .*finite.*nan"),
        (lambda: SGD([Value(1.0)], lr="0.1"), TypeError, "lr must be a finite number"),
        (lambda: SGD([1.0], lr=0.1), TypeError, r"params\[0\] must be a Value"),
        (lambda: SGD(Value(1.0), lr=0.1), TypeError, "not one Value"),
        (lambda: SGD(5, lr=0.1), TypeError, "iterable of Values"),
        (lambda: SGD([Value(1.0) * 2], lr=0.1), ValueError, r"made by an op \(mul\)"),
        (lambda: SGD([Value(1.0)], lr=0.1, betas=(0.9, 0.9)), TypeError, "betas"),
        (
            lambda: SGD([{"params": [Value(1.0)], "betas": (0.9, 0.9)}], lr=0.1),
            ValueError,
            r"param group 0: unknown hyperparameters \['betas'\]",
        ),
        (
            lambda: SGD([{"params": [Value(1.0)]}, {"params": [], "lr": 0.1}]),
            ValueError,
            "param group 1 has an empty parameter list",
        ),
        (
            lambda: Adam([{"params": [Value(1.0)], "lr": -1.0}]),
            ValueError,
            "param group 0: lr .*-1.0",
        ),
        (lambda: SGD([Value(1.0)] * 2, lr=0.1), ValueError, "more than once"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=-1), ValueError, "momentum .*-1"),
        (lambda: SGD([Value(1.0)], lr=0.1, nesterov=True), ValueError, "Nesterov"),
        (lambda: Adam([Value(1.0)], betas=(1.0, 0.9)), ValueError, "beta1"),
        (lambda: Adam([Value(1.0)], betas=(0.9,)), ValueError, "pair"),
        (lambda: AdamW([Value(1.0)], eps=-1), ValueError, "eps .*-1"),
        (lambda: LambdaLR(SGD([Value(1.0)], lr=1.0), lambda k: -1.0), ValueError, "step 0"),
        (lambda: LinearLR(SGD([Value(1.0)], lr=1.0), total_iters=0), ValueError, "total_iters"),
        (lambda: StepLR(SGD([Value(1.0)], lr=1.0), step_size=0), ValueError, "step_size.*0"),
        (lambda: StepLR(SGD([Value(1.0)], lr=1.0), 2, gamma="x"), TypeError, "gamma.*str"),
        (lambda: ExponentialLR(SGD([Value(1.0)], lr=1.0), gamma=-0.5), ValueError, "gamma.*-0.5"),
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


def test_a_grad_with_a_graph_steps_like_torch(torch):
    x = Value(2.0)
    (x * x * x).backward(create_graph=True)
    SGD([x], lr=0.1).step()
    t = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (t * t * t).backward(create_graph=True)
    torch.optim.SGD([t], lr=0.1).step()
    assert type(x.data) is float
    assert x.data == pytest.approx(t.item(), rel=1e-12, abs=0)


def test_adam_refuses_zero_eps_instead_of_dividing_by_zero():
    with pytest.raises(ValueError, match=facts("eps", "0.0", "> 0")):
        Adam([Value(1.0)], eps=0.0)
    # The smallest positive eps is accepted, and a zero gradient then gives a zero step.
    p = Value(1.0)
    Adam([p], eps=5e-324).step()
    assert p.data == 1.0


@pytest.mark.parametrize("returned", ["0.5", None, [1.0], True])
def test_lr_lambda_returning_a_non_number_is_named(returned):
    with pytest.raises(TypeError, match=r"lr_lambda\(0\).* must be a number.*received"):
        LambdaLR(SGD([Value(1.0)], lr=1.0), lambda k: returned)


# PyTorch habits: param_groups, state_dict / load_state_dict, get_last_lr, frozen parameters.

MAKERS = {
    "SGD momentum": lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "SGD dampening": lambda ps: SGD(ps, lr=0.05, momentum=0.8, dampening=0.2, weight_decay=0.1),
    "Adam": lambda ps: Adam(ps, lr=0.05, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda ps: AdamW(ps, lr=0.05, betas=(0.8, 0.95)),
}


def steps(ps, opt, n):
    for _ in range(n):
        opt.zero_grad()
        objective(ps).backward()
        opt.step()


@pytest.mark.parametrize("through_json", [False, True])
@pytest.mark.parametrize("name", list(MAKERS))
def test_state_dict_continues_a_run_exactly(name, through_json):
    straight = [Value(x) for x in START]
    steps(straight, MAKERS[name](straight), 40)

    ps = [Value(x) for x in START]
    first = MAKERS[name](ps)
    steps(ps, first, 20)
    saved = first.state_dict()
    if through_json:  # int keys become strings, tuples lists: both load
        saved = json.loads(json.dumps(saved))
    resumed = MAKERS[name]([Value(0.0) for _ in START])  # built fresh, then loaded
    resumed.param_groups[0]["lr"] = 123.0  # overwritten by the load, as in PyTorch
    resumed.load_state_dict(saved)
    ps_resumed = resumed.params
    for p, q in zip(ps_resumed, ps):
        p.data = q.data
    steps(ps_resumed, resumed, 20)
    assert [p.data for p in ps_resumed] == [p.data for p in straight]  # bit for bit


@pytest.mark.parametrize("name", list(MAKERS))
def test_state_dict_has_torchs_layout_and_loads_into_torch(name, torch):
    ps = [Value(x) for x in START]
    opt = MAKERS[name](ps)
    steps(ps, opt, 3)
    ours = opt.state_dict()
    tps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    torch_name = name.split()[0]
    kwargs = {k: v for k, v in ours["param_groups"][0].items() if k != "params"}
    topt = getattr(torch.optim, torch_name)(tps, **kwargs)
    for _ in range(3):
        topt.zero_grad()
        objective(tps).backward()
        topt.step()
    theirs = topt.state_dict()
    assert sorted(ours) == sorted(theirs) == ["param_groups", "state"]
    assert sorted(ours["state"]) == sorted(theirs["state"]) == [0, 1, 2, 3]
    for i in range(4):
        assert sorted(ours["state"][i]) == sorted(theirs["state"][i])
        for key, value in ours["state"][i].items():
            assert value == pytest.approx(theirs["state"][i][key].item(), rel=1e-10)
    group, their_group = ours["param_groups"][0], theirs["param_groups"][0]
    assert group["params"] == their_group["params"] == [0, 1, 2, 3]
    assert {k: v for k, v in group.items()} == {k: their_group[k] for k in group}


def test_state_dict_is_a_copy():
    ps = [Value(x) for x in START]
    opt = MAKERS["Adam"](ps)
    steps(ps, opt, 2)
    saved = opt.state_dict()
    before = copy.deepcopy(saved)
    steps(ps, opt, 2)
    assert saved == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda sd: sd.pop("state"), "keys 'state' and 'param_groups'"),
        (lambda sd: sd["param_groups"].append({}), "2 parameter groups; this optimizer has 1"),
        (lambda sd: sd["param_groups"][0]["params"].pop(), "has 3 parameters; this .* has 4"),
        (lambda sd: sd["param_groups"][0].pop("momentum"), r"lacks the hyperparameters \['mom"),
        (lambda sd: sd["param_groups"][0].update(lr=-1.0), "lr .*-1.0"),
        (lambda sd: sd["state"].update({9: {}}), "key 9 is not a parameter index from 0 to 3"),
        (lambda sd: sd["state"][0].update(exp_avg=1.0), r"unknown entries \['exp_avg'\]"),
        (lambda sd: sd["state"][0].update(momentum_buffer="x"), "must be a number"),
    ],
)
def test_load_state_dict_checks_everything_before_writing(change, message):
    ps = [Value(x) for x in START]
    opt = SGD(ps, lr=0.1, momentum=0.9)
    steps(ps, opt, 2)
    saved = opt.state_dict()
    change(saved)
    before = opt.state_dict()
    with pytest.raises((ValueError, TypeError), match=message):
        opt.load_state_dict(saved)
    assert opt.state_dict() == before


def test_writing_lr_in_param_groups_takes_effect_on_the_next_step_as_in_torch(torch):

    def change_lr(opt, k):
        if k == 3:
            opt.param_groups[0]["lr"] = 0.2
            opt.param_groups[0]["momentum"] = 0.5

    def run(ps, opt):
        for k in range(6):
            change_lr(opt, k)
            opt.zero_grad()
            objective(ps).backward()
            opt.step()
        return ps

    ps = [Value(x) for x in START]
    ours = [p.data for p in run(ps, SGD(ps, lr=0.01, momentum=0.9))]
    tps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    theirs = [p.item() for p in run(tps, torch.optim.SGD(tps, lr=0.01, momentum=0.9))]
    assert ours == pytest.approx(theirs, rel=1e-12)
    plain = [Value(x) for x in START]
    steps(plain, SGD(plain, lr=0.01, momentum=0.9), 6)
    assert ours != pytest.approx([p.data for p in plain], rel=1e-6)  # the write mattered


def test_a_bad_value_written_into_param_groups_is_named_at_the_next_step():
    opt = SGD([Value(1.0)], lr=0.1)
    opt.param_groups[0]["lr"] = "fast"
    with pytest.raises(TypeError, match=facts("param group 0", "lr", "'fast'")):
        opt.step()


def test_param_groups_with_their_own_rates_match_torch(torch):
    ps = [Value(x) for x in START]
    opt = Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01, "betas": (0.5, 0.6)}], lr=0.1)
    steps(ps, opt, 10)
    tps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    topt = torch.optim.Adam(
        [{"params": tps[:2]}, {"params": tps[2:], "lr": 0.01, "betas": (0.5, 0.6)}], lr=0.1
    )
    steps(tps, topt, 10)
    assert [p.data for p in ps] == pytest.approx([p.item() for p in tps], rel=1e-10)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    with pytest.raises(AttributeError, match=r"different learning rates \[0.1, 0.01\]"):
        opt.lr  # noqa: B018
    opt.lr = 0.5  # sets every group
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5]


def follow_torch_schedule(torch, ours, theirs, groups, n, rate_rel=1e-12):
    """Step SGD with momentum and a schedule here and in torch (two parameter groups with
    `groups`); the rates agree at every step and the parameters at the end."""
    ps = [Value(x) for x in START]
    tps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    if groups:
        opt = SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
        topt = torch.optim.SGD(
            [{"params": tps[:2]}, {"params": tps[2:], "lr": 0.5}], lr=0.1, momentum=0.9
        )
    else:
        opt = SGD(ps, lr=0.1, momentum=0.9)
        topt = torch.optim.SGD(tps, lr=0.1, momentum=0.9)
    sched, tsched = ours(opt), theirs(torch, topt)
    for _ in range(n):
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=rate_rel)
        steps(ps, opt, 1)
        steps(tps, topt, 1)
        sched.step()
        tsched.step()
    assert [p.data for p in ps] == pytest.approx([p.item() for p in tps], rel=1e-10)


def test_get_last_lr_is_a_list_per_group_as_in_torch(torch):
    follow_torch_schedule(
        torch,
        lambda o: LinearLR(o, 1.0, 0.1, 4),
        lambda t, o: t.optim.lr_scheduler.LinearLR(o, 1.0, 0.1, 4),
        groups=True,
        n=6,
        rate_rel=1e-15,
    )


def test_scheduler_state_dict_resumes_the_schedule():
    opt = SGD([Value(1.0)], lr=1.0)
    sched = LinearLR(opt, 1.0, 0.1, 10)
    for _ in range(4):
        sched.step()
    saved = sched.state_dict()
    other = LinearLR(SGD([Value(1.0)], lr=1.0), 1.0, 0.1, 10)
    other.load_state_dict(saved)
    assert other.get_last_lr() == sched.get_last_lr() == [pytest.approx(1.0 - 0.9 * 4 / 10)]


def test_frozen_parameters_are_left_alone_as_torch_leaves_grad_none():
    model = MLP(2, [3, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    model.layers[0].requires_grad_(False)
    frozen = {id(p): p.data for p in model.layers[0].parameters()}
    model([1.0, -1.0]).backward()
    opt.step()
    assert all(p.data == frozen[id(p)] for p in model.layers[0].parameters())
    assert all(p.grad == 0.0 for p in model.layers[0].parameters())
    assert all(p.grad != 0.0 for p in model.layers[1].parameters()[:1])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_set_to_none_resets_to_zero(set_to_none):
    ps = [Value(x) for x in START]
    opt = SGD(ps, lr=0.1)
    objective(ps).backward()
    opt.zero_grad(set_to_none=set_to_none)
    assert [p.grad for p in ps] == [0.0] * 4
    with pytest.raises(TypeError, match=facts("set_to_none", "True", "False", "NoneType")):
        opt.zero_grad(set_to_none=None)


def test_repr_is_laid_out_as_torchs(torch):
    ps = [Value(x) for x in START]
    ours = repr(Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}], lr=0.1)).splitlines()
    tps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    theirs = repr(torch.optim.Adam([{"params": tps[:2]}, {"params": tps[2:], "lr": 0.5}], lr=0.1))
    # torch shows settings this package lacks (foreach, fused, ...) and blank lines between
    # groups: without those, the lines are the same (torch writes an int 0 where we keep 0.0).
    keys = {"lr", "betas", "eps", "weight_decay", "amsgrad"}
    kept = [
        line.replace(": 0", ": 0.0") if line.endswith(": 0") else line
        for line in theirs.splitlines()
        if line.strip() and (not line.startswith("    ") or line.split(":")[0].strip() in keys)
    ]
    assert ours == kept
    assert ours[0] == "Adam (" and "Parameter Group 1" in ours and "    lr: 0.5" in ours


# --- Rough edges of round two: state and schedules refused by name, never a bare error --------


def _saved(optimizer, state, **group_extra):
    group = {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}
    return {"state": state, "param_groups": [{**group, **group_extra, "params": [0]}]}


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ({0: {"step": 1}}, ["saved state[0]", "lacks", "exp_avg"]),  # was a KeyError at step()
        ({0: {"step": 1, "exp_avg": 10**400, "exp_avg_sq": 0.0}}, ["'exp_avg'", "too large"]),
        ({0: {"step": 1.5, "exp_avg": 0.0, "exp_avg_sq": 0.0}}, ["'step'", "whole count"]),
        (
            {0: {"step": -1, "exp_avg": 0.0, "exp_avg_sq": 0.0}},
            ["saved state[0]['step']", ">= 0", "-1"],
        ),
    ],
)
def test_bad_adam_state_is_refused_before_anything_changes(state, words):
    p = Value(1.0)
    optimizer = Adam([p])
    with pytest.raises((ValueError, TypeError), match=facts(*words)):
        optimizer.load_state_dict(_saved(optimizer, state))
    assert optimizer.state == {}
    p.grad = 1.0
    optimizer.step()  # still usable


def test_a_saved_initial_lr_is_checked_like_the_other_hyperparameters():
    optimizer = SGD([Value(1.0)], lr=0.1)
    with pytest.raises(TypeError, match=facts("initial_lr", "'abc'")):
        optimizer.load_state_dict(_saved(optimizer, {}, initial_lr="abc"))
    with pytest.raises(ValueError, match=facts("initial_lr", "-1.0")):
        optimizer.load_state_dict(_saved(optimizer, {}, initial_lr=-1.0))


def test_a_schedule_that_overflows_is_a_value_error_naming_the_step():
    schedule = ExponentialLR(SGD([Value(1.0)], lr=1.0), gamma=2.0)
    with pytest.raises(ValueError, match=facts("step 1024", "overflows")):
        for _ in range(1100):
            schedule.step()
    with pytest.raises(ValueError, match=facts("step 0", "inf")):
        LambdaLR(SGD([Value(1.0)], lr=1.0), lambda k: 10**400)


def test_amsgrad_keeps_a_nan_second_moment_as_torch_maximum_does(torch):
    # The rule is written once for floats and arrays: its maximum is numpy's and torch's, nan
    # if either side is (Python's max(0.0, nan) would keep 0.0 and forget the nan).
    ours = Value(1.0)
    theirs = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    opt, torch_opt = (
        Adam([ours], lr=0.1, amsgrad=True),
        torch.optim.Adam([theirs], lr=0.1, amsgrad=True),
    )
    for grad in (0.5, math.nan, 0.25):
        ours.grad, theirs.grad = grad, torch.tensor(grad, dtype=torch.float64)
        opt.step()
        torch_opt.step()
        mine, torchs = opt.state[ours], torch_opt.state[theirs]
        assert math.isnan(mine["max_exp_avg_sq"]) == bool(torchs["max_exp_avg_sq"].isnan())
        assert math.isnan(ours.data) == bool(theirs.isnan())
    assert math.isnan(opt.state[ours]["max_exp_avg_sq"])
