"""MLP to torch.nn.Sequential and back: same outputs and gradients, clear errors otherwise."""

import random

import pytest

from micrograd import MLP
from micrograd.losses import mse

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
