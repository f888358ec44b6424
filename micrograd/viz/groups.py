"""Which module of a model each node of a graph belongs to, for clusters and collapsed boxes.

A parameter belongs to the innermost module that holds it (found from `named_parameters()`
names). An op node with a parameter among its parents joins that parameter's module; one without
joins its parents' module when they all agree, so a neuron's sums and activation stay with the
neuron, while the next layer's `w * x` goes to the next neuron because its weight decides. A
constant joins its consumers' module when they agree; inputs and everything after the model
(a loss) belong to no module. This reads the model only through `named_parameters()` and
attribute access, so any `Module`-like object works. Drawing the result lives in `dot`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from micrograd.engine import Value


@dataclass(frozen=True)
class ModuleInfo:
    """A module inside the model: its dotted path ("" is the model), parent path and repr."""

    path: str
    parent: str | None
    description: str

    @property
    def title(self) -> str:
        """`path: repr`, or the repr alone for the model itself."""
        return f"{self.path}: {self.description}" if self.path else self.description


def module_tree(
    model: object,
) -> tuple[dict[int, str], dict[str, ModuleInfo], dict[int, str]]:
    """Maps: parameter id -> owning module path; module path -> info; parameter id -> short name.

    The short name is the parameter's name inside its owner (`w.0`, `b`).
    """
    named: Callable[[], Iterable[tuple[str, object]]] | None = getattr(
        model, "named_parameters", None
    )
    if not callable(named):
        raise TypeError(
            f"model must be a Module with named_parameters(), received {type(model).__name__}"
        )
    owner: dict[int, str] = {}
    modules: dict[str, ModuleInfo] = {"": ModuleInfo("", None, _one_line(model))}
    short: dict[int, str] = {}
    for name, parameter in named():
        parts = name.split(".")
        obj, path = model, ""
        for depth, part in enumerate(parts[:-1]):
            obj = _child(obj, part, name)
            if callable(getattr(obj, "named_parameters", None)):
                dotted = ".".join(parts[: depth + 1])
                if dotted not in modules:
                    modules[dotted] = ModuleInfo(dotted, path, _one_line(obj))
                path = dotted
        if id(parameter) not in owner:
            owner[id(parameter)] = path
            short[id(parameter)] = name[len(path) + 1 :] if path else name
    return owner, modules, short


def _one_line(module: object) -> str:
    """A module's repr on one line: `Layer(2, 2, activation='sigmoid')`, not its tree.

    A container's repr lists its children on further lines, which a cluster's label or a
    collapsed box would cut mid-line; its `extra_repr()` (PyTorch's name) says the same in one.
    """
    text = repr(module)
    extra = getattr(module, "extra_repr", None)
    if "\n" not in text or not callable(extra):
        return text
    return f"{type(module).__name__}({extra()})"


def _child(obj: object, part: str, name: str) -> object:
    """The member `part` of `obj` on the way to parameter `name`: item, dict value or attribute."""
    if isinstance(obj, (list, tuple)) and part.isdigit():
        return obj[int(part)]
    if isinstance(obj, Mapping):
        # named_parameters() writes a dict's keys as they are; int keys come back as digits.
        for key in (part, int(part) if part.lstrip("-").isdigit() else None):
            if key is not None and key in obj:
                return obj[key]
    if hasattr(obj, part):
        return getattr(obj, part)
    raise ValueError(
        f"cannot find {part!r} of parameter {name!r} in {type(obj).__name__}: the model's "
        "named_parameters() names a member that is not a list item, dict key or attribute"
    )


def assign_modules(order: Sequence[Value], owner: dict[int, str]) -> list[str | None]:
    """For each node of `order` (topological), the path of the module it belongs to, or None."""
    index = {id(node): i for i, node in enumerate(order)}
    found: list[str | None] = [None] * len(order)
    for i, node in enumerate(order):
        if not node.parents:
            found[i] = owner.get(id(node))
            continue
        owned = [owner[id(p)] for p in node.parents if id(p) in owner]
        if owned:
            found[i] = owned[0]
            continue
        # Every parent votes, constants too (with None): `1 - score` stays out of the model.
        votes = {found[index[id(p)]] for p in node.parents}
        if len(votes) == 1:
            found[i] = votes.pop()
    consumers: dict[int, set[str | None]] = {}
    for i, node in enumerate(order):
        for parent in node.parents:
            if not parent.parents and not parent.requires_grad:
                consumers.setdefault(index[id(parent)], set()).add(found[i])
    for i, groups in consumers.items():
        if len(groups) == 1:
            found[i] = next(iter(groups))
    return found
