"""The heat scale: a diverging, colour-blind-safe map centred on zero (numpy only; Qt uses it too).

Anchors are ColorBrewer's RdBu (colour-blind safe), reversed so that red supports the target,
blue argues against it and near-zero strokes are a neutral grey rather than white (they must stay
visible on a white canvas).
"""
from __future__ import annotations

import numpy as np

_ANCHORS = np.array([
    (5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222),
    (170, 170, 170),  # centre: mid grey instead of RdBu's near-white, so weak strokes stay visible
    (244, 165, 130), (214, 96, 77), (178, 24, 43), (103, 0, 31),
], dtype=np.float64)


def symmetric_scale(values: np.ndarray) -> float:
    """The magnitude that maps to the ends of the scale (at least a tiny positive number)."""
    values = np.asarray(values, dtype=np.float64)
    return float(max(np.abs(values).max(initial=0.0), 1e-12))


def heat_rgb(values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """(..., 3) uint8 colours for values in [-scale, scale] (clipped)."""
    values = np.asarray(values, dtype=np.float64)
    scale = symmetric_scale(values) if scale is None else max(float(scale), 1e-12)
    t = (np.clip(values / scale, -1.0, 1.0) + 1.0) / 2.0 * (len(_ANCHORS) - 1)
    lo = np.clip(np.floor(t).astype(int), 0, len(_ANCHORS) - 2)
    frac = (t - lo)[..., None]
    rgb: np.ndarray = _ANCHORS[lo] * (1.0 - frac) + _ANCHORS[lo + 1] * frac
    return np.round(rgb).astype(np.uint8)
