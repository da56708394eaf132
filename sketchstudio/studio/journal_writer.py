"""The autosave writer: one plain Python thread that writes the journal (see `autosave.py`)."""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from ..errors import UserError
from ..sketch.formats import Document
from ..sketch.formats.native import StrokeTextCache
from ..sketch.io import save_document
from . import journal_lock
from .journal_files import Journal, lock_path_of, meta_path_of, write_meta

log = logging.getLogger(__name__)


class JournalWriter:
    """One plain Python thread; the latest intent (write this document / clear) wins.

    It holds this session's lock from its first write to `stop()`, and the journals this session
    restored ("superseded") until their drawing is safe: deleted after this session's own journal
    has been written, or after a save; released, not deleted, if the session ends first.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock: journal_lock.JournalLock | None = None
        self._cond = threading.Condition()
        self._intent: tuple | None = None
        self._busy = False
        self._stopping = False
        self._error: str | None = None
        self._superseded: list[Journal] = []
        self.writes = 0
        self._encoded = StrokeTextCache()     # touched by the writer thread only
        self._thread = threading.Thread(target=self._run, name="sketchstudio-autosave",
                                        daemon=True)
        self._thread.start()

    @property
    def meta_path(self) -> Path:
        return meta_path_of(self.path)

    @property
    def lock_path(self) -> Path:
        return lock_path_of(self.path)

    def write(self, document: Document, original: Path | None) -> None:
        with self._cond:
            self._intent = ("write", document, original)
            self._cond.notify_all()

    def clear(self, saved: bool = False) -> None:
        """The document is clean: `saved` when it was just saved to a file (then restored
        journals are safe to delete), not when it was replaced by an opened or new one."""
        with self._cond:
            self._intent = ("clear", saved)
            self._cond.notify_all()

    def supersede(self, journal: Journal) -> None:
        """Delete `journal` (its lock held) once its drawing, restored into this session, is
        safe."""
        with self._cond:
            self._superseded.append(journal)

    def superseded(self) -> list[Journal]:
        with self._cond:
            return list(self._superseded)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._intent is not None or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def take_error(self) -> str | None:
        with self._cond:
            error, self._error = self._error, None
        return error

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            return      # a write still hangs on the disk: the process exit releases the locks
        with self._cond:
            kept, self._superseded = self._superseded, []
        for journal in kept:    # never saved anywhere else: offered again at the next launch
            journal.release()
        if self.lock is not None:
            self.lock.release(remove=not self.path.exists())
            self.lock = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._intent is None and not self._stopping:
                    self._cond.wait()
                intent, self._intent = self._intent, None
                if intent is None:      # stopping, nothing left to do
                    break
                self._busy = True
            try:
                self._do(intent)
            except Exception as exc:    # never let the thread die; the GUI polls for the error
                log.exception("autosave failed")
                with self._cond:
                    self._error = f"autosave failed: {exc}"
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _do(self, intent: tuple) -> None:
        if intent[0] == "clear":
            for p in (self.path, self.meta_path):
                p.unlink(missing_ok=True)
            if intent[1]:
                self._retire_superseded()
            return
        _, document, original = intent
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.lock is None:   # a journal is only ever written under its session's lock
                self.lock = journal_lock.create(self.lock_path)
            save_document(self.path, document, background=True, cache=self._encoded)
            write_meta(self.meta_path, {
                "version": 2, "session": self.path.stem, "pid": os.getpid(),
                "saved_at": time.time(),
                "original": str(original) if original is not None else None,
                "strokes": len(document.sketch)})
        except (UserError, OSError) as exc:
            with self._cond:
                self._error = f"Autosave failed: {exc}"
            return
        self.writes += 1
        self._retire_superseded()   # written and fsynced: the drawing they held is safe here

    def _retire_superseded(self) -> None:
        with self._cond:
            done, self._superseded = self._superseded, []
        for journal in done:
            journal.discard()

