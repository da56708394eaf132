"""Autosave journal and crash recovery.

Every completed edit (one undo-stack step) schedules a journal write; writes are throttled, not
debounced, so even a continuous stream of edits reaches the disk within `JOURNAL_DELAY_MS` plus the
time of one write. The journal is the document as a native `.json` (the same file format the user
saves, written atomically by `sketchstudio.sketch.io`) plus a small `.meta.json` beside it naming
the original file, in `<data dir>/autosave/<session>.json`. Snapshots are immutable, so the writing
happens in a plain Python thread and the window never waits on the disk.

Identity is a lock, never a process id (`journal_lock.py`): each session has a random id and holds
an exclusive lock on `<session>.lock` for as long as it runs, so a journal is an orphan exactly when
nobody holds its lock, even where every launch gets the same pid (Flatpak, bwrap, Docker).

The journal is removed when the document becomes clean (saved, opened, new) and when the studio
shuts down normally. A journal whose lock is free was left by a crash: on the next launch the studio
offers to restore it (a message box in the GUI; `--restore` / `--no-restore` from the command line;
headless runs are never asked and never lose the journal). A restored journal is deleted only once
its drawing is safely somewhere else: this session's own journal written (and fsynced), or the
drawing saved; until then the old one stays, locked by this session, and a launch after this one
offers it again.

Modules: this one is the studio side (`Autosaver`, edits -> writes); `journal_files.py` the files
and which are orphans; `journal_writer.py` the writer thread; `recovery.py` offering and restoring
at launch. The names app.py and the window use are re-exported here.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from ..sketch.formats import Document
from .journal_files import Journal, check_journals, find_orphans, journal_dir
from .journal_writer import JournalWriter
from .recovery import offer_recovery, restore

# What app.py, the window and the tests reach through this module.
__all__ = ["Autosaver", "Journal", "JournalWriter", "check_journals", "find_orphans",
           "journal_dir", "offer_recovery", "restore"]

JOURNAL_DELAY_MS = 300      # at most this long between a completed edit and the start of its write
ERROR_CHECK_MS = 1000


class Autosaver(QObject):
    """Journals the document after every completed edit; removes the journal when it is clean."""

    failed = Signal(str)    # one line: the journal could not be written (disk full, ...)

    def __init__(self, document, snapshot: Callable[[], Document], parent: QObject | None = None,
                 directory: Path | None = None, delay_ms: int = JOURNAL_DELAY_MS) -> None:
        super().__init__(parent)
        self.document = document
        self._snapshot = snapshot
        folder = directory if directory is not None else journal_dir()
        # A random session id, not the pid: pids repeat (containers), and the lock is the identity.
        self.writer = JournalWriter(folder / f"{uuid.uuid4().hex}.json")
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.flush)
        self._error_timer = QTimer(self)
        self._error_timer.setSingleShot(True)
        self._error_timer.setInterval(ERROR_CHECK_MS)
        self._error_timer.timeout.connect(self._check_error)
        self._last_error: str | None = None
        stack = document.undo_stack
        self._clean_index = stack.cleanIndex()
        stack.indexChanged.connect(self._edited)
        stack.cleanChanged.connect(self._edited)
        document.pathChanged.connect(self._edited)

    @property
    def path(self) -> Path:
        return self.writer.path

    def _edited(self, *_args) -> None:
        if self._stopped:
            return
        try:
            stack = self.document.undo_stack
            clean = stack.isClean()
            clean_index, count = stack.cleanIndex(), stack.count()
        except RuntimeError:    # the window is being destroyed without a shutdown
            return
        if clean:
            # A save moves the clean point onto a history that has commands; opening a file or
            # starting a new drawing clears the history, and an undo back to it moves nothing.
            saved = clean_index != self._clean_index and count > 0 \
                and self.document.path is not None
            self._clean_index = clean_index
            self._timer.stop()
            self.writer.clear(saved=saved)
        elif not self._timer.isActive():
            # Throttle, not debounce: a stream of edits must not postpone the write forever.
            self._timer.start()

    def flush(self) -> None:
        """Hand the current snapshot to the writer now (it writes in its thread)."""
        self._timer.stop()
        if self._stopped or self.document.undo_stack.isClean():
            return
        self.writer.write(self._snapshot(), self.document.path)
        self._error_timer.start()

    def supersede(self, journal: Journal) -> None:
        self.writer.supersede(journal)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self.writer.wait_idle(timeout)

    def take_error(self) -> str | None:
        """The pending write error now (it is then not reported again by the timer)."""
        error = self.writer.take_error()
        if error is not None:
            self._last_error = error
        return error

    def _check_error(self) -> None:
        error = self.writer.take_error()
        if error and error != self._last_error:
            self.failed.emit(error)     # said once per distinct problem, not on every edit
        self._last_error = error

    def stop(self, clear: bool = True) -> None:
        """Normal shutdown: the document was saved or deliberately discarded."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        self._error_timer.stop()
        if clear:
            self.writer.clear()
        self.writer.wait_idle(10.0)
        self.writer.stop()

