"""Carry an `MLP` to PyTorch and back: a float64 `torch.nn.Sequential` with the same weights.

PyTorch is optional and imported only inside these functions. An MLP becomes
`Sequential(Linear, activation, Linear, activation, ..., Linear[, output activation])`, where
`Linear(nin, nout).weight[j, i]` is neuron j's weight `w[i]` and `bias[j]` its `b`. The way back
accepts any Sequential of that shape. Other torch layers (convolutions, dropout, ...) are left
out: a scalar MLP has no counterpart for them.
"""

from __future__ import annotations

from typing import Any

from micrograd.nn import MLP

# Activation name -> torch.nn class name; "linear" has no module.
TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            "PyTorch is needed to convert to and from torch modules but is not installed; "
            "install a CPU build from https://pytorch.org"
        ) from None
    return torch


def to_torch(model: MLP) -> Any:
    """A float64 `torch.nn.Sequential` computing the same function as `model`."""
    torch = _import_torch()
    if not isinstance(model, MLP):
        raise TypeError(f"to_torch takes an MLP, received {type(model).__name__}")
    modules = []
    for layer in model.layers:
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            for j, neuron in enumerate(layer.neurons):
                linear.bias[j] = neuron.b.data
                for i, w in enumerate(neuron.w):
                    linear.weight[j, i] = w.data
        modules.append(linear)
        if layer.activation != "linear":
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[layer.activation])())
    return torch.nn.Sequential(*modules)


def from_torch(sequential: Any) -> MLP:
    """An `MLP` with the layers and weights of a Sequential of Linear layers and activations.

    Every hidden layer must use the same activation (ReLU, Tanh, Sigmoid or none), as an MLP
    does; anything else raises a ValueError naming the module that does not fit.
    """
    torch = _import_torch()
    if not isinstance(sequential, torch.nn.Sequential):
        raise TypeError(
            f"from_torch takes a torch.nn.Sequential, received {type(sequential).__name__}"
        )
    names = {cls: name for name, cls in TORCH_ACTIVATIONS.items()}
    linears: list[Any] = []
    activations: list[str] = []
    for index, module in enumerate(sequential):
        kind = type(module).__name__
        if isinstance(module, torch.nn.Linear):
            if linears and module.in_features != linears[-1].out_features:
                raise ValueError(
                    f"module {index} (Linear) takes {module.in_features} inputs but the layer "
                    f"before it gives {linears[-1].out_features}"
                )
            if module.bias is None:
                raise ValueError(f"module {index} is a Linear without bias; MLP neurons have one")
            linears.append(module)
            activations.append("linear")
        elif kind in names and type(module) is getattr(torch.nn, kind):
            if not linears or activations[-1] != "linear":
                raise ValueError(f"module {index} ({kind}) must follow a Linear layer")
            activations[-1] = names[kind]
        else:
            raise ValueError(
                f"module {index} is {kind}; from_torch understands Linear, ReLU, Tanh and Sigmoid"
            )
    if not linears:
        raise ValueError("from_torch received a Sequential with no Linear layer")
    hidden = set(activations[:-1])
    if len(hidden) > 1:
        raise ValueError(
            f"hidden layers use different activations {activations[:-1]}; an MLP uses one"
        )
    model = MLP(
        linears[0].in_features,
        [linear.out_features for linear in linears],
        activation=hidden.pop() if hidden else "relu",
        output_activation=activations[-1],
        seed=0,  # overwritten below; a seed keeps the global random state untouched
    )
    state = {}
    for k, linear in enumerate(linears):
        weight = linear.weight.detach().to(torch.float64).tolist()
        bias = linear.bias.detach().to(torch.float64).tolist()
        for j in range(linear.out_features):
            state[f"layers.{k}.neurons.{j}.b"] = bias[j]
            for i in range(linear.in_features):
                state[f"layers.{k}.neurons.{j}.w.{i}"] = weight[j][i]
    model.load_state_dict(state)
    return model
