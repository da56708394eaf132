"""Sketch and Stroke: immutable vector drawings (numpy only).

A sketch is an ordered tuple of strokes; the index of a stroke in that tuple is its identity, which
every transform preserves so that an attribution always maps back to the stroke the artist drew.
Arrays are stored read-only, so a snapshot taken after a pen-up can be shared with a worker thread
without copying and without fear of it changing underneath.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np


class SketchError(ValueError):
    """A sketch or stroke that cannot exist (wrong shapes, NaN, ...)."""


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _as_points(points: Any) -> np.ndarray:
    try:
        array = np.array(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SketchError(f"stroke points are not numbers: {exc}") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise SketchError(f"stroke points must have shape (n, 2), got {array.shape}")
    if len(array) == 0:
        raise SketchError("a stroke needs at least one point")
    if not np.isfinite(array).all():
        raise SketchError("stroke points contain NaN or infinity")
    return _frozen(array)


def _as_channel(values: Any, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    try:
        array = np.array(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise SketchError(f"stroke {name} is not numeric: {exc}") from None
    if len(array) != n:
        raise SketchError(f"stroke {name} has {len(array)} values for {n} points")
    if not np.isfinite(array).all():
        raise SketchError(f"stroke {name} contains NaN or infinity")
    return _frozen(array)


@dataclass(frozen=True, eq=False)
class Stroke:
    """One pen-down..pen-up trace: (n, 2) points, optional per-point pressure and time (ms)."""

    points: np.ndarray
    pressure: np.ndarray | None = None
    time: np.ndarray | None = None

    def __post_init__(self) -> None:
        points = _as_points(self.points)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "pressure", _as_channel(self.pressure, len(points), "pressure"))
        object.__setattr__(self, "time", _as_channel(self.time, len(points), "time"))

    def __len__(self) -> int:
        return len(self.points)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stroke):
            return NotImplemented
        return (
            np.array_equal(self.points, other.points)
            and _channels_equal(self.pressure, other.pressure)
            and _channels_equal(self.time, other.time)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def num_segments(self) -> int:
        """Segments between consecutive points; a dot (one point) counts as one segment."""
        return max(len(self.points) - 1, 1)

    def with_points(self, points: Any) -> Stroke:
        """Same stroke, new geometry; pressure and time are kept when the point count is kept."""
        points = _as_points(points)
        keep = len(points) == len(self.points)
        return Stroke(points, self.pressure if keep else None, self.time if keep else None)

    def length(self) -> float:
        return float(np.linalg.norm(np.diff(self.points, axis=0), axis=1).sum())

    def bbox(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the points, computed once (strokes are immutable)."""
        cached = self.__dict__.get("_bbox")
        if cached is None:
            lo, hi = self.points.min(axis=0), self.points.max(axis=0)
            cached = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
            object.__setattr__(self, "_bbox", cached)
        return cached


def _channels_equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(a, b)


@dataclass(frozen=True, eq=False)
class Sketch:
    """An ordered, immutable list of strokes plus metadata (word, key_id, countrycode, ...)."""

    strokes: tuple[Stroke, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        strokes = tuple(self.strokes)
        for stroke in strokes:
            if not isinstance(stroke, Stroke):
                raise SketchError(f"a sketch holds Stroke objects, got {type(stroke).__name__}")
        object.__setattr__(self, "strokes", strokes)
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @classmethod
    def from_arrays(cls, arrays: Iterable[Any], **metadata: Any) -> Sketch:
        return cls(tuple(Stroke(a) for a in arrays), metadata)

    def __len__(self) -> int:
        return len(self.strokes)

    def __iter__(self) -> Iterator[Stroke]:
        return iter(self.strokes)

    def __getitem__(self, index: int) -> Stroke:
        return self.strokes[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sketch):
            return NotImplemented
        return self.strokes == other.strokes and dict(self.metadata) == dict(other.metadata)

    __hash__ = None  # type: ignore[assignment]

    @property
    def word(self) -> str | None:
        return self.metadata.get("word")

    @property
    def num_points(self) -> int:
        return sum(len(s) for s in self.strokes)

    @property
    def num_segments(self) -> int:
        return sum(s.num_segments for s in self.strokes)

    def points_per_stroke(self) -> list[int]:
        return [len(s) for s in self.strokes]

    def bbox(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of all points; (0, 0, 0, 0) for an empty sketch."""
        cached: tuple[float, float, float, float] | None = self.__dict__.get("_bbox")
        if cached is not None:      # immutable: computed once per snapshot (the studio asks often)
            return cached
        if not self.strokes:
            box = (0.0, 0.0, 0.0, 0.0)
        else:
            # From the strokes' own (cached) boxes: an edit of one stroke of a thousand costs a
            # thousand small tuples, not a pass over every point.
            boxes = np.array([s.bbox() for s in self.strokes])
            box = (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
                   float(boxes[:, 2].max()), float(boxes[:, 3].max()))
        object.__setattr__(self, "_bbox", box)
        return box

    # Editing returns a new sketch; the original snapshot stays untouched.
    def with_strokes(self, strokes: Sequence[Stroke]) -> Sketch:
        return Sketch(tuple(strokes), self.metadata)

    def with_metadata(self, **changes: Any) -> Sketch:
        return Sketch(self.strokes, {**self.metadata, **changes})

    def add_stroke(self, stroke: Stroke) -> Sketch:
        return self.with_strokes(self.strokes + (stroke,))

    def remove_strokes(self, indices: Iterable[int]) -> Sketch:
        drop = set(indices)
        return self.with_strokes([s for i, s in enumerate(self.strokes) if i not in drop])

    def replace_stroke(self, index: int, stroke: Stroke) -> Sketch:
        strokes = list(self.strokes)
        strokes[index] = stroke
        return self.with_strokes(strokes)
