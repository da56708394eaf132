"""One rule for the metadata of a drawing (word, key_id, ...), shared by every reader and writer.

Metadata is free-form JSON, and each format stores it differently (ndjson record keys, a JSON text
in an .npz array or an SVG <metadata>, an object in our .json). JSON readers accept values that
no writer can write back: a number like 1e999 parses to infinity, "\\ud800" to a lone surrogate
that UTF-8 cannot encode, nesting deep enough that an encoder a few frames further down the stack
hits the recursion limit. A drawing holding one of those could be opened but never saved ("Autosave
failed" on every edit). So every reader refuses, with one line, whatever any writer would refuse,
and the writers check the same rule first for the same message: whatever is read can be written in
every format and reads back equal (tests/test_safety_formats_roundtrip.py).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .core import Sketch, SketchError
from .limits import MAX_METADATA_DEPTH, check_coordinates, check_drawing_size

# ndjson keeps the metadata as the keys of the drawing's record, beside "drawing" (the strokes).
RESERVED_KEYS = ("drawing",)


def _text(value: str, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start:exc.end].encode("unicode_escape").decode("ascii")
        raise SketchError(f"{where} holds {bad}, a lone surrogate that no file can store as "
                          "text") from None


def check_value(value: Any, where: str, depth: int = 0) -> None:
    """Raise SketchError naming `where` unless `value` is plain JSON every format writes back."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SketchError(f"{where} is {value}, not a finite number (a JSON number too large "
                              "for a float, such as 1e999, reads as infinity)")
        return
    if isinstance(value, str):
        _text(value, where)
        return
    if depth > MAX_METADATA_DEPTH and isinstance(value, (list, tuple, dict)):
        raise SketchError(f"{where} is nested more than {MAX_METADATA_DEPTH} levels deep")
    if isinstance(value, (list, tuple)):     # a tuple is written as a list
        for i, item in enumerate(value):
            check_value(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SketchError(f"{where} has a key {key!r} that is not text")
            _text(key, f"{where} key {_short(key)}")
            check_value(item, f"{where}[{_short(key)}]", depth + 1)
        return
    raise SketchError(f"{where} is a {type(value).__name__}, not a JSON value")


def _short(key: str) -> str:
    text = key.encode("utf-8", "backslashreplace").decode("utf-8")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def check_metadata(metadata: Mapping[str, Any], what: str = "metadata") -> dict[str, Any]:
    """The metadata as a plain dict, or SketchError: not an object, a reserved key, or a value that
    some format could not write back exactly."""
    if not isinstance(metadata, Mapping):
        raise SketchError(f"{what} should be an object, got {type(metadata).__name__}")
    for key in RESERVED_KEYS:
        if key in metadata:
            raise SketchError(f'{what} key "{key}" is reserved (it holds the strokes in .ndjson '
                              "files)")
    metadata = dict(metadata)
    check_value(metadata, what)
    return metadata


def check_written(sketch: Sketch) -> None:
    """What every writer checks first, so that it never writes a file its reader would refuse: the
    drawing within the size and coordinate limits, its metadata writable in every format."""
    check_drawing_size(len(sketch.strokes), sketch.num_points)
    check_coordinates(sketch)
    check_metadata(sketch.metadata)
