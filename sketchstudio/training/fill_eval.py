"""Measure a fill generator: figure IoU against trivial baselines, and the pointing game.

Main metric: mean per-drawing IoU of the predicted filled figure (output > 0.5) with the true one
(`fill_truth.filled_figure` of the rendered drawing). Every baseline is given the input's ink for
free, so each is at least "output = input":

- `input`: the ink itself (nothing filled);
- `input dilated 1 px` / `2 px`: the ink grown by a square of side 3 / 5;
- `convex hull`: the filled convex hull of the ink, exact for a convex closed outline;
- `bounding box`: the ink's bounding box, filled;
- `category mean`: the per-pixel frequency of the filled figure over other drawings of the same
  category (the training drawings when they are known, else every other drawing of the category
  in the evaluated folder), thresholded at the best of 0.3..0.8 *on the evaluated drawings
  themselves*, which favours the baseline.

Pointing game: in each drawing, the largest enclosed region (at least `MIN_REGION_PIXELS`) is the
region whose mean output is explained; a case is a hit when the stroke with the largest
attribution is one that encloses the region (its ink touches the region).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..progress import TaskState
from ..render import RenderSpec, render_ink, to_model_input
from ..sketch import Sketch
from .fill_truth import (
    INK_THRESHOLD,
    MIN_REGION_PIXELS,
    bounding_box_fill,
    convex_hull_fill,
    dilate,
    enclosing_strokes,
    filled_figure,
    iou,
    label_regions,
)

METRIC = "filled-figure IoU"
METRIC_HELP = ("mean per-drawing IoU of the predicted filled figure (output > 0.5) with the true "
               "one: the ink plus every region it encloses (flood fill from the border)")
MEAN_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
POINTING_METHODS = ("sla", "sla-grad", "occlusion", "live")

Labelled = Sequence[tuple[str, Sketch]]


def category_means(by_category: Mapping[str, Sequence[Sketch]],
                   spec: RenderSpec) -> dict[str, torch.Tensor]:
    """Per category, the per-pixel frequency of the filled figure over its drawings."""
    means = {}
    for category, drawings in by_category.items():
        if drawings:
            inks = torch.stack([render_ink(s, spec) for s in drawings])
            means[category] = filled_figure(inks).float().mean(0)
    return means


def leave_one_out_means(figures: torch.Tensor, categories: Sequence[str]) -> torch.Tensor:
    """(N, S, S): for each drawing, the mean figure of the *other* drawings of its category (of all
    other drawings when it is alone in its category)."""
    f = figures.float()
    sums: dict[str, torch.Tensor] = defaultdict(lambda: torch.zeros_like(f[0]))
    counts: dict[str, int] = defaultdict(int)
    for i, c in enumerate(categories):
        sums[c] += f[i]
        counts[c] += 1
    total = f.sum(0)
    out = torch.empty_like(f)
    for i, c in enumerate(categories):
        if counts[c] > 1:
            out[i] = (sums[c] - f[i]) / (counts[c] - 1)
        else:
            out[i] = (total - f[i]) / max(len(categories) - 1, 1)
    return out


def predict(model: Any, inks: torch.Tensor, batch: int = 128) -> torch.Tensor:
    """(N, S, S) model output (channel mean) for (N, S, S) inks."""
    outs = []
    with torch.no_grad():
        for start in range(0, len(inks), batch):
            x = to_model_input(inks[start:start + batch], model.spec)
            outs.append(model(x).float().mean(1).cpu())
    return torch.cat(outs)


def evaluate_fill(model: Any, drawings: Labelled, means: dict[str, torch.Tensor] | None = None,
                  state: TaskState | None = None) -> dict[str, Any]:
    """Figure IoU of the model and of every baseline on (category, drawing) pairs.

    `means`: per-category mean figures from drawings outside the evaluated ones (None or a missing
    category: leave-one-out over the evaluated drawings).
    """
    state = TaskState.coerce(state)
    spec = model.spec
    categories = [c for c, _ in drawings]
    inks = torch.zeros(len(drawings), spec.size, spec.size)
    for i, (_, sketch) in enumerate(drawings):
        if i % 128 == 0:
            state.check()
            state.set_progress(0.5 * i / max(len(drawings), 1))
        inks[i] = render_ink(sketch, spec)
    truth = filled_figure(inks)
    on = inks > INK_THRESHOLD
    state.check()
    output = predict(model, inks)
    state.set_progress(0.8)
    scores = {"model": iou(output > 0.5, truth)}
    baselines: dict[str, torch.Tensor] = {
        "input": iou(on, truth),
        "input dilated 1 px": iou(dilate(on, 1) | on, truth),
        "input dilated 2 px": iou(dilate(on, 2) | on, truth),
        "convex hull": iou(torch.stack([torch.as_tensor(convex_hull_fill(x.numpy()))
                                        for x in inks]), truth),
        "bounding box": iou(torch.stack([torch.as_tensor(bounding_box_fill(x.numpy()))
                                         for x in inks]), truth),
    }
    loo = leave_one_out_means(truth, categories)
    mean_images = torch.stack([means[c] if means and c in means else loo[i]
                               for i, c in enumerate(categories)])
    # The best threshold for the mean image; max keeps the first of equal scores.
    best, best_threshold = max(((iou((mean_images > t) | on, truth), t) for t in MEAN_THRESHOLDS),
                               key=lambda scored: float(scored[0].mean()))
    baselines["category mean"] = best
    state.set_progress(1.0)
    enclosed = truth & ~on
    has_fill = enclosed.flatten(1).any(1)
    model_score = float(scores["model"].mean())
    hull = baselines["convex hull"]
    base = {k: round(float(v.mean()), 4) for k, v in baselines.items()}
    fill_only = {k: round(float(iou(p & ~on, enclosed)[has_fill].mean()), 4) if has_fill.any()
                 else None for k, p in {"model": output > 0.5}.items()}
    return {
        "metric": METRIC,
        "metric_help": METRIC_HELP,
        "higher_is_better": True,
        "drawings": len(drawings),
        "model": round(model_score, 4),
        "baselines": base,
        "margin_over_best_baseline": round(model_score / max(base.values()) - 1.0, 4),
        "best_baseline": max(base, key=lambda k: base[k]),
        "model_better_than_convex_hull": int((scores["model"] > hull + 1e-6).sum()),
        "model_worse_than_convex_hull": int((scores["model"] < hull - 1e-6).sum()),
        "category_mean_threshold": best_threshold,
        "category_mean_source": ("training drawings of the category" if means
                                 else "the other evaluated drawings of the category"),
        "drawings_with_enclosed_region": int(has_fill.sum()),
        "enclosed_region_iou_model": fill_only["model"],
    }


def pointing_cases(drawings: Labelled, spec: RenderSpec,
                   per_category: int = 0) -> list[dict[str, Any]]:
    """One case per drawing with an enclosed region: its largest region and the strokes that
    enclose it. `per_category` > 0: only the first that many cases of each category (the
    attribution methods cost up to a second a case on a busy CPU)."""
    from ..render import place, rasterise

    cases: list[dict[str, Any]] = []
    taken: dict[str, int] = defaultdict(int)
    for index, (category, sketch) in enumerate(drawings):
        if per_category and taken[category] >= per_category:
            continue
        if len(sketch) < 2:
            continue      # one stroke: every answer is right, nothing is tested
        ink = render_ink(sketch, spec)
        region_mask = (filled_figure(ink.unsqueeze(0)) & (ink <= INK_THRESHOLD))[0].numpy()
        regions = [r for r in label_regions(region_mask) if r.sum() >= MIN_REGION_PIXELS]
        if not regions:
            continue
        with torch.no_grad():
            ink_of = rasterise(place(sketch, spec), spec)
            own = ink_of.composite(torch.eye(len(sketch)))
        closing = enclosing_strokes(own, regions[0])
        if closing:
            taken[category] += 1
            cases.append({"index": index, "category": category, "sketch": sketch,
                          "region": regions[0], "closing": closing})
    return cases


def pointing_game(model: Any, cases: Sequence[dict[str, Any]],
                  methods: Sequence[str] = POINTING_METHODS,
                  state: TaskState | None = None) -> dict[str, dict[str, Any]]:
    """Per method: hit rate (the top stroke closes the region), the same on the cases where some
    stroke does not close it, the mean share of positive attribution on closing strokes, and the
    hit rate of a stroke picked at random."""
    from ..tasks.generate import explain_region

    state = TaskState.coerce(state)
    results: dict[str, dict[str, Any]] = {}
    chance = float(np.mean([len(c["closing"]) / len(c["sketch"]) for c in cases])) if cases else 0.0
    total = max(len(cases) * len(methods), 1)
    done = 0
    for method in methods:
        hits, hard_hits, hard, shares, ran = 0, 0, 0, [], set()
        for case in cases:
            state.check()
            r = explain_region(case["sketch"], model, mask=case["region"], method=method)
            ran.add(r.method)
            values = np.asarray(r.strokes, dtype=float)
            hit = int(np.argmax(values)) in case["closing"]
            hits += hit
            if len(case["closing"]) < len(values):
                hard += 1
                hard_hits += hit
            positive = np.clip(values, 0.0, None)
            if positive.sum() > 0:
                shares.append(float(positive[case["closing"]].sum() / positive.sum()))
            done += 1
            state.set_progress(done / total)
        results[method] = {
            "cases": len(cases), "hit_rate": round(hits / max(len(cases), 1), 4),
            "cases_with_a_stroke_that_does_not_close": hard,
            "hit_rate_on_those": round(hard_hits / max(hard, 1), 4) if hard else None,
            "share_on_closing_strokes": round(float(np.mean(shares)), 4) if shares else None,
            "ran": sorted(ran),
        }
    for r in results.values():
        r["random_stroke_hit_rate"] = round(chance, 4)
    return results
