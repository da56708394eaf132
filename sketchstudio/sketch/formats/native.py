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

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..core import Sketch, SketchError, Stroke
from ..limits import check_coordinates, check_drawing_size
from ..metadata import check_metadata, check_value, check_written
from .errors import SketchFileError
from .files import decode_text, read_bytes
from .jsonvalues import BadValue, describe, dumps, json_object, loads, numbers, plain_numbers
from .registry import FileFormat
from .watch import NO_WATCH, Watch

NAME = "json"
HOLDS_MANY = False
# The registry entry (formats/registry.py): what dialogs and galleries show and accept.
FORMAT = FileFormat(NAME, "SketchStudio document", (".json",), sys.modules[__name__],
                    document=True)
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


def _document(data: Any, watch: Watch = NO_WATCH) -> Document:
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
    metadata = check_metadata(json_object(data.get("metadata", {}), '"metadata"'), '"metadata"')
    model = data.get("model")
    if model is not None and not isinstance(model, (str, dict)):
        raise BadValue(f'"model" should be a name or an object, got {describe(model)}')
    attribution = data.get("attribution")
    if attribution is not None:
        json_object(attribution, '"attribution"')
    # Kept and written back on every save: the same rule as metadata, or autosave would fail.
    check_value(model, '"model"')
    check_value(attribution, '"attribution"')
    strokes = data["strokes"]
    check_drawing_size(len(strokes), sum(len(s["points"]) for s in strokes if isinstance(s, dict)
                                         and isinstance(s.get("points"), list)))
    built = []
    for i, stroke in enumerate(strokes):
        if i % 1024 == 1023:
            watch.step(0.5 + 0.5 * i / len(strokes))
        built.append(_stroke(stroke, i))
    sketch = Sketch(tuple(built), metadata)
    check_coordinates(sketch)
    return Document(sketch, model, attribution)


def read_document(path: Path, watch: Watch = NO_WATCH) -> Document:
    text = decode_text(path, read_bytes(path))
    watch.step(0.1)
    try:
        data = loads(text)
        watch.step(0.5)
        return _document(data, watch)
    except (BadValue, SketchError) as exc:
        raise SketchFileError(path, str(exc), getattr(exc, "line", None)) from None


def read(path: Path, watch: Watch = NO_WATCH) -> Sketch:
    return read_document(path, watch).sketch


def _stroke_json(stroke: Stroke) -> dict[str, Any]:
    out: dict[str, Any] = {"points": plain_numbers(stroke.points)}
    for name in ("pressure", "time"):
        if getattr(stroke, name) is not None:
            out[name] = plain_numbers(getattr(stroke, name))
    return out


# Strokes encoded between two calls of `pause` (see write_document).
STROKES_PER_CHUNK = 20


class StrokeTextCache:
    """Encoded strokes by identity, for a writer that saves the same drawing again and again (the
    autosave journal): strokes are immutable, so only the ones new since the last write are encoded.
    """

    def __init__(self) -> None:
        self._texts: dict[int, tuple[Stroke, str]] = {}

    def text(self, stroke: Stroke) -> str:
        hit = self._texts.get(id(stroke))
        if hit is not None and hit[0] is stroke:
            return hit[1]
        text = dumps(_stroke_json(stroke))
        self._texts[id(stroke)] = (stroke, text)   # the reference keeps the id from being reused
        return text

    def keep_only(self, strokes: Iterable[Stroke]) -> None:
        alive = {id(s) for s in strokes}
        for key in [k for k in self._texts if k not in alive]:
            del self._texts[key]


def write_document(file: BinaryIO, document: Document,
                   pause: Callable[[], None] | None = None,
                   cache: StrokeTextCache | None = None) -> None:
    """The document as compact JSON, written stroke by stroke.

    `pause` is called between chunks of strokes: a background writer passes `time.sleep(0)` so that
    encoding a large drawing never holds the interpreter lock long enough to stall the window.
    `cache` re-uses the encoding of strokes written before. The bytes are those of one
    `json.dumps` of the whole document.
    """
    encode = cache.text if cache is not None else (lambda s: dumps(_stroke_json(s)))
    try:
        check_written(document.sketch)
        check_value(document.model, '"model"')
        check_value(document.attribution, '"attribution"')
    except SketchError as exc:
        raise BadValue(str(exc)) from None
    try:
        head: dict[str, Any] = {"format": FORMAT_TAG, "version": VERSION,
                                "metadata": dict(document.sketch.metadata)}
        tail: dict[str, Any] = {}
        if document.model is not None:
            tail["model"] = document.model
        if document.attribution is not None:
            tail["attribution"] = document.attribution
        head_text, tail_text = dumps(head), dumps(tail)
    except BadValue as exc:
        raise BadValue(f"metadata or settings {exc}") from None
    file.write(head_text[:-1].encode("utf-8") + b',"strokes":[')
    strokes = document.sketch.strokes
    for start in range(0, len(strokes), STROKES_PER_CHUNK):
        if pause is not None and start:
            pause()
        chunk = ",".join(encode(s) for s in strokes[start:start + STROKES_PER_CHUNK])
        file.write((("," if start else "") + chunk).encode("utf-8"))
    file.write(b"]" + (b"," + tail_text[1:].encode("utf-8") if tail else b"}") + b"\n")
    if cache is not None:
        cache.keep_only(strokes)


def write(file: BinaryIO, sketch: Sketch) -> None:
    write_document(file, Document(sketch))
