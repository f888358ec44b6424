"""Every primitive in the op registry, checked against independent references.

Driven by `micrograd.ops.OPS`: a new op is covered here as soon as it has a record (and, for
the PyTorch comparison, its name in `references.TORCH_NAMES`). test_adding_an_op.py runs
these checks on a scratch op to show that nothing else is needed.
"""

from __future__ import annotations

import itertools
import math
import pathlib
import random
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd.ops as ops_module
import tests.edge_values as edge_values
from micrograd import OPS, Value, numerical_grad
from micrograd.engine import apply
from tests.references import (
    close,
    needs_torch,
    numpy_functions,
    torch_functions,
    torch_value_and_grads,
)

OP_NAMES = sorted(OPS)
KINK_MARGIN = 1e-3


def inputs_in_domain(op_name: str) -> st.SearchStrategy[list[float]]:
    """Lists of inputs drawn from the op's domain, kept away from its kinks."""
    op = OPS[op_name]
    per_input = [
        st.floats(low, high, allow_nan=False).filter(
            lambda x: all(abs(x - k) > KINK_MARGIN for k in op.kinks)
        )
        for low, high in op.domain
    ]
    inputs = st.tuples(*per_input).map(list)
    if op.kink_where_equal:  # maximum, clamp_min, ...: a derivative jumps where inputs meet
        inputs = inputs.filter(lambda xs: abs(xs[0] - xs[1]) > KINK_MARGIN)
    return inputs


def run_op(op_name: str, inputs: list[float]) -> tuple[float, list[float]]:
    leaves = [Value(x) for x in inputs]
    out = apply(OPS[op_name], *leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def test_registry_is_well_formed():
    for name, op in OPS.items():
        assert op.name == name
        assert op.symbol
        assert len(op.domain) == op.arity >= 1
        assert all(low < high for low, high in op.domain)


@pytest.mark.parametrize("op_name", OP_NAMES)
def test_backward_matches_central_differences(op_name):
    @given(inputs_in_domain(op_name))
    def check(inputs):
        _, grads = run_op(op_name, inputs)
        estimate = numerical_grad(lambda *xs: apply(OPS[op_name], *xs), inputs, eps=1e-6)
        for analytic, numeric in zip(grads, estimate):
            assert math.isclose(analytic, numeric, rel_tol=1e-5, abs_tol=1e-6), (
                op_name,
                inputs,
                grads,
                estimate,
            )

    check()


@needs_torch
@pytest.mark.parametrize("op_name", OP_NAMES)
def test_matches_pytorch_float64(op_name):
    @given(inputs_in_domain(op_name))
    def check(inputs):
        data, grads = run_op(op_name, inputs)
        torch_data, torch_grads = torch_value_and_grads(op_name, inputs)
        assert close(data, torch_data, rel=1e-12), (op_name, inputs, data, torch_data)
        for ours, theirs in zip(grads, torch_grads):
            assert close(ours, theirs, rel=1e-10, abs_=1e-12), (op_name, inputs, ours, theirs)

    check()


@needs_torch
def test_every_op_has_a_pytorch_reference():
    assert set(torch_functions()) == set(OPS)


def edge_cases(op_name):
    return list(itertools.product(edge_values.LIBRARY_EDGES, repeat=OPS[op_name].arity))


@pytest.mark.parametrize("op_name", OP_NAMES)
def test_edge_values_follow_ieee_like_numpy(op_name):
    np = pytest.importorskip("numpy")
    reference = numpy_functions(np).get(op_name)
    if reference is None:  # numpy has no such function: the PyTorch edge test checks the values
        pytest.skip(f"no numpy reference for {op_name}")
    for inputs in edge_cases(op_name):
        if op_name == "pow" and inputs[0] == -math.inf and not float(inputs[1]).is_integer():
            continue  # numpy says nan here; C99 pow and PyTorch say +inf, and so do we
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            data = apply(OPS[op_name], *[Value(x) for x in inputs]).data
        with np.errstate(all="ignore"):
            expected = float(reference(*[np.float64(x) for x in inputs]))
        assert close(data, expected, rel=1e-12, abs_=1e-300), (op_name, inputs, data, expected)


@needs_torch
@pytest.mark.parametrize("op_name", OP_NAMES)
def test_edge_values_gradients_like_pytorch(op_name):
    for inputs in edge_cases(op_name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            data, grads = run_op(op_name, list(inputs))
        torch_data, torch_grads = torch_value_and_grads(op_name, list(inputs))
        assert close(data, torch_data, rel=1e-12, abs_=1e-300), (op_name, inputs)
        for ours, theirs in zip(grads, torch_grads):
            assert close(ours, theirs, rel=1e-12, abs_=1e-300), (op_name, inputs, ours, theirs)


@pytest.mark.parametrize("op_name", OP_NAMES)
def test_array_versions_agree_with_the_float_versions(op_name):
    # The record's numpy versions (used by the tape's batched replay) against its float ones,
    # lane by lane: random inputs in the domain, then every combination of edge values.
    np = pytest.importorskip("numpy")
    op = OPS[op_name]
    assert op.array_forward is not None and len(op.array_local_grads) == op.arity
    rng = random.Random(op_name)
    rows = [[rng.uniform(*d) for d in op.domain] for _ in range(50)]
    rows += [list(inputs) for inputs in edge_cases(op_name)]
    columns = [np.array(column) for column in zip(*rows)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out = op.array_forward(np, *columns)
        expected = [op.forward(*row) for row in rows]
        for lane, row in enumerate(rows):
            assert close(float(out[lane]), expected[lane], rel=1e-12, abs_=1e-300), (op_name, row)
        for i, local_grad in enumerate(op.array_local_grads):
            if callable(local_grad):
                got = local_grad(np, *columns, out)
            else:  # a constant derivative, given as a number
                got = [local_grad] * len(rows)
            for lane, row in enumerate(rows):
                want = op.local_grads[i](*row, expected[lane])
                assert close(float(got[lane]), want, rel=1e-12, abs_=1e-300), (op_name, i, row)


def test_ops_module_needs_no_numpy():
    source = pathlib.Path(ops_module.__file__).read_text()
    assert "import numpy" not in source and "from numpy" not in source


@pytest.mark.parametrize("op_name", OP_NAMES)
def test_non_finite_result_from_finite_input_warns_naming_the_op(op_name):
    for inputs in edge_cases(op_name):
        if not all(math.isfinite(x) for x in inputs):
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = apply(OPS[op_name], *[Value(x) for x in inputs]).data
        if math.isfinite(data):
            assert not caught, (op_name, inputs, [str(w.message) for w in caught])
        else:
            assert len(caught) == 1 and caught[0].category is RuntimeWarning, (op_name, inputs)
            message = str(caught[0].message)
            assert message.startswith(f"{op_name}("), message
            assert repr(float(inputs[0])) in message


def test_warning_points_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Value(0.0).log()
    assert caught[0].filename == __file__


# --- Each derivative written once: the rules, their versions, and the fast float overrides ------


def _fast_overrides() -> list[tuple[str, int]]:
    """(op, input) where a record gives its own float version instead of its rule's."""
    found = []
    for name, op in OPS.items():
        for i, rule in enumerate(op.rules(ops_module.FLOAT_MATH)):
            if callable(rule) and op.local_grads[i].__code__ is not rule.__code__:
                found.append((name, i))
    return found


def test_every_op_in_the_registry_is_written_as_rules():
    for op in OPS.values():
        assert op.rules is not None and len(op.rules(ops_module.FLOAT_MATH)) == op.arity


def test_fast_float_overrides_are_the_measured_ones():
    # Each one has to be worth it on the benchmark (see the comment above them in ops.py).
    assert _fast_overrides() == [("pow", 0), ("pow", 1), ("relu", 0)]


@pytest.mark.parametrize("name_and_input", _fast_overrides(), ids=str)
def test_a_fast_float_override_equals_its_rule(name_and_input):
    name, i = name_and_input
    op = OPS[name]
    rule = op.grads_on(ops_module.FLOAT_MATH)[i]
    rng = random.Random(name)
    rows = [[rng.uniform(*d) for d in op.domain] for _ in range(500)]
    rows += [list(inputs) for inputs in edge_cases(name)]
    for row in rows:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = op.forward(*row)
        fast, slow = op.local_grads[i](*row, out), rule(*row, out)
        assert close(fast, slow, rel=0.0, abs_=0.0) and math.copysign(1, fast) == math.copysign(
            1, slow
        ), (name, i, row, fast, slow)


def test_every_maths_namespace_has_the_same_names():
    np = pytest.importorskip("numpy")
    from micrograd.autodiff import GRAPH_MATH

    names = set(vars(ops_module.FLOAT_MATH))
    assert set(vars(ops_module.array_math(np))) == names == set(vars(GRAPH_MATH))


def test_an_op_added_as_one_record_works_on_every_path():
    # The worked example of docs/guide/engine.md: a cube op, one record, picked up by every path.
    np = pytest.importorskip("numpy")
    from micrograd import gradcheck, trace
    from micrograd.functional import grad
    from micrograd.ops import Op

    cube = Op(
        "cube",
        "³",
        lambda x: x * x * x,
        rules=lambda m: (lambda x, out: 3.0 * x * x,),
        domain=((-2.0, 2.0),),
        array_forward=lambda np, x: x * x * x,
    )
    x = Value(1.5)
    out = apply(cube, x)
    out.backward()
    assert (out.data, x.grad) == (3.375, 6.75)
    assert grad(grad(lambda v: apply(cube, v)))(1.5) == 9.0  # its rules on Values: 6x
    assert gradcheck(lambda v: apply(cube, v), [0.7])
    tape = trace(lambda v: apply(cube, v), [1.5])
    batch = tape.run_batch([[1.5], [-2.0]], backend="numpy")
    assert np.allclose(batch.input_grads, [[6.75], [12.0]], rtol=0, atol=0)


def _notation_value(text: str, inputs: list[float], out: float) -> float:
    """A rule's notation evaluated at a point: by the expression parser, piece by piece."""
    from micrograd.expr import evaluate, parse

    names = {"x": Value(inputs[0]), "out": Value(out)}
    if len(inputs) > 1:
        names["y"] = Value(inputs[1])
    for piece in text.split(", "):  # "1 if x > 0, -1 if x < 0, else 0"
        value, _, condition = piece.removeprefix("else ").partition(" if ")
        if condition:  # "x > 0", "x = y", "y ≤ x": a name, a comparison, a name or a number
            name, sign, bound = condition.split()
            point = names[name].data
            limit = names[bound].data if bound in names else float(bound)
            holds = {
                ">": point > limit,
                "<": point < limit,
                "=": point == limit,
                "≥": point >= limit,
                "≤": point <= limit,
            }[sign]
            if not holds:
                continue
        expression = value.replace("^", "**").replace("σ", "sigmoid")
        used = {k: v for k, v in names.items() if k in expression}
        return evaluate(parse(expression), used).data
    raise AssertionError(f"no piece of {text!r} applies at {inputs}")


@pytest.mark.parametrize("op_name", OP_NAMES)
def test_each_notation_says_what_its_rule_computes(op_name):
    op = OPS[op_name]
    assert len(op.notation) == op.arity, "one notation per derivative rule"
    rng = random.Random(op_name)
    for _ in range(20):
        inputs = [rng.uniform(low, high) for low, high in op.domain]
        out = op.forward(*inputs)
        for rule, text in zip(op.local_grads, op.notation):
            assert _notation_value(text, inputs, out) == pytest.approx(
                rule(*inputs, out), rel=1e-12, abs=1e-12
            ), text
