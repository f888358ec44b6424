"""Optimizers that update `Value` parameters from their gradients: `SGD`, `Adam`, `AdamW`.

Names, defaults and update rules are PyTorch's (`torch.optim`), so results match it step for
step. Per-parameter state (momentum buffers, moment estimates, step counts) lives in the
optimizer's `state` dict, keyed by parameter, never on the `Value`s. Learning-rate schedules are
small objects that set `optimizer.lr` (`LambdaLR`, `LinearLR`). Parameter groups, closures and
optimizer checkpoints are left out.

A step reads each gradient's number: after `backward(create_graph=True)` a leaf's `grad` is a
`Value`, and the update uses its `data`, as `torch.optim` uses the value of a grad tensor that has
a graph. The parameters stay plain floats and the step is never part of a graph.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from micrograd.engine import Value


def _check_float(value: object, name: str, low: float = 0.0, high: float = math.inf) -> float:
    """A real number in [low, high), else ValueError naming `name`."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, received {type(value).__name__}: {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float: out of range below, with its name
        value = math.inf if value > 0 else -math.inf
    if not low <= value < high or math.isnan(value):
        upper = "" if high == math.inf else f" and below {high}"
        raise ValueError(f"invalid {name}: {value!r}; expected a number >= {low}{upper}")
    return value


def _grad_number(p: Value) -> float:
    """The number in `p.grad`: a float, or the `data` of the Value left by create_graph=True."""
    g = p.grad
    return g.data if isinstance(g, Value) else g


class Optimizer:
    """Base class: holds the parameters, the learning rate and per-parameter `state`."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        if isinstance(params, Value):
            raise TypeError(
                "params must be an iterable of Values (model.parameters()), not one Value"
            )
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"params must be an iterable of Values (model.parameters()), received "
                f"{type(params).__name__}"
            ) from None
        if not params:
            raise ValueError("optimizer got an empty parameter list; expected at least one Value")
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"params[{i}] must be a Value, received {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"params[{i}] ({p!r}) does not require grad; it cannot be trained")
            if id(p) in seen:
                raise ValueError(
                    f"params[{i}] ({p!r}) appears more than once in the parameter list"
                )
            seen.add(id(p))
        self.params: list[Value] = params
        self.lr = _check_float(lr, "learning rate")
        self.state: dict[Value, dict[str, Any]] = {}

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from the number in its current grad."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr})"


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and weight decay.

    With `g = grad + weight_decay * p`: the momentum buffer starts as `g`, then becomes
    `momentum * buf + (1 - dampening) * g`; the step uses `buf` (or `g + momentum * buf` with
    `nesterov`); then `p -= lr * step`.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_float(momentum, "momentum")
        self.dampening = _check_float(dampening, "dampening")
        self.weight_decay = _check_float(weight_decay, "weight_decay")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                f"Nesterov momentum requires momentum > 0 and dampening = 0, received "
                f"momentum={self.momentum}, dampening={self.dampening}"
            )

    def step(self) -> None:
        """One SGD update of every parameter."""
        lr, momentum, dampening, decay = self.lr, self.momentum, self.dampening, self.weight_decay
        for p in self.params:
            g = _grad_number(p)
            if decay:
                g += decay * p.data
            if momentum:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                buf = g if buf is None else momentum * buf + (1.0 - dampening) * g
                state["momentum_buffer"] = buf
                g = g + momentum * buf if self.nesterov else buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba) with PyTorch's bias correction, `weight_decay` (L2) and `amsgrad`."""

    # AdamW changes how weight decay enters; the moment updates are shared.
    _decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), received {betas!r}")
        self.betas = (
            _check_float(betas[0], "beta1 (betas[0])", high=1.0),
            _check_float(betas[1], "beta2 (betas[1])", high=1.0),
        )
        self.eps = _check_float(eps, "eps")
        if self.eps == 0.0:
            # With a zero gradient the step would be 0 / 0; PyTorch gives nan, we refuse up front.
            raise ValueError("invalid eps: 0.0; expected a number > 0 (it keeps the step finite)")
        self.weight_decay = _check_float(weight_decay, "weight_decay")
        self.amsgrad = bool(amsgrad)

    def step(self) -> None:
        """One Adam update of every parameter."""
        lr, eps, decay = self.lr, self.eps, self.weight_decay
        beta1, beta2 = self.betas
        for p in self.params:
            state = self.state.setdefault(p, {"step": 0, "exp_avg": 0.0, "exp_avg_sq": 0.0})
            g = _grad_number(p)
            if decay:
                if self._decoupled_weight_decay:
                    p.data *= 1.0 - lr * decay  # AdamW: shrink the weight, apart from the gradient
                else:
                    g += decay * p.data  # Adam: L2 penalty folded into the gradient
            state["step"] += 1
            step = state["step"]
            exp_avg = state["exp_avg"] = beta1 * state["exp_avg"] + (1.0 - beta1) * g
            exp_avg_sq = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1.0 - beta2) * g * g
            if self.amsgrad:
                exp_avg_sq = state["max_exp_avg_sq"] = max(
                    state.get("max_exp_avg_sq", 0.0), exp_avg_sq
                )
            bias_correction1 = 1.0 - beta1**step
            bias_correction2 = 1.0 - beta2**step
            denom = math.sqrt(exp_avg_sq) / math.sqrt(bias_correction2) + eps
            p.data -= lr / bias_correction1 * exp_avg / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): `p *= 1 - lr * weight_decay`."""

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class LambdaLR:
    """Learning-rate schedule: after k calls to `step()`, `optimizer.lr = base_lr * lr_lambda(k)`.

    As in PyTorch, the factor for k = 0 is applied at construction; call `scheduler.step()` after
    each `optimizer.step()`. The classic demo's decay is
    `LambdaLR(SGD(params, lr=1.0), lambda k: 1.0 - 0.9 * k / 100)`.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be an Optimizer, received {type(optimizer).__name__}")
        if not callable(lr_lambda):
            raise TypeError(f"lr_lambda must be callable, received {type(lr_lambda).__name__}")
        self.optimizer = optimizer
        self.lr_lambda = lr_lambda
        self.base_lr = optimizer.lr
        self.last_step = 0
        self._apply()

    def _apply(self) -> None:
        factor = self.lr_lambda(self.last_step)
        if not isinstance(factor, numbers.Real) or isinstance(factor, bool):
            raise TypeError(
                f"lr_lambda({self.last_step}) must return a number (the factor on the base "
                f"learning rate), received {type(factor).__name__}: {factor!r:.60}"
            )
        self.optimizer.lr = _check_float(
            self.base_lr * factor, f"learning rate at step {self.last_step}"
        )

    def step(self) -> None:
        """Advance the schedule by one step and set the optimizer's learning rate."""
        self.last_step += 1
        self._apply()

    def get_last_lr(self) -> float:
        """The learning rate the schedule set most recently."""
        return self.optimizer.lr


class LinearLR(LambdaLR):
    """Scale the learning rate linearly from `start_factor` to `end_factor` over `total_iters`.

    Holds `end_factor` after that. `LinearLR(SGD(params, lr=1.0), 1.0, 0.1, 100)` is the classic
    demo's `lr = 1.0 - 0.9 * k / 100`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        if not isinstance(total_iters, int) or isinstance(total_iters, bool) or total_iters < 1:
            raise ValueError(f"total_iters must be a positive int, received {total_iters!r}")
        start = _check_float(start_factor, "start_factor")
        end = _check_float(end_factor, "end_factor")
        self.start_factor, self.end_factor, self.total_iters = start, end, total_iters

        def factor(k: int) -> float:
            return start + (end - start) * min(k, total_iters) / total_iters

        super().__init__(optimizer, factor)
