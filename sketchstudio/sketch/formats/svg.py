"""SVG import (polylines, polygons, lines, rects, circles, ellipses, paths) and export.

Import: the XML is parsed first by defusedxml, which refuses entity declarations (the "billion
laughs" bomb) and external references before anything else reads the file, and stops at the element
and nesting limits (sketch/limits.py); only encodings the XML parser reads byte by byte are
accepted. Then svgbounds.py keeps only the attributes we use, checks them strictly (svgelements
silently skips garbage, which would drop parts of a drawing) and bounds the work with every <use>
expanded; then svgelements applies transforms, resolves <use>, skips display:none and <defs>, and
we flatten curves and arcs into polylines, counting points and strokes against the limits. Every
subpath that draws something is one stroke, in document order.

Coordinates are the document's user units (the root viewBox space) rather than screen pixels: the
root's size and viewBox are ignored, so the numbers in the file are the numbers in the sketch and
our own files re-import exactly.

Export: one <path d="M x y L x y ..."> per stroke, every point a vertex, nothing curved, so a
re-import gives back the same strokes and points. A one-point stroke (a dot) is written "M x y Z",
which renders as a dot with round caps. Sketch metadata goes in <metadata> as JSON; per-point time
and pressure go in data-time / data-pressure attributes and are restored when they still match the
geometry (after an edit in another editor the geometry wins and they are dropped).
"""
from __future__ import annotations

import codecs
import functools
import io
import math
import re
import sys
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from svgelements import SVG, Arc, Close, CubicBezier, Move, QuadraticBezier, Shape

from ..core import Sketch, SketchError, Stroke
from ..limits import (
    MAX_POINTS,
    MAX_STROKES,
    MAX_SVG_DEPTH,
    MAX_SVG_ITEMS,
    check_coordinates,
    check_drawing_size,
)
from ..metadata import check_metadata, check_written
from . import svgbounds
from .errors import SketchFileError
from .files import read_bytes
from .jsonvalues import BadValue, dumps, json_object, loads
from .registry import FileFormat
from .svgbounds import LINE_ATTR, line_of
from .svgbounds import local as _local
from .watch import NO_WATCH, Cancelled, Watch

NAME = "svg"
HOLDS_MANY = False
# The registry entry (formats/registry.py): what dialogs and galleries show and accept.
FORMAT = FileFormat(NAME, "SVG", (".svg",), sys.modules[__name__])
SVG_NS = "http://www.w3.org/2000/svg"
METADATA_ID = "sketchstudio-metadata"
FLATTEN_TOLERANCE = 1e-3               # curve flattening error, as a fraction of the drawing's size
MAX_POINTS_PER_CURVE = 1000

# Encodings expat reads itself; any other is decoded by Python one byte at a time, which only works
# for single-byte encodings (for UTF-7, Shift-JIS, ... pyexpat raises an undocumented ValueError).
_EXPAT_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "iso-8859-1", "us-ascii"}
_DECLARED_ENCODING = re.compile(
    rb"""\s*+<\?xml\s[^>]{0,200}?\bencoding\s*+=\s*+["']([^"'>]{0,80})["']""")


@functools.lru_cache(maxsize=32)
def _encoding_problem(name: str) -> str | None:
    """Why the XML parser cannot read `name`, or None (the test pyexpat itself applies)."""
    if name.lower() in _EXPAT_ENCODINGS:
        return None
    try:
        codecs.lookup(name)
        decoded = bytes(range(256)).decode(name, "replace")
    except LookupError:
        return f"unknown encoding: {name}"
    except (ValueError, TypeError) as exc:   # codecs that are not text encodings, idna, ...
        return f"encoding {name!r} cannot be read as XML: {exc}"
    if len(decoded) != 256:
        return (f"the file declares the multi-byte encoding {name!r}, which the XML reader does "
                "not support: save it as UTF-8")
    return None


def _check_encoding(path: Path, data: bytes) -> None:
    match = _DECLARED_ENCODING.match(data[:400])
    if match:
        name = match.group(1).decode("ascii", "replace")
        problem = _encoding_problem(name)
        if problem:
            raise SketchFileError(path, f"not readable XML: {problem}", 1)


def _parse_xml(path: Path, data: bytes) -> ElementTree.Element:
    _check_encoding(path, data)
    lines: dict[ElementTree.Element, int] = {}
    depth = [0]

    class LineRecorder(ElementTree.TreeBuilder):
        # Counts as it goes: a 20 MB file of empty elements must stop here, not after building
        # millions of them (raised inside expat's callback, the error ends the parse).
        def start(self, tag: str, attrs: dict[str, str]) -> ElementTree.Element:
            line = parser.parser.CurrentLineNumber
            depth[0] += 1
            if depth[0] > MAX_SVG_DEPTH:
                raise SketchFileError(path, f"elements nest more than {MAX_SVG_DEPTH} levels deep "
                                      "(the limit)", line)
            if len(lines) >= MAX_SVG_ITEMS:
                raise SketchFileError(path, f"more than {MAX_SVG_ITEMS:,} elements (the limit)",
                                      line)
            element = super().start(tag, attrs)
            lines[element] = line
            return element

        def end(self, tag: str) -> ElementTree.Element:
            depth[0] -= 1
            return super().end(tag)

    # A plain <!DOCTYPE> (older Inkscape/Illustrator) is harmless; entity declarations are not.
    parser = DefusedXMLParser(target=LineRecorder(), forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()       # the TreeBuilder's root element (expat refuses an empty file)
    except ElementTree.ParseError as exc:
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise SketchFileError(path, f"not well-formed XML: {reason} (column {exc.position[1]})",
                              exc.position[0]) from None
    except DefusedXmlException as exc:
        raise SketchFileError(path, "refused: the file declares XML entities or external "
                              f"references (a known attack on XML readers): {type(exc).__name__}",
                              parser.parser.CurrentLineNumber) from None
    except (LookupError, ValueError) as exc:  # expat asks Python for the codec the file names
        raise SketchFileError(path, f"not readable XML: {exc}") from None
    if not isinstance(root, ElementTree.Element):     # defusedxml is untyped: say what we rely on
        raise SketchFileError(path, "not well-formed XML: no root element")
    for element, line in lines.items():
        element.set(LINE_ATTR, str(line))
    return root


def _metadata(path: Path, root: ElementTree.Element) -> dict[str, Any]:
    for element in root:
        if _local(element.tag) == "metadata" and element.get("id") == METADATA_ID:
            try:
                return check_metadata(json_object(loads(element.text or ""), "sketch metadata"))
            except (BadValue, SketchError) as exc:
                raise SketchFileError(path, f"<metadata>: {exc}", line_of(element)) from None
    return {}


def _flatten(segment: Any, tolerance: float) -> list[tuple[float, float]]:
    """Points after the start of a curve, within `tolerance` of it (Wang's formula)."""
    if isinstance(segment, Arc):
        return [p for cubic in segment.as_cubic_curves() for p in _flatten(cubic, tolerance)]
    if isinstance(segment, CubicBezier):
        p = np.array([segment.start, segment.control1, segment.control2, segment.end], dtype=float)
        second, degree_factor = max(np.hypot(*(p[0] - 2 * p[1] + p[2])),
                                    np.hypot(*(p[1] - 2 * p[2] + p[3]))), 0.75
    else:
        p = np.array([segment.start, segment.control, segment.end], dtype=float)
        second, degree_factor = np.hypot(*(p[0] - 2 * p[1] + p[2])), 0.25
    ratio = degree_factor * second / tolerance
    n = min(max(math.ceil(math.sqrt(ratio)), 1), MAX_POINTS_PER_CURVE) if np.isfinite(ratio) else 1
    return [tuple(q) for q in segment.npoint(np.linspace(0.0, 1.0, n + 1)[1:])]


class _Tally:
    """Strokes and points made so far: flattening multiplies points (up to MAX_POINTS_PER_CURVE a
    curve), so the limits are checked as they grow, not once at the end."""

    def __init__(self) -> None:
        self.strokes = self.points = 0

    def add(self, strokes: int, points: int) -> None:
        self.strokes += strokes
        self.points += points
        if self.strokes > MAX_STROKES or self.points > MAX_POINTS:
            check_drawing_size(self.strokes, self.points)


def _subpaths(shape: Shape, tolerance: float, tally: _Tally) -> list[list[tuple[float, float]]]:
    """The point lists of the subpaths that draw something (a lone moveto draws nothing)."""
    drawn: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] | None = None
    start: tuple[float, float] | None = None
    for segment in shape.segments():
        if isinstance(segment, Move):
            current, start = None, (segment.end.x, segment.end.y)
            continue
        if current is None:
            # First drawing command of a subpath (after a moveto, or continuing after a closepath).
            start = start if segment.start is None else (segment.start.x, segment.start.y)
            if start is None:
                raise SketchError("a subpath draws before any moveto gives it a start point")
            current = [start]
            drawn.append(current)
            tally.add(1, 1)
        before = len(current)
        if isinstance(segment, Close):
            if current[-1] != current[0]:
                current.append(current[0])
            start = current[0]
            current = None
        elif isinstance(segment, (CubicBezier, QuadraticBezier, Arc)):
            current.extend(_flatten(segment, tolerance))
        else:
            current.append((segment.end.x, segment.end.y))
        tally.add(0, len(drawn[-1]) - before)
    return drawn


_TOKEN = re.compile(r"\S++")


def _channel(shape: Shape, name: str, n: int) -> np.ndarray | None:
    text = shape.values.get("attributes", {}).get(f"data-{name}")
    if text and _TOKEN.subn("", text)[1] != n:   # counted before a float is made of each
        return None
    try:
        values = np.array([float(v) for v in text.split()]) if text else None
    except ValueError:
        return None
    return values if values is not None and len(values) == n and np.isfinite(values).all() else None


def _strokes(path: Path, document: SVG, watch: Watch) -> list[Stroke]:
    shapes = [e for e in document.elements() if isinstance(e, Shape)]
    corners = [(p.x, p.y) for shape in shapes for segment in shape.segments()
               for p in (segment.start, segment.end) if p is not None]
    with np.errstate(over="ignore"):      # far-apart points: an infinite extent, handled below
        extent = float(np.ptp(np.array(corners), axis=0).max()) if corners else 0.0
    tolerance = FLATTEN_TOLERANCE * extent if extent > 0 and np.isfinite(extent) else 1.0
    strokes = []
    tally = _Tally()
    for k, shape in enumerate(shapes):
        if k % 64 == 63:
            watch.step(0.7 + 0.3 * k / len(shapes))
        line = shape.values.get("attributes", {}).get(LINE_ATTR)
        try:
            subpaths = _subpaths(shape, tolerance, tally)
        except SketchError as exc:
            raise SketchFileError(path, str(exc), int(line) if line else None) from None
        for points in subpaths:
            try:
                if len(subpaths) == 1:
                    stroke = Stroke(np.array(points, dtype=np.float64),
                                    _channel(shape, "pressure", len(points)),
                                    _channel(shape, "time", len(points)))
                else:
                    stroke = Stroke(np.array(points, dtype=np.float64))
            except SketchError as exc:
                raise SketchFileError(path, f"<{_local(shape.values.get('tag'))}>: {exc}",
                                      int(line) if line else None) from None
            strokes.append(stroke)
    return strokes


def read(path: Path, watch: Watch = NO_WATCH) -> Sketch:
    root = _parse_xml(path, read_bytes(path))
    if _local(root.tag) != "svg":
        raise SketchFileError(path, "not an SVG document (the root element is "
                              f"<{_local(root.tag)}>)")
    for name in ("width", "height", "viewBox"):
        root.attrib.pop(name, None)
    watch.step(0.1)
    svgbounds.prepare(path, root)
    metadata = _metadata(path, root)
    # svgelements runs as one call (seconds at most, within the limits); cancel is checked around.
    watch.step(0.3)
    try:
        document = SVG.parse(io.BytesIO(ElementTree.tostring(root)), reify=True, on_error="raise")
        watch.step(0.7)
        strokes = _strokes(path, document, watch)
    except (SketchFileError, Cancelled):
        raise
    except Exception as exc:  # svgelements on untrusted input: any failure is the file's fault
        raise SketchFileError(path, "cannot interpret the SVG: "
                              f"{type(exc).__name__}: {exc}") from None
    sketch = Sketch(tuple(strokes), metadata)
    try:
        check_coordinates(sketch)
    except SketchError as exc:
        raise SketchFileError(path, str(exc)) from None
    return sketch


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 2 ** 53 else repr(float(value))


def _path_data(stroke: Stroke) -> str:
    coords = [f"{_number(x)} {_number(y)}" for x, y in stroke.points]
    if len(coords) == 1:
        return f"M {coords[0]} Z"
    return f"M {coords[0]} L " + " L ".join(coords[1:])


def write(file: BinaryIO, sketch: Sketch) -> None:
    x0, y0, x1, y1 = sketch.bbox() if sketch.strokes else (0.0, 0.0, 256.0, 256.0)
    size = max(x1 - x0, y1 - y0) or 1.0
    pad = size * 0.05   # room for the stroke width at the edges
    box = [x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad]
    root = ElementTree.Element("svg", {"xmlns": SVG_NS})
    if np.isfinite(box).all():   # coordinates near the float limit have no expressible viewport
        root.attrib.update(width=_number(box[2]), height=_number(box[3]),
                           viewBox=" ".join(_number(v) for v in box))
    try:
        check_written(sketch)
        # ASCII-only JSON: XML cannot carry every character a string may hold (controls, ...).
        metadata = dumps(dict(sketch.metadata), ascii_only=True)
    except SketchError as exc:
        raise BadValue(str(exc)) from None
    except BadValue as exc:
        raise BadValue(f"metadata {exc}") from None
    ElementTree.SubElement(root, "metadata", id=METADATA_ID).text = metadata
    group = ElementTree.SubElement(root, "g", {
        "fill": "none", "stroke": "black", "stroke-width": _number(min(size / 100, 1e300)),
        "stroke-linecap": "round", "stroke-linejoin": "round"})
    for stroke in sketch.strokes:
        element = ElementTree.SubElement(group, "path", d=_path_data(stroke))
        for name in ("pressure", "time"):
            if getattr(stroke, name) is not None:
                element.set(f"data-{name}", " ".join(_number(v) for v in getattr(stroke, name)))
    ElementTree.indent(root)
    file.write(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")
