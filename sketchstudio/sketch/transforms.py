"""Geometric transforms of sketches. Each returns a new Sketch with the same strokes in the same
order."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core import Sketch, SketchError, Stroke


def bbox(sketch: Sketch) -> tuple[float, float, float, float]:
    return sketch.bbox()


def _map_points(sketch: Sketch, fn: Callable[[np.ndarray], np.ndarray]) -> Sketch:
    return sketch.with_strokes([s.with_points(fn(s.points)) for s in sketch.strokes])


def translate(sketch: Sketch, dx: float, dy: float) -> Sketch:
    offset = np.array([dx, dy], dtype=np.float64)
    return _map_points(sketch, lambda p: p + offset)


def scale(sketch: Sketch, sx: float, sy: float | None = None,
          origin: tuple[float, float] = (0.0, 0.0)) -> Sketch:
    factor = np.array([sx, sx if sy is None else sy], dtype=np.float64)
    if not np.isfinite(factor).all():
        raise SketchError("scale factors must be finite")
    o = np.asarray(origin, dtype=np.float64)
    return _map_points(sketch, lambda p: (p - o) * factor + o)


def fit_transform(sketch: Sketch, size: float, margin: float = 0.0) -> tuple[float, np.ndarray]:
    """Scale s and offset t so that p * s + t puts the bbox centred in [0, size]^2, aspect kept.

    `margin` is the empty fraction of the side on every border. A sketch with no extent (one dot,
    or all points identical) is centred without scaling.
    """
    if not 0.0 <= margin < 0.5:
        raise SketchError(f"margin must be in [0, 0.5), got {margin}")
    x0, y0, x1, y1 = sketch.bbox()
    extent = max(x1 - x0, y1 - y0)
    usable = size * (1.0 - 2.0 * margin)
    s = usable / extent if extent > 0 else 1.0
    centre = np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0])
    t = np.array([size / 2.0, size / 2.0]) - centre * s
    return s, t


def fit_square(sketch: Sketch, size: float = 256.0, margin: float = 0.0) -> Sketch:
    """Fit the sketch into a size x size square, centred, aspect ratio kept."""
    s, t = fit_transform(sketch, size, margin)
    return _map_points(sketch, lambda p: p * s + t)


def _resample_stroke(stroke: Stroke, spacing: float) -> Stroke:
    p = stroke.points
    if len(p) < 2:
        return stroke
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    arclen = np.concatenate([[0.0], np.cumsum(seg)])
    total = arclen[-1]
    if total == 0:
        return Stroke(p[:1], None if stroke.pressure is None else stroke.pressure[:1],
                      None if stroke.time is None else stroke.time[:1])
    n = max(int(np.ceil(total / spacing)), 1) + 1
    at = np.linspace(0.0, total, n)
    points = np.stack([np.interp(at, arclen, p[:, 0]), np.interp(at, arclen, p[:, 1])], axis=1)
    pressure = None if stroke.pressure is None else np.interp(at, arclen, stroke.pressure)
    time = None if stroke.time is None else np.interp(at, arclen, stroke.time)
    return Stroke(points, pressure, time)


def resample(sketch: Sketch, spacing: float) -> Sketch:
    """Points evenly spaced along every stroke (at most `spacing` apart); ends are kept."""
    if not (spacing > 0 and np.isfinite(spacing)):
        raise SketchError(f"resample spacing must be positive, got {spacing}")
    return sketch.with_strokes([_resample_stroke(s, spacing) for s in sketch.strokes])


def rdp_keep(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Boolean mask of the points Ramer-Douglas-Peucker keeps (iterative: no recursion limit)."""
    keep = np.zeros(len(points), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        a, b = points[first], points[last]
        inner = points[first + 1:last]
        ab = b - a
        norm = np.hypot(*ab)
        if norm == 0:
            dist = np.linalg.norm(inner - a, axis=1)
        else:
            dist = np.abs(ab[0] * (inner[:, 1] - a[1]) - ab[1] * (inner[:, 0] - a[0])) / norm
        i = int(np.argmax(dist))
        if dist[i] > epsilon:
            split = first + 1 + i
            keep[split] = True
            stack.append((first, split))
            stack.append((split, last))
    return keep


def simplify(sketch: Sketch, epsilon: float) -> Sketch:
    """Ramer-Douglas-Peucker simplification of every stroke with tolerance `epsilon`."""
    if not (epsilon >= 0 and np.isfinite(epsilon)):
        raise SketchError(f"simplify epsilon must be >= 0, got {epsilon}")
    strokes = []
    for s in sketch.strokes:
        if len(s) < 3:
            strokes.append(s)
            continue
        keep = rdp_keep(s.points, epsilon)
        strokes.append(Stroke(s.points[keep],
                              None if s.pressure is None else s.pressure[keep],
                              None if s.time is None else s.time[keep]))
    return sketch.with_strokes(strokes)
