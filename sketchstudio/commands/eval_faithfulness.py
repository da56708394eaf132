"""`sketchstudio eval faithfulness DATA`: deletion / insertion AUC of every method on real drawings."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..explain import METHODS
from ..explain.methods import DEFAULT_QUADRATURE
from ..explain.quadrature import RULES


def add_parser(sub) -> None:
    p = sub.add_parser("faithfulness", help="deletion/insertion AUC per attribution method")
    p.add_argument("data", help="an .ndjson file or a folder of them (e.g. ../shared/data/quickdraw/simplified)")
    p.add_argument("--model", default="default")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--limit", type=int, default=200, help="number of drawings (default 200)")
    p.add_argument("--steps", type=int, help="integration steps for sla / psla")
    p.add_argument("--quadrature", default=DEFAULT_QUADRATURE, choices=RULES)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def pick_drawings(data: str | Path, labels, limit: int):
    """Round-robin over the files of the model's categories (all files if none match)."""
    from ..sketch.io import iter_sketches

    path = Path(data)
    if path.is_dir():
        files = sorted(path.glob("*.ndjson"))
        own = [f for f in files if f.stem in set(labels)]
        files = own or files
    elif path.exists():
        files = [path]
    else:
        raise UserError(f"{data}: no such file or folder")
    if not files:
        raise UserError(f"{data}: no .ndjson files")
    iterators = [iter(iter_sketches(f)) for f in files]
    picked = []
    while iterators and len(picked) < limit:
        for it in list(iterators):
            sketch = next(it, None)
            if sketch is None:
                iterators.remove(it)
            elif len(picked) < limit:
                picked.append(sketch)
    return picked


def evaluate(model, sketches, methods, steps=None, quadrature=DEFAULT_QUADRATURE, progress=None) -> dict:
    from ..explain import explain
    from ..explain.faithfulness import curves, order_by, random_curves

    rows = {m: {"deletion": [], "insertion": [], "completeness": [], "ms": []} for m in methods}
    rows["random"] = {"deletion": [], "insertion": []}
    for i, sketch in enumerate(sketches):
        target = None
        for method in methods:
            r = explain(sketch, model, method=method, target=target, steps=steps, quadrature=quadrature)
            target = r.target_index  # every method explains the same class
            c = curves(sketch, model, r.target_index, order_by(r.strokes))
            row = rows[method]
            row["deletion"].append(c.deletion_auc)
            row["insertion"].append(c.insertion_auc)
            row["completeness"].append(r.completeness_error if len(sketch) else 0.0)
            row["ms"].append(r.elapsed_ms)
        rc = random_curves(sketch, model, target)
        rows["random"]["deletion"].append(rc.deletion_auc)
        rows["random"]["insertion"].append(rc.insertion_auc)
        if progress:
            progress(i + 1, len(sketches))
    summary = {}
    for name, row in rows.items():
        entry = {"deletion_auc": float(np.mean(row["deletion"])),
                 "insertion_auc": float(np.mean(row["insertion"]))}
        if name != "random":
            entry.update(completeness_error_median=float(np.median(row["completeness"])),
                         median_ms=float(np.median(row["ms"])), mean_ms=float(np.mean(row["ms"])),
                         p90_ms=float(np.percentile(row["ms"], 90)))
        summary[name] = entry
    return summary


def run(args) -> int:
    import sys

    from ..models import load_model

    if args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    model = load_model(args.model, device=args.device)
    sketches = pick_drawings(args.data, model.labels, args.limit)
    show = (lambda i, n: print(f"\r{i}/{n} drawings", end="", file=sys.stderr, flush=True))
    summary = evaluate(model, sketches, args.methods, args.steps, args.quadrature,
                       progress=None if args.json else show)
    if args.json:
        print(json.dumps({"model": model.id, "sketches": len(sketches), "methods": summary}))
        return 0
    print(f"\n{len(sketches)} drawings, model {model.id}")
    print(f"{'method':<12} {'deletion AUC':>13} {'insertion AUC':>14} {'compl. err':>11} {'median ms':>10}")
    for name, e in summary.items():
        extra = (f"{e['completeness_error_median']:>11.4f} {e['median_ms']:>10.1f}"
                 if "median_ms" in e else "")
        print(f"{name:<12} {e['deletion_auc']:>13.3f} {e['insertion_auc']:>14.3f} {extra}")
    print("(deletion: lower is better; insertion: higher is better)")
    return 0
