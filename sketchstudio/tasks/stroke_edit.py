"""What assisted drawing and the adversarial attack share: a bounded edit of a sketch's points,
searched by gradient steps over the card's rendering and varied renderings of it.

- `begin`: the checks both make and the classifier's view of the untouched input.
- `look`: one look of the optimiser at an edit: its logits over the card's rendering and freshly
  drawn variations (`tasks.jitter`), and the caller's objective of them, differentiable except at
  the last look.
- `StrokeEdit`: the result fields both return.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch

from ..errors import UserError
from ..models.tasks import ModelTask
from ..progress import TaskState
from ..sketch import Sketch
from . import displacement as disp
from . import jitter
from .scoring import probabilities

T = TypeVar("T")


@dataclass(frozen=True)
class Begin:
    budget: float                   # checked: a fraction of the input's longer bbox side
    limit: float                    # the largest distance any point may move, sketch units
    probs: np.ndarray               # class probabilities of the card's rendering of the input
    labels: tuple[str, ...]

    @property
    def predicted(self) -> int:
        return int(self.probs.argmax())


def begin(sketch: Sketch, model: Any, budget: float, samples: int, tool: str,
          state: TaskState) -> Begin:
    """Check what both tools take (UserError naming what is wrong), then score the input."""
    budget = disp.check_budget(budget)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 0:
        raise UserError(f"samples must be an integer >= 0, got {samples!r}")
    task = getattr(model, "task", ModelTask.CLASSIFY)
    if task != ModelTask.CLASSIFY:
        raise UserError(f"{tool} needs a classifier; {getattr(model, 'id', 'this model')!r} is a "
                        f"{str(task)!r} model")
    limit = disp.radius(sketch, budget)
    state.check()
    probs = probabilities(sketch, model)
    labels = tuple(getattr(model, "labels", ())) or tuple(str(i) for i in range(len(probs)))
    return Begin(budget, limit, probs, labels)


def look(scorer: jitter.JitteredScorer, delta: torch.Tensor, rng: np.random.Generator, samples: int,
         tolerance: jitter.Tolerance, last: bool,
         objective: Callable[[torch.Tensor], T]) -> tuple[torch.Tensor, T]:
    """(d, objective(logits)): `delta` as a fresh leaf `d` (requiring a gradient unless `last`),
    and the objective of its logits over the card's rendering and `samples` new variations.

    Grad mode is set here, whatever the caller's: the last look needs no graph, the others do."""
    variations = [jitter.IDENTITY] + jitter.sample(rng, samples, tolerance)
    d = delta.detach().requires_grad_(not last)
    with torch.no_grad() if last else torch.enable_grad():
        return d, objective(scorer.logits(d, variations))


@dataclass(kw_only=True)
class StrokeEdit:
    """The fields of an assist or attack result: an edit of `sketch`'s points."""

    sketch: Sketch                  # the input, untouched
    labels: tuple[str, ...]
    budget: float
    displacement: np.ndarray        # (P, 2) flat, sketch units
    iterations: int
    elapsed_ms: float
    robust_renders: int = 0         # how many fixed varied re-renders the robust figures count
    notes: list[str] = field(default_factory=list)

    def label(self, index: int) -> str:
        return self.labels[index]

    @property
    def displacements(self) -> list[np.ndarray]:
        """Per stroke (n_k, 2) displacements in sketch units (zeros where a point stays)."""
        return disp.split(self.displacement, self.sketch)
