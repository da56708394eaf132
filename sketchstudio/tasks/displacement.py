"""Point displacements of a sketch: budget units, the per-point bound, smoothing along strokes.

A budget is a fraction of the longer side of the *input* sketch's bounding box. Every point may move
by at most `budget * side` (Euclidean, in sketch units); nothing else is constrained: strokes keep
their order and their number of points, pressure and time ride along unchanged.

Displacements are kept as one flat (P, 2) array in the sketch's point order (stroke 0's points,
then stroke 1's, ...), the same order `render.place` uses.
"""
from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..sketch import Sketch

# Projection lands a hair inside the ball, so float rounding in `points + delta` (and in measuring
# it again) can never push a point past the bound.
_INSIDE = 1.0 - 1e-9


def check_budget(budget: float) -> float:
    try:
        value = float(budget)
    except (TypeError, ValueError):
        raise UserError(f"budget must be a number in (0, 1], got {budget!r}") from None
    if not (np.isfinite(value) and 0.0 < value <= 1.0):
        raise UserError(f"budget must be in (0, 1] (a fraction of the sketch's longer side), "
                        f"got {budget!r}")
    return value


def bbox_side(sketch: Sketch) -> float:
    """Longer side of the sketch's bounding box, in sketch units (0: a dot or an empty sketch)."""
    x0, y0, x1, y1 = sketch.bbox()
    return float(max(x1 - x0, y1 - y0))


def check_editable(sketch: Sketch) -> float:
    """The longer bbox side of a sketch the tools can edit; a UserError for one they cannot."""
    if len(sketch) == 0:
        raise UserError("the sketch is empty: there is nothing to edit")
    side = bbox_side(sketch)
    if not side > 0:
        raise UserError("the sketch has no extent (a single point, or all points identical): "
                        "a budget relative to its size allows no movement")
    return side


def radius(sketch: Sketch, budget: float) -> float:
    """The largest distance any point may move, in sketch units."""
    return check_budget(budget) * check_editable(sketch)


def flat_points(sketch: Sketch) -> np.ndarray:
    if not len(sketch):
        return np.zeros((0, 2))
    return np.concatenate([s.points for s in sketch.strokes]).astype(np.float64)


def stroke_bounds(sketch: Sketch) -> np.ndarray:
    """(N + 1,): the points of stroke k are flat[bounds[k]:bounds[k + 1]]."""
    return np.concatenate([[0], np.cumsum(sketch.points_per_stroke())]).astype(np.int64)


def split(flat: np.ndarray, sketch: Sketch) -> list[np.ndarray]:
    b = stroke_bounds(sketch)
    return [np.array(flat[b[k]:b[k + 1]]) for k in range(len(sketch))]


def project(delta, limit: float):
    """Every row (point) of `delta` shortened to length <= limit (numpy or torch; a new array)."""
    if isinstance(delta, np.ndarray):
        norm = np.linalg.norm(delta, axis=-1, keepdims=True)
        return delta * np.minimum(1.0, (limit * _INSIDE) / np.maximum(norm, 1e-300))
    norm = delta.norm(dim=-1, keepdim=True)
    return delta * ((limit * _INSIDE) / norm.clamp_min(1e-300)).clamp(max=1.0)


def smoothing_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n) row-normalised Gaussian filter over point index (edges renormalised, not padded)."""
    if n <= 1 or sigma <= 0:
        return np.eye(max(n, 0))
    i = np.arange(n)
    w = np.exp(-0.5 * ((i[:, None] - i[None, :]) / sigma) ** 2)
    return w / w.sum(1, keepdims=True)


def smooth_along_strokes(flat: np.ndarray, sketch: Sketch, sigma: float) -> np.ndarray:
    """A Gaussian filter (in points) over every stroke separately: neighbours move together."""
    out = np.array(flat, dtype=np.float64, copy=True)
    b = stroke_bounds(sketch)
    for k in range(len(sketch)):
        lo, hi = b[k], b[k + 1]
        if hi - lo > 1:
            out[lo:hi] = smoothing_matrix(hi - lo, sigma) @ out[lo:hi]
    return out


def block_smoother(sketch: Sketch, sigma: float):
    """A (P, P) block-diagonal smoothing matrix for the whole sketch (used inside torch loops)."""
    b = stroke_bounds(sketch)
    total = int(b[-1])
    m = np.zeros((total, total))
    for k in range(len(sketch)):
        lo, hi = b[k], b[k + 1]
        m[lo:hi, lo:hi] = smoothing_matrix(hi - lo, sigma)
    return m


def apply(sketch: Sketch, delta: np.ndarray, strokes=None) -> Sketch:
    """A new sketch with `delta` (P, 2) added to the points of `strokes` (all when None)."""
    delta = np.asarray(delta, dtype=np.float64)
    if delta.shape != (sketch.num_points, 2):
        raise ValueError(f"displacement shape {delta.shape} does not match the sketch's "
                         f"{sketch.num_points} points")
    chosen = set(range(len(sketch))) if strokes is None else {int(k) for k in strokes}
    bad = sorted(k for k in chosen if not 0 <= k < len(sketch))
    if bad:
        raise UserError(f"stroke index {bad[0]} is out of range 0..{len(sketch) - 1}")
    b = stroke_bounds(sketch)
    new = []
    for k, stroke in enumerate(sketch.strokes):
        if k in chosen:
            new.append(stroke.with_points(stroke.points + delta[b[k]:b[k + 1]]))
        else:
            new.append(stroke)
    return sketch.with_strokes(new)


def measure(original: Sketch, edited: Sketch) -> dict:
    """Displacements of `edited` against `original`, as fractions of the original's longer side."""
    side = bbox_side(original)
    if original.points_per_stroke() != edited.points_per_stroke():
        raise ValueError("the edited sketch does not have the original's strokes and points")
    d = np.linalg.norm(flat_points(edited) - flat_points(original), axis=1)
    b = stroke_bounds(original)
    changed = [k for k in range(len(original)) if np.any(d[b[k]:b[k + 1]] > 0)]
    scale = 1.0 / side if side > 0 else 0.0
    return {"max_displacement": float(d.max() * scale) if len(d) else 0.0,
            "mean_displacement": float(d.mean() * scale) if len(d) else 0.0,
            "strokes_changed": len(changed), "changed": changed}
