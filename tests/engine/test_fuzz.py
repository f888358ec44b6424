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
The tape replays the same graphs (in Python to the bit, with numpy within rounding), and
`gradcheck` agrees with backward() wherever the function is smooth around the point.
Run longer with HYPOTHESIS_PROFILE=long.
"""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from micrograd import OPS, Value, gradcheck
from micrograd.engine import apply
from micrograd.tape import trace
from tests.edge_values import FUZZ_LEAVES
from tests.references import close, needs_torch, same, torch_functions

OP_NAMES = sorted(OPS)
inputs = st.one_of(st.sampled_from(FUZZ_LEAVES), st.floats(-5, 5), st.floats(allow_nan=True))


@st.composite
def graphs(draw, leaf_values=inputs):
    """(leaf values, steps): each step applies an op to earlier nodes, so nodes are reused."""
    leaves = draw(st.lists(leaf_values, min_size=1, max_size=4))
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


def all_nodes(leaf_values, steps) -> list[Value]:
    """Every node of the program, leaves first, built with overflow warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nodes = [Value(x) for x in leaf_values]
        for op_name, args in steps:
            nodes.append(apply(OPS[op_name], *[nodes[a] for a in args]))
    return nodes


def local_grads(nodes) -> list[float]:
    """Each op node's local derivative for each of its parents, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return [
            local_grad(*[p.data for p in node.parents], node.data)
            for node in nodes
            if node.op is not None
            for local_grad in node.op.local_grads
        ]


def near_float_limits(leaf_values, steps) -> bool:
    nodes = all_nodes(leaf_values, steps)
    extreme = [n.data for n in nodes] + local_grads(nodes)
    return any(not math.isfinite(x) or abs(x) > 1e300 or 0.0 < abs(x) < 1e-300 for x in extreme)


def trig_of_large_argument(leaf_values, steps) -> bool:
    nodes = all_nodes(leaf_values, steps)
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


def largest_finite(leaf_values, steps) -> float:
    """The largest finite magnitude among values and local derivatives: the rounding scale."""
    nodes = all_nodes(leaf_values, steps)
    numbers = [n.data for n in nodes] + local_grads(nodes)
    return max([1.0] + [abs(x) for x in numbers if math.isfinite(x)])


@given(graphs())
@example(([-math.inf, 0.5], [("pow", [0, 1])]))  # numpy's scalar power says nan here
@example(([0.0], [("relu", [0]), ("add", [1, 1]), ("add", [2, 1])]))  # a chain of additions
def test_tape_replay_matches_eager_including_edge_values(graph):
    leaf_values, steps = graph
    data, grads = run_ours(leaf_values, steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tape = trace(lambda *xs: build(xs, steps, lambda n, *a: apply(OPS[n], *a)), leaf_values)
        replay = tape.run(leaf_values)
    # Python replay: the same op functions in the same order, so the same numbers.
    assert same(replay.outputs[0], data), (replay.outputs[0], data)
    for ours, reference in zip(replay.input_grads, grads):
        assert same(ours, reference), (replay.input_grads, grads)
    pytest.importorskip("numpy")  # the core tests run without it; the rest needs it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batch = tape.run_batch([leaf_values, leaf_values], reduce="sum", backend="numpy")
    # numpy replay: numpy's functions may round differently in the last bit, which the graph
    # can magnify, but never beyond the scale of its largest number.
    scale = largest_finite(leaf_values, steps)
    lenient = near_float_limits(leaf_values, steps)
    for lane in range(2):
        pairs = [(float(batch.outputs[lane][0]), data)]
        pairs += [(float(g), reference) for g, reference in zip(batch.input_grads[lane], grads)]
        for ours, reference in pairs:
            if lenient and not (math.isfinite(ours) and math.isfinite(reference)):
                continue
            assert close(ours, reference, rel=1e-9, abs_=1e-9 * scale), (ours, reference)


def smooth_around(leaf_values, steps, eps: float) -> bool:
    """Whether every value stays finite and moderate, with no kink crossed, within eps."""
    points = [list(leaf_values)]
    for i in range(len(leaf_values)):
        for shift in (-eps, eps):
            point = list(leaf_values)
            point[i] += shift
            points.append(point)
    signs = None
    for point in points:
        nodes = all_nodes(point, steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            nodes[-1].backward()
        numbers = [n.data for n in nodes] + [n.grad for n in nodes]
        if not all(math.isfinite(x) and abs(x) < 1e4 for x in numbers):
            return False
        # Kinks: relu and abs at 0; pow with a base at or below 0 (log of the base); maximum,
        # clamp_min and the like where their two inputs meet.
        kinks = [
            (n.parents[0].data > 0.0, abs(n.parents[0].data) > 10 * eps)
            for n in nodes
            if n.op is not None and n.op.name in ("relu", "abs", "pow")
        ] + [
            (gap > 0.0, abs(gap) > 10 * eps or n.parents[0] is n.parents[1])
            for n in nodes
            if n.op is not None and n.op.kink_where_equal
            for gap in [n.parents[0].data - n.parents[1].data]
        ]
        if not all(away for _, away in kinks):
            return False
        if signs is None:
            signs = [side for side, _ in kinks]
        elif signs != [side for side, _ in kinks]:
            return False
    return not any(n.op.name == "pow" and n.parents[0].data <= 0.0 for n in nodes[len(point) :])


@given(graphs(leaf_values=st.floats(-3.0, 3.0)))
def test_gradcheck_agrees_where_the_function_is_smooth(graph):
    leaf_values, steps = graph
    assume(smooth_around(leaf_values, steps, eps=1e-4))

    def f(*xs):
        return build(xs, steps, lambda name, *a: apply(OPS[name], *a))

    assert gradcheck(f, leaf_values, eps=1e-6, atol=1e-4, rtol=1e-3)
