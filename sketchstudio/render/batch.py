"""Many sketches inked in one rasteriser call (an atlas), with no gradients: the same pixels as
`render_ink` of each, at a fraction of the fixed cost per call (galleries, training features)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..sketch import Sketch
from .pipeline import render_ink
from .raster import Layout, choose_tile, ink_radius, stroke_ink
from .spec import RenderSpec


def render_batch(sketches: Sequence[Sketch], spec: RenderSpec, device: Any = None) -> torch.Tensor:
    """(B, size, size) ink of many sketches, no gradients: the same pixels as `render_ink`.

    Rendering one sketch at a time costs a few milliseconds of fixed overhead each; here the
    sketches are laid out as cells of one large atlas, separated by more than the ink radius, and
    inked by the project's rasteriser in one call. Cells are aligned to the renderer's tiles, so
    every pixel sees the same segments with the same formula. A sketch whose points leave its
    canvas (fit = "canvas") would ink its neighbours and is rendered on its own.
    """
    size = spec.size
    out = torch.zeros(len(sketches), size, size, device=device)
    radius = ink_radius(spec.sigma, spec.width)
    tile = choose_tile(radius)
    stride = -(-(size + math.ceil(radius) + 1) // tile) * tile
    cells: list[tuple[int, np.ndarray, list[int]]] = []
    for i, sketch in enumerate(sketches):
        if not len(sketch):
            continue
        scale, offset = spec.placement(sketch)
        pts = np.concatenate([s.points for s in sketch.strokes]) * scale + offset
        if pts.min() >= 0.0 and pts.max() <= size:
            cells.append((i, pts, sketch.points_per_stroke()))
        else:
            out[i] = render_ink(sketch, spec, device)
    if not cells:
        return out
    cols = math.ceil(math.sqrt(len(cells)))
    rows = math.ceil(len(cells) / cols)
    shifted, lengths = [], []
    for c, (_, pts, lens) in enumerate(cells):
        cell = np.array([(c % cols) * stride, (c // cols) * stride], dtype=np.float64)
        shifted.append(pts + cell)
        lengths.extend(lens)
    points = torch.as_tensor(np.concatenate(shifted), dtype=torch.float32, device=device)
    with torch.no_grad():
        ink = stroke_ink(points, Layout.from_lengths(lengths), max(cols, rows) * stride, spec.sigma,
                         tile=tile, width=spec.width).composite()[0]
    grid = ink[: rows * stride, : cols * stride].reshape(rows, stride, cols, stride)
    grid = grid.permute(0, 2, 1, 3).reshape(rows * cols, stride, stride)[:, :size, :size]
    index = torch.as_tensor([i for i, _, _ in cells], device=out.device)
    out[index] = grid[: len(cells)].to(out.device)
    return out
