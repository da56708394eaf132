"""Progress and cancellation for long engine work, without Qt (Orange3's TaskState pattern).

Every long engine function takes `progress(fraction)` and `cancelled()` callables (both optional)
and raises `Cancelled` promptly once `cancelled()` returns True. The Qt worker adapts them to
signals; tests and the CLI pass plain functions.
"""
from __future__ import annotations

from typing import Callable, Optional

ProgressFn = Optional[Callable[[float], None]]
CancelledFn = Optional[Callable[[], bool]]


class Cancelled(Exception):
    """The caller asked the work to stop; nothing it would have produced is valid."""


def check(cancelled: CancelledFn) -> None:
    if cancelled is not None and cancelled():
        raise Cancelled()


def report(progress: ProgressFn, fraction: float) -> None:
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0))
