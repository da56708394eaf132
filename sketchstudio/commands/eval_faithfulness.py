"""`sketchstudio eval faithfulness DATA`: deletion / insertion AUC of every method on real
drawings."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..explain.quadrature import DEFAULT_QUADRATURE, RULES
from ..explain.registry import method_names
from ..sketch import Sketch


def add_parser(sub) -> None:
    p = sub.add_parser("faithfulness", help="deletion/insertion AUC per attribution method")
    p.add_argument("data", help="an .ndjson file or a folder of them "
                                "(e.g. ../shared/data/quickdraw/simplified)")
    p.add_argument("--model", default="default")
    p.add_argument("--methods", nargs="+", default=list(method_names()),
                   choices=method_names())
    p.add_argument("--limit", type=int, default=200, help="number of drawings (default 200)")
    p.add_argument("--steps", type=int, help="integration steps for sla / psla")
    p.add_argument("--quadrature", default=DEFAULT_QUADRATURE, choices=RULES)
    p.add_argument("--no-randomisation", action="store_true",
                   help="skip the model-parameter randomisation check (halves the time)")
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
    picked: list[Sketch] = []
    while iterators and len(picked) < limit:
        for it in list(iterators):
            sketch = next(it, None)
            if sketch is None:
                iterators.remove(it)
            elif len(picked) < limit:
                picked.append(sketch)
    return picked


def evaluate(model, sketches, methods, steps=None, quadrature=DEFAULT_QUADRATURE, progress=None,
             randomisation: bool = True) -> dict:
    """Per method: deletion and insertion AUC, completeness, sign agreement with exact occlusion on
    strong strokes, time, and Adebayo et al.'s model-parameter randomisation check: the same method
    on a re-initialised copy of the model, compared by rank correlation with the real attributions
    (drawings of 3+ strokes) and by the real model's deletion AUC in the copy's stroke order.
    Every method explains the same class."""
    from ..explain import explain
    from ..explain.faithfulness import (
        curves,
        order_by,
        random_curves,
        randomised_copy,
        rank_correlation,
        sign_agreement,
    )

    randomised = randomised_copy(model) if randomisation else None
    rows: dict[str, dict[str, Any]] = {
        m: {"deletion": [], "insertion": [], "completeness": [], "ms": [], "agree": 0,
            "strong": 0, "rank_corr": [], "random_deletion": [], "ran": set()}
        for m in methods}
    rows["random"] = {"deletion": [], "insertion": []}
    for i, sketch in enumerate(sketches):
        reference = explain(sketch, model, method="occlusion")
        target = reference.target_index
        if target is None:   # occlusion names its class for every classifier
            raise UserError("eval faithfulness needs a classifier")
        for method in methods:
            r = (reference if method == "occlusion"
                 else explain(sketch, model, method=method, target=target, steps=steps,
                              quadrature=quadrature))
            c = curves(sketch, model, target, order_by(r.strokes))
            row = rows[method]
            row["deletion"].append(c.deletion_auc)
            row["insertion"].append(c.insertion_auc)
            row["completeness"].append(r.completeness_error if len(sketch) else 0.0)
            row["ms"].append(r.elapsed_ms)
            row["ran"].add(r.method)
            agree, strong = sign_agreement(r.strokes, reference.strokes)
            row["agree"] += agree
            row["strong"] += strong
            if randomised is not None and len(sketch):
                shuffled = explain(sketch, randomised, method=method, target=target, steps=steps,
                                   quadrature=quadrature)
                # The real model's deletion curve in the order the randomised copy gives: near
                # the random order's when the method depends on what the model learned.
                row["random_deletion"].append(
                    curves(sketch, model, target, order_by(shuffled.strokes)).deletion_auc)
                corr = rank_correlation(r.strokes, shuffled.strokes) if len(sketch) >= 3 else np.nan
                if np.isfinite(corr):
                    row["rank_corr"].append(corr)
        rc = random_curves(sketch, model, target)
        rows["random"]["deletion"].append(rc.deletion_auc)
        rows["random"]["insertion"].append(rc.insertion_auc)
        if progress:
            progress(i + 1, len(sketches))
    summary: dict[str, dict[str, Any]] = {}
    for name, row in rows.items():
        entry: dict[str, Any] = {"deletion_auc": float(np.mean(row["deletion"])),
                 "insertion_auc": float(np.mean(row["insertion"]))}
        if name != "random":
            completeness = float(np.median(row["completeness"]))
            entry.update(
                completeness_median=completeness,
                completeness_error_median=completeness,   # the name before 0.2, kept for scripts
                sign_agreement=row["agree"] / row["strong"] if row["strong"] else None,
                strong_strokes=row["strong"],
                randomisation_rank_corr=(float(np.median(row["rank_corr"]))
                                         if row["rank_corr"] else None),
                randomisation_deletion_auc=(float(np.mean(row["random_deletion"]))
                                            if row["random_deletion"] else None),
                median_ms=float(np.median(row["ms"])), mean_ms=float(np.mean(row["ms"])),
                p90_ms=float(np.percentile(row["ms"], 90)),
                ran=sorted(row["ran"]))
        summary[name] = entry
    return summary


def run(args) -> int:
    import sys

    from ..models import load_model

    if args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    model = load_model(args.model, device=args.device)
    sketches = pick_drawings(args.data, model.labels, args.limit)

    def show(i: int, n: int) -> None:
        print(f"\r{i}/{n} drawings", end="", file=sys.stderr, flush=True)

    summary = evaluate(model, sketches, args.methods, args.steps, args.quadrature,
                       progress=None if args.json else show,
                       randomisation=not args.no_randomisation)
    if args.json:
        print(json.dumps({"model": model.id, "sketches": len(sketches), "methods": summary}))
        return 0
    print(f"\n{len(sketches)} drawings, model {model.id}")
    print(f"{'method':<12} {'deletion AUC':>13} {'insertion AUC':>14} {'compl. err':>11} "
          f"{'sign agr.':>10} {'random. corr':>13} {'random. del.':>13} {'median ms':>10}")
    for name, e in summary.items():
        extra = ""
        if "median_ms" in e:
            extra = (f"{e['completeness_median']:>11.4f} {_fmt(e['sign_agreement']):>10} "
                     f"{_fmt(e['randomisation_rank_corr']):>13} "
                     f"{_fmt(e['randomisation_deletion_auc']):>13} {e['median_ms']:>10.1f}")
        print(f"{name:<12} {e['deletion_auc']:>13.3f} {e['insertion_auc']:>14.3f} {extra}")
    print("(deletion: lower is better; insertion: higher is better; sign agreement with exact "
          "occlusion on strokes worth over 0.5; randomisation: the same method on a "
          "re-initialised copy of the model — rank correlation with the real attributions, near 0, "
          "and the real model's deletion AUC in the copy's order, near random's, when the method "
          "depends on what the model learned)")
    return 0


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"
