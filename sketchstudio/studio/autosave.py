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
"""
from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from ..errors import UserError
from ..fsutil import write_atomically
from ..models import paths
from ..sketch import Sketch
from ..sketch.formats import Document
from ..sketch.formats.native import StrokeTextCache
from ..sketch.io import load_document, save_document
from ..textsafe import printable
from . import journal_lock
from .damaged import DamagedFiles, regular_file_problem

log = logging.getLogger(__name__)

JOURNAL_DELAY_MS = 300      # at most this long between a completed edit and the start of its write
ERROR_CHECK_MS = 1000
META_SUFFIX = ".meta.json"
LOCK_SUFFIX = ".lock"
META_LIMIT = 64 * 1024      # the note is a few hundred bytes; a bigger one was not written by us
ORIGINAL_LIMIT = 4096       # characters of the original file's path


def journal_dir() -> Path:
    return paths.data_dir() / "autosave"


def _meta_path(journal: Path) -> Path:
    return journal.with_name(journal.stem + META_SUFFIX)


def _lock_path(journal: Path) -> Path:
    return journal.with_name(journal.stem + LOCK_SUFFIX)


# --- the journal files ----------------------------------------------------------------------------
@dataclass(eq=False)
class Journal:
    """One autosaved document left by a session that ended without clearing it (a crash).

    Found by `find_orphans` with its lock taken, so no other studio offers it at the same time:
    `release()` when it stays for a later launch, `discard()` when it goes.
    """

    path: Path                  # <session>.json, a native SketchStudio document
    original: Path | None       # the file the document was opened from or saved to, if any
    saved_at: float             # time.time() of the write
    strokes: int
    lock: journal_lock.JournalLock | None = field(default=None, repr=False)

    @property
    def meta_path(self) -> Path:
        return _meta_path(self.path)

    def load(self) -> Document:
        return load_document(self.path)

    def release(self) -> None:
        """Keep the files for a later launch; another studio may take the journal now."""
        lock, self.lock = self.lock, None
        if lock is not None:
            lock.release()

    def discard(self) -> None:
        for p in (self.path, self.meta_path):
            try:
                p.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot remove %s: %s", p, exc)
        lock, self.lock = self.lock, None
        if lock is not None:
            lock.release(remove=True)

    def describe(self) -> str:
        name = printable(self.original.name) if self.original is not None \
            else "an untitled drawing"
        count = f"{self.strokes} stroke{'s' if self.strokes != 1 else ''}, " \
            if self.strokes >= 0 else ""    # -1: the note was missing or set aside
        return f"{name}, {count}autosaved {_when(self.saved_at) or 'at an unknown time'}"


def _when(seconds: float) -> str | None:
    """The local time, or None for a number no calendar can show (the note was damaged)."""
    try:
        if not math.isfinite(seconds):
            return None
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
    except (OverflowError, OSError, ValueError, TypeError):
        return None


def _meta_problem(meta: dict) -> str | None:
    """Why a note's fields cannot be used, or None."""
    saved_at = meta.get("saved_at")
    bad_time = (isinstance(saved_at, bool) or not isinstance(saved_at, (int, float))
                or _when(saved_at) is None)
    if saved_at is not None and bad_time:
        return f"saved_at {str(saved_at)[:40]!r} is not a time"
    strokes = meta.get("strokes")
    if strokes is not None and (isinstance(strokes, bool) or not isinstance(strokes, int)
                                or strokes < 0):
        return f"strokes {str(strokes)[:40]!r} is not a count"
    original = meta.get("original")
    if original is not None and (not isinstance(original, str) or "\x00" in original
                                 or len(original) > ORIGINAL_LIMIT):
        return "original is not a file path"
    return None


def _read_meta(path: Path) -> tuple[dict, str | None]:
    """The note beside a journal: (its fields, None), or ({}, why it cannot be used)."""
    problem = regular_file_problem(path, META_LIMIT)
    if problem is not None:
        return {}, problem
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, None
    except RecursionError:
        return {}, "nested too deeply"
    except ValueError as exc:   # not JSON, not UTF-8, an integer of over 4,300 digits
        return {}, f"not a note: {exc}"
    except OSError as exc:
        return {}, exc.strerror or str(exc)
    if not isinstance(loaded, dict):
        return {}, "not a JSON object"
    problem = _meta_problem(loaded)
    return ({}, problem) if problem is not None else (loaded, None)


def _read_journal(path: Path) -> Journal | None:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    meta, _problem = _read_meta(_meta_path(path))  # the document alone is enough to recover
    original = meta.get("original")
    saved_at = meta.get("saved_at")
    strokes = meta.get("strokes")
    return Journal(path=path,
                   original=Path(original) if isinstance(original, str) and original else None,
                   saved_at=float(saved_at) if isinstance(saved_at, (int, float)) else mtime,
                   strokes=strokes if isinstance(strokes, int) else -1)


def _journal_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.glob("*.json")
                      if not p.name.endswith(META_SUFFIX) and p.is_file())
    except OSError:
        return []


def find_orphans(directory: Path | None = None) -> list[Journal]:
    """Journals whose session is no longer running, newest first, each with its lock taken (see
    `Journal`). The name says nothing about the session: only its lock does."""
    folder = directory if directory is not None else journal_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in _journal_files(folder):
        lock = journal_lock.claim(_lock_path(path))
        if lock is None:
            continue    # a running session's
        journal = _read_journal(path)
        if journal is None:     # cleared between the listing and the lock
            lock.release(remove=True)
            continue
        journal.lock = lock
        found.append(journal)
    _remove_stale_locks(folder)
    return sorted(found, key=lambda j: j.saved_at, reverse=True)


def _remove_stale_locks(folder: Path) -> None:
    """Lock files of sessions that ended without a journal (a crash before the first edit)."""
    try:
        candidates = [p for p in folder.iterdir()
                      if p.name.endswith((LOCK_SUFFIX, LOCK_SUFFIX + ".new"))]
    except OSError:
        return
    for path in candidates:
        session = path.name.split(LOCK_SUFFIX)[0]
        if (folder / f"{session}.json").exists():
            continue
        lock = journal_lock.claim(path)
        if lock is not None and lock.held:      # nobody's: ours to remove
            try:
                (folder / f"{session}{META_SUFFIX}").unlink(missing_ok=True)
            except OSError:
                pass
            lock.release(remove=True)


def check_journals(damaged: DamagedFiles, directory: Path | None = None) -> None:
    """At launch: set aside what no reader can use (an `autosave` that is not a folder, notes
    that are not JSON or hold impossible values, journals that are not regular files). Journal
    documents are not read here; one that cannot be loaded is set aside when restoring it fails."""
    folder = directory if directory is not None else journal_dir()
    if os.path.lexists(folder) and not folder.is_dir():
        damaged.set_aside(folder, "not a folder")
        return
    try:
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError as exc:
        log.warning("cannot list %s: %s", folder, exc)
        return
    for path in entries:
        if path.name.endswith(META_SUFFIX):
            _meta, problem = _read_meta(path)
            if problem is not None:
                damaged.set_aside(path, f"autosave note: {problem}")
        elif path.name.endswith(".json") and not path.is_file():
            damaged.set_aside(path, "autosave journal: not a regular file")


def _write_meta(path: Path, meta: dict) -> None:
    write_atomically(path, lambda file: file.write(json.dumps(meta).encode("utf-8")))


# --- the writer thread ----------------------------------------------------------------------------
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
        return _meta_path(self.path)

    @property
    def lock_path(self) -> Path:
        return _lock_path(self.path)

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
            _write_meta(self.meta_path, {
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


# --- the studio side ------------------------------------------------------------------------------
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


# --- recovery -------------------------------------------------------------------------------------
def restore(window, journal: Journal) -> bool:
    """Make the journal's drawing the window's document: unsaved, undoable, with its original path.

    The journal is deleted only once the drawing is safe elsewhere (see `JournalWriter`); a journal
    that cannot be loaded is set aside, not deleted."""
    try:
        document = journal.load()
    except (UserError, ValueError, RecursionError, MemoryError, OSError) as exc:
        damaged = DamagedFiles()
        target = damaged.set_aside(journal.path, "cannot be loaded")
        if target is not None and journal.meta_path.exists():
            damaged.set_aside(journal.meta_path, "the note of a journal that cannot be loaded")
        journal.release()
        kept = f"; the file is kept as {target}" if target is not None else ""
        window.show_error(f"Cannot restore the autosaved drawing: {exc}{kept}", "Restore")
        return False
    original = journal.original if journal.original is not None \
        and os.path.exists(journal.original) else None
    sketch = document.sketch
    window.document.reset(Sketch(), original)
    window.document.apply(sketch, "Restore autosaved drawing")
    window.canvas.reset_page(sketch)
    window._forget_explanation()
    window._apply_document_settings(document)
    restored = f"Restored the autosaved drawing ({len(sketch)} strokes)"
    autosaver = getattr(window, "autosave", None)
    if autosaver is None:   # a session that does not autosave (--screenshot): keep the old one
        journal.release()
        window.statusBar().showMessage(f"{restored}; its autosaved copy is kept", 8000)
        return True
    # This session's journal first; the writer deletes the old one once that is on the disk.
    autosaver.supersede(journal)
    autosaver.flush()
    autosaver.wait_idle()
    error = autosaver.take_error()
    if error is not None and journal in autosaver.writer.superseded():
        window.show_error(f"{restored}, but it cannot be autosaved ({error}); the autosaved copy "
                          f"{journal.path} is kept until the drawing is autosaved or saved",
                          "Restore")
    else:
        window.statusBar().showMessage(restored, 8000)
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
    newest, others = journals[0], journals[1:]
    if choice is False:
        for journal in journals:
            journal.discard()
        return False
    for journal in others:      # offered one at a time, at later launches
        journal.release()
    if choice is None:
        if headless:
            print(f"sketchstudio: an autosaved drawing from a session that ended unexpectedly is "
                  f"kept ({newest.describe()}); start with --restore to recover it or "
                  f"--no-restore to discard it", file=sys.stderr)
            newest.release()
            return False
        try:
            answer = ask_restore(window, newest)
        except BaseException:
            newest.release()
            raise
        if answer == "discard":
            newest.discard()
            return False
        if answer != "restore":
            newest.release()
            return False
    return restore(window, newest)
