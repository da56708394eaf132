"""Stroke-level attribution methods: sla, sla-grad, psla, occlusion.

All of them see the model only through `Problem.score(images)`, so they work for any task whose
objective is one scalar per input. Stroke-level methods ink the geometry once (no gradient through
the geometry) and composite it with presence weights per step; P-SLA keeps the pair-level inks and
the point coordinates in the graph, because it also returns the gradient with respect to every point.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ..errors import UserError
from ..progress import CancelledFn, ProgressFn, check, report
from ..render import Placed, RenderSpec, StrokeInk, place, rasterise, to_model_input
from ..sketch import Sketch
from .quadrature import quadrature

METHODS = ("live", "sla", "sla-grad", "psla", "occlusion")
METHOD_LABELS = {"live": "Live (auto)", "sla": "SLA", "sla-grad": "SLA-grad", "psla": "P-SLA",
                 "occlusion": "Occlusion"}


def method_label(method: str) -> str:
    """The name shown for what produced the values: "live:occlusion" -> "Live (occlusion)"."""
    if method.startswith("live:"):
        inner = method.removeprefix("live:")
        return f"Live: {METHOD_LABELS.get(inner, inner)}"
    return METHOD_LABELS.get(method, method)
# Chosen with benchmarks/ig_steps.py on the default classifier: 32 midpoint steps keep the median
# completeness error under 1%; deletion AUC is already flat from 4 steps (README, "Integration steps").
DEFAULT_STEPS = 32
DEFAULT_QUADRATURE = "midpoint"
# The largest intermediate tensor of one batch (ink of every stroke or segment on its tiles, per
# presence row), in values: 2^24 floats = 64 MB. Large drawings get fewer rows per batch instead
# of more memory (200,000 points with psla once peaked at 13 GB); progress and cancellation are
# checked between batches, so they still stop promptly.
MAX_BATCH_VALUES = 1 << 24


@dataclass
class Problem:
    """One sketch, one model input spec, one scalar objective."""

    sketch: Sketch
    spec: RenderSpec
    forward: Callable[[torch.Tensor], torch.Tensor]   # model input (B, C, H, W) -> output
    objective: Callable[[torch.Tensor], torch.Tensor]  # output -> (B,) scores
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    batch_size: int = 0  # 0: chosen from the input size
    blank_output: torch.Tensor | None = None  # the model's output on the blank canvas, if known
    full_output: torch.Tensor | None = field(default=None, init=False)  # the output on the whole sketch
    placed: Placed | None = field(default=None, init=False)
    ink: StrokeInk | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.batch_size <= 0:
            pixels = self.spec.size * self.spec.size * self.spec.channels
            self.batch_size = int(max(1, min(64, 1_000_000 // pixels)))

    def geometry(self) -> StrokeInk:
        """The sketch placed and inked once, shared by the prediction and the method."""
        if self.ink is None:
            with torch.no_grad():
                self.placed = place(self.sketch, self.spec, self.device)
                self.ink = rasterise(self.placed, self.spec)
        return self.ink

    def score_images(self, ink: torch.Tensor) -> torch.Tensor:
        return self.score_output(self.forward(to_model_input(ink, self.spec)))

    def score_output(self, output: torch.Tensor) -> torch.Tensor:
        scores = self.objective(output)
        if scores.ndim != 1 or scores.shape[0] != output.shape[0]:
            raise UserError(f"the objective must give one score per input, got shape {tuple(scores.shape)}")
        return scores


@dataclass
class RawAttribution:
    strokes: np.ndarray
    score_full: float
    score_blank: float
    segments: list[np.ndarray] | None = None
    point_grads: list[np.ndarray] | None = None
    params: dict = field(default_factory=dict)


def _rows_per_batch(problem: Problem, values_per_row: int) -> int:
    """Presence rows per batch: the model's batch size, fewer when one row's ink is large."""
    return int(max(1, min(problem.batch_size, MAX_BATCH_VALUES // max(1, values_per_row))))


def _chunks(total: int, size: int):
    for start in range(0, total, size):
        yield start, min(start + size, total)


def _scores_no_grad(problem: Problem, ink: StrokeInk, alphas: torch.Tensor,
                    progress: ProgressFn, cancelled: CancelledFn) -> torch.Tensor:
    out = []
    with torch.no_grad():
        for start, stop in _chunks(len(alphas), _rows_per_batch(problem, ink.ink.numel())):
            check(cancelled)
            out.append(problem.score_images(ink.composite(alphas[start:stop])))
            report(progress, stop / len(alphas))
    return torch.cat(out) if out else torch.zeros(0)


def _full_and_blank(problem: Problem, ink: StrokeInk) -> tuple[float, float]:
    if problem.full_output is not None and problem.blank_output is not None:
        with torch.no_grad():
            scores = problem.score_output(torch.cat([problem.full_output, problem.blank_output]))
        return float(scores[0]), float(scores[1])
    n = ink.num_strokes
    alphas = torch.stack([torch.ones(n), torch.zeros(n)]).to(problem.device)
    s = _scores_no_grad(problem, ink, alphas, None, None)
    return float(s[0]), float(s[1])


def sla_grad(problem: Problem, ink: StrokeInk, progress: ProgressFn, cancelled: CancelledFn,
             steps: int | None) -> RawAttribution:
    """d score / d alpha_k at full presence: the first-order effect of removing stroke k."""
    check(cancelled)
    alpha = torch.ones(1, ink.num_strokes, device=problem.device, requires_grad=True)
    output = problem.forward(to_model_input(ink.composite(alpha), problem.spec))
    problem.full_output = output.detach()
    score = problem.score_output(output)
    (grad,) = torch.autograd.grad(score.sum(), alpha, allow_unused=True)
    grad = torch.zeros_like(alpha) if grad is None else grad
    with torch.no_grad():
        if problem.blank_output is not None:
            blank = problem.score_output(problem.blank_output)
        else:
            blank = problem.score_images(ink.composite(torch.zeros_like(alpha)))
    report(progress, 1.0)
    return RawAttribution(grad[0].detach().cpu().numpy().astype(np.float64),
                          float(score.detach()[0]), float(blank[0]))


def _integrated(problem: Problem, composite, num_units: int, steps: int, rule: str,
                progress: ProgressFn, cancelled: CancelledFn, values_per_row: int) -> torch.Tensor:
    """Integrated gradients of the score along alpha = t * 1, t: 0 -> 1, steps batched.

    `composite(alpha (B, units)) -> ink (B, H, W)`. Returns the attribution of every unit.
    """
    nodes, weights = quadrature(steps, rule)
    total = torch.zeros(num_units, device=problem.device)
    for start, stop in _chunks(len(nodes), _rows_per_batch(problem, values_per_row)):
        check(cancelled)
        t = torch.as_tensor(nodes[start:stop], dtype=torch.float32, device=problem.device)
        w = torch.as_tensor(weights[start:stop], dtype=torch.float32, device=problem.device)
        alpha = (t[:, None] * torch.ones(1, num_units, device=problem.device)).requires_grad_(True)
        scores = problem.score_images(composite(alpha))
        (grad,) = torch.autograd.grad((scores * w).sum(), alpha, allow_unused=True)
        if grad is not None:
            total += grad.sum(0)
        report(progress, stop / len(nodes))
    return total


def sla(problem: Problem, ink: StrokeInk, progress: ProgressFn, cancelled: CancelledFn,
        steps: int | None, rule: str = DEFAULT_QUADRATURE) -> RawAttribution:
    steps = steps or DEFAULT_STEPS
    values = _integrated(problem, ink.composite, ink.num_strokes, steps, rule, progress, cancelled,
                         ink.ink.numel())
    full, blank = _full_and_blank(problem, ink)
    return RawAttribution(values.cpu().numpy().astype(np.float64), full, blank,
                          params={"steps": steps, "quadrature": rule})


def psla(problem: Problem, progress: ProgressFn, cancelled: CancelledFn, steps: int | None,
         rule: str = DEFAULT_QUADRATURE) -> RawAttribution:
    """Integrated gradients per segment, plus d score / d point at full presence (sketch units)."""
    steps = steps or DEFAULT_STEPS
    ink = problem.geometry()
    placed = problem.placed
    layout = placed.layout
    seg_values = _integrated(problem, ink.composite_segments, layout.num_segments, steps, rule,
                             lambda f: report(progress, 0.9 * f), cancelled,
                             ink.pair_ink.numel() + ink.ink.numel())
    # Point gradient at the full sketch: the direction each point should move to raise the score.
    check(cancelled)
    points = placed.points.clone().requires_grad_(True)
    geometry = rasterise(type(placed)(points, layout, placed.scale, placed.offset), problem.spec)
    score = problem.score_images(geometry.composite())
    (pgrad,) = torch.autograd.grad(score.sum(), points, allow_unused=True)
    pgrad = torch.zeros_like(points) if pgrad is None else pgrad
    # pixel = point * scale + offset, so d/d point = scale * d/d pixel (the fit is held fixed).
    pgrad = pgrad.detach().cpu().numpy().astype(np.float64) * placed.scale
    full, blank = _full_and_blank(problem, ink)
    seg = seg_values.cpu().numpy().astype(np.float64)
    offsets = layout.stroke_seg_offsets
    segments = [seg[offsets[k]:offsets[k + 1]] for k in range(layout.num_strokes)]
    bounds = np.cumsum([0] + problem.sketch.points_per_stroke())
    point_grads = [pgrad[bounds[k]:bounds[k + 1]] for k in range(layout.num_strokes)]
    report(progress, 1.0)
    return RawAttribution(np.array([s.sum() for s in segments], dtype=np.float64), full, blank,
                          segments=segments, point_grads=point_grads,
                          params={"steps": steps, "quadrature": rule})


def occlusion(problem: Problem, ink: StrokeInk, progress: ProgressFn, cancelled: CancelledFn,
              steps: int | None) -> RawAttribution:
    """Exact leave-one-stroke-out: score(full) - score(without k), N + 1 renders batched.

    Each "without k" image subtracts stroke k's ink from the whole sketch in log space
    (`StrokeInk.composite_leave_one_out`), so memory per batch is one canvas per row whatever N is.
    """
    n = ink.num_strokes
    full, blank = _full_and_blank(problem, ink)   # the model's outputs on both, when known
    with torch.no_grad():
        values = []
        for start, stop in _chunks(n, _rows_per_batch(problem, ink.padded * ink.padded)):
            check(cancelled)
            strokes = torch.arange(start, stop, device=problem.device)
            values.append(full - problem.score_images(ink.composite_leave_one_out(strokes)))
            report(progress, stop / n)
    strokes_values = torch.cat(values) if values else torch.zeros(0)
    return RawAttribution(strokes_values.cpu().numpy().astype(np.float64), full, blank)


def check_method(method: str, steps: int | None) -> None:
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if steps is not None and not 1 <= steps <= 4096:
        raise UserError(f"steps must be in 1..4096, got {steps}")


def run_method(problem: Problem, method: str, steps: int | None = None, rule: str = DEFAULT_QUADRATURE,
               progress: ProgressFn = None, cancelled: CancelledFn = None) -> RawAttribution:
    check_method(method, steps)
    if method == "psla":
        return psla(problem, progress, cancelled, steps, rule)
    ink = problem.geometry()
    if method == "sla":
        return sla(problem, ink, progress, cancelled, steps, rule)
    return {"sla-grad": sla_grad, "occlusion": occlusion}[method](problem, ink, progress, cancelled, steps)
