"""The tape: tracing, printing, pure-Python and numpy replay against the eager engine."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd.tape as tape_module
from micrograd import MLP, OPS, Op, Value, is_grad_enabled, no_grad
from micrograd.engine import TracingError, apply
from micrograd.losses import l2_penalty
from micrograd.tape import trace
from tests.references import FUSED_MULTIPLY_ADD, facts

np = pytest.importorskip("numpy")

OP_NAMES = sorted(OPS)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# Random graphs over every op: each step applies an op to earlier values, squashed into the
# op's domain with a sigmoid (itself an op), so every number stays finite.


def into_domain(v: Value, domain: tuple[float, float]) -> Value:
    lo, hi = domain
    return lo + (hi - lo) * v.sigmoid()


@st.composite
def recipes(draw):
    n_inputs = draw(st.integers(1, 3))
    n_params = draw(st.integers(0, 3))
    steps = []
    for i in range(draw(st.integers(1, 10))):
        op = draw(st.sampled_from(OP_NAMES))
        available = n_inputs + n_params + i
        args = [draw(st.integers(0, available - 1)) for _ in range(OPS[op].arity)]
        squash = draw(st.booleans())
        steps.append((op, args, squash))
    values = st.floats(-2.0, 2.0)
    inputs = draw(st.lists(values, min_size=2 * n_inputs, max_size=2 * n_inputs))
    params = draw(st.lists(values, min_size=n_params, max_size=n_params))
    return steps, inputs[:n_inputs], inputs[n_inputs:], params


def build(steps, leaves):
    nodes = list(leaves)
    for op_name, args, squash in steps:
        op = OPS[op_name]
        operands = [nodes[a] for a in args]
        if squash or op_name not in ("add", "mul"):
            operands = [into_domain(v, d) for v, d in zip(operands, op.domain)]
        nodes.append(apply(op, *operands))
        if op_name in ("add", "mul") and len(nodes) > 2:
            # Sums of products of parameters, the pattern the numpy replay fuses.
            nodes.append(nodes[-1] + nodes[-2] * nodes[args[0]])
    return sum(nodes[len(leaves) :], nodes[-1])


def eager(steps, inputs, params):
    xs = [Value(x) for x in inputs]
    ps = [Value(p) for p in params]
    out = build(steps, [*xs, *ps])
    out.backward()
    return out.data, [x.grad for x in xs], [p.grad for p in ps]


@given(recipes())
def test_replay_matches_eager_on_random_graphs(recipe):
    steps, inputs, other_inputs, param_values = recipe
    params = [Value(p) for p in param_values]
    tape = trace(lambda *xs: build(steps, [*xs, *params]), inputs, params)
    for sample in (inputs, other_inputs):  # the traced inputs, then new ones
        out, input_grads, param_grads = eager(steps, sample, param_values)
        replay = tape.run(sample)
        assert close(replay.outputs[0], out)
        assert all(map(close, replay.input_grads, input_grads))
        assert all(map(close, replay.param_grads, param_grads))
    # Batched: one sample per lane; parameter grads summed over lanes.
    batch = tape.run_batch([inputs, other_inputs], reduce="sum", backend="numpy")
    for lane, sample in enumerate((inputs, other_inputs)):
        out, input_grads, _ = eager(steps, sample, param_values)
        assert close(batch.outputs[lane][0], out)
        assert all(map(close, batch.input_grads[lane], input_grads))
    summed = [
        a + b
        for a, b in zip(
            eager(steps, inputs, param_values)[2], eager(steps, other_inputs, param_values)[2]
        )
    ]
    assert all(map(close, batch.param_grads, summed))


def test_printing_a_tape():
    w = Value(3.0, "w")
    tape = trace(lambda x, y: (x * w + y).relu() * 2, [1.0, 2.0], [w])
    assert str(tape) == "\n".join(
        [
            "tape(2 inputs, 1 params, 4 instructions)",
            "  inputs: v0 v1",
            "  params: v2",
            "  v3 = 2.0",
            "  v4 = mul(v0, v2)",
            "  v5 = add(v4, v1)",
            "  v6 = relu(v5)",
            "  v7 = mul(v6, v3)",
            "  return v7",
        ]
    )
    assert repr(tape) == "<Tape: 2 inputs, 1 params, 4 instructions>"
    assert all(ins.op is OPS[ins.op.name] for ins in tape.instructions)  # the same records


def hinge_fn(model):
    return lambda x0, x1, y: (1 + -y * model([x0, x1])).relu()


def moons_like(n: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-1, 2), rng.uniform(-1, 1), rng.choice((-1.0, 1.0))] for _ in range(n)]


def test_mlp_loss_and_gradients_match_eager_per_sample_and_batched():
    model = MLP(2, [8, 8, 1], seed=3)
    params = model.parameters()
    tape = trace(hinge_fn(model), 3, params)
    rows = moons_like(20, seed=4)
    for row in rows[:5]:
        model.zero_grad()
        loss = hinge_fn(model)(*[Value(v) for v in row])
        loss.backward()
        replay = tape.run(row)
        assert close(replay.outputs[0], loss.data)
        assert all(map(close, replay.param_grads, [p.grad for p in params]))
    model.zero_grad()
    losses = [hinge_fn(model)(*[Value(v) for v in row]) for row in rows]
    mean = sum(losses) * (1.0 / len(losses))
    mean.backward()
    for backend in ("numpy", "python"):
        batch = tape.run_batch(rows, backend=backend)  # reduce="mean"
        assert close(sum(o[0] for o in batch.outputs) / len(rows), mean.data)
        assert all(map(close, batch.param_grads, [p.grad for p in params]))


def test_batched_replay_equals_per_sample_replay():
    model = MLP(2, [5, 1], activation="tanh", seed=1)
    tape = trace(lambda a, b: model([a, b]).sigmoid(), 2, model.parameters())
    rows = [[0.1 * i, -0.2 * i] for i in range(7)]
    batch = tape.run_batch(np.array(rows), reduce="sum", backend="numpy")
    total = [0.0] * len(model.parameters())
    for lane, row in enumerate(rows):
        single = tape.run(row)
        assert close(batch.outputs[lane][0], single.outputs[0])
        assert all(map(close, batch.input_grads[lane], single.input_grads))
        total = [t + g for t, g in zip(total, single.param_grads)]
    assert all(map(close, batch.param_grads, total))


def test_python_and_numpy_replay_agree_and_auto_falls_back(monkeypatch):
    model = MLP(3, [4, 2], seed=5)
    tape = trace(lambda *xs: model(list(xs)), 3, model.parameters())
    rows = [[0.3, -1.0, 2.0], [1.5, 0.2, -0.7]]
    with_numpy = tape.run_batch(rows, backend="numpy")
    monkeypatch.setattr(tape_module.backends, "have_numpy", lambda: False)
    without = tape.run_batch(rows)  # "auto" without numpy: the pure-Python loop
    assert isinstance(without.outputs, list)
    for a, b in zip(np.ravel(with_numpy.outputs), np.ravel(without.outputs)):
        assert close(a, b)
    assert all(map(close, with_numpy.param_grads, without.param_grads))


def test_training_through_the_tape_updates_the_model_in_place():
    rows = moons_like(16, seed=2)
    eager_model, taped_model = MLP(2, [6, 6, 1], seed=9), MLP(2, [6, 6, 1], seed=9)
    params = taped_model.parameters()
    hinge = trace(hinge_fn(taped_model), 3, params)
    l2 = trace(lambda: 1e-4 * sum(p * p for p in params), 0, params)
    for k in range(3):
        rate = 1.0 - 0.9 * k / 100
        losses = [hinge_fn(eager_model)(*[Value(v) for v in row]) for row in rows]
        total = sum(losses) * (1.0 / len(losses))
        total = total + 1e-4 * sum(p * p for p in eager_model.parameters())
        eager_model.zero_grad()
        total.backward()
        for p in eager_model.parameters():
            p.data -= rate * p.grad
        data, reg = hinge.run_batch(rows), l2.run_batch([[]])
        assert close(float(np.mean(data.outputs)) + reg.outputs[0][0], total.data)
        for p, g, r in zip(params, data.param_grads, reg.param_grads):
            p.data -= rate * (g + r)
    for a, b in zip(eager_model.parameters(), params):
        assert close(a.data, b.data)


def test_branching_on_a_value_while_tracing_raises():
    def branchy(x):
        return x.relu() if x else -x

    with pytest.raises(TracingError, match="bool"):
        trace(branchy, [1.0])
    with pytest.raises(TracingError, match="float"):
        trace(lambda x: x * float(x), [1.0])
    assert bool(Value(0.0)) and Value(2.0).item() == 2.0  # tracing mode was switched off


def test_tracing_records_even_inside_no_grad():
    with no_grad():
        tape = trace(lambda x: x * x, [1.0])
        assert not is_grad_enabled()
    assert str(tape).splitlines()[-2:] == ["  v1 = mul(v0, v0)", "  return v1"]
    assert tape.run([3.0]) == ([9.0], [6.0], [])


def test_an_undeclared_value_is_refused():
    hidden = Value(2.0)
    with pytest.raises(TracingError, match=facts("Value(data=2.0", "params")):
        trace(lambda x: x * hidden, [1.0])
    tape = trace(lambda x: x * hidden.detach(), [1.0])  # a constant is fine, and baked in
    assert tape.run([3.0]).outputs == [6.0]


def test_parameters_are_read_at_replay_unless_given():
    w = Value(2.0)
    tape = trace(lambda x: x * w, [1.0], [w])
    w.data = 5.0
    assert tape.run([3.0]).outputs == [15.0]
    assert tape.run([3.0], params=[7.0]).outputs == [21.0]
    assert tape.run_batch([[3.0]], params=[7.0], backend="numpy").outputs[0][0] == 21.0


def test_several_outputs_repeats_and_unused_inputs():
    tape = trace(lambda a, b, c: [a * a + a, a + a + a, b], [2.0, 3.0, 4.0])
    replay = tape.run([2.0, 3.0, 4.0])
    assert replay.outputs == [6.0, 6.0, 3.0]
    assert replay.input_grads == [2 * 2.0 + 1 + 3, 1.0, 0.0]
    batch = tape.run_batch([[2.0, 3.0, 4.0], [1.0, 0.0, 0.0]], backend="numpy")
    assert batch.outputs.tolist() == [[6.0, 6.0, 3.0], [2.0, 3.0, 0.0]]
    assert batch.input_grads.tolist() == [[8.0, 1.0, 0.0], [6.0, 1.0, 0.0]]


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_output_grads_weight_the_outputs_in_every_lane(backend):
    w = Value(0.5)
    # A loss and the score inside it: weighting the score by 0 leaves the loss's gradients.
    tape = trace(lambda x: [(w * x).relu() * 3.0, w * x], [1.0], [w])
    rows = [[2.0], [-1.0], [4.0]]
    batch = tape.run_batch(rows, reduce="sum", backend=backend, output_grads=[1.0, 0.0])
    assert [list(row) for row in batch.outputs] == [[3.0, 1.0], [0.0, -0.5], [6.0, 2.0]]
    assert [list(row) for row in batch.input_grads] == [[1.5], [0.0], [1.5]]
    assert list(batch.param_grads) == [3.0 * 2.0 + 3.0 * 4.0]
    for row, grads in zip(rows, batch.input_grads):
        assert tape.run(row, output_grads=[1.0, 0.0]).input_grads == list(grads)
    weighted = tape.run_batch(rows, reduce="sum", backend=backend, output_grads=[2.0, -1.0])
    assert list(weighted.param_grads) == [2.0 * 18.0 - (2.0 - 1.0 + 4.0)]
    with pytest.raises(ValueError, match="2 outputs, received 1"):
        tape.run_batch(rows, backend=backend, output_grads=[1.0])


def test_bad_calls_say_what_was_expected():
    tape = trace(lambda a, b: a * b, 2)
    with pytest.raises(ValueError, match="takes 2 inputs, received 3"):
        tape.run([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shape"):
        tape.run_batch([[1.0, 2.0, 3.0]], backend="numpy")
    with pytest.raises(ValueError, match="reduce"):
        tape.run_batch([[1.0, 2.0]], reduce="max")
    with pytest.raises(TypeError, match="return a Value"):
        trace(lambda a: 3.0, 1)
    with pytest.raises(TypeError, match="leaf Values"):
        trace(lambda a: a, 1, [Value(1.0) * 2])


def test_an_op_of_three_inputs_runs_eagerly_and_in_python_replay():
    fma = FUSED_MULTIPLY_ADD
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    out = apply(fma, a, b, apply(fma, a, a, c))
    out.backward()
    assert (out.data, a.grad, b.grad, c.grad) == (14.0, 3.0 + 4.0, 2.0, 1.0)
    tape = trace(lambda x, y, z: apply(fma, x, y, apply(fma, x, x, z)), [2.0, 3.0, 4.0])
    assert tape.run([2.0, 3.0, 4.0]) == ([14.0], [7.0, 2.0, 1.0], [])
    with pytest.raises(NotImplementedError, match="fma"):
        tape.run_batch([[2.0, 3.0, 4.0]], backend="numpy")


def test_an_op_defined_in_one_record_replays_batched_with_numpy():
    # x * y + 2 * z as one new primitive: its record alone makes every replay work.
    op = Op(
        "muladd2",
        "*+2",
        forward=lambda x, y, z: x * y + 2.0 * z,
        local_grads=(lambda x, y, z, out: y, lambda x, y, z, out: x, lambda x, y, z, out: 2.0),
        domain=((-1.0, 1.0),) * 3,
        array_forward=lambda np, x, y, z: x * y + 2.0 * z,
        array_local_grads=(lambda np, x, y, z, out: y, lambda np, x, y, z, out: x, 2.0),
    )
    w = Value(0.5)
    tape = trace(lambda x, y: apply(op, x, w, apply(op, y, y, x)).tanh(), [0.1, 0.2], [w])
    rows = [[0.1, 0.2], [-0.3, 0.7], [0.9, -0.4]]
    batch = tape.run_batch(rows, reduce="sum", backend="numpy")
    reference = tape.run_batch(rows, reduce="sum", backend="python")
    assert np.allclose(batch.outputs, reference.outputs, rtol=1e-12, atol=0)
    assert np.allclose(batch.input_grads, reference.input_grads, rtol=1e-12, atol=1e-15)
    assert np.allclose(batch.param_grads, reference.param_grads, rtol=1e-12, atol=1e-15)
    x, y = Value(-0.3), Value(0.7)
    out = apply(op, x, w, apply(op, y, y, x)).tanh()
    out.backward()
    assert close(batch.input_grads[1][0], x.grad) and close(batch.input_grads[1][1], y.grad)


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_replays_refuse_what_is_not_a_number_by_name(backend):
    w = Value(0.5)
    tape = trace(lambda a, b: a * w + b, [1.0, 2.0], [w])

    def run(*args, **kwargs):
        return tape.run_batch(*args, backend=backend, **kwargs)

    with pytest.raises(TypeError, match=r"params\[0\] .*real number.*NoneType: None"):
        run([[1.0, 2.0]], params=[None])
    with pytest.raises(TypeError, match=r"inputs\[1\]\[0\] .*real number.*str: '1'"):
        run([[1.0, 2.0], ["1", 2.0]])
    with pytest.raises(TypeError, match=r"inputs\[0\]\[1\] .*real number.*NoneType"):
        run([[1.0, None]])
    with pytest.raises(TypeError, match=r"inputs\[0\]\[0\] .*real number.*Value"):
        run([[Value(1.0), 2.0]])
    with pytest.raises(TypeError, match=r"output_grads\[0\] .*real number.*str: '1'"):
        run([[1.0, 2.0]], output_grads=["1"])
    with pytest.raises(TypeError, match=facts("run_batch", "float: 3.0")):
        run(3.0)
    with pytest.raises(TypeError, match=facts("inputs[0]", "float: 1.0")):
        run([1.0, 2.0])
    # A short or long row: both replays name the expected count, the received one and the row.
    with pytest.raises(ValueError, match=facts("2 inputs", "of 1", "row 1")):
        run([[1.0, 2.0], [1.0]])
    with pytest.raises(ValueError, match=facts("2 inputs", "of 3", "row 3")):
        run([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0, 3.0]])
    # Bools are numbers, as in Value(); an int beyond floats is inf with a warning, as eagerly.
    assert list(run([[True, 2]], params=[False]).outputs[0]) == [2.0]
    with pytest.warns(RuntimeWarning, match="too large for a float"):
        assert list(run([[10**400, 0.0]], reduce="sum").outputs[0]) == [math.inf]


def test_single_replays_and_trace_refuse_what_is_not_a_number_by_name():
    tape = trace(lambda a: a * 2.0, 1)
    with pytest.raises(TypeError, match=facts("inputs", "float: 3.0")):
        tape.run(3.0)
    with pytest.raises(TypeError, match=r"inputs\[0\] .*real number.*str: '3'"):
        tape.run(["3"])
    with pytest.raises(TypeError, match=r"params\[0\] .*real number.*str"):
        trace(lambda a: a * w, 1, [w := Value(1.0)]).run([1.0], params=["2"])
    with pytest.raises(TypeError, match=r"output_grads\[0\] .*real number.*NoneType"):
        tape.run([1.0], output_grads=[None])
    with pytest.raises(TypeError, match=facts("trace()", "float: 2.5")):
        trace(lambda a: a, 2.5)
    with pytest.raises(TypeError, match=r"trace\(\) inputs\[0\] .*real number.*NoneType"):
        trace(lambda a: a, [None])
    assert tape.run([True]).outputs == [2.0]


def test_two_threads_replaying_one_tape_get_their_own_results():
    import sys
    import threading

    model = MLP(2, [8, 1], seed=3)
    tape = trace(lambda a, b: model([a, b]).tanh(), 2, model.parameters())
    batches = [[row[:2] for row in moons_like(16, seed)] for seed in (1, 2)]
    expected = [tape.run_batch(rows, backend="numpy") for rows in batches]
    results: dict[int, list] = {0: [], 1: []}
    start = threading.Barrier(2)

    def worker(k: int) -> None:
        start.wait()
        for _ in range(300):
            results[k].append(tape.run_batch(batches[k], backend="numpy"))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, inside replays
    try:
        threads = [threading.Thread(target=worker, args=(k,)) for k in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    for k in (0, 1):
        for got in results[k]:
            assert np.array_equal(got.outputs, expected[k].outputs)
            assert np.array_equal(got.input_grads, expected[k].input_grads)
            assert np.array_equal(got.param_grads, expected[k].param_grads)


@pytest.mark.parametrize("backend", ["python", "numpy"])
@pytest.mark.parametrize("row", [{0: 1.0, 1: 2.0}, {1.0, 2.0}])
def test_a_dict_or_set_row_is_refused_not_replayed_as_its_keys(backend, row):
    if backend == "numpy":
        pytest.importorskip("numpy")
    tape = trace(lambda x, y: x * y, 2)
    with pytest.raises(TypeError, match=type(row).__name__):
        tape.run_batch([row], backend=backend)


def test_trace_refuses_a_count_of_inputs_it_cannot_hold():
    from micrograd.tape.program import MAX_TRACE_INPUTS

    with pytest.raises(ValueError, match="1,000,000,000,000"):  # was a bare MemoryError
        trace(lambda *xs: xs[0], 10**12)
    with pytest.raises(ValueError, match=f"{MAX_TRACE_INPUTS:,}"):
        trace(lambda *xs: xs[0], -1)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_tape_copies_and_pickles_after_replays_and_the_copy_replays_alike(how):
    # The replay plans are caches (a numpy plan holds the numpy module and per-thread buffers):
    # a copy leaves them out and builds its own on first use.
    import copy
    import pickle

    model = MLP(2, [3, 1], seed=0)
    params = model.parameters()
    tape = trace(
        lambda a, b, y: [(1 - y * model([a, b])).relu(), l2_penalty(params, 1e-3)], 3, params
    )
    rows = [[0.5, -1.0, 1.0], [2.0, 0.25, -1.0]]
    before = [tape.run(rows[0]), tape.run_batch(rows, backend="numpy")]
    copied = copy.deepcopy(tape) if how == "deepcopy" else pickle.loads(pickle.dumps(tape))
    after = [copied.run(rows[0]), copied.run_batch(rows, backend="numpy")]
    assert after[0] == before[0]
    for field in ("outputs", "input_grads", "param_grads"):
        assert np.array_equal(getattr(after[1], field), getattr(before[1], field))
    assert all(c is not p for c, p in zip(copied.params, params))  # its own parameters
