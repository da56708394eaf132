"""The lock that says "this autosave journal belongs to a studio that is still running".

A journal is an orphan (left by a crash) exactly when nobody holds its lock. The kernel drops a
lock when the process holding it ends, however it ends, so no process id, boot time or clock is
involved: a pid that repeats on every launch (Flatpak, bwrap and Docker start each studio as the
same pid) can neither make an orphan look like the new session's own journal nor make a live
journal look orphaned. `flock()` locks belong to one open file, not to a process, so even two
sessions inside one process exclude each other (the tests rely on that).

The lock file is `<session>.lock` beside `<session>.json`; it is never replaced (the journal is,
on every atomic write, which is why the journal itself cannot carry the lock).
"""
from __future__ import annotations

import errno
import logging
import os
import sys
from pathlib import Path
from typing import BinaryIO

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

log = logging.getLogger(__name__)

# "Somebody else holds it"; anything else means the file system cannot lock at all.
_HELD_ERRNOS = {errno.EAGAIN, errno.EACCES, getattr(errno, "EWOULDBLOCK", errno.EAGAIN),
                getattr(errno, "EDEADLK", errno.EAGAIN)}

# Why a missing lock file could not be created: a full disk or quota, a read-only folder.
_CANNOT_CREATE = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM,
                  getattr(errno, "EDQUOT", errno.ENOSPC)}


class JournalLock:
    """An exclusive lock on one lock file, held until `release()` (or until the process ends)."""

    def __init__(self, path: Path, file: BinaryIO | None) -> None:
        self.path = path
        self._file = file

    @property
    def held(self) -> bool:
        return self._file is not None

    def release(self, remove: bool = False) -> None:
        """Give the lock up; `remove` deletes the lock file first, while it is still held, so that
        nobody can take the lock of a name that is about to disappear."""
        file, self._file = self._file, None
        if remove and sys.platform != "win32":
            _unlink(self.path)
        if file is not None:
            file.close()    # closing the file releases the lock
        if remove and sys.platform == "win32":      # Windows cannot delete a file that is open
            _unlink(self.path)


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc)


def _try_lock(file: BinaryIO) -> bool:
    """True when this open file now holds the lock, False when another one holds it."""
    try:
        if sys.platform == "win32":
            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _HELD_ERRNOS:
            return False
        # A file system without locks (some network mounts): journals there behave as if every
        # other session had ended. The worst case is that two studios both restore one drawing;
        # treating them as alive instead would hide every crashed drawing for good.
        log.warning("cannot lock %s (%s); crash recovery cannot tell running sessions apart",
                    getattr(file, "name", "?"), exc)
    return True


def create(path: Path) -> JournalLock:
    """Lock `path` (a new, unique name) for this session. The file only appears under its name
    once it is locked, so no other studio can ever find it unlocked while this one runs."""
    if sys.platform == "win32":
        # Windows refuses to delete a file another process has open, which closes the same gap.
        file = open(path, "xb")
        if not _try_lock(file):
            file.close()
            raise OSError(errno.EAGAIN, f"{path.name} is locked by another session")
        return JournalLock(path, file)
    pending = path.with_name(path.name + ".new")
    file = open(pending, "xb")
    try:
        if not _try_lock(file):
            raise OSError(errno.EAGAIN, f"{path.name} is locked by another session")
        os.rename(pending, path)
    except BaseException:
        file.close()
        _unlink(pending)
        raise
    return JournalLock(path, file)


def claim(path: Path) -> JournalLock | None:
    """Take the lock at `path` if no running session holds it (its journal is then an orphan and
    ours to offer, restore or discard); None while a session holds it."""
    try:
        # Created when missing: journals written by older versions have no lock file.
        file: BinaryIO = open(path, "ab")
    except FileNotFoundError:
        return None     # the folder itself went away
    except OSError as exc:
        try:
            file = open(path, "rb")     # an existing lock on a read-only folder
        except OSError:
            if exc.errno in _CANNOT_CREATE and not os.path.lexists(path):
                # Nobody can hold a lock file that does not exist and cannot be created (a full
                # disk, a read-only folder): the journal is an orphan, though we cannot lock it.
                return JournalLock(path, None)
            log.warning("cannot open %s: %s", path, exc)
            return None
    try:
        if not _try_lock(file):
            file.close()
            return None
        # The owner may have removed the file (a normal exit) between our open and our lock:
        # then what we hold is a lock on nothing.
        if sys.platform != "win32" and not _same_file(file, path):
            file.close()
            return None
    except BaseException:
        file.close()
        raise
    return JournalLock(path, file)


def _same_file(file: BinaryIO, path: Path) -> bool:
    try:
        mine, named = os.fstat(file.fileno()), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (named.st_dev, named.st_ino)
