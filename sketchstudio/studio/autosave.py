"""Autosave journal and crash recovery.

Every completed edit (one undo-stack step) schedules a journal write; writes are throttled, not
debounced, so even a continuous stream of edits reaches the disk within `JOURNAL_DELAY_MS` plus the
time of one write. The journal is the document as a native `.json` (the same file format the user
saves, written atomically by `sketchstudio.sketch.io`) plus a small `.meta.json` beside it naming
the original file, in `<data dir>/autosave/<pid>.json`. Snapshots are immutable, so the writing
happens in a plain Python thread and the window never waits on the disk.

The journal is removed when the document becomes clean (saved, opened, new) and when the studio
shuts down normally. A journal whose process is gone was left by a crash: on the next launch the
studio offers to restore it (a message box in the GUI; `--restore` / `--no-restore` from the command
line; headless runs are never asked and never lose the journal).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..errors import UserError
from ..models import paths
from ..sketch import Sketch
from ..sketch.formats import Document
from ..sketch.formats.native import StrokeTextCache
from ..sketch.io import load_document, save_document, write_atomically

log = logging.getLogger(__name__)

JOURNAL_DELAY_MS = 300      # at most this long between a completed edit and the start of its write
ERROR_CHECK_MS = 1000
META_SUFFIX = ".meta.json"


def journal_dir() -> Path:
    return paths.data_dir() / "autosave"


# --- the journal files -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Journal:
    """One autosaved document left by a session (usually one that crashed)."""

    path: Path                  # <pid>.json, a native SketchStudio document
    pid: int
    original: Path | None       # the file the document was opened from or saved to, if any
    saved_at: float             # time.time() of the write
    strokes: int

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(self.path.stem + META_SUFFIX)

    def load(self) -> Document:
        return load_document(self.path)

    def discard(self) -> None:
        for p in (self.path, self.meta_path):
            try:
                p.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot remove %s: %s", p, exc)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        name = self.original.name if self.original is not None else "an untitled drawing"
        return f"{name}, {self.strokes} stroke{'s' if self.strokes != 1 else ''}, autosaved {when}"


def _read_journal(path: Path) -> Journal | None:
    try:
        pid = int(path.stem)
    except ValueError:
        return None
    meta: dict = {}
    meta_path = path.with_name(path.stem + META_SUFFIX)
    try:
        loaded = json.loads(meta_path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            meta = loaded
    except (OSError, ValueError):
        pass    # the document alone is enough to recover the drawing
    original = meta.get("original")
    saved_at = meta.get("saved_at")
    strokes = meta.get("strokes")
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    return Journal(path=path, pid=pid,
                   original=Path(original) if isinstance(original, str) and original else None,
                   saved_at=float(saved_at) if isinstance(saved_at, (int, float)) else mtime,
                   strokes=int(strokes) if isinstance(strokes, int) else -1)


def find_orphans(directory: Path | None = None) -> list[Journal]:
    """Journals whose session is no longer running, newest first."""
    folder = directory if directory is not None else journal_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.json"):
        if path.name.endswith(META_SUFFIX):
            continue
        journal = _read_journal(path)
        if journal is None or journal.pid == os.getpid() or _pid_alive(journal.pid):
            continue
        found.append(journal)
    return sorted(found, key=lambda j: j.saved_at, reverse=True)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":     # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32   # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)   # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259    # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True     # alive, someone else's
    except OSError:
        return False
    return True


def _write_meta(path: Path, meta: dict) -> None:
    write_atomically(path, lambda file: file.write(json.dumps(meta).encode("utf-8")))


# --- the writer thread -----------------------------------------------------------------------------
class JournalWriter:
    """One plain Python thread; the latest intent (write this document / clear) wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cond = threading.Condition()
        self._intent: tuple | None = None
        self._busy = False
        self._stopping = False
        self._error: str | None = None
        self.writes = 0
        self._encoded = StrokeTextCache()     # touched by the writer thread only
        self._thread = threading.Thread(target=self._run, name="sketchstudio-autosave",
                                        daemon=True)
        self._thread.start()

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(self.path.stem + META_SUFFIX)

    def write(self, document: Document, original: Path | None) -> None:
        with self._cond:
            self._intent = ("write", document, original)
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._intent = ("clear",)
            self._cond.notify_all()

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
            return
        _, document, original = intent
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            save_document(self.path, document, background=True, cache=self._encoded)
            _write_meta(self.meta_path, {
                "version": 1, "pid": os.getpid(), "saved_at": time.time(),
                "original": str(original) if original is not None else None,
                "strokes": len(document.sketch)})
        except (UserError, OSError) as exc:
            with self._cond:
                self._error = f"Autosave failed: {exc}"
            return
        self.writes += 1


# --- the studio side -------------------------------------------------------------------------------
class Autosaver(QObject):
    """Journals the document after every completed edit; removes the journal when it is clean."""

    failed = Signal(str)    # one line: the journal could not be written (disk full, ...)

    def __init__(self, document, snapshot: Callable[[], Document], parent: QObject | None = None,
                 directory: Path | None = None, delay_ms: int = JOURNAL_DELAY_MS) -> None:
        super().__init__(parent)
        self.document = document
        self._snapshot = snapshot
        folder = directory if directory is not None else journal_dir()
        self.writer = JournalWriter(folder / f"{os.getpid()}.json")
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
            clean = self.document.undo_stack.isClean()
        except RuntimeError:    # the window is being destroyed without a shutdown
            return
        if clean:
            self._timer.stop()
            self.writer.clear()
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

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self.writer.wait_idle(timeout)

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


# --- recovery --------------------------------------------------------------------------------------
def restore(window, journal: Journal) -> bool:
    """Make the journal's drawing the window's document: unsaved, undoable, with its original path."""
    try:
        document = journal.load()
    except UserError as exc:
        window.show_error(f"Cannot restore the autosaved drawing: {exc}", "Restore")
        return False
    original = journal.original if journal.original is not None and journal.original.exists() \
        else None
    sketch = document.sketch
    window.document.reset(Sketch(), original)
    window.document.apply(sketch, "Restore autosaved drawing")
    window.canvas.reset_page(sketch)
    window._forget_explanation()
    window._apply_document_settings(document)
    autosaver = getattr(window, "autosave", None)
    if autosaver is not None:   # this session's own journal first, then the old one may go
        autosaver.flush()
        autosaver.wait_idle()
    journal.discard()
    window.statusBar().showMessage(f"Restored the autosaved drawing ({len(sketch)} strokes)", 8000)
    return True


def ask_restore(window, journal: Journal) -> str:
    """'restore', 'discard' or 'later' (tests replace this)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, "Restore drawing",
                      "SketchStudio did not close normally last time. Restore the drawing it "
                      f"autosaved?\n\n{journal.describe()}", QMessageBox.StandardButton.NoButton,
                      window)
    restore_button = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    discard_button = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore_button)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    if clicked is restore_button:
        return "restore"
    if clicked is discard_button:
        return "discard"
    return "later"


def offer_recovery(window, choice: bool | None, headless: bool) -> bool:
    """At launch: restore (True), discard (False) or ask about (None) a crashed session's drawing.

    Headless runs (offscreen, --screenshot, scripts) are never asked: the journal is kept for a
    later interactive launch and one line on stderr says how to get it back. Returns True when a
    drawing was restored.
    """
    journals = find_orphans()
    if not journals:
        return False
    newest = journals[0]
    if choice is False:
        for journal in journals:
            journal.discard()
        return False
    if choice is None:
        if headless:
            print(f"sketchstudio: an autosaved drawing from a session that ended unexpectedly is "
                  f"kept ({newest.describe()}); start with --restore to recover it or "
                  f"--no-restore to discard it", file=sys.stderr)
            return False
        answer = ask_restore(window, newest)
        if answer == "discard":
            newest.discard()
            return False
        if answer != "restore":
            return False
    return restore(window, newest)
