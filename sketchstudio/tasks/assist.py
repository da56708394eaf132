"""Assisted drawing: hints that raise a target class, each one an undoable vector edit.

Three kinds of hint, all from the differentiable renderer:

- "move": small displacements of a stroke's points that raise the target's log-probability. A few
  projected ascent steps on the point coordinates, the gradient smoothed along every stroke (a
  Gaussian over point index, so neighbouring points move together and strokes stay smooth), every
  point kept within `budget * longer bbox side of the input`. The best iterate is kept.
- "against": strokes whose P-SLA of the target's log-probability is negative (the model reads them
  as evidence for another class); the per-segment values say which part of the stroke.
- ink help: the gradient of the target's log-probability with respect to ink on blank pixels,
  positive part, normalised to [0, 1]: where a new line would help most. It lives in the model's
  raster; `raster_scale` / `raster_offset` map it back onto the canvas.

The moves hold beyond our renderer: every ascent step averages log p(target) over the card's own
rendering and `SAMPLES` small variations of it (`tasks.jitter`: stroke profile, fit, sub-pixel
noise; expectation over transformation), and a stroke's move is only offered if, accepted alone, it
raises the target both in the card's re-render and on average over the fixed varied re-renders
(`jitter.robust_set`).

`before` and `after` are target probabilities measured by re-rendering the sketch from scratch;
`robust_before` and `robust_after` the same averaged over the fixed varied re-renders.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import UserError
from ..explain.objectives import resolve_target
from ..progress import TaskState
from ..render import to_model_input
from ..render.pipeline import pixels_to_sketch
from ..sketch import Sketch
from . import displacement as disp
from . import jitter
from . import stroke_edit as edit
from .scoring import PointScorer, probabilities
from .stroke_edit import StrokeEdit

DEFAULT_BUDGET = 0.05
DEFAULT_STEPS = 20
# Smoothing of the point gradient along a stroke, in points (Quick, Draw! strokes are simplified,
# so neighbouring points are already far apart: a small sigma is a strong smoothing).
SMOOTHING = 1.0
STEP = 0.35           # first step as a fraction of the per-point radius, decaying to STEP / 10
BLANK_INK = 0.05      # a raster pixel with less ink than this counts as blank canvas
AGAINST_TOLERANCE = 1e-3  # |SLA| below this fraction of the largest one is no evidence either way
SAMPLES = 3           # varied renderings per ascent step, besides the card's own


@dataclass(frozen=True)
class TargetLogProbability:
    index: int
    name: str = "log-probability"

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(output.double(), dim=1)[:, self.index].to(output.dtype)


@dataclass
class Hint:
    stroke: int
    kind: str            # "move" or "against"
    values: dict

    def to_json(self) -> dict:
        return {"stroke": self.stroke, "kind": self.kind, **self.values}


@dataclass(kw_only=True)
class AssistResult(StrokeEdit):
    target_index: int
    predicted_index: int            # the model's class for the input
    before: float                   # target probability of the input (re-rendered)
    after: float                    # target probability with every hint accepted (re-rendered)
    side: float                     # longer bbox side of the input, sketch units
    hints: list[Hint]               # `displacement` holds every move hint together
    sla: np.ndarray                 # (N,) P-SLA per stroke of log p(target)
    segments: list[np.ndarray]      # per stroke, P-SLA per segment
    ink_help: np.ndarray            # (H, W) in [0, 1], model raster: where new ink would help
    ink_help_peak: float            # the unnormalised maximum (d log p / d ink)
    raster_scale: float             # raster pixel = sketch point * scale + offset
    raster_offset: np.ndarray
    stroke_after: np.ndarray        # (N,) target probability with only stroke k's move accepted
    robust_before: float = 0.0      # target probability averaged over the fixed varied re-renders
    robust_after: float = 0.0       # the same with every offered move accepted

    @property
    def target(self) -> str:
        return self.label(self.target_index)

    @property
    def predicted(self) -> str:
        return self.label(self.predicted_index)

    @property
    def edited(self) -> Sketch:
        """The sketch with every move accepted (the ghost of the adjusted strokes)."""
        return self.apply()

    def apply(self, strokes: Iterable[int] | None = None) -> Sketch:
        """A new sketch with the moves of `strokes` accepted (all when None); others unchanged."""
        return disp.apply(self.sketch, self.displacement, strokes)

    def measure(self, strokes: Iterable[int] | None = None) -> dict:
        return disp.measure(self.sketch, self.apply(strokes))

    def pixel_to_sketch(self, px, py) -> tuple[np.ndarray, np.ndarray]:
        """Raster pixel coordinates (x right, y down; pixel (i, j) covers [j, j+1) x [i, i+1))
        to sketch coordinates."""
        return pixels_to_sketch(px, py, self.raster_scale, self.raster_offset)

    def raster_extent(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1): where the whole ink_help image lies on the canvas, sketch units."""
        h, w = self.ink_help.shape
        x0, y0 = self.pixel_to_sketch(0.0, 0.0)
        x1, y1 = self.pixel_to_sketch(float(w), float(h))
        return (float(x0), float(y0), float(x1), float(y1))

    def ink_help_peaks(self, count: int = 5) -> list[dict]:
        """The strongest blank pixels, as canvas points (pixel centres), strongest first."""
        flat = self.ink_help.reshape(-1)
        order = np.argsort(-flat, kind="stable")[:count]
        peaks = []
        for i in order:
            if flat[i] <= 0:
                break
            row, col = divmod(int(i), self.ink_help.shape[1])
            x, y = self.pixel_to_sketch(col + 0.5, row + 0.5)
            peaks.append({"x": float(x), "y": float(y), "value": float(flat[i])})
        return peaks

    def to_json(self) -> dict:
        m = self.measure()
        return {
            "target": self.target,
            "predicted": self.predicted,
            "before": self.before,
            "after": self.after,
            "gain": self.after - self.before,
            "robust_before": self.robust_before,
            "robust_after": self.robust_after,
            "robust_renders": self.robust_renders,
            "budget": self.budget,
            "max_displacement": m["max_displacement"],
            "mean_displacement": m["mean_displacement"],
            "strokes_changed": m["strokes_changed"],
            "hints": [h.to_json() for h in self.hints],
            "ink_help": {"size": list(self.ink_help.shape), "peak_gradient": self.ink_help_peak,
                         "extent": list(self.raster_extent()), "peaks": self.ink_help_peaks()},
            "iterations": self.iterations,
            "elapsed_ms": self.elapsed_ms,
            "notes": list(self.notes),
        }


def assist(sketch: Sketch, model: Any, target: str | int | None = None,
           budget: float = DEFAULT_BUDGET, steps: int = DEFAULT_STEPS,
           smoothing: float = SMOOTHING, sla_steps: int | None = None,
           state: TaskState | None = None, samples: int = SAMPLES, seed: int = 0,
           tolerance: jitter.Tolerance = jitter.TOLERANCE) -> AssistResult:
    """Hints that raise `target` (label or index; None: the predicted class) within `budget`.

    `state` receives the progress and is checked often; a cancel raises `Cancelled`, nothing
    changed. `samples`: varied renderings per ascent step besides the card's own (0: none).
    """
    from ..explain import explain

    started = time.perf_counter()
    state = TaskState.coerce(state)
    if (isinstance(steps, bool) or not isinstance(steps, (int, np.integer))
            or not 0 <= steps <= 10_000):
        raise UserError(f"steps must be an integer in 0..10000, got {steps!r}")
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise UserError(f"smoothing must be >= 0 points, got {smoothing!r}")
    given = edit.begin(sketch, model, budget, samples, "assist", state)
    budget, limit, probs0, labels = given.budget, given.limit, given.probs, given.labels
    predicted = given.predicted
    side = disp.bbox_side(sketch)
    ti = resolve_target(target, labels, predicted)
    notes = []
    if ti == predicted:
        notes.append(f"the sketch is already classified as {labels[ti]!r} "
                     f"({probs0[ti]:.0%} sure); the hints make it more so")

    # (b) strokes that argue against the target: P-SLA of its log-probability, so a stroke that
    # raises a rival class more than the target counts against it (a logit cannot show that).
    sla_state = state.child(0.0, 0.3)
    attribution = explain(sketch, model, method="psla", objective=TargetLogProbability(ti),
                          steps=sla_steps, state=sla_state)

    # (a) moves: smoothed, projected ascent on the mean log p(target) over varied renderings,
    # best iterate kept.
    scorer = jitter.JitteredScorer(sketch, model)
    device = scorer.points.device
    rng = np.random.default_rng(seed)
    smoother = torch.as_tensor(disp.block_smoother(sketch, smoothing), device=device)
    delta = scorer.zeros()
    best_delta, best_value = delta, -np.inf
    iterations = 0

    def mean_log_p(logits: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits.double(), dim=1)[:, ti].mean()

    for it in range(steps + 1):
        state.check()
        last = it == steps
        d, value = edit.look(scorer, delta, rng, samples, tolerance, last, mean_log_p)
        if float(value.detach()) > best_value:
            best_value, best_delta = float(value.detach()), d.detach().clone()
        state.set_progress(0.3 + 0.5 * (it + 1) / (steps + 1))
        if last:
            break
        (grad,) = torch.autograd.grad(value, d)
        grad = smoother @ grad
        peak = float(grad.norm(dim=1).max())
        if not peak > 0:
            break
        size = limit * STEP * (1.0 - 0.9 * it / max(steps - 1, 1))
        # The largest point step is `size`; the others keep their smoothed proportions.
        delta = disp.project(d.detach() + size * grad / peak, limit)
        iterations += 1
    flat = best_delta.cpu().numpy()
    bounds = disp.stroke_bounds(sketch)
    moved = [k for k in range(len(sketch))
             if np.any(np.linalg.norm(flat[bounds[k]:bounds[k + 1]], axis=1) > 0)]

    # Re-measure each stroke's move alone (for "accept one"), in the card's re-render and over
    # the fixed variations; a move is offered only if it raises the target in both.
    state.check()
    robust = jitter.robust_set(tolerance=tolerance)
    measure_state = state.child(0.8, 0.9)

    def measured(edit: Sketch) -> tuple[float, float]:
        measure_state.check()
        exact = float(probabilities(edit, model)[ti])
        varied = float(jitter.probabilities(edit, model, robust)[:, ti].mean())
        return exact, varied

    before, robust_before = measured(sketch)
    stroke_after = np.full(len(sketch), float(probs0[ti]))
    offered, dropped = [], 0
    for n, k in enumerate(moved):
        exact, varied = measured(disp.apply(sketch, flat, [k]))
        measure_state.set_progress((n + 1) / (len(moved) + 1))
        if exact > before and varied > robust_before:
            offered.append(k)
            stroke_after[k] = exact
        else:
            dropped += 1
    keep = np.zeros((len(flat), 1))
    for k in offered:
        keep[bounds[k]:bounds[k + 1]] = 1.0
    flat = flat * keep
    after, robust_after = measured(disp.apply(sketch, flat)) if offered else (before, robust_before)
    if offered and not (after > before and robust_after > robust_before):
        # Each move helps alone but not all together: offer none rather than a bad "accept all".
        flat, offered, after, robust_after = np.zeros_like(flat), [], before, robust_before
        stroke_after[:] = probs0[ti]
        dropped = len(moved)
    if dropped:
        notes.append(f"{dropped} stroke move(s) left out: they did not raise the target in "
                     "re-renders of slightly varied pipelines")
    if not offered:
        notes.append("no move within the budget raises the target")
    moved = offered
    state.set_progress(0.9)

    # (c) where ink would help.
    state.check()
    ink_help, peak, scale, offset = _ink_help(scorer.points, ti)

    hints = []
    norms = np.linalg.norm(flat, axis=1)
    for k in range(len(sketch)):
        n = norms[bounds[k]:bounds[k + 1]]
        if k in moved:
            hints.append(Hint(k, "move", {
                "max_displacement": float(n.max() / side),
                "mean_displacement": float(n.mean() / side),
                "after": float(stroke_after[k]), "gain": float(stroke_after[k] - probs0[ti]),
                "displacement": np.round(flat[bounds[k]:bounds[k + 1]], 4).tolist()}))
    sla = np.asarray(attribution.strokes, dtype=np.float64)
    # psla always gives per-segment values; the fallback only keeps the types honest.
    segments = [np.asarray(v, dtype=np.float64) for v in
                (attribution.segments or [np.zeros(0)] * len(sketch))]
    tolerance_sla = AGAINST_TOLERANCE * (np.abs(sla).max() if len(sla) else 0.0)
    for k in np.argsort(sla, kind="stable"):
        if sla[k] < -tolerance_sla:
            hints.append(Hint(int(k), "against", {
                "sla": float(sla[k]),
                "segments": [float(v) for v in segments[k]]}))
    state.set_progress(1.0)
    return AssistResult(
        sketch=sketch, labels=labels, target_index=ti, predicted_index=predicted,
        before=float(probs0[ti]), after=float(after), budget=budget, side=side,
        displacement=flat, hints=hints, sla=sla,
        segments=segments,
        ink_help=ink_help, ink_help_peak=peak, raster_scale=scale, raster_offset=offset,
        stroke_after=stroke_after, iterations=iterations,
        elapsed_ms=(time.perf_counter() - started) * 1000.0, robust_before=robust_before,
        robust_after=robust_after, robust_renders=len(robust), notes=notes)


def _dot_kernel(spec) -> torch.Tensor:
    """The ink of one dot in the model's raster: the renderer's own profile, (1, 1, k, k)."""
    from ..render.raster import ink_profile, ink_radius

    r = int(math.ceil(ink_radius(spec.sigma, spec.width)))
    offsets = torch.arange(-r, r + 1, dtype=torch.float64)
    dist2 = offsets.view(-1, 1) ** 2 + offsets.view(1, -1) ** 2
    return ink_profile(dist2, spec.sigma, spec.width).view(1, 1, 2 * r + 1, 2 * r + 1)


def _ink_help(scorer: PointScorer, target_index: int):
    """Where a dot of new ink would raise log p(target) most, on blank pixels, normalised to [0, 1].

    The pixel gradient alone is speckled (one pixel is not something an artist can draw). A dot of
    ink at q adds k(p - q) (1 - ink(p)) to every pixel p under soft-OR compositing, so its first-
    order effect is the gradient times (1 - ink), correlated with the renderer's dot profile k.
    """
    spec = scorer.spec
    with torch.no_grad():
        ink = scorer.ink(scorer.zeros())
        s, t = scorer.placement(scorer.base)
    ink = ink.detach().requires_grad_(True)
    with torch.enable_grad():
        out = scorer.model(to_model_input(ink, spec))
        value = torch.log_softmax(out[0].double(), dim=0)[target_index]
        (grad,) = torch.autograd.grad(value, ink, allow_unused=True)
    if grad is None:
        grad = torch.zeros_like(ink)
    kernel = _dot_kernel(spec).to(device=grad.device)
    weighted = (grad.double() * (1.0 - ink.detach().double())).unsqueeze(1)
    dot_effect = torch.nn.functional.conv2d(weighted, kernel, padding=kernel.shape[-1] // 2)[:, 0]
    blank = ink.detach() < BLANK_INK
    helpful = (dot_effect.clamp(min=0) * blank)[0].cpu().numpy()
    peak = float(helpful.max()) if helpful.size else 0.0
    normalised = helpful / peak if peak > 0 else helpful
    return normalised, peak, float(s), t.detach().cpu().numpy().astype(np.float64)
