"""`sketchstudio eval generation`: the default generator against trivial baselines, and the
pointing game of its region explanations.

A fill generator (card `[output] content = "filled-figure"`, like `default-generate`) is scored by
the filled-figure IoU (`training.fill_eval`); any other same-frame ink generator by the old
sketch-completion IoU (`training.completion`, `--remove`). Drawings: by default the held-out split
of the shared Quick, Draw! data (5 per category, never trained on); with `--data DIR`, every
drawing of every .ndjson file in DIR (raw or simplified, any number per category).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "generation", help="a generator's held-out score against trivial baselines, and the "
                           "pointing game of its region explanations",
        description="Fill generators: the filled-figure IoU of the model and of every trivial "
                    "baseline (input, input dilated, convex hull, bounding box, category mean), "
                    "and, per attribution method, how often the stroke with the largest "
                    "attribution for a filled region is one that encloses it.")
    p.add_argument("--model", default="default-generate",
                   help="store id, card .toml or model folder")
    p.add_argument("--data", metavar="DIR",
                   help="folder of Quick, Draw! .ndjson files (raw or simplified): every drawing "
                        "in it is evaluated (default: the held-out drawings of the shared data)")
    p.add_argument("--categories", nargs="+", metavar="NAME", help="only these categories")
    p.add_argument("--limit", type=int, help="at most N drawings (the first N)")
    p.add_argument("--pointing", choices=("all", "none"), default="all",
                   help="run the pointing game (default) or skip it")
    p.add_argument("--pointing-per-category", type=int, default=1, metavar="N",
                   help="pointing game on the first N drawings with an enclosed region in each "
                        "category (default 1; 0: every drawing)")
    p.add_argument("--methods", nargs="+", metavar="METHOD",
                   help="pointing game methods (default: sla sla-grad occlusion live)")
    p.add_argument("--remove", type=float, nargs="+", default=None, metavar="F",
                   help="completion generators only: fraction of strokes removed from the end")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def load_folder(folder: Path, categories: list[str] | None = None) -> list[tuple[str, Any]]:
    """(category, drawing) for every drawing of every .ndjson file in `folder`, files in name
    order; the category is the file's stem."""
    from ..sketch.io import SketchFileError, iter_sketches

    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder (expected Quick, Draw! .ndjson files)")
    files = sorted(folder.glob("*.ndjson"))
    if categories:
        wanted = set(categories)
        missing = wanted - {f.stem for f in files}
        if missing:
            raise UserError(f"{folder}: no .ndjson file for {', '.join(sorted(missing))}")
        files = [f for f in files if f.stem in wanted]
    if not files:
        raise UserError(f"{folder}: no .ndjson files")
    drawings: list[tuple[str, Any]] = []
    for path in files:
        try:
            drawings.extend((path.stem, s) for s in iter_sketches(path) if len(s))
        except SketchFileError as exc:
            raise UserError(str(exc)) from None
    if not drawings:
        raise UserError(f"{folder}: the .ndjson files hold no drawing with a stroke")
    return drawings


def _heldout(categories: list[str] | None) -> tuple[list[tuple[str, Any]], dict, Path]:
    from ..training.data import (
        HELDOUT_PER_CATEGORY,
        available_categories,
        load_category,
        resolve_data_dir,
        split,
    )

    folder = resolve_data_dir(None)
    names = categories or available_categories(folder)
    drawings: list[tuple[str, Any]] = []
    train: dict[str, list[Any]] = {}
    for c in names:
        s = split(load_category(folder, c), HELDOUT_PER_CATEGORY)
        drawings.extend((c, d) for d in s.heldout)
        train[c] = list(s.train)
    return drawings, train, folder


def run(args) -> int:
    from ..models import load_model
    from ..tasks.generate import check_generator, output_card

    model = load_model(args.model, device=args.device)
    check_generator(model)
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    if args.data:
        folder = Path(args.data).expanduser()
        drawings, train = load_folder(folder, args.categories), None
        source = str(folder)
    else:
        drawings, train, folder = _heldout(args.categories)
        source = f"held-out split of {folder} (5 per category, never trained on)"
    if args.limit:
        drawings = drawings[:args.limit]
    if output_card(model).get("content") != "filled-figure":
        return _run_completion(args, model, drawings, source)
    from ..training.fill_eval import (
        POINTING_METHODS,
        category_means,
        evaluate_fill,
        pointing_cases,
        pointing_game,
    )

    means = category_means(train, model.spec) if train else None
    out = {"model_id": model.id, "data": source, **evaluate_fill(model, drawings, means)}
    if args.pointing == "all":
        methods = args.methods or list(POINTING_METHODS)
        if args.pointing_per_category < 0:
            raise UserError(f"--pointing-per-category must be 0 or more, got "
                            f"{args.pointing_per_category}")
        cases = pointing_cases(drawings, model.spec, args.pointing_per_category)
        out["pointing"] = pointing_game(model, cases, methods)
        which = ("all of them" if not args.pointing_per_category
                 else f"the first {args.pointing_per_category} of each category")
        out["pointing_help"] = (
            f"per method, over drawings with 2+ strokes and an enclosed region of 8+ pixels "
            f"({which}): the "
            "objective is the mean output over the largest enclosed region; hit_rate = share of "
            "drawings where the stroke with the largest attribution touches that region (closes "
            "it); random_stroke_hit_rate = the same for a stroke picked at random")
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    _print_fill(out)
    return 0


def _print_fill(out: dict) -> None:
    print(f"model {out['model_id']}: {out['drawings']} drawings from {out['data']}")
    print(f"{out['metric']} (higher is better): model {out['model']:.4f}")
    for name, score in out["baselines"].items():
        gain = out["model"] / score - 1.0 if score > 0 else float("inf")
        print(f"  baseline {name:<20} {score:.4f}   model {gain:+.1%}")
    if "pointing" in out:
        print("pointing game (the top stroke encloses the explained region):")
        for method, r in out["pointing"].items():
            print(f"  {method:<10} {r['hit_rate']:.1%} of {r['cases']} cases "
                  f"(random stroke {r['random_stroke_hit_rate']:.1%}; share of positive "
                  f"attribution on enclosing strokes {r['share_on_closing_strokes']})")


def _run_completion(args, model, drawings, source: str) -> int:
    from ..training.completion import EVAL_REMOVE, evaluate_completion

    fractions = args.remove or [EVAL_REMOVE]
    for f in fractions:
        if not 0.0 < f < 1.0:
            raise UserError(f"--remove must be a fraction in (0, 1), got {f}")
    sketches = [s for _, s in drawings]
    rows = [evaluate_completion(model, model.spec, sketches, remove=f) for f in fractions]
    out = {"model_id": model.id, "data": source, "drawings": len(sketches),
           "metric": f"completion pixel IoU (ink > 0.5) at {fractions[0]:g} of strokes removed",
           "higher_is_better": True, "model": rows[0]["iou_model"],
           "baselines": {"input": rows[0]["iou_baseline"]}, "results": rows}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"model {model.id}: {len(sketches)} drawings, pixel IoU (ink > 0.5) with the full "
          "drawing")
    for r in rows:
        print(f"  removed {r['remove']:.2f}: model {r['iou_model']:.3f}  input "
              f"{r['iou_baseline']:.3f}  ({r['drawings']} drawings)")
    return 0
