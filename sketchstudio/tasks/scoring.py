"""A classifier's logits as a differentiable function of point displacements (sketch units).

The tools move points, so the fit must move with them: with `fit = "center"` the model sees the
*edited* sketch re-centred and re-scaled by its own bounding box (that is what `render()` does when
the edited sketch is opened again). The placement is therefore computed from the moved points
inside the graph, in float64 exactly as `RenderSpec.placement` computes it, and the optimiser sees
the same pixels as the final re-render. The verdict itself never trusts this path: `probabilities`
re-renders the edited Sketch from scratch with `render()`, with no gradients.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import UserError
from ..explain.objectives import check_logits
from ..render import Layout, render, stroke_ink, to_model_input
from ..sketch import Sketch
from .displacement import flat_points


def probabilities(sketch: Sketch, model: Any) -> np.ndarray:
    """Class probabilities of a sketch through the real pipeline (render from scratch, no grad)."""
    with torch.no_grad():
        logits = model(render(sketch, model.spec, model.device))
    _check(logits, model)
    return torch.softmax(logits.double(), dim=1)[0].cpu().numpy()


def probabilities_many(sketches, model: Any, batch: int = 64) -> np.ndarray:
    """(B, C) probabilities of many sketches, each rendered from scratch, forwards batched."""
    out = []
    with torch.no_grad():
        for start in range(0, len(sketches), batch):
            chunk = sketches[start:start + batch]
            x = torch.cat([render(s, model.spec, model.device) for s in chunk])
            logits = model(x)
            _check(logits, model, rows=len(x))
            out.append(torch.softmax(logits.double(), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, len(model.labels)))


def _check(logits: torch.Tensor, model: Any, rows: int = 1) -> None:
    check_logits(logits, tuple(getattr(model, "labels", ())), rows)


class PointScorer:
    """logits(delta) for displacements delta (P, 2) of the sketch's points, differentiable."""

    def __init__(self, sketch: Sketch, model: Any) -> None:
        self.sketch = sketch
        self.model = model
        self.spec = model.spec
        self.device = getattr(model, "device", torch.device("cpu"))
        self.base = torch.as_tensor(flat_points(sketch), dtype=torch.float64, device=self.device)
        self.layout = Layout.from_lengths(sketch.points_per_stroke())

    def placement(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scale and offset (pixel = point * s + t) of moved points, as RenderSpec.placement."""
        spec = self.spec
        if spec.fit == "center":
            lo = points.min(0).values
            hi = points.max(0).values
            extent = (hi - lo).max()
            usable = float(spec.size) * (1.0 - 2.0 * spec.margin)
            # A sketch with extent keeps it under any budget <= 1 except in degenerate cases;
            # the clamp only keeps the division finite there.
            s = usable / extent.clamp_min(1e-12)
            t = float(spec.size) / 2.0 - (lo + hi) / 2.0 * s
            return s, t
        s = torch.tensor(spec.size / spec.canvas, dtype=points.dtype, device=points.device)
        return s, torch.zeros(2, dtype=points.dtype, device=points.device)

    def pixels(self, delta: torch.Tensor) -> torch.Tensor:
        points = self.base + delta
        s, t = self.placement(points)
        return (points * s + t).to(torch.float32)

    def ink(self, delta: torch.Tensor) -> torch.Tensor:
        """(1, H, W) ink image of the moved points."""
        spec = self.spec
        return stroke_ink(self.pixels(delta), self.layout, spec.size, spec.sigma,
                          width=spec.width).composite()

    def logits(self, delta: torch.Tensor) -> torch.Tensor:
        """(1, C) logits; differentiable in delta when delta requires grad."""
        out = self.model(to_model_input(self.ink(delta), self.spec))
        if out.ndim != 2 or out.shape[0] != 1:
            raise UserError("a classifier must return (batch, classes) logits, got "
                            f"{tuple(out.shape)}")
        return out

    def zeros(self) -> torch.Tensor:
        return torch.zeros_like(self.base)
