"""The tape's two replays as plans: ops found by record identity, and the cost of building them.

Compile cost is counted, not timed: tracemalloc's peak while a plan is built, per instruction,
must stay bounded as the tape grows (a generated function of N lines costs the CPython compiler
superlinear time and memory, which this guards against).
"""

from __future__ import annotations

import math
import random
import tracemalloc

import numpy as np
import pytest

from micrograd import MLP, Op, Value
from micrograd.engine import apply
from micrograd.losses import cross_entropy, l2_penalty
from micrograd.ops import ADD, EXP, LOG, MUL, RELU
from micrograd.tape import numpy_plan, numpy_steps, trace
from micrograd.tape.numpy_plan import NumpyPlan
from micrograd.tape.python_plan import PythonPlan
from tests.edge_values import EVERY_PATH_EDGES
from tests.references import needs_torch

# A user op that is named "add" and "mul" but is neither: 2x + y and x * y + 1.
FAKE_ADD = Op(
    "add",
    "+",
    forward=lambda x, y: 2.0 * x + y,
    local_grads=(lambda x, y, out: 2.0, lambda x, y, out: 1.0),
    domain=((-1.0, 1.0),) * 2,
    array_forward=lambda np, x, y: 2.0 * x + y,
    array_local_grads=(2.0, 1.0),
)
FAKE_MUL = Op(
    "mul",
    "*",
    forward=lambda x, y: x * y + 1.0,
    local_grads=(lambda x, y, out: y, lambda x, y, out: x),
    domain=((-1.0, 1.0),) * 2,
    array_forward=lambda np, x, y: x * y + 1.0,
    array_local_grads=(lambda np, x, y, out: y, lambda np, x, y, out: x),
)


def neuron_with_fakes(w: list[Value], x: list[Value]) -> Value:
    # Shaped like a neuron (a chain of sums of parameter products) so that a planner matching
    # names would fuse it into a matrix product.
    total = w[0]
    for wi, xi in zip(w[1:], x):
        total = apply(FAKE_ADD, total, apply(FAKE_MUL, wi, xi))
    return total


def test_user_ops_named_add_and_mul_replay_as_themselves():
    assert FAKE_ADD is not ADD and FAKE_ADD.name == ADD.name
    assert FAKE_MUL is not MUL and FAKE_MUL.name == MUL.name
    w = [Value(v) for v in (0.3, -0.5, 0.8, 0.1)]
    rows = [[0.2, -0.4, 0.9], [0.5, 0.1, -0.7]]
    tape = trace(lambda *x: neuron_with_fakes(w, list(x)), 3, w)
    for row in rows:
        xs = [Value(v) for v in row]
        out = neuron_with_fakes(w, xs)
        for p in w:
            p.grad = 0.0
        out.backward()
        expected = ([out.data], [x.grad for x in xs], [p.grad for p in w])
        assert tape.run(row) == expected  # exactly: every float op is the one eager did
        batch = tape.run_batch([row], reduce="sum", backend="numpy")
        assert np.allclose(batch.outputs[0], expected[0], rtol=1e-12, atol=0)
        assert np.allclose(batch.input_grads[0], expected[1], rtol=1e-12, atol=1e-15)
        assert np.allclose(batch.param_grads, expected[2], rtol=1e-12, atol=1e-15)


def test_real_add_and_mul_are_fused_into_matrix_products():
    # The counterpart of the test above: real neurons do become one affine group per layer.
    model = MLP(5, [7, 3], seed=1)
    tape = trace(lambda *x: model(list(x)), 5, model.parameters())
    plan = NumpyPlan(tape)
    kinds = [group.kind for group in plan.groups]
    assert kinds.count("affine") == 2
    assert len(kinds) <= 4  # two matrix products, one relu and nothing per scalar
    # The biases are read as one column and the inputs from the caller's array: nothing is
    # copied into every lane before the replay.
    assert plan.spread is None and plan.copied_inputs is None


def test_python_plan_matches_eager_on_a_softmax_mlp():
    model = MLP(6, [9, 4], seed=3)
    params = model.parameters()
    tape = trace(lambda *x: cross_entropy(model(list(x[:6])), 0) + 0.0 * x[6], 7, params)
    row = [0.3, -1.2, 0.8, 2.0, -0.1, 0.5, 0.0]
    loss = cross_entropy(model(row[:6]), 0)
    model.zero_grad()
    loss.backward()
    result = tape.run(row)
    assert math.isclose(result.outputs[0], loss.data, rel_tol=1e-12)
    for g, p in zip(result.param_grads, params):
        assert math.isclose(g, p.grad, rel_tol=1e-12, abs_tol=1e-15)


def test_an_overflow_in_a_fast_add_warns_like_eager():
    tape = trace(lambda x, y: x + y, 2)
    with pytest.warns(RuntimeWarning, match="add"):
        result = tape.run([1e308, 1e308])
    assert result.outputs == [math.inf]


def mlp_tape(nin: int, hidden: int) -> object:
    model = MLP(nin, [hidden, 10], seed=0)
    return trace(lambda *x: model(list(x)), nin, model.parameters())


def peak_bytes_per_instruction(build, tape) -> float:
    tracemalloc.start()
    try:
        plan = build(tape)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del plan
    return peak / len(tape)


def lanes_and_shared(x: list, p: list) -> list:
    """Outputs of which some depend on the parameters only: the same in every lane.

    Written with `* + tanh relu` only, so that it runs on Values and on torch tensors.
    """
    gate = (p[3] * p[4]).tanh()  # shared, and read by every lane below
    hinge = (p[0] * x[0] + p[1] * x[1] + p[2]).relu() * gate
    # In the same group as the product above, the shared argument on the other side.
    other = gate * x[1]
    l2 = 1e-4 * (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + p[3] * p[3] + p[4] * p[4])
    return [hinge, other, l2, gate + 2.0]


SHARED_PARAMS = [0.7, -0.4, 0.2, 1.3, 0.6]
SHARED_ROWS = [[0.5, -1.0], [2.0, 0.3], [-0.7, 0.9], [0.1, 0.1]]


def test_what_only_parameters_decide_is_computed_once_and_its_gradient_summed_over_lanes():
    params = [Value(v) for v in SHARED_PARAMS]
    tape = trace(lambda *x: lanes_and_shared(list(x), params), 2, params)
    plan = NumpyPlan(tape)
    assert plan.shared_groups and plan.lane_groups  # the l2 and the gate are shared
    tape.run_batch(SHARED_ROWS[::-1], reduce="sum", backend="numpy")  # leaves its buffers dirty
    batch = tape.run_batch(SHARED_ROWS, reduce="sum", backend="numpy")
    for p in params:
        p.grad = 0.0
    for k, row in enumerate(SHARED_ROWS):
        xs = [Value(v) for v in row]
        outs = lanes_and_shared(xs, params)
        sum(outs[1:], outs[0]).backward()  # the grads of the lanes add up in p.grad
        assert np.allclose(batch.outputs[k], [o.data for o in outs], rtol=1e-12, atol=0)
        assert np.allclose(batch.input_grads[k], [v.grad for v in xs], rtol=1e-12, atol=0)
    assert np.allclose(batch.param_grads, [p.grad for p in params], rtol=1e-12, atol=0)


@needs_torch
def test_shared_values_and_their_summed_gradients_match_torch_float64():
    import torch

    params = [Value(v) for v in SHARED_PARAMS]
    tape = trace(lambda *x: lanes_and_shared(list(x), params), 2, params)
    batch = tape.run_batch(SHARED_ROWS, reduce="mean", backend="numpy")
    ps = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in SHARED_PARAMS]
    xs = torch.tensor(SHARED_ROWS, dtype=torch.float64).T
    outs = [o.expand(len(SHARED_ROWS)) for o in lanes_and_shared(list(xs), ps)]
    (sum(o.sum() for o in outs) / len(SHARED_ROWS)).backward()
    expected = torch.stack(outs, dim=1).detach().numpy()
    assert np.allclose(batch.outputs, expected, rtol=1e-12, atol=0)
    assert np.allclose(batch.param_grads, [p.grad.item() for p in ps], rtol=1e-12, atol=0)


def test_a_tape_of_parameters_only_replays_in_every_lane():
    params = [Value(v) for v in SHARED_PARAMS]
    tape = trace(lambda: lanes_and_shared([1.0, 2.0], params)[1:], 0, params)
    batch = tape.run_batch([[], [], []], reduce="mean", backend="numpy")
    single = tape.run([])
    assert np.allclose(batch.outputs, [single.outputs] * 3, rtol=1e-15, atol=0)
    assert np.allclose(batch.param_grads, single.param_grads, rtol=1e-12, atol=0)


def test_a_hinge_loss_and_its_l2_penalty_as_two_outputs_match_eager():
    # The benchmark's moons loss: every weight gets gradients from the lanes' matrix products
    # and from the shared penalty's, which must add up rather than overwrite one another.
    model = MLP(2, [5, 5, 1], seed=6)
    params = model.parameters()

    def losses(x0, x1, y):
        penalty = 1e-4 * sum(p * p for p in params)
        return [(1 + -y * model([x0, x1])).relu(), penalty]

    tape = trace(losses, 3, params)
    rows = [[0.3, -0.8, 1.0], [-1.1, 0.4, -1.0], [0.9, 0.9, 1.0], [0.0, -0.2, -1.0]]
    tape.run_batch(rows[::-1], reduce="sum", backend="numpy")  # leaves its buffers dirty
    batch = tape.run_batch(rows, reduce="sum", backend="numpy")
    model.zero_grad()
    for k, row in enumerate(rows):
        hinge, penalty = losses(*row)
        (hinge + penalty).backward()
        assert np.allclose(batch.outputs[k], [hinge.data, penalty.data], rtol=1e-12, atol=0)
    assert np.allclose(batch.param_grads, [p.grad for p in params], rtol=1e-12, atol=1e-15)


def test_sums_of_squared_parameters_are_one_group_with_the_eager_gradients():
    # An L2 penalty (Python's sum, from 0) is one "squares" group computed from the
    # parameters' numbers, with no row for them; a parameter listed twice gets both terms'
    # gradients; a sum with a term after the first that is not a square (w0 * w1) stays a
    # neuron. The penalty is used in the lanes too.
    w = [Value(v) for v in (0.7, -1.3, 0.4, 2.1)]

    def outputs(x, y):
        penalty = 0.5 * sum(p * p for p in [*w, w[1]])
        mixed = w[2] * w[2] + w[0] * w[1] + w[3] * w[3]
        return [penalty * x + y, mixed * y, penalty]

    tape = trace(outputs, 2, w)
    plan = NumpyPlan(tape)
    assert [g.kind for g in plan.groups].count("squares") == 1
    # Rows for w[2] (its square, the neuron's start) and w[1], w[3] (the neuron's x): w[0] is
    # a weight of the neuron, and the penalty reads no rows.
    assert plan.n_row_params == 3
    rows = [[0.3, -0.8], [-1.1, 0.4], [2.0, 0.5]]
    batch = tape.run_batch(rows, reduce="sum", backend="numpy")
    for p in w:
        p.grad = 0.0
    for k, row in enumerate(rows):
        out = outputs(*row)
        sum(out[1:], out[0]).backward()
        assert np.allclose(batch.outputs[k], [o.data for o in out], rtol=1e-12, atol=0)
    assert np.allclose(batch.param_grads, [p.grad for p in w], rtol=1e-12, atol=0)
    # The penalty's gradient alone is the chain's to the bit: 2 * 0.5 * p, p counted twice.
    alone = trace(lambda: l2_penalty([*w, w[1]], 0.5), 0, w).run_batch([[]])
    assert alone.param_grads.tolist() == [0.7, -2.6, 0.4, 2.1]


@pytest.mark.parametrize("op", [ADD, MUL, EXP, LOG, RELU], ids=lambda op: op.name)
def test_records_computed_into_their_rows_give_their_array_forward_to_the_bit(op):
    # The plan computes these records' groups with one ufunc into their rows (`out=`) rather
    # than through `array_forward`: the numbers, nan, infinities and the sign of zero included,
    # must be the record's. relu's slope is taken as out != 0, which must be step(out).
    ufunc = numpy_steps._ufunc_forwards(np)[op]
    values = np.array(EVERY_PATH_EDGES, dtype=float)
    args = np.meshgrid(*[values] * op.arity, indexing="ij")
    with np.errstate(all="ignore"):
        wanted = op.array_forward(np, *args)
        found = np.empty_like(wanted)
        ufunc(*args, out=found)
        assert found.tobytes() == wanted.tobytes()
        if op is RELU:
            (step,) = op.array_local_grads
            slope = np.not_equal(found, 0.0) * np.ones_like(found)
            assert slope.tobytes() == step(np, values, found).tobytes()


def test_inputs_are_read_from_the_callers_array_in_any_layout():
    # The plan reads the caller's rows without copying them, so the layout must not matter; an
    # input read in a sum, or returned as an output, is copied in and must not go stale.
    model = MLP(3, [4, 2], seed=5)
    tape = trace(lambda *x: [*model(list(x)), x[0] + x[1] + x[2], x[2]], 3, model.parameters())
    rng = np.random.default_rng(0)
    wide = rng.normal(size=(6, 7))
    rows = wide[:, 1:7:2]  # every other column: neither C- nor Fortran-ordered
    expected = tape.run_batch(rows.tolist(), backend="numpy")
    # Equal up to rounding: numpy may sum a strided array in another order (numpy 2.2 on
    # Python 3.10 differs by 1e-17 in a parameter gradient); a stale row would differ by far more.
    for layout in (rows, np.asfortranarray(rows), np.ascontiguousarray(rows)):
        batch = tape.run_batch(layout, backend="numpy")
        for field in ("outputs", "input_grads", "param_grads"):
            found, wanted = getattr(batch, field), getattr(expected, field)
            assert np.allclose(found, wanted, rtol=1e-12, atol=1e-15), field
    for k, row in enumerate(rows.tolist()):
        single = tape.run(row)
        assert np.allclose(expected.outputs[k], single.outputs, rtol=1e-12, atol=0)
        assert np.allclose(expected.input_grads[k], single.input_grads, rtol=1e-12, atol=1e-15)


@pytest.mark.slow
def test_building_a_plan_costs_memory_linear_in_the_tape():
    small, large = mlp_tape(16, 16), mlp_tape(64, 64)
    assert len(large) > 10 * len(small)
    for build in (PythonPlan, NumpyPlan):
        per_small = peak_bytes_per_instruction(build, small)
        per_large = peak_bytes_per_instruction(build, large)
        # Bounded per instruction, and not growing with size (a quadratic cost would grow 10x).
        assert per_large < 2_000, (build.__name__, per_large)
        assert per_large < 1.5 * per_small, (build.__name__, per_small, per_large)


def test_a_deep_chain_replays_in_python():
    # A chain is the plan's worst case (one instruction per group); it still replays exactly.
    depth = 1000
    tape = trace(lambda x: sum_chain(x, depth), 1)
    x = Value(0.5)
    out = sum_chain(x, depth)
    out.backward()
    assert tape.run([0.5]) == ([out.data], [x.grad], [])


def sum_chain(x: Value, depth: int) -> Value:
    y = x
    for _ in range(depth):
        y = y * 1.0001 + 0.001
    return y


@pytest.mark.slow
def test_a_784_64_10_mlp_traces_compiles_and_replays_a_batch_of_1000_rows():
    model = MLP(784, [64, 10], seed=0)
    params = model.parameters()
    tape = trace(lambda *x: model(list(x)), 784, params)
    rng = random.Random(0)
    rows = np.array([[rng.random() for _ in range(784)] for _ in range(1000)])
    batch = tape.run_batch(rows, reduce="sum", backend="numpy")
    assert batch.outputs.shape == (1000, 10) and batch.param_grads.shape == (len(params),)
    # Against the pure-Python replay on two rows, and PyTorch-free numpy arithmetic on all.
    single = tape.run(rows[3].tolist())
    assert np.allclose(batch.outputs[3], single.outputs, rtol=1e-12, atol=1e-12)
    w1 = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
    b1 = np.array([n.b.data for n in model.layers[0].neurons])
    w2 = np.array([[w.data for w in n.w] for n in model.layers[1].neurons])
    b2 = np.array([n.b.data for n in model.layers[1].neurons])
    expected = np.maximum(rows @ w1.T + b1, 0.0) @ w2.T + b2
    assert np.allclose(batch.outputs, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_input_grads_false_skips_them_and_keeps_the_parameter_gradients(backend):
    model = MLP(4, [5, 2], seed=2)
    tape = trace(lambda *x: cross_entropy(model(list(x)), 1), 4, model.parameters())
    rows = [[0.1, -0.2, 0.3, 0.9], [1.0, 0.5, -0.5, 0.0], [0.0, 0.0, 2.0, -1.0]]
    full = tape.run_batch(rows, backend=backend)
    lean = tape.run_batch(rows, backend=backend, input_grads=False)
    assert lean.input_grads is None and full.input_grads is not None
    assert np.array_equal(np.asarray(lean.param_grads), np.asarray(full.param_grads))
    assert np.array_equal(np.asarray(lean.outputs), np.asarray(full.outputs))
    again = tape.run_batch(rows, backend=backend)  # the skipped rows do not leak into a full run
    assert np.array_equal(np.asarray(again.input_grads), np.asarray(full.input_grads))


@pytest.mark.slow
def test_python_batches_wider_than_one_pass_agree_with_numpy():
    # 7,000-odd rows of values per sample: 80 samples replay in three passes of side-by-side
    # lanes (the lists are kept to about 2**18 entries), summed in sample order.
    model = MLP(64, [32, 10], seed=4)
    params = model.parameters()
    tape = trace(lambda *x: cross_entropy(model(list(x)), 3), 64, params)
    rng = random.Random(1)
    rows = [[rng.random() for _ in range(64)] for _ in range(80)]
    lanes = tape.run_batch(rows, backend="python", reduce="sum")
    batch = tape.run_batch(rows, backend="numpy", reduce="sum")
    assert tape.plan("python").n_rows * 80 > 2 * (1 << 18)
    assert np.allclose(lanes.outputs, batch.outputs, rtol=1e-12, atol=0)
    assert np.allclose(lanes.input_grads, batch.input_grads, rtol=1e-10, atol=1e-15)
    assert np.allclose(lanes.param_grads, batch.param_grads, rtol=1e-10, atol=1e-14)
    one = tape.run(rows[57])
    assert np.allclose(one.input_grads, lanes.input_grads[57], rtol=1e-13, atol=0)


def test_sums_read_their_terms_in_place_when_the_rows_are_a_grid_and_gather_them_otherwise():
    # Two sums over the rows of two blocks (a grid of rows: read and written through one view),
    # a sum reading rows twice, and one over rows in no order (each a group of its own, by its
    # number of terms): each must match eager.
    def outputs(a, b, c):
        es = [(a * k).exp() for k in (0.1, 0.2, 0.3)]
        fs = [(b * k).exp() for k in (1.0, 2.0, 3.0)]
        twice = c.tanh().tanh()
        return [
            es[0] + es[1] + es[2],
            fs[0] + fs[1] + fs[2],
            twice + c + twice + c,
            fs[2] + es[0] + fs[1] + es[2] + fs[0],
        ]

    tape = trace(outputs, 3, [])
    grids = [view is not None for view in _grid_views_of(NumpyPlan(tape), lanes=6)]
    assert sorted(grids) == [False, False, True]  # the first two sums are one grid
    rows = np.random.default_rng(3).normal(size=(6, 3))
    batch = tape.run_batch(rows, reduce="sum", backend="numpy")
    for k, row in enumerate(rows.tolist()):
        xs = [Value(v) for v in row]
        outs = outputs(*xs)
        sum(outs[1:], outs[0]).backward()
        assert np.allclose(batch.outputs[k], [o.data for o in outs], rtol=1e-13, atol=0)
        assert np.allclose(batch.input_grads[k], [x.grad for x in xs], rtol=1e-13, atol=1e-15)


def _grid_views_of(plan: NumpyPlan, lanes: int) -> list:
    values = np.empty((plan.n_rows, lanes))
    sums = [group for group in plan.groups if group.kind == "sum"]
    return [numpy_steps._grid_view(np, values, group.terms) for group in sums]


def test_alternating_batch_sizes_and_input_gradients_replay_as_fresh_plans_do():
    # The steps are bound to the buffers of one batch size (views cut once): a replay with
    # another size binds anew, and one with input gradients binds its own backward steps.
    model = MLP(3, [5, 2], seed=2)
    params = model.parameters()

    def loss(*x):
        return [cross_entropy(model(list(x)), 1), l2_penalty(params, 1e-3)]

    tape = trace(loss, 3, params)
    rng = np.random.default_rng(7)
    batches = [rng.normal(size=(size, 3)) for size in (4, 9, 4, 1, 9)]
    for k, rows in enumerate(batches):
        wanted = NumpyPlan(tape).run(rows, None, "mean", [1.0, 1.0], k % 2 == 0)
        found = tape.run_batch(rows, reduce="mean", input_grads=k % 2 == 0)
        assert found.outputs.tobytes() == wanted.outputs.tobytes()
        assert found.param_grads.tobytes() == wanted.param_grads.tobytes()
        if k % 2 == 0:
            assert found.input_grads.tobytes() == wanted.input_grads.tobytes()
        else:
            assert found.input_grads is None


def test_a_huge_batch_gives_its_buffers_back_and_small_ones_keep_them():
    # One 10**6-row batch used to leave some 700 MiB per thread alive after it returned.
    np = pytest.importorskip("numpy")

    model = MLP(2, [4, 1], seed=0)
    tape = trace(lambda *x: model(list(x)), 2, model.parameters())
    plan = NumpyPlan(tape)
    small = np.zeros((32, 2))
    plan.run(small, None, "mean", [1.0], False)
    kept = plan._local.buffers
    assert kept is not None
    plan.run(small, None, "mean", [1.0], False)
    assert plan._local.buffers is kept  # minibatches reuse theirs
    lanes = numpy_plan._KEEP_BUFFER_BYTES // (2 * 8 * plan.n_rows) + 1
    plan.run(np.zeros((lanes, 2)), None, "mean", [1.0], False)
    assert plan._local.buffers is None
