"""`sketchstudio convert IN OUT`: between sketch formats or to PNG, formats by extension."""
from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..sketch import Sketch
from ..sketch.formats import FORMATS, format_for
from ..sketch.io import (
    file_format,
    iter_sketches,
    load_document,
    load_sketch,
    save_document,
    save_sketch,
    save_sketches,
)

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


def run(args: argparse.Namespace) -> int:
    suffix = Path(args.output).suffix.lower()
    if suffix != ".png" and suffix not in FORMATS:
        raise UserError(f"{args.output}: unknown output type {suffix or '(no extension)'!r}: use "
                        f"{', '.join([*FORMATS, '.png'])}")
    if suffix == ".png":
        _save_png(load_sketch(args.input, args.index or 0), args.output)
    elif format_for(args.output).HOLDS_MANY:
        sketches = (iter_sketches(args.input) if args.index is None
                    else [load_sketch(args.input, args.index)])
        save_sketches(args.output, sketches)
    else:
        document = load_document(args.input, args.index or 0)
        if file_format(args.output) == "json":
            save_document(args.output, document)   # keeps a .json input's model/attribution
        else:
            save_sketch(args.output, document.sketch)
    return 0
