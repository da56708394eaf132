"""`sketchstudio convert IN OUT`: between sketch formats or to PNG, formats by extension."""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..sketch import Sketch
from ..sketch import io as sketch_io
from ..sketch.formats import FORMATS, format_for

PNG_SIZE = 256


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "convert", help="convert a sketch file to another format or to PNG",
        description="Convert between .ndjson, .npz, .svg and .json (by extension), or export a "
                    "drawing as .png. Multi-drawing targets (.ndjson, .npz) get every drawing "
                    "unless --index is given; single-drawing targets (.svg, .json, .png) get "
                    "drawing --index (default 0).")
    p.add_argument("input", help="sketch file to read")
    p.add_argument("output", help="file to write; its extension picks the format")
    p.add_argument("--index", type=int, metavar="N", help="convert only drawing N (0-based)")
    p.add_argument("--skip-bad", action="store_true",
                   help="for a multi-drawing output: leave out drawings of the input that cannot "
                        "be read (each is reported on stderr with its line) instead of stopping")
    p.add_argument("--heat", metavar="ATTRIBUTIONS",
                   help="with a .png or .svg output: colour the drawing by an attribution record "
                        "(the JSON `sketchstudio explain --json` prints, or the studio's File > "
                        "Export attributions) and add the legend, as the studio's Export does")
    p.set_defaults(run=run)


def _save_png(sketch: Sketch, path: str) -> None:
    x0, y0, x1, y1 = sketch.bbox()
    if not math.isfinite(max(x1 - x0, y1 - y0)):
        # Fitting it to the picture would divide by infinity: an empty image, said to be fine.
        raise UserError(f"{path}: cannot draw the drawing: it spans more than the largest number "
                        "a float holds")
    try:
        # Imported here: the renderer needs torch, which no other conversion should pay for.
        from ..render import save_png
    except ImportError as exc:
        raise UserError(f"PNG export is not available: {exc}") from None
    save_png(sketch, path, size=PNG_SIZE)


def _readable_drawings(path: str) -> Iterator[Sketch]:
    """--skip-bad: the drawings that can be read; each one that cannot is one line on stderr."""
    def report(index: int, error: sketch_io.SketchFileError) -> None:
        print(f"sketchstudio convert: skipped drawing {index}: {error}", file=sys.stderr)

    for _index, sketch in sketch_io.iter_drawings(path, on_bad=report):
        yield sketch


def _save_heat(args: argparse.Namespace, suffix: str) -> int:
    """The drawing in its attribution's heat colours, through the studio's export routine."""
    from ..explain.export import check_fits, load_attribution
    from ..explain.heatimage import save_heat_png, save_heat_svg

    if suffix not in (".png", ".svg"):
        raise UserError(f"{args.output}: --heat draws a picture: the output must be .png or .svg")
    sketch = sketch_io.load_sketch(args.input, args.index or 0)
    result = load_attribution(args.heat, args.index or 0)
    check_fits(result, [len(s.points) for s in sketch.strokes], args.heat)
    (save_heat_png if suffix == ".png" else save_heat_svg)(sketch, result, args.output)
    return 0


def run(args: argparse.Namespace) -> int:
    suffix = Path(args.output).suffix.lower()
    if args.heat is not None:
        return _save_heat(args, suffix)
    if suffix != ".png" and suffix not in FORMATS:
        raise UserError(f"{args.output}: unknown output type {suffix or '(no extension)'!r}: use "
                        f"{', '.join([*FORMATS, '.png'])}")
    if suffix == ".png":
        _save_png(sketch_io.load_sketch(args.input, args.index or 0), args.output)
    elif format_for(args.output).HOLDS_MANY:
        sketches = (_readable_drawings(args.input) if args.index is None and args.skip_bad
                    else sketch_io.iter_sketches(args.input) if args.index is None
                    else [sketch_io.load_sketch(args.input, args.index)])
        sketch_io.save_sketches(args.output, sketches)
    else:
        document = sketch_io.load_document(args.input, args.index or 0)
        if sketch_io.file_format(args.output) == "json":
            # a .json target keeps a .json input's model and attribution
            sketch_io.save_document(args.output, document)
        else:
            sketch_io.save_sketch(args.output, document.sketch)
    return 0
