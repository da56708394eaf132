"""Writes resources/demo/*.json: a few drawings the project made itself, stroke by stroke.

The shapes are plain geometry (lines, arcs), drawn in the order a person would draw them, with a
little wobble so they do not look machine-perfect. No Quick, Draw! drawing is copied (its licence,
CC BY 4.0, would have to travel with it). Run from the repository root:

    .venv/bin/python packaging/make_demo_sketches.py
"""
from __future__ import annotations

import math
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # runs from a checkout, installed or not

from sketchstudio.sketch import Sketch, Stroke  # noqa: E402 (needs the path above)
from sketchstudio.sketch.io import save_sketch  # noqa: E402

OUT = ROOT / "resources" / "demo"
RNG = np.random.default_rng(7)


def line(*points: tuple[float, float], step: float = 6.0) -> np.ndarray:
    """A polyline through `points`, resampled about every `step` units, with hand wobble."""
    out = [np.asarray(points[0], float)]
    for a, b in pairwise(points):
        a, b = np.asarray(a, float), np.asarray(b, float)
        n = max(1, int(np.linalg.norm(b - a) / step))
        out.extend(a + (b - a) * (k / n) for k in range(1, n + 1))
    pts = np.array(out)
    return pts + RNG.normal(0.0, 0.6, pts.shape)


def arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float,
        n: int = 28) -> np.ndarray:
    """An elliptical arc from `start` to `stop` degrees (y grows downwards, like the canvas)."""
    t = np.radians(np.linspace(start, stop, n))
    pts = np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)
    return pts + RNG.normal(0.0, 0.6, pts.shape)


def sketch(word: str, *strokes: np.ndarray) -> Sketch:
    return Sketch(tuple(Stroke(np.round(s, 1)) for s in strokes),
                  {"word": word,
                   "source": "SketchStudio demo (drawn by packaging/make_demo_sketches.py)"})


def house() -> Sketch:
    return sketch("house",
                  line((60, 120), (60, 220), (196, 220), (196, 120)),          # walls
                  line((48, 124), (128, 52), (208, 124)),                       # roof
                  line((48, 124), (208, 124)),                                  # eaves
                  line((110, 220), (110, 168), (146, 168), (146, 220)),         # door
                  line((76, 140), (100, 140), (100, 160), (76, 160), (76, 140)),    # window
                  line((160, 84), (160, 56), (176, 56), (176, 98)))            # chimney


def fish() -> Sketch:
    body_top = arc(120, 128, 78, 46, 190, 350)
    body_bottom = arc(120, 128, 78, 46, 10, 170)
    return sketch("fish",
                  body_top, body_bottom,
                  line((194, 120), (236, 92), (232, 164), (194, 136)),          # tail
                  arc(78, 116, 6, 6, 0, 360, 12),                               # eye
                  arc(100, 128, 14, 30, -60, 60, 14))                           # gill


def sun() -> Sketch:
    rays = [line((128 + 58 * math.cos(a), 128 + 58 * math.sin(a)),
                 (128 + 92 * math.cos(a), 128 + 92 * math.sin(a)))
            for a in np.radians(np.arange(0, 360, 45))]
    return sketch("sun", arc(128, 128, 44, 44, -90, 270, 40), *rays)


DEMOS = {"house": house, "fish": fish, "sun": sun}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in DEMOS.items():
        save_sketch(OUT / f"{name}.json", draw())
        print(OUT / f"{name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
