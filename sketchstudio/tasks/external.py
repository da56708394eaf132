"""A second, independent way to turn a sketch into a model's input: PIL lines, Lanczos.

A user's model was trained on its own pipeline, never exactly on our renderer. To tell a finding
about the model from a finding about our renderer, the tools' edits are also judged here, in a
pipeline that shares no code with `sketchstudio.render`: the sketch is drawn with PIL's
anti-aliasing-free lines on a canvas `SUPERSAMPLE` times the model's side, then shrunk with a
Lanczos filter (how many Quick, Draw! pipelines make their 28 or 64 px inputs).

Only what a card *says* is shared: side, fit (centred with its margin, or raw coordinates on the
canvas), polarity, channels and normalisation. The stroke is a solid PIL line whose width gives the
same ink per unit length as the card's profile (a Gaussian of sigma carries sqrt(2 pi) sigma pixels
of ink across the line; a solid core adds its width), rounded to whole pixels of the big canvas, as
a real pipeline's integer line widths are. Point coordinates are rounded to whole pixels of the big
canvas too (PIL draws between integer pixels).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..render import RenderSpec
from ..sketch import Sketch

SUPERSAMPLE = 4


def pil_line_width(spec: RenderSpec, supersample: int = SUPERSAMPLE) -> int:
    """The big canvas's line width, in whole pixels, with the card's ink per unit length."""
    return max(1, round((spec.width + math.sqrt(2.0 * math.pi) * spec.sigma) * supersample))


def pil_ink(sketch: Sketch, spec: RenderSpec, supersample: int = SUPERSAMPLE) -> np.ndarray:
    """(size, size) ink in [0, 1]: PIL lines on a big canvas, Lanczos down to the card's side."""
    big = spec.size * supersample
    image = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(image)
    width = pil_line_width(spec, supersample)
    if len(sketch):
        scale, offset = spec.placement(sketch)
        for stroke in sketch.strokes:
            pts = np.round((np.asarray(stroke.points, float) * scale + offset) * supersample)
            xy = [(float(x), float(y)) for x, y in pts]
            if len(xy) == 1 or all(p == xy[0] for p in xy):
                r = width / 2.0
                x, y = xy[0]
                draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
            else:
                draw.line(xy, fill=255, width=width, joint="curve")
    small = image.resize((spec.size, spec.size), Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.float32) / 255.0


def pil_input(sketch: Sketch, spec: RenderSpec) -> torch.Tensor:
    """(1, C, size, size): the card's polarity, channels and normalisation on the PIL ink."""
    ink = torch.as_tensor(pil_ink(sketch, spec)).unsqueeze(0)
    x = ink if spec.ink == "light-on-dark" else 1.0 - ink
    x = x.unsqueeze(1)
    if spec.channels == 3:
        x = x.expand(-1, 3, -1, -1)
    mean = torch.tensor(spec.mean, dtype=x.dtype).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - mean) / std


def pil_probabilities(sketches: Sequence[Sketch], model: Any, batch: int = 64) -> np.ndarray:
    """(B, C) class probabilities of sketches drawn by the PIL pipeline, forwards batched."""
    device = getattr(model, "device", torch.device("cpu"))
    out = []
    with torch.no_grad():
        for start in range(0, len(sketches), batch):
            x = torch.cat([pil_input(s, model.spec) for s in sketches[start:start + batch]])
            out.append(torch.softmax(model(x.to(device)).double(), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, len(model.labels)))
