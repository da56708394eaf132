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

from ..progress import CancelledFn, check
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


def _presence_rows(order: np.ndarray, n: int, kind: str) -> np.ndarray:
    """(N + 1, N) presence weights: row k has the first k strokes in `order` removed / added."""
    rank = np.empty(n, dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(n)
    k = np.arange(n + 1)[:, None]
    present = rank[None, :] >= k if kind == "deletion" else rank[None, :] < k
    return present.astype(np.float32)


def target_probabilities(sketch: Sketch, model, target_index: int, alphas: np.ndarray,
                         batch_size: int = 64, cancelled: CancelledFn = None) -> np.ndarray:
    """The target probability for every row of presence weights, renders batched."""
    alphas = torch.as_tensor(alphas, device=model.device)
    probs = []
    with torch.no_grad():
        ink = rasterise(place(sketch, model.spec, model.device), model.spec)
        for start in range(0, len(alphas), batch_size):
            check(cancelled)
            logits = model(to_model_input(ink.composite(alphas[start:start + batch_size]), model.spec))
            probs.append(torch.softmax(logits.float(), dim=1)[:, target_index])
    return torch.cat(probs).cpu().numpy().astype(np.float64)


def deletion_curve(sketch: Sketch, model, target_index: int, order: np.ndarray,
                   cancelled: CancelledFn = None) -> np.ndarray:
    """Deletion alone (the studio's live plot): N + 1 forward passes, cancellable between batches."""
    alphas = _presence_rows(order, len(sketch), "deletion")
    return target_probabilities(sketch, model, target_index, alphas, cancelled=cancelled)


def curves(sketch: Sketch, model, target_index: int, order: np.ndarray,
           cancelled: CancelledFn = None) -> Curves:
    """Deletion and insertion curves for one stroke order, all renders batched together."""
    n = len(sketch)
    alphas = np.concatenate([_presence_rows(order, n, "deletion"), _presence_rows(order, n, "insertion")])
    p = target_probabilities(sketch, model, target_index, alphas, cancelled=cancelled)
    return Curves(deletion=p[: n + 1], insertion=p[n + 1:])


def random_curves(sketch: Sketch, model, target_index: int, repeats: int = 4, seed: int = 0) -> Curves:
    """Mean curves over random stroke orders: the baseline any attribution must beat."""
    rng = np.random.default_rng(seed)
    runs = [curves(sketch, model, target_index, rng.permutation(len(sketch))) for _ in range(repeats)]
    return Curves(np.mean([r.deletion for r in runs], 0), np.mean([r.insertion for r in runs], 0))
