"""The graph walks of `micrograd.autodiff`, against each other and against PyTorch float64."""

from __future__ import annotations

import math

import pytest

from micrograd import Value, autodiff
from micrograd.autodiff import backpropagate, gradient_table, sort_for_backward, topological_order
from tests.references import needs_torch


def neuron() -> tuple[Value, list[Value]]:
    """The lecture's neuron: o = tanh(x1 w1 + x2 w2 + b), with its leaves."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    return o, [x1, x2, w1, w2, b]


def test_topological_order_puts_parents_first_and_the_root_last():
    o, leaves = neuron()
    order = topological_order(o)
    position = {id(node): i for i, node in enumerate(order)}
    assert order[-1] is o and len(order) == len(position)
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node.parents)
    assert all(id(leaf) in position for leaf in leaves)


def test_sort_for_backward_zeroes_only_intermediate_grads():
    a = Value(3.0)
    a.grad = 5.0
    b = a * a
    b.grad = 7.0
    order, seen = sort_for_backward(b, reset_grads=True)
    assert (a.grad, b.grad) == (5.0, 0.0) and seen == {a, b} and order == [a, b]


def test_the_float_walk_and_the_table_walk_agree_on_a_diamond():
    x = Value(0.7, "x")
    y = x * x
    z = (y + x).sin() * y.exp()  # x reaches z by three paths
    order = topological_order(z)
    table = gradient_table(order, [x, y])
    z.backward()
    assert table == [x.grad, y.grad]


def test_on_edge_reports_every_edge_with_its_local_derivative_and_upstream_grad():
    o, leaves = neuron()
    order = topological_order(o)
    edges = []
    grads = gradient_table(
        order, leaves, on_edge=lambda node, i, parent, local, up: edges.append((node, i, local, up))
    )
    # Summing local * upstream into each parent reproduces the gradients of backward().
    sums: dict[int, float] = {}
    for node, i, local, upstream in edges:
        parent = node.parents[i]
        sums[id(parent)] = sums.get(id(parent), 0.0) + local * upstream
    o.backward()
    assert [sums[id(leaf)] for leaf in leaves] == [leaf.grad for leaf in leaves] == grads
    # The lecture's numbers: do/dn = 1 - tanh(n)^2 = 0.5, dw1 = x1 * 0.5 = 1.0.
    assert edges[0][0] is o and edges[0][2] == pytest.approx(0.5, abs=1e-12)
    assert [round(leaf.grad, 6) for leaf in leaves] == [-1.5, 0.5, 1.0, 0.0, 0.5]


def test_the_check_hook_sees_each_edge_before_and_after():
    a = Value(2.0, "a")
    out = a * a + 1.0
    seen = []
    order, _ = sort_for_backward(out, reset_grads=True)
    out.grad = 1.0
    backpropagate(order, lambda node, i, up, before, after: seen.append((node.op.name, i, after)))
    assert a.grad == 4.0
    assert seen == [("add", 0, 1.0), ("mul", 0, 4.0), ("mul", 1, 4.0)]  # constants skipped


def test_a_node_not_on_a_path_gets_zero_and_the_nodes_grads_are_untouched():
    a, b = Value(1.0), Value(2.0)
    out = a * 3.0
    assert gradient_table(topological_order(out), [a, b]) == [3.0, 0.0]
    assert a.grad == 0.0 and out.grad == 0.0


def test_create_graph_gives_a_gradient_that_differentiates_again():
    x = Value(0.5)
    out = x.tanh()
    (dx,) = gradient_table(topological_order(out), [x], create_graph=True)
    assert isinstance(dx, Value) and dx.data == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-15)
    dx.backward()
    t = math.tanh(0.5)
    assert x.grad == pytest.approx(-2 * t * (1 - t * t), rel=1e-14)


def test_the_walks_do_not_recurse():
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    order = topological_order(y)
    assert len(order) == 20_001 + 20_000
    assert gradient_table(order, [x]) == [1.0]


def test_autodiff_imports_only_the_op_records_maths():
    imports = [
        line.strip()
        for line in open(autodiff.__file__, encoding="utf-8")
        if "micrograd" in line and line.startswith(("import", "from"))
    ]
    assert imports == ["from micrograd.ops import FLOAT_MATH"]


@needs_torch
def test_the_walks_match_pytorch_float64_on_the_neuron():
    import torch

    o, leaves = neuron()
    ts = [torch.tensor(leaf.data, dtype=torch.float64, requires_grad=True) for leaf in leaves]
    x1, x2, w1, w2, b = ts
    torch.tanh(x1 * w1 + x2 * w2 + b).backward()
    table = gradient_table(topological_order(o), leaves)
    for ours, theirs in zip(table, ts):
        assert ours == pytest.approx(theirs.grad.item(), rel=1e-15, abs=1e-15)
