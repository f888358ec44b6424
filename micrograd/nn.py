"""Neural-network building blocks made of `Value`s: `Module`, `Neuron`, `Layer`, `MLP`.

A Neuron, Layer or MLP makes its weights and biases as `Parameter`s and packs them into one store
in `parameters()` order (see `micrograd.parameter`), so a tape reads them as one array.

Names follow PyTorch (`parameters()`, dotted `named_parameters()`, `state_dict()`, ...), and the
classes accept the calls of Karpathy's micrograd 0.1.0 (`Neuron(nin, nonlin=False)`,
`MLP(nin, nouts)`) with the same results. Losses, optimizers and saving to files live elsewhere.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from micrograd.data import Seed, _rng
from micrograd.engine import Number, Value
from micrograd.numeric import as_row, count, flag
from micrograd.parameter import Parameter, StoredParameter, pack, to_slots

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class for anything built of Values; finds parameters in its attributes.

    Parameters are the leaf `Value`s (with `requires_grad`, or frozen by `requires_grad_(False)`)
    held in attributes, directly, in lists, tuples or str-keyed dicts, or inside sub-`Module`s,
    named by the attribute path: `layers.0.neurons.1.w.0`, `heads.a.w.0`. A list, tuple or dict
    is entered only when its first item is a Value, a Module or such a container: one that starts
    with plain data (a history of losses, a table) is data, however long, and is not walked.
    """

    training: bool = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it (or `__call__`, as micrograd 0.1.0 did)."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def _walk(
        self, *, recurse: bool = True, prefix: str = ""
    ) -> Iterator[tuple[str, Value | Module, frozenset[int] | set[int]]]:
        """Every Value and Module reachable through attributes, depth first, with its name.

        Also yields, with each item, the ids of the parameters frozen by `requires_grad_(False)`
        that the walk has learnt of so far. A module, list, tuple or dict reached a second time
        (`self.me = self`, a child holding its parent) is walked only the first time, under its
        first name. Without `recurse`, sub-modules are yielded but not entered.
        """
        seen: set[int] = set()
        frozen: set[int] = set()
        # Each entry: (name, object, why its name cannot be used, if it cannot).
        stack: list[tuple[str, object, str | None]] = [(prefix, self, None)]
        while stack:
            name, obj, bad_name = stack.pop()
            if bad_name is not None and (
                isinstance(obj, Module) or _is_parameter(obj) or id(obj) in frozen
            ):
                kind = "module" if isinstance(obj, Module) else "parameter"
                raise TypeError(f"the {kind} {name} is held {bad_name}")
            if isinstance(obj, Value):
                yield name, obj, frozen
                continue
            if id(obj) in seen:
                continue
            dot = f"{name}." if name else ""
            if isinstance(obj, (list, tuple)):
                if _holds_parameters(obj):
                    seen.add(id(obj))
                    # Indices are always valid names: no key check on this, the busiest path.
                    stack.extend(
                        (f"{dot}{i}", member, bad_name)
                        for i, member in reversed(list(enumerate(obj)))
                    )
                continue
            if isinstance(obj, Module):
                seen.add(id(obj))
                yield name, obj, frozen
                if obj is not self and not recurse:
                    continue
                members = [(k, v) for k, v in _attributes(obj) if k != _FROZEN]
                frozen.update(id(p) for p in vars(obj).get(_FROZEN, ()))
            elif isinstance(obj, Mapping) and _holds_parameters(obj):
                seen.add(id(obj))
                members = list(obj.items())
            else:
                continue
            for key, member in reversed(members):
                stack.append((f"{dot}{key}", member, bad_name or _bad_key(obj, key)))

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, parameter) pairs in a fixed order; a shared parameter appears once.

        Parameters are leaf Values that require grad, or were frozen by `requires_grad_(False)`;
        a Value made by an op (say an output cached in `forward`) is a result, not a parameter,
        and a leaf made with `requires_grad=False` is a constant.
        """
        seen: set[int] = set()
        found = []
        for name, obj, frozen in self._walk():
            if (
                isinstance(obj, Value)
                and not obj.parents
                and (obj.requires_grad or id(obj) in frozen)
                and id(obj) not in seen
            ):
                seen.add(id(obj))
                found.append((name, obj))
        return found

    def parameters(self) -> list[Value]:
        """All parameters, in the order of `named_parameters()`."""
        return [p for _, p in self.named_parameters()]

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """(dotted name, module) for this module (named `prefix`, "" by default) and every one
        inside it, depth first in attribute order, each once, as PyTorch's `named_modules()`."""
        return [
            (name, obj) for name, obj, _ in self._walk(prefix=prefix) if isinstance(obj, Module)
        ]

    def modules(self) -> list[Module]:
        """This module and every module inside it, in the order of `named_modules()`."""
        return [module for _, module in self.named_modules()]

    def named_children(self) -> list[tuple[str, Module]]:
        """(name, module) for the modules held directly, not inside another module.

        A module in a list or dict is a child named by its path: `layers.0`, `heads.a`.
        """
        return [
            (name, obj)
            for name, obj, _ in self._walk(recurse=False)
            if isinstance(obj, Module) and obj is not self
        ]

    def children(self) -> list[Module]:
        """The modules held directly, in the order of `named_children()`."""
        return [module for _, module in self.named_children()]

    def apply(self, fn: Callable[[Module], object]) -> Module:
        """Call `fn` on every sub-module, children before parents, then on self; returns self.

        The order is PyTorch's: depth first, each module after all the modules inside it.
        """
        if not callable(fn):
            raise TypeError(f"apply takes a function of a module, received {type(fn).__name__}")
        done: set[int] = {id(self)}
        # Iterative post-order: (module, its children already pushed?).
        stack: list[tuple[Module, bool]] = [(self, False)]
        while stack:
            module, expanded = stack.pop()
            if expanded:
                fn(module)
                continue
            stack.append((module, True))
            for child in reversed(module.children()):
                if id(child) not in done:
                    done.add(id(child))
                    stack.append((child, False))
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter; returns self.

        Frozen parameters stay parameters (in `parameters()`, `state_dict()` and saved files),
        take no gradient in `backward()`, and optimizers leave them alone, as in PyTorch.
        """
        flag(requires_grad, "requires_grad")
        # Each module inside remembers which of its parameters are frozen, so a walk from it,
        # or from a module holding it, still finds them once they no longer require grad.
        held = [(module, module.parameters()) for module in self.modules()]
        for p in self.parameters():
            p.requires_grad = requires_grad
        for module, params in held:
            old = vars(module).get(_FROZEN, [])
            if requires_grad:
                ids = {id(p) for p in params}
                kept = [p for p in old if id(p) not in ids]
            else:
                ids = {id(p) for p in old}
                kept = old + [p for p in params if id(p) not in ids]
            if kept:
                vars(module)[_FROZEN] = kept
            else:
                vars(module).pop(_FROZEN, None)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's grad to 0.0.

        `set_to_none` is accepted for PyTorch's sake and changes nothing: a grad here is a float
        that `backward()` adds into, and 0.0 is how "no gradient yet" reads.
        """
        flag(set_to_none, "set_to_none")
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> Module:
        """Put this module and its sub-modules in training mode (or eval mode); returns self."""
        flag(mode, "training mode")  # train("no") would otherwise mean training, being truthy
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Put this module and its sub-modules in evaluation mode; returns self."""
        return self.train(False)

    def state_dict(self) -> dict[str, float]:
        """Parameter values by dotted name."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(
        self, state_dict: Mapping[str, object], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values from `state_dict` into the parameters of the same name.

        Everything is checked before anything is written, so on error the module is unchanged.
        With `strict`, missing and unexpected keys are errors; without, they are returned.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict takes a mapping of name to number, received "
                f"{type(state_dict).__name__}"
            )
        own = dict(self.named_parameters())
        missing = [name for name in own if name not in state_dict]
        unexpected = [str(name) for name in state_dict if name not in own]
        if strict and (missing or unexpected):
            problems = []
            if missing:
                problems.append(f"missing keys {missing}")
            if unexpected:
                problems.append(f"unexpected keys {unexpected}")
            # RuntimeError, as PyTorch raises here (a KeyError would quote its message).
            raise RuntimeError(
                f"state_dict does not match {type(self).__name__}: {'; '.join(problems)}"
            )
        updates = []
        for name, param in own.items():
            if name in state_dict:
                updates.append((param, _state_number(name, state_dict[name])))
        for param, number in updates:
            param.data = number
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str | os.PathLike[str], *, overwrite_read_only: bool = False) -> None:
        """Write this module to a JSON model file, atomically (see `micrograd.serialize`).

        A path that is not a regular file (a folder, FIFO, device) is refused, and so is a
        read-only file unless `overwrite_read_only=True`.
        """
        from micrograd.serialize import save  # lazily: serialize builds on nn

        save(self, path, overwrite_read_only=overwrite_read_only)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Module:
        """A new module of this class, read and checked from a file written by `save()`.

        `max_bytes` raises the size limit for the file (`micrograd.serialize.MAX_FILE_BYTES`).
        """
        from micrograd.serialize import load

        if max_bytes is None:
            return load(path, expected=cls)
        return load(path, expected=cls, max_bytes=max_bytes)

    def extra_repr(self) -> str:
        """The arguments shown inside this module's repr."""
        return ""

    def __repr__(self) -> str:
        return self._repr_tree()

    def _repr_tree(self) -> str:
        """PyTorch's layout: `Name(extra)`, or one line per child, indented, when it has some.

        Consecutive children of one list with the same repr are shown once, as PyTorch shows a
        `ModuleList`: `(neurons.0-15): 16 x Neuron(2, activation='relu')`. Built with an
        explicit stack, children before their parent, as (indent, text) lines joined once at the
        end, so modules nested thousands deep print, in time linear in the lines shown.
        """
        # Each frame: [module, its children, next child, (name, lines) of those done, own name].
        stack: list[list[Any]] = [[self, self.named_children(), 0, [], ""]]
        ancestors = {id(self)}  # a child that holds its parent is named, not walked again
        while True:
            module, children, i, done, own_name = stack[-1]
            if i < len(children):
                stack[-1][2] += 1
                child_name, child = children[i]
                if id(child) in ancestors:
                    done.append((child_name, [(0, f"<{type(child).__name__} shown above>")]))
                else:
                    ancestors.add(id(child))
                    stack.append([child, child.named_children(), 0, [], child_name])
                continue
            stack.pop()
            ancestors.discard(id(module))
            lines = _layout(type(module).__name__, module.extra_repr(), done)
            if not stack:
                return "\n".join("  " * indent + text for indent, text in lines)
            stack[-1][3].append((own_name, lines))


Lines = list[tuple[int, str]]


def _layout(name: str, extra: str, children: list[tuple[str, Lines]]) -> Lines:
    """A module's repr lines from its extra_repr() and its children's (name, lines)."""
    if not children:
        return [(0, f"{name}({extra})")]
    lines: Lines = [(0, f"{name}(")]
    lines += [(1, line) for line in extra.split("\n")] if extra else []
    groups: list[list[Any]] = []  # [first name, last name, count, lines]
    for child_name, child_lines in children:
        head, _, tail = child_name.rpartition(".")
        if groups and tail.isdigit() and child_lines == groups[-1][3]:
            last_head, _, last_tail = groups[-1][1].rpartition(".")
            if last_head == head and last_tail.isdigit() and int(last_tail) + 1 == int(tail):
                groups[-1][1:3] = [child_name, groups[-1][2] + 1]
                continue
        groups.append([child_name, child_name, 1, child_lines])
    for first, last, repeats, child_lines in groups:
        if repeats == 1:
            label = f"({first}): "
        else:
            label = f"({first}-{last.rpartition('.')[2]}): {repeats} x "
        lines.append((1, label + child_lines[0][1]))
        lines += [(indent + 1, text) for indent, text in child_lines[1:]]
    lines.append((0, ")"))
    return lines


# Where `requires_grad_(False)` keeps a module's frozen parameters (skipped by the walk).
_FROZEN = "_frozen_parameters"
# How deep `_holds_parameters` looks down first items before it gives up and walks.
_PEEK_DEPTH = 8


def _is_parameter(obj: object) -> bool:
    """A leaf Value that requires grad; a Value made by an op is a result, not a parameter."""
    return isinstance(obj, Value) and obj.requires_grad and not obj.parents


def _holds_parameters(
    container: list[object] | tuple[object, ...] | Mapping[object, object],
) -> bool:
    """Whether a walk enters this container: its first item is a Value, a Module, or such a
    container. A list that starts with plain data (say 200,000 past losses) costs nothing."""
    item: object = container
    for _ in range(_PEEK_DEPTH):
        if isinstance(item, Mapping):
            if not item:
                return False
            item = next(iter(item.values()))
        elif isinstance(item, (list, tuple)):
            if not item:
                return False
            item = item[0]
        else:
            return isinstance(item, (Value, Module))
    return True


def _bad_key(container: object, key: object) -> str | None:
    """Why `key` in `container` cannot be part of a dotted name, or None when it can."""
    if isinstance(container, (list, tuple)):
        return None
    where = "in the attribute" if isinstance(container, Module) else "in a dict under the key"
    if not isinstance(key, str):
        return f"{where} {key!r} ({type(key).__name__}); expected str keys, as they become names"
    if not key or "." in key:
        # "x.y" next to "x": {"y": ...} would give two parameters one name (PyTorch refuses too).
        return (
            f"{where} {key!r}; expected a non-empty name without '.', as dots join the parts "
            "of a parameter's name"
        )
    return None


def _state_number(name: str, value: object) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(
                f"state_dict[{name!r}] is too large for a float: {value!r:.60}"
            ) from None
    if isinstance(value, (list, tuple)):
        raise ValueError(
            f"state_dict[{name!r}] has {len(value)} values; the parameter is one number"
        )
    raise TypeError(
        f"state_dict[{name!r}] must be a number, received {type(value).__name__}: {value!r:.60}"
    )


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}, received {activation!r}"
        )
    return activation


def _attributes(module: Module) -> list[tuple[str, object]]:
    """A module's attributes: its `__dict__`, then the `__slots__` of its classes that are set.

    A subclass with `__slots__` keeps its weights there, out of `vars()`; missing them would
    make `parameters()` and `save()` silently skip them.
    """
    found = list(vars(module).items())
    for cls in type(module).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            try:
                found.append((slot, getattr(module, slot)))
            except AttributeError:  # declared, never set
                pass
    return found


def _as_inputs(
    x: Sequence[Value | Number] | Value | Number, nin: int, who: str
) -> list[Value | Number]:
    if isinstance(x, (Value, numbers.Real)):
        x = [x]  # a single input, as passed between layers of width 1
    try:
        row = as_row(x, who)  # the one row policy (numeric.py); a numpy row gives Python floats
    except TypeError:
        dims = getattr(x, "ndim", None)
        shape = f" of {dims} dimensions" if isinstance(dims, int) else ""
        raise TypeError(
            f"{who} takes a sequence (or 1-D array) of {nin} numbers or Values, received "
            f"{type(x).__name__}{shape}"
        ) from None
    if len(row) != nin:
        raise ValueError(f"{who} expects {nin} inputs, received {len(row)}")
    return row


def _own_parameters(module: Neuron | Layer | MLP) -> list[Parameter]:
    """The Parameters a freshly built Neuron, Layer or MLP holds, in `parameters()` order.

    Each packs them into one store (a Layer its neurons', an MLP its layers'), so that a tape
    reads the model's numbers as one array; a test checks that the order is `parameters()`'s.
    """
    if isinstance(module, Neuron):
        return [p for p in (*module.w, module.b) if isinstance(p, Parameter)]
    inner = module.neurons if isinstance(module, Layer) else module.layers
    return [p for child in inner for p in _own_parameters(child)]


class Neuron(Module):
    """One unit: activation(w · x + b), weights uniform in [-1, 1], bias 0."""

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        *,
        activation: str | None = None,
        seed: Seed = None,
    ) -> None:
        """`activation` (relu, tanh, sigmoid, linear) overrides 0.1.0's `nonlin` switch.

        `seed` is an int or a `random.Random` for reproducible weights; without one the weights
        come from the global `random` module, as in micrograd 0.1.0.
        """
        self.nin: int = count(nin, "nin", 1)
        rng = _rng(seed, unseeded_global=True)
        self.w: list[Value] = [Parameter(rng.uniform(-1, 1)) for _ in range(self.nin)]
        self.b: Value = Parameter(0.0)
        pack(_own_parameters(self))
        if activation is None:
            activation = "relu" if nonlin else "linear"
        self.activation: str = _check_activation(activation)
        self.nonlin: bool = activation != "linear"

    def forward(self, x: Sequence[Value | Number] | Value | Number) -> Value:
        """activation(b + w[0] * x[0] + w[1] * x[1] + ...)."""
        x = _as_inputs(x, self.nin, "Neuron")
        if type(self.b) is StoredParameter:  # a tape trained it: its numbers back to the slots,
            to_slots((*self.w, self.b))  # where eager ops read them fastest
        # Summed from the bias, in the order micrograd 0.1.0 used, for identical rounding.
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        nonlinearity = ACTIVATIONS[self.activation]
        return act if nonlinearity is None else nonlinearity(act)

    def extra_repr(self) -> str:
        """The constructor arguments shown in `repr()`."""
        return f"{self.nin}, activation={self.activation!r}"


class Layer(Module):
    """`nout` neurons reading the same inputs; returns a list, or one Value when nout is 1."""

    def __init__(
        self,
        nin: int,
        nout: int,
        nonlin: bool = True,
        *,
        activation: str | None = None,
        seed: Seed = None,
    ) -> None:
        self.nin: int = count(nin, "nin", 1)
        self.nout: int = count(nout, "nout", 1)
        rng = _rng(seed, unseeded_global=True)
        self.neurons: list[Neuron] = [
            Neuron(nin, nonlin, activation=activation, seed=rng) for _ in range(nout)
        ]
        pack(_own_parameters(self))
        self.activation: str = self.neurons[0].activation

    def forward(self, x: Sequence[Value | Number] | Value | Number) -> Value | list[Value]:
        """Each neuron applied to x."""
        x = _as_inputs(x, self.nin, "Layer")
        out = [neuron(x) for neuron in self.neurons]
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        """The constructor arguments shown in `repr()`."""
        return f"{self.nin}, {self.nout}, activation={self.activation!r}"


class MLP(Module):
    """A multi-layer perceptron: `activation` on hidden layers, `output_activation` last."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        *,
        activation: str = "relu",
        output_activation: str = "linear",
        seed: Seed = None,
    ) -> None:
        """`MLP(2, [16, 16, 1])`: two inputs, two hidden layers of 16, one output.

        Defaults match micrograd 0.1.0 (ReLU hidden layers, linear output). `seed` as in
        `Neuron`.
        """
        self.nin: int = count(nin, "nin", 1)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, received {nouts!r}")
        self.nouts: list[int] = [count(n, "each layer size in nouts", 1) for n in nouts]
        # Both checked up front: with no hidden layer `activation` is unused, but still a typo.
        _check_activation(activation)
        _check_activation(output_activation)
        rng = _rng(seed, unseeded_global=True)
        sizes = [nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers: list[Layer] = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation=output_activation if i == last else activation,
                seed=rng,
            )
            for i in range(len(self.nouts))
        ]
        self.activation = activation
        self.output_activation = output_activation
        pack(_own_parameters(self))

    def forward(self, x: Sequence[Value | Number] | Value | Number) -> Value | list[Value]:
        """The layers in turn; one Value out when the last layer has one neuron."""
        out: Value | list[Value] = self.layers[0](x)  # __init__ made at least one layer
        for layer in self.layers[1:]:
            out = layer(out)
        return out

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this architecture (stored in model files)."""
        return {
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
        }

    def to_torch(self, dtype: Any = None) -> Any:
        """An equivalent `torch.nn.Sequential`, float64 unless `dtype` says otherwise (needs
        PyTorch; see `micrograd.interop`)."""
        from micrograd.interop import to_torch  # lazily: torch is optional

        return to_torch(self, dtype)

    @classmethod
    def from_torch(cls, sequential: Any) -> MLP:
        """An MLP with the layers and weights of a `torch.nn.Sequential` of Linear layers."""
        from micrograd.interop import from_torch

        return from_torch(sequential)

    def extra_repr(self) -> str:
        """The constructor arguments shown in `repr()`."""
        return (
            f"{self.nin}, {self.nouts}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r}"
        )
