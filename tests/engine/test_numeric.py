"""The one number policy, `micrograd.numeric`: what counts as a real number, everywhere, as data
and as a setting.

Data (`Value(...)`, `.data`, operators, gradcheck's inputs) becomes a float: any real number,
numpy's scalars included, `True` as 1.0. Settings (`lr=`, `eps=`, `max_paths=`, ...) are checked
by the policy's checkers: each setting below is given the same hostile values, and each must get
the answer of the checker the policy says it uses: accepted, or the same error type with a
message naming the setting. A bool is a TypeError wherever a number or a count is a setting
(`lr=True` is always a slip), while as data it stays 0.0 or 1.0, as `Value(True)` is.
"""

from __future__ import annotations

import decimal
import fractions
import math
import warnings

import pytest

from micrograd import MLP, Value
from micrograd import data as datasets
from micrograd.clip_grad import clip_grad_norm_, clip_grad_value_
from micrograd.explain import explain
from micrograd.gradcheck import check_derivative, gradcheck, numerical_grad
from micrograd.losses import hinge, l2_penalty
from micrograd.nn import Layer, Neuron
from micrograd.numeric import (
    count,
    flag,
    in_unit_interval,
    is_integer,
    is_real,
    non_negative,
    positive,
    real,
    to_float,
)
from micrograd.optim import SGD, Adam, AdamW, ExponentialLR, LinearLR, StepLR
from micrograd.serialize import read
from micrograd.viz.dot import build_dot
from tests.references import facts


@pytest.mark.parametrize(
    ("number", "expected"),
    [(2, 2.0), (-0.5, -0.5), (True, 1.0), (False, 0.0), (fractions.Fraction(1, 4), 0.25)],
)
def test_real_numbers_become_floats(number, expected):
    assert is_real(number) and type(to_float(number)) is float and to_float(number) == expected


@pytest.mark.parametrize("bad", ["1", None, 1j, decimal.Decimal("1.5"), [1.0], Value(1.0)])
def test_anything_else_is_refused_naming_what_and_the_type(bad):
    assert not is_real(bad)
    with pytest.raises(TypeError, match=facts("Value.data", type(bad).__name__)):
        to_float(bad, "Value.data")


def test_numpy_scalars_become_python_floats():
    np = pytest.importorskip("numpy")
    for number in (np.float32(0.1), np.float64(2.5), np.int64(3)):
        assert type(to_float(number)) is float and to_float(number) == float(number)


def test_an_int_beyond_the_float_range_is_inf_with_a_warning():
    with pytest.warns(RuntimeWarning, match=facts("int", "inf")):
        assert to_float(10**400) == math.inf
    with pytest.warns(RuntimeWarning, match=facts("int", "-inf")):
        assert to_float(-(10**400)) == -math.inf


def test_one_answer_for_bool_in_the_modules_that_use_the_policy():
    # Data (Value(), .data, operators, gradcheck's inputs) takes True as 1.0; a setting refuses it.
    v = Value(True)
    v.data = False
    assert (Value(True).data, v.data, (Value(2.0) * True).data) == (1.0, 0.0, 2.0)
    assert gradcheck(lambda x: x * x, [True], eps=1e-6)
    with pytest.raises(TypeError, match=facts("atol", "bool", "True")):
        gradcheck(lambda x: x * x, [0.5], eps=1e-6, atol=True)


def test_the_row_policy():
    np = pytest.importorskip("numpy")
    from micrograd.numeric import as_row, is_row

    assert as_row([1, 2]) == [1, 2] and as_row((1.5,)) == [1.5] and as_row(range(2)) == [0, 1]
    row = as_row(np.array([0.5, 1.0], dtype=np.float32))
    assert row == [0.5, 1.0] and all(type(x) is float for x in row)
    assert as_row(np.array([[1, 2], [3, 4]]), ndim=2) == [[1, 2], [3, 4]]
    for not_a_row in ("ab", b"ab", {1: 2}, {1, 2}, 3, np.float64(1.0), np.zeros((2, 2))):
        assert not is_row(not_a_row)
        with pytest.raises(TypeError, match="received"):
            as_row(not_a_row, "f")


# --- Settings: every public setting, fed the same hostile values ------------------------------

try:
    import numpy as np
except ImportError:  # the core tests without numpy: its scalars are then left out
    np = None

OK, TYPE, VALUE = "ok", TypeError, ValueError

# The hostile values, and what each kind of setting answers to each, in this order.
HOSTILE = [True, math.nan, math.inf, -1, 1e308, "1"]
NUMPY = [] if np is None else [np.float64(0.1), np.int64(2)]
ANSWERS = {
    #                 True  nan    inf    -1     1e308  "1"   | float64(0.1) int64(2)
    "real": [TYPE, VALUE, VALUE, OK, OK, TYPE, OK, OK],
    "non_negative": [TYPE, VALUE, VALUE, VALUE, OK, TYPE, OK, OK],
    "positive": [TYPE, VALUE, VALUE, VALUE, OK, TYPE, OK, OK],
    "non_negative or inf": [TYPE, VALUE, OK, VALUE, OK, TYPE, OK, OK],
    "positive or inf": [TYPE, VALUE, OK, VALUE, OK, TYPE, OK, OK],
    "in [0, 1)": [TYPE, VALUE, VALUE, VALUE, VALUE, TYPE, OK, VALUE],
    "count": [TYPE, TYPE, TYPE, VALUE, TYPE, TYPE, TYPE, OK],
    "flag": [OK, TYPE, TYPE, TYPE, TYPE, TYPE, TYPE, TYPE],
    # An int is a count of test items, anything else a fraction in (0, 1).
    "count or fraction": [TYPE, VALUE, VALUE, VALUE, VALUE, TYPE, OK, OK],
}


def _params() -> list[Value]:
    return [Value(0.5), Value(-1.0)]


def _graph() -> Value:
    x = Value(0.5, "x")
    return x * x


def _explain(max_paths: object) -> object:
    x = Value(0.5, "x")
    return explain(x * x, x, max_paths=max_paths)


def _with_grads() -> list[Value]:
    params = _params()
    for p in params:
        p.grad = 1.0
    return params


# (setting, the name its error must carry, kind, call with the value)
SETTINGS = [
    ("SGD lr", "lr", "non_negative", lambda v: SGD(_params(), lr=v)),
    ("SGD momentum", "momentum", "non_negative", lambda v: SGD(_params(), lr=0.1, momentum=v)),
    ("SGD dampening", "dampening", "non_negative", lambda v: SGD(_params(), lr=0.1, dampening=v)),
    (
        "SGD weight_decay",
        "weight_decay",
        "non_negative",
        lambda v: SGD(_params(), lr=0.1, weight_decay=v),
    ),
    (
        "SGD nesterov",
        "nesterov",
        "flag",
        lambda v: SGD(_params(), lr=0.1, momentum=0.9, nesterov=v),
    ),
    ("SGD.lr =", "lr", "non_negative", lambda v: setattr(SGD(_params(), lr=0.1), "lr", v)),
    ("SGD param group lr", "lr", "non_negative", lambda v: SGD([{"params": _params(), "lr": v}])),
    (
        "Optimizer.zero_grad set_to_none",
        "set_to_none",
        "flag",
        lambda v: SGD(_params(), lr=0.1).zero_grad(v),
    ),
    ("Adam lr", "lr", "non_negative", lambda v: Adam(_params(), lr=v)),
    ("Adam beta1", "beta1", "in [0, 1)", lambda v: Adam(_params(), betas=(v, 0.999))),
    ("Adam beta2", "beta2", "in [0, 1)", lambda v: Adam(_params(), betas=(0.9, v))),
    ("Adam eps", "eps", "positive", lambda v: Adam(_params(), eps=v)),
    (
        "Adam weight_decay",
        "weight_decay",
        "non_negative",
        lambda v: Adam(_params(), weight_decay=v),
    ),
    ("Adam amsgrad", "amsgrad", "flag", lambda v: Adam(_params(), amsgrad=v)),
    ("AdamW lr", "lr", "non_negative", lambda v: AdamW(_params(), lr=v)),
    ("AdamW eps", "eps", "positive", lambda v: AdamW(_params(), eps=v)),
    (
        "LinearLR start_factor",
        "start_factor",
        "non_negative",
        lambda v: LinearLR(SGD(_params(), lr=1.0), start_factor=v),
    ),
    (
        "LinearLR end_factor",
        "end_factor",
        "non_negative",
        lambda v: LinearLR(SGD(_params(), lr=1.0), end_factor=v),
    ),
    (
        "LinearLR total_iters",
        "total_iters",
        "count",
        lambda v: LinearLR(SGD(_params(), lr=1.0), total_iters=v),
    ),
    ("StepLR step_size", "step_size", "count", lambda v: StepLR(SGD(_params(), lr=1.0), v)),
    ("StepLR gamma", "gamma", "non_negative", lambda v: StepLR(SGD(_params(), lr=1.0), 2, v)),
    ("ExponentialLR gamma", "gamma", "non_negative", lambda v: ExponentialLR(SGD(_params()), v)),
    (
        "iterate_minibatches batch_size",
        "batch_size",
        "count",
        lambda v: datasets.iterate_minibatches([1, 2, 3], [1, 2, 3], v),
    ),
    (
        "iterate_minibatches shuffle",
        "shuffle",
        "flag",
        lambda v: datasets.iterate_minibatches([1, 2], [1, 2], 1, shuffle=v),
    ),
    (
        "iterate_minibatches drop_last",
        "drop_last",
        "flag",
        lambda v: datasets.iterate_minibatches([1, 2], [1, 2], 1, drop_last=v),
    ),
    ("make_moons noise", "noise", "non_negative", lambda v: datasets.make_moons(10, noise=v)),
    ("make_moons shuffle", "shuffle", "flag", lambda v: datasets.make_moons(10, shuffle=v)),
    ("make_circles factor", "factor", "in [0, 1)", lambda v: datasets.make_circles(10, factor=v)),
    ("make_spiral turns", "turns", "real", lambda v: datasets.make_spiral(10, 1, turns=v)),
    ("make_spiral n_classes", "n_classes", "count", lambda v: datasets.make_spiral(10, v)),
    ("make_blobs n_features", "n_features", "count", lambda v: datasets.make_blobs(10, v)),
    (
        "make_blobs cluster_std",
        "cluster_std",
        "non_negative",
        lambda v: datasets.make_blobs(10, cluster_std=v),
    ),
    ("load_digits n_class", "n_class", "count", lambda v: datasets.load_digits(n_class=v)),
    (
        "train_test_split test_size",
        "test_size",
        "count or fraction",
        lambda v: datasets.train_test_split(list(range(10)), test_size=v),
    ),
    ("Neuron nin", "nin", "count", lambda v: Neuron(v)),
    ("Layer nin", "nin", "count", lambda v: Layer(v, 2)),
    ("Layer nout", "nout", "count", lambda v: Layer(2, v)),
    ("MLP nin", "nin", "count", lambda v: MLP(v, [2])),
    ("MLP nouts", "nouts", "count", lambda v: MLP(2, [v, 1])),
    ("Module.train mode", "training mode", "flag", lambda v: MLP(2, [1]).train(v)),
    ("Module.requires_grad_", "requires_grad", "flag", lambda v: MLP(2, [1]).requires_grad_(v)),
    ("Module.zero_grad set_to_none", "set_to_none", "flag", lambda v: MLP(2, [1]).zero_grad(v)),
    (
        "gradcheck eps",
        "eps",
        "positive",
        lambda v: gradcheck(lambda x: x + 1.0, [0.5], eps=v, raise_exception=False),
    ),
    ("gradcheck atol", "atol", "non_negative", lambda v: gradcheck(Value.exp, [0.5], atol=v)),
    ("gradcheck rtol", "rtol", "non_negative", lambda v: gradcheck(Value.exp, [0.5], rtol=v)),
    (
        "gradcheck raise_exception",
        "raise_exception",
        "flag",
        lambda v: gradcheck(Value.exp, [0.5], raise_exception=v),
    ),
    ("numerical_grad eps", "eps", "positive", lambda v: numerical_grad(Value.exp, [0.5], eps=v)),
    (
        "check_derivative eps",
        "eps",
        "positive",
        lambda v: check_derivative(math.tanh, lambda x: 1 - math.tanh(x) ** 2, eps=v),
    ),
    (
        "check_derivative atol",
        "atol",
        "non_negative",
        lambda v: check_derivative(math.tanh, lambda x: 1 - math.tanh(x) ** 2, atol=v),
    ),
    (
        "clip_grad_norm_ max_norm",
        "max_norm",
        "non_negative or inf",
        lambda v: clip_grad_norm_(_with_grads(), v),
    ),
    (
        "clip_grad_norm_ norm_type",
        "norm_type",
        "positive or inf",
        lambda v: clip_grad_norm_(_with_grads(), 1.0, norm_type=v),
    ),
    (
        "clip_grad_norm_ error_if_nonfinite",
        "error_if_nonfinite",
        "flag",
        lambda v: clip_grad_norm_(_with_grads(), 1.0, error_if_nonfinite=v),
    ),
    (
        "clip_grad_value_ clip_value",
        "clip_value",
        "non_negative or inf",
        lambda v: clip_grad_value_(_with_grads(), v),
    ),
    ("hinge margin", "margin", "real", lambda v: hinge([Value(0.5)], [1.0], margin=v)),
    ("hinge prune", "prune", "flag", lambda v: hinge([Value(0.5)], [1.0], prune=v)),
    ("l2_penalty alpha", "alpha", "non_negative", lambda v: l2_penalty(_params(), v)),
    ("explain max_paths", "max_paths", "count", _explain),
    ("build_dot digits", "digits", "count", lambda v: build_dot(_graph(), digits=v)),
    ("build_dot max_nodes", "max_nodes", "count", lambda v: build_dot(Value(0.5), max_nodes=v)),
    ("build_dot compact", "compact", "flag", lambda v: build_dot(_graph(), compact=v)),
    ("build_dot shade_grad", "shade_grad", "flag", lambda v: build_dot(_graph(), shade_grad=v)),
    ("serialize.read max_bytes", "max_bytes", "count", lambda v: read("absent.json", max_bytes=v)),
]

CASES = [
    pytest.param(call, name, value, answer, id=f"{setting}={value!r}")
    for setting, name, kind, call in SETTINGS
    for value, answer in zip(HOSTILE + NUMPY, ANSWERS[kind])
]


@pytest.mark.parametrize(("call", "name", "value", "answer"), CASES)
def test_every_setting_gives_the_policys_answer(call, name, value, answer):
    if answer == OK:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # huge settings may overflow on the way: not our point
            try:
                call(value)
            except (TypeError, ValueError) as error:
                pytest.fail(f"{value!r} was refused: {error}")
            except Exception:  # noqa: BLE001 - a later failure (a missing file, a mismatch)
                pass  # means the setting itself was accepted
        return
    with pytest.raises(answer, match=facts(name, type(value).__name__)) as info:
        call(value)
    assert type(info.value) is answer  # the same type everywhere, not a subclass of it


@pytest.mark.parametrize(
    ("check", "value", "error", "pieces"),
    [
        (real, True, TypeError, ["lr", "bool", "True", "a finite number"]),
        (real, math.nan, ValueError, ["lr", "float", "nan", "finite"]),
        (positive, 0, ValueError, ["lr", "int", "0", "> 0"]),
        (non_negative, -0.5, ValueError, ["lr", "-0.5", ">= 0"]),
        (in_unit_interval, 1.0, ValueError, ["lr", "1.0", "[0, 1)"]),
        (count, 2.0, TypeError, ["lr", "float", "2.0", "an int"]),
        (flag, 1, TypeError, ["lr", "int", "1", "True or False"]),
    ],
)
def test_each_error_names_the_setting_the_value_its_type_and_what_was_expected(
    check, value, error, pieces
):
    with pytest.raises(error, match=facts(*pieces)):
        check(value, "lr")


def test_inf_only_where_the_checker_allows_it():
    assert positive(math.inf, "max_norm", allow_inf=True) == math.inf
    assert real(-math.inf, "x", allow_inf=True) == -math.inf
    with pytest.raises(ValueError, match=facts("x", "nan")):
        real(math.nan, "x", allow_inf=True)  # nan never
    with pytest.raises(ValueError, match=facts("x", "int", "finite")):
        real(10**400, "x")  # an int too large for a float is infinite, so refused


def test_the_checkers_return_plain_python_numbers():
    assert type(positive(1, "eps")) is float and type(count(3, "n")) is int
    if np is not None:
        assert type(real(np.float32(0.5), "x")) is float and type(count(np.int64(2), "n")) is int
    assert is_integer(3) and not is_integer(True) and not is_integer(3.0)


def test_a_bool_is_data_but_not_a_setting():
    # Data keeps the engine's rule (True is 1.0, as in Python, numpy and PyTorch) ...
    assert Value(True).data == 1.0 and (Value(2.0) * True).data == 2.0
    assert hinge([Value(0.5)], [True]).data == 0.5  # a target is data
    # ... while a setting refuses it, whichever module takes it.
    for call in (lambda: SGD(_params(), lr=True), lambda: gradcheck(Value.exp, [0.5], eps=True)):
        with pytest.raises(TypeError, match="bool"):
            call()
