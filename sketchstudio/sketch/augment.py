"""Stroke-level augmentation of sketches for training (numpy only).

Every function takes a `numpy.random.Generator` and returns a new Sketch; the input is never
changed. Geometric ones (jitter, affine, warp, per-stroke shift, simplify) keep every stroke, in
order, with its metadata, so stroke k of the result is stroke k of the input. Only `drop_strokes`,
`first_strokes` and `partial` remove strokes, and they keep the survivors in their order.

Amounts are relative to the sketch's extent (the longer bbox side), so one setting means the same
on Quick, Draw!'s 0..255 grid as on a 1000-unit canvas. Uniform scale and translation are left
out on purpose: a "center"-fitted model input normalises both away.

The work is done on plain point arrays and the Sketch is built once at the end: `Augmenter` runs
once per training sample, and validating strokes after every step would cost more than the steps.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core import Sketch, Stroke
from .transforms import rdp_keep

Points = list[np.ndarray]


# --- on point arrays ---------------------------------------------------------------------------
def _box(pts: Points) -> tuple[np.ndarray, float]:
    """Centre of the bbox and its longer side (never 0)."""
    allp = np.concatenate(pts)
    lo, hi = allp.min(0), allp.max(0)
    return (lo + hi) / 2.0, max(float((hi - lo).max()), 1e-9)


def _jitter(pts: Points, rng: np.random.Generator, amount: float) -> Points:
    sd = amount * _box(pts)[1]
    return [p + rng.normal(0.0, sd, p.shape) for p in pts]


def _affine(pts: Points, rng: np.random.Generator, rotation: float, stretch: float, shear: float,
            flip: float) -> Points:
    a = np.deg2rad(rng.uniform(-rotation, rotation))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    k = np.exp(rng.uniform(-stretch, stretch))
    m = rot @ np.array([[1.0, rng.uniform(-shear, shear)], [0.0, 1.0]]) @ np.diag([k, 1.0 / k])
    if rng.random() < flip:
        m = m @ np.diag([-1.0, 1.0])
    c = _box(pts)[0]
    return [(p - c) @ m.T + c for p in pts]


def _shift(pts: Points, rng: np.random.Generator, amount: float) -> Points:
    if len(pts) < 2:
        return pts
    sd = amount * _box(pts)[1]
    return [p + rng.normal(0.0, sd, 2) for p in pts]


def _warp(pts: Points, rng: np.random.Generator, amount: float) -> Points:
    c, e = _box(pts)
    freq = rng.uniform(0.5, 2.0, (2, 2)) * np.pi / e   # one to four half-waves across the drawing
    phase = rng.uniform(0.0, 2.0 * np.pi, (2, 2))
    amp = rng.uniform(-1.0, 1.0, (2, 2)) * amount * e / 2.0

    def move(p: np.ndarray) -> np.ndarray:
        q = p - c
        dx = amp[0, 0] * np.sin(freq[0, 0] * q[:, 1] + phase[0, 0]) + \
            amp[0, 1] * np.sin(freq[0, 1] * q[:, 0] + phase[0, 1])
        dy = amp[1, 0] * np.sin(freq[1, 0] * q[:, 1] + phase[1, 0]) + \
            amp[1, 1] * np.sin(freq[1, 1] * q[:, 0] + phase[1, 1])
        moved: np.ndarray = p + np.column_stack([dx, dy])
        return moved

    return [move(p) for p in pts]


def _simplify(pts: Points, rng: np.random.Generator, max_tolerance: float,
              min_tolerance: float) -> Points:
    eps = rng.uniform(min_tolerance, max(max_tolerance, min_tolerance)) * _box(pts)[1]
    return [p[rdp_keep(p, eps)] if len(p) >= 3 else p for p in pts]


def _lengths(pts: Points) -> np.ndarray:
    return np.array([max(float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()), 1e-9)
                     for p in pts])


def _drop(pts: Points, rng: np.random.Generator, p: float, keep_ink: float) -> list[int]:
    n = len(pts)
    if n < 2 or p <= 0:
        return list(range(n))
    lengths = _lengths(pts)
    drop = rng.random(n) < p
    for i in np.argsort(lengths, kind="stable"):  # put strokes back, shortest first
        if (~drop).any() and lengths[~drop].sum() >= keep_ink * lengths.sum():
            break
        drop[i] = False
    return np.flatnonzero(~drop).tolist()


def _partial(pts: Points, rng: np.random.Generator, min_ink: float) -> int:
    n = len(pts)
    if n < 2:
        return n
    share = np.cumsum(_lengths(pts))
    share /= share[-1]
    smallest = int(np.argmax(share >= min_ink - 1e-12)) + 1
    return int(rng.integers(smallest, n + 1))


# --- on sketches -------------------------------------------------------------------------------
def _rebuild(sketch: Sketch, pts: Points, kept: list[int] | None = None) -> Sketch:
    """New geometry for the kept strokes (all by default), in order; time/pressure kept where the
    point count is."""
    kept = list(range(len(sketch))) if kept is None else kept
    return sketch.with_strokes([sketch.strokes[i].with_points(p)
                                for i, p in zip(kept, pts, strict=True)])


def _geometric(fn: Callable[..., Points]) -> Callable[..., Sketch]:
    def apply(sketch: Sketch, rng: np.random.Generator, *args: Any, **kwargs: Any) -> Sketch:
        if not sketch.strokes:
            return sketch
        return _rebuild(sketch, fn([s.points for s in sketch.strokes], rng, *args, **kwargs))
    return apply


def jitter(sketch: Sketch, rng: np.random.Generator, amount: float = 0.01) -> Sketch:
    """Independent Gaussian noise on every point, `amount` x extent."""
    return _geometric(_jitter)(sketch, rng, amount)


def affine(sketch: Sketch, rng: np.random.Generator, rotation: float = 12.0,
           stretch: float = 0.15, shear: float = 0.12, flip: float = 0.0) -> Sketch:
    """Random rotation (+-degrees), aspect stretch (log-uniform +-), shear and horizontal flip
    (with probability `flip`) about the bbox centre."""
    return _geometric(_affine)(sketch, rng, rotation, stretch, shear, flip)


def shift_strokes(sketch: Sketch, rng: np.random.Generator, amount: float = 0.03) -> Sketch:
    """Move every stroke as a whole by its own small random offset (`amount` x extent)."""
    return _geometric(_shift)(sketch, rng, amount)


def warp(sketch: Sketch, rng: np.random.Generator, amount: float = 0.04) -> Sketch:
    """Smooth random displacement field (low-frequency sines), at most `amount` x extent."""
    return _geometric(_warp)(sketch, rng, amount)


def resimplify(sketch: Sketch, rng: np.random.Generator, max_tolerance: float = 0.02,
               min_tolerance: float = 0.0) -> Sketch:
    """Ramer-Douglas-Peucker at a random tolerance (between the two, x extent): the drawing as a
    coarser device or simplifier would have recorded it. Stroke ends are always kept."""
    return _geometric(_simplify)(sketch, rng, max_tolerance, min_tolerance)


def drop_strokes(sketch: Sketch, rng: np.random.Generator, p: float = 0.1,
                 keep_ink: float = 0.7) -> Sketch:
    """Remove each stroke with probability p, keeping the others in order and at least `keep_ink`
    of the total stroke length (strokes are put back, shortest first, until that holds)."""
    if len(sketch) < 2:
        return sketch
    kept = _drop([s.points for s in sketch.strokes], rng, p, keep_ink)
    return sketch.with_strokes([sketch.strokes[i] for i in kept])


def first_strokes(sketch: Sketch, k: int) -> Sketch:
    """The drawing as it was after its first k strokes."""
    return sketch.with_strokes(sketch.strokes[:max(int(k), 0)])


def partial(sketch: Sketch, rng: np.random.Generator, min_ink: float = 0.6) -> Sketch:
    """The first k strokes for a random k whose strokes hold at least `min_ink` of the length."""
    return first_strokes(sketch, _partial([s.points for s in sketch.strokes], rng, min_ink))


@dataclass(frozen=True)
class Augmenter:
    """A full training augmentation: each step applied with its own probability.

    Returns geometry only (time and pressure are dropped): it feeds a renderer, not an editor.
    """

    flip: float = 0.5            # horizontal flip probability (0 for categories with a handedness)
    rotation: float = 12.0       # degrees, +-
    stretch: float = 0.15        # log aspect ratio, +-
    shear: float = 0.12
    jitter: float = 0.006        # x extent, per point
    shift: float = 0.025         # x extent, per stroke
    warp: float = 0.05           # x extent, smooth field (70% of the drawings)
    tolerance: float = 0.02      # RDP tolerance up to this x extent (50% of the drawings)
    drop: float = 0.08           # per-stroke drop probability (50% of the drawings)
    keep_ink: float = 0.7        # ... never below this share of the stroke length
    partial: float = 0.15        # probability of keeping only the first strokes
    min_ink: float = 0.6         # ... holding at least this share of the stroke length

    def __call__(self, sketch: Sketch, rng: np.random.Generator) -> Sketch:
        if not sketch.strokes:
            return sketch
        pts = [s.points for s in sketch.strokes]
        kept = list(range(len(pts)))
        if rng.random() < self.partial:
            kept = kept[:_partial(pts, rng, self.min_ink)]
        if rng.random() < 0.5:
            kept = [kept[i] for i in _drop([pts[i] for i in kept], rng, self.drop, self.keep_ink)]
        pts = [pts[i] for i in kept]
        if rng.random() < 0.5:
            pts = _simplify(pts, rng, self.tolerance, 0.0)
        pts = _shift(pts, rng, self.shift)
        if rng.random() < 0.7:
            pts = _warp(pts, rng, self.warp)
        pts = _affine(pts, rng, self.rotation, self.stretch, self.shear, self.flip)
        pts = _jitter(pts, rng, self.jitter)
        return sketch.with_strokes([Stroke(p) for p in pts])
