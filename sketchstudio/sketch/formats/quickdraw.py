"""Quick, Draw! ndjson: one JSON drawing record per line, many drawings per file.

Two stroke layouts exist: "simplified" `[[xs], [ys]]` (0..255 integers) and "raw"
`[[xs], [ys], [ts]]` (canvas floats and milliseconds, which become `Stroke.time`). Every key of a
record other than `drawing` (word, key_id, countrycode, recognized, timestamp, ...) is kept in
`Sketch.metadata`. Files can hold millions of drawings, so they are streamed line by line and
never read whole; the size limit applies to one line (one drawing).
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..core import Sketch, SketchError, Stroke
from ..limits import check_coordinates, check_drawing_size
from ..metadata import check_metadata, check_written
from .errors import SketchFileError
from .files import MAX_DOCUMENT_BYTES
from .jsonvalues import BadValue, describe, dumps, json_object, loads, numbers, plain_numbers
from .registry import FileFormat
from .watch import NO_WATCH, Watch

NAME = "ndjson"
HOLDS_MANY = True
# The registry entry (formats/registry.py): what dialogs and galleries show and accept.
FORMAT = FileFormat(NAME, "Quick, Draw!", (".ndjson",), sys.modules[__name__])


def _records(path: Path, watch: Watch = NO_WATCH) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of every non-blank line; an empty file is an error, not zero drawings.
    Progress is the fraction of the file's bytes read."""
    try:
        file = open(path, "rb")
        size = max(path.stat().st_size, 1)
    except OSError as exc:
        raise SketchFileError(path, f"cannot read: {exc.strerror or exc}") from None
    found = False
    with file:
        for lineno, line in enumerate(iter(lambda: file.readline(MAX_DOCUMENT_BYTES + 1), b""), 1):
            if lineno % 256 == 0:
                watch.step(file.tell() / size)
            if len(line) > MAX_DOCUMENT_BYTES:
                raise SketchFileError(path, "line is longer than the "
                                      f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB limit", lineno)
            if line.strip():
                found = True
                yield lineno, line
    if not found:
        raise SketchFileError(path, "file is empty: no drawings")


def _stroke(value: object, i: int) -> Stroke:
    what = f"stroke {i}"
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise BadValue(f"{what} should be [xs, ys] or [xs, ys, times], got {describe(value)}"
                       + (f" of {len(value)} items" if isinstance(value, list) else ""))
    xs = numbers(value[0], f"{what} xs")
    ys = numbers(value[1], f"{what} ys")
    if len(xs) != len(ys):
        raise BadValue(f"{what} has {len(xs)} xs but {len(ys)} ys")
    if len(xs) == 0:
        raise BadValue(f"{what} has no points")
    time = None
    if len(value) == 3:
        time = numbers(value[2], f"{what} times")
        if len(time) != len(xs):
            raise BadValue(f"{what} has {len(xs)} points but {len(time)} times")
    return Stroke(np.column_stack([xs, ys]), time=time)


def _parse(path: Path, lineno: int, line: bytes) -> Sketch:
    try:
        record = json_object(loads(line.decode("utf-8-sig")), "a drawing record")
        if "drawing" not in record:
            raise BadValue('the record has no "drawing"')
        drawing = record["drawing"]
        if not isinstance(drawing, list):
            raise BadValue(f'"drawing" should be a list of strokes, got {describe(drawing)}')
        # Counted before any stroke is built (a line of "[[0],[0]]," repeated is 11 bytes a stroke).
        check_drawing_size(len(drawing), sum(
            len(s[0]) for s in drawing if isinstance(s, list) and s and isinstance(s[0], list)))
        metadata = check_metadata({k: v for k, v in record.items() if k != "drawing"})
        strokes = tuple(_stroke(s, i) for i, s in enumerate(drawing))
        sketch = Sketch(strokes, metadata)
        check_coordinates(sketch)
        return sketch
    except UnicodeDecodeError:
        raise SketchFileError(path, "not UTF-8 text (binary file?)", lineno) from None
    except (BadValue, SketchError) as exc:
        raise SketchFileError(path, str(exc), lineno) from None


def count(path: Path, watch: Watch = NO_WATCH) -> int:
    return sum(1 for _ in _records(path, watch))


def iter_sketches(path: Path, watch: Watch = NO_WATCH) -> Iterator[Sketch]:
    for lineno, line in _records(path, watch):
        watch.check()
        yield _parse(path, lineno, line)


def iter_indexed(path: Path, watch: Watch = NO_WATCH,
                 on_bad: Callable[[int, SketchFileError], None] | None = None,
                 ) -> Iterator[tuple[int, Sketch]]:
    """(index, drawing) of every record. With `on_bad`, a record that cannot be read is handed to
    `on_bad(index, error)` (the error names the line and what is wrong) and skipped, so one bad
    line costs that drawing, not the rest of the file; the others keep their index (drawing N is
    the file's Nth record, as `load` counts). Without it, the first bad record is raised."""
    for index, (lineno, line) in enumerate(_records(path, watch)):
        watch.check()
        try:
            sketch = _parse(path, lineno, line)
        except SketchFileError as exc:
            if on_bad is None:
                raise
            on_bad(index, exc)
            continue
        yield index, sketch


def load(path: Path, index: int, watch: Watch = NO_WATCH) -> Sketch:
    # Only the wanted line is parsed: picking drawing 90,000 must not validate the 89,999 before it.
    total = 0
    for lineno, line in _records(path, watch):
        if total == index:
            watch.check()
            return _parse(path, lineno, line)
        total += 1
    raise SketchFileError(path, f"drawing index {index} is out of range: the file holds "
                          f"{total} drawing{'s' if total != 1 else ''}")


def _stroke_lists(stroke: Stroke, with_time: bool) -> list[list[Any]]:
    lists = [plain_numbers(stroke.points[:, 0]), plain_numbers(stroke.points[:, 1])]
    if with_time and stroke.time is not None:    # with_time: every stroke of the drawing has times
        lists.append(plain_numbers(stroke.time))
    return lists


def write(file: BinaryIO, sketches: Iterable[Sketch]) -> None:
    """Raw layout when every stroke of a drawing has times, else simplified; pressure is dropped."""
    written = 0
    for i, sketch in enumerate(sketches):
        try:
            check_written(sketch)
        except SketchError as exc:
            raise BadValue(f"drawing {i}: {exc}") from None
        with_time = bool(sketch.strokes) and all(s.time is not None for s in sketch.strokes)
        record = {**sketch.metadata,
                  "drawing": [_stroke_lists(s, with_time) for s in sketch.strokes]}
        try:
            file.write(dumps(record).encode("utf-8") + b"\n")
        except BadValue as exc:
            raise BadValue(f"drawing {i}: metadata {exc}") from None
        written += 1
    if not written:
        raise BadValue("no drawings to write")
