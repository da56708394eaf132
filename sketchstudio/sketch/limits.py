"""The largest drawing SketchStudio reads or writes, in every format (documented in
docs/reliability.md, "Limits on drawing size").

The file-size caps (formats/files.py, formats/stroke3.py) count bytes, but a few kilobytes can
describe millions of strokes (ten million one-point strokes in a 29 KB .npz took 6.6 GB), so every
reader also counts what it is about to build and refuses beyond these numbers, before allocating.
They sit far above real drawings: the Quick, Draw! raw sample in shared/data has at most 55 strokes
and 1,174 points per drawing, and the stress benchmark uses 1,000 strokes of about 30 points.
Writers refuse the same way, so that no file is written that its own reader would refuse.
"""
from __future__ import annotations

from .core import Sketch, SketchError

MAX_STROKES = 10_000          # strokes per drawing
MAX_POINTS = 100_000          # points per drawing, all strokes together
# Coordinates, in canvas units (Quick, Draw!: 0..255 simplified, a few thousand raw). Beyond this,
# differences of coordinates (stroke-3 offsets, a drawing's width when it is fitted to a picture)
# could overflow to infinity: a drawing at ±1e308 could be read but never saved as .npz.
MAX_COORDINATE = 1e9

# SVG is expanded by svgelements into Python objects (about 17 µs and a few hundred bytes per path
# command) and <use> can repeat a subtree any number of times, so its work is bounded before
# svgelements sees the file: elements plus path vertices, counted with every <use> expanded.
# Room for the largest drawing our own writer produces (one element per stroke, one vertex per
# point, a closepath per dot) and a little structure.
MAX_SVG_ITEMS = MAX_STROKES * 2 + MAX_POINTS + 1_000
MAX_SVG_DEPTH = 100                  # nesting of elements, <use> expanded (Inkscape: about 10)
# Attribute values other than path data, point lists and our per-point channels (which are read by
# linear parsers and bounded by MAX_POINTS). Real values are tens of characters; svgelements parses
# lengths, colours and transforms with regular expressions that are slow on long hostile strings.
MAX_SVG_ATTRIBUTE_CHARS = 1_000
MAX_SVG_STYLE_CHARS = 20_000         # all <style> sheets together (svgelements' CSS regex)
# A transform is re-parsed for every element below it (svgelements concatenates the chain), so the
# work is the sum over elements of the length of their whole transform chain.
MAX_SVG_TRANSFORM_WORK = 2_000_000   # characters

MAX_METADATA_DEPTH = 32              # nesting of lists and objects in a drawing's metadata


class TooLarge(SketchError):
    """A drawing beyond the limits above."""


def check_drawing_size(strokes: int, points: int) -> None:
    """Refuse a drawing over the limits; call it with the counts before building the strokes."""
    if strokes > MAX_STROKES:
        raise TooLarge(f"the drawing has {strokes:,} strokes, more than the limit of "
                       f"{MAX_STROKES:,} per drawing")
    if points > MAX_POINTS:
        raise TooLarge(f"the drawing has {points:,} points, more than the limit of "
                       f"{MAX_POINTS:,} per drawing")


def check_coordinates(sketch: Sketch) -> None:
    """Refuse coordinates beyond ±MAX_COORDINATE (from the strokes' cached bounding boxes)."""
    if not sketch.strokes:
        return
    x0, y0, x1, y1 = sketch.bbox()
    far = max(-x0, -y0, x1, y1)
    if far > MAX_COORDINATE:
        value = next(v for v in (x0, y0, x1, y1) if abs(v) == far)
        raise TooLarge(f"a coordinate is {value:g}, beyond the limit of ±{MAX_COORDINATE:g} "
                       "canvas units")
