"""micrograd: a scalar-valued autograd engine with a small neural-network library.

>>> from micrograd import Value
>>> a, b = Value(2.0, "a"), Value(-3.0, "b")
>>> c = a * b + a
>>> c.backward()
>>> a.grad, b.grad
(-2.0, 2.0)
"""

from micrograd import autodiff, data, losses, numeric, optim
from micrograd.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from micrograd.clip_grad import clip_grad_norm_, clip_grad_value_
from micrograd.engine import Value, topological_order
from micrograd.grad_mode import (
    GradientLostWarning,
    enable_grad,
    is_grad_enabled,
    is_tracing,
    no_grad,
    set_grad_enabled,
)
from micrograd.gradcheck import (
    DerivativeReport,
    GradcheckError,
    check_derivative,
    gradcheck,
    numerical_grad,
)
from micrograd.nn import MLP, Layer, Module, Neuron
from micrograd.ops import OPS, Op
from micrograd.parameter import Parameter
from micrograd.tape import Tape, trace
from micrograd.viz import draw_dot

__version__ = "0.2.0"

__all__ = [
    "MLP",
    "AnomalyError",
    "autodiff",
    "check_derivative",
    "clip_grad_norm_",
    "clip_grad_value_",
    "OPS",
    "DerivativeReport",
    "GradcheckError",
    "GradientLostWarning",
    "Layer",
    "Module",
    "Neuron",
    "Op",
    "Parameter",
    "Tape",
    "Value",
    "data",
    "detect_anomaly",
    "draw_dot",
    "gradcheck",
    "is_anomaly_enabled",
    "enable_grad",
    "is_grad_enabled",
    "is_tracing",
    "losses",
    "no_grad",
    "numerical_grad",
    "numeric",
    "optim",
    "set_grad_enabled",
    "topological_order",
    "trace",
]
