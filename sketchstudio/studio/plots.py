"""The bottom dock: top-k class probabilities, the deletion curve, and the heat scale's colour
bar."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ..explain import Attribution
from ..explain.colormap import heat_rgb
from ..models.tasks import ModelTask

pg.setConfigOptions(antialias=True, background="w", foreground=(60, 62, 70))

TARGET_BRUSH = QColor(178, 24, 43)
OTHER_BRUSH = QColor(146, 197, 222)
MUTED = (150, 152, 160)


def _style(widget: pg.PlotWidget, title: str, axes=("left", "bottom")) -> None:
    """A quiet, read-only plot: no mouse interaction, light axes, small fonts."""
    widget.setMenuEnabled(False)
    widget.setMouseEnabled(False, False)
    widget.hideButtons()
    item = widget.getPlotItem()
    item.setTitle(title, size="9pt", color="#3c3e46")
    font = QFont()
    font.setPointSizeF(8.5)
    for name in axes:
        axis = item.getAxis(name)
        axis.setTickFont(font)
        axis.setPen(pg.mkPen(200, 202, 208))
        axis.setTextPen(pg.mkPen(80, 82, 90))
    widget.setMinimumHeight(150)


class ProbabilityPlot(pg.PlotWidget):
    """Top-k classes as horizontal bars; the attributed target in the heat scale's red.

    The bar and text items are made once and updated in place: this runs after every stroke.
    """

    ROWS = 5

    def __init__(self) -> None:
        super().__init__()
        _style(self, "Top classes", axes=("left", "bottom"))
        axis = self.getPlotItem().getAxis("left")
        axis.setStyle(tickLength=0)
        axis.setWidth(90)
        self.setXRange(0, 1.0, padding=0)
        self.setYRange(-0.6, self.ROWS - 0.4, padding=0)
        self._y = (self.ROWS - 1 - np.arange(self.ROWS)).astype(float)
        self._bars = pg.BarGraphItem(x0=np.zeros(self.ROWS), y=self._y, height=0.64,
                                     width=np.zeros(self.ROWS), brush=OTHER_BRUSH,
                                     pen=pg.mkPen(None))
        self.addItem(self._bars)
        font = QFont()
        font.setPointSizeF(8.5)
        self._labels: list[pg.TextItem] = []
        for yy in self._y:
            text = pg.TextItem("", color=(60, 62, 70), anchor=(0, 0.5))
            text.setFont(font)
            text.setPos(0.01, yy)
            self.addItem(text)
            self._labels.append(text)
        self._ticks: list | None = None
        self.values: list[tuple[str, float]] = []

    def show_prediction(self, prediction: list[tuple[str, float]], target: str | None) -> None:
        self.values = list(prediction)[:self.ROWS]
        n = len(self.values)
        widths = np.zeros(self.ROWS)
        widths[:n] = [p for _, p in self.values]
        brushes = [TARGET_BRUSH if k < n and self.values[k][0] == target else OTHER_BRUSH
                   for k in range(self.ROWS)]
        self._bars.setOpts(width=widths, brushes=brushes)
        for k, text in enumerate(self._labels):
            if k < n:
                prob = self.values[k][1]
                text.setText(f"{prob:.0%}")
                text.setPos(min(prob, 0.86) + 0.01, self._y[k])
            else:
                text.setText("")
        ticks = [(self._y[k], _short(label)) for k, (label, _) in enumerate(self.values)]
        if ticks != self._ticks:
            self._ticks = ticks
            self.getPlotItem().getAxis("left").setTicks([ticks])


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


class DeletionPlot(pg.PlotWidget):
    """Target probability as strokes are removed, most helpful first (lower area: more
    faithful)."""

    def __init__(self) -> None:
        super().__init__()
        _style(self, "Deletion curve")
        item = self.getPlotItem()
        item.setLabel("bottom", "fraction of strokes removed", **{"font-size": "8pt"})
        item.setLabel("left", "p(target)", **{"font-size": "8pt"})
        self.setXRange(0, 1, padding=0.02)
        self.setYRange(0, 1, padding=0.02)
        self.showGrid(x=True, y=True, alpha=0.15)
        self._fill_base = self.plot([0, 1], [0, 0], pen=None)
        self._curve = self.plot([], [], pen=pg.mkPen(TARGET_BRUSH, width=2), symbol="o",
                                symbolSize=4, symbolBrush=TARGET_BRUSH, symbolPen=None)
        self._fill = pg.FillBetweenItem(self._curve, self._fill_base,
                                        brush=pg.mkBrush(178, 24, 43, 40))
        self.addItem(self._fill)
        self.curve: np.ndarray | None = None

    def show_curve(self, deletion: np.ndarray | None, auc: float | None = None,
                   target: str | None = None) -> None:
        self.curve = None if deletion is None else np.asarray(deletion)
        item = self.getPlotItem()
        if deletion is None or len(deletion) < 2:
            self._curve.setData([], [])
            self._fill_base.setData([0, 1], [0, 0])
            item.setTitle("Deletion curve", size="9pt", color="#3c3e46")
            return
        x = np.linspace(0.0, 1.0, len(deletion))
        self._curve.setData(x, deletion)
        self._fill_base.setData(x, np.zeros_like(x))
        label = f" of “{target}”" if target else ""
        item.setTitle(f"Deletion curve{label} · AUC {auc:.3f} (lower = more faithful)",
                      size="9pt", color="#3c3e46")

    def clear_curve(self) -> None:
        self.show_curve(None)


class ColourBar(pg.PlotWidget):
    """The heat scale: red helps the target, blue argues against it, grey is neutral."""

    def __init__(self) -> None:
        super().__init__()
        item = self.getPlotItem()
        item.hideAxis("bottom")
        item.hideAxis("left")
        item.showAxis("right")
        _style(self, "Heat scale", axes=("right",))
        self._image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self._image)
        self._helps = pg.TextItem("helps", color=(255, 255, 255), anchor=(0.5, 0.0))
        self._hurts = pg.TextItem("hurts", color=(255, 255, 255), anchor=(0.5, 1.0))
        for t in (self._helps, self._hurts):
            f = QFont()
            f.setPointSizeF(8)
            t.setFont(f)
            self.addItem(t)
        self.setFixedWidth(120)
        self.scale = 1.0
        self.set_scale(1.0)

    def set_scale(self, scale: float) -> None:
        self.scale = float(scale)
        values = np.linspace(-scale, scale, 256)[:, None]
        rgb = heat_rgb(np.repeat(values, 2, axis=1), scale)
        self._image.setImage(rgb, levels=(0, 255))
        self._image.setRect(0, -scale, 1, 2 * scale)
        self._helps.setPos(0.5, scale * 0.98)
        self._hurts.setPos(0.5, -scale * 0.98)
        self.setXRange(0, 1, padding=0)
        self.setYRange(-scale, scale, padding=0.02)


class PlotsPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(8)
        self.probabilities = ProbabilityPlot()
        self.deletion = DeletionPlot()
        self.colour_bar = ColourBar()
        layout.addWidget(self.probabilities, 3)
        layout.addWidget(self.deletion, 4)
        layout.addWidget(self.colour_bar, 0)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("PlotsPanel { background: white; }")

    def show_result(self, result: Attribution, scale: float) -> None:
        self.probabilities.show_prediction(result.prediction, result.target)
        self.colour_bar.set_scale(scale)

    def set_task(self, task: str) -> None:
        """Class probabilities and the deletion curve mean something for classifiers only."""
        for widget in (self.probabilities, self.deletion):
            widget.setVisible(task == ModelTask.CLASSIFY)

    def clear(self) -> None:
        self.probabilities.show_prediction([], None)
        self.deletion.clear_curve()
        self.colour_bar.set_scale(1.0)
