"""Faithfulness of stroke attributions: deletion / insertion curves, their AUC, a random baseline.

Deletion removes strokes in decreasing attribution order (most helpful first) and tracks the target
probability down to the blank canvas; a faithful attribution makes it fall fast (low AUC). Insertion
adds strokes in the same order from blank; a faithful attribution makes it rise fast (high AUC).
Removing a stroke is compositing it with presence 0, which is exactly re-rendering without it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..render import place, rasterise, to_model_input
from ..sketch import Sketch


@dataclass
class Curves:
    deletion: np.ndarray    # (N + 1,) target probability after removing the first k strokes
    insertion: np.ndarray   # (N + 1,) target probability after adding the first k strokes

    @property
    def deletion_auc(self) -> float:
        return auc(self.deletion)

    @property
    def insertion_auc(self) -> float:
        return auc(self.insertion)


def auc(curve: np.ndarray) -> float:
    """Area under a curve sampled at k / N, k = 0..N (trapezoid rule on [0, 1])."""
    if len(curve) < 2:
        return float(curve[0]) if len(curve) else 0.0
    x = np.linspace(0.0, 1.0, len(curve))
    return float(np.trapezoid(curve, x))


def order_by(values: np.ndarray) -> np.ndarray:
    """Strokes from most to least helpful (ties keep input order)."""
    return np.argsort(-np.asarray(values), kind="stable")


def curves(sketch: Sketch, model, target_index: int, order: np.ndarray, batch_size: int = 64) -> Curves:
    """Deletion and insertion curves for one stroke order, all renders batched."""
    n = len(sketch)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    k = np.arange(n + 1)[:, None]
    deletion_alpha = (rank[None, :] >= k).astype(np.float32)   # first k in order removed
    insertion_alpha = (rank[None, :] < k).astype(np.float32)   # first k in order present
    alphas = torch.as_tensor(np.concatenate([deletion_alpha, insertion_alpha]), device=model.device)
    with torch.no_grad():
        ink = rasterise(place(sketch, model.spec, model.device), model.spec)
        probs = []
        for start in range(0, len(alphas), batch_size):
            logits = model(to_model_input(ink.composite(alphas[start:start + batch_size]), model.spec))
            probs.append(torch.softmax(logits.float(), dim=1)[:, target_index])
        p = torch.cat(probs).cpu().numpy().astype(np.float64)
    return Curves(deletion=p[: n + 1], insertion=p[n + 1:])


def random_curves(sketch: Sketch, model, target_index: int, repeats: int = 4, seed: int = 0) -> Curves:
    """Mean curves over random stroke orders: the baseline any attribution must beat."""
    rng = np.random.default_rng(seed)
    runs = [curves(sketch, model, target_index, rng.permutation(len(sketch))) for _ in range(repeats)]
    return Curves(np.mean([r.deletion for r in runs], 0), np.mean([r.insertion for r in runs], 0))
