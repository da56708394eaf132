"""SketchStudio's own document (.json): one sketch plus what it was explained with.

    {"format": "sketchstudio", "version": 1,
     "metadata": {...},                                  # optional: word, source, ...
     "strokes": [{"points": [[x, y], ...],
                  "pressure": [...], "time": [...]}],    # optional, one value per point
     "model": ...,                                       # optional: a name or an object of settings
     "attribution": {...}}                               # optional: method, target, ... as saved

`model` and `attribution` are kept as they are on load (see `Document`) so that reopening a
document explains it the same way. Unknown keys are refused rather than dropped: a file that says it
is version 1 and holds more than version 1 defines was not written by us. A newer version is
refused by name, so an old SketchStudio never half-reads a newer document.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Mapping

from ..core import Sketch, SketchError, Stroke
from .errors import SketchFileError
from .files import decode_text, read_bytes
from .jsonvalues import BadValue, describe, dumps, json_object, loads, numbers, plain_numbers

NAME = "json"
HOLDS_MANY = False
FORMAT_TAG = "sketchstudio"
VERSION = 1
_KEYS = {"format", "version", "metadata", "strokes", "model", "attribution"}
_STROKE_KEYS = {"points", "pressure", "time"}


@dataclass(frozen=True)
class Document:
    """A sketch with the model and attribution settings it was saved with (None when absent)."""

    sketch: Sketch
    model: str | Mapping[str, Any] | None = None
    attribution: Mapping[str, Any] | None = None


def _points(value: Any, what: str) -> Any:
    if not isinstance(value, list) or not value:
        raise BadValue(f"{what} should be a non-empty list of [x, y] pairs, got {describe(value)}")
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise BadValue(f"{what} should hold [x, y] pairs, got {describe(pair)}"
                           + (f" of {len(pair)} items" if isinstance(pair, list) else ""))
    return numbers([c for pair in value for c in pair], what).reshape(-1, 2)


def _stroke(value: Any, i: int) -> Stroke:
    what = f"strokes[{i}]"
    json_object(value, what)
    unknown = set(value) - _STROKE_KEYS
    if unknown:
        raise BadValue(f"{what} has unknown key {sorted(unknown)[0]!r}")
    if "points" not in value:
        raise BadValue(f'{what} has no "points"')
    channels = {name: numbers(value[name], f"{what}.{name}") for name in ("pressure", "time")
                if value.get(name) is not None}
    return Stroke(_points(value["points"], f"{what}.points"), **channels)


def _document(data: Any) -> Document:
    json_object(data, "the document")
    if data.get("format") != FORMAT_TAG:
        raise BadValue(f'not a SketchStudio document (it needs "format": "{FORMAT_TAG}")')
    version = data.get("version")
    if type(version) is not int:
        raise BadValue(f'"version" should be an integer, got {describe(version)}')
    if version != VERSION:
        raise BadValue(f"document version {version} is not supported (this SketchStudio reads "
                       f"version {VERSION}); a newer SketchStudio wrote it")
    unknown = set(data) - _KEYS
    if unknown:
        raise BadValue(f"unknown key {sorted(unknown)[0]!r}")
    if not isinstance(data.get("strokes"), list):
        raise BadValue(f'"strokes" should be a list, got {describe(data.get("strokes"))}')
    metadata = json_object(data.get("metadata", {}), '"metadata"')
    model = data.get("model")
    if model is not None and not isinstance(model, (str, dict)):
        raise BadValue(f'"model" should be a name or an object, got {describe(model)}')
    attribution = data.get("attribution")
    if attribution is not None:
        json_object(attribution, '"attribution"')
    sketch = Sketch(tuple(_stroke(s, i) for i, s in enumerate(data["strokes"])), metadata)
    return Document(sketch, model, attribution)


def read_document(path: Path) -> Document:
    text = decode_text(path, read_bytes(path))
    try:
        return _document(loads(text))
    except (BadValue, SketchError) as exc:
        raise SketchFileError(path, str(exc), getattr(exc, "line", None)) from None


def read(path: Path) -> Sketch:
    return read_document(path).sketch


def _stroke_json(stroke: Stroke) -> dict:
    out: dict[str, Any] = {"points": plain_numbers(stroke.points)}
    for name in ("pressure", "time"):
        if getattr(stroke, name) is not None:
            out[name] = plain_numbers(getattr(stroke, name))
    return out


def write_document(file: BinaryIO, document: Document) -> None:
    data: dict[str, Any] = {"format": FORMAT_TAG, "version": VERSION,
                            "metadata": dict(document.sketch.metadata),
                            "strokes": [_stroke_json(s) for s in document.sketch.strokes]}
    if document.model is not None:
        data["model"] = document.model
    if document.attribution is not None:
        data["attribution"] = document.attribution
    try:
        file.write(dumps(data).encode("utf-8") + b"\n")
    except BadValue as exc:
        raise BadValue(f"metadata or settings {exc}") from None


def write(file: BinaryIO, sketch: Sketch) -> None:
    write_document(file, Document(sketch))
