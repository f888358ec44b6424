"""MLP to torch.nn.Sequential and back: same outputs and gradients, clear errors otherwise."""

import random

import pytest

from micrograd import MLP, Value, optim
from micrograd.data import make_moons
from micrograd.interop import optimizer_from_torch, optimizer_to_torch
from micrograd.losses import mse
from tests.references import facts

pytestmark = pytest.mark.torch  # PyTorch throughout: `pytest -m torch` runs this file
torch = pytest.importorskip("torch")

ARCHITECTURES = [
    {"nin": 2, "nouts": [16, 16, 1]},
    {"nin": 3, "nouts": [4, 2], "activation": "tanh", "output_activation": "sigmoid"},
    {"nin": 1, "nouts": [5, 5, 3], "activation": "sigmoid", "output_activation": "tanh"},
    {"nin": 2, "nouts": [3, 1], "activation": "linear"},
]


def random_points(nin, count, seed):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(count)]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_outputs_and_gradients_match(arch):
    model = MLP(**arch, seed=3)
    net = model.to_torch()
    assert isinstance(net, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    points = random_points(arch["nin"], 6, seed=1)
    nout = arch["nouts"][-1]
    targets = random_points(nout, 6, seed=2)

    model.zero_grad()
    preds = []
    for p in points:
        out = model(p)
        preds.extend(out if isinstance(out, list) else [out])
    loss = mse(preds, [t for row in targets for t in row])
    loss.backward()

    x = torch.tensor(points, dtype=torch.float64)
    y = net(x)
    assert [v.data for v in preds] == pytest.approx(y.flatten().tolist(), rel=1e-12, abs=1e-12)
    ref = torch.nn.functional.mse_loss(y, torch.tensor(targets, dtype=torch.float64))
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), rel=1e-12)

    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(model.layers, linears):
        for j, neuron in enumerate(layer.neurons):
            assert neuron.b.grad == pytest.approx(linear.bias.grad[j].item(), rel=1e-10, abs=1e-12)
            theirs = linear.weight.grad[j].tolist()
            assert [w.grad for w in neuron.w] == pytest.approx(theirs, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_round_trip_through_torch_is_exact(arch):
    model = MLP(**arch, seed=5)
    back = MLP.from_torch(model.to_torch())
    assert back.config() == model.config()
    assert back.state_dict() == model.state_dict()


def test_from_torch_takes_a_trained_torch_model():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1), torch.nn.Sigmoid()
    )  # float32, as torch makes by default
    model = MLP.from_torch(net)
    assert model.config() == {
        "nin": 2,
        "nouts": [8, 1],
        "activation": "tanh",
        "output_activation": "sigmoid",
    }
    x = [[0.5, -0.25], [1.0, 2.0]]
    theirs = net.double()(torch.tensor(x, dtype=torch.float64)).flatten().tolist()
    assert [model(p).data for p in x] == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(4, 1)], "takes 4 inputs"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Dropout()], "module 1 is Dropout"),
        (lambda: [torch.nn.ReLU(), torch.nn.Linear(2, 1)], "must follow a Linear"),
        (lambda: [torch.nn.Linear(2, 3, bias=False)], "without bias"),
        (
            lambda: [
                torch.nn.Linear(2, 3),
                torch.nn.ReLU(),
                torch.nn.Linear(3, 3),
                torch.nn.Tanh(),
                torch.nn.Linear(3, 1),
            ],
            "different activations",
        ),
        (lambda: [], "no Linear layer"),
    ],
)
def test_from_torch_rejects_what_an_mlp_cannot_hold(layers, message):
    with pytest.raises(ValueError, match=message):
        MLP.from_torch(torch.nn.Sequential(*layers()))


def test_type_errors():
    with pytest.raises(TypeError, match="torch.nn.Sequential, received Linear"):
        MLP.from_torch(torch.nn.Linear(2, 1))
    from micrograd.interop import to_torch

    with pytest.raises(TypeError, match="takes an MLP"):
        to_torch("model")


# Training state carried to torch.optim: a run continued in torch follows the run continued here.

OPTIMIZERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3}),
    ("Adam", {"lr": 0.02}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6}),
]


def moons_batch():
    points, labels = make_moons(16, noise=0.1, random_state=0)
    return points, [2.0 * y - 1.0 for y in labels]


def our_step(model, opt, points, targets):
    opt.zero_grad()
    loss = mse([model(p) for p in points], targets)
    loss.backward()
    opt.step()
    return loss.data


def trained_here(optimizer, kwargs, steps, points, targets):
    """The tanh MLP(2, [6, 1]) of seed 1 and its `optimizer(**kwargs)`, after `steps` steps here."""
    model = MLP(2, [6, 1], activation="tanh", seed=1)
    opt = optimizer(model.parameters(), **kwargs)
    for _ in range(steps):
        our_step(model, opt, points, targets)
    return model, opt


def as_tensors(points, targets):
    """The batch as torch float64 tensors (x, y)."""
    return torch.tensor(points, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64)


def torch_step(net, opt, x, y):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(net(x).flatten(), y)
    loss.backward()
    opt.step()
    return loss.item()


def weights_of(model):
    """The MLP's weights laid out as the torch Sequential's parameters, each flattened."""
    out = []
    for layer in model.layers:
        out.append([w.data for n in layer.neurons for w in n.w])
        out.append([n.b.data for n in layer.neurons])
    return out


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_training_continued_in_torch_follows_training_continued_here(name, kwargs):
    points, targets = moons_batch()
    model, opt = trained_here(getattr(optim, name), kwargs, 20, points, targets)

    net = model.to_torch()
    torch_opt = optimizer_to_torch(opt, model, net)
    assert type(torch_opt) is getattr(torch.optim, name)
    x, y = as_tensors(points, targets)
    ours, theirs = [], []
    for _ in range(20):
        ours.append(our_step(model, opt, points, targets))
        theirs.append(torch_step(net, torch_opt, x, y))
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)
    expected = weights_of(model)
    for param, mine in zip(net.parameters(), expected):
        assert param.detach().flatten().tolist() == pytest.approx(mine, rel=1e-12, abs=1e-12)


def test_without_the_state_torch_restarts_momentum_and_drifts():
    # The observation: the weights alone are not the run; this is why the state goes too.
    points, targets = moons_batch()
    model, opt = trained_here(optim.SGD, {"lr": 0.1, "momentum": 0.9}, 20, points, targets)
    net = model.to_torch()
    fresh = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x, y = as_tensors(points, targets)
    for _ in range(20):
        our_step(model, opt, points, targets)
        torch_step(net, fresh, x, y)
    final = torch.nn.functional.mse_loss(net(x).flatten(), y).item()
    assert abs(final - mse([model(p) for p in points], targets).data) > 1e-6


def test_param_groups_carry_their_own_hyperparameters():
    points, targets = moons_batch()
    model = MLP(2, [4, 1], seed=2)
    first, last = model.layers
    opt = optim.Adam(
        [
            {"params": first.parameters()},
            {"params": last.parameters(), "lr": 0.001, "betas": (0.5, 0.9)},
        ],
        lr=0.05,
    )
    for _ in range(5):
        our_step(model, opt, points, targets)
    net = model.to_torch()
    torch_opt = optimizer_to_torch(opt, model, net)
    assert [g["lr"] for g in torch_opt.param_groups] == [0.05, 0.001]
    assert torch_opt.param_groups[1]["betas"] == (0.5, 0.9)
    x, y = as_tensors(points, targets)
    for _ in range(5):
        assert our_step(model, opt, points, targets) == pytest.approx(
            torch_step(net, torch_opt, x, y), rel=1e-12
        )


def test_a_group_that_splits_a_torch_tensor_is_refused():
    model = MLP(2, [3, 1], seed=0)
    neuron = model.layers[0].neurons[0]
    rest = [p for p in model.parameters() if p not in neuron.w]
    opt = optim.SGD([{"params": neuron.w, "lr": 0.1}, {"params": rest}], lr=0.2)
    with pytest.raises(ValueError, match=facts("layers.0.neurons.1.w.0", "param group 1")):
        optimizer_to_torch(opt, model, model.to_torch())
    partial = optim.SGD(model.layers[0].neurons[0].parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"leaves out layers\.0\.neurons\.1\.w\.0"):
        optimizer_to_torch(partial, model, model.to_torch())
    stranger = optim.SGD([*model.parameters(), Value(1.0)], lr=0.1)
    with pytest.raises(ValueError, match=facts("params[13]", "MLP")):
        optimizer_to_torch(stranger, model, model.to_torch())
    with pytest.raises(ValueError, match=r"do not match the MLP"):
        optimizer_to_torch(optim.SGD(model.parameters()), model, MLP(2, [4, 1]).to_torch())


def test_float32_layers_take_torchs_default_inputs():
    model = MLP(2, [5, 1], activation="tanh", seed=4)
    net = model.to_torch(dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    points = random_points(2, 5, seed=6)
    out = net(torch.tensor(points))  # torch's default dtype: float32
    assert out.dtype == torch.float32
    assert out.flatten().tolist() == pytest.approx([model(p).data for p in points], rel=1e-5)
    assert MLP.from_torch(net).state_dict() == pytest.approx(model.state_dict(), rel=1e-7)
    with pytest.raises(TypeError, match="floating torch dtype.*torch.int64"):
        model.to_torch(dtype=torch.int64)
    with pytest.raises(TypeError, match="floating torch dtype"):
        model.to_torch(dtype="float32")


def test_optimizer_state_follows_float32_layers():
    model = MLP(2, [3, 1], seed=0)
    opt = optim.AdamW(model.parameters(), lr=0.01)
    points, targets = moons_batch()
    our_step(model, opt, points, targets)
    net = model.to_torch(dtype=torch.float32)
    torch_opt = optimizer_to_torch(opt, model, net)
    state = torch_opt.state[net[0].weight]
    assert state["exp_avg"].dtype == torch.float32 and state["step"].item() == 1.0
    first = model.layers[0].neurons[1].w[0]
    assert state["exp_avg_sq"][1, 0].item() == pytest.approx(opt.state[first]["exp_avg_sq"])


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_round_trip_of_model_and_optimizer_through_torch_continues_the_run(name, kwargs):
    # 40 steps here == 20 here, 10 in torch, 10 here again after coming back.
    points, targets = moons_batch()
    straight, _ = trained_here(getattr(optim, name), kwargs, 40, points, targets)

    model, opt = trained_here(getattr(optim, name), kwargs, 20, points, targets)
    net = model.to_torch()
    torch_opt = optimizer_to_torch(opt, model, net)
    x, y = as_tensors(points, targets)
    for _ in range(10):
        torch_step(net, torch_opt, x, y)
    back = MLP.from_torch(net)
    back_opt = optimizer_from_torch(torch_opt, net, back)
    assert type(back_opt) is type(opt)
    assert back_opt.param_groups[0]["lr"] == kwargs["lr"]
    for _ in range(10):
        our_step(back, back_opt, points, targets)
    theirs = [p.data for p in back.parameters()]
    assert theirs == pytest.approx([p.data for p in straight.parameters()], rel=1e-12, abs=1e-12)


def test_optimizer_from_torch_refuses_what_it_cannot_carry():
    model = MLP(2, [3, 1], seed=0)
    net = model.to_torch()
    with pytest.raises(ValueError, match="maximize=True"):
        optimizer_from_torch(torch.optim.SGD(net.parameters(), maximize=True), net, model)
    stray = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match=facts("params[0]", "(2,)", "Linear")):
        optimizer_from_torch(torch.optim.Adam([stray]), net, model)
    with pytest.raises(TypeError, match="received RMSprop"):
        optimizer_from_torch(torch.optim.RMSprop(net.parameters()), net, model)


class _Doubling(torch.nn.Linear):
    def forward(self, x):
        return 2 * super().forward(x)


class _Tanh2(torch.nn.Tanh):
    pass


class _Chain(torch.nn.Sequential):
    def forward(self, x):
        return super().forward(x) + 1


@pytest.mark.parametrize(
    ("make", "facts_"),
    [
        (lambda: torch.nn.Sequential(_Doubling(2, 1)), ["module 0", "_Doubling", "subclass"]),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 2), _Tanh2(), torch.nn.Linear(2, 1)),
            ["module 1", "_Tanh2"],
        ),
        (lambda: _Chain(torch.nn.Linear(2, 1)), ["_Chain", "subclass"]),
    ],
)
def test_from_torch_refuses_subclasses_whose_forward_it_does_not_know(make, facts_):
    # A doubling Linear gave 0.600 in the copy and 1.200 in torch.
    with pytest.raises((TypeError, ValueError), match=facts(*facts_)):
        MLP.from_torch(make())


def _add_one(module, inputs, output):
    return output + 1


def _negate_input(module, inputs):
    return (-inputs[0],)


@pytest.mark.parametrize("where", ["layer", "sequential", "pre", "global"])
def test_from_torch_refuses_a_forward_hook(where):
    net = torch.nn.Sequential(torch.nn.Linear(2, 1))
    if where == "layer":
        handle = net[0].register_forward_hook(_add_one)
    elif where == "sequential":
        handle = net.register_forward_hook(_add_one)
    elif where == "pre":
        handle = net[0].register_forward_pre_hook(_negate_input)
    else:
        handle = torch.nn.modules.module.register_module_forward_hook(_add_one)
    try:
        name = "_negate_input" if where == "pre" else "_add_one"
        with pytest.raises(ValueError, match=facts("hook", name)):
            MLP.from_torch(net)
    finally:
        handle.remove()
    MLP.from_torch(net)  # without the hook it converts


def test_optimizer_to_torch_refuses_a_subclass_by_name():
    class MySGD(optim.SGD):
        pass

    model = MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match=facts("MySGD", "subclass")):  # was a KeyError
        optimizer_to_torch(MySGD(model.parameters(), lr=0.1), model, model.to_torch())
