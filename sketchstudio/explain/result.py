"""Attribution: what an explanation returns (Captum-like: one result type for every method)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..models.tasks import ModelTask


@dataclass
class Attribution:
    method: str
    strokes: np.ndarray                       # one value per stroke, input order
    score_full: float                         # objective on the whole sketch
    score_blank: float                        # objective on the blank canvas
    target: str | None = None                 # label (classify)
    target_index: int | None = None
    objective: str = "logit"
    prediction: list[tuple[str, float]] = field(default_factory=list)  # top-5 (label, probability)
    segments: list[np.ndarray] | None = None  # psla: per stroke, one value per segment
    point_grads: list[np.ndarray] | None = None  # psla: per stroke, (n, 2) d score / d point
    params: dict[str, Any] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    notes: list[str] = field(default_factory=list)
    model: str | None = None
    task: str = ModelTask.CLASSIFY

    @property
    def completeness_error(self) -> float:
        """|sum of stroke values - (full - blank)| relative to |full - blank| (0 for sla/psla)."""
        gap = self.score_full - self.score_blank
        return float(abs(self.strokes.sum() - gap) / max(abs(gap), 1e-12))

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "task": self.task,
            "method": self.method,
            "objective": self.objective,
            "target": self.target,
            "target_index": self.target_index,
            "prediction": [{"label": label, "prob": round(prob, 6)}
                           for label, prob in self.prediction],
            "score_full": self.score_full,
            "score_blank": self.score_blank,
            "strokes": [float(v) for v in self.strokes],
            "segments": (None if self.segments is None
                         else [[float(v) for v in s] for s in self.segments]),
            "params": self.params,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "notes": self.notes,
        }
