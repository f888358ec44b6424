"""`detect_anomaly()`: the first nan or inf stops with the op, its inputs and the creating line."""

from __future__ import annotations

import gc
import itertools
import math
import pathlib
import sys
import threading
import warnings

import pytest
from hypothesis import given

from micrograd import (
    MLP,
    OPS,
    AnomalyError,
    Value,
    anomaly,
    autodiff,
    detect_anomaly,
    engine,
    grad_mode,
    is_anomaly_enabled,
    no_grad,
)
from micrograd.engine import apply
from micrograd.functional import grad
from micrograd.tape import trace
from tests.edge_values import FINITE_EDGES
from tests.engine.test_fuzz import graphs
from tests.references import FUSED_MULTIPLY_ADD, facts

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def this_line() -> int:
    return sys._getframe(1).f_lineno


def test_a_bad_log_names_the_op_its_labelled_inputs_and_the_line():
    x = Value(-1.0, "x")
    with detect_anomaly():
        y = x * 2.0
        line = this_line() + 2
        with pytest.raises(AnomalyError) as caught:
            z = y.log()  # noqa: F841
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert (error.op, error.phase, error.input_index) == (OPS["log"], "forward", None)
    assert error.inputs == (y,) and math.isnan(error.result)
    assert (error.site.filename, error.site.lineno) == (__file__, line)
    assert error.site.function == "test_a_bad_log_names_the_op_its_labelled_inputs_and_the_line"
    assert error.site.line == "z = y.log()  # noqa: F841"
    message = str(error)
    assert message.startswith("forward: log(-2.0) is nan, from finite inputs")
    assert f"{__file__}:{line}" in message and "z = y.log()" in message


def test_labels_of_the_inputs_are_in_the_message():
    a, b = Value(1e200, "a"), Value(1e200, "b")
    expected = facts("mul(a=1e+200, b=1e+200)", "inf")
    with detect_anomaly(), pytest.raises(AnomalyError, match=expected):
        a * b


@pytest.mark.parametrize("op_name", sorted(OPS))
def test_every_op_raises_exactly_when_finite_inputs_give_nan_or_inf(op_name):
    op = OPS[op_name]
    for inputs in itertools.product(FINITE_EDGES, repeat=op.arity):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = apply(op, *[Value(x) for x in inputs]).data
        with detect_anomaly():
            if math.isfinite(expected):
                assert apply(op, *[Value(x) for x in inputs]).data == expected
            else:
                with pytest.raises(AnomalyError) as caught:
                    apply(op, *[Value(x) for x in inputs])
                assert caught.value.op is op and caught.value.site.filename == __file__


def test_values_already_nan_or_inf_pass_through_unchecked():
    # The rule: the error is raised where a nan or inf starts, from finite inputs. A leaf that
    # is nan or inf (or a value made outside the block) is propagated as IEEE says.
    with detect_anomaly():
        assert math.isnan((Value(math.nan) * 2.0).data)
        assert (Value(math.inf) + 1.0).data == math.inf
        assert math.isnan((Value(math.inf) - Value(math.inf)).data)
        assert (Value(-math.inf).exp()).data == 0.0


def test_a_gradient_going_bad_names_the_node_and_where_it_was_made():
    x = Value(0.0, "x")
    with detect_anomaly():
        line = this_line() + 1
        y = x.sqrt() * 3.0  # finite forward: sqrt(0) = 0, but d sqrt / dx at 0 is inf
        with pytest.raises(AnomalyError) as caught:
            y.backward()
    error = caught.value
    assert (error.op, error.phase, error.input_index, error.result) == (
        OPS["pow"],
        "backward",
        0,
        math.inf,
    )
    assert error.inputs[0] is x and error.site.lineno == line
    assert str(error).startswith(
        "backward: the gradient of pow(x=0.0, 0.5) with respect to input 0 (x) is inf, from "
        "finite numbers (gradient flowing in: 3.0)"
    )


def test_backward_after_the_block_checks_a_graph_made_inside_it():
    x = Value(0.0, "x")
    with detect_anomaly():
        line = this_line() + 1
        y = x.sqrt()
    assert not is_anomaly_enabled()
    with pytest.raises(AnomalyError) as caught:
        y.backward()
    assert caught.value.site.lineno == line


def test_backward_after_the_block_checks_when_only_part_of_the_graph_was_made_inside():
    x = Value(0.0, "x")
    with detect_anomaly():
        y = x.sqrt()
    loss = y * 2.0 + 1.0  # made outside: the check still finds y's node
    with pytest.raises(AnomalyError, match="pow"):
        loss.backward()


def test_backward_inside_the_block_checks_a_graph_made_outside_it():
    x = Value(0.0, "x")
    y = x.sqrt()
    with detect_anomaly(), pytest.raises(AnomalyError, match=facts("outside detect_anomaly()")):
        y.backward()
    assert y.grad == 1.0  # the root's seed was set before the error


def test_outside_the_mode_nothing_is_checked():
    x = Value(0.0, "x")
    y = x.sqrt()
    y.backward()
    assert x.grad == math.inf
    assert math.isnan(Value(-1.0).log().data)


def test_a_gradient_that_was_already_nan_is_not_reported_again():
    x = Value(2.0, "x")
    x.grad = math.nan  # left over from an earlier backward(): accumulating to it is no news
    with detect_anomaly():
        (x * 3.0).backward()
    assert math.isnan(x.grad)


def test_results_with_the_mode_on_are_those_without_it_to_the_bit():
    model = MLP(3, [5, 4, 1], seed=3)
    batch = [[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]]

    def run():
        model.zero_grad()
        loss = sum((model(x) - 1.0) ** 2 for x in batch)
        loss.backward()
        return loss.data, [p.grad for p in model.parameters()]

    plain = run()
    with detect_anomaly():
        checked = run()
    assert repr(checked) == repr(plain)


@given(graphs())
def test_random_graphs_raise_or_match_the_unchecked_run(graph):
    leaf_values, steps = graph

    def run():
        leaves = [Value(x) for x in leaf_values]
        nodes = list(leaves)
        for op_name, args in steps:
            nodes.append(apply(OPS[op_name], *[nodes[a] for a in args]))
        nodes[-1].backward()
        return nodes, [leaf.grad for leaf in leaves]

    plain_nodes, plain_grads = run()
    try:
        with detect_anomaly():
            nodes, grads = run()
    except AnomalyError as error:
        # Forward: it stopped at an op whose inputs are finite and whose result is not.
        # Backward: at a gradient that went bad (its inputs may be nan that came from a leaf).
        assert not math.isfinite(error.result)
        if error.phase == "forward":
            assert all(math.isfinite(v.data) for v in error.inputs)
        return
    assert repr([n.data for n in nodes]) == repr([n.data for n in plain_nodes])
    assert repr(grads) == repr(plain_grads)
    # No error: every nan or inf came in from a leaf, none started at an op.
    for node in nodes[len(leaf_values) :]:
        if not math.isfinite(node.data):
            assert not all(math.isfinite(p.data) for p in node.parents)


def test_no_grad_inside_the_mode_still_checks_the_forward_pass():
    with detect_anomaly(), no_grad(), pytest.raises(AnomalyError, match="exp"):
        Value(1000.0).exp()


def test_create_graph_checks_the_gradient_graph_it_builds():
    x = Value(0.0, "x")
    with detect_anomaly():
        y = x.sqrt()
        with pytest.raises(AnomalyError) as caught:
            y.backward(create_graph=True)  # builds 0.5 * x ** -0.5: pow(0, -0.5) is inf
    assert caught.value.op is OPS["pow"] and caught.value.phase == "forward"
    assert caught.value.result == math.inf
    x.grad = 0.0


def test_create_graph_after_the_block_checks_a_graph_made_inside_it():
    x = Value(0.0, "x")
    with detect_anomaly():
        y = x.sqrt()
    with pytest.raises(AnomalyError, match="pow"):
        y.backward(create_graph=True)
    assert not is_anomaly_enabled()
    x.grad = 0.0
    x.sqrt().backward(create_graph=True)  # a graph made outside: unchecked
    assert x.grad.data == math.inf


def test_functional_grad_checks_its_float_gradients():
    with detect_anomaly(), pytest.raises(AnomalyError, match=facts("backward", "pow")):
        grad(lambda x: x.sqrt())(0.0)
    assert grad(lambda x: x.sqrt())(0.0) == math.inf  # unchecked outside the mode


def test_tape_replays_are_not_checked():
    w = Value(1.0, "w")
    with detect_anomaly():
        tape = trace(lambda x: (x * w).log(), [2.0], [w])  # the traced example is fine
        result = tape.run([-1.0])  # a replay is plain float arithmetic: no check
    assert math.isnan(result.outputs[0])


def test_the_mode_is_per_thread_and_off_by_default():
    inside = threading.Event()
    leave = threading.Event()
    seen = {}

    def debugging():
        with detect_anomaly():
            inside.set()
            leave.wait(10)
            try:
                Value(-1.0).log()
            except AnomalyError:
                seen["debugging"] = "raised"

    thread = threading.Thread(target=debugging)
    thread.start()
    assert inside.wait(10)
    assert not is_anomaly_enabled()
    seen["main"] = Value(-1.0).log().data  # another thread's mode does not reach here
    leave.set()
    thread.join()
    assert seen["debugging"] == "raised" and math.isnan(seen["main"])


def test_leaving_the_block_restores_the_fast_functions_even_after_an_error():
    with pytest.raises(AnomalyError):
        with detect_anomaly():
            assert grad_mode.forward_check is anomaly._checked_forward
            with detect_anomaly():  # nested: still on after the inner block
                pass
            assert is_anomaly_enabled()
            Value(0.0).log()
    assert not is_anomaly_enabled()
    assert grad_mode.forward_check is None  # building a node tests one slot, nothing more


def test_the_hot_functions_do_not_look_at_the_mode():
    # Zero cost while off is by construction: the functions used then never read the flag.
    for function in (engine._apply1, engine._apply2, autodiff.backpropagate):
        assert "anomaly" not in function.__code__.co_names
        assert "_sites" not in function.__code__.co_names


def test_recorded_lines_go_with_their_graph():
    gc.collect()
    gc.disable()
    try:
        with detect_anomaly():
            x = Value(0.5)
            y = (x * 2.0).tanh() + x
        assert len(anomaly._sites) == 3
        del y
        assert len(anomaly._sites) == 0
    finally:
        gc.enable()


def test_an_op_of_three_inputs_is_checked_forward_and_backward():
    fma = FUSED_MULTIPLY_ADD
    a, b, c = Value(1e200, "a"), Value(1e200, "b"), Value(1.0, "c")
    expected = facts("fma(a=1e+200, b=1e+200, c=1.0)")
    with detect_anomaly(), pytest.raises(AnomalyError, match=expected):
        apply(fma, a, b, c)
    with detect_anomaly():
        # fma(1e200, 1, -1e200) = 0 and 0 * 1e200 = 0, but d out / d one = 1e200 * 1e200.
        out = apply(fma, a, Value(1.0, "one"), Value(-1e200)) * 1e200
        with pytest.raises(AnomalyError) as caught:
            out.backward()
    assert (caught.value.op, caught.value.input_index) == (fma, 1)


class _NotToBeWalked(list):
    """An order that fails the test if anything iterates over it."""

    def __iter__(self):
        raise AssertionError("the whole graph was scanned")


def test_a_value_kept_from_the_mode_costs_unrelated_graphs_nothing():
    # Issue 13: one Value made inside detect_anomaly() and kept alive made every later,
    # unrelated backward() 37% slower (each call scanned its whole graph for recorded nodes).
    with detect_anomaly():
        kept = Value(0.5, "kept") * 2.0
    x = Value(1.0)
    out = x
    for _ in range(1000):
        out = out * 1.0
    order, seen = autodiff.sort_for_backward(out, reset_grads=False)
    assert grad_mode.backward_check(_NotToBeWalked(order), seen) is None
    out.backward()
    assert x.grad == 1.0
    # The kept graph itself is still checked after the block.
    kept_order, kept_seen = autodiff.sort_for_backward(kept, reset_grads=False)
    assert grad_mode.backward_check(kept_order, kept_seen) is not None


def test_importing_anomaly_installs_nothing(tmp_path):
    import subprocess
    import sys

    code = (
        "import micrograd.anomaly, micrograd.grad_mode as g; "
        "assert g._backward_check is None and g.forward_check is None"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=pathlib.Path(__file__).parents[2])


def test_leaving_the_block_from_another_thread_is_refused_by_name():
    import threading

    from micrograd import is_anomaly_enabled

    block = detect_anomaly()
    block.__enter__()
    errors = []

    def leave():
        try:
            block.__exit__(None, None, None)
        except RuntimeError as error:
            errors.append(str(error))

    other = threading.Thread(target=leave, name="leaver")
    other.start()
    other.join()
    try:
        assert len(errors) == 1 and "leaver" in errors[0] and "MainThread" in errors[0]
        assert is_anomaly_enabled()  # not silently half-left: still on here, and said so
    finally:  # put this thread back as the block would have (it can no longer be left)
        from micrograd import anomaly, grad_mode

        grad_mode.set_anomaly_enabled(False)
        anomaly._install_checks(-1)
    assert not is_anomaly_enabled()
