"""`sketchstudio info FILE`: what a sketch file holds, as a table or as JSON."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..sketch import Sketch
from ..sketch.io import count_sketches, file_format, iter_sketches, load_sketch
from ..textsafe import printable


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "info", help="describe the drawings in a sketch file",
        description="Describe the drawings in a sketch file (.ndjson, .npz, .svg, .json): word, "
                    "strokes, points and bounding box of each.")
    p.add_argument("file", help="sketch file")
    p.add_argument("--index", type=int, metavar="N", help="describe only drawing N (0-based)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(run=run)


def describe(index: int, sketch: Sketch) -> dict[str, Any]:
    return {"index": index, "word": sketch.word, "strokes": len(sketch),
            "points": sketch.num_points, "bbox": list(sketch.bbox())}


def _table(rows: list[dict[str, Any]]) -> str:
    header = ["index", "word", "strokes", "points", "bbox"]
    # Words come from the file: escaped, so a word cannot move the cursor or forge a row.
    cells = [[str(r["index"]), "" if r["word"] is None else printable(r["word"]),
              str(r["strokes"]), str(r["points"]), " ".join(f"{v:g}" for v in r["bbox"])]
             for r in rows]
    widths = [max(len(c) for c in column) for column in zip(header, *cells, strict=True)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in [header, *cells])


def run(args: argparse.Namespace) -> int:
    if args.index is None:
        drawings = [describe(i, s) for i, s in enumerate(iter_sketches(args.file))]
        count = len(drawings)
    else:
        drawings = [describe(args.index, load_sketch(args.file, args.index))]
        count = count_sketches(args.file)
    fmt = file_format(args.file)
    if args.json:
        print(json.dumps({"format": fmt, "count": count, "drawings": drawings}))
    else:
        print(f"{printable(args.file)}: {fmt}, {count} drawing{'s' if count != 1 else ''}")
        print(_table(drawings))
    return 0
