"""Read a small hand-written file (a model card, the settings file) without being led astray by
its name or its kind.

Whatever path a user or a card hands over, the answer is the file's bytes or one UserError line:
a FIFO or a device is never opened (a FIFO blocks its reader for ever, a device never ends), a name
that is too long, holds a NUL character or loops through symbolic links is named as such, and no
more than `limit` bytes are ever read.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import UserError

# O_NONBLOCK: should a FIFO be swapped in between the check and the open, opening it returns at
# once instead of waiting for a writer (and the fstat check below refuses it).
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_ERRNO_WORDS = {
    errno.ENOENT: "not found",
    errno.ENOTDIR: "not found (a part of the path is not a folder)",
    errno.ELOOP: "a loop of symbolic links",
    errno.ENAMETOOLONG: "file name too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def path_problem(exc: BaseException) -> str:
    """A few words for why a path could not be used (OSError, NUL byte, pathlib's loop error)."""
    if isinstance(exc, ValueError) and "null" in str(exc).lower():
        return "the file name contains a NUL character"
    if isinstance(exc, RuntimeError) and "symlink loop" in str(exc).lower():
        return _ERRNO_WORDS[errno.ELOOP]   # pathlib's resolve() on Python < 3.13
    if isinstance(exc, OSError):
        words = _ERRNO_WORDS.get(exc.errno) if exc.errno is not None else None
        return words or exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def is_regular_file(path: str | Path) -> bool:
    """Like Path.is_file, but False (never an exception) for any name the system refuses."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_small_file(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; otherwise UserError "<path>: <what>
    <problem>" on one line."""
    def refuse(problem: str) -> UserError:
        return UserError(f"{path}: {what} {problem}" if problem == "not found"
                         else f"{path}: cannot read the {what}: {problem}")

    try:
        if "\0" in str(path):
            raise ValueError("embedded null byte")
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise refuse(f"it is {kind_of(mode)}, not a regular file")
        fd = os.open(path, _OPEN_FLAGS)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):   # swapped for something else since the stat
                raise refuse(f"it is {kind_of(info.st_mode)}, not a regular file")
            if info.st_size > limit:
                raise refuse(f"it is larger than the {limit // 1024} KB limit")
            chunks, total = [], 0
            while total <= limit:
                chunk = os.read(fd, min(1 << 16, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        finally:
            os.close(fd)
    except UserError:
        raise
    except (OSError, ValueError) as exc:
        raise refuse(path_problem(exc)) from None
    data = b"".join(chunks)
    if len(data) > limit:   # it grew after the fstat
        raise refuse(f"it is larger than the {limit // 1024} KB limit")
    return data
