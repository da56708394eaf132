"""What `assist` and `attack` share on the command line: arguments, checks before any model work."""
from __future__ import annotations

import math
from pathlib import Path

from ..errors import UserError
from ._args import add_sketch_arguments


def add_common(p, default_budget: float) -> None:
    add_sketch_arguments(p, "default")
    p.add_argument("--budget", type=float, default=default_budget,
                   help="largest move of any point, as a fraction of the longer side of the "
                        f"sketch's bounding box, in (0, 1] (default {default_budget})")
    p.add_argument("--out", help="write the edited sketch here (same strokes, same order, same "
                                 "number of points per stroke); any sketch format")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def check_common(args) -> None:
    """Reject bad arguments before loading anything, so a bad call never writes a file."""
    from ..sketch.io import file_format

    if not (math.isfinite(args.budget) and 0.0 < args.budget <= 1.0):
        raise UserError(f"--budget must be in (0, 1] (a fraction of the sketch's longer side), "
                        f"got {args.budget}")
    if args.index < 0:
        raise UserError(f"--index must be 0 or more, got {args.index}")
    if args.out:
        file_format(args.out)  # an unknown extension is a UserError now, not after the work
        if Path(args.out).resolve() == Path(args.file).resolve():
            raise UserError("--out must not be the input file (the input stays untouched)")


def load(args):
    from ..models import load_model
    from ..sketch.io import load_sketch

    sketch = load_sketch(args.file, index=args.index)
    model = load_model(args.model, device=args.device)
    return sketch, model


def save(args, sketch) -> None:
    if args.out:
        from ..sketch.io import save_sketch

        save_sketch(args.out, sketch)
