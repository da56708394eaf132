"""Small variations of a card's rendering, for edits that hold in the model's own pipeline.

A card describes a model's pipeline closely, never exactly: the real lines are a little thinner or
thicker, softer or crisper (PIL lines, anti-aliasing, Lanczos), the fit lands a fraction of a pixel
elsewhere, and many pipelines round points to whole pixels. An edit tuned to our exact rendering
can exploit differences of that size. The tools therefore optimise the *expectation over these
transformations* (EOT) and report how an edit fares on a fixed set of them.

A `Variation` changes only what the card is uncertain about, within `TOLERANCE`: the stroke profile
(sigma scaled, a solid core added), the fit (scaled about the raster's centre, shifted) and where
every point lands (independent sub-pixel noise, as from rounding to pixels). It is applied to the
*placed* points (input pixels), so the differentiable path (the tools' optimiser) and the
no-gradient re-render (the robust verdict) share one code path, and the budget, which lives in
sketch units, is untouched by any of it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..render import Layout, RenderSpec, place, stroke_ink, to_model_input
from ..sketch import Sketch


@dataclass(frozen=True)
class Tolerance:
    """How far a card may be off, in the units a card uses (pixels of the model's input)."""

    sigma: tuple[float, float] = (0.6, 1.3)    # factor on the card's sigma
    core: tuple[float, float] = (0.0, 1.5)     # solid core added to the card's width, pixels
    scale: float = 0.04                        # fit scaled by 1 +- this, about the centre
    shift: float = 0.75                        # fit shifted by up to this, pixels, each axis
    noise: float = 0.5                         # every point moved by up to this, pixels (rounding)


TOLERANCE = Tolerance()
# The fixed set of variations the robust verdict counts (`robust_success`): the same for every
# sketch and run, so two results can be compared.
ROBUST_COUNT = 16
ROBUST_SEED = 20_240_314


@dataclass(frozen=True)
class Variation:
    sigma: float = 1.0                  # factor on the card's sigma
    core: float = 0.0                   # pixels added to the card's solid width
    scale: float = 1.0                  # about the raster's centre
    shift: tuple[float, float] = (0.0, 0.0)
    noise: float = 0.0                  # amplitude of the per-point noise, pixels
    seed: int = 0                       # of the per-point noise

    def spec(self, spec: RenderSpec) -> RenderSpec:
        from dataclasses import replace

        sigma = min(max(spec.sigma * self.sigma, 0.05), 64.0)
        return replace(spec, sigma=sigma, width=min(spec.width + self.core, 256.0))

    def move(self, pixels: torch.Tensor, size: int) -> torch.Tensor:
        """Placed points (P, 2), input pixels, as this variation's pipeline would place them."""
        centre = size / 2.0
        shift = torch.as_tensor(self.shift, dtype=pixels.dtype, device=pixels.device)
        out = (pixels - centre) * self.scale + centre + shift
        if self.noise > 0 and len(pixels):
            rng = np.random.default_rng(self.seed)
            jitter = rng.uniform(-self.noise, self.noise, size=tuple(pixels.shape))
            out = out + torch.as_tensor(jitter, dtype=pixels.dtype, device=pixels.device)
        return out


IDENTITY = Variation()


def sample(rng: np.random.Generator, count: int,
           tolerance: Tolerance = TOLERANCE) -> list[Variation]:
    """`count` variations drawn uniformly within `tolerance`."""
    out = []
    for _ in range(count):
        out.append(Variation(
            sigma=float(rng.uniform(*tolerance.sigma)), core=float(rng.uniform(*tolerance.core)),
            scale=float(1.0 + rng.uniform(-tolerance.scale, tolerance.scale)),
            shift=(float(rng.uniform(-tolerance.shift, tolerance.shift)),
                   float(rng.uniform(-tolerance.shift, tolerance.shift))),
            noise=float(tolerance.noise), seed=int(rng.integers(2 ** 31))))
    return out


def robust_set(count: int = ROBUST_COUNT, tolerance: Tolerance = TOLERANCE) -> list[Variation]:
    """The fixed variations the robust verdict is counted on."""
    return sample(np.random.default_rng(ROBUST_SEED), count, tolerance)


def ink(pixels: torch.Tensor, layout: Layout, spec: RenderSpec,
        variation: Variation) -> torch.Tensor:
    """(1, H, W) ink of placed points under one variation (differentiable in `pixels`)."""
    s = variation.spec(spec)
    moved = variation.move(pixels, spec.size).to(torch.float32)
    return stroke_ink(moved, layout, spec.size, s.sigma, width=s.width).composite()


def inputs(pixels: torch.Tensor, layout: Layout, spec: RenderSpec,
           variations: Sequence[Variation]) -> torch.Tensor:
    """(V, C, H, W) model inputs, one per variation."""
    return to_model_input(torch.cat([ink(pixels, layout, spec, v) for v in variations]), spec)


def probabilities(sketch: Sketch, model: Any, variations: Sequence[Variation]) -> np.ndarray:
    """(V, C) class probabilities of a sketch re-rendered from scratch under each variation."""
    device = getattr(model, "device", torch.device("cpu"))
    with torch.no_grad():
        placed = place(sketch, model.spec, device, dtype=torch.float64)
        logits = model(inputs(placed.points, placed.layout, model.spec, variations))
    return torch.softmax(logits.double(), dim=1).cpu().numpy()


def flipped_fraction(probs: np.ndarray, original: int, target: int | None) -> float:
    """The fraction of rows (variations) whose decision left `original` (or reached `target`)."""
    top = probs.argmax(1)
    hits = top == target if target is not None else top != original
    return float(np.mean(hits)) if len(hits) else 0.0


class JitteredScorer:
    """(V, C) logits of a sketch's moved points under several variations at once, differentiable
    in the displacements (sketch units). Wraps `PointScorer`, whose placement re-fits the moved
    points exactly as a re-render does."""

    def __init__(self, sketch: Sketch, model: Any) -> None:
        from .scoring import PointScorer

        self.points = PointScorer(sketch, model)
        self.model = model
        self.spec = model.spec

    def logits(self, delta: torch.Tensor, variations: Sequence[Variation]) -> torch.Tensor:
        pixels = self.points.pixels(delta)
        out = self.model(inputs(pixels, self.points.layout, self.spec, variations))
        if out.ndim != 2 or out.shape[0] != len(variations):
            from ..errors import UserError

            raise UserError(f"a classifier must return (batch, classes) logits, got "
                            f"{tuple(out.shape)}")
        return out

    def zeros(self) -> torch.Tensor:
        return self.points.zeros()
