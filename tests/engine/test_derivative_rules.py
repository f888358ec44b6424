"""An op's derivative rules are ordinary Python: one function of the maths namespace, called
with the namespace of floats, of Values or of numpy arrays, never rebuilt or patched.

The op-by-op numbers are checked in test_ops.py and test_higher_order.py; this file checks how
the versions are made and what that allows (module globals, a branch not computed).
"""

from __future__ import annotations

import math
import warnings

import pytest

from micrograd import OPS, Value, ops
from micrograd.autodiff import GRAPH_MATH, graph_grads
from micrograd.engine import apply
from micrograd.functional import grad
from micrograd.ops import FLOAT_MATH, Op
from tests.references import facts


def test_each_version_is_the_rule_called_with_a_namespace():
    sin = OPS["sin"]
    on_floats, on_values = sin.local_grads[0], graph_grads(sin)[0]
    # The same code, with the module's own globals: nothing rebuilt, only a different `m`.
    assert on_floats.__code__ is on_values.__code__ is sin.rules(FLOAT_MATH)[0].__code__
    assert on_floats.__globals__ is on_values.__globals__ is vars(ops)
    assert on_floats(0.0, 0.0) == 1.0
    assert on_values(Value(0.0), Value(0.0)).data == 1.0


def test_a_rule_may_use_a_global_of_its_module():
    # Issue 22: a rule calling math.cos was accepted and failed at backward() with NameError.
    op = Op("sin_", "sin", math.sin, rules=lambda m: (lambda x, out: math.cos(x),))
    x = Value(0.5)
    apply(op, x).backward()
    assert x.grad == math.cos(0.5)


def test_rules_given_as_a_tuple_are_refused_saying_what_is_expected():
    with pytest.raises(TypeError, match=facts("'cube'", "rules", "function of", "tuple")):
        Op("cube", "³", lambda x: x**3, rules=(lambda x, out: 3 * x * x,))


def test_where_computes_only_the_branch_it_takes_on_floats_and_values():
    def never() -> float:
        raise AssertionError("the branch not taken was computed")

    assert FLOAT_MATH.where(True, 1.0, never) == 1.0
    assert GRAPH_MATH.where(False, never, lambda: Value(2.0)).data == 2.0


def test_the_second_derivative_of_a_power_at_zero_does_not_warn_about_log_zero():
    # d(x ** y)/dy is x ** y * log(x), and 0 at x = 0: its log(0) branch must not be built.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert grad(grad(lambda x, y: x**y, argnums=1), argnums=0)(0.0, 2.0) == 0.0
        x, y = Value(0.0), Value(2.0)
        (x**y).backward(create_graph=True)
        assert y.grad.data == 0.0
