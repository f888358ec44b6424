"""Parameters: trainable leaves whose numbers sit in a shared store (`micrograd.parameter`).

A Parameter is a Value wherever one is read; `nn` packs a model's parameters into one store in
`parameters()` order; after tape steps (the optimizer writing the store in place) every way of
reading the model sees the trained numbers.
"""

import copy
import pickle
import random

import pytest

try:
    import numpy as np
except ImportError:  # the core is tested without numpy: only the tape's tests need it
    np = None

from micrograd import MLP, Value, trace
from micrograd.losses import l2_penalty
from micrograd.nn import Layer, Neuron
from micrograd.optim import SGD, Adam, LinearLR
from micrograd.parameter import (
    Parameter,
    ParameterRun,
    Store,
    StoredParameter,
    find_run,
    pack,
    to_slots,
    to_store,
)

needs_numpy = pytest.mark.skipif(np is None, reason="the tape's batched replay needs numpy")


def numbers(model):
    return [p.data for p in model.parameters()]


# --- A Parameter is a Value ------------------------------------------------------------------


def test_a_parameter_is_a_leaf_value_that_requires_grad():
    p = Parameter(0.5, "w")
    assert isinstance(p, Value) and p.requires_grad and p.parents == () and p.op is None
    assert (p.data, p.grad, p.label) == (0.5, 0.0, "w")
    assert repr(p) == "Value(data=0.5, grad=0.0, label='w')"
    assert not Parameter(1.0, requires_grad=False).requires_grad


def test_ops_and_backward_read_and_write_a_parameter_as_a_value():
    p, q = Parameter(3.0), Parameter(-2.0)
    a, b = Value(3.0), Value(-2.0)
    for x, y in ((p, q), (a, b)):
        out = (x * y + x.relu() - y.exp() / x) ** 2
        out.backward()
    assert (p.grad, q.grad) == (a.grad, b.grad)
    assert out.data == ((a * b + a.relu() - b.exp() / a) ** 2).data


def test_data_is_checked_and_converted_as_for_a_value():
    p = Parameter(1)
    assert type(p.data) is float
    p.data = True  # a bool counts, as in Value()
    assert type(p.data) is float and p.data == 1.0
    with pytest.raises(TypeError, match="str"):
        p.data = "1.0"
    with pytest.raises(TypeError):
        Parameter(Value(1.0))


# --- Stores and packing ------------------------------------------------------------------------


def test_pack_puts_numbers_in_one_store_in_order_and_marks_the_old_stores():
    ps = [Parameter(float(i)) for i in range(4)]
    old = [p.store for p in ps]
    store = pack(ps)
    assert list(store.numbers) == [0.0, 1.0, 2.0, 3.0]
    assert [p.store_index for p in ps] == [0, 1, 2, 3] and all(p.store is store for p in ps)
    assert not any(s.current for s in old) and store.current
    # The numbers stay in the slots (the eager engine's fast path) until moved to the store.
    assert all(type(p) is Parameter for p in ps) and store.in_slots == 4
    ps[2].data = 9.0
    to_store(ps, store)
    assert all(type(p) is StoredParameter for p in ps) and store.in_slots == 0
    assert list(store.numbers) == [0.0, 1.0, 9.0, 3.0]
    store.numbers[1] = -1.0  # the store is now where the numbers are read and written
    assert ps[1].data == -1.0
    ps[3].data = 7.0
    assert store.numbers[3] == 7.0
    to_slots(ps[:2])  # and back, some of them: each number goes with its parameter
    assert [type(p) for p in ps] == [Parameter, Parameter, StoredParameter, StoredParameter]
    assert [p.data for p in ps] == [0.0, -1.0, 9.0, 7.0] and store.in_slots == 2
    store.numbers[0] = 5.0  # no longer read: p0's number is in its slot
    assert ps[0].data == 0.0


def test_copies_and_pickles_keep_each_number_wherever_it_was():
    ps = [Parameter(float(i)) for i in range(4)]
    store = pack(ps)
    to_store(ps[2:], store)
    ps[0].data, ps[3].data = 10.0, 30.0  # one in a slot, one in the store
    for copied in (copy.deepcopy(ps), pickle.loads(pickle.dumps(ps)), [copy.copy(p) for p in ps]):
        assert [p.data for p in copied] == [10.0, 1.0, 2.0, 30.0]
        assert all(isinstance(p, Parameter) for p in copied)


@needs_numpy
def test_tape_steps_keep_the_numbers_in_the_store_and_an_eager_call_takes_them_back():
    model, tape, opt = trained()
    params = model.parameters()
    store = params[0].store
    # After tape steps the store holds every number: the next replay and step make no pass.
    assert all(type(p) is StoredParameter for p in params) and store.in_slots == 0
    assert list(store.numbers) == numbers(model)
    stepped = numbers(model)
    eager = [model(row[:2]).data for row in moons_rows().tolist()]  # an eager call ...
    assert all(type(p) is Parameter for p in params) and store.in_slots == len(params)
    assert numbers(model) == stepped  # ... moves them back to the slots, unchanged
    # A replay after eager use moves them into the store again, and reads the same numbers.
    scores = trace(lambda a, b: model([a, b]), 2, params)
    replayed = scores.run_batch(moons_rows()[:, :2]).outputs[:, 0].tolist()
    assert replayed == pytest.approx(eager, rel=1e-12) and store.in_slots == 0
    # A step whose replay came before an eager call finds the numbers where they are now.
    result = tape.run_batch(moons_rows(), reduce="mean", input_grads=False)
    model([0.1, 0.2])
    expected = (np.array(stepped) - 0.1 * result.param_grads).tolist()
    opt.step(result)
    assert numbers(model) == pytest.approx(expected, rel=1e-15)


def test_pack_refuses_values_and_repeats():
    p = Parameter(1.0)
    with pytest.raises(TypeError, match="Value"):
        pack([p, Value(2.0)])
    with pytest.raises(ValueError, match="twice"):
        pack([p, p])


def test_find_run_and_parameter_run_follow_repacking():
    ps = [Parameter(float(i)) for i in range(5)]
    assert find_run(ps) is None  # five stores
    run = ParameterRun(ps[1:4])
    assert run.get() is None
    store = pack(ps)
    assert run.get() == (store, 1) and find_run(ps) == (store, 0)
    assert find_run(ps[::-1]) is None and find_run([*ps[:2], ps[3]]) is None
    pack(ps[2:3])  # one moved out: the run is broken
    assert run.get() is None
    assert ParameterRun([Value(1.0)]).get() is None and find_run([]) is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: Neuron(3, seed=0),
        lambda: Layer(3, 4, seed=0),
        lambda: MLP(3, [4, 5, 2], seed=0),
        lambda: MLP(2, [16, 16, 1]),
    ],
    ids=["Neuron", "Layer", "MLP", "MLP-unseeded"],
)
def test_nn_packs_a_model_into_one_store_in_parameters_order(make):
    model = make()
    params = model.parameters()
    assert all(isinstance(p, Parameter) for p in params)
    assert find_run(params) == (params[0].store, 0)
    assert len(params[0].store) == len(params)


def test_packed_models_keep_the_numbers_of_unpacked_ones():
    # The same seed gives the same weights as before parameters had a store (0.1.0's order).
    model = MLP(2, [3, 1], seed=5)
    rng = random.Random(5)
    expected = []
    for nin, nout in ((2, 3), (3, 1)):
        for _ in range(nout):
            expected += [rng.uniform(-1, 1) for _ in range(nin)] + [0.0]
    assert numbers(model) == expected


# --- The model is the source of truth after tape steps ----------------------------------------


def moons_rows(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 2))
    return np.column_stack([x, np.where(x[:, 0] * x[:, 1] > 0, 1.0, -1.0)])


def trained(steps=5, cls=SGD, **kwargs):
    model = MLP(2, [4, 1], seed=2)
    params = model.parameters()
    tape = trace(
        lambda x0, x1, y: [(1 - y * model([x0, x1])).relu(), l2_penalty(params, 1e-3)], 3, params
    )
    opt = cls(params, **{"lr": 0.1, **kwargs})
    for _ in range(steps):
        opt.step(tape.run_batch(moons_rows(), reduce="mean", input_grads=False))
    return model, tape, opt


@needs_numpy
def test_a_replay_of_a_packed_model_reads_the_store_and_says_where():
    model, tape, _ = trained(0)
    result = tape.run_batch(moons_rows(), input_grads=False)
    store = model.parameters()[0].store
    assert result.param_run == (store, 0)
    assert result.param_values.tolist() == numbers(model)
    result.param_values[0] += 1.0  # a copy: the model is not changed through it
    assert numbers(model)[0] == result.param_values[0] - 1.0


@needs_numpy
def test_tape_steps_write_the_store_that_p_data_and_eager_calls_read():
    model, tape, _ = trained(0)
    before = numbers(model)
    twin = MLP(2, [4, 1], seed=2)
    ref, step = SGD(twin.parameters(), lr=0.1), SGD(model.parameters(), lr=0.1)
    result = tape.run_batch(moons_rows(), reduce="mean", input_grads=False)
    step.step(result)
    for p, g in zip(twin.parameters(), result.param_grads.tolist()):
        p.grad = g
    ref.step()
    assert numbers(model) == numbers(twin) != before
    assert list(model.parameters()[0].store.numbers) == numbers(model)
    x = [0.3, -0.7]
    assert model(x).data == twin(x).data


@needs_numpy
def test_save_load_state_dict_deepcopy_and_pickle_see_the_trained_numbers(tmp_path):
    model, _, _ = trained()
    expected = numbers(model)
    assert list(model.state_dict().values()) == expected
    model.save(tmp_path / "m.json")
    loaded = MLP.load(tmp_path / "m.json")
    assert numbers(loaded) == expected and find_run(loaded.parameters()) is not None
    for copied in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        params = copied.parameters()
        assert numbers(copied) == expected
        assert all(isinstance(p, Parameter) for p in params)
        assert find_run(params) == (params[0].store, 0)  # packed as the original
        assert params[0].store is not model.parameters()[0].store
        params[0].data += 1.0
        assert numbers(model) == expected  # a copy of its own


@needs_numpy
def test_a_second_tape_and_eager_steps_continue_from_tape_steps():
    model, tape, opt = trained(cls=Adam, lr=0.05)
    scores = trace(lambda a, b: model([a, b]), 2, model.parameters())
    rows = moons_rows()
    eager = [model(row[:2]).data for row in rows.tolist()]
    assert scores.run_batch(rows[:, :2]).outputs[:, 0].tolist() == pytest.approx(eager, rel=1e-12)
    before = numbers(model)
    model.zero_grad()
    sum(((1 - y * model([a, b])).relu() for a, b, y in rows.tolist()), Value(0.0)).backward()
    opt.step()  # eager, with the state the tape steps left
    assert numbers(model) != before
    eager = [model(row[:2]).data for row in rows.tolist()]  # a replay sees the eager step
    assert scores.run_batch(rows[:, :2]).outputs[:, 0].tolist() == pytest.approx(eager, rel=1e-12)


@needs_numpy
def test_a_result_whose_store_was_repacked_since_is_stepped_through_the_values():
    model, tape, _ = trained(0)
    opt = SGD(model.parameters(), lr=0.1)
    result = tape.run_batch(moons_rows(), reduce="mean", input_grads=False)
    expected = (np.array(numbers(model)) - 0.1 * result.param_grads).tolist()
    new_store = pack(model.parameters())  # e.g. a user packing again
    assert isinstance(new_store, Store) and not result.param_run[0].current
    opt.step(result)
    assert numbers(model) == expected and list(new_store.numbers) == expected


@needs_numpy
def test_a_tape_over_plain_values_still_steps_them():
    w = [Value(0.5), Value(-0.25)]
    tape = trace(lambda x: (w[0] * x + w[1]) ** 2, 1, w)
    result = tape.run_batch(np.array([[1.0], [2.0]]), reduce="mean", input_grads=False)
    assert result.param_run is None
    SGD(w, lr=0.1).step(result)
    assert [v.data for v in w] == (np.array([0.5, -0.25]) - 0.1 * result.param_grads).tolist()


@needs_numpy
def test_a_schedule_and_a_written_lr_apply_to_store_steps():
    model, tape, opt = trained(0, lr=1.0)
    schedule = LinearLR(opt, 1.0, 0.5, total_iters=2)
    rows = moons_rows()
    for rate in (1.0, 0.75, 0.5):
        before = np.array(numbers(model))
        result = tape.run_batch(rows, reduce="mean", input_grads=False)
        opt.step(result)
        assert numbers(model) == (before - rate * result.param_grads).tolist()
        schedule.step()
    opt.param_groups[0]["lr"] = 0.01
    before = np.array(numbers(model))
    result = tape.run_batch(rows, reduce="mean", input_grads=False)
    opt.step(result)
    assert numbers(model) == (before - 0.01 * result.param_grads).tolist()


@needs_numpy
def test_to_torch_and_from_torch_see_the_store(torch):
    model, _, _ = trained()
    flat = [p.detach().flatten().tolist() for p in model.to_torch().parameters()]
    assert sorted(sum(flat, [])) == sorted(numbers(model))
    back = MLP.from_torch(model.to_torch())
    assert numbers(back) == numbers(model) and find_run(back.parameters()) is not None


def test_copying_a_graph_keeps_its_parameters_parameters():
    p = Parameter(2.0)
    out = p * p + 1.0
    for copied in (copy.deepcopy(out), pickle.loads(pickle.dumps(out))):
        leaf = copied.parents[0].parents[0]
        assert isinstance(leaf, Parameter) and leaf is copied.parents[0].parents[1]
        assert leaf.data == 2.0 and leaf is not p
    shallow = copy.copy(p)
    assert isinstance(shallow, Parameter) and shallow.store is not p.store
