"""Ground truth and trivial baselines for the fill task ("sketch to filled figure").

The filled figure of a rendered drawing is every pixel a flood fill from the image border cannot
reach through paper (ink <= 0.5, 4-connected): the ink itself plus every region the ink encloses,
as a colouring book would fill it. Its enclosed part (figure minus ink) splits into 4-connected
regions; the strokes that enclose one region are those whose own ink (> 0.5) touches it (within
one pixel, 8-connected), which is the known answer of the pointing game.

Everything here works on batches of (B, S, S) ink images in torch, on the CPU, without gradients:
the flood fill is an iterated masked dilation, which needs no scipy and runs thousands of 64 px
images at once.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from ..tasks.regions import label_regions  # noqa: F401  (re-exported for the evaluation)

INK_THRESHOLD = 0.5
MIN_REGION_PIXELS = 8          # smaller enclosed specks are not regions a user would click


def _cross_dilate(mask: torch.Tensor) -> torch.Tensor:
    """4-connected dilation of a (B, S, S) bool mask by one pixel."""
    m = mask
    out = m.clone()
    out[:, 1:, :] |= m[:, :-1, :]
    out[:, :-1, :] |= m[:, 1:, :]
    out[:, :, 1:] |= m[:, :, :-1]
    out[:, :, :-1] |= m[:, :, 1:]
    return out


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Square (8-connected) dilation of a (B, S, S) bool mask by `radius` pixels."""
    if radius <= 0:
        return mask.clone()
    x = mask.float().unsqueeze(1)
    return F.max_pool2d(x, 2 * radius + 1, stride=1, padding=radius)[:, 0] > 0.5


def outside(ink: torch.Tensor, threshold: float = INK_THRESHOLD) -> torch.Tensor:
    """(B, S, S) bool: paper reachable from the image border through paper (4-connected)."""
    paper = ink <= threshold
    reached = torch.zeros_like(paper)
    reached[:, 0, :] = paper[:, 0, :]
    reached[:, -1, :] = paper[:, -1, :]
    reached[:, :, 0] = paper[:, :, 0]
    reached[:, :, -1] = paper[:, :, -1]
    while True:
        # Several steps between convergence checks: a check costs as much as a step.
        before = reached
        for _ in range(8):
            reached = _cross_dilate(reached) & paper
        if torch.equal(before, reached):
            return reached


def filled_figure(ink: torch.Tensor, threshold: float = INK_THRESHOLD) -> torch.Tensor:
    """(B, S, S) bool: the ink plus every region it encloses (the complement of `outside`)."""
    return ~outside(ink, threshold)


def enclosed(ink: torch.Tensor, threshold: float = INK_THRESHOLD) -> torch.Tensor:
    """(B, S, S) bool: enclosed paper only (the filled figure minus the ink)."""
    return filled_figure(ink, threshold) & (ink <= threshold)


def enclosing_strokes(stroke_inks: torch.Tensor, region: np.ndarray,
                      threshold: float = INK_THRESHOLD) -> list[int]:
    """Strokes whose own ink (> threshold; `stroke_inks` is (N, S, S)) lies within one pixel of
    `region` (8-connected): the strokes that close it."""
    ring = dilate(torch.as_tensor(region).unsqueeze(0), 1)[0]
    touching = ((stroke_inks > threshold) & ring.unsqueeze(0)).flatten(1).any(1)
    return [int(i) for i in torch.nonzero(touching).flatten().tolist()]


# --- trivial baselines -------------------------------------------------------------------------

def convex_hull_fill(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """(S, S) bool: the filled convex hull of the ink pixels (pixel centres), plus the ink."""
    from PIL import Image, ImageDraw

    on = ink > threshold
    ys, xs = np.nonzero(on)
    size = ink.shape[-1]
    if len(xs) < 3:
        return on.copy()
    hull = _hull(np.stack([xs, ys], 1).astype(float))
    image = Image.new("1", (size, size), 0)
    ImageDraw.Draw(image).polygon([(float(x), float(y)) for x, y in hull], fill=1, outline=1)
    return np.asarray(image, dtype=bool) | on


def _hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain: the convex hull's vertices in order."""
    pts = sorted(set(map(tuple, points.tolist())))
    if len(pts) < 3:
        return np.asarray(pts)

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.asarray(lower[:-1] + upper[:-1])


def bounding_box_fill(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray:
    on = ink > threshold
    out = on.copy()
    ys, xs = np.nonzero(on)
    if len(xs):
        out[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
    return out


def iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per image IoU of two (B, S, S) bool masks; both empty counts as 1."""
    p, t = pred.flatten(1), target.flatten(1)
    inter = (p & t).sum(1).float()
    union = (p | t).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def mean_figure(figures: Sequence[torch.Tensor]) -> torch.Tensor:
    """(S, S) per-pixel frequency of the filled figure over a set of (S, S) bool figures."""
    return torch.stack([f.float() for f in figures]).mean(0)
