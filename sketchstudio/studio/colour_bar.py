"""The heat scale beside the plots: the colour map from -scale to +scale, in the objective's unit.

Red helps the target, blue argues against it, grey is neutral. Its ticks are the scale's ends,
halves and zero, written like every other attribution value in the studio (studio/numbers.py), and
the plot leaves room so that none of them is clipped.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics

from ..explain.colormap import heat_rgb
from .numbers import format_value
from .plot_style import StyledPlot, small_font

TICK_FRACTIONS = (-1.0, -0.5, 0.0, 0.5, 1.0)
BAR_WIDTH = 64         # pixels of colour
TICK_FONT_POINTS = 8.5


class ColourBar(StyledPlot):
    """The heat scale: red helps the target, blue argues against it, grey is neutral."""

    def __init__(self) -> None:
        super().__init__("Heat scale", axes=("right",))
        item = self.getPlotItem()
        item.hideAxis("bottom")
        item.hideAxis("left")
        item.showAxis("right")
        axis = item.getAxis("right")
        # Room above and below the bar: the end ticks' labels are centred on the bar's ends.
        item.layout.setContentsMargins(2, 2, 2, 10)
        axis.setStyle(hideOverlappingLabels=False, autoExpandTextSpace=False,
                      autoReduceTextSpace=False)
        # The ticks are written out in full (numbers.format_value): an SI prefix on the label
        # ("logit (x0.001)") would say they are scaled when they are not.
        axis.enableAutoSIPrefix(False)
        self._image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self._image)
        self._helps = pg.TextItem("helps", color=(255, 255, 255), anchor=(0.5, 0.0))
        self._hurts = pg.TextItem("hurts", color=(255, 255, 255), anchor=(0.5, 1.0))
        for t in (self._helps, self._hurts):
            t.setFont(small_font(8))
            self.addItem(t)
        self.scale = 1.0
        self.unit = ""
        self.set_unit("")
        self.set_scale(1.0)

    def set_unit(self, unit: str) -> None:
        """Name what the values are in ('logit', 'probability', 'cosine similarity', ...)."""
        self.unit = unit
        self.set_axis_label("right", unit or "attribution")

    def _fit_width(self, axis: pg.AxisItem) -> None:
        """As wide as the longest tick label needs: a fixed width clipped '-0.000615'."""
        metrics = QFontMetrics(small_font(TICK_FONT_POINTS))
        text = max(metrics.horizontalAdvance(label) for label in self.tick_labels())
        offset = axis.style["tickTextOffset"][0] + max(0, axis.style["tickLength"])
        label = metrics.height() + 6      # the rotated unit label beside the ticks
        width = int(text + offset + label + 4)
        axis.setWidth(width)
        self.setFixedWidth(BAR_WIDTH + width + 12)

    def tick_labels(self) -> list[str]:
        return [format_value(f * self.scale) for f in TICK_FRACTIONS]

    def set_scale(self, scale: float) -> None:
        self.scale = float(scale)
        values = np.linspace(-scale, scale, 256)[:, None]
        rgb = heat_rgb(np.repeat(values, 2, axis=1), scale)
        self._image.setImage(rgb, levels=(0, 255))
        self._image.setRect(0, -scale, 1, 2 * scale)
        self._helps.setPos(0.5, scale * 0.98)
        self._hurts.setPos(0.5, -scale * 0.98)
        ticks = [(f * self.scale, label) for f, label in zip(TICK_FRACTIONS, self.tick_labels(),
                                                             strict=True)]
        axis = self.getPlotItem().getAxis("right")
        axis.setTicks([ticks, []])
        self._fit_width(axis)
        self.setXRange(0, 1, padding=0)
        self.setYRange(-scale, scale, padding=0.02)
