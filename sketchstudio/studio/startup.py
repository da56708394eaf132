"""Start-up order and its trace: the window is painted first, the engine loads after.

Importing torch and loading a model take seconds on a busy machine; the window (canvas usable,
the model shown as loading) is on screen before either starts. `after_first_paint` runs the model
load once the window has painted, and `StartupTrace` reports the moments `benchmarks/
bench_startup.py` measures.

`SKETCHSTUDIO_STARTUP_TRACE=1` prints one line per moment on stdout, `<event> <time.monotonic()>`
(a system-wide clock on Linux, macOS and Windows, so the launcher subtracts its own launch time):
`window-shown` (followed by `torch=0` or `torch=1`: whether torch was imported by then),
`model-ready` and `first-colour` (the first explanation on screen).
`SKETCHSTUDIO_STARTUP_TRACE=exit` also quits after the first colour (or a model error), for
benchmarks and tests.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

TRACE_ENV = "SKETCHSTUDIO_STARTUP_TRACE"
# Some platform plugins ("minimal") never paint: start the engine anyway after this long.
FIRST_PAINT_FALLBACK_MS = 2000


class _FirstPaint(QObject):
    """Calls `callback` once, on the event-loop turn after the window's first paint (or on the
    fallback timer), so the painted frame is flushed to the screen before anything else runs."""

    def __init__(self, window: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(window)
        self._window, self._callback, self._done = window, callback, False
        window.installEventFilter(self)
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.timeout.connect(self._fire)
        self._fallback.start(FIRST_PAINT_FALLBACK_MS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Paint and not self._done:
            QTimer.singleShot(0, self._fire)   # after this paint (and its flush) completes
        return False

    def _fire(self) -> None:
        if self._done:
            return
        self._done = True
        self._fallback.stop()
        self._window.removeEventFilter(self)
        self._callback()


def after_first_paint(window: QWidget, callback: Callable[[], None]) -> None:
    """Run `callback` once `window` (shown afterwards) has painted its first frame."""
    _FirstPaint(window, callback)


class StartupTrace:
    """Prints the start-up moments when $SKETCHSTUDIO_STARTUP_TRACE is set (see the module)."""

    def __init__(self, mode: str | None) -> None:
        self.enabled = bool(mode) and mode != "0"
        self.exit_after_colour = mode == "exit"
        self._seen: set[str] = set()

    @classmethod
    def from_environment(cls) -> StartupTrace:
        return cls(os.environ.get(TRACE_ENV))

    def mark(self, event: str, *details: str) -> None:
        """Print `event` (and `details`, "key=value" words) the first time it happens."""
        if not self.enabled or event in self._seen:
            return
        self._seen.add(event)
        print(" ".join((event, f"{time.monotonic():.6f}", *details)), file=sys.stdout, flush=True)

    def watch(self, app: QApplication, window: Any) -> None:
        """Mark the window's model and first explanation: its modelReady, explanationShown and
        modelError signals (the MainWindow's; `Any` keeps this module free of main_window)."""
        if not self.enabled:
            return
        window.modelReady.connect(lambda _info: self.mark("model-ready"))
        window.explanationShown.connect(self._coloured(app))
        window.modelError.connect(self._failed(app))

    def _coloured(self, app: QApplication) -> Callable[[], None]:
        def shown() -> None:
            self.mark("first-colour")
            if self.exit_after_colour:
                QTimer.singleShot(0, app.quit)
        return shown

    def _failed(self, app: QApplication) -> Callable[[str], None]:
        def failed(message: str) -> None:
            self.mark("model-error")
            if self.exit_after_colour:   # no colour will come: do not leave a benchmark waiting
                app.exit(2)
        return failed
