"""The one error every sketch file reader and writer raises."""
from __future__ import annotations

from os import PathLike

from ...errors import UserError


class SketchFileError(UserError):
    """A sketch file that cannot be read or written; str() is one line: `path:LINE: message`."""

    def __init__(self, path: str | PathLike[str], message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        # Messages may quote file content; keep the report on one line whatever it holds.
        self.message = " ".join(str(message).split())
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {self.message}")
