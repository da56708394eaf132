"""From a Sketch to exactly the tensor a model expects, per its RenderSpec."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike

from ..sketch import Sketch
from .raster import Layout, StrokeInk, stroke_ink
from .spec import RenderSpec

# Where a tensor goes: a torch device, its name ("cpu", "cuda:0"), or None for the CPU.
Device = torch.device | str | None


@dataclass
class Placed:
    """A sketch placed in a model's input pixels: flat points (P, 2) and its segment layout."""

    points: torch.Tensor
    layout: Layout
    scale: float            # input pixels per sketch unit
    offset: np.ndarray      # pixel = point * scale + offset


def place(sketch: Sketch, spec: RenderSpec, device: Device = None,
          dtype: torch.dtype = torch.float32) -> Placed:
    scale, offset = spec.placement(sketch)
    lengths = sketch.points_per_stroke()
    flat = (np.concatenate([s.points for s in sketch.strokes]) if lengths
            else np.zeros((0, 2)))
    pixels = flat * scale + offset
    points = torch.as_tensor(pixels, dtype=dtype, device=device)
    return Placed(points, Layout.from_lengths(lengths), float(scale), np.asarray(offset))


def pixels_to_sketch(px: ArrayLike, py: ArrayLike, scale: float,
                     offset: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Input-pixel coordinates (x right, y down) back to sketch units: the inverse of `place`.

    Lets a raster-shaped result (a generator's output, a map over the input pixels) be drawn back
    over the strokes it came from.
    """
    offset = np.asarray(offset, dtype=float)
    return ((np.asarray(px, dtype=float) - offset[0]) / scale,
            (np.asarray(py, dtype=float) - offset[1]) / scale)


def rasterise(placed: Placed, spec: RenderSpec) -> StrokeInk:
    return stroke_ink(placed.points, placed.layout, spec.size, spec.sigma, width=spec.width)


def to_model_input(ink: torch.Tensor, spec: RenderSpec) -> torch.Tensor:
    """(B, H, W) ink in [0, 1] -> (B, C, H, W): polarity, channels, (x - mean) / std."""
    x = ink if spec.ink == "light-on-dark" else 1.0 - ink
    x = x.unsqueeze(1)
    if spec.channels == 3:
        x = x.expand(-1, 3, -1, -1)
    mean = torch.as_tensor(spec.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    std = torch.as_tensor(spec.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - mean) / std


def render_ink(sketch: Sketch, spec: RenderSpec, device: Device = None) -> torch.Tensor:
    """(size, size) ink image in [0, 1], no gradients."""
    with torch.no_grad():
        return rasterise(place(sketch, spec, device), spec).composite()[0]


def render(sketch: Sketch, spec: RenderSpec, device: Device = None) -> torch.Tensor:
    """The model input (1, C, size, size) for a sketch, exactly as the model's card describes it."""
    with torch.no_grad():
        return to_model_input(render_ink(sketch, spec, device).unsqueeze(0), spec)
