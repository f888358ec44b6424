"""nn: parameters and their names, modes, state dicts, seeding, activations, bad input."""

from __future__ import annotations

import math
import random
import re

import pytest

from micrograd import MLP, Layer, Module, Neuron, Value
from tests.references import facts, needs_torch


def test_parameter_count_and_dotted_names():
    model = MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == len(model.parameters()) == (2 * 3 + 3) + (3 * 1 + 1)
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(set(names)) == len(names)


def test_zero_grad():
    model = MLP(2, [4, 1], seed=1)
    model([1.0, -2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_train_and_eval_return_self_and_reach_submodules():
    model = MLP(2, [2, 1], seed=0)
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    assert len(model.modules()) == 1 + 2 + 3  # the MLP, two layers, three neurons


def test_state_dict_round_trip():
    source = MLP(3, [4, 2], seed=1)
    target = MLP(3, [4, 2], seed=2)
    assert source.state_dict() != target.state_dict()
    assert target.load_state_dict(source.state_dict()) == ([], [])
    assert target.state_dict() == source.state_dict()
    x = [0.1, -0.2, 0.3]
    assert [v.data for v in target(x)] == [v.data for v in source(x)]


@pytest.mark.parametrize(
    ("edit", "error", "key"),
    [
        (lambda s: s.pop("layers.0.neurons.1.b"), RuntimeError, "layers.0.neurons.1.b"),
        (lambda s: s.update({"layers.9.w": 1.0}), RuntimeError, "layers.9.w"),
        (lambda s: s.update({"layers.1.neurons.0.w.2": [1.0, 2.0]}), ValueError, "w.2"),
        (lambda s: s.update({"layers.1.neurons.0.w.2": "0.5"}), TypeError, "w.2"),
        (lambda s: s.update({"layers.1.neurons.0.w.2": True}), TypeError, "w.2"),
    ],
)
def test_load_state_dict_errors_name_the_key_and_change_nothing(edit, error, key):
    model = MLP(3, [4, 1], seed=3)
    before = model.state_dict()
    state = {name: value + 1.0 for name, value in before.items()}
    edit(state)
    with pytest.raises(error, match=key.replace(".", r"\.")):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_strict_mismatch_is_a_runtime_error_with_a_plain_message():
    # As in PyTorch; a KeyError would print its message quoted.
    model = MLP(1, [1], seed=0)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict({"extra": 1.0})
    assert str(info.value) == (
        "state_dict does not match MLP: missing keys "
        "['layers.0.neurons.0.w.0', 'layers.0.neurons.0.b']; unexpected keys ['extra']"
    )


def test_load_state_dict_not_strict_reports_keys():
    model = MLP(1, [1], seed=0)
    result = model.load_state_dict({"layers.0.neurons.0.b": 2.0, "extra": 1.0}, strict=False)
    assert result.missing_keys == ["layers.0.neurons.0.w.0"]
    assert result.unexpected_keys == ["extra"]
    assert model.layers[0].neurons[0].b.data == 2.0


def test_seeding_is_reproducible_and_leaves_global_random_alone():
    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    a = MLP(2, [8, 8, 1], seed=42)
    b = MLP(2, [8, 8, 1], seed=42)
    assert random.random() == expected_next  # the global generator was not advanced
    assert a.state_dict() == b.state_dict()
    assert MLP(2, [8, 8, 1], seed=43).state_dict() != a.state_dict()
    assert all(-1.0 <= p.data <= 1.0 for p in a.parameters())


def test_seed_accepts_a_random_generator():
    a = Neuron(3, seed=random.Random(5))
    b = Neuron(3, seed=5)
    assert a.state_dict() == b.state_dict()


@pytest.mark.parametrize(
    ("activation", "reference"),
    [
        ("relu", lambda z: max(z, 0.0)),
        ("tanh", math.tanh),
        ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
        ("linear", lambda z: z),
    ],
)
def test_neuron_activations(activation, reference):
    neuron = Neuron(2, activation=activation, seed=7)
    w0, w1 = (p.data for p in neuron.w)
    for x in ([0.5, -1.5], [-2.0, 0.25]):
        z = w0 * x[0] + w1 * x[1]
        assert neuron(x).data == pytest.approx(reference(z), rel=1e-15)


def test_layer_and_mlp_outputs():
    layer = Layer(3, 2, seed=0)
    out = layer([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2
    assert isinstance(Layer(3, 1, seed=0)([1.0, 2.0, 3.0]), Value)
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)


def test_narrow_middle_layer_works():
    # micrograd 0.1.0 fails here: a width-1 layer returns a Value the next layer cannot read.
    model = MLP(2, [16, 1, 1], seed=0)
    out = model([0.5, -0.5])
    out.backward()
    assert isinstance(out, Value)


def test_repr():
    assert repr(Neuron(2, seed=0)) == "Neuron(2, activation='relu')"
    assert repr(Layer(2, 3, activation="tanh", seed=0)) == (
        "Layer(\n  2, 3, activation='tanh'\n  (neurons.0-2): 3 x Neuron(2, activation='tanh')\n)"
    )
    assert repr(MLP(2, [16, 1], seed=0)) == (
        "MLP(\n"
        "  2, [16, 1], activation='relu', output_activation='linear'\n"
        "  (layers.0): Layer(\n"
        "    2, 16, activation='relu'\n"
        "    (neurons.0-15): 16 x Neuron(2, activation='relu')\n"
        "  )\n"
        "  (layers.1): Layer(\n"
        "    16, 1, activation='linear'\n"
        "    (neurons.0): Neuron(16, activation='linear')\n"
        "  )\n"
        ")"
    )


class Affine(Module):
    """A user-defined module: parameters found in attributes, shared ones counted once."""

    def __init__(self):
        self.scale = Value(2.0)
        self.shift = Value(1.0)
        self.inner = Neuron(1, activation="linear", seed=0)
        self.tied = [self.scale]
        self.constant = Value(5.0, requires_grad=False)

    def forward(self, x):
        return self.inner([x * self.scale + self.shift])


def test_custom_module_discovers_parameters():
    model = Affine()
    assert [name for name, _ in model.named_parameters()] == [
        "scale",
        "shift",
        "inner.w.0",
        "inner.b",
    ]
    out = model(3.0)
    out.backward()
    assert model.scale.grad == pytest.approx(3.0 * model.inner.w[0].data)


def test_module_without_forward():
    with pytest.raises(NotImplementedError, match="Module"):
        Module()(1.0)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: Neuron(0), ValueError, "nin"),
        (lambda: Neuron(2.5), TypeError, "nin must be an int >= 1, received float: 2.5"),
        (lambda: Layer(2, True), TypeError, "nout must be an int >= 1, received bool"),
        (lambda: Neuron(2, activation="gelu"), ValueError, "gelu"),
        (lambda: MLP(2, []), ValueError, "nouts"),
        (lambda: MLP(2, "16"), ValueError, "nouts"),
        (lambda: MLP(2, [4, 0]), ValueError, "layer size"),
        (lambda: MLP(2, [1], seed="x"), TypeError, "seed"),
        # No hidden layer uses `activation`, but a typo in it is still refused.
        (lambda: MLP(2, [1], activation="bogus"), ValueError, "received 'bogus'"),
        (lambda: MLP(2, [1], output_activation="bogus"), ValueError, "received 'bogus'"),
        (lambda: Neuron(2, seed=0)([1.0]), ValueError, "expects 2 inputs, received 1"),
        (lambda: Neuron(2, seed=0)("ab"), TypeError, "str"),
        (lambda: Neuron(1, seed=0)(None), TypeError, "NoneType"),
    ],
)
def test_bad_input(build, error, match):
    with pytest.raises(error, match=match):
        build()


@needs_torch
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_matches_pytorch(activation):
    import torch

    model = MLP(3, [5, 4, 2], activation=activation, seed=11)
    torch_activation = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
    layers = []
    for layer in model.layers:
        weight = torch.tensor(
            [[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True
        )
        bias = torch.tensor(
            [n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True
        )
        layers.append((weight, bias))
    x = [0.3, -1.1, 2.0]
    h = torch.tensor(x, dtype=torch.float64)
    for i, (weight, bias) in enumerate(layers):
        h = weight @ h + bias
        if i < len(layers) - 1:
            h = torch_activation[activation](h)
    torch_loss = (h * torch.tensor([1.0, -2.0], dtype=torch.float64)).sum()
    torch_loss.backward()

    out = model(x)
    loss = out[0] * 1.0 + out[1] * -2.0
    loss.backward()
    assert loss.data == pytest.approx(torch_loss.item(), rel=1e-12)
    for layer, (weight, bias) in zip(model.layers, layers):
        for row, neuron in enumerate(layer.neurons):
            for col, w in enumerate(neuron.w):
                assert w.grad == pytest.approx(weight.grad[row, col].item(), rel=1e-10, abs=1e-14)
            assert neuron.b.grad == pytest.approx(bias.grad[row].item(), rel=1e-10, abs=1e-14)


class Tree(Module):
    """A module whose child points back at it, and which points at itself."""

    def __init__(self):
        self.w = Value(1.0)
        self.child = Neuron(1, seed=0)
        self.child.parent = self
        self.me = self
        self.pair = [self.child, (self.child, [self])]

    def forward(self, x):
        return self.child([x * self.w])


def test_back_references_are_walked_once():
    # Before, each back-reference was walked again and again: this never returned.
    model = Tree()
    assert [name for name, _ in model.named_parameters()] == ["w", "child.w.0", "child.b"]
    assert model.modules() == [model, model.child]
    model.eval()
    assert not model.training and not model.child.training


class Cached(Module):
    """Keeps its last output, as a module might for inspection."""

    def __init__(self):
        self.inner = Neuron(2, seed=0)
        self.last = None
        self.history = []

    def forward(self, x):
        self.last = self.inner(x)
        self.history.append(self.last * 2)
        return self.last


def test_values_made_by_ops_are_not_parameters():
    model = Cached()
    before = model.named_parameters()
    model([1.0, 2.0])
    model([3.0, 4.0])
    assert model.named_parameters() == before
    assert [name for name, _ in before] == ["inner.w.0", "inner.w.1", "inner.b"]
    assert list(model.state_dict()) == ["inner.w.0", "inner.w.1", "inner.b"]


class Heads(Module):
    """Sub-modules and a parameter held in a dict, named by key."""

    def __init__(self):
        self.heads = {"a": Neuron(2, seed=0), "b": Neuron(2, seed=1)}
        self.gains = {"a": Value(1.0), "b": [Value(2.0)]}
        # Non-str keys are fine where they hold no parameter: labels, cached results.
        self.labels = {0: "zero", 1: "one"}
        self.outputs = {0: Value(1.0) * 2, 1: Value(1.0, requires_grad=False)}

    def forward(self, x):
        return self.heads["a"](x) * self.gains["a"] + self.heads["b"](x) * self.gains["b"][0]


def test_parameters_in_dicts_are_found_and_named_by_key():
    model = Heads()
    assert [name for name, _ in model.named_parameters()] == [
        "heads.a.w.0",
        "heads.a.w.1",
        "heads.a.b",
        "heads.b.w.0",
        "heads.b.w.1",
        "heads.b.b",
        "gains.a",
        "gains.b.0",
    ]
    assert model.modules() == [model, model.heads["a"], model.heads["b"]]
    model([1.0, -1.0]).backward()
    assert model.gains["b"][0].grad == model.heads["b"]([1.0, -1.0]).data
    state = {name: 0.5 for name in model.state_dict()}
    model.load_state_dict(state)
    assert model.heads["b"].w[1].data == 0.5


@pytest.mark.parametrize("held", [Value(1.0), Neuron(1, seed=0), [Value(1.0)]])
def test_a_dict_key_that_is_not_a_str_is_refused(held):
    model = Module()
    model.table = {"ok": Value(3.0), 7: {"inner": held}}
    with pytest.raises(TypeError, match=facts("table.7.inner", "7 (int)", "str")):
        model.named_parameters()


# PyTorch habits on modules, checked against torch.nn where the concept matches.


def torch_twin(module, torch):
    """A torch.nn module tree shaped like `module`: same class names and extra_repr, lists as
    ModuleList, dicts as ModuleDict, so torch's names and orders can be compared with ours."""

    def build(ours):
        text = ours.extra_repr()
        cls = type(type(ours).__name__, (torch.nn.Module,), {"extra_repr": lambda self: text})
        twin = cls()
        for key, value in vars(ours).items():
            held = convert(value)
            if held is not None:
                twin.add_module(key, held)
        return twin

    def convert(value):
        if isinstance(value, Module):
            return build(value)
        if isinstance(value, list) and value and isinstance(value[0], Module):
            return torch.nn.ModuleList([convert(v) for v in value])
        if isinstance(value, dict) and value and isinstance(next(iter(value.values())), Module):
            return torch.nn.ModuleDict({k: convert(v) for k, v in value.items()})
        return None

    return build(module)


def torch_names(named, torch):
    """Torch's (name, module) pairs without its list and dict containers (we have none)."""
    containers = (torch.nn.ModuleList, torch.nn.ModuleDict)
    return [name for name, m in named if not isinstance(m, containers)]


class Twins(Module):
    """Direct children, a list and a dict of modules, and a nested custom module."""

    def __init__(self):
        self.encoder = MLP(2, [3, 2], seed=0)
        self.heads = {"left": Neuron(2, seed=1), "right": Layer(2, 2, seed=2)}
        self.scale = Value(2.0)
        self.blocks = [Neuron(1, seed=3), Affine()]

    def extra_repr(self):
        return "twins=True"


@needs_torch
@pytest.mark.parametrize("build", [lambda: MLP(2, [3, 3, 1], seed=0), Twins, Affine, Heads])
def test_module_walks_match_torch_nn(build):
    import torch

    model = build()
    twin = torch_twin(model, torch)
    assert [name for name, _ in model.named_modules()] == torch_names(twin.named_modules(), torch)
    assert [name for name, _ in model.named_modules(prefix="net")] == torch_names(
        twin.named_modules(prefix="net"), torch
    )
    ours = [name for name, _ in model.named_children()]
    theirs = []
    for name, child in twin.named_children():
        if isinstance(child, (torch.nn.ModuleList, torch.nn.ModuleDict)):
            theirs += [f"{name}.{key}" for key, _ in child.named_children()]
        else:
            theirs.append(name)
    assert ours == theirs
    assert model.children() == [m for _, m in model.named_children()]
    assert model.modules() == [m for _, m in model.named_modules()]
    # apply: children before parents, depth first, as torch.nn.Module.apply.
    names = {id(m): name for name, m in model.named_modules()}
    their_names = {id(m): name for name, m in twin.named_modules()}
    ours_order, theirs_order = [], []
    assert model.apply(lambda m: ours_order.append(names[id(m)])) is model
    twin.apply(lambda m: theirs_order.append(their_names[id(m)]))
    containers = set(their_names.values()) - set(torch_names(twin.named_modules(), torch))
    assert ours_order == [n for n in theirs_order if n not in containers]


@needs_torch
def test_repr_of_a_custom_module_is_laid_out_as_torchs():
    import torch

    model = Affine()
    assert repr(model) == repr(torch_twin(model, torch))
    assert repr(model) == "Affine(\n  (inner): Neuron(1, activation='linear')\n)"
    twins = repr(Twins())
    assert twins.startswith("Twins(\n  twins=True\n  (encoder): MLP(\n    2, [3, 2],")
    assert "\n  (heads.left): Neuron(2, activation='relu')\n  (heads.right): Layer(\n" in twins
    assert "\n  (blocks.0): Neuron(1, activation='relu')\n  (blocks.1): Affine(\n" in twins


def test_repr_of_a_module_holding_its_parent_ends():
    assert repr(Tree()) == (
        "Tree(\n  (child): Neuron(\n    1, activation='relu'\n    (parent): <Tree shown above>\n"
        "  )\n)"
    )


def test_apply_initialises_weights_and_returns_self():
    model = MLP(2, [3, 1], seed=0)

    def zero_biases(module):
        if isinstance(module, Neuron):
            module.b.data = 0.25

    assert model.apply(zero_biases) is model
    assert [n.b.data for layer in model.layers for n in layer.neurons] == [0.25] * 4
    with pytest.raises(TypeError, match=facts("apply", "int")):
        model.apply(3)


def test_requires_grad_freezes_like_torch_and_keeps_the_parameters():
    model = MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    first = model.layers[0]
    assert first.requires_grad_(False) is first
    # Frozen parameters stay parameters (names, state_dict), as in torch.
    assert [name for name, _ in model.named_parameters()] == names
    assert list(model.state_dict()) == names
    assert len(first.parameters()) == 9 and len(first.neurons[1].parameters()) == 3
    assert all(not p.requires_grad for p in first.parameters())
    model([1.0, -1.0]).backward()
    assert all(p.grad == 0.0 for p in first.parameters())
    assert all(p.grad != 0.0 for p in model.layers[1].neurons[0].w)
    model.zero_grad()
    model.requires_grad_()  # unfreezes everything
    assert all(p.requires_grad for p in model.parameters())
    assert [name for name, _ in model.named_parameters()] == names
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0.0 for p in first.parameters())
    assert not any("frozen" in name for name in vars(first))
    with pytest.raises(TypeError, match=facts("requires_grad", "True", "False", "str")):
        model.requires_grad_("no")


@needs_torch
def test_frozen_gradients_match_torch():
    import torch

    model = MLP(2, [3, 1], activation="tanh", seed=4)
    net = model.to_torch()
    model.layers[1].requires_grad_(False)
    net[2].requires_grad_(False)
    model([0.5, -1.0]).backward()
    net(torch.tensor([0.5, -1.0], dtype=torch.float64)).sum().backward()
    assert net[2].weight.grad is None
    assert all(p.grad == 0.0 for p in model.layers[1].parameters())
    theirs = net[0].weight.grad.flatten().tolist()
    assert [w.grad for n in model.layers[0].neurons for w in n.w] == pytest.approx(theirs)


def test_a_frozen_model_saves_and_loads(tmp_path):
    model = MLP(2, [2, 1], seed=0).requires_grad_(False)
    model.save(tmp_path / "frozen.json")
    loaded = MLP.load(tmp_path / "frozen.json")
    assert loaded.state_dict() == model.state_dict()


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_set_to_none_gives_zero_floats(set_to_none):
    # Grads here are floats that backward() adds into: both settings give 0.0 (documented).
    model = MLP(2, [2, 1], seed=0)
    model([1.0, 1.0]).backward()
    model.zero_grad(set_to_none=set_to_none)
    assert all(type(p.grad) is float and p.grad == 0.0 for p in model.parameters())
    with pytest.raises(TypeError, match=facts("set_to_none", "True", "False", "str")):
        model.zero_grad(set_to_none="yes")


class CountingList(list):
    """A list that counts how many of its items are read."""

    reads = 0

    def __getitem__(self, index):
        CountingList.reads += 1
        return super().__getitem__(index)

    def __iter__(self):
        for item in super().__iter__():
            CountingList.reads += 1
            yield item


class WithHistory(Module):
    def __init__(self, rows):
        self.inner = Neuron(2, seed=0)
        self.losses = CountingList(float(i) for i in range(rows))
        self.table = CountingList((i, float(i)) for i in range(rows))
        self.scale = [Value(1.0)]


def test_walks_do_not_read_a_long_data_list():
    model = WithHistory(200_000)
    CountingList.reads = 0
    names = [name for name, _ in model.named_parameters()]
    model.zero_grad()
    model.modules()
    assert names == ["inner.w.0", "inner.w.1", "inner.b", "scale.0"]
    assert CountingList.reads <= 12  # the first item of each list, per walk: not 400,000


def test_a_list_that_starts_with_data_is_data():
    # The documented rule: a walk enters a list only when its first item is a Value, a Module or
    # such a container; plain data first means the list is data.
    model = Module()
    model.mixed = [0.5, Value(1.0)]
    model.nested = [[Value(2.0)], [Value(3.0)]]
    model.empty = []
    assert [name for name, _ in model.named_parameters()] == ["nested.0.0", "nested.1.0"]


@pytest.mark.parametrize(
    ("layout", "key"),
    [
        ({"x.y": Value(1.0), "x": {"y": Value(2.0)}}, "'x.y'"),  # the collision
        ({"": Value(1.0)}, "''"),
        ({"a": {"b.c": Neuron(1, seed=0)}}, "'b.c'"),
    ],
)
def test_a_key_that_would_give_two_parameters_one_name_is_refused(layout, key, tmp_path):
    model = Module()
    model.d = layout
    with pytest.raises(TypeError, match=f"under the key {re.escape(key)}; expected a non-empty"):
        model.named_parameters()
    with pytest.raises(TypeError, match=re.escape(key)):
        model.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_a_dotted_attribute_name_is_refused():
    model = Module()
    model.x = {"y": Value(2.0)}
    setattr(model, "x.y", Value(1.0))
    with pytest.raises(TypeError, match=facts("x.y", "'x.y'")):
        model.state_dict()


def test_parameter_names_are_unique_in_every_layout():
    for model in (MLP(2, [3, 2], seed=0), Twins(), Heads(), Tree(), Affine()):
        names = [name for name, _ in model.named_parameters()]
        assert len(names) == len(set(names)) == len(model.state_dict())


# ---- Numpy rows work wherever a list does --------------------------------------------------


def test_a_numpy_row_is_an_input_like_a_list():
    # 0.1.0 accepted it, and a public test of a micrograd fork calls MLP(...)(np.array(...)).
    np = pytest.importorskip("numpy")
    model = MLP(2, [4, 3], seed=0)
    expected = [v.data for v in model([0.5, -1.0])]
    for row in (
        np.array([0.5, -1.0]),
        np.array([0.5, -1.0], dtype=np.float32),
        [np.float64(0.5), np.float32(-1.0)],
        (np.float16(0.5), np.int64(-1)),
    ):
        got = model(row)
        assert [v.data for v in got] == expected
        assert all(type(v.data) is float for v in got)  # no numpy type leaks into the graph
    neuron = Neuron(3, seed=1)
    assert neuron(np.array([1, 2, 3])).data == neuron([1.0, 2.0, 3.0]).data
    out = model(np.array([0.5, -1.0]))
    out[0].backward()
    assert all(math.isfinite(p.grad) for p in model.parameters())


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda np: np.zeros((1, 2)), ["ndarray of 2 dimensions", "1-D array"]),
        (lambda np: {0: 0.5, 1: -1.0}, ["dict"]),  # would give its keys
        (lambda np: {0.5, -1.0}, ["set"]),  # in no fixed order
        (lambda np: "ab", ["str"]),
        (lambda np: np.array([0.5, -1.0, 2.0]), ["expects 2 inputs, received 3"]),
    ],
)
def test_what_is_not_a_row_of_inputs_is_refused_by_name(make, words):
    np = pytest.importorskip("numpy")
    with pytest.raises((TypeError, ValueError), match=facts(*words)):
        MLP(2, [1], seed=0)(make(np))


def test_train_takes_a_bool_only():
    model = MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match=facts("True or False", "'no'")):
        model.train("no")  # truthy: it would have meant training
    assert model.train(False).training is False and model.eval() is model


def test_a_module_with_slots_finds_its_parameters():
    class Slotted(Module):
        __slots__ = ("w", "layer", "unset")

        def __init__(self):
            self.w = Value(1.0)
            self.layer = Neuron(2, seed=0)

    model = Slotted()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["w", "layer.w.0", "layer.w.1", "layer.b"]
    assert set(model.state_dict()) == set(names)


def test_repr_of_modules_nested_deeper_than_the_recursion_limit():
    import sys

    class Box(Module):
        def __init__(self, inner):
            self.inner = inner

    model = Neuron(1, seed=0)
    depth = sys.getrecursionlimit() + 200
    for _ in range(depth):
        model = Box(model)
    lines = repr(model).splitlines()
    assert len(lines) == 2 * depth + 1 and lines[0] == "Box("
    assert lines[depth] == "  " * depth + "(inner): Neuron(1, activation='relu')"
