"""One-off background calls (model checks, adding a model) that must not freeze a dialog.

`BackgroundCall(owner, fn, on_success, on_failure)` runs `fn` in a plain Python thread. The GUI
thread polls for the outcome with single-shot timers tied to `owner` (so nothing fires once the
owner is gone) and calls the callbacks itself. The thread never touches a Qt object and no Qt object
is created for it: nothing Qt crosses threads, nothing has to be deleted later. The owner calls
`finish()` before it goes away, so no thread outlives its dialog.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from ..errors import UserError

log = logging.getLogger(__name__)
POLL_MS = 30


class BackgroundCall:
    def __init__(self, owner: QObject, fn: Callable[[], Any], on_success: Callable[[Any], None],
                 on_failure: Callable[[str], None],
                 on_done: Callable[[], None] | None = None) -> None:
        self._owner = owner
        self._fn = fn
        self._on_success, self._on_failure, self._on_done = on_success, on_failure, on_done
        self._outcome: tuple[bool, Any] | None = None
        self._thread = threading.Thread(target=self._run, name="sketchstudio-background",
                                        daemon=True)
        self._reported = False

    def start(self) -> None:
        self._thread.start()
        QTimer.singleShot(POLL_MS, self._owner, self._poll)

    @property
    def running(self) -> bool:
        return not self._reported

    def _run(self) -> None:   # the background thread: plain Python only
        try:
            self._outcome = (True, self._fn())
        except UserError as exc:
            self._outcome = (False, str(exc))
        except Exception as exc:
            log.exception("background call failed")
            self._outcome = (False, f"unexpected error: {type(exc).__name__}: {exc}")

    def _poll(self) -> None:
        if self._reported:
            return
        if self._thread.is_alive():
            QTimer.singleShot(POLL_MS, self._owner, self._poll)
            return
        self._reported = True
        ok, value = self._outcome if self._outcome is not None else (False, "no result")
        (self._on_success if ok else self._on_failure)(value)
        if self._on_done is not None:
            self._on_done()

    def finish(self) -> None:
        """Wait for the thread and drop its outcome (the owner is closing)."""
        if self._thread.is_alive():
            self._thread.join()
        self._reported = True
