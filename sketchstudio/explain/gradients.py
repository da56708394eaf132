"""Gradient methods: `sla` (integrated gradients over stroke presence), `sla-grad` (one gradient
pass) and `psla` (integrated gradients per segment, plus the gradient at every point).

Stroke-level methods ink the geometry once (no gradient through the geometry) and composite it
with presence weights per step; P-SLA keeps the pair-level inks and the point coordinates in the
graph, because it also returns the gradient with respect to every point.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..progress import TaskState
from ..render import rasterise, to_model_input
from .problem import DEFAULT_STEPS, Problem, RawAttribution, full_and_blank, integrated
from .registry import AttributionMethod


@dataclass(frozen=True)
class SlaGrad(AttributionMethod):
    """d score / d alpha_k at full presence: the first-order effect of removing stroke k."""

    def attribute(self, problem: Problem, state: TaskState) -> RawAttribution:
        ink = problem.geometry()
        state.check()
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
        state.set_progress(1.0)
        return RawAttribution(grad[0].detach().cpu().numpy().astype(np.float64),
                              float(score.detach()[0]), float(blank[0]))


@dataclass(frozen=True)
class Sla(AttributionMethod):
    """Integrated gradients over stroke presence: alpha 0 -> 1 for all strokes together."""

    def attribute(self, problem: Problem, state: TaskState) -> RawAttribution:
        ink = problem.geometry()
        steps = problem.steps or DEFAULT_STEPS
        values = integrated(problem, ink.composite, ink.num_strokes, steps, state, ink.ink.numel())
        full, blank = full_and_blank(problem, ink)
        return RawAttribution(values.cpu().numpy().astype(np.float64), full, blank,
                              params={"steps": steps, "quadrature": problem.quadrature})


@dataclass(frozen=True)
class Psla(AttributionMethod):
    """Integrated gradients per segment, plus d score / d point at full presence (sketch units)."""

    def attribute(self, problem: Problem, state: TaskState) -> RawAttribution:
        steps = problem.steps or DEFAULT_STEPS
        ink = problem.geometry()
        placed = problem.placement()
        layout = placed.layout
        seg_values = integrated(problem, ink.composite_segments, layout.num_segments, steps,
                                state.child(0.0, 0.9), ink.pair_ink.numel() + ink.ink.numel())
        # Point gradient at the full sketch: where each point should move to raise the score.
        state.check()
        points = placed.points.clone().requires_grad_(True)
        moved = type(placed)(points, layout, placed.scale, placed.offset)
        geometry = rasterise(moved, problem.spec)
        score = problem.score_images(geometry.composite())
        (pgrad,) = torch.autograd.grad(score.sum(), points, allow_unused=True)
        pgrad = torch.zeros_like(points) if pgrad is None else pgrad
        # pixel = point * scale + offset, so d/d point = scale * d/d pixel (the fit is held fixed).
        grads = pgrad.detach().cpu().numpy().astype(np.float64) * placed.scale
        full, blank = full_and_blank(problem, ink)
        seg = seg_values.cpu().numpy().astype(np.float64)
        offsets = layout.stroke_seg_offsets
        segments = [seg[offsets[k]:offsets[k + 1]] for k in range(layout.num_strokes)]
        bounds = np.cumsum([0] + problem.sketch.points_per_stroke())
        point_grads = [grads[bounds[k]:bounds[k + 1]] for k in range(layout.num_strokes)]
        state.set_progress(1.0)
        return RawAttribution(np.array([s.sum() for s in segments], dtype=np.float64), full, blank,
                              segments=segments, point_grads=point_grads,
                              params={"steps": steps, "quadrature": problem.quadrature})
