"""What every attribution method sees: one sketch, one input spec, one scalar objective.

Methods see the model only through `Problem.score_images(ink)` / `Problem.score_output(output)`,
so they work for any task whose objective is one scalar per input. The batching helpers here are
shared by the methods, so memory per batch is bounded the same way for all of them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import UserError
from ..progress import TaskState
from ..render import Placed, RenderSpec, StrokeInk, place, rasterise, to_model_input
from ..sketch import Sketch
from .quadrature import DEFAULT_QUADRATURE, quadrature

# Chosen with benchmarks/ig_steps.py on the default classifier: 32 midpoint steps keep the median
# completeness error under 1%; deletion AUC is already flat from 4 steps (README, "Integration
# steps").
DEFAULT_STEPS = 32
MAX_STEPS = 4096
# The largest intermediate tensor of one batch (ink of every stroke or segment on its tiles, per
# presence row), in values: 2^24 floats = 64 MB. Large drawings get fewer rows per batch instead
# of more memory (200,000 points with psla once peaked at 13 GB); progress and cancellation are
# checked between batches, so they still stop promptly.
MAX_BATCH_VALUES = 1 << 24

Tensor = torch.Tensor


@dataclass
class Problem:
    """One sketch, one model input spec, one scalar objective, and the method's options."""

    sketch: Sketch
    spec: RenderSpec
    forward: Callable[[Tensor], Tensor]   # model input (B, C, H, W) -> output
    objective: Callable[[Tensor], Tensor] | None  # output -> (B,) scores
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    batch_size: int = 0  # 0: chosen from the input size
    blank_output: Tensor | None = None  # the model's output on the blank canvas, if known
    steps: int | None = None            # integration steps (None: the method's own default)
    quadrature: str = DEFAULT_QUADRATURE
    full_output: Tensor | None = field(default=None, init=False)  # the output on the whole sketch
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

    def placement(self) -> Placed:
        self.geometry()
        assert self.placed is not None   # set together with the ink
        return self.placed

    def score_images(self, ink: Tensor) -> Tensor:
        return self.score_output(self.forward(to_model_input(ink, self.spec)))

    def score_output(self, output: Tensor) -> Tensor:
        if self.objective is None:
            raise UserError("no objective: the explanation has nothing to attribute")
        scores = self.objective(output)
        if scores.ndim != 1 or scores.shape[0] != output.shape[0]:
            raise UserError("the objective must give one score per input, got shape "
                            f"{tuple(scores.shape)}")
        return scores


@dataclass
class RawAttribution:
    """What a method returns; `explain` adds the prediction, target, notes and timing."""

    strokes: np.ndarray
    score_full: float
    score_blank: float
    segments: list[np.ndarray] | None = None
    point_grads: list[np.ndarray] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    ran: str | None = None   # the method that actually ran, when a method delegates ("live:sla")


def rows_per_batch(problem: Problem, values_per_row: int) -> int:
    """Presence rows per batch: the model's batch size, fewer when one row's ink is large."""
    return int(max(1, min(problem.batch_size, MAX_BATCH_VALUES // max(1, values_per_row))))


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(start + size, total)


def scores_no_grad(problem: Problem, ink: StrokeInk, alphas: Tensor,
                   state: TaskState | None = None) -> Tensor:
    state = TaskState.coerce(state)
    out = []
    with torch.no_grad():
        for start, stop in chunks(len(alphas), rows_per_batch(problem, ink.ink.numel())):
            state.check()
            out.append(problem.score_images(ink.composite(alphas[start:stop])))
            state.set_progress(stop / len(alphas))
    return torch.cat(out) if out else torch.zeros(0)


def full_and_blank(problem: Problem, ink: StrokeInk) -> tuple[float, float]:
    """The objective on the whole sketch and on the blank canvas (from known outputs if any)."""
    if problem.full_output is not None and problem.blank_output is not None:
        with torch.no_grad():
            scores = problem.score_output(torch.cat([problem.full_output, problem.blank_output]))
        return float(scores[0]), float(scores[1])
    n = ink.num_strokes
    alphas = torch.stack([torch.ones(n), torch.zeros(n)]).to(problem.device)
    s = scores_no_grad(problem, ink, alphas)
    return float(s[0]), float(s[1])


def integrated(problem: Problem, composite: Callable[[Tensor], Tensor], num_units: int,
               steps: int, state: TaskState, values_per_row: int) -> Tensor:
    """Integrated gradients of the score along alpha = t * 1, t: 0 -> 1, steps batched.

    `composite(alpha (B, units)) -> ink (B, H, W)`. Returns the attribution of every unit.
    """
    nodes, weights = quadrature(steps, problem.quadrature)
    total = torch.zeros(num_units, device=problem.device)
    for start, stop in chunks(len(nodes), rows_per_batch(problem, values_per_row)):
        state.check()
        t = torch.as_tensor(nodes[start:stop], dtype=torch.float32, device=problem.device)
        w = torch.as_tensor(weights[start:stop], dtype=torch.float32, device=problem.device)
        alpha = (t[:, None] * torch.ones(1, num_units, device=problem.device)).requires_grad_(True)
        scores = problem.score_images(composite(alpha))
        (grad,) = torch.autograd.grad((scores * w).sum(), alpha, allow_unused=True)
        if grad is not None:
            total += grad.sum(0)
        state.set_progress(stop / len(nodes))
    return total


def check_steps(steps: int | None) -> None:
    if steps is not None and not 1 <= steps <= MAX_STEPS:
        raise UserError(f"steps must be in 1..{MAX_STEPS}, got {steps}")
