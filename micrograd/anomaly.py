"""Anomaly detection: `detect_anomaly()` stops at the first op whose value or gradient turns
into nan or inf, naming the op, its inputs and the line of user code that made the node.

Costs nothing while never used: importing this module changes nothing. Entering the mode for
the first time installs its hooks (`grad_mode.set_anomaly_hooks`); from then on:

- while at least one thread is inside `detect_anomaly()`, the engine calls `_checked_forward`
  on each node it builds, which tests this thread's flag, so other threads carry on unchecked
  (when no thread is inside, that hook is None again and building a node costs nothing more);
  it records the user's line that made each node in `_sites`, beside the graph, not in each
  `Value`;
- `backward()`, `backward(create_graph=True)` and `micrograd.functional` ask `_backward_check`
  once per call whether to check: yes in the mode, or when a node of this graph was made in it.
  That question costs O(1) per call when no node made in the mode is alive and
  O(min(nodes made in the mode and alive, nodes in this graph)) otherwise, so keeping one such
  node alive does not slow down unrelated graphs. The check itself runs on every edge of the
  walk (`autodiff.backpropagate`'s per-edge hook).

Left out: tape replays, which are plain arithmetic and are not checked.
"""

from __future__ import annotations

import linecache
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from micrograd import grad_mode
from micrograd.engine import Value
from micrograd.grad_mode import is_anomaly_enabled
from micrograd.lecture import LectureOp
from micrograd.ops import Op, outside_package

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

    Attributes: `op` (the `Op`, or a `LectureOp` for a hand-written node), `phase` ("forward"
    or "backward"), `inputs` (the op's input Values), `result` (the nan or inf), `input_index`
    (backward: which input's gradient went bad, else None) and `site` (the `Site` where the node
    was made, or None if unknown).
    """

    def __init__(
        self,
        message: str,
        op: Op | LectureOp,
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


# The module's state, besides the thread-local flag in `grad_mode`. `_sites` holds the line each
# node made inside detect_anomaly() came from, kept as long as the node lives (so backward()
# after the block can name it) and dropped with it. `_checking_threads` counts the threads inside
# the block, under the lock; it decides whether the forward hook is installed.
_sites: weakref.WeakKeyDictionary[Value, Site | None] = weakref.WeakKeyDictionary()
_checking_threads = 0
_checking_lock = threading.Lock()


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
    previous = is_anomaly_enabled()
    entered = threading.current_thread()
    if not previous:
        _install_checks(+1)
    grad_mode.set_anomaly_enabled(True)
    try:
        yield
    finally:
        # The mode is per thread: left from another thread (`__exit__` called there), resetting
        # that thread's flag would leave this one's on, silently. Refuse, naming both.
        leaving = threading.current_thread()
        if leaving is not entered:
            raise RuntimeError(
                f"detect_anomaly() was entered in thread {entered.name!r} and left in thread "
                f"{leaving.name!r}; the mode is per thread, so leave the block in the thread "
                f"that entered it (it is still on in {entered.name!r})"
            )
        grad_mode.set_anomaly_enabled(previous)
        if not previous:
            _install_checks(-1)


def _install_checks(change: int) -> None:
    global _checking_threads
    with _checking_lock:
        # The backward hooks stay installed once the mode has been used: they cost one test per
        # backward() call, and graphs made in the mode may outlive it. The forward hook, one
        # test per node built, is there only while a thread is inside the block.
        _checking_threads += change
        forward = _checked_forward if _checking_threads else None
        grad_mode.set_anomaly_hooks(forward, _backward_check, detect_anomaly)


def _checked_forward(op: Op | LectureOp, inputs: tuple[Value, ...], out: Value) -> None:
    if is_anomaly_enabled():  # only this thread's nodes: others may be outside the block
        _check_forward(op, inputs, out)


def _finite(x: float) -> bool:
    return x - x == 0.0  # False for inf and nan only; cheaper than math.isfinite


def _number(x: Any) -> float:
    return x.data if isinstance(x, Value) else x


def _user_site() -> Site | None:
    """The innermost frame outside this package: the user's line that led to this op."""
    frame = outside_package(sys._getframe(1))[0]
    if frame is None:
        return None
    return Site(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _describe(op: Op | LectureOp, inputs: tuple[Value, ...]) -> str:
    shown = [f"{v.label}={v.data!r}" if v.label else repr(v.data) for v in inputs]
    return f"{op.name}({', '.join(shown)})"


def _where(site: Site | None) -> str:
    if site is None:
        return "\n  (made outside detect_anomaly(), so its line was not recorded)"
    return f"\n  made at {site}"


def _check_forward(op: Op | LectureOp, inputs: tuple[Value, ...], out: Value) -> None:
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
    if out.parents:
        _sites[out] = _user_site()


def _backward_check(order: list[Value], seen: set[Value] | None) -> Any:
    """`_check_gradient` if a walk over `order` must be checked, else None (see the docstring)."""
    if is_anomaly_enabled():
        return _check_gradient
    if not _sites:
        return None
    # keyrefs() is list() of the underlying dict, one step under the GIL: safe while threads add.
    alive = [node for node in map(_deref, _sites.keyrefs()) if node is not None]
    # Look the smaller collection up in the larger one.
    if seen is not None and len(alive) <= len(seen):
        found = any(node in seen for node in alive)
    else:
        found = any(node in _sites for node in order if node.parents)
    return _check_gradient if found else None


def _deref(reference: weakref.ref[Value]) -> Value | None:
    return reference()


def _check_gradient(node: Value, index: int, upstream: Any, before: Any, after: Any) -> None:
    """Raise `AnomalyError` if `after`, input `index`'s accumulated gradient, just went bad."""
    # Runs on every edge in the mode: the common case (a finite float) returns at once.
    if type(after) is float:
        if after - after == 0.0:
            return
    else:
        after = after.data  # a Value, from backward(create_graph=True) or functional
        if _finite(after):
            return
    upstream, before = _number(upstream), _number(before)
    if not (_finite(upstream) and _finite(before)):
        return
    parent, op = node.parents[index], node.op
    assert op is not None  # node has parents, so an op made it
    name = f"input {index}" + (f" ({parent.label})" if parent.label else "")
    site = _sites.get(node)
    raise AnomalyError(
        f"backward: the gradient of {_describe(op, node.parents)} with respect to {name} "
        f"is {after!r}, from finite numbers (gradient flowing in: {upstream!r}){_where(site)}",
        op,
        "backward",
        node.parents,
        after,
        index,
        site,
    )
