"""Adversarial editing: move points within a budget until the classifier changes its mind, robustly.

Projected gradient descent on point coordinates (sketch units), over the *expectation of small
variations of the rendering* (`tasks.jitter`: stroke sigma and width, fit scale and shift, sub-pixel
point noise, all within what a card cannot pin down): every iteration renders the moved points
under the card's own rendering and `SAMPLES` variations drawn afresh, and descends the mean hinge
`max(0, margin_v + MARGIN)` of the logit margin (untargeted `z[orig] - max_{j != orig} z[j]`,
targeted `max_{j != t} z[j] - z[t]`): the decision must flip by `MARGIN` logits, not merely flip,
in every variation. Every point takes its own normalised gradient step (the steepest step under a
per-point L2 bound), the step shrinks over the iterations, and every point is projected back onto
its ball of radius `budget * longer bbox side of the input` (a hard bound, whatever the
variations do: they act on the pixels, never on the points). Optionally only the K strokes with
the largest |SLA| may move. Strokes are never added, removed or re-ordered.

Success is decided only by re-rendering the edited Sketch from scratch (`render()`, no gradients)
and asking the model: the differentiable path merely proposes. `robust_success` is the fraction of
a fixed set of `jitter.ROBUST_COUNT` varied re-renders in which the decision is flipped too; the
search stops early only when the edit flips the card's rendering by the margin and every one of
them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import UserError
from ..explain.objectives import resolve_target
from ..progress import TaskState
from ..sketch import Sketch
from . import displacement as disp
from . import jitter
from . import stroke_edit as edit
from .scoring import probabilities
from .stroke_edit import StrokeEdit

DEFAULT_BUDGET = 0.03
DEFAULT_STEPS = 60
MAX_STEPS = 10_000
# Step size of the first iteration as a fraction of the per-point radius; it decays linearly to
# STEP_END. Chosen on the default classifier (docs/tools.md).
STEP_START = 0.5
STEP_END = 0.05
# How far past the decision boundary (in logits) every rendering must be pushed.
MARGIN = 2.0
MAX_MARGIN = 100.0
# Varied renderings per iteration, besides the card's own (drawn afresh every iteration).
SAMPLES = 5
# The search stops once the edit flips at least this fraction of the fixed varied re-renders.
ROBUST_STOP = 0.9
# Iterations between two verifications by re-rendering while the renderings stay past the margin.
VERIFY_EVERY = 3
# Extra runs from random starts inside the ball, only for sketches the first run did not flip.
RESTARTS = 1


@dataclass(frozen=True)
class Iteration:
    """What the attack reports as a partial result at every iteration (the studio's live plot)."""

    index: int
    probs: np.ndarray               # class probabilities of the card's own rendering


@dataclass
class _Best:
    """The best edit so far; verified ones rank by (flips the re-render, robust share, margin)."""

    delta: torch.Tensor
    rank: tuple[bool, float, float] = (False, -1.0, -float("inf"))
    probs: np.ndarray | None = None     # the card's re-render of it, once verified
    robust: float = 0.0


class AlreadyTarget(UserError):
    """A targeted attack toward the class the sketch already has: nothing to do, no edit."""


@dataclass(kw_only=True)
class AttackResult(StrokeEdit):
    success: bool                   # decided by re-rendering the edited sketch
    edited: Sketch                  # same strokes, order and points per stroke
    original_index: int
    original_prob: float            # before the edit
    adversarial_index: int          # the re-rendered prediction of `edited`
    adversarial_prob: float
    original_prob_after: float      # the original class's probability after the edit
    target_index: int | None        # None: untargeted
    strokes_allowed: list[int]      # the strokes that were allowed to move
    history: np.ndarray             # (iterations + 1, C) probabilities seen by the optimiser
    max_displacement: float = 0.0   # fractions of the input's longer bbox side
    mean_displacement: float = 0.0
    strokes_changed: int = 0
    robust_success: float = 0.0     # fraction of the fixed varied re-renders flipped too
    margin: float = MARGIN          # the logit margin asked for in every rendering

    @property
    def original_label(self) -> str:
        return self.label(self.original_index)

    @property
    def adversarial_label(self) -> str:
        return self.label(self.adversarial_index)

    @property
    def target(self) -> str | None:
        return None if self.target_index is None else self.label(self.target_index)

    def to_json(self) -> dict:
        hist_orig = self.history[:, self.original_index]
        top = self.history.argmax(1)
        history = [{"iteration": i, "original": float(hist_orig[i]),
                    "top": self.labels[int(top[i])], "top_prob": float(self.history[i, top[i]])}
                   | ({"target": float(self.history[i, self.target_index])}
                      if self.target_index is not None else {})
                   for i in range(len(self.history))]
        return {
            "success": bool(self.success),
            "verified_by": "re-render",
            "robust_success": float(self.robust_success),
            "robust_renders": int(self.robust_renders),
            "margin": float(self.margin),
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
    if (isinstance(steps, bool) or not isinstance(steps, (int, np.integer))
            or not 1 <= steps <= MAX_STEPS):
        raise UserError(f"steps must be an integer in 1..{MAX_STEPS}, got {steps!r}")
    return int(steps)


def check_margin(margin: float) -> float:
    try:
        value = float(margin)
    except (TypeError, ValueError):
        raise UserError(f"margin must be a number of logits in [0, {MAX_MARGIN:g}], "
                        f"got {margin!r}") from None
    if not (np.isfinite(value) and 0.0 <= value <= MAX_MARGIN):
        raise UserError(f"margin must be a number of logits in [0, {MAX_MARGIN:g}], got {margin!r}")
    return value


def choose_strokes(sketch: Sketch, model: Any, k: int | None, class_index: int,
                   state: TaskState | None = None) -> list[int]:
    """All strokes, or the K with the largest |SLA| for `class_index` (ties: input order)."""
    n = len(sketch)
    if k is None or k >= n:
        return list(range(n))
    from ..explain import explain

    state = TaskState.coerce(state)
    state.check()
    r = explain(sketch, model, method="sla", target=class_index, state=state)
    order = np.argsort(-np.abs(r.strokes), kind="stable")
    return sorted(int(i) for i in order[:k])


def attack(sketch: Sketch, model: Any, target: str | int | None = None,
           budget: float = DEFAULT_BUDGET, strokes: int | None = None,
           steps: int = DEFAULT_STEPS, state: TaskState | None = None,
           allowed: list[int] | None = None, margin: float = MARGIN, samples: int = SAMPLES,
           step_start: float = STEP_START, step_end: float = STEP_END,
           restarts: int = RESTARTS, seed: int = 0,
           tolerance: jitter.Tolerance = jitter.TOLERANCE) -> AttackResult:
    """Find a point edit within `budget` that changes the model's decision (or makes it `target`),
    by `margin` logits, in the card's rendering and in small variations of it.

    `strokes`: only the K strokes with the largest |SLA| may move (None: all). `allowed`: an
    explicit list of stroke indices instead (the evaluation's random-stroke baseline uses it).
    `steps`: gradient steps per run; a run that does not flip is followed by `restarts` runs from
    random starts, so up to (steps + 1) * (1 + restarts) iterations are reported. `samples`: varied
    renderings per iteration besides the card's own (0: the card's rendering alone, no EOT).
    `state` receives the progress, an `Iteration` as a partial result at every iteration (the
    studio's live plot) and is checked before every iteration; a cancel raises `Cancelled` and
    leaves nothing changed (sketches are immutable; nothing is written).
    """
    started = time.perf_counter()
    state = TaskState.coerce(state)
    steps = check_steps(steps)
    margin = check_margin(margin)
    if strokes is not None and (isinstance(strokes, bool) or int(strokes) < 1):
        raise UserError(f"the stroke budget must be at least 1, got {strokes!r}")
    given = edit.begin(sketch, model, budget, samples, "attack", state)
    budget, limit, before, labels = given.budget, given.limit, given.probs, given.labels
    original = given.predicted
    target_index = None if target is None else resolve_target(target, labels, original)
    if target_index is not None and target_index == original:
        raise AlreadyTarget(f"the sketch is already classified as {labels[original]!r} "
                            f"(p={before[original]:.2f}): no edit made")
    notes = []
    if allowed is None:
        if strokes is not None and int(strokes) >= len(sketch):
            notes.append(f"stroke budget {strokes} >= {len(sketch)} strokes: all strokes may move")
        allowed = choose_strokes(sketch, model, None if strokes is None else int(strokes),
                                 original if target_index is None else target_index,
                                 state.child(0.0, 0.05))
    allowed = sorted({int(k) for k in allowed})

    scorer = jitter.JitteredScorer(sketch, model)
    device = scorer.points.device
    bounds = disp.stroke_bounds(sketch)
    mask = np.zeros((sketch.num_points, 1))
    for k in allowed:
        mask[bounds[k]:bounds[k + 1]] = 1.0
    mask_t = torch.as_tensor(mask, dtype=torch.float64, device=device)
    robust_variations = jitter.robust_set(tolerance=tolerance)
    rng = np.random.default_rng(seed)
    history: list[np.ndarray] = []
    best = _Best(scorer.zeros())
    run_best = best.delta
    iterations, done = 0, False

    def margins_of(logits: torch.Tensor) -> torch.Tensor:
        z = logits.double()
        if target_index is None:
            own = z[:, original]
            others = torch.cat([z[:, :original], z[:, original + 1:]], dim=1)
            return own - others.max(dim=1).values
        own = z[:, target_index]
        others = torch.cat([z[:, :target_index], z[:, target_index + 1:]], dim=1)
        return others.max(dim=1).values - own

    def verify(d: torch.Tensor, m: float) -> bool:
        """Re-render a candidate (the card's rendering, then the fixed variations); True: done."""
        candidate = disp.apply(sketch, d.cpu().numpy())
        exact = probabilities(candidate, model)
        flipped = _flipped(exact, original, target_index)
        robust = jitter.flipped_fraction(jitter.probabilities(candidate, model, robust_variations),
                                         original, target_index) if flipped else 0.0
        rank = (flipped, robust, -m)
        if rank > best.rank:
            best.delta, best.rank, best.probs, best.robust = d.clone(), rank, exact, robust
        return flipped and robust >= ROBUST_STOP

    def hinge_objective(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool,
                                                      torch.Tensor]:
        """(logits, margins, past the margin everywhere, the objective to descend)."""
        margins = margins_of(logits)
        # Once every rendering is past the margin and the fixed variations still are not all
        # flipped, keep pushing the mean margin rather than stopping on a zero hinge.
        hinge = margins + margin
        past = not float(hinge.detach().max()) > 0
        return logits, margins, past, margins.mean() if past else torch.relu(hinge).mean()

    total = (steps + 1) * (1 + restarts)
    for attempt in range(1 + restarts):
        if attempt == 0:
            delta = scorer.zeros()
        else:  # a fresh start somewhere inside the ball, for the sketches the first run missed
            start = rng.normal(size=(sketch.num_points, 2)) * limit * 0.5
            delta = disp.project(torch.as_tensor(start, device=device), limit) * mask_t
        # The iterate with the lowest mean margin over its renderings, verified if nothing stops
        # the run earlier; re-rendering is costly, so verification waits for a promising iterate.
        run_best, run_value, last_verified = delta.clone(), np.inf, -VERIFY_EVERY
        # The iterate that went furthest past the boundary in the card's own rendering (the
        # identity variation sees exactly what a re-render sees): a bare flip to fall back on.
        card_best, card_value = delta.clone(), np.inf
        for it in range(steps + 1):
            state.check()
            last = it == steps
            d, (logits, margins, past, objective) = edit.look(scorer, delta, rng, samples,
                                                              tolerance, last, hinge_objective)
            probs = torch.softmax(logits[:1].detach().double(), dim=1)[0].cpu().numpy()
            history.append(probs)
            state.set_partial(Iteration(len(history) - 1, probs))
            state.set_progress(0.05 + 0.95 * len(history) / total)
            mean_margin = float(margins.detach().mean())
            if mean_margin < run_value:
                run_best, run_value = d.detach().clone(), mean_margin
            if float(margins[0].detach()) < card_value:
                card_best, card_value = d.detach().clone(), float(margins[0].detach())
            # Verify once every rendering is past the margin or, late in a run (a model whose
            # logits never reach the margin), once every rendering is at least flipped.
            ready = past or (it >= steps // 2 and float(margins.detach().max()) < 0)
            if ready and it - last_verified >= VERIFY_EVERY:
                last_verified = it
                if verify(d.detach(), float(margins[0].detach())):
                    done = True
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
        if not done:
            verify(run_best, run_value)
            if card_value < 0:
                verify(card_best, card_value)
        if done or best.rank[0]:
            break
    if best.probs is None:
        # Nothing verified flips: return the edit the optimiser liked best, re-rendered below.
        best.delta = run_best

    flat = best.delta.cpu().numpy()
    edited = disp.apply(sketch, flat)
    after = best.probs if best.probs is not None else probabilities(edited, model)
    success = _flipped(after, original, target_index)
    robust = best.robust if best.probs is not None else jitter.flipped_fraction(
        jitter.probabilities(edited, model, robust_variations), original, target_index)
    m = disp.measure(sketch, edited)
    state.set_progress(1.0)
    adv = int(after.argmax())
    return AttackResult(
        success=bool(success), sketch=sketch, edited=edited, labels=labels,
        original_index=original, original_prob=float(before[original]), adversarial_index=adv,
        adversarial_prob=float(after[adv]), original_prob_after=float(after[original]),
        target_index=target_index, budget=budget, strokes_allowed=allowed, displacement=flat,
        iterations=iterations, elapsed_ms=(time.perf_counter() - started) * 1000.0,
        history=np.array(history), max_displacement=m["max_displacement"],
        mean_displacement=m["mean_displacement"], strokes_changed=m["strokes_changed"],
        robust_success=float(robust), margin=margin, robust_renders=len(robust_variations),
        notes=notes)


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
