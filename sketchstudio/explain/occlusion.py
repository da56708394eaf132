"""`occlusion`: exact leave-one-stroke-out, the model-agnostic reference."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..progress import TaskState
from .problem import Problem, RawAttribution, chunks, full_and_blank, rows_per_batch
from .registry import AttributionMethod


@dataclass(frozen=True)
class Occlusion(AttributionMethod):
    """score(full) - score(without k), N + 1 renders batched.

    Each "without k" image subtracts stroke k's ink from the whole sketch in log space
    (`StrokeInk.composite_leave_one_out`), so memory per batch is one canvas per row whatever N is.
    """

    def attribute(self, problem: Problem, state: TaskState) -> RawAttribution:
        ink = problem.geometry()
        n = ink.num_strokes
        full, blank = full_and_blank(problem, ink)   # the model's outputs on both, when known
        with torch.no_grad():
            values = []
            for start, stop in chunks(n, rows_per_batch(problem, ink.padded * ink.padded)):
                state.check()
                strokes = torch.arange(start, stop, device=problem.device)
                values.append(full - problem.score_images(ink.composite_leave_one_out(strokes)))
                state.set_progress(stop / n)
        strokes_values = torch.cat(values) if values else torch.zeros(0)
        return RawAttribution(strokes_values.cpu().numpy().astype(np.float64), full, blank)
