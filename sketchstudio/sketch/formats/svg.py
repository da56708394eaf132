"""SVG import (polylines, polygons, lines, rects, circles, ellipses, paths) and export.

Import: the XML is parsed first by defusedxml, which refuses entity declarations (the "billion
laughs" bomb) and external references before anything else reads the file; geometry attributes are
checked strictly (svgelements silently skips garbage, which would drop parts of a drawing); then
svgelements applies transforms, resolves <use>, skips display:none and <defs>, and we flatten
curves and arcs into polylines. Every subpath that draws something is one stroke, in document order.

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

import io
import math
import re
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from svgelements import (SVG, Arc, Close, CubicBezier, Move, Path as SvgPath, QuadraticBezier,
                         Shape, SVGLexicalParser)

from ..core import Sketch, SketchError, Stroke
from .errors import SketchFileError
from .files import read_bytes
from .jsonvalues import BadValue, dumps, json_object, loads

NAME = "svg"
HOLDS_MANY = False
SVG_NS = "http://www.w3.org/2000/svg"
METADATA_ID = "sketchstudio-metadata"
LINE_ATTR = "data-sketchstudio-line"   # stamped on every element so later errors can name a line
FLATTEN_TOLERANCE = 1e-3               # curve flattening error, as a fraction of the drawing's size
MAX_POINTS_PER_CURVE = 1000

_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_LENGTH = re.compile(rf"\s*{_NUMBER}\s*(?:px|pt|pc|mm|cm|in|em|ex|%)?\s*|\s*auto\s*")
# Numbers in a list are separated by comma/space, or just by the sign or dot that starts the next
# one ("1-2", ".5.5"); requiring that keeps the pattern free of catastrophic backtracking.
_ANGLE = rf"{_NUMBER}(?:deg|grad|rad|turn)?"
_NUMBERS = rf"(?:{_ANGLE}(?:(?:\s*,\s*|\s+|(?=[-+.])){_ANGLE})*)?"
_TRANSFORM = re.compile(
    rf"\s*(?:(?:matrix|translate|scale|rotate|skewX|skewY)\s*\(\s*{_NUMBERS}\s*\)\s*,?\s*)*")
_LENGTH_ATTRS = ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "width", "height")
_SHAPES = {"path", "polyline", "polygon", "line", "rect", "circle", "ellipse"}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_xml(path: Path, data: bytes) -> ElementTree.Element:
    lines: dict[ElementTree.Element, int] = {}

    class LineRecorder(ElementTree.TreeBuilder):
        def start(self, tag, attrs):
            element = super().start(tag, attrs)
            lines[element] = parser.parser.CurrentLineNumber
            return element

    # A plain <!DOCTYPE> (older Inkscape/Illustrator) is harmless; entity declarations are not.
    parser = DefusedXMLParser(target=LineRecorder(), forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()
    except ElementTree.ParseError as exc:
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise SketchFileError(path, f"not well-formed XML: {reason} (column {exc.position[1]})",
                              exc.position[0]) from None
    except LookupError as exc:     # expat asks Python for the codec the declaration names
        raise SketchFileError(path, f"not readable XML: {exc}") from None
    except DefusedXmlException as exc:
        raise SketchFileError(path, "refused: the file declares XML entities or external "
                              f"references (a known attack on XML readers): {type(exc).__name__}",
                              parser.parser.CurrentLineNumber) from None
    for element, line in lines.items():
        element.set(LINE_ATTR, str(line))
    return root


def _check_path_data(data: str) -> None:
    # svgelements' own lexer, so that what we accept is exactly what it reads; it stops silently at
    # garbage, so whatever it leaves unread is the error.
    if not re.match(r"\s*[Mm]", data):
        raise ValueError("it must start with a moveto (M)")
    lexer = SVGLexicalParser()
    try:
        lexer.parse(SvgPath(), data)
    except Exception as exc:  # the lexer fails in many ways on garbage; all mean "malformed"
        raise ValueError("") from exc
    rest = data[lexer.pos:].strip()
    if rest:
        raise ValueError(f"unexpected {rest[:20]!r}")


def _check_geometry(path: Path, root: ElementTree.Element) -> None:
    for element in root.iter():
        tag = _local(element.tag)
        line = int(element.get(LINE_ATTR))
        where = f"<{tag}>" + (f' id="{element.get("id")}"' if element.get("id") else "")
        try:
            if tag == "path" and element.get("d", "").strip():
                _check_path_data(element.get("d"))
            elif tag in ("polyline", "polygon") and element.get("points", "").strip():
                # A point list reads exactly like the coordinates of an implicit "M x y x y ...".
                _check_path_data("M " + element.get("points"))
        except ValueError as exc:
            raise SketchFileError(path, f"{where} has malformed or truncated "
                                  f"{'path data' if tag == 'path' else 'points'}"
                                  + (f": {exc}" if str(exc) else ""), line) from None
        if tag in _SHAPES:
            for name in _LENGTH_ATTRS:
                value = element.get(name)
                if value is not None and not _LENGTH.fullmatch(value):
                    raise SketchFileError(path, f"{where} has a malformed {name}={value!r}", line)
        transform = element.get("transform")
        if transform is not None and not _TRANSFORM.fullmatch(transform):
            raise SketchFileError(path, f"{where} has a malformed transform={transform!r}", line)


def _metadata(path: Path, root: ElementTree.Element) -> dict:
    for element in root:
        if _local(element.tag) == "metadata" and element.get("id") == METADATA_ID:
            try:
                return json_object(loads(element.text or ""), "sketch metadata")
            except BadValue as exc:
                raise SketchFileError(path, f"<metadata>: {exc}",
                                      int(element.get(LINE_ATTR))) from None
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


def _subpaths(shape: Shape, tolerance: float) -> list[list[tuple[float, float]]]:
    """The point lists of the subpaths that draw something (a lone moveto draws nothing)."""
    drawn: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] | None = None
    start = None
    for segment in shape.segments():
        if isinstance(segment, Move):
            current, start = None, (segment.end.x, segment.end.y)
            continue
        if current is None:
            # First drawing command of a subpath (after a moveto, or continuing after a closepath).
            start = start if segment.start is None else (segment.start.x, segment.start.y)
            current = [start]
            drawn.append(current)
        if isinstance(segment, Close):
            if current[-1] != current[0]:
                current.append(current[0])
            current, start = None, current[0]
        elif isinstance(segment, (CubicBezier, QuadraticBezier, Arc)):
            current.extend(_flatten(segment, tolerance))
        else:
            current.append((segment.end.x, segment.end.y))
    return drawn


def _channel(shape: Shape, name: str, n: int) -> np.ndarray | None:
    text = shape.values.get("attributes", {}).get(f"data-{name}")
    try:
        values = np.array([float(v) for v in text.split()]) if text else None
    except ValueError:
        return None
    return values if values is not None and len(values) == n and np.isfinite(values).all() else None


def _strokes(path: Path, document: SVG) -> list[Stroke]:
    shapes = [e for e in document.elements() if isinstance(e, Shape)]
    corners = [(p.x, p.y) for shape in shapes for segment in shape.segments()
               for p in (segment.start, segment.end) if p is not None]
    extent = float(np.ptp(np.array(corners), axis=0).max()) if corners else 0.0
    tolerance = FLATTEN_TOLERANCE * extent if extent > 0 and np.isfinite(extent) else 1.0
    strokes = []
    for shape in shapes:
        line = shape.values.get("attributes", {}).get(LINE_ATTR)
        subpaths = _subpaths(shape, tolerance)
        for points in subpaths:
            try:
                if len(subpaths) == 1:
                    stroke = Stroke(points, _channel(shape, "pressure", len(points)),
                                    _channel(shape, "time", len(points)))
                else:
                    stroke = Stroke(points)
            except SketchError as exc:
                raise SketchFileError(path, f"<{_local(shape.values.get('tag'))}>: {exc}",
                                      int(line) if line else None) from None
            strokes.append(stroke)
    return strokes


def read(path: Path) -> Sketch:
    root = _parse_xml(path, read_bytes(path))
    if _local(root.tag) != "svg":
        raise SketchFileError(path, "not an SVG document (the root element is "
                              f"<{_local(root.tag)}>)")
    _check_geometry(path, root)
    metadata = _metadata(path, root)
    for name in ("width", "height", "viewBox"):
        root.attrib.pop(name, None)
    try:
        document = SVG.parse(io.BytesIO(ElementTree.tostring(root)), reify=True, on_error="raise")
        strokes = _strokes(path, document)
    except SketchFileError:
        raise
    except Exception as exc:  # svgelements on untrusted input: any failure is the file's fault
        raise SketchFileError(path, "cannot interpret the SVG: "
                              f"{type(exc).__name__}: {exc}") from None
    return Sketch(tuple(strokes), metadata)


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
        # ASCII-only JSON: XML cannot carry every character a string may hold (controls, ...).
        metadata = dumps(dict(sketch.metadata), ascii_only=True)
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
