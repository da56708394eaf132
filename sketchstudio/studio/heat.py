"""Stroke colours from an attribution, with the same scale and colour map as the PNG export."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QColor

from ..explain.colormap import heat_rgb, symmetric_scale
from ..explain.registry import method_label
from ..sketch import Sketch, Stroke

if TYPE_CHECKING:   # only named in annotations: the heat map is built from a finished result
    from ..explain.result import Attribution

INK = QColor(34, 34, 38)


def heat_scale(result: Attribution) -> float:
    """As `save_heat_png` does it: segments set the scale when there are any."""
    if result.segments:
        values = [np.asarray(s, dtype=float) for s in result.segments]
        return symmetric_scale(np.concatenate(values))
    return symmetric_scale(result.strokes)


def _qcolors(rgb: np.ndarray) -> list[QColor]:
    return [QColor(int(r), int(g), int(b)) for r, g, b in np.asarray(rgb).reshape(-1, 3)]


@dataclass
class StrokeHeat:
    value: float
    colour: QColor
    segment_colours: list[QColor] | None = None   # psla: one per segment
    method: str = ""                              # what produced the value, e.g. "Live: Occlusion"
    segment_values: np.ndarray | None = None      # psla: one per segment (points j -> j + 1)


class HeatMap:
    """Colours for the strokes of the snapshot an attribution was computed on.

    Looked up by stroke identity, not index: after an edit the strokes that did not change keep
    their colour until the new explanation arrives, and new or moved strokes show plain ink.
    """

    def __init__(self, sketch: Sketch, result: Attribution) -> None:
        self.sketch = sketch          # keeps the strokes alive, so their ids stay unique
        self.result = result
        self.scale = heat_scale(result)
        colours = _qcolors(heat_rgb(np.asarray(result.strokes, dtype=float), self.scale))
        label = method_label(result.method)
        self._by_id: dict[int, StrokeHeat] = {}
        for k, stroke in enumerate(sketch.strokes):
            values = colours_k = None
            if result.segments is not None and len(stroke) > 1:
                values = np.asarray(result.segments[k], dtype=float)
                colours_k = _qcolors(heat_rgb(values, self.scale))
            self._by_id[id(stroke)] = StrokeHeat(float(result.strokes[k]), colours[k], colours_k,
                                                 label, values)

    def get(self, stroke: Stroke) -> StrokeHeat | None:
        return self._by_id.get(id(stroke))

    def covers(self, sketch: Sketch) -> bool:
        return sketch is self.sketch
