"""Optimizers that update `Value` parameters from their gradients: `SGD`, `Adam`, `AdamW`.

Names, defaults and update rules are PyTorch's (`torch.optim`), so results match it step for
step. Hyperparameters live in `param_groups` (a list of dicts, as in PyTorch: write
`optimizer.param_groups[0]["lr"] = 0.01` and the next step uses it); per-parameter state
(momentum buffers, moment estimates, step counts) lives in the optimizer's `state` dict, keyed
by parameter, never on the `Value`s. `state_dict()` / `load_state_dict()` carry both, in
PyTorch's layout, so a run continues exactly. Learning-rate schedules (`LambdaLR`, `LinearLR`,
`StepLR`, `ExponentialLR`) set each group's `lr`. Closures, `maximize` and sparse gradients are
left out.

A step reads each gradient's number: after `backward(create_graph=True)` a leaf's `grad` is a
`Value`, and the update uses its `data`, as `torch.optim` uses the value of a grad tensor that has
a graph. The parameters stay plain floats and the step is never part of a graph. A parameter
that does not require grad (frozen with `requires_grad_(False)`) is left alone, as PyTorch
leaves one whose grad is None.

Each optimizer writes its update rule once (`_rule`), on a maths namespace: called with floats
for one parameter at a time by `step()`, and with numpy arrays for a whole param group at once
by `step(result)`, which takes instead the `BatchResult` of a tape's batched replay
(`micrograd.tape`); the same operations in the same order, so the two round the same. When the
parameters are one run of a Parameter store (a model built by `nn`, see `micrograd.parameter`)
the new numbers are written into the store in place, which is where the Values read them;
otherwise they are written into the Values one by one. Either way the model stays the source of
truth. Between such steps the state of the stepped parameters is kept in arrays and turned back
into `state`'s per-parameter dicts when `state` is read. This module imports neither numpy nor
the tape: numpy is imported when a result holding arrays is stepped.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from micrograd.engine import Value
from micrograd.numeric import count, flag, in_unit_interval, non_negative, positive, real
from micrograd.parameter import to_store

if TYPE_CHECKING:
    from micrograd.tape import BatchResult


def _grad_number(p: Value) -> float:
    """The number in `p.grad`: a float, or the `data` of the Value left by create_graph=True."""
    g = p.grad
    return g.data if isinstance(g, Value) else g


class Optimizer:
    """Base class: parameter groups with their hyperparameters, and per-parameter `state`.

    `params` is an iterable of Values, or of dicts `{"params": [...], "lr": ...}` (one per
    group; keys left out take the constructor's values), as in PyTorch.
    """

    def __init__(
        self, params: Iterable[Value] | Iterable[dict[str, Any]], defaults: dict[str, Any]
    ) -> None:
        if isinstance(params, Value):
            raise TypeError(
                "params must be an iterable of Values (model.parameters()), not one Value"
            )
        try:
            items: list[Any] = list(params)
        except TypeError:
            raise TypeError(
                f"params must be an iterable of Values (model.parameters()), received "
                f"{type(params).__name__}"
            ) from None
        if not items:
            raise ValueError("optimizer got an empty parameter list; expected at least one Value")
        self.defaults: dict[str, Any] = self._check_hyper(dict(defaults), "")
        self.param_groups: list[dict[str, Any]] = []
        self.state = {}
        # After a step from a tape's result the state of the stepped parameters lives in arrays,
        # one dict of them per group (see `_step_arrays`), until `state` is read.
        self._arrays: list[dict[str, Any]] | None = None
        self._layout: _TapeLayout | None = None
        self._last_result: object = None
        self._store_view: tuple[object, Any] = (None, None)  # see _step_arrays
        groups = items if isinstance(items[0], Mapping) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group `{"params": [...], hyperparameter: value, ...}`; missing ones default."""
        where = f"param group {len(self.param_groups)}"
        if not isinstance(param_group, Mapping) or "params" not in param_group:
            raise TypeError(
                f"{where} must be a dict with a 'params' list, received "
                f"{type(param_group).__name__}: {param_group!r:.60}"
            )
        params = param_group["params"]
        if isinstance(params, Value):
            params = [params]
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"{where}: params must be an iterable of Values, received {type(params).__name__}"
            ) from None
        if not params:
            raise ValueError(f"{where} has an empty parameter list; expected at least one Value")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        prefix = f"{where} params" if self.param_groups else "params"
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"{prefix}[{i}] must be a Value, received {type(p).__name__}")
            if p.parents:
                op = getattr(p.op, "name", p.op)
                raise ValueError(
                    f"{prefix}[{i}] ({p!r}) is made by an op ({op}); only leaf Values can be "
                    "trained, as in PyTorch"
                )
            if id(p) in seen:
                raise ValueError(f"{prefix}[{i}] ({p!r}) appears more than once in the parameters")
            seen.add(id(p))
        group = {**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}}
        group = self._check_hyper(group, f"{where}: ")
        self.param_groups.append({"params": params, **group})

    def _check_hyper(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        """The group's hyperparameters checked and normalised; unknown keys refused."""
        # "initial_lr" is where a schedule keeps a group's starting rate, as in PyTorch.
        unknown = sorted(set(group) - set(self._HYPER) - {"params", "initial_lr"})
        if unknown:
            raise ValueError(
                f"{where}unknown hyperparameters {unknown} for {type(self).__name__}; expected "
                f"{list(self._HYPER)}"
            )
        checked = {**group, **self._check(group, where)}
        if "initial_lr" in group:  # read by a schedule later: checked now, as the others
            checked["initial_lr"] = non_negative(group["initial_lr"], f"{where}initial_lr")
        return checked

    # Subclasses: the hyperparameter names, and a check that returns them normalised.
    _HYPER: tuple[str, ...] = ("lr",)

    def _check(self, group: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {"lr": non_negative(group["lr"], f"{where}lr")}

    def _groups(self) -> list[tuple[dict[str, Any], list[Value]]]:
        """Each group's hyperparameters, checked now (they may have been written since)."""
        return [
            (self._check(group, f"param group {i}: "), group["params"])
            for i, group in enumerate(self.param_groups)
        ]

    @property
    def params(self) -> list[Value]:
        """Every parameter of every group, in order."""
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        """The learning rate, when all groups share one; setting it sets every group's."""
        rates = {group["lr"] for group in self.param_groups}
        if len(rates) > 1:
            raise AttributeError(
                f"the {len(self.param_groups)} parameter groups have different learning rates "
                f"{[group['lr'] for group in self.param_groups]}; read param_groups[i]['lr']"
            )
        rate: float = self.param_groups[0]["lr"]
        return rate

    @lr.setter
    def lr(self, value: float) -> None:
        value = non_negative(value, "lr")
        for group in self.param_groups:
            group["lr"] = value

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's grad to 0.0.

        `set_to_none` is accepted for PyTorch's sake and changes nothing: a grad here is a float
        that `backward()` adds into, and 0.0 is how "no gradient yet" reads.
        """
        flag(set_to_none, "set_to_none")
        for p in self.params:
            p.grad = 0.0

    @property
    def state(self) -> dict[Value, dict[str, Any]]:
        """Per-parameter state (momentum buffers, moments, step counts), keyed by parameter."""
        if self._arrays is not None:
            self._unpack_arrays()
        return self._state

    @state.setter
    def state(self, state: dict[Value, dict[str, Any]]) -> None:
        self._arrays = None
        self._state = state

    def step(self, result: BatchResult | None = None) -> None:
        """Update every parameter once from the number in its current grad.

        Given the `BatchResult` of a tape's `run_batch` (whose parameters must include every
        parameter of this optimizer), the update uses the result's `param_grads` instead of the
        grads and runs in numpy, one group at a time; it gives the same numbers as copying the
        gradients into the grads and calling `step()`. Parameters in one store (`result.param_run`,
        a model built by `nn`) are updated in their store, from the numbers there now. Other
        parameters get the new numbers written into their Values, starting from the numbers the
        replay read (so a Value set by hand between the replay and the step is overwritten), or
        from the Values themselves when the replay was given numbers or the result was stepped
        before.
        """
        if result is None:
            for hyper, params in self._groups():
                active = [p for p in params if p.requires_grad]
                self._update(hyper, active, [_grad_number(p) for p in active])
            return
        if callable(result) or not hasattr(result, "param_grads"):
            raise TypeError(
                f"step() takes the BatchResult of a tape's run_batch (closures are left out), "
                f"received {type(result).__name__}"
            )
        layout = self._tape_layout(result.params)
        if isinstance(result.param_grads, list):  # the pure-Python replay: no numpy here
            grads = result.param_grads
            for (hyper, _), (index, active) in zip(self._groups(), layout.groups):
                self._update(hyper, active, [grads[i] for i in layout.positions(index)])
        else:
            self._step_arrays(result, layout)

    # Subclasses: the update rule, written once. `m` is the maths it may use beyond + - * / **
    # (`_FLOAT_MATH` or `_array_math(np)`); `w` and `g` are one parameter's number and gradient,
    # or a group's arrays of them, and `state` that parameter's (or that group's) entries, which
    # the rule reads and writes. Returns the new number(s).

    def _rule(
        self, m: SimpleNamespace, hyper: dict[str, Any], state: dict[str, Any], w: Any, g: Any
    ) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define its update rule")

    def _update(self, hyper: dict[str, Any], params: list[Value], grads: list[float]) -> None:
        """The rule on floats, one parameter at a time; a parameter gets a `state` entry only
        when its rule keeps something (plain SGD keeps nothing, as in PyTorch)."""
        states = self.state
        for p, g in zip(params, grads):
            state = states.get(p, {})
            p.data = self._rule(_FLOAT_MATH, hyper, state, p.data, g)
            if state and p not in states:
                states[p] = state

    # Stepping a tape's result: the same rule on arrays, no Python loop per parameter.

    def _tape_layout(self, tape_params: Sequence[Value]) -> _TapeLayout:
        """Where each group's parameters sit in the tape's vector, kept while nothing changes."""
        key = (id(tape_params), len(tape_params), _groups_key(self.param_groups))
        layout = self._layout
        if layout is not None and layout.key == key and layout.tape_params is tape_params:
            return layout
        if self._arrays is not None:  # packed for another layout: back to per-parameter state
            self._unpack_arrays()
        self._layout = layout = _TapeLayout(key, tape_params, self.param_groups)
        return layout

    def _step_arrays(self, result: BatchResult, layout: _TapeLayout) -> None:
        import numpy as np

        grads = np.asarray(result.param_grads, dtype=float)
        weights = result.param_values
        run = result.param_run
        # The parameters' store itself (a model built by nn): its numbers are the Values', now,
        # and the update is written into it. Else the replay was given numbers, or this result
        # was stepped already (its numbers are those before that step): start from the Values.
        in_place = run is not None and run[0].current  # not repacked since the replay
        if in_place:
            assert run is not None
            store, start = run
            to_store(result.params, store)  # called eagerly since the replay: the numbers back
            seen, view = self._store_view
            if seen is not store:  # the store's numbers as an array, no copy: made once
                view = np.frombuffer(store.numbers, dtype=float)
                self._store_view = (store, view)
            weights = view[start : start + len(result.params)]
        elif weights is None or result is self._last_result:
            weights = np.array([p.data for p in result.params], dtype=float)
        self._last_result = result
        if grads.shape != (len(result.params),) or np.shape(weights) != grads.shape:
            raise ValueError(
                f"the result has {grads.size} parameter gradients for {len(result.params)} "
                "parameters; expected one each"
            )
        if self._arrays is None:
            self._pack_arrays(np, layout)
        assert self._arrays is not None
        m = _array_math(np)
        for (hyper, _), (index, active), state in zip(self._groups(), layout.groups, self._arrays):
            if not active:
                continue
            new = self._rule(m, hyper, state, weights[index], grads[index])
            if in_place:  # the Parameters read their numbers from here
                weights[index] = new
            else:
                # The new numbers into the Values' slots in one pass of C (a map, not a Python
                # loop): they are Python floats from tolist(), as the `data` setter would store.
                deque(map(setattr, active, repeat("_data"), new.tolist()), maxlen=0)

    # The state entries with the number a missing entry counts as (None: no default, the
    # entry is made by the first step); subclasses list theirs.
    _STATE_DEFAULTS: dict[str, float | None] = {}

    def _pack_arrays(self, np: Any, layout: _TapeLayout) -> None:
        """Moves the stepped parameters' state from `state` into one array per entry and group.

        A step count the same for the whole group is kept as one int. An entry some parameters
        lack and that has no default (SGD's momentum buffer) keeps a mask of who has it.
        """
        arrays: list[dict[str, Any]] = []
        for _, active in layout.groups:
            entries = [self._state.pop(p, {}) for p in active]
            packed: dict[str, Any] = {}
            for name, kind in self._STATE.items():
                values = [entry.get(name) for entry in entries]
                if all(v is None for v in values):
                    continue
                default = self._STATE_DEFAULTS.get(name)
                if kind is int:
                    counts = [int(v or 0) for v in values]
                    same = all(c == counts[0] for c in counts)
                    packed[name] = counts[0] if same else np.array(counts, dtype=np.int64)
                    continue
                if default is None and any(v is None for v in values):
                    packed[name + "_set"] = np.array([v is not None for v in values])
                filled = [(default or 0.0) if v is None else v for v in values]
                packed[name] = np.array(filled, dtype=float)
            arrays.append(packed)
        self._arrays = arrays

    def _unpack_arrays(self) -> None:
        """The state packed by `_pack_arrays` back into `state`, one dict per parameter."""
        arrays, layout = self._arrays, self._layout
        self._arrays = None
        assert arrays is not None and layout is not None
        for (_, active), packed in zip(layout.groups, arrays):
            columns: dict[str, list[Any]] = {}
            for name, kind in self._STATE.items():
                if name not in packed:
                    continue
                value = packed[name]
                if kind is int and isinstance(value, int):
                    columns[name] = [value] * len(active)
                else:
                    columns[name] = value.tolist()
            has = {
                name: packed[name + "_set"].tolist() for name in columns if name + "_set" in packed
            }
            for k, p in enumerate(active):
                entry = {
                    name: column[k]
                    for name, column in columns.items()
                    if name not in has or has[name][k]
                }
                if entry:
                    self._state[p] = entry

    # The per-parameter state entries and whether each is an int (a step count) or a float.
    _STATE: dict[str, type] = {}

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: `{"state": {index: {...}}, "param_groups": [{..., "params": [index,
        ...]}]}`, parameters numbered across groups in order; a copy, holding no Values."""
        index = {id(p): i for i, p in enumerate(self.params)}
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        groups = []
        for group in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            saved["params"] = [index[id(p)] for p in group["params"]]
            groups.append(saved)
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take the hyperparameters and state saved by `state_dict()` of a like optimizer.

        The groups must hold as many parameters as this one's, in the same order. Everything is
        checked before anything is written, so on error the optimizer is unchanged.
        """
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(
                f"load_state_dict takes a dict with the keys 'state' and 'param_groups' (from "
                f"state_dict()), received {state_dict!r:.80}"
            )
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, list) or len(saved_groups) != len(self.param_groups):
            count = len(saved_groups) if isinstance(saved_groups, list) else saved_groups
            raise ValueError(
                f"the saved state has {count!r:.60} parameter groups; this optimizer has "
                f"{len(self.param_groups)}"
            )
        params = self.params
        new_groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, Mapping) or not isinstance(saved.get("params"), list):
                raise ValueError(f"saved param group {i} must be a dict with a 'params' list")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"saved param group {i} has {len(saved['params'])} parameters; this "
                    f"optimizer's has {len(group['params'])}"
                )
            hyper = {k: v for k, v in saved.items() if k != "params"}
            missing = sorted(set(self._HYPER) - set(hyper))
            if missing:
                raise ValueError(f"saved param group {i} lacks the hyperparameters {missing}")
            new_groups.append(self._check_hyper(hyper, f"saved param group {i}: "))
        if not isinstance(saved_state, Mapping):
            raise ValueError(f"the saved 'state' must be a dict, received {saved_state!r:.60}")
        new_state = {}
        for key, entry in saved_state.items():
            # JSON turns int keys into strings; both read the same.
            i = int(key) if isinstance(key, str) and key.isdigit() else key
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(params):
                raise ValueError(
                    f"saved state key {key!r} is not a parameter index from 0 to {len(params) - 1}"
                )
            new_state[params[i]] = self._check_state(entry, f"saved state[{key!r}]")
        for group, hyper in zip(self.param_groups, new_groups):
            group.update(hyper)
        self.state = new_state

    # The state entries step() reads without a default: a saved entry must have them all.
    _REQUIRED_STATE: tuple[str, ...] = ()

    def _check_state(self, entry: object, where: str) -> dict[str, Any]:
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be a dict, received {entry!r:.60}")
        unknown = sorted(set(entry) - set(self._STATE))
        if unknown:
            raise ValueError(
                f"{where} has unknown entries {unknown}; {type(self).__name__} keeps "
                f"{list(self._STATE)}"
            )
        missing = [name for name in self._REQUIRED_STATE if name not in entry]
        if missing:
            raise ValueError(
                f"{where} lacks {missing}; {type(self).__name__}'s state for a parameter holds "
                f"{list(self._REQUIRED_STATE)}"
            )
        checked: dict[str, Any] = {}
        for name, value in entry.items():
            if self._STATE[name] is int:
                number = non_negative(value, f"{where}[{name!r}]")
                if not number.is_integer():
                    raise ValueError(f"{where}[{name!r}] must be a whole count, received {value!r}")
                checked[name] = int(number)
            else:
                if not isinstance(value, numbers.Real) or isinstance(value, bool):
                    raise TypeError(
                        f"{where}[{name!r}] must be a number, received {type(value).__name__}"
                    )
                try:
                    checked[name] = float(value)
                except OverflowError:  # an int beyond the float range
                    raise ValueError(
                        f"{where}[{name!r}] is an int too large for a float: {value!r:.60}"
                    ) from None
        return checked

    def __repr__(self) -> str:
        # PyTorch's layout: each group's settings in name order, one per line.
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join([*lines, ")"])


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and weight decay.

    With `g = grad + weight_decay * p`: the momentum buffer starts as `g`, then becomes
    `momentum * buf + (1 - dampening) * g`; the step uses `buf` (or `g + momentum * buf` with
    `nesterov`); then `p -= lr * step`.
    """

    _HYPER = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    _STATE = {"momentum_buffer": float}
    _STATE_DEFAULTS = {"momentum_buffer": None}  # the first step sets it to the gradient

    def __init__(
        self,
        params: Iterable[Value] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _check(self, group: Mapping[str, Any], where: str) -> dict[str, Any]:
        checked = {
            "lr": non_negative(group["lr"], f"{where}lr"),
            "momentum": non_negative(group["momentum"], f"{where}momentum"),
            "dampening": non_negative(group["dampening"], f"{where}dampening"),
            "weight_decay": non_negative(group["weight_decay"], f"{where}weight_decay"),
            "nesterov": flag(group["nesterov"], f"{where}nesterov"),
        }
        if checked["nesterov"] and (checked["momentum"] <= 0 or checked["dampening"] != 0):
            raise ValueError(
                f"{where}Nesterov momentum requires momentum > 0 and dampening = 0, received "
                f"momentum={checked['momentum']}, dampening={checked['dampening']}"
            )
        return checked

    def _rule(
        self, m: SimpleNamespace, hyper: dict[str, Any], state: dict[str, Any], w: Any, g: Any
    ) -> Any:
        lr, momentum, dampening = hyper["lr"], hyper["momentum"], hyper["dampening"]
        decay, nesterov = hyper["weight_decay"], hyper["nesterov"]
        if decay:
            g = g + decay * w
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = m.copy(g)  # an array g may be a view of a tape result's gradients
            else:
                buf = momentum * buf + (1.0 - dampening) * g
                # Arrays only: a group whose parameters do not all have a buffer yet (see
                # `_pack_arrays`); those without one start it at g.
                has = state.pop("momentum_buffer_set", None)
                if has is not None:
                    buf = m.where(has, buf, g)
            state["momentum_buffer"] = buf
            g = g + momentum * buf if nesterov else buf
        return w - lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba) with PyTorch's bias correction, `weight_decay` (L2) and `amsgrad`."""

    # AdamW changes how weight decay enters; the moment updates are shared.
    _decoupled_weight_decay = False
    _HYPER = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    _STATE = {"step": int, "exp_avg": float, "exp_avg_sq": float, "max_exp_avg_sq": float}
    _STATE_DEFAULTS = {"step": 0.0, "exp_avg": 0.0, "exp_avg_sq": 0.0, "max_exp_avg_sq": 0.0}
    _REQUIRED_STATE = ("step", "exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: Iterable[Value] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
        }
        super().__init__(params, defaults)

    def _check(self, group: Mapping[str, Any], where: str) -> dict[str, Any]:
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{where}betas must be a pair (beta1, beta2), received {betas!r:.60}")
        return {
            "lr": non_negative(group["lr"], f"{where}lr"),
            "betas": (
                in_unit_interval(betas[0], f"{where}beta1 (betas[0])"),
                in_unit_interval(betas[1], f"{where}beta2 (betas[1])"),
            ),
            # > 0: with a zero gradient the step would be 0 / 0; PyTorch gives nan, we refuse.
            "eps": positive(group["eps"], f"{where}eps"),
            "weight_decay": non_negative(group["weight_decay"], f"{where}weight_decay"),
            "amsgrad": flag(group["amsgrad"], f"{where}amsgrad"),
        }

    def _rule(
        self, m: SimpleNamespace, hyper: dict[str, Any], state: dict[str, Any], w: Any, g: Any
    ) -> Any:
        lr, eps, decay, amsgrad = hyper["lr"], hyper["eps"], hyper["weight_decay"], hyper["amsgrad"]
        beta1, beta2 = hyper["betas"]
        if decay:
            if self._decoupled_weight_decay:
                w = w * (1.0 - lr * decay)  # AdamW: shrink the weight, apart from the grad
            else:
                g = g + decay * w  # Adam: the L2 penalty folded into the gradient
        # On arrays, a step count the same for the whole group (the usual case) stays one int.
        step = state["step"] = state.get("step", 0) + 1
        exp_avg = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1.0 - beta1) * g
        exp_avg_sq = state["exp_avg_sq"] = (
            beta2 * state.get("exp_avg_sq", 0.0) + (1.0 - beta2) * g * g
        )
        if amsgrad:
            exp_avg_sq = state["max_exp_avg_sq"] = m.maximum(
                state.get("max_exp_avg_sq", 0.0), exp_avg_sq
            )
        bias_correction1 = 1.0 - beta1**step
        bias_correction2 = 1.0 - beta2**step
        denom = m.sqrt(exp_avg_sq) / m.sqrt(bias_correction2) + eps
        return w - lr / bias_correction1 * exp_avg / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): `p *= 1 - lr * weight_decay`."""

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Value] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


def _maximum(x: float, y: float) -> float:
    """max(x, y) for floats as numpy's maximum (and torch.maximum) takes it: nan if either is."""
    return x if x >= y or x != x else y


# The maths an update rule may use beyond arithmetic: on one parameter's float, and on a
# group's numpy arrays (numpy passed in: this module never imports it).
_FLOAT_MATH = SimpleNamespace(
    sqrt=math.sqrt, maximum=_maximum, copy=lambda x: x, where=lambda c, x, y: x if c else y
)


def _array_math(np: Any) -> SimpleNamespace:
    """The maths of an update rule on arrays of the numpy module `np`."""
    return SimpleNamespace(sqrt=np.sqrt, maximum=np.maximum, copy=np.copy, where=np.where)


def _groups_key(groups: list[dict[str, Any]]) -> tuple[tuple[int, int], ...]:
    """What a tape layout depends on: each group's list of parameters and its length."""
    return tuple((id(group["params"]), len(group["params"])) for group in groups)


class _TapeLayout:
    """For each param group, where its parameters that require grad sit in a tape's vector
    of parameters (a slice when they are a run of it, else an index array), and those
    parameters.

    Which parameters are frozen is taken when the layout is made: on the first step from a
    tape's result, and again when the tape or the param groups change.
    """

    def __init__(
        self, key: object, tape_params: Sequence[Value], groups: list[dict[str, Any]]
    ) -> None:
        self.key = key
        self.tape_params = tape_params
        position = {id(p): i for i, p in enumerate(tape_params)}
        self.groups: list[tuple[slice | list[int], list[Value]]] = []
        self._arrays: list[tuple[Any, list[Value]]] | None = None
        for g, group in enumerate(groups):
            active = [p for p in group["params"] if p.requires_grad]
            # A frozen parameter is skipped, so it need not be on the tape.
            missing = [
                i
                for i, p in enumerate(group["params"])
                if p.requires_grad and id(p) not in position
            ]
            if missing:
                i = missing[0]
                raise ValueError(
                    f"param group {g} params[{i}] ({group['params'][i]!r}) is not a parameter "
                    f"of the tape ({len(missing)} of the group's {len(group['params'])} are "
                    "not); trace with every parameter the optimizer steps"
                )
            rows = [position[id(p)] for p in active]
            self.groups.append((_as_index(rows), active))

    def positions(self, index: slice | list[int]) -> list[int]:
        """The tape positions of a group's parameters."""
        return list(range(index.start, index.stop)) if isinstance(index, slice) else index

    def arrays(self, np: Any) -> list[tuple[Any, list[Value]]]:
        """`groups` with numpy index arrays in place of lists (views stay slices)."""
        if self._arrays is None:
            self._arrays = [
                (index if isinstance(index, slice) else np.array(index, dtype=np.intp), active)
                for index, active in self.groups
            ]
        return self._arrays


def _as_index(rows: list[int]) -> slice | list[int]:
    """A slice when `rows` are consecutive (numpy then takes views), else the list."""
    start = rows[0] if rows else 0
    return (
        slice(start, start + len(rows)) if rows == list(range(start, start + len(rows))) else rows
    )


class LambdaLR:
    """Learning-rate schedule: after k calls to `step()`, each group's
    `lr = base_lr * lr_lambda(k)`.

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
        # PyTorch keeps each group's starting rate as "initial_lr" in the group.
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch: int = 0
        self._last_lr: list[float] = []
        self._apply()

    def _apply(self) -> None:
        try:
            factor = self.lr_lambda(self.last_epoch)
        except OverflowError as error:  # gamma ** k past the float range, in a schedule
            raise ValueError(
                f"the learning-rate factor at step {self.last_epoch} overflows a float "
                f"({error}); expected a schedule that stays in range"
            ) from None
        # inf here is refused below, as the rate it makes, naming the step.
        factor = real(factor, f"lr_lambda({self.last_epoch}) (the factor on lr)", allow_inf=True)
        rates = [
            non_negative(base * factor, f"lr at step {self.last_epoch}") for base in self.base_lrs
        ]
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate
        self._last_lr = rates

    def step(self) -> None:
        """Advance the schedule by one step and set each group's learning rate."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rates the schedule set most recently, one per group (as in PyTorch)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and base rates (the function itself is not saved)."""
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Continue a schedule saved by `state_dict()`; sets the rates for its position."""
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"last_epoch", "base_lrs"}:
            raise ValueError(
                f"load_state_dict takes {{'last_epoch': int, 'base_lrs': [...]}}, received "
                f"{state_dict!r:.80}"
            )
        epoch, bases = state_dict["last_epoch"], state_dict["base_lrs"]
        epoch = count(epoch, "last_epoch")
        if not isinstance(bases, list) or len(bases) != len(self.optimizer.param_groups):
            raise ValueError(
                f"base_lrs must list one rate per parameter group "
                f"({len(self.optimizer.param_groups)}), received {bases!r:.60}"
            )
        self.base_lrs = [non_negative(b, f"base_lrs[{i}]") for i, b in enumerate(bases)]
        self.last_epoch = epoch
        self._apply()


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
        total_iters = count(total_iters, "total_iters", minimum=1)
        start = non_negative(start_factor, "start_factor")
        end = non_negative(end_factor, "end_factor")
        self.start_factor: float = start
        self.end_factor: float = end
        self.total_iters: int = total_iters

        def factor(k: int) -> float:
            return start + (end - start) * min(k, total_iters) / total_iters

        super().__init__(optimizer, factor)


class StepLR(LambdaLR):
    """Multiply the learning rate by `gamma` every `step_size` steps, as PyTorch's `StepLR`.

    After k calls to `step()`, `lr = base_lr * gamma ** (k // step_size)`.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        step_size = count(step_size, "step_size", minimum=1)
        rate = non_negative(gamma, "gamma")
        self.step_size: int = step_size
        self.gamma: float = rate

        def factor(k: int) -> float:
            return rate ** (k // step_size)

        super().__init__(optimizer, factor)


class ExponentialLR(LambdaLR):
    """Multiply the learning rate by `gamma` at every step, as PyTorch's `ExponentialLR`.

    After k calls to `step()`, `lr = base_lr * gamma ** k`.
    """

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        rate = non_negative(gamma, "gamma")
        self.gamma: float = rate

        def factor(k: int) -> float:
            return rate**k

        super().__init__(optimizer, factor)
