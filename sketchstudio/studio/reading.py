"""Reading a file for Open, Import and drops, in the worker thread (no Qt here).

A hostile or just large file can take seconds to read (an SVG near the limits of sketch/limits.py,
a Quick, Draw! file of 100 MB), so the window never reads one itself: `read_file` runs as a worker
task with the engine's `progress(fraction)` and `cancelled()` callables, and returns plain values
that the window applies on its own thread. A file the readers refuse comes back as `FileRead.error`
(the reader's one line), not as an exception, so the window shows exactly that line.

One bad line of an .ndjson costs that drawing only: the others are offered, each with its index in
the file, and the bad lines come back as `Drawings.bad` (line number and what is wrong) for the
browser and the status bar to report.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..progress import CancelledFn, check
from ..sketch import Sketch
from ..sketch.formats import Document, format_for
from ..sketch.io import SketchFileError, iter_drawings, load_document

# The drawing browser offers the first this many drawings of a file (a Quick, Draw! file can hold
# more than 100,000; nobody picks one from a grid of them).
MAX_SHOWN = 2000


@dataclass(frozen=True)
class BadDrawing:
    """A drawing of the file that could not be read (the others still are)."""

    index: int                      # its index in the file (0-based, as --index counts)
    line: int | None                # its line in the file, counted from 1
    message: str                    # what is wrong with it

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


@dataclass(frozen=True)
class Drawings:
    """The first drawings of a file that holds many, for the browser to offer."""

    sketches: tuple[Sketch, ...]
    more: bool = False              # the file holds more than MAX_SHOWN
    error: str | None = None        # why the drawings after the last one could not be read
    indices: tuple[int, ...] = ()   # each sketch's index in the file (default: 0, 1, 2, ...)
    bad: tuple[BadDrawing, ...] = ()    # drawings skipped because they could not be read

    def index_of(self, position: int) -> int:
        """The file index of `sketches[position]` (bad drawings before it keep their number)."""
        return self.indices[position] if self.indices else position

    def bad_summary(self, limit: int = 3) -> str | None:
        """'2 drawings could not be read (line 5: invalid JSON; line 9: ...)', or None."""
        if not self.bad:
            return None
        n = len(self.bad)
        shown = "; ".join(str(b) for b in self.bad[:limit])
        rest = f"; {n - limit} more" if n > limit else ""
        return f"{n} drawing{'s' if n != 1 else ''} could not be read ({shown}{rest})"


@dataclass(frozen=True)
class FileRead:
    """What the worker found: one drawing (`document`), drawings to choose from, or an error."""

    path: Path
    document: Document | None = None    # the asked-for drawing (.json: with its settings)
    index: int = 0
    drawings: Drawings | None = None    # a file with many drawings and no index: let the user pick
    error: str | None = None            # nothing could be read: the reader's one line


def read_file(path: Path, index: int | None, progress: Callable[[float], None] | None = None,
              cancelled: CancelledFn = None) -> FileRead:
    """The drawing `index` of `path`, or (a file holding many, no index) the first drawings."""
    try:
        module = format_for(path)
        if module.HOLDS_MANY and index is None:
            drawings = read_drawings(path, progress, cancelled)
            if not drawings.sketches:
                # Nothing readable at all: the reason is the error (an empty file says so too).
                summary = drawings.bad_summary()
                return FileRead(path, error=drawings.error or (f"{path}: {summary}" if summary
                                                               else f"{path}: no drawings"))
            return FileRead(path, drawings=drawings)
        document = load_document(path, index or 0, progress=progress, cancelled=cancelled)
    except UserError as exc:
        return FileRead(path, error=str(exc))
    return FileRead(path, document=document, index=index or 0)


def read_drawings(path: Path, progress: Callable[[float], None] | None = None,
                  cancelled: CancelledFn = None, limit: int = MAX_SHOWN) -> Drawings:
    """Up to `limit` drawings. A drawing that cannot be read is skipped and reported in `bad`
    (.ndjson: one record a line); a damage that stops the reader (another format, an unreadable
    file) keeps the drawings before it, with the reason in `error`."""
    done = [0.0]    # the reader reports the fraction of the file's bytes read

    def file_progress(fraction: float) -> None:
        done[0] = fraction

    bad: list[BadDrawing] = []

    def skipped(index: int, exc: SketchFileError) -> None:
        bad.append(BadDrawing(index, exc.line, exc.message))

    sketches: list[Sketch] = []
    indices: list[int] = []
    error = None
    more = False
    try:
        for index, sketch in iter_drawings(path, progress=file_progress, cancelled=cancelled,
                                           on_bad=skipped):
            if len(sketches) == limit:
                more = True
                break
            sketches.append(sketch)
            indices.append(index)
            check(cancelled)
            if progress is not None:
                # Whichever is further: the bytes read, or the drawings of the most we offer.
                progress(max(done[0], len(sketches) / limit))
    except UserError as exc:
        error = str(exc)
    return Drawings(tuple(sketches), more, error, tuple(indices), tuple(bad))
