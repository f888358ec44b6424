"""Fuzzing: random graphs over every op in the registry, with reuse and edge values.

The engine may only warn (RuntimeWarning) on any input, never raise; where PyTorch float64
gives a result, ours is the same, nan and infinities included, except that in a graph holding
a value near the edge of the float range (an infinity, a magnitude above 1e300 or a subnormal)
one engine may overflow where the other does not: `(1 / x) * g` and `g / x` round differently.
And where a local derivative is nan or infinite but multiplied by a zero (x ** relu(x) at x < 0
meets log(x) = nan), we follow IEEE (0 * nan = nan) while PyTorch masks some such cases to 0.
Where sin or cos gets an argument beyond 1e3 in magnitude, only nan must agree: a last-bit
difference in that argument (PyTorch's exp and libm's may differ by one ulp) moves the result by
|x| ulps, which at 1e8 is 2e-9.
Run longer with HYPOTHESIS_PROFILE=long.
"""

from __future__ import annotations

import math
import warnings

from hypothesis import example, given
from hypothesis import strategies as st

from micrograd import OPS, Value
from micrograd.engine import apply
from tests.references import close, needs_torch, torch_functions

OP_NAMES = sorted(OPS)
EDGE_VALUES = [
    0.0,
    -0.0,
    1e-310,
    -1e-310,
    1e-8,
    1.0,
    -1.0,
    710.0,
    -710.0,
    1e308,
    -1e308,
    math.inf,
    -math.inf,
    math.nan,
]
inputs = st.one_of(st.sampled_from(EDGE_VALUES), st.floats(-5, 5), st.floats(allow_nan=True))


@st.composite
def graphs(draw):
    """(leaf values, steps): each step applies an op to earlier nodes, so nodes are reused."""
    leaves = draw(st.lists(inputs, min_size=1, max_size=4))
    steps = []
    for i in range(draw(st.integers(1, 10))):
        op_name = draw(st.sampled_from(OP_NAMES))
        args = [draw(st.integers(0, len(leaves) + i - 1)) for _ in range(OPS[op_name].arity)]
        steps.append((op_name, args))
    return leaves, steps


def build(leaves, steps, apply_op):
    nodes = list(leaves)
    for op_name, args in steps:
        nodes.append(apply_op(op_name, *[nodes[a] for a in args]))
    return nodes[-1]


def run_ours(leaf_values, steps):
    leaves = [Value(x) for x in leaf_values]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = build(leaves, steps, lambda name, *xs: apply(OPS[name], *xs))
        out.backward()
    return out.data, [leaf.grad for leaf in leaves]


# Cancellation (tanh' = 1 - out * out near saturation) turns last-bit differences in `out`
# into absolute errors near 1e-17, hence an absolute tolerance as well as a relative one.


def near_float_limits(leaf_values, steps) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nodes = [Value(x) for x in leaf_values]
        for op_name, args in steps:
            nodes.append(apply(OPS[op_name], *[nodes[a] for a in args]))
        local_grads = [
            local_grad(*[p.data for p in node.parents], node.data)
            for node in nodes
            if node.op is not None
            for local_grad in node.op.local_grads
        ]
    extreme = [n.data for n in nodes] + local_grads
    return any(not math.isfinite(x) or abs(x) > 1e300 or 0.0 < abs(x) < 1e-300 for x in extreme)


def trig_of_large_argument(leaf_values, steps) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nodes = [Value(x) for x in leaf_values]
        for op_name, args in steps:
            nodes.append(apply(OPS[op_name], *[nodes[a] for a in args]))
    trig = [node.parents[0].data for node in nodes if node.op in (OPS["sin"], OPS["cos"])]
    return any(abs(x) > 1e3 for x in trig)


@given(graphs())
def test_engine_never_raises(graph):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # anything but a RuntimeWarning is a failure
        warnings.simplefilter("ignore", RuntimeWarning)
        data, grads = run_ours(*graph)
    assert isinstance(data, float) and all(isinstance(g, float) for g in grads)


@needs_torch
@given(graphs())
@example(([-1.0], [("relu", [0]), ("pow", [0, 1])]))  # x ** relu(x): 0 * log(-1)
@example(([1e-310, 0.0], [("log", [0]), ("exp", [2])]))  # 1 / subnormal overflows
@example(([10.0], [("tanh", [0])]))  # 1 - tanh(10) ** 2 cancels
@example(([0.0, 1001.0], [("relu", [0]), ("sin", [1]), ("log", [2])]))  # both of the above
@example(  # sin(exp(x ** x + sigmoid(x))) at x = 2.79: sin of 1.05e8
    (
        [2.7905453880549107],
        [("pow", [0, 0]), ("sigmoid", [0]), ("add", [1, 2]), ("exp", [3]), ("sin", [4])],
    )
)
def test_matches_pytorch_including_nan_and_inf(graph):
    import torch

    leaf_values, steps = graph
    data, grads = run_ours(leaf_values, steps)
    functions = torch_functions()
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaf_values]
    out = build(leaves, steps, lambda name, *xs: functions[name](*xs))
    out.backward()
    pairs = [(data, out.item())]
    pairs += [(ours, 0.0 if t.grad is None else t.grad.item()) for ours, t in zip(grads, leaves)]
    lenient = near_float_limits(leaf_values, steps)
    ill_conditioned = trig_of_large_argument(leaf_values, steps)
    for ours, theirs in pairs:
        if lenient and not (math.isfinite(ours) and math.isfinite(theirs)):
            continue
        if ill_conditioned:
            assert math.isnan(ours) == math.isnan(theirs), (ours, theirs)
            continue
        assert close(ours, theirs, rel=1e-9, abs_=1e-12), (ours, theirs)
