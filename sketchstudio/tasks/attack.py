"""Adversarial editing: move points within a budget until the classifier changes its mind.

Projected gradient descent on point coordinates (sketch units). A first run descends the
cross-entropy of the class to leave (untargeted) or to reach (targeted); if that does not flip the
decision, a second run descends the logit margin (untargeted `z[orig] - max_{j != orig} z[j]`,
targeted `max_{j != t} z[j] - z[t]`). Every point takes its own normalised gradient step (the
steepest step under a per-point L2 bound, as the sign step is under an L-infinity bound), the step
shrinks over the iterations, and every point is projected back onto its ball of radius
`budget * longer bbox side of the input`. Optionally only the K strokes with the largest |SLA| may
move. Strokes are never added, removed or re-ordered, and keep their number of points.

Success is decided only by re-rendering the edited Sketch from scratch (`render()`, no gradients)
and asking the model: the differentiable path merely proposes.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import UserError
from ..explain.objectives import resolve_target
from ..progress import CancelledFn, ProgressFn, check, report
from ..sketch import Sketch
from . import displacement as disp
from .scoring import PointScorer, probabilities

DEFAULT_BUDGET = 0.03
DEFAULT_STEPS = 60
MAX_STEPS = 10_000
# Step size of the first iteration as a fraction of the per-point radius; it decays linearly to
# STEP_END. Chosen on the default classifier (docs/tools.md).
STEP_START = 0.5
STEP_END = 0.05
# The differentiable forward must show the flip by this logit margin before a re-render is tried.
MARGIN = 0.0
# Extra runs from random starts inside the ball, only for sketches the first run did not flip.
RESTARTS = 1

IterationFn = Callable[[int, np.ndarray], None]


class AlreadyTarget(UserError):
    """A targeted attack toward the class the sketch already has: nothing to do, no edit."""


@dataclass
class AttackResult:
    success: bool                   # decided by re-rendering the edited sketch
    sketch: Sketch                  # the input, untouched
    edited: Sketch                  # same strokes, order and points per stroke
    labels: tuple[str, ...]
    original_index: int
    original_prob: float            # before the edit
    adversarial_index: int          # the re-rendered prediction of `edited`
    adversarial_prob: float
    original_prob_after: float      # the original class's probability after the edit
    target_index: int | None        # None: untargeted
    budget: float
    strokes_allowed: list[int]      # the strokes that were allowed to move
    displacement: np.ndarray        # (P, 2) flat, sketch units
    iterations: int
    elapsed_ms: float
    history: np.ndarray             # (iterations + 1, C) probabilities seen by the optimiser
    max_displacement: float = 0.0   # fractions of the input's longer bbox side
    mean_displacement: float = 0.0
    strokes_changed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def original_label(self) -> str:
        return self.labels[self.original_index]

    @property
    def adversarial_label(self) -> str:
        return self.labels[self.adversarial_index]

    @property
    def target(self) -> str | None:
        return None if self.target_index is None else self.labels[self.target_index]

    @property
    def displacements(self) -> list[np.ndarray]:
        """Per stroke (n_k, 2) displacements in sketch units."""
        return disp.split(self.displacement, self.sketch)

    def to_json(self) -> dict:
        hist_orig = self.history[:, self.original_index]
        top = self.history.argmax(1)
        history = [{"iteration": i, "original": float(hist_orig[i]), "top": self.labels[int(top[i])],
                    "top_prob": float(self.history[i, top[i]])}
                   | ({"target": float(self.history[i, self.target_index])}
                      if self.target_index is not None else {})
                   for i in range(len(self.history))]
        return {
            "success": bool(self.success),
            "verified_by": "re-render",
            "target": self.target,
            "original": {"label": self.original_label, "prob": self.original_prob},
            "adversarial": {"label": self.adversarial_label, "prob": self.adversarial_prob},
            "original_prob_after": self.original_prob_after,
            "budget": self.budget,
            "max_displacement": self.max_displacement,
            "mean_displacement": self.mean_displacement,
            "strokes_changed": self.strokes_changed,
            "strokes_allowed": list(self.strokes_allowed),
            "iterations": self.iterations,
            "elapsed_ms": self.elapsed_ms,
            "history": history,
            "notes": list(self.notes),
        }


def check_steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise UserError(f"steps must be an integer in 1..{MAX_STEPS}, got {steps!r}")
    return int(steps)


def choose_strokes(sketch: Sketch, model: Any, k: int | None, class_index: int,
                   cancelled: CancelledFn = None) -> list[int]:
    """All strokes, or the K with the largest |SLA| for `class_index` (ties: input order)."""
    n = len(sketch)
    if k is None or k >= n:
        return list(range(n))
    from ..explain import explain

    check(cancelled)
    r = explain(sketch, model, method="sla", target=class_index, cancelled=cancelled)
    order = np.argsort(-np.abs(r.strokes), kind="stable")
    return sorted(int(i) for i in order[:k])


def attack(sketch: Sketch, model: Any, target: str | int | None = None,
           budget: float = DEFAULT_BUDGET, strokes: int | None = None,
           steps: int = DEFAULT_STEPS, progress: ProgressFn = None, cancelled: CancelledFn = None,
           on_iteration: IterationFn | None = None, allowed: list[int] | None = None,
           step_start: float = STEP_START, step_end: float = STEP_END,
           restarts: int = RESTARTS, seed: int = 0,
           loss: str = "auto") -> AttackResult:
    """Find a point edit within `budget` that changes the model's decision (or makes it `target`).

    `strokes`: only the K strokes with the largest |SLA| may move (None: all). `allowed`: an
    explicit list of stroke indices instead (the evaluation's random-stroke baseline uses it).
    `steps`: gradient steps per run. The first run descends the cross-entropy of the class to
    leave (or to reach); if it does not flip the decision, a second run descends the logit margin
    (`restarts` runs more, alternating, from random starts), so up to (steps + 1) * (1 + restarts)
    evaluations are reported, i counting across runs. `on_iteration(i, probs)` receives the class probabilities the optimiser sees at every
    iteration (the studio's live plot); `cancelled()` is checked before every iteration and raises
    `Cancelled`, leaving nothing changed (sketches are immutable; nothing is written).
    """
    started = time.perf_counter()
    budget = disp.check_budget(budget)
    steps = check_steps(steps)
    if strokes is not None and (isinstance(strokes, bool) or int(strokes) < 1):
        raise UserError(f"the stroke budget must be at least 1, got {strokes!r}")
    labels = tuple(getattr(model, "labels", ()))
    if getattr(model, "task", "classify") != "classify":
        raise UserError(f"attack needs a classifier; {getattr(model, 'id', 'this model')!r} is a "
                        f"{model.task!r} model")
    limit = disp.radius(sketch, budget)
    check(cancelled)
    before = probabilities(sketch, model)
    labels = labels or tuple(str(i) for i in range(len(before)))
    original = int(before.argmax())
    target_index = None if target is None else resolve_target(target, labels, original)
    if target_index is not None and target_index == original:
        raise AlreadyTarget(f"the sketch is already classified as {labels[original]!r} "
                            f"(p={before[original]:.2f}): no edit made")
    notes = []
    if allowed is None:
        if strokes is not None and int(strokes) >= len(sketch):
            notes.append(f"stroke budget {strokes} >= {len(sketch)} strokes: all strokes may move")
        allowed = choose_strokes(sketch, model, None if strokes is None else int(strokes),
                                 original if target_index is None else target_index, cancelled)
    allowed = sorted({int(k) for k in allowed})

    scorer = PointScorer(sketch, model)
    bounds = disp.stroke_bounds(sketch)
    mask = np.zeros((sketch.num_points, 1))
    for k in allowed:
        mask[bounds[k]:bounds[k + 1]] = 1.0
    mask_t = torch.as_tensor(mask, dtype=torch.float64, device=scorer.device)
    history: list[np.ndarray] = []
    best = {"delta": scorer.zeros(), "margin": float("inf")}
    success, verified_probs, iterations = False, None, 0
    rng = np.random.default_rng(seed)

    def margin_of(logits: torch.Tensor) -> torch.Tensor:
        z = logits[0].double()
        if target_index is None:
            others = torch.cat([z[:original], z[original + 1:]])
            return z[original] - others.max()
        others = torch.cat([z[:target_index], z[target_index + 1:]])
        return others.max() - z[target_index]

    total = steps * (1 + restarts)
    for attempt in range(1 + restarts):
        kind = loss if loss != "auto" else ("ce", "margin")[attempt % 2]
        if attempt < 2:
            delta = scorer.zeros()
        else:  # a fresh start somewhere inside the ball, for the sketches the first run missed
            start = rng.normal(size=(sketch.num_points, 2)) * limit * 0.5
            delta = disp.project(torch.as_tensor(start, device=scorer.device), limit) * mask_t
        for it in range(steps + 1):
            check(cancelled)
            last = it == steps
            d = delta.detach().requires_grad_(not last)
            with torch.no_grad() if last else torch.enable_grad():
                logits = scorer.logits(d)
                margin = margin_of(logits)
                objective = margin if kind == "margin" else _ce(logits, original, target_index)
            probs = torch.softmax(logits.detach().double(), dim=1)[0].cpu().numpy()
            history.append(probs)
            if on_iteration is not None:
                on_iteration(len(history) - 1, probs)
            report(progress, (iterations + 1) / (total + 1))
            m = float(margin.detach())
            if m < best["margin"]:
                best = {"delta": d.detach().clone(), "margin": m}
            if m < -MARGIN:
                candidate = disp.apply(sketch, d.detach().cpu().numpy())
                verified = probabilities(candidate, model)
                if _flipped(verified, original, target_index):
                    success, verified_probs = True, verified
                    best = {"delta": d.detach().clone(), "margin": m}
                    break
            if last:
                break
            (grad,) = torch.autograd.grad(objective, d)
            grad = grad * mask_t
            direction = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-30)
            frac = it / max(steps - 1, 1)
            size = limit * (step_start + (step_end - step_start) * frac)
            delta = disp.project(d.detach() - size * direction, limit) * mask_t
            iterations += 1
        if success:
            break
    best_delta = best["delta"]

    flat = best_delta.cpu().numpy()
    edited = disp.apply(sketch, flat)
    after = verified_probs if verified_probs is not None else probabilities(edited, model)
    if not success:
        success = _flipped(after, original, target_index)
    m = disp.measure(sketch, edited)
    report(progress, 1.0)
    adv = int(after.argmax())
    return AttackResult(
        success=bool(success), sketch=sketch, edited=edited, labels=labels,
        original_index=original, original_prob=float(before[original]), adversarial_index=adv,
        adversarial_prob=float(after[adv]), original_prob_after=float(after[original]),
        target_index=target_index, budget=budget, strokes_allowed=allowed, displacement=flat,
        iterations=iterations, elapsed_ms=(time.perf_counter() - started) * 1000.0,
        history=np.array(history), max_displacement=m["max_displacement"],
        mean_displacement=m["mean_displacement"], strokes_changed=m["strokes_changed"], notes=notes)


def _ce(logits, original, target_index):
    logp = torch.log_softmax(logits[0].double(), dim=0)
    return logp[original] if target_index is None else -logp[target_index]


def _flipped(probs: np.ndarray, original: int, target_index: int | None) -> bool:
    top = int(probs.argmax())
    return top == target_index if target_index is not None else top != original


def random_edit(sketch: Sketch, budget: float, rng: np.random.Generator,
                allowed: list[int] | None = None) -> Sketch:
    """The baseline: every (allowed) point moved by exactly the budget in a random direction."""
    limit = disp.radius(sketch, budget)
    angle = rng.uniform(0.0, 2.0 * np.pi, sketch.num_points)
    delta = np.stack([np.cos(angle), np.sin(angle)], 1) * limit
    delta = disp.project(delta, limit)
    if allowed is not None:
        bounds = disp.stroke_bounds(sketch)
        keep = np.zeros(sketch.num_points, bool)
        for k in allowed:
            keep[bounds[k]:bounds[k + 1]] = True
        delta[~keep] = 0.0
    return disp.apply(sketch, delta)
