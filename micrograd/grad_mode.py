"""Grad mode, tracing and anomaly checks: the per-thread mode the engine reads, and the hooks
through which anomaly detection plugs into it.

- `no_grad()`, `enable_grad()`, `set_grad_enabled()` and `is_grad_enabled()` switch graph
  recording off and on in this thread, as in PyTorch.
- `tracing()` is the block `micrograd.tape.trace` runs a function in: ops record a graph (even
  inside `no_grad()`) and turning a Value into a Python number or bool raises `TracingError`,
  since the tape could not record the branch it decides.
- The anomaly flag and hooks are set by `micrograd.anomaly` (`set_anomaly_enabled`,
  `set_anomaly_hooks`) and read by the engine: `forward_check`, once per node built, is None
  unless a thread is inside `detect_anomaly()`; `backward_check` and `checked_block` answer once
  per `backward()` call.

The engine reads `state` directly (one attribute per op); everything else goes through the
functions here. Left out: what the checks do (`micrograd.anomaly`) and how a tape records
(`micrograd.tape`). Nothing here knows about Values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ContextDecorator, contextmanager, nullcontext
from typing import Any, TypeVar, overload

__all__ = [
    "GradientLostWarning",
    "TracingError",
    "enable_grad",
    "is_grad_enabled",
    "is_tracing",
    "no_grad",
    "set_grad_enabled",
    "tracing",
]


class _Mode(threading.local):
    """Whether ops record a graph, trace, or check; the class attributes are each new thread's."""

    enabled = True
    tracing = False
    anomaly = False


state: _Mode = _Mode()
"""This thread's mode, read by the engine; changed only by the blocks and functions below."""


class TracingError(RuntimeError):
    """A traced function did something a tape cannot record (see `micrograd.tape`)."""


class GradientLostWarning(UserWarning):
    """A Value that records a graph became a plain float (`float(v)`, `math.sin(v)`)."""


def is_grad_enabled() -> bool:
    """Whether ops in this thread record a graph (False inside `no_grad()`)."""
    return state.enabled


class _GradModeBlock(ContextDecorator):
    """A block, or a decorated function, that runs with grad mode set (then put back)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.previous: list[bool] = []

    def _recreate_cm(self) -> _GradModeBlock:
        return _GradModeBlock(self.enabled)  # each call of a decorated function its own block

    def __enter__(self) -> None:
        self.previous.append(state.enabled)
        state.enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        state.enabled = self.previous.pop()


F = TypeVar("F", bound=Callable[..., Any])


@overload
def no_grad() -> _GradModeBlock: ...
@overload
def no_grad(func: F) -> F: ...
def no_grad(func: F | None = None) -> _GradModeBlock | F:
    """Within this block (in this thread only), ops compute values but record no graph.

    Also a decorator, as in PyTorch: `@no_grad` or `@no_grad()`.
    """
    return _grad_block(False, func, "no_grad")


@overload
def enable_grad() -> _GradModeBlock: ...
@overload
def enable_grad(func: F) -> F: ...
def enable_grad(func: F | None = None) -> _GradModeBlock | F:
    """Within this block (in this thread only), ops record a graph, even inside `no_grad()`.

    Also a decorator: `@enable_grad` or `@enable_grad()`.
    """
    return _grad_block(True, func, "enable_grad")


def _grad_block(enabled: bool, func: F | None, name: str) -> _GradModeBlock | F:
    if func is None:
        return _GradModeBlock(enabled)
    if not callable(func):
        raise TypeError(
            f"{name} takes no argument, or a function to decorate; received {func!r:.60}"
        )
    decorated: F = _GradModeBlock(enabled)(func)
    return decorated


class set_grad_enabled:  # noqa: N801 -- PyTorch's name, used as a function and a block
    """Turn graph recording on or off in this thread, as `torch.set_grad_enabled`.

    Called, it sets the mode at once: `set_grad_enabled(False)`. As a block,
    `with set_grad_enabled(False):`, it also puts the previous mode back at the end.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled takes True or False, received {mode!r:.60}")
        self.previous: bool = state.enabled
        self.mode = mode
        state.enabled = mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        state.enabled = self.previous

    def __call__(self, func: F) -> F:
        """`@set_grad_enabled(False)`: the function runs with the mode; decorating it leaves
        this thread's mode as it was (as in PyTorch)."""
        state.enabled = self.previous
        decorated: F = _GradModeBlock(self.mode)(func)
        return decorated


# --- Tracing -----------------------------------------------------------------------------------


def is_tracing() -> bool:
    """Whether this thread is inside `micrograd.tape.trace` (Values must not become numbers)."""
    return state.tracing


@contextmanager
def tracing() -> Iterator[None]:
    """Within this block (in this thread), ops record a graph, even inside `no_grad()`, and a
    Value refuses to become a Python number or bool (`TracingError`): `trace` runs in it."""
    previous = state.tracing, state.enabled
    state.tracing, state.enabled = True, True
    try:
        yield
    finally:
        state.tracing, state.enabled = previous


# --- Anomaly detection: its flag and the hooks it fills in (see `micrograd.anomaly`) -----------
# While the hooks are None (always, in a program that never enters the mode), the engine pays one
# test per node built and one per backward() call.


def is_anomaly_enabled() -> bool:
    """Whether this thread is inside `detect_anomaly()`."""
    return state.anomaly


def set_anomaly_enabled(enabled: bool) -> None:
    """Turn this thread's anomaly flag on or off (`detect_anomaly()` does, on entry and exit)."""
    state.anomaly = enabled


# check(op, inputs, out) on each node just made; it tests this thread's flag itself.
forward_check: Callable[[Any, tuple[Any, ...], Any], None] | None = None
# backward_check(order, seen) -> an edge check for the walk, or None to run unchecked. `seen` is
# the set of the order's nodes, or None if the caller has none at hand.
_backward_check: Callable[[list[Any], set[Any] | None], Any] | None = None
# The block that turns the checks on for the ops built while making a gradient graph.
_checked_block: Callable[[], AbstractContextManager[None]] | None = None


def set_anomaly_hooks(
    forward: Callable[[Any, tuple[Any, ...], Any], None] | None,
    backward: Callable[[list[Any], set[Any] | None], Any],
    block: Callable[[], AbstractContextManager[None]],
) -> None:
    """Install anomaly detection's checks (see the comments above); `forward` is None while no
    thread is inside the mode, so that building nodes costs nothing then."""
    global forward_check, _backward_check, _checked_block
    forward_check, _backward_check, _checked_block = forward, backward, block


def backward_check(order: list[Any], seen: set[Any] | None = None) -> Any:
    """The edge check a walk over `order` must run (anomaly detection's), or None."""
    return None if _backward_check is None else _backward_check(order, seen)


def checked_block() -> AbstractContextManager[None]:
    """A block in which ops are checked for anomalies (a no-op before the mode was ever used)."""
    return nullcontext() if _checked_block is None else _checked_block()
