"""Optimizers stepping a tape's batch result: the eager optimizers' numbers, PyTorch's, in place.

`opt.step(result)` takes the `BatchResult` of `tape.run_batch` and updates the parameters in
numpy; these tests step it beside the eager `step()` given the same gradients (bit for bit),
beside the eager loop (to rounding), and beside torch.optim in float64 (skipped without torch).
"""

import json

import pytest

from micrograd import MLP, Value, trace
from micrograd.losses import l2_penalty
from micrograd.optim import SGD, Adam, AdamW, ExponentialLR, LinearLR, StepLR

np = pytest.importorskip("numpy")

CASES = [
    (SGD, {"lr": 0.3}),
    (SGD, {"lr": 0.3, "momentum": 0.9}),
    (SGD, {"lr": 0.3, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    (SGD, {"lr": 0.3, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (Adam, {"lr": 0.02}),
    (Adam, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    (Adam, {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True}),
    (AdamW, {"lr": 0.02}),
    (AdamW, {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True}),
]
IDS = [f"{cls.__name__}-{'-'.join(kwargs)}" for cls, kwargs in CASES]
ALPHA = 1e-3


def moons_rows(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 2))
    y = np.where(x[:, 0] * x[:, 1] > 0, 1.0, -1.0)
    return np.column_stack([x, y])


def loss_tape(model):
    """Hinge per sample and the L2 penalty, one tape: the loop of docs/guide/speed.md."""
    params = model.parameters()
    return trace(
        lambda x0, x1, y: [(1 - y * model([x0, x1])).relu(), l2_penalty(params, ALPHA)], 3, params
    )


def weights(model):
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=IDS)
def test_a_tape_step_is_the_eager_step_given_the_same_gradients_bit_for_bit(cls, kwargs):
    rows = moons_rows()
    ours, twin = MLP(2, [5, 4, 1], seed=1), MLP(2, [5, 4, 1], seed=1)
    opt, eager = cls(ours.parameters(), **kwargs), cls(twin.parameters(), **kwargs)
    schedules = [LinearLR(o, 1.0, 0.1, total_iters=10) for o in (opt, eager)]
    tape = loss_tape(ours)
    for _ in range(15):
        result = tape.run_batch(rows, reduce="mean", input_grads=False)
        opt.step(result)
        eager.zero_grad()
        for p, g in zip(twin.parameters(), result.param_grads.tolist()):
            p.grad = g
        eager.step()
        for schedule in schedules:
            schedule.step()
    assert weights(ours) == weights(twin)
    assert opt.state_dict() == eager.state_dict()
    assert weights(ours) != weights(MLP(2, [5, 4, 1], seed=1))  # it trained


@pytest.mark.parametrize(("cls", "kwargs"), CASES, ids=IDS)
def test_the_tape_loop_follows_the_eager_loop_and_torch_float64(cls, kwargs, torch):
    rows = moons_rows()
    model, twin = MLP(2, [5, 4, 1], seed=2), MLP(2, [5, 4, 1], seed=2)
    opt, eager = cls(model.parameters(), **kwargs), cls(twin.parameters(), **kwargs)
    schedules = [StepLR(opt, 4, 0.5), StepLR(eager, 4, 0.5)]
    tape = loss_tape(model)
    points = [[Value(a, requires_grad=False), Value(b, requires_grad=False)] for a, b, _ in rows]
    for _ in range(12):
        opt.step(tape.run_batch(rows, reduce="mean", input_grads=False))
        eager.zero_grad()
        hinge = [(1 - y * twin(x)).relu() for x, y in zip(points, rows[:, 2].tolist())]
        (sum(hinge) * (1 / len(hinge)) + l2_penalty(twin.parameters(), ALPHA)).backward()
        eager.step()
        for schedule in schedules:
            schedule.step()
    assert weights(model) == pytest.approx(weights(twin), rel=1e-10, abs=1e-12)

    net = MLP(2, [5, 4, 1], seed=2).to_torch()
    torch_opt = getattr(torch.optim, cls.__name__)(net.parameters(), **kwargs)
    torch_schedule = torch.optim.lr_scheduler.StepLR(torch_opt, 4, 0.5)
    x, y = torch.tensor(rows[:, :2]), torch.tensor(rows[:, 2])
    for _ in range(12):
        torch_opt.zero_grad()
        l2 = sum((p * p).sum() for p in net.parameters())
        (torch.relu(1 - y * net(x).flatten()).mean() + ALPHA * l2).backward()
        torch_opt.step()
        torch_schedule.step()
    theirs = MLP.from_torch(net)
    assert weights(model) == pytest.approx(weights(theirs), rel=1e-10, abs=1e-12)


@pytest.mark.torch  # all but its last check runs without PyTorch too
def test_the_model_holds_the_trained_weights_for_eager_calls_save_torch_and_a_second_tape(
    tmp_path,
):
    rows = moons_rows()
    model = MLP(2, [6, 1], seed=3)
    opt = Adam(model.parameters(), lr=0.05)
    tape = loss_tape(model)
    for _ in range(20):
        result = tape.run_batch(rows, reduce="mean", input_grads=False)
        opt.step(result)
    after = tape.run_batch(rows, reduce="mean", input_grads=False)
    # A replay reads the Values: it sees the last step, which the result it returned did not.
    assert after.param_values.tolist() == weights(model) != result.param_values.tolist()
    scores = trace(lambda a, b: model([a, b]), 2, model.parameters())  # a second tape
    eager = [model([a, b]).data for a, b, _ in rows.tolist()]
    assert scores.run_batch(rows[:, :2]).outputs[:, 0].tolist() == pytest.approx(eager, rel=1e-12)
    model.save(tmp_path / "model.json")
    assert weights(MLP.load(tmp_path / "model.json")) == weights(model)
    pytest.importorskip("torch")
    flat = [p.detach().flatten().tolist() for p in model.to_torch().parameters()]
    assert sorted(sum(flat, [])) == sorted(weights(model))


def test_a_learning_rate_written_into_param_groups_takes_effect_at_the_next_step():
    rows = moons_rows()
    model, twin = MLP(2, [4, 1], seed=4), MLP(2, [4, 1], seed=4)
    first, last = model.layers
    groups = [{"params": first.parameters()}, {"params": last.parameters(), "lr": 0.01}]
    opt = SGD(groups, lr=0.2, momentum=0.9)
    twin_groups = [
        {"params": twin.layers[0].parameters()},
        {"params": twin.layers[1].parameters(), "lr": 0.01},
    ]
    eager = SGD(twin_groups, lr=0.2, momentum=0.9)
    tape = loss_tape(model)
    for k in range(10):
        if k == 5:
            for o in (opt, eager):
                o.param_groups[1]["lr"] = 0.5
        result = tape.run_batch(rows, reduce="mean", input_grads=False)
        before = weights(model)
        opt.step(result)
        eager.zero_grad()
        for p, g in zip(twin.parameters(), result.param_grads.tolist()):
            p.grad = g
        eager.step()
        assert weights(model) == weights(twin)
    # The last group's weights moved by 0.5 * their step, not 0.01 *.
    assert weights(model)[-1] != pytest.approx(before[-1], abs=1e-3)


def test_state_dict_mid_run_and_eager_steps_in_between_continue_exactly():
    rows = moons_rows()
    straight_model = MLP(2, [4, 1], seed=5)
    straight = Adam(straight_model.parameters(), lr=0.05, amsgrad=True)
    tape = loss_tape(straight_model)
    for _ in range(30):
        straight.step(tape.run_batch(rows, reduce="mean", input_grads=False))

    model = MLP(2, [4, 1], seed=5)
    opt = Adam(model.parameters(), lr=0.05, amsgrad=True)
    tape = loss_tape(model)
    for _ in range(10):
        opt.step(tape.run_batch(rows, reduce="mean", input_grads=False))
    saved = json.loads(json.dumps(opt.state_dict()))
    assert saved["state"]["0"]["step"] == 10
    for _ in range(10):  # eager steps from the same gradients, then the tape again
        result = tape.run_batch(rows, reduce="mean", input_grads=False)
        opt.zero_grad()
        for p, g in zip(model.parameters(), result.param_grads.tolist()):
            p.grad = g
        opt.step()
    resumed = Adam(model.parameters(), lr=1.0)
    resumed.load_state_dict(opt.state_dict())
    for _ in range(10):
        resumed.step(tape.run_batch(rows, reduce="mean", input_grads=False))
    assert weights(model) == weights(straight_model)
    assert resumed.state_dict() == straight.state_dict()


def test_optimizer_to_torch_continues_a_tape_run(torch):
    from micrograd.interop import optimizer_to_torch

    rows = moons_rows()
    model = MLP(2, [4, 1], seed=6)
    opt = SGD(model.parameters(), lr=0.2, momentum=0.9, nesterov=True)
    tape = loss_tape(model)
    for _ in range(10):
        opt.step(tape.run_batch(rows, reduce="mean", input_grads=False))
    net = model.to_torch()
    torch_opt = optimizer_to_torch(opt, model, net)
    x, y = torch.tensor(rows[:, :2]), torch.tensor(rows[:, 2])
    for _ in range(5):
        opt.step(tape.run_batch(rows, reduce="mean", input_grads=False))
        torch_opt.zero_grad()
        l2 = sum((p * p).sum() for p in net.parameters())
        (torch.relu(1 - y * net(x).flatten()).mean() + ALPHA * l2).backward()
        torch_opt.step()
    theirs = MLP.from_torch(net)
    assert weights(model) == pytest.approx(weights(theirs), rel=1e-10, abs=1e-12)


def test_a_pure_python_result_steps_as_a_numpy_one():
    rows = moons_rows()
    a, b = MLP(2, [4, 1], seed=7), MLP(2, [4, 1], seed=7)
    opts = [AdamW(m.parameters(), lr=0.05) for m in (a, b)]
    schedules = [ExponentialLR(o, 0.9) for o in opts]
    tapes = [loss_tape(m) for m in (a, b)]
    for _ in range(8):
        opts[0].step(tapes[0].run_batch(rows, input_grads=False))
        opts[1].step(tapes[1].run_batch(rows.tolist(), backend="python", input_grads=False))
        for schedule in schedules:
            schedule.step()
    assert weights(a) == pytest.approx(weights(b), rel=1e-12, abs=1e-14)


def test_frozen_parameters_and_parameters_outside_the_optimizer_are_left_alone():
    rows = moons_rows()
    model = MLP(2, [4, 1], seed=8)
    params = model.parameters()
    params[0].requires_grad_(False)
    opt = SGD(params[:-1], lr=0.5)  # the last bias is on the tape but not stepped
    tape = loss_tape(model)  # model.parameters() leaves out the frozen one
    start = [p.data for p in params]
    opt.step(tape.run_batch(rows, input_grads=False))
    now = [p.data for p in params]
    assert now[0] == start[0] and now[-1] == start[-1] and now[1:-1] != start[1:-1]


def test_a_result_from_a_tape_without_the_optimizers_parameters_is_refused():
    model = MLP(2, [3, 1], seed=9)
    stranger = Value(1.0)
    opt = SGD([*model.parameters(), stranger], lr=0.1)
    result = loss_tape(model).run_batch(moons_rows())
    with pytest.raises(ValueError, match=r"params\[13\].*not a parameter of the tape"):
        opt.step(result)
    with pytest.raises(TypeError, match="closures are left out"):
        opt.step(lambda: 1.0)  # type: ignore[arg-type]


def test_step_from_a_replay_given_numbers_starts_from_the_values():
    # With `params` given, the result's numbers are not the Values': step reads the Values.
    rows = moons_rows()
    model = MLP(2, [3, 1], seed=10)
    opt = SGD(model.parameters(), lr=0.1)
    tape = loss_tape(model)
    start = weights(model)
    result = tape.run_batch(rows, [0.0] * len(start), input_grads=False)
    assert result.param_values is None
    opt.step(result)
    expected = [w - 0.1 * g for w, g in zip(start, result.param_grads.tolist())]
    assert weights(model) == expected


def test_stepping_one_result_twice_applies_both_updates_as_two_eager_steps_do():
    rows = moons_rows()
    model, twin = MLP(2, [3, 1], seed=11), MLP(2, [3, 1], seed=11)
    opt, eager = SGD(model.parameters(), lr=0.1), SGD(twin.parameters(), lr=0.1)
    result = loss_tape(model).run_batch(rows, input_grads=False)
    for p, g in zip(twin.parameters(), result.param_grads.tolist()):
        p.grad = g
    for _ in range(2):
        opt.step(result)
        eager.step()
    assert weights(model) == weights(twin)


def test_a_group_added_between_tape_steps_is_stepped_with_its_own_state():
    rows = moons_rows()
    model, twin = MLP(2, [4, 1], seed=12), MLP(2, [4, 1], seed=12)
    opts = [Adam(m.layers[0].parameters(), lr=0.05) for m in (model, twin)]
    tape = loss_tape(model)
    for k in range(6):
        if k == 3:
            for o, m in zip(opts, (model, twin)):
                o.add_param_group({"params": m.layers[1].parameters(), "lr": 0.01})
        result = tape.run_batch(rows, input_grads=False)
        opts[0].step(result)
        for p, g in zip(twin.parameters(), result.param_grads.tolist()):
            p.grad = g
        opts[1].step()
    assert weights(model) == weights(twin)
    assert opts[0].state_dict() == opts[1].state_dict()


def test_groups_that_interleave_on_the_tape_match_the_eager_step():
    # Every other parameter in each group: the groups gather and scatter by index arrays.
    rows = moons_rows()
    model, twin = MLP(2, [4, 1], seed=13), MLP(2, [4, 1], seed=13)

    def groups(m):
        ps = m.parameters()
        return [{"params": ps[::2]}, {"params": ps[1::2], "lr": 0.02, "momentum": 0.5}]

    opt, eager = SGD(groups(model), lr=0.2), SGD(groups(twin), lr=0.2)
    tape = loss_tape(model)
    for _ in range(5):
        result = tape.run_batch(rows, input_grads=False)
        opt.step(result)
        for p, g in zip(twin.parameters(), result.param_grads.tolist()):
            p.grad = g
        eager.step()
    assert weights(model) == weights(twin)
    assert opt.state_dict() == eager.state_dict()
