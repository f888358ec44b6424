"""Independent references shared by the tests: PyTorch float64 (when installed) and helpers."""

from __future__ import annotations

import importlib.util
import math
import re

import pytest
from hypothesis import settings

from micrograd.ops import Op

HAVE_TORCH = importlib.util.find_spec("torch") is not None
# A cross-check against PyTorch: the test gets the `torch` fixture (tests/conftest.py), so it is
# marked `torch` (`python -m pytest -m torch` runs these alone) and skipped without PyTorch.
needs_torch = pytest.mark.usefixtures("torch")


# PyTorch's version of each primitive op, by op name, as its path in the `torch` module. An op
# added to micrograd.OPS adds its line here: every op-driven test then checks it.
TORCH_NAMES = {
    "add": "add",
    "mul": "mul",
    "pow": "pow",
    "exp": "exp",
    "log": "log",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "relu": "relu",
    "abs": "abs",
    "sin": "sin",
    "cos": "cos",
    "square": "square",
    "maximum": "maximum",
    "minimum": "minimum",
    "clamp_min": "clamp_min",
    "clamp_max": "clamp_max",
}


def torch_functions() -> dict:
    """PyTorch's version of each primitive op, by op name (see `TORCH_NAMES`)."""
    import torch

    functions = {}
    for name, path in TORCH_NAMES.items():
        found = torch
        for part in path.split("."):
            found = getattr(found, part)
        functions[name] = found
    return functions


def numpy_functions(np) -> dict:
    """numpy's version of the ops numpy has, by op name: an IEEE reference for the edge values
    that needs no PyTorch. Optional: an op without one is checked against PyTorch only."""
    return {
        "add": np.add,
        "mul": np.multiply,
        "pow": np.power,
        "exp": np.exp,
        "log": np.log,
        "tanh": np.tanh,
        "sigmoid": lambda v: np.float64(0.5) * (np.tanh(v / 2) + 1),
        "relu": lambda v: np.where(np.isnan(v), v, np.maximum(v, 0.0)),
        "abs": np.abs,
        "sin": np.sin,
        "cos": np.cos,
        "square": np.square,
        "maximum": np.maximum,
        "minimum": np.minimum,
        "clamp_min": np.maximum,
        "clamp_max": np.minimum,
    }


def torch_value_and_grads(fn_name: str, inputs: list[float]) -> tuple[float, list[float]]:
    """Forward value and input gradients of one PyTorch op in float64."""
    import torch

    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = torch_functions()[fn_name](*leaves)
    out.backward()
    return out.item(), [leaf.grad.item() for leaf in leaves]


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    """Equal within tolerance, treating nan == nan and equal infinities as equal."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def same(ours: float, reference: float, rel: float = 0.0) -> bool:
    """Equal (zeros of either sign alike), nan equal to nan; or within `rel` when it is given."""
    if math.isnan(ours) or math.isnan(reference):
        return math.isnan(ours) and math.isnan(reference)
    return ours == reference or math.isclose(ours, reference, rel_tol=rel, abs_tol=0.0)


# An op of three inputs, which no record in OPS has: the engine's general path is tested with it.
FUSED_MULTIPLY_ADD = Op(
    "fma",
    "fma",
    forward=lambda x, y, z: x * y + z,
    local_grads=(lambda x, y, z, out: y, lambda x, y, z, out: x, lambda x, y, z, out: 1.0),
    domain=((-1.0, 1.0),) * 3,
)


def examples(ci_count: int) -> int:
    """A hypothesis `max_examples` of `ci_count` under the "ci" profile, scaled to the loaded one.

    A test that asks for more (or fewer) examples than the profile's 60 keeps that ratio in the
    quick loop (15 per 60) and in the long profile, instead of overriding both with one count.
    """
    ci = settings.get_profile("ci").max_examples  # registered in conftest.py
    return max(1, round(ci_count * settings.default.max_examples / ci))


def facts(*pieces: str) -> str:
    """A `pytest.raises(match=...)` pattern: each piece appears in the message, in any order.

    Error-message tests pin the facts a message must carry (names, numbers, types), not its
    wording, so that the prose can be improved without touching the tests.
    """
    return "(?s)" + "".join(f"(?=.*{re.escape(piece)})" for piece in pieces)
