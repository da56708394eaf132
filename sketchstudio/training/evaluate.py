"""Held-out accuracy of a classifier on real drawings, rendered exactly as its card says."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from ..render import RenderSpec, render_ink, to_model_input
from ..sketch import Sketch


def render_batch(sketches: Sequence[Sketch], spec: RenderSpec) -> torch.Tensor:
    """(B, C, S, S) model input, no gradients."""
    ink = torch.stack([render_ink(s, spec) for s in sketches])
    return to_model_input(ink, spec)


def accuracy(predict: Callable[[torch.Tensor], torch.Tensor], spec: RenderSpec,
             labels: Sequence[str], sketches_by_label: Mapping[str, Sequence[Sketch]],
             batch: int = 128) -> dict:
    """top-1 / top-3 over all drawings and per category. `predict` maps inputs to logits."""
    index = {name: i for i, name in enumerate(labels)}
    items = [(s, index[c]) for c, group in sketches_by_label.items() for s in group]
    if not items:
        return {"heldout": 0, "top1": float("nan"), "top3": float("nan"), "per_category": {}}
    ranks = []
    with torch.no_grad():
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            logits = predict(render_batch([s for s, _ in chunk], spec)).float().cpu()
            target = torch.tensor([y for _, y in chunk])
            # rank of the true class: how many classes score strictly higher
            ranks.append((logits > logits[torch.arange(len(chunk)), target][:, None]).sum(1))
    rank = torch.cat(ranks).numpy()
    owner = np.array([y for _, y in items])
    per_category = {}
    for c in sketches_by_label:
        mine = rank[owner == index[c]]
        if len(mine):
            per_category[c] = {"n": int(len(mine)), "top1": float(np.mean(mine < 1)),
                               "top3": float(np.mean(mine < 3))}
    return {"heldout": int(len(rank)), "top1": float(np.mean(rank < 1)),
            "top3": float(np.mean(rank < 3)), "per_category": per_category}


def evaluate_model(model, data: str | Path | None = None) -> dict:
    """A LoadedModel on the held-out drawings of its own labels (the split `train` left out)."""
    from ..errors import UserError
    from ..models.tasks import ModelTask
    from .data import available_categories, heldout_sketches, resolve_data_dir

    folder = resolve_data_dir(data)
    if model.task != ModelTask.CLASSIFY:
        raise UserError(f"model {model.id!r} is a {model.task} model, not a classifier")
    present = set(available_categories(folder))
    categories = [c for c in model.labels if c in present]
    if not categories:
        raise UserError(f"none of the model's {len(model.labels)} labels has drawings in {folder}")
    heldout = heldout_sketches(folder, categories)
    result = accuracy(model, model.spec, model.labels, heldout)
    missing = [c for c in model.labels if c not in present]
    return {"model": model.id, "categories": len(categories), **result,
            **({"missing_categories": missing} if missing else {})}
