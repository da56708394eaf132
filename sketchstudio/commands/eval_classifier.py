"""`sketchstudio eval classifier`: held-out top-1 / top-3 of a classifier on real drawings."""
from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("classifier", help="held-out top-1/top-3 of a classifier on Quick, Draw!")
    p.add_argument("--model", default="default", help="store id, card .toml or model folder")
    p.add_argument("--data", help="folder of Quick, Draw! simplified .ndjson files "
                                  "(default: $SKETCHSTUDIO_DATA or ../shared/data)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..models import load_model
    from ..training.evaluate import evaluate_model

    model = load_model(args.model, device=args.device)
    result = evaluate_model(model, args.data)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = result["per_category"]
    width = max(len(c) for c in rows)
    print(f"{'category':<{width}}  {'n':>3}  {'top-1':>5}  {'top-3':>5}")
    for name, r in sorted(rows.items(), key=lambda kv: (kv[1]["top1"], kv[0])):
        print(f"{name:<{width}}  {r['n']:>3}  {r['top1']:>5.2f}  {r['top3']:>5.2f}")
    print(f"\nmodel {result['model']}: {result['categories']} categories, {result['heldout']} "
          f"held-out drawings: top-1 {result['top1']:.3f}  top-3 {result['top3']:.3f}")
    if result.get("missing_categories"):
        print(f"no drawings for: {', '.join(result['missing_categories'])}")
    return 0
