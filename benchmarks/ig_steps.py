"""How many integration steps does `sla` need, and with which quadrature? Faithfulness against cost.

    .venv/bin/python benchmarks/ig_steps.py [--limit 100] [--model default] [--json]

For each (quadrature, steps): median completeness error, mean deletion AUC and median time per
drawing, on the same real drawings, side by side. The default steps/quadrature in
sketchstudio/explain/methods.py are chosen from this table (see the README).
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from sketchstudio.commands.eval_faithfulness import pick_drawings
from sketchstudio.explain import explain
from sketchstudio.explain.faithfulness import curves, order_by
from sketchstudio.models import load_model
from sketchstudio.shared_data import shared_data_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--model", default="default")
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--rules", nargs="+", default=["gauss-legendre", "midpoint", "trapezoid"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = load_model(args.model)
    folder = shared_data_dir() / "quickdraw" / "simplified"
    sketches = list(pick_drawings(folder, model.labels, args.limit))
    targets = [explain(s, model, method="sla-grad").target_index for s in sketches]
    rows = []
    for rule in args.rules:
        for steps in args.steps:
            errors, aucs, times = [], [], []
            for sketch, target in zip(sketches, targets, strict=True):
                r = explain(sketch, model, method="sla", target=target, steps=steps,
                            quadrature=rule)
                errors.append(r.completeness_error)
                aucs.append(curves(sketch, model, target, order_by(r.strokes)).deletion_auc)
                times.append(r.elapsed_ms)
            row = {"quadrature": rule, "steps": steps,
                   "completeness_error_median": float(np.median(errors)),
                   "completeness_error_p90": float(np.percentile(errors, 90)),
                   "deletion_auc": float(np.mean(aucs)), "median_ms": float(np.median(times))}
            rows.append(row)
            if not args.json:
                print(f"{rule:<15} steps={steps:<3} completeness err median "
                      f"{row['completeness_error_median']:.4f}"
                      f" p90 {row['completeness_error_p90']:.4f}"
                      f"  deletion AUC {row['deletion_auc']:.4f}"
                      f"  {row['median_ms']:.1f} ms", flush=True)
    if args.json:
        print(json.dumps({"model": model.id, "sketches": len(sketches), "rows": rows}))


if __name__ == "__main__":
    main()
