"""`sketchstudio bench`: every attribution method side by side, on the same sketches, in one run.

`floor` is one plain forward+backward of the model on the rendered image: what any gradient method
must pay at least. `captum-feature-ablation` is Captum's FeatureAblation on the rendered image with
a per-stroke feature mask (Captum's defaults: one perturbation per forward pass).
"""
from __future__ import annotations

import json

import numpy as np
import torch

from ..errors import UserError

STROKE_COUNTS = (5, 30, 100, 300)
# Reference costs timed beside the registered attribution methods (explain/registry.py).
FLOOR, CAPTUM = "floor", "captum-feature-ablation"


def method_choices() -> tuple[str, ...]:
    """What `--methods` takes: the floor, every registered method, and Captum's ablation."""
    from ..explain.registry import method_names

    return (FLOOR, *method_names(), CAPTUM)


# The ratios the project's targets are stated in (numerator, denominator), each the median of the
# per-round ratios of one interleaved run.
RATIOS = (("sla-grad", "floor"), ("live", "floor"), ("occlusion", "live"),
          ("captum-feature-ablation", "live"), ("occlusion", "sla"), ("occlusion", "sla-grad"),
          ("captum-feature-ablation", "sla-grad"))


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="attribution cost of every method, side by side")
    p.add_argument("--json", action="store_true")
    p.add_argument("--models", nargs="+", default=["default", "resnet18-224"])
    p.add_argument("--strokes", nargs="+", type=int, default=list(STROKE_COUNTS))
    p.add_argument("--methods", nargs="+", default=list(method_choices()),
                   choices=method_choices())
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-memory", action="store_true", help="skip the (slower) peak-memory pass")
    p.set_defaults(run=run)


def real_drawings(limit: int = 400, kind: str = "simplified"):
    """Real Quick, Draw! drawings, two from each category. "simplified" (Google's own RDP, about 7
    points per stroke) keeps 300 strokes under 5,000 points; "raw" has about 40 per stroke."""
    from ..shared_data import quickdraw_dir
    from ..sketch.io import iter_sketches

    folder = quickdraw_dir(kind)
    drawings = []
    for path in sorted(folder.glob("*.ndjson")):
        for i, sketch in enumerate(iter_sketches(path)):
            if i >= 2:
                break
            drawings.append(sketch)
        if len(drawings) >= limit:
            break
    return drawings


def _floor(model, sketch):
    from ..render import render

    x = render(sketch, model.spec, model.device)

    def run():
        inp = x.clone().requires_grad_(True)
        out = model(inp)
        out[0, int(out[0].argmax())].backward()
    return run


def _captum(model, sketch):
    from captum.attr import FeatureAblation

    from ..render import place, rasterise, to_model_input

    with torch.no_grad():
        ink = rasterise(place(sketch, model.spec, model.device), model.spec)
        image = ink.composite()
        x = to_model_input(image, model.spec)
        # Each pixel belongs to the stroke with the most ink there; blank pixels to no stroke.
        per_stroke = (torch.stack([ink.composite(torch.eye(len(sketch))[k:k + 1])[0]
                                   for k in range(len(sketch))])
                      if len(sketch) else torch.zeros(1, 1, 1))
        owner = per_stroke.argmax(0)
        mask = torch.where(per_stroke.max(0).values > 1e-3, owner + 1, torch.zeros_like(owner))
        mask = mask.expand(1, model.spec.channels, -1, -1)
        blank = to_model_input(torch.zeros_like(image), model.spec)
    target = int(model(x)[0].argmax())
    ablation = FeatureAblation(lambda inp: model(inp))

    def run():
        ablation.attribute(x, baselines=blank, target=target, feature_mask=mask)
    return run


def _method(model, sketch, method):
    from ..explain import explain

    return lambda: explain(sketch, model, method=method)


def run(args) -> int:
    from ..benchmarking import compose_sketch, interleaved_ms, median_ratio, peak_mb, resnet18_224
    from ..explain import explain
    from ..models import choose_device, load_model

    if args.repeats < 1:
        raise UserError("--repeats must be at least 1")
    torch.manual_seed(0)
    device = choose_device(args.device)
    drawings = real_drawings()
    rows, ratios = [], []
    for model_name in args.models:
        model = (resnet18_224(device) if model_name == "resnet18-224"
                 else load_model(model_name, device))
        for n in args.strokes:
            sketch = compose_sketch(drawings, n)
            fns = {}
            for method in args.methods:
                if method == FLOOR:
                    fns[method] = _floor(model, sketch)
                elif method == CAPTUM:
                    fns[method] = _captum(model, sketch)
                else:
                    fns[method] = _method(model, sketch, method)
            times = interleaved_ms(fns, args.repeats)
            live_ran = (explain(sketch, model, method="live").method
                        if "live" in args.methods else None)
            for method, ms_list in times.items():
                ms = float(np.median(ms_list))
                mb = None if args.no_memory else round(peak_mb(fns[method], device), 2)
                row = {"model": model_name, "strokes": n, "points": sketch.num_points,
                       "method": method, "median_ms": round(ms, 3), "peak_mb": mb,
                       "rounds": len(ms_list)}
                if method == "live":
                    row["ran"] = live_ran
                rows.append(row)
                if not args.json:
                    ran = f"  ({live_ran})" if method == "live" else ""
                    print(f"{model_name:<13} N={n:<4} points={sketch.num_points:<6} {method:<24} "
                          f"{ms:>10.2f} ms  {'' if mb is None else f'{mb:8.1f} MB'}{ran}",
                          flush=True)
            for top, bottom in RATIOS:
                if top in times and bottom in times:
                    ratios.append({"model": model_name, "strokes": n, "ratio": f"{top}/{bottom}",
                                   "median": round(median_ratio(times[top], times[bottom]), 3)})
    if args.json:
        print(json.dumps({"device": str(device), "threads": torch.get_num_threads(), "rows": rows,
                          "ratios": ratios}))
    else:
        print("\nratios (median of per-round ratios, methods interleaved on the same sketch):")
        for r in ratios:
            print(f"  {r['model']:<13} N={r['strokes']:<4} {r['ratio']:<34} {r['median']:>8.2f}")
    return 0
