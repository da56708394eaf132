"""The autosave journal's files: where they live, the note beside each, and which are orphans.

A journal is `<data dir>/autosave/<session>.json` (a native SketchStudio document), a small
`<session>.meta.json` note naming the original file, and `<session>.lock`. Identity is the lock,
never a process id (`journal_lock.py`): a journal is an orphan exactly when nobody holds its lock.
No Qt here: `journal_writer.py` writes these files, `recovery.py` offers the orphans.
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..fsutil import write_atomically
from ..models import paths
from ..sketch.formats import Document
from ..sketch.io import load_document
from ..textsafe import printable
from . import journal_lock
from .damaged import DamagedFiles, regular_file_problem

log = logging.getLogger(__name__)

META_SUFFIX = ".meta.json"
LOCK_SUFFIX = ".lock"
META_LIMIT = 64 * 1024      # the note is a few hundred bytes; a bigger one was not written by us
ORIGINAL_LIMIT = 4096       # characters of the original file's path


def journal_dir() -> Path:
    return paths.data_dir() / "autosave"


def meta_path_of(journal: Path) -> Path:
    return journal.with_name(journal.stem + META_SUFFIX)


def lock_path_of(journal: Path) -> Path:
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
        return meta_path_of(self.path)

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
    meta, _problem = _read_meta(meta_path_of(path))  # the document alone is enough to recover
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
        lock = journal_lock.claim(lock_path_of(path))
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


def write_meta(path: Path, meta: dict) -> None:
    write_atomically(path, lambda file: file.write(json.dumps(meta).encode("utf-8")))

