"""`sketchstudio eval generation`: held-out pixel IoU of a completion generator vs output = input."""
from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser(
        "generation", help="held-out pixel IoU of a sketch-completion generator vs output = input",
        description="Each held-out drawing (the default classifier's split, every category) loses "
                    "its last strokes; the generator's image (ink > 0.5) is compared with the full "
                    "drawing's, and so is the input itself (the trivial completion).")
    p.add_argument("--model", default="default-generate", help="store id, card .toml or model folder")
    p.add_argument("--data", help="folder of Quick, Draw! simplified .ndjson files "
                                  "(default: $SKETCHSTUDIO_DATA or ../shared/data)")
    p.add_argument("--remove", type=float, nargs="+", default=None, metavar="F",
                   help="fraction of strokes removed from the end (rounded, at least one; "
                        "default 0.4); several values give one row each")
    p.add_argument("--categories", nargs="+", metavar="NAME", help="default: every category")
    p.add_argument("--limit", type=int, help="at most N held-out drawings (the first N)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..errors import UserError
    from ..models import load_model
    from ..tasks.generate import check_generator
    from ..training.completion import EVAL_REMOVE, evaluate_completion, heldout_drawings
    from ..training.data import resolve_data_dir

    fractions = args.remove or [EVAL_REMOVE]
    for f in fractions:
        if not 0.0 < f < 1.0:
            raise UserError(f"--remove must be a fraction in (0, 1), got {f}")
    model = load_model(args.model, device=args.device)
    check_generator(model)
    folder = resolve_data_dir(args.data)
    drawings = heldout_drawings(folder, args.categories)
    if args.limit:
        drawings = drawings[:args.limit]
    rows = [evaluate_completion(model, model.spec, drawings, remove=f) for f in fractions]
    if args.json:
        out = {"model": model.id, "data": str(folder), "heldout_drawings": len(drawings),
               "metric": "mean per-drawing pixel IoU of ink > 0.5 with the full drawing's raster",
               "baseline": "output = input (the partial drawing itself)", "results": rows}
        print(json.dumps(out, indent=2))
        return 0
    print(f"model {model.id}: {len(drawings)} held-out drawings, pixel IoU (ink > 0.5) with the "
          f"full drawing")
    print(f"{'removed':>8}  {'strokes':>7}  {'ink':>5}  {'n':>5}  {'model':>6}  {'input':>6}  "
          f"{'better':>6}  {'worse':>5}")
    for r in rows:
        print(f"{r['remove']:>8.2f}  {r['fraction_strokes_removed']:>7.3f}  "
              f"{r['fraction_ink_removed']:>5.3f}  {r['drawings']:>5}  {r['iou_model']:>6.3f}  "
              f"{r['iou_baseline']:>6.3f}  {r['model_better']:>6}  {r['model_worse']:>5}")
    print("removed: requested fraction of strokes taken from the end; strokes/ink: what was "
          "actually removed (mean); input: the trivial completion output = input")
    return 0
