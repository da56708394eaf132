"""Progress and cancellation for the readers, so that a worker thread can import a file while the
window stays responsive and its Cancel button works (the engine's `progress`/`cancelled` pattern,
sketchstudio/progress.py: `cancelled()` returning True makes the reader raise `Cancelled`)."""
from __future__ import annotations

from dataclasses import dataclass

from ...progress import Cancelled, CancelledFn, ProgressFn, check, report

__all__ = ["Cancelled", "NO_WATCH", "Watch"]


@dataclass(frozen=True)
class Watch:
    progress: ProgressFn = None
    cancelled: CancelledFn = None

    def check(self) -> None:
        check(self.cancelled)

    def step(self, fraction: float) -> None:
        """Report `fraction` (0..1) of the read done, after checking for a cancel."""
        check(self.cancelled)
        report(self.progress, fraction)


NO_WATCH = Watch()
