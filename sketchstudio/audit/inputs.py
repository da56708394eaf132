"""The audit's input: drawings streamed from files and folders of any supported format.

`iter_records(paths, limit)` yields one plain record per drawing, in a fixed order (the paths as
given, a folder's files sorted by name, drawings in file order), so that the same arguments always
give the same records: `--resume` and the Ray engine's shards rely on it.

A record is a dict that pickles and converts to Arrow as it is (the Ray engine ships records
between processes):

    source   str         the file's absolute path
    index    int         the drawing's index within the file
    key_id   str | None  the drawing's key_id metadata (Quick, Draw!), as text
    word     str | None  the drawing's word metadata (its true class, where known)
    drawing  str | None  the strokes as JSON, [[xs, ys], ...] (`decode_drawing` turns it back)
    error    str | None  why the drawing cannot be read (then `drawing` is None)

One bad drawing becomes one record with an `error` (the audit writes it as an error row and goes
on); a file that cannot be read at all becomes one error record at the index where reading
stopped. Missing paths and unknown file types are a `UserError` before any work starts.
"""
from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..sketch import Sketch
from ..sketch.formats import FORMATS, SketchFileError, format_for, quickdraw, stroke3
from ..sketch.io import load_sketch

PathArg = str | os.PathLike[str]
INPUT_FIELDS = ("source", "index", "key_id", "word", "drawing", "error")


def expand_paths(paths: Iterable[PathArg]) -> list[Path]:
    """Files as given; folders replaced by the sketch files under them (recursively, by name)."""
    files: list[Path] = []
    for given in paths:
        path = Path(given).absolute()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.suffix.lower() in FORMATS and p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not found:
                raise UserError(f"{given}: no sketch files in this folder "
                                f"(looked for {', '.join(FORMATS)})")
            files += found
        elif path.is_file():
            try:
                format_for(path)
            except SketchFileError as exc:
                raise UserError(str(exc)) from None
            files.append(path)
        else:
            raise UserError(f"{given}: no such file or folder")
    if not files:
        raise UserError("no input: give sketch files or folders to audit")
    return files


def encode_drawing(sketch: Sketch) -> str:
    """Strokes as compact JSON text (points only: that is all a model sees)."""
    return json.dumps([[s.points[:, 0].tolist(), s.points[:, 1].tolist()] for s in sketch.strokes],
                      separators=(",", ":"))


def decode_drawing(text: str) -> Sketch:
    import numpy as np

    return Sketch.from_arrays(np.column_stack([xs, ys]) for xs, ys in json.loads(text))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _record(source: str, index: int, sketch: Sketch | None = None,
            error: str | None = None, meta: Any = None) -> dict[str, Any]:
    meta = sketch.metadata if sketch is not None else meta if isinstance(meta, dict) else {}
    return {"source": source, "index": index, "key_id": _text(meta.get("key_id")),
            "word": _text(meta.get("word")),
            "drawing": encode_drawing(sketch) if sketch is not None else None,
            "error": None if error is None else " ".join(str(error).split())}


def _metadata_of_bad_line(line: bytes) -> Any:
    """The word and key_id of a record whose drawing is unusable, when its JSON still parses."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _ndjson(path: Path, start: int) -> Iterator[tuple[int, Sketch | None, str | None, Any]]:
    index = 0
    try:
        for lineno, line in quickdraw._records(path):
            if index >= start:
                try:
                    yield index, quickdraw._parse(path, lineno, line), None, None
                except SketchFileError as exc:
                    yield index, None, str(exc), _metadata_of_bad_line(line)
            index += 1
    except SketchFileError as exc:   # unreadable, empty, or a line over the size limit
        if index >= start:
            yield index, None, str(exc), None


def _npz(path: Path, start: int) -> Iterator[tuple[int, Sketch | None, str | None, Any]]:
    try:
        splits = stroke3._splits(path)
    except SketchFileError as exc:
        if start == 0:
            yield 0, None, str(exc), None
        return
    index = 0
    for split in splits:
        for i in range(len(split)):
            if index >= start:
                try:
                    yield index, stroke3._sketch(path, split, i), None, None
                except SketchFileError as exc:
                    yield index, None, str(exc), None
            index += 1


def _single(path: Path, start: int) -> Iterator[tuple[int, Sketch | None, str | None, Any]]:
    if start > 0:
        return
    try:
        sketch = load_sketch(path)
    except SketchFileError as exc:
        yield 0, None, str(exc), None
        return
    yield 0, sketch, None, None


def iter_file_records(path: PathArg, start: int = 0,
                      stop: int | None = None) -> Iterator[dict[str, Any]]:
    """Records of one file's drawings with index in [start, stop); earlier ones are not parsed.

    The per-drawing readers are the format modules' own (quickdraw, stroke3), called one drawing
    at a time so that a bad drawing is one error record instead of the end of the file."""
    path = Path(path).absolute()
    module = format_for(path)
    reader = _ndjson if module is quickdraw else _npz if module is stroke3 else _single
    source = str(path)
    for index, sketch, error, meta in reader(path, start):
        if stop is not None and index >= stop:
            return
        yield _record(source, index, sketch, error, meta)


def iter_records(paths: Iterable[PathArg], limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Every drawing of every input, as records (see the module docstring), at most `limit`."""
    if limit is not None and limit < 0:
        raise UserError(f"--limit must be 0 or more, got {limit}")
    files = expand_paths(paths)
    records = itertools.chain.from_iterable(iter_file_records(f) for f in files)
    return itertools.islice(records, limit) if limit is not None else records


def count_drawings(path: Path) -> int:
    """How many records `iter_file_records(path)` yields (1 for a file that cannot be read)."""
    module = format_for(path)
    try:
        return module.count(path) if module.HOLDS_MANY else 1
    except SketchFileError:
        # Counted the slow way: the records stop with one error record where reading fails.
        return sum(1 for _ in iter_file_records(path))


def plan_shards(paths: Iterable[PathArg], limit: int | None,
                shard_size: int) -> list[dict[str, Any]]:
    """Input shards, {source, start, stop}, covering exactly the records `iter_records` yields."""
    shards: list[dict[str, Any]] = []
    left = limit
    for path in expand_paths(paths):
        if left is not None and left <= 0:
            break
        total = count_drawings(path)
        if left is not None:
            total = min(total, left)
            left -= total
        for start in range(0, total, shard_size):
            shards.append({"source": str(path), "start": start,
                           "stop": min(start + shard_size, total)})
    return shards
