"""The event-loop stall figure of the studio benchmarks: how late a heartbeat timer fires.

A precise QTimer runs in the GUI thread while the benchmark works the studio; a beat that comes
`interval + s` ms after the one before it means the event loop was blocked for about s ms.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer


class Heartbeat:
    """Start it with the work, stop it after; `stalls` and `summary` give the figure.

    `on_beat(count)` runs after every beat (e.g. to sample memory every few beats)."""

    def __init__(self, interval_ms: int, on_beat: Callable[[int], None] | None = None) -> None:
        self.interval_ms = interval_ms
        self.gaps: list[float] = []
        self._on_beat = on_beat
        self._clock = QElapsedTimer()
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        self._clock.start()
        self._last = 0.0
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _beat(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        self.gaps.append(now - self._last)
        self._last = now
        if self._on_beat is not None:
            self._on_beat(len(self.gaps))

    @property
    def stalls(self) -> list[float]:
        """How late every beat after the first came, in ms (the first one has no predecessor)."""
        return [max(g - self.interval_ms, 0.0) for g in self.gaps[1:]]

    def summary(self, target_ms: float) -> str:
        stalls = self.stalls
        return (f"event-loop stall over {len(stalls)} heartbeats of {self.interval_ms} ms: median "
                f"{statistics.median(stalls):.1f} ms, p99 {np.percentile(stalls, 99):.1f} ms, "
                f"max {max(stalls):.1f} ms (target < {target_ms:.0f} ms)")
