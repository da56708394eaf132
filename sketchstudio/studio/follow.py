"""`FollowUp`: a panel's work that follows the drawing (a search, a generator's output), coalesced.

Edits come in bursts: the work runs once per event-loop turn of requests, and while the studio's
tasks are busy (a gallery being embedded, an attack), once when they end (`busyChanged`): never
a retry loop, never polling.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from .task_runner import TaskRunner


class FollowUp(QObject):
    def __init__(self, tasks: TaskRunner, run: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.run = run
        self.pending = False          # asked for while the tasks were busy: run when they end
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fire)
        tasks.busyChanged.connect(self._busy)

    def request(self) -> None:
        """Run at the end of this event-loop turn (many requests in one turn: one run)."""
        self._timer.start()

    def fire(self) -> None:
        """Run now, or once the running task ends."""
        if self.tasks.running:
            self.pending = True
            return
        self.pending = False
        self.run()

    def forget(self) -> None:
        """Drop a request not yet run (a new model: what was asked for no longer applies)."""
        self.pending = False
        self._timer.stop()

    def _busy(self, busy: bool) -> None:
        if not busy and self.pending:
            self._timer.start()
