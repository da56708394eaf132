"""Files written whole or not at all, and file hashes: one implementation for the whole project.

`write_atomically` writes to a temporary name in the same folder, flushes it to disk and renames it
over the target, so a failed save never leaves half a file behind or clobbers the previous one.
"""
from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import BinaryIO

HASH_CHUNK = 1 << 20


def write_atomically(path: str | PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Write `path` whole or not at all: `write(file)` into a temporary file in the same folder,
    flushed to disk (fsync), renamed over `path`, and the rename made durable. Whatever fails (disk
    full, permission denied, a read-only folder, `write` itself) propagates, and the previous file
    is left exactly as it was. Every file SketchStudio writes for the user goes through here.

    A symbolic link is followed: the file it points to is replaced and the link stays (renaming
    over the link itself would turn it into a plain file and leave the real file unchanged)."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
        if path.is_symlink():    # realpath stops inside a loop of links
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        fsync_folder(path.parent)
    finally:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass   # e.g. a read-only folder, where the temporary file was never created


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); best effort where folders cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def file_sha256(path: str | PathLike[str], chunk: int = HASH_CHUNK) -> str:
    """The sha256 of a file's bytes, hex, read in chunks (model files can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
