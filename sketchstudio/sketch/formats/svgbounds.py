"""What svgelements may see of an untrusted SVG: only attributes we use, checked, with bounded work.

svgelements expands <use> (any number of times, recursively), parses colours, lengths, transforms
and CSS with regular expressions that backtrack badly on long hostile strings (a 2,000-character
`fill="rgb(111..."` costs 0.7 s per element that inherits it), and builds a Python object per path
command. So before it runs, on the tree defusedxml parsed:

1. every attribute SketchStudio does not use (colours, fonts, opacity, clip paths, foreign
   namespaces, ...) is removed, and so is every <style> declaration other than display, transform
   and geometry; what is kept is checked by patterns that run in linear time (possessive
   quantifiers: no backtracking) and limited in length;
2. the work is counted with every <use> expanded, following references as svgelements does (an id
   names the last element that has it; `href` wins over `xlink:href`; a reference to itself or an
   ancestor is refused): elements plus path vertices, nesting depth, transform characters parsed
   (each element re-parses its whole transform chain) and style-sheet characters;
3. only then are path data and point lists lexed (by svgelements' own lexer, so what we accept is
   exactly what it reads, into a counter rather than a path), and the work is counted again with
   the exact number of path segments (the first count estimates them from the numbers, which is
   off by up to a factor of two for "H1 H1 ...").

Each refusal is one line naming the element and its line. Limits: sketch/limits.py.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

from svgelements import SVGLexicalParser

from ..limits import (
    MAX_SVG_ATTRIBUTE_CHARS,
    MAX_SVG_DEPTH,
    MAX_SVG_ITEMS,
    MAX_SVG_STYLE_CHARS,
    MAX_SVG_TRANSFORM_WORK,
)
from .errors import SketchFileError

LINE_ATTR = "data-sketchstudio-line"   # stamped on every element so that errors can name a line
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

# Possessive quantifiers (Python 3.11+): a number is matched one way only, so a failing match
# costs linear time whatever the string (the old patterns took 33 s on 16 KB).
_NUMBER = r"[-+]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][-+]?+[0-9]++)?+"
_LENGTH = re.compile(rf"\s*+(?:{_NUMBER}(?:px|pt|pc|mm|cm|in|em|ex|%)?+|auto)\s*+")
# Transform arguments may carry units, as svgelements reads them (CSS transforms: "10px", "30deg").
_ARGUMENT = rf"{_NUMBER}(?:deg|grad|rad|turn|px|pt|pc|mm|cm|in|em|ex|%)?+"
# Numbers in a list are separated by comma/space, or just by the sign or dot that starts the next
# one ("1-2", ".5.5").
_SEPARATOR = r"(?:\s*+,\s*+|\s++|(?=[-+.]))"
_ARGUMENTS = rf"(?:{_ARGUMENT}(?:{_SEPARATOR}{_ARGUMENT})*+)?+"
_FUNCTION = rf"(?:matrix|translate|scale|rotate|skewX|skewY)\s*+\(\s*+{_ARGUMENTS}\s*+\)"
_TRANSFORM = re.compile(rf"\s*+(?:{_FUNCTION}(?:\s*+,?+\s*+{_FUNCTION})*+)?+\s*+")
_VIEWBOX = re.compile(rf"\s*+(?:{_NUMBER}(?:{_SEPARATOR}{_NUMBER}){{3}}|none)\s*+")
_WORDS = re.compile(r"\s*+[A-Za-z-]++(?:\s++[A-Za-z-]++)*+\s*+")
_NUMBER_TOKEN = re.compile(r"(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][-+]?+[0-9]++)?+")

LENGTH_ATTRS = ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "width", "height")
# What svgelements needs for geometry; everything else is removed before it parses the tree.
_CHECKED = {**{name: _LENGTH for name in LENGTH_ATTRS}, "transform": _TRANSFORM,
            "display": _WORDS, "viewBox": _VIEWBOX, "preserveAspectRatio": _WORDS}
_PLAIN = {"id", "class"}                              # used as names only, never parsed
_GEOMETRY = {"d", "points"}                           # lexed after the budget is counted
_CHANNELS = {"data-pressure", "data-time"}            # our own, parsed only if the counts match
_STYLE_KEYS = set(_CHECKED)                           # what <style> and style="" may set
SHAPES = {"path", "polyline", "polygon", "line", "rect", "circle", "ellipse"}
# Lengths are kept where svgelements uses them for geometry; elsewhere (<g>, <text>, ...) they mean
# nothing to us, and svgelements would pass them down to the children as if they were inherited.
_SIZED = SHAPES | {"use", "svg", "symbol"}


def local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def line_of(element: ElementTree.Element) -> int | None:
    line = element.get(LINE_ATTR)
    return int(line) if line else None


def _where(element: ElementTree.Element) -> str:
    ident = element.get("id")
    return f"<{local(element.tag)}>" + (f' id="{ident[:40]}"' if ident else "")


def _quote(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _declarations(text: str) -> Iterator[tuple[str, str]]:
    """`key: value` pairs of a CSS declaration list, split exactly as svgelements splits them."""
    for item in text.split(";"):
        parts = item.split(":")
        if len(parts) == 2:
            yield parts[0].strip(), parts[1].strip()


def _check_value(path: Path, element: ElementTree.Element, name: str, value: str,
                 where: str = "") -> None:
    if len(value) > MAX_SVG_ATTRIBUTE_CHARS:
        raise SketchFileError(path, f"{_where(element)} has {where}{name}=... of {len(value):,} "
                              f"characters, more than the limit of {MAX_SVG_ATTRIBUTE_CHARS:,}",
                              line_of(element))
    pattern = _CHECKED.get(name)
    if pattern is not None and not pattern.fullmatch(value):
        raise SketchFileError(path, f"{_where(element)} has a malformed {where}{name}="
                              f"{_quote(value)}", line_of(element))


def _kept_style(path: Path, element: ElementTree.Element, text: str, where: str) -> str:
    kept = []
    for key, value in _declarations(text):
        if key in _STYLE_KEYS:
            _check_value(path, element, key, value, where)
            kept.append(f"{key}:{value}")
    return ";".join(kept)


def _rewrite_sheet(path: Path, element: ElementTree.Element) -> tuple[str, int]:
    """A <style> sheet with only the declarations we keep; (text, characters of transforms)."""
    text, out, transforms = _strip_comments(element.text or ""), [], 0
    position = 0
    while True:
        start = text.find("{", position)
        end = text.find("}", start + 1) if start >= 0 else -1
        if end < 0:
            break
        selector, body, position = text[position:start].strip(), text[start + 1:end], end + 1
        if not selector or "}" in selector:
            continue                     # malformed CSS: svgelements would not apply it either
        kept = _kept_style(path, element, body, "<style> declaration ")
        if kept:
            out.append(f"{selector}{{{kept}}}")
            transforms += sum(len(v) for k, v in _declarations(kept) if k == "transform")
    return "\n".join(out), transforms


def _strip_comments(text: str) -> str:
    """Without /* ... */ and // comments (as svgelements strips them), in linear time."""
    parts, position = [], 0
    while True:
        block, line = text.find("/*", position), text.find("//", position)
        if block < 0 and line < 0:
            parts.append(text[position:])
            return "".join(parts)
        if line < 0 or 0 <= block < line:
            end = text.find("*/", block + 2)
            if end < 0:
                parts.append(text[position:])
                return "".join(parts)
            parts.append(text[position:block])
            position = end + 2
        else:
            end = text.find("\n", line)
            parts.append(text[position:line])
            if end < 0:
                return "".join(parts)
            position = end


def _vertices(text: str) -> int:
    """Path vertices a `d` or `points` value can make, counted without building anything: a vertex
    per two numbers (arcs and curves count more numbers than vertices), one per closepath."""
    numbers = _NUMBER_TOKEN.subn("", text)[1]
    return (numbers + 1) // 2 + text.count("z") + text.count("Z")


class _Counts:
    """Per element, with every <use> below it expanded."""

    __slots__ = ("items", "elements", "depth", "transform_work", "sheet_chars", "css_transforms",
                 "_own_transform")

    def __init__(self, items: int, transform: int, sheet: int, css_transforms: int) -> None:
        self.items, self.elements, self.depth = items, 1, 1
        self.transform_work, self.sheet_chars, self.css_transforms = 0, sheet, css_transforms
        self._own_transform = transform

    def add(self, child: _Counts) -> None:
        self.items += child.items
        self.elements += child.elements
        self.depth = max(self.depth, child.depth + 1)
        self.transform_work += child.transform_work
        self.sheet_chars += child.sheet_chars
        self.css_transforms += child.css_transforms

    def close(self) -> None:
        # The element's own transform is re-parsed by every element expanded below it.
        self.transform_work += self._own_transform * self.elements


def _reference(element: ElementTree.Element) -> str | None:
    url = element.get("href", element.get(XLINK_HREF))
    return None if url is None else url[1:]     # svgelements drops the first character ("#")


def prepare(path: Path, root: ElementTree.Element) -> None:
    """Filter and check `root` in place for svgelements, or raise SketchFileError (one line)."""
    own: dict[ElementTree.Element, tuple[int, int, int, int]] = {}
    ids: dict[str, ElementTree.Element] = {}
    for element in root.iter():
        tag = local(element.tag)
        if not isinstance(element.tag, str):
            continue                         # comments and processing instructions
        transform = sheet = css_transforms = 0
        for name in list(element.attrib):
            value = element.attrib[name]
            if name == LINE_ATTR or name in _GEOMETRY or name in _CHANNELS:
                continue
            if name in ("href", XLINK_HREF) and tag == "use":
                _check_value(path, element, "href", value)
            elif name == "style":
                kept = _kept_style(path, element, value, "style ")
                if kept:
                    element.set("style", kept)
                    transform += sum(len(v) for k, v in _declarations(kept) if k == "transform")
                else:
                    del element.attrib["style"]
            elif name in LENGTH_ATTRS and tag not in _SIZED:
                del element.attrib[name]
            elif name in _CHECKED or name in _PLAIN:
                _check_value(path, element, name, value)
                transform += len(value) if name == "transform" else 0
            else:
                del element.attrib[name]
        if tag == "use" and ("x" in element.attrib or "y" in element.attrib):
            transform += 32       # svgelements adds translate(x, y) to the <use>'s transform
        if tag == "style":
            text, css_transforms = _rewrite_sheet(path, element)
            element.text, sheet = text, len(text)
        items = 1
        for name in _GEOMETRY:
            if geometry := element.get(name):
                items += _vertices(geometry)
        if items > MAX_SVG_ITEMS:
            _too_many(path, element)
        own[element] = (items, transform, sheet, css_transforms)
        element_id = element.get("id")
        if element_id is not None:
            ids[element_id] = element                 # the last element with an id wins
    _count_expanded(path, root, own, ids)
    for element, segments in _check_geometry(path, root).items():
        own[element] = (1 + segments, *own[element][1:])
    _count_expanded(path, root, own, ids)


def _too_many(path: Path, element: ElementTree.Element) -> None:
    raise SketchFileError(path, f"{_where(element)} makes the drawing more than "
                          f"{MAX_SVG_ITEMS:,} elements and path vertices (the limit, counted "
                          "with every <use> expanded)", line_of(element))


def _count_expanded(path: Path, root: ElementTree.Element,
                    own: dict[ElementTree.Element, tuple[int, int, int, int]],
                    ids: dict[str, ElementTree.Element]) -> None:
    """Post-order walk of the tree plus <use> references, each element counted once (memoised)."""
    done: dict[ElementTree.Element, _Counts] = {}
    open_: set[ElementTree.Element] = set()

    def edges(element: ElementTree.Element) -> list[ElementTree.Element]:
        out = [child for child in element if child in own]
        if local(element.tag) == "use":
            reference = _reference(element)
            target = None if reference is None else ids.get(reference)
            if target is not None:
                if target in open_:
                    raise SketchFileError(path, f"{_where(element)} refers to itself or to an "
                                          "element that contains it (endless <use>)",
                                          line_of(element))
                out.append(target)
        return out

    open_.add(root)
    stack = [(root, iter(edges(root)), _Counts(*own[root]))]
    while stack:
        element, pending, counts = stack[-1]
        child = next(pending, None)
        if child is None:
            stack.pop()
            open_.discard(element)
            counts.close()
            if counts.items > MAX_SVG_ITEMS:
                _too_many(path, element)
            if counts.depth > MAX_SVG_DEPTH:
                raise SketchFileError(path, f"{_where(element)} nests more than "
                                      f"{MAX_SVG_DEPTH} levels deep (the limit, counted with "
                                      "every <use> expanded)", line_of(element))
            if counts.transform_work > MAX_SVG_TRANSFORM_WORK:
                raise SketchFileError(path, f"{_where(element)} has transforms that would be "
                                      f"parsed more than {MAX_SVG_TRANSFORM_WORK:,} characters' "
                                      "worth (the limit: each element re-reads the transforms of "
                                      "all its ancestors)", line_of(element))
            if counts.sheet_chars > MAX_SVG_STYLE_CHARS:
                raise SketchFileError(path, f"<style> sheets hold more than "
                                      f"{MAX_SVG_STYLE_CHARS:,} characters of declarations that "
                                      "apply to geometry (the limit, counted with every <use> "
                                      "expanded)", line_of(element))
            done[element] = counts
            if stack:
                stack[-1][2].add(counts)
            continue
        if child in done:
            counts.add(done[child])
            continue
        if child in open_:     # cannot happen (references are checked when the user is reached)
            raise SketchFileError(path, "endless <use> references", line_of(child))
        open_.add(child)
        stack.append((child, iter(edges(child)), _Counts(*own[child])))
    total = done[root]
    # A transform in a style sheet may apply to every element.
    if total.transform_work + total.css_transforms * total.elements > MAX_SVG_TRANSFORM_WORK:
        raise SketchFileError(path, f"<style> transforms would be parsed more than "
                              f"{MAX_SVG_TRANSFORM_WORK:,} characters' worth (the limit)")


class _SegmentCounter:
    """What svgelements' lexer drives instead of a Path: it counts segments and builds nothing
    (building them is most of the cost, and svgelements builds them again later)."""

    current_point = None      # relative coordinates then read as absolute: only counted here

    def __init__(self) -> None:
        self.segments = 0

    def start(self) -> None:
        pass

    def end(self) -> None:
        pass

    def _segment(self, *args: object, **kwargs: object) -> None:
        self.segments += 1

    move = line = horizontal = vertical = closed = _segment
    cubic = smooth_cubic = quad = smooth_quad = arc = _segment


def _check_path_data(data: str) -> int:
    """Segments in path data, or ValueError. svgelements' own lexer, so that what we accept is
    exactly what it reads; it stops silently at garbage, so what it leaves unread is the error."""
    if not re.match(r"\s*+[Mm]", data):
        raise ValueError("it must start with a moveto (M)")
    lexer, counter = SVGLexicalParser(), _SegmentCounter()
    try:
        lexer.parse(counter, data)
    except Exception as exc:  # the lexer fails in many ways on garbage; all mean "malformed"
        raise ValueError("") from exc
    rest = data[lexer.pos:].strip()
    if rest:
        raise ValueError(f"unexpected {rest[:20]!r}")
    return counter.segments


def _check_geometry(path: Path, root: ElementTree.Element) -> dict[ElementTree.Element, int]:
    """Path data and point lists, strictly (svgelements silently skips garbage, which would drop
    parts of a drawing); the segments of each."""
    segments: dict[ElementTree.Element, int] = {}
    for element in root.iter():
        tag = local(element.tag)
        try:
            if tag == "path":
                data = element.get("d", "")
                if data.strip():
                    segments[element] = _check_path_data(data)
            elif tag in ("polyline", "polygon"):
                points = element.get("points", "")
                if points.strip():
                    # A point list reads exactly like the coordinates of an implicit "M x y ...".
                    segments[element] = _check_path_data("M " + points)
        except ValueError as exc:
            raise SketchFileError(path, f"{_where(element)} has malformed or truncated "
                                  f"{'path data' if tag == 'path' else 'points'}"
                                  + (f": {exc}" if str(exc) else ""), line_of(element)) from None
    return segments
