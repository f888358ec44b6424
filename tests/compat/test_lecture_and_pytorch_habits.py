"""The engine meets code people already have: the lecture's `_backward` stepping and its
hand-written ops, PyTorch's scalar habits (checked against PyTorch float64), threads sharing
leaves, and what may be assigned to `.data` and `.grad`. Each test is written as a user meets it.
"""

from __future__ import annotations

import math
import threading

import pytest

from micrograd import MLP, Value, detect_anomaly, gradcheck, set_grad_enabled, topological_order
from micrograd.anomaly import AnomalyError
from micrograd.functional import grad
from tests.references import facts, needs_torch

# --- The lecture ("building micrograd"), cell by cell ------------------------------------------


def lecture_neuron() -> dict[str, Value]:
    """The lecture's neuron, with its names: o = tanh(x1 w1 + x2 w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)


LECTURE_GRADS = {"x1": -1.5, "x2": 0.5, "w1": 1.0, "w2": 0.0, "b": 0.5, "n": 0.5, "o": 1.0}


def test_the_lectures_manual_backward_node_by_node():
    v = lecture_neuron()
    v["o"].grad = 1.0
    v["o"]._backward()
    v["n"]._backward()
    v["b"]._backward()  # a leaf: nothing to do
    v["x1w1x2w2"]._backward()
    v["x2w2"]._backward()
    v["x1w1"]._backward()
    assert {k: round(v[k].grad, 6) for k in LECTURE_GRADS} == LECTURE_GRADS


def test_the_lectures_topological_sort_then_backward_gives_what_backward_gives():
    v = lecture_neuron()
    topo, visited = [], set()

    def build_topo(node):  # the lecture's recursive sort, on micrograd 0.1.0's `_prev`
        if node not in visited:
            visited.add(node)
            for child in node._prev:
                build_topo(child)
            topo.append(node)

    build_topo(v["o"])
    v["o"].grad = 1.0
    for node in reversed(topo):
        node._backward()
    manual = {k: v[k].grad for k in LECTURE_GRADS}
    w = lecture_neuron()
    w["o"].backward()
    assert manual == {k: w[k].grad for k in LECTURE_GRADS}
    assert {k: round(g, 6) for k, g in manual.items()} == LECTURE_GRADS


def test_stepping_an_mlp_by_hand_gives_the_gradients_of_backward():
    model = MLP(3, [4, 4, 1], seed=0)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]

    def loss() -> Value:
        return sum((model(x) - y) ** 2 for x, y in zip(xs, ys))

    out = loss()
    out.backward()
    expected = [p.grad for p in model.parameters()]
    model.zero_grad()
    out = loss()
    out.grad = 1.0
    for node in reversed(topological_order(out)):
        node._backward()
    assert [p.grad for p in model.parameters()] == expected


def lecture_tanh(self: Value) -> Value:
    """An op written the lecture's way: children to the constructor, a `_backward` closure."""
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def lecture_mul(self: Value, other: Value) -> Value:
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


def test_an_op_written_the_lectures_way_takes_part_in_backward():
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    out = lecture_tanh(lecture_mul(x, w)) * 2.0 + x
    out.backward()
    t = math.tanh(0.5 * -1.5)
    assert x.grad == pytest.approx(2 * (1 - t * t) * -1.5 + 1.0, rel=1e-12)
    assert w.grad == pytest.approx(2 * (1 - t * t) * 0.5, rel=1e-12)
    node = out.parents[0].parents[0]  # out = tanh(...) * 2 + x
    assert (node._op, node.op.symbol, node in topological_order(out)) == ("tanh", "tanh", True)


def test_a_lecture_op_is_checked_by_gradcheck_and_handles_a_repeated_child():
    assert gradcheck(lambda x: lecture_tanh(x) * 3.0, [0.3])
    assert gradcheck(lambda x, y: lecture_mul(x, x) + lecture_mul(x, y), [0.7, -1.2])
    x = Value(3.0)
    lecture_mul(x, x).backward()  # a * a: both edges lead to x
    assert x.grad == 6.0


def test_backward_called_twice_on_a_lecture_op_accumulates_in_leaves_only():
    x = Value(0.2)
    y = lecture_tanh(x)
    y.backward()
    y.backward()
    assert x.grad == pytest.approx(2 * (1 - math.tanh(0.2) ** 2), rel=1e-12)


def test_anomaly_detection_checks_a_lecture_ops_backward():
    x = Value(1.0, "x")

    def bad(self: Value) -> Value:
        out = Value(self.data, (self,), "bad")

        def _backward():
            self.grad += math.inf * out.grad

        out._backward = _backward
        return out

    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        (bad(x) * 2.0).backward()
    assert (caught.value.phase, caught.value.op.name, caught.value.input_index) == (
        "backward",
        "bad",
        0,
    )


def test_the_tape_and_higher_order_gradients_refuse_a_lecture_op_in_one_line():
    from micrograd import trace

    with pytest.raises(RuntimeError, match=facts("'tanh'", "op record")) as caught:
        grad(grad(lecture_tanh))(0.5)
    assert "\n" not in str(caught.value)
    with pytest.raises(RuntimeError, match=facts("'tanh'", "op record")) as caught:
        trace(lecture_tanh, [0.5]).run([0.5])
    assert "\n" not in str(caught.value)


def test_both_constructors_and_their_errors():
    assert Value(2.0, "a").label == Value(2.0, label="a").label == Value(2.0, (), "", "a").label
    assert Value(2.0, "a").is_leaf and Value(2.0)._op == ""
    with pytest.raises(TypeError, match=facts("child 1", "2.0")):
        Value(1.0, (Value(1.0), 2.0), "+")
    with pytest.raises(AttributeError, match=facts("_backward", "'mul'")):
        (Value(1.0) * 2.0)._backward = lambda: None


# --- PyTorch's habits on a scalar, against PyTorch float64 ----------------------------------------


@needs_torch
def test_numel_counts_parameters_as_in_pytorch():
    from micrograd.nn import MLP

    model = MLP(3, [4, 4, 1], seed=0)
    torch_model = model.to_torch()
    assert Value(2.0).numel() == 1
    counted = sum(p.numel() for p in model.parameters())
    assert counted == sum(p.numel() for p in torch_model.parameters()) == 3 * 4 + 4 + 4 * 4 + 4 + 5


@needs_torch
@pytest.mark.parametrize("x", [0.123456789, -2.5, 2.5, 1e-7, 12345.6789])
def test_item_format_and_round_read_as_pytorch_reads_them(x):
    import torch

    v, t = Value(x), torch.tensor(x, dtype=torch.float64)
    assert v.item() == t.item() and type(v.item()) is float
    assert f"{v:.4f}" == f"{t:.4f}" and f"{v:e}" == f"{t:e}"
    assert round(v, 3) == torch.round(t, decimals=3).item()
    assert round(v) == torch.round(t).item() and type(round(v)) is float
    assert f"{v}" == repr(v)


@needs_torch
def test_ordering_compares_numbers_as_pytorch_does_and_equality_stays_identity():
    import torch

    pairs = [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5), (-0.0, 0.0)]
    for a, b in pairs:
        va, vb = Value(a), Value(b)
        ta, tb = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
        for op in ("__lt__", "__le__", "__gt__", "__ge__"):
            assert getattr(va, op)(vb) == bool(getattr(ta, op)(tb)), (a, b, op)
            assert getattr(va, op)(b) == bool(getattr(ta, op)(b)), (a, b, op)
    best, loss = Value(0.3), Value(0.2)
    assert loss < best and 0.25 > loss and max(best, loss) is best and min(best, loss) is loss
    # == is identity (Values are set members and dict keys); compare numbers with .data.
    assert Value(1.0) != Value(1.0) and len({Value(1.0), Value(1.0)}) == 2
    with pytest.raises(TypeError):
        Value(1.0) < "a"  # noqa: B015


@needs_torch
def test_is_leaf_and_requires_grad_mean_what_they_mean_in_pytorch():
    import torch

    x, t = Value(2.0), torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    y, u = x * 3.0, t * 3.0
    c, d = Value(1.0, requires_grad=False) * 2.0, torch.tensor(1.0, dtype=torch.float64) * 2.0
    assert (x.is_leaf, y.is_leaf, c.is_leaf) == (t.is_leaf, u.is_leaf, d.is_leaf)
    w = Value(1.0, requires_grad=False)
    assert w.requires_grad_() is w and w.requires_grad
    assert w.requires_grad_(False) is w and not w.requires_grad
    with pytest.raises(RuntimeError, match=facts("requires_grad_(False)", "'mul'")):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError):
        u.requires_grad_(False)  # PyTorch refuses the same


@needs_torch
def test_backward_with_retain_graph_and_a_gradient_accumulates_as_in_pytorch():
    import torch

    x, t = Value(0.7), torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    y, u = (x * x).tanh(), (t * t).tanh()
    y.backward(retain_graph=True)
    u.backward(retain_graph=True)
    y.backward(2.0)
    u.backward(torch.tensor(2.0, dtype=torch.float64))
    assert x.grad == pytest.approx(t.grad.item(), rel=1e-15)


@needs_torch
def test_set_grad_enabled_as_a_function_and_as_a_block_like_pytorch():
    import torch

    x = Value(1.0)
    with set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert (x * 2.0).requires_grad
    set_grad_enabled(False)
    try:
        assert not (x * 2.0).requires_grad
    finally:
        set_grad_enabled(True)
    assert (x * 2.0).requires_grad
    with torch.set_grad_enabled(False):  # the anchor behaves the same
        assert not (torch.ones(1, requires_grad=True) * 2).requires_grad
    with pytest.raises(TypeError, match=facts("set_grad_enabled", "'yes'")):
        set_grad_enabled("yes")


# --- Threads -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_four_threads_sharing_a_leaf_get_the_exact_sum():
    w = Value(1.0, "w")
    graphs = []
    for _ in range(4):
        out = w * 1.0
        for _ in range(50_000 - 1):
            out = out + w  # w is used 50,000 times in each graph
        graphs.append(out)
    start = threading.Barrier(4)

    def run(out: Value) -> None:
        start.wait()
        out.backward()

    threads = [threading.Thread(target=run, args=(out,)) for out in graphs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert w.grad == 200_000.0


# --- What .data and .grad accept ----------------------------------------------------------------


def test_a_numpy_float32_assigned_to_data_does_not_turn_arithmetic_into_float32():
    np = pytest.importorskip("numpy")
    p = Value(1.0)
    p.data = np.float32(0.1)
    assert type(p.data) is float and p.data == float(np.float32(0.1))
    assert type((p * 3.0).data) is float
    p.grad = np.float64(2.0)
    assert type(p.grad) is float
    p.data -= 0.5 * p.grad  # the optimizer's update reads and writes through the same checks
    assert type(p.data) is float


def test_grad_none_and_non_numbers_are_refused_when_assigned():
    p = Value(1.0)
    with pytest.raises(TypeError, match=facts("grad", "None", "0.0")):
        p.grad = None
    with pytest.raises(TypeError, match=facts("Value.data", "str")):
        p.data = "1.5"
    with pytest.raises(TypeError, match=facts("Value.data", "Value")):
        p.data = Value(2.0)
    assert (p.data, p.grad) == (1.0, 0.0)  # nothing was changed by the refused assignments


# --- math.* on a Value, and the ops PyTorch users reach for --------------------------------------


def exercise(a, b, c, sin):
    """The lecture's exercise: f(a, b, c) = -a**3 + sin(3c) - 1/(b*b) + 2.5 a**0.5."""
    return -(a**3) + sin(3 * c) - 1.0 / (b * b) + 2.5 * a**0.5


def test_math_sin_on_a_value_warns_that_the_gradient_is_lost():
    from micrograd import GradientLostWarning

    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    with pytest.warns(GradientLostWarning, match=r"v\.sin\(\)") as caught:
        out = exercise(a, b, c, math.sin)
    assert caught[0].filename == __file__  # points at the user's line
    out.backward()
    assert c.grad == 0.0  # what the warning is about: sin's term dropped out
    # Written with the Value's own sin, the gradient is the analytic one.
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    exercise(a, b, c, lambda v: v.sin()).backward()
    assert a.grad == pytest.approx(-3 * 2.0**2 + 1.25 * 2.0**-0.5)
    assert b.grad == pytest.approx(2.0 / 3.0**3)
    assert c.grad == pytest.approx(3 * math.cos(12.0))


def test_reading_the_number_is_quiet_where_no_gradient_is_lost(recwarn):
    v = Value(2.0)
    assert v.item() == 2.0 and v.data == 2.0 and f"{v:.1f}" == "2.0" and round(v, 1) == 2.0
    assert float(Value(2.0, requires_grad=False)) == 2.0
    with set_grad_enabled(False):
        assert math.sin(v) == math.sin(2.0)
    assert not recwarn.list


@needs_torch
@pytest.mark.parametrize("x", [-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])
@pytest.mark.parametrize(("low", "high"), [(-1.0, 1.0), (None, 1.0), (-1.0, None), (2.0, -1.0)])
def test_clamp_is_torch_clamp_bounds_included(x, low, high):
    import torch

    v = Value(x)
    out = v.clamp(low, high)
    out.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    expected = torch.clamp(t, low, high)
    expected.backward()
    assert (out.data, v.grad) == (expected.item(), t.grad.item())
    assert v.clip(low, high).data == out.data  # PyTorch's alias


@needs_torch
@pytest.mark.parametrize(("x", "y"), [(1.0, 2.0), (2.0, 1.0), (1.5, 1.5), (math.nan, 1.0)])
def test_maximum_minimum_square_pow_as_methods_are_torchs(x, y):
    import torch

    for name in ("maximum", "minimum", "pow"):
        a, b = Value(x), Value(y)
        out = getattr(a, name)(b)
        out.backward()
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y))
        expected = getattr(ta, name)(tb)
        expected.backward()
        for ours, theirs in ((out.data, expected), (a.grad, ta.grad), (b.grad, tb.grad)):
            assert ours == theirs.item() or (math.isnan(ours) and math.isnan(theirs.item()))
    a = Value(x)
    a.square().backward()
    assert a.grad == 2 * x or math.isnan(x)


def test_the_named_ops_refuse_what_is_not_a_number():
    with pytest.raises(TypeError, match=facts("maximum", "str")):
        Value(1.0).maximum("2")
    with pytest.raises(ValueError, match="min and max"):
        Value(1.0).clamp()
    assert Value(1.0).maximum(2).data == 2.0 and Value(5.0).clamp(max=True).data == 1.0
