"""Anomaly detection: `detect_anomaly()` stops at the first op whose value or gradient turns
into nan or inf, naming the op, its inputs and the line of user code that made the node.

Zero cost while off: the engine's hot functions never look at the mode. While at least one
thread is inside `detect_anomaly()`, the engine's operators call the checking `_checked_apply1`
and `_checked_apply2` below instead (installed through `engine._use_apply_functions`), and those
test this thread's flag, so other threads carry on unchecked. `Value.backward()` and
`micrograd.functional` call `_anomaly_checks` once per call, and `_backpropagate_checked` or
`_check_gradient` when it says so.

This module builds on the engine; the engine imports it only inside the functions that need it,
when the mode is on or a checked graph is alive. Left out: tape replays, which are plain
arithmetic and are not checked.
"""

from __future__ import annotations

import linecache
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from micrograd import engine
from micrograd.engine import Value, _grad_mode
from micrograd.ops import Op, _outside_package

__all__ = ["AnomalyError", "Site", "detect_anomaly", "is_anomaly_enabled"]


class Site(NamedTuple):
    """Where in the user's code a value was made: file, line number and function."""

    filename: str
    lineno: int
    function: str

    @property
    def line(self) -> str:
        """The source line, as the traceback module would show it ('' if not available)."""
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self) -> str:
        line = self.line
        return f"{self.filename}:{self.lineno} in {self.function}" + (f": {line}" if line else "")


class AnomalyError(RuntimeError):
    """Inside `detect_anomaly()`, an op made nan or inf from finite numbers.

    Attributes: `op` (the `Op`), `phase` ("forward" or "backward"), `inputs` (the op's input
    Values), `result` (the nan or inf), `input_index` (backward: which input's gradient went
    bad, else None) and `site` (the `Site` where the node was made, or None if unknown).
    """

    def __init__(
        self,
        message: str,
        op: Op,
        phase: str,
        inputs: tuple[Value, ...],
        result: float,
        input_index: int | None,
        site: Site | None,
    ) -> None:
        super().__init__(message)
        self.op = op
        self.phase = phase
        self.inputs = inputs
        self.result = result
        self.input_index = input_index
        self.site = site


# The module's state, besides the thread-local mode in the engine. `_sites` holds the line each
# node made inside detect_anomaly() came from, kept as long as the node lives (so backward()
# after the block can name it) and dropped with it: no extra slot on every Value. The engine
# holds it too, to know whether any checked graph is alive. `_checking_threads` counts the
# threads inside the block, under the lock; it decides which apply functions are installed.
_sites: weakref.WeakKeyDictionary[Value, Site] = weakref.WeakKeyDictionary()
engine._use_recorded_sites(_sites)
_checking_threads = 0
_checking_lock = threading.Lock()
# The engine's own apply functions, put back when the last thread leaves the block.
_fast_apply1, _fast_apply2 = engine._apply1, engine._apply2


def is_anomaly_enabled() -> bool:
    """Whether this thread is inside `detect_anomaly()`."""
    return _grad_mode.anomaly


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Within this block (in this thread), stop at the first op that makes nan or inf.

    An op whose result is nan or inf although its inputs are finite raises `AnomalyError`
    naming the op, its inputs with their labels, and the line of your code that made it. Values
    that are already nan or inf pass through ops unchecked: the error is raised where they
    start. `backward()` checks too: inside the block, and afterwards on any graph with a node
    made inside it; it stops at the first gradient that becomes nan or inf while the gradient
    flowing in and the one it adds to are finite. Tape replays are not checked.
    """
    previous = _grad_mode.anomaly
    if not previous:
        _install_checks(+1)
    _grad_mode.anomaly = True
    try:
        yield
    finally:
        _grad_mode.anomaly = previous
        if not previous:
            _install_checks(-1)


def _install_checks(change: int) -> None:
    global _checking_threads
    with _checking_lock:
        _checking_threads += change
        if _checking_threads:
            engine._use_apply_functions(_checked_apply1, _checked_apply2)
        else:
            engine._use_apply_functions(_fast_apply1, _fast_apply2)


def _checked_apply1(op: Op, x: Value) -> Value:
    out = _fast_apply1(op, x)
    if _grad_mode.anomaly:
        _check_forward(op, (x,), out)
    return out


def _checked_apply2(op: Op, x: Value, y: Value) -> Value:
    out = _fast_apply2(op, x, y)
    if _grad_mode.anomaly:
        _check_forward(op, (x, y), out)
    return out


def _finite(x: float) -> bool:
    return x - x == 0.0  # False for inf and nan only; cheaper than math.isfinite


def _user_site() -> Site | None:
    """The innermost frame outside this package: the user's line that led to this op."""
    frame = _outside_package(sys._getframe(1))[0]
    if frame is None:
        return None
    return Site(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _describe(op: Op, inputs: tuple[Value, ...]) -> str:
    shown = [f"{v.label}={v.data!r}" if v.label else repr(v.data) for v in inputs]
    return f"{op.name}({', '.join(shown)})"


def _where(site: Site | None) -> str:
    if site is None:
        return "\n  (made outside detect_anomaly(), so its line was not recorded)"
    return f"\n  made at {site}"


def _check_forward(op: Op, inputs: tuple[Value, ...], out: Value) -> None:
    data = out.data
    if not _finite(data) and all(_finite(v.data) for v in inputs):
        site = _user_site()
        raise AnomalyError(
            f"forward: {_describe(op, inputs)} is {data!r}, from finite inputs{_where(site)}",
            op,
            "forward",
            tuple(inputs),
            data,
            None,
            site,
        )
    if out.op is not None:
        _sites[out] = _user_site()


def _anomaly_checks(order: list[Value]) -> bool:
    """Whether backpropagating over `order` must check: the mode is on or a node was made in it."""
    if _grad_mode.anomaly:
        return True
    return bool(_sites) and any(node in _sites for node in order if node.parents)


def _check_gradient(node: Value, index: int, upstream: float, before: float, after: float) -> None:
    """Raise `AnomalyError` if `after`, input `index`'s accumulated gradient, just went bad."""
    if _finite(after) or not (_finite(upstream) and _finite(before)):
        return
    parent = node.parents[index]
    name = f"input {index}" + (f" ({parent.label})" if parent.label else "")
    site = _sites.get(node)
    raise AnomalyError(
        f"backward: the gradient of {_describe(node.op, node.parents)} with respect to {name} "
        f"is {after!r}, from finite numbers (gradient flowing in: {upstream!r}){_where(site)}",
        node.op,
        "backward",
        node.parents,
        after,
        index,
        site,
    )


def _backpropagate_checked(order: list[Value]) -> None:
    """`_backpropagate` (the same arithmetic, in the same order) checking every gradient."""
    for node in reversed(order):
        parents = node.parents
        if not parents:
            continue
        grad = node.grad
        local_grads = node.op.local_grads
        inputs = [parent.data for parent in parents]
        for index, (parent, local_grad) in enumerate(zip(parents, local_grads)):
            if parent.requires_grad:
                before = parent.grad
                parent.grad += local_grad(*inputs, node.data) * grad
                _check_gradient(node, index, grad, before, parent.grad)
