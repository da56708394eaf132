"""Faithfulness of stroke attributions: deletion / insertion curves, their AUC, a random baseline.

Deletion removes strokes in decreasing attribution order (most helpful first) and tracks the target
probability down to the blank canvas; a faithful attribution makes it fall fast (low AUC). Insertion
adds strokes in the same order from blank; a faithful attribution makes it rise fast (high AUC).
Removing a stroke is compositing it with presence 0, which is exactly re-rendering without it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

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


def target_probabilities(sketch: Sketch, model: Any, target_index: int, alphas: np.ndarray,
                         batch_size: int = 64, cancelled: CancelledFn = None) -> np.ndarray:
    """The target probability for every row of presence weights, renders batched."""
    presences = torch.as_tensor(alphas, device=model.device)
    probs = []
    with torch.no_grad():
        ink = rasterise(place(sketch, model.spec, model.device), model.spec)
        for start in range(0, len(presences), batch_size):
            check(cancelled)
            presence = presences[start:start + batch_size]
            logits = model(to_model_input(ink.composite(presence), model.spec))
            probs.append(torch.softmax(logits.float(), dim=1)[:, target_index])
    return torch.cat(probs).cpu().numpy().astype(np.float64)


def deletion_curve(sketch: Sketch, model: Any, target_index: int, order: np.ndarray,
                   cancelled: CancelledFn = None) -> np.ndarray:
    """Deletion alone (the studio's live plot): N + 1 forward passes, cancellable between
    batches."""
    alphas = _presence_rows(order, len(sketch), "deletion")
    return target_probabilities(sketch, model, target_index, alphas, cancelled=cancelled)


@dataclass(frozen=True)
class DeletionCurve:
    """The deletion half alone: what the studio plots live under an explanation."""

    deletion: np.ndarray    # (N + 1,) target probability after removing the first k strokes

    @property
    def deletion_auc(self) -> float:
        return auc(self.deletion)


def attribution_deletion_curve(sketch: Sketch, model: Any, target_index: int,
                               strokes: np.ndarray,
                               cancelled: CancelledFn = None) -> DeletionCurve:
    """How fast the target's probability falls when the strokes are removed from most to least
    helpful by an attribution's `strokes` values: N + 1 forward passes, cancellable between
    batches, so a live view can drop it the moment a newer explanation is asked for."""
    return DeletionCurve(deletion_curve(sketch, model, target_index, order_by(strokes),
                                        cancelled))


def curves(sketch: Sketch, model: Any, target_index: int, order: np.ndarray,
           cancelled: CancelledFn = None) -> Curves:
    """Deletion and insertion curves for one stroke order, all renders batched together."""
    n = len(sketch)
    alphas = np.concatenate([_presence_rows(order, n, "deletion"),
                             _presence_rows(order, n, "insertion")])
    p = target_probabilities(sketch, model, target_index, alphas, cancelled=cancelled)
    return Curves(deletion=p[: n + 1], insertion=p[n + 1:])


def random_curves(sketch: Sketch, model: Any, target_index: int, repeats: int = 4,
                  seed: int = 0) -> Curves:
    """Mean curves over random stroke orders: the baseline any attribution must beat."""
    rng = np.random.default_rng(seed)
    runs = [curves(sketch, model, target_index, rng.permutation(len(sketch)))
            for _ in range(repeats)]
    return Curves(np.mean([r.deletion for r in runs], 0), np.mean([r.insertion for r in runs], 0))


def sign_agreement(values: np.ndarray, reference: np.ndarray,
                   threshold: float = 0.5) -> tuple[int, int]:
    """(agreeing, strong): of the strokes whose exact leave-one-out effect `reference` exceeds
    `threshold` in magnitude (0.5 logit: a stroke that clearly matters), how many `values` give
    the same sign. A stroke coloured "helps" when removing it would raise the score is a lie."""
    strong = np.abs(np.asarray(reference)) > threshold
    agree = np.sign(np.asarray(values)[strong]) == np.sign(np.asarray(reference)[strong])
    return int(agree.sum()), int(strong.sum())


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (ties broken by position; NaN when either side is constant)."""
    ra = np.argsort(np.argsort(np.asarray(a), kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(np.asarray(b), kind="stable"), kind="stable").astype(float)
    if len(ra) < 2 or np.ptp(np.asarray(a)) == 0 or np.ptp(np.asarray(b)) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def randomised_copy(model: Any, seed: int = 0) -> Any:
    """The model with every learned parameter re-initialised (Adebayo et al.'s model-parameter
    randomisation): zero-mean Gaussian values at each tensor's own scale, so the architecture and
    the size of the activations stay and what training learned is gone. Attributions that barely
    change on this copy explain the renderer (how much ink a stroke has), not the model.

    (Shuffling each tensor's values instead keeps their mean: measured on the default classifier,
    the shuffled copy still ranked strokes like the real one, rank correlation 0.8, because a
    network of mostly-positive weights answers "how much ink", as any model partly does.)"""
    module = getattr(model, "module", None)
    if module is None:
        raise TypeError("model-parameter randomisation needs a loaded model (with .module)")
    clone = copy.copy(model)
    reinitialised = copy.deepcopy(module)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in reinitialised.parameters():
            if parameter.numel() < 2:
                continue
            noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
            parameter.copy_(noise.to(parameter.device) * parameter.std())
    clone.module = reinitialised
    return clone
