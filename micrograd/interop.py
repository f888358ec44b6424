"""Carry an `MLP` to PyTorch and back, and its optimizer's training state to `torch.optim`.

`to_torch(model, dtype=...)` gives a `torch.nn.Sequential` (float64 unless asked) with the same
weights; `optimizer_to_torch` gives the torch optimizer that continues a run where this package's
left off (momentum buffers, moments, step counts), and `optimizer_from_torch` the way back.
PyTorch is optional and imported only inside these functions. An MLP becomes
`Sequential(Linear, activation, Linear, activation, ..., Linear[, output activation])`, where
`Linear(nin, nout).weight[j, i]` is neuron j's weight `w[i]` and `bias[j]` its `b`. The way back
accepts any Sequential of that shape. Other torch layers (convolutions, dropout, ...) are left
out: a scalar MLP has no counterpart for them.
"""

from __future__ import annotations

from typing import Any

from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam, AdamW, Optimizer

# Activation name -> torch.nn class name; "linear" has no module.
TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def _import_torch() -> Any:
    try:
        # Optional: pyright has no per-package setting for this, mypy's is in setup.cfg.
        import torch  # pyright: ignore[reportMissingImports]
    except ImportError:
        raise ImportError(
            "PyTorch is needed to convert to and from torch modules but is not installed; "
            "install a CPU build from https://pytorch.org"
        ) from None
    return torch


def to_torch(model: MLP, dtype: Any = None) -> Any:
    """A `torch.nn.Sequential` computing the same function as `model`, in `dtype` (a floating
    torch dtype; float64 by default, exact; torch.float32 takes torch's default inputs)."""
    torch = _import_torch()
    _check_mlp(model, "to_torch")
    dtype = _check_dtype(torch, dtype)
    modules = []
    for layer in model.layers:
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=dtype)
        with torch.no_grad():
            for j, neuron in enumerate(layer.neurons):
                linear.bias[j] = neuron.b.data
                for i, w in enumerate(neuron.w):
                    linear.weight[j, i] = w.data
        modules.append(linear)
        if layer.activation != "linear":
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[layer.activation])())
    return torch.nn.Sequential(*modules)


def _check_mlp(model: object, who: str) -> None:
    if not isinstance(model, MLP):
        raise TypeError(f"{who} takes an MLP, received {type(model).__name__}")


def _check_dtype(torch: Any, dtype: Any) -> Any:
    if dtype is None:
        return torch.float64
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(
            f"dtype must be a floating torch dtype such as torch.float32 or torch.float64, "
            f"received {dtype!r:.60}"
        )
    return dtype


def _torch_slots(model: MLP, torch_model: Any) -> dict[int, tuple[Any, tuple[int, ...]]]:
    """For each parameter of `model` (by id): the torch tensor and index that hold it."""
    torch = _import_torch()
    if not isinstance(torch_model, torch.nn.Sequential):
        raise TypeError(
            f"torch_model must be the torch.nn.Sequential from to_torch(), received "
            f"{type(torch_model).__name__}"
        )
    linears = [m for m in torch_model if isinstance(m, torch.nn.Linear)]
    shapes = [(linear.in_features, linear.out_features) for linear in linears]
    if shapes != [(layer.nin, layer.nout) for layer in model.layers]:
        raise ValueError(
            f"torch_model's Linear layers {shapes} (in, out) do not match the MLP's "
            f"{[(layer.nin, layer.nout) for layer in model.layers]}"
        )
    slots: dict[int, tuple[Any, tuple[int, ...]]] = {}
    for layer, linear in zip(model.layers, linears):
        for j, neuron in enumerate(layer.neurons):
            slots[id(neuron.b)] = (linear.bias, (j,))
            for i, w in enumerate(neuron.w):
                slots[id(w)] = (linear.weight, (j, i))
    return slots


def optimizer_to_torch(optimizer: Optimizer, model: MLP, torch_model: Any) -> Any:
    """The `torch.optim` optimizer that continues `optimizer`'s run on `torch_model`.

    `torch_model` is `model.to_torch(...)`. The result has the same class (SGD, Adam, AdamW),
    param groups and hyperparameters, and the state gathered into tensors: SGD's momentum
    buffers, Adam's and AdamW's step counts and moments (and `max_exp_avg_sq` with amsgrad), so
    steps taken in torch follow the steps this optimizer would take. Each group must hold whole
    torch tensors: every weight of a layer, or none (a Linear's weight is one tensor in torch).
    """
    torch = _import_torch()
    if type(optimizer) not in (SGD, Adam, AdamW):
        # A subclass may step differently: torch's optimizer would not continue its run.
        subclass = (
            " (a subclass, whose step torch would not follow)"
            if isinstance(optimizer, (SGD, Adam))
            else ""
        )
        raise TypeError(
            f"optimizer_to_torch takes an SGD, Adam or AdamW, received "
            f"{type(optimizer).__name__}{subclass}"
        )
    _check_mlp(model, "optimizer_to_torch")
    slots = _torch_slots(model, torch_model)
    names = {id(p): name for name, p in model.named_parameters()}
    groups: list[dict[str, Any]] = []
    group_of_tensor: dict[int, int] = {}
    for g, group in enumerate(optimizer.param_groups):
        tensors: dict[int, Any] = {}
        for i, p in enumerate(group["params"]):
            if id(p) not in slots:
                raise ValueError(
                    f"param group {g} holds params[{i}] ({p!r}), which is not a parameter of "
                    "the MLP"
                )
            tensor = slots[id(p)][0]
            if group_of_tensor.setdefault(id(tensor), g) != g:
                raise ValueError(
                    f"{names[id(p)]} is in param group {g} but other weights of its torch tensor "
                    f"are in group {group_of_tensor[id(tensor)]}; torch steps a tensor as a whole"
                )
            tensors[id(tensor)] = tensor
        hyper = {k: v for k, v in group.items() if k not in ("params", "initial_lr")}
        groups.append({"params": list(tensors.values()), **hyper})
    # Every scalar of each tensor a group steps must be in that group.
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    for name, p in model.named_parameters():
        tensor = slots[id(p)][0]
        if id(tensor) in group_of_tensor and id(p) not in held:
            raise ValueError(
                f"the optimizer leaves out {name}, but torch would step it with the rest of "
                "its layer's tensor"
            )
    torch_class = {SGD: torch.optim.SGD, Adam: torch.optim.Adam, AdamW: torch.optim.AdamW}
    torch_optimizer = torch_class[type(optimizer)](groups)
    # Gather the per-scalar state into one tensor per parameter tensor.
    entries: dict[int, dict[str, Any]] = {}
    tensor_by_id: dict[int, Any] = {}
    for p in optimizer.params:
        tensor, index = slots[id(p)]
        tensor_by_id[id(tensor)] = tensor
        for key, value in optimizer.state.get(p, {}).items():
            entries.setdefault(id(tensor), {}).setdefault(key, {})[index] = (value, names[id(p)])
    for key_id, state in entries.items():
        tensor = tensor_by_id[key_id]
        torch_optimizer.state[tensor] = _gather_state(torch, tensor, state)
    return torch_optimizer


def _gather_state(
    torch: Any, tensor: Any, state: dict[str, dict[Any, tuple[Any, str]]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, values in state.items():
        if len(values) != tensor.numel():
            missing = tensor.numel() - len(values)
            raise ValueError(
                f"{missing} of the {tensor.numel()} weights of a torch tensor have no {key!r} "
                "yet while others do; torch keeps one per tensor"
            )
        if key == "step":
            steps = {value for value, _ in values.values()}
            if len(steps) != 1:
                raise ValueError(
                    f"the weights of one torch tensor have taken different numbers of steps "
                    f"{sorted(steps)}; torch keeps one count per tensor"
                )
            # torch keeps the count as a float tensor (float32 unless the default is float64).
            out[key] = torch.tensor(float(steps.pop()), dtype=torch.get_default_dtype())
            continue
        gathered = torch.zeros_like(tensor, memory_format=torch.contiguous_format)
        with torch.no_grad():
            for index, (value, _) in values.items():
                gathered[index] = value
        out[key] = gathered.detach()
    return out


def optimizer_from_torch(torch_optimizer: Any, torch_model: Any, model: MLP) -> Optimizer:
    """The `SGD`, `Adam` or `AdamW` that continues `torch_optimizer`'s run on `model`.

    `model` holds `torch_model`'s weights (`MLP.from_torch(torch_model)`). The way back of
    `optimizer_to_torch`: the same param groups and hyperparameters, and each tensor's state
    split into the state of its Values. Torch options this package does not have (`maximize`)
    are refused with their names.
    """
    torch = _import_torch()
    if not isinstance(torch_optimizer, (torch.optim.SGD, torch.optim.Adam)):
        raise TypeError(
            f"optimizer_from_torch takes a torch.optim SGD, Adam or AdamW, received "
            f"{type(torch_optimizer).__name__}"
        )
    _check_mlp(model, "optimizer_from_torch")
    slots = _torch_slots(model, torch_model)
    values_of: dict[int, list[tuple[Value, tuple[int, ...]]]] = {}
    for _, p in model.named_parameters():
        tensor, index = slots[id(p)]
        values_of.setdefault(id(tensor), []).append((p, index))
    is_sgd = isinstance(torch_optimizer, torch.optim.SGD)
    cls: type[SGD] | type[Adam] = SGD
    groups = []
    for g, group in enumerate(torch_optimizer.param_groups):
        if group.get("maximize"):
            raise ValueError(f"torch param group {g} has maximize=True, which this package lacks")
        if not is_sgd:
            cls = AdamW if group.get("decoupled_weight_decay") else Adam
        params = []
        for t, tensor in enumerate(group["params"]):
            if id(tensor) not in values_of:
                raise ValueError(
                    f"torch param group {g} holds params[{t}] (shape {tuple(tensor.shape)}), "
                    "which is not a Linear weight or bias of torch_model"
                )
            params += [p for p, _ in values_of[id(tensor)]]
        hyper = {k: group[k] for k in cls._HYPER}
        if "betas" in hyper:
            hyper["betas"] = tuple(hyper["betas"])
        groups.append({"params": params, **hyper})
    kinds = {
        AdamW if g.get("decoupled_weight_decay") else Adam for g in torch_optimizer.param_groups
    }
    if not is_sgd and len(kinds) > 1:
        raise ValueError("torch param groups mix Adam and AdamW weight decay; one optimizer here")
    optimizer = cls(groups)
    tensors = {id(t): t for group in torch_optimizer.param_groups for t in group["params"]}
    for tensor_id, tensor in tensors.items():
        state = torch_optimizer.state.get(tensor, {})
        for p, index in values_of[tensor_id]:
            own = {}
            for key, value in state.items():
                if key == "step":  # a float tensor in torch, a plain number in older versions
                    own[key] = value.item() if hasattr(value, "item") else value
                elif key in cls._STATE and value is not None:
                    own[key] = value[index].item()
            if own:
                optimizer.state[p] = optimizer._check_state(own, f"torch state of {p!r}")
    return optimizer


def _qualified(module: object) -> str:
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def _refuse_hooks(torch: Any, module: Any, where: str) -> None:
    """Raise if a forward hook (the module's own, or a global one) would change its output."""
    hooks = {
        "forward hook": getattr(module, "_forward_hooks", {}),
        "forward pre-hook": getattr(module, "_forward_pre_hooks", {}),
        "global forward hook": getattr(torch.nn.modules.module, "_global_forward_hooks", {}),
        "global forward pre-hook": getattr(
            torch.nn.modules.module, "_global_forward_pre_hooks", {}
        ),
    }
    for kind, registered in hooks.items():
        if registered:
            hook = next(iter(registered.values()))
            raise ValueError(
                f"{where} has a {kind} ({getattr(hook, '__qualname__', type(hook).__name__)}); "
                "from_torch copies weights only, so a hooked forward cannot be reproduced"
            )


def from_torch(sequential: Any) -> MLP:
    """An `MLP` with the layers and weights of a Sequential of Linear layers and activations.

    Every hidden layer must use the same activation (ReLU, Tanh, Sigmoid or none), as an MLP
    does; anything else raises a ValueError naming the module that does not fit. Only the
    classes themselves are accepted: a subclass (of Sequential, Linear or an activation) or a
    forward hook may compute something else, so it is refused, named.
    """
    torch = _import_torch()
    if type(sequential) is not torch.nn.Sequential:
        # A subclass may override forward(), which an MLP would not follow.
        subclass = isinstance(sequential, torch.nn.Sequential)
        raise TypeError(
            f"from_torch takes a torch.nn.Sequential, received {type(sequential).__name__}"
            + (
                f" ({_qualified(sequential)}, a subclass: its forward is not copied)"
                if subclass
                else ""
            )
        )
    _refuse_hooks(torch, sequential, "the Sequential")
    names = {cls: name for name, cls in TORCH_ACTIVATIONS.items()}
    linears: list[Any] = []
    activations: list[str] = []
    for index, module in enumerate(sequential):
        kind = type(module).__name__
        _refuse_hooks(torch, module, f"module {index} ({kind})")
        if isinstance(module, torch.nn.Linear) and type(module) is not torch.nn.Linear:
            raise ValueError(
                f"module {index} is {_qualified(module)}, a subclass of Linear; from_torch "
                "copies only torch.nn.Linear itself (a subclass may compute something else)"
            )
        if type(module) is torch.nn.Linear:
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
                f"module {index} is {kind} ({_qualified(module)}); from_torch understands "
                "torch.nn.Linear, ReLU, Tanh and Sigmoid (exactly those classes)"
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
