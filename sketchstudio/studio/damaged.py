"""Damaged files in the data folder: set aside (renamed, never deleted) and reported once.

The studio must start whatever an earlier crash, a full disk or a hand edit left in its data
folder. A file it cannot use is renamed to `<name>.damaged-<YYYYmmdd-HHMMSS>`: no reader looks at
that name again (so the message is said once, at the launch that found it), and the bytes are still
there for whoever wants to look at them.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from ..models.settings import damaged_path
from ..textsafe import printable

log = logging.getLogger(__name__)


def regular_file_problem(path: Path, limit: int) -> str | None:
    """Why `path` is not a regular file of at most `limit` bytes that can safely be opened (a
    FIFO would block the opener for ever, a device or a huge file would never end), or None."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None if not os.path.islink(path) else "a link to nothing"
    except OSError as exc:
        return exc.strerror or str(exc)
    if not stat.S_ISREG(info.st_mode):
        return "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
    if info.st_size > limit:
        return f"{info.st_size:,} bytes, more than the {limit:,} such a file can have"
    return None


class DamagedFiles:
    """What one launch set aside; `message()` is the one line that says so."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def set_aside(self, path: Path, reason: str) -> Path | None:
        """Rename `path` out of the way; the new path, or None when even that failed (the readers
        then skip the file on their own, and the next launch says so again)."""
        target = damaged_path(path)
        reason = " ".join(reason.split())[:200]     # one line, whatever the exception said
        try:
            os.rename(path, target)
        except OSError as exc:
            log.warning("cannot set aside %s: %s", path, exc)
            self.notes.append(printable(f"{path} ({reason}; could not be renamed: "
                                        f"{exc.strerror or exc})"))
            return None
        # Names come from whatever is in the folder: escapes, not terminal controls or newlines.
        self.notes.append(printable(f"{path.name} ({reason}) is now {target}"))
        return target

    def message(self) -> str | None:
        if not self.notes:
            return None
        what = "a damaged file" if len(self.notes) == 1 else f"{len(self.notes)} damaged files"
        return f"Set aside {what} in the data folder: " + "; ".join(self.notes)
