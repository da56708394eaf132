"""`sketchstudio explain FILE`: per-stroke (and per-segment) attributions, as JSON or a heat PNG."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from ..errors import UserError
from ..explain.registry import all_methods, method_names
from ..sketch import Sketch


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("explain", help="attribute a model's decision to every stroke")
    p.add_argument("file", help="a sketch file (.ndjson, .npz, .svg, .json)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--index", type=int, default=0, help="drawing index in the file (default 0)")
    which.add_argument("--all", action="store_true", help="every drawing, streamed as JSON lines")
    p.add_argument("--model", default="default", help="model store id or path to a model card")
    p.add_argument("--method", default="sla", choices=method_names(),
                   help="attribution method (default: sla)")
    p.add_argument("--target",
                   help="class label or index to explain (default: the predicted class)")
    p.add_argument("--steps", type=int, help="integration steps for the methods that integrate "
                   f"({', '.join(m.name for m in all_methods() if m.uses_steps)})")
    p.add_argument("--objective", choices=("logit", "probability"), default="logit",
                   help="the classifier score that is attributed (default: logit)")
    p.add_argument("--json", action="store_true", help="one JSON object per drawing")
    p.add_argument("--out",
                   help="write a heat-coloured PNG (with --all: OUT gets _INDEX before .png)")
    p.set_defaults(run=run)


def _out_path(out: str, index: int, many: bool) -> Path:
    path = Path(out)
    return path.with_name(f"{path.stem}_{index}{path.suffix}") if many else path


def run(args) -> int:
    from ..explain import explain
    from ..explain.export import attribution_record
    from ..explain.heatimage import save_heat_png
    from ..models import load_model
    from ..sketch.io import iter_sketches, load_sketch

    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    if args.out and Path(args.out).suffix.lower() != ".png":
        raise UserError(f"--out must end in .png, got {args.out}")
    model = load_model(args.model, device=args.device)
    drawings: Iterable[tuple[int, Sketch]]
    if args.all:
        drawings = enumerate(iter_sketches(args.file))
    else:
        drawings = [(args.index, load_sketch(args.file, index=args.index))]
    for index, sketch in drawings:
        result = explain(sketch, model, method=args.method, target=args.target, steps=args.steps,
                         objective=args.objective)
        if args.out:
            save_heat_png(sketch, result, _out_path(args.out, index, args.all))
        if args.json:
            record = attribution_record(result, args.file, index)   # as the studio exports
            print(json.dumps(record), flush=True)
        else:
            _print_text(index, sketch, result)
    return 0


def _print_text(index: int, sketch, result) -> None:
    from ..textsafe import printable  # words and labels come from files: no raw controls

    word = sketch.metadata.get("word")
    head = f"drawing {index}" + (f" ({printable(word)})" if word else "")
    preds = ", ".join(f"{printable(label)} {prob:.2f}" for label, prob in result.prediction)
    print(f"{head}: {result.method} for target {result.target!r} in {result.elapsed_ms:.1f} ms")
    if preds:
        print(f"  prediction: {preds}")
    print(f"  score full {result.score_full:.4f}, blank {result.score_blank:.4f}")
    for k, value in enumerate(result.strokes):
        bar = "+" * min(20, int(round(abs(value) / (abs(result.strokes).max() or 1) * 20)))
        sign = "supports" if value > 0 else "against " if value < 0 else "neutral "
        print(f"  stroke {k:3d}  {value:+.5f}  {sign} {bar}")
    for note in result.notes:
        print(f"  note: {printable(note)}")
    sys.stdout.flush()
