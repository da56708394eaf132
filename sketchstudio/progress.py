"""Progress, partial results and cancellation for long engine work, without Qt.

One protocol for every long engine entry point (Orange3's `TaskState` pattern): the function takes
`state: TaskState | None`, calls `state.set_progress(fraction)` as it goes,
`state.set_partial(value)` when it has something worth showing early (an attack's iteration, a
batch of audit rows), and
`state.check()` often enough that a cancel is honoured promptly (it raises `Cancelled`). The Qt
worker adapts it to signals once; the CLI and tests pass a plain `TaskState`.

`ProgressFn`/`CancelledFn` and `check`/`report` are the older two-callable form, kept while call
sites move over; `TaskState.from_callables` bridges the two.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

ProgressFn = Callable[[float], None] | None
CancelledFn = Callable[[], bool] | None
PartialFn = Callable[[Any], None] | None


class Cancelled(Exception):
    """The caller asked the work to stop; nothing it would have produced is valid."""


def _clamp(fraction: float) -> float:
    return min(max(float(fraction), 0.0), 1.0)


class TaskState:
    """What a long engine function reports to, and asks whether it should stop.

    Thread-safe: the work runs in one thread while another may call `cancel()`. Progress is
    reported as a fraction in [0, 1] of this state's own range; `child(start, stop)` gives nested
    work its own 0..1 that lands in [start, stop] of the parent, sharing cancellation and partial
    results.
    """

    def __init__(self, progress: ProgressFn = None, cancelled: CancelledFn = None,
                 partial: PartialFn = None) -> None:
        self._progress = progress
        self._cancelled = cancelled
        self._partial = partial
        self._event = threading.Event()
        self._parent: TaskState | None = None
        self._range = (0.0, 1.0)
        self.fraction = 0.0

    @classmethod
    def from_callables(cls, progress: ProgressFn = None, cancelled: CancelledFn = None,
                       partial: PartialFn = None) -> TaskState:
        return cls(progress=progress, cancelled=cancelled, partial=partial)

    @classmethod
    def coerce(cls, state: TaskState | None) -> TaskState:
        """`state`, or a fresh one that reports nowhere and is never cancelled."""
        return state if state is not None else cls()

    def cancel(self) -> None:
        """Ask the work to stop; it raises `Cancelled` at its next `check()`."""
        root = self._root()
        root._event.set()

    def is_cancelled(self) -> bool:
        root = self._root()
        if root._event.is_set():
            return True
        if root._cancelled is not None and root._cancelled():
            root._event.set()
            return True
        return False

    def check(self) -> None:
        if self.is_cancelled():
            raise Cancelled()

    def set_progress(self, fraction: float) -> None:
        fraction = _clamp(fraction)
        self.fraction = fraction
        if self._parent is not None:
            start, stop = self._range
            self._parent.set_progress(start + (stop - start) * fraction)
        elif self._progress is not None:
            self._progress(fraction)

    def set_partial(self, value: Any) -> None:
        root = self._root()
        if root._partial is not None:
            root._partial(value)

    def child(self, start: float, stop: float) -> TaskState:
        """A state for one stage of this work, mapping its 0..1 onto [start, stop] of this one."""
        sub = TaskState()
        sub._parent = self
        sub._range = (_clamp(start), _clamp(stop))
        return sub

    # The older callable form, for functions not yet moved over.
    def progress_fn(self) -> Callable[[float], None]:
        return self.set_progress

    def cancelled_fn(self) -> Callable[[], bool]:
        return self.is_cancelled

    def _root(self) -> TaskState:
        state = self
        while state._parent is not None:
            state = state._parent
        return state


def check(cancelled: CancelledFn) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled()


def report(progress: ProgressFn, fraction: float) -> None:
    if progress is not None:
        progress(_clamp(fraction))
