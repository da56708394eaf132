"""The bottom dock: top-k class probabilities, the deletion curve, and the heat scale's colour
bar.

Every plot says what it is waiting for while it is empty, a deletion curve being measured says so
instead of showing the previous one, and a click on a class bar asks for that class to be
explained (`PlotsPanel.targetClicked`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsSceneMouseEvent, QHBoxLayout, QLabel, QWidget

from ..models.tasks import ModelTask
from .colour_bar import ColourBar
from .numbers import format_probability, format_score, score_unit
from .plot_style import (
    OTHER_BRUSH,
    PLOT_COLOURS,
    TARGET_BRUSH,
    Placeholder,
    StyledPlot,
    small_font,
    style_plot,
    text_colour_on,
)

if TYPE_CHECKING:
    from ..explain.result import Attribution

__all__ = ["ColourBar", "DeletionPlot", "PlotsPanel", "ProbabilityPlot", "bar_label",
           "style_plot"]

_style = style_plot    # the name the task panels import

EMPTY_CLASSES = "Draw something:\nthe top classes appear here"
EMPTY_CURVE = "The deletion curve appears after an explanation"
PENDING_CURVE = "Measuring the deletion curve…"
INSIDE_FROM = 0.78     # a bar at least this long carries its percentage inside, at its end


@dataclass(frozen=True)
class BarLabel:
    x: float                   # where the text is anchored (view units, 0..1)
    anchor: tuple[float, float]
    colour: QColor
    inside: bool               # drawn on the bar (else on the white plot, right of it)


def bar_label(probability: float, bar: QColor, text: str = PLOT_COLOURS["light"].text,
              ) -> BarLabel:
    """Where a bar's percentage goes and in which colour, so it reads on what is behind it
    (`text`: the colour of text on the plot's background)."""
    if probability < INSIDE_FROM:
        return BarLabel(probability + 0.01, (0.0, 0.5), QColor(text), False)
    return BarLabel(probability - 0.01, (1.0, 0.5), text_colour_on(bar), True)


class ProbabilityPlot(StyledPlot):
    """Top-k classes as horizontal bars; the attributed target in the heat scale's red.

    The bar and text items are made once and updated in place: this runs after every stroke.
    """

    ROWS = 5
    classClicked = Signal(str)

    def __init__(self) -> None:
        super().__init__("Top classes", axes=("left",))
        # Every bar carries its percentage: a probability axis under them would only repeat it.
        self.getPlotItem().hideAxis("bottom")
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
        self._labels: list[pg.TextItem] = []
        for yy in self._y:
            text = pg.TextItem("", color=self.colours.text, anchor=(0, 0.5))
            text.setFont(small_font())
            text.setPos(0.01, yy)
            self.addItem(text)
            self._labels.append(text)
        self.placeholder = Placeholder(self, EMPTY_CLASSES, 0.5, (self.ROWS - 1) / 2)
        self._ticks: list[tuple[float, str]] | None = None
        self.values: list[tuple[str, float]] = []
        self.target: str | None = None
        self.scene().sigMouseClicked.connect(self._clicked)

    def scheme_changed(self) -> None:
        self.placeholder.setColor(self.colours.muted)
        self.show_prediction(self.values, self.target)

    def show_prediction(self, prediction: list[tuple[str, float]], target: str | None) -> None:
        self.values = list(prediction)[:self.ROWS]
        self.target = target
        n = len(self.values)
        widths = np.zeros(self.ROWS)
        widths[:n] = [p for _, p in self.values]
        brushes = [TARGET_BRUSH if k < n and self.values[k][0] == target else OTHER_BRUSH
                   for k in range(self.ROWS)]
        self._bars.setOpts(width=widths, brushes=brushes)
        for k, text in enumerate(self._labels):
            if k < n:
                prob = self.values[k][1]
                place = bar_label(prob, brushes[k], self.colours.text)
                text.setText(format_probability(prob))
                text.setColor(place.colour)
                text.setAnchor(place.anchor)
                text.setPos(place.x, self._y[k])
            else:
                text.setText("")
        ticks = [(self._y[k], _short(label)) for k, (label, _) in enumerate(self.values)]
        if ticks != self._ticks:
            self._ticks = ticks
            self.getPlotItem().getAxis("left").setTicks([ticks])
        self.placeholder.say(None if n else EMPTY_CLASSES)
        self.setCursor(Qt.CursorShape.PointingHandCursor if n else Qt.CursorShape.ArrowCursor)
        self.setToolTip("Click a class to explain it" if n else "")

    def label_at(self, scene_pos: QPointF) -> str | None:
        """The class whose row (bar or name) is at `scene_pos`, if any."""
        item = self.getPlotItem()
        if not item.sceneBoundingRect().contains(scene_pos):
            return None
        y = item.vb.mapSceneToView(scene_pos).y()
        k = int(round(self.ROWS - 1 - y))
        if 0 <= k < len(self.values) and abs(self._y[k] - y) <= 0.5:
            return self.values[k][0]
        return None

    def _clicked(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        label = self.label_at(event.scenePos())
        if label is not None:
            self.classClicked.emit(label)


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


class DeletionPlot(StyledPlot):
    """Target probability as strokes are removed, most helpful first (lower area: more
    faithful)."""

    def __init__(self) -> None:
        super().__init__("Deletion curve")
        item = self.getPlotItem()
        self.set_axis_label("bottom", "fraction of strokes removed")
        self.set_axis_label("left", "p(target)")
        # Room on the right for the "1" under the curve's last point.
        item.layout.setContentsMargins(2, 2, 12, 2)
        ticks = [[(v, f"{v:g}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]]
        for name in ("bottom", "left"):
            item.getAxis(name).setTicks(ticks)
        item.getAxis("bottom").setStyle(hideOverlappingLabels=12)
        self.setXRange(0, 1, padding=0.02)
        # With a grid, pyqtgraph drops a tick label that leaves the plot: room for "0" and "1".
        self.setYRange(0, 1, padding=0.06)
        self.showGrid(x=True, y=True, alpha=0.15)
        self._fill_base = self.plot([0, 1], [0, 0], pen=None)
        self._curve = self.plot([], [], pen=pg.mkPen(TARGET_BRUSH, width=2), symbol="o",
                                symbolSize=4, symbolBrush=TARGET_BRUSH, symbolPen=None)
        self._fill = pg.FillBetweenItem(self._curve, self._fill_base,
                                        brush=pg.mkBrush(178, 24, 43, 40))
        self.addItem(self._fill)
        self.placeholder = Placeholder(self, EMPTY_CURVE, 0.5, 0.5)
        self.curve: np.ndarray | None = None
        self.pending = False

    def show_curve(self, deletion: np.ndarray | None, auc: float | None = None,
                   target: str | None = None) -> None:
        self.pending = False
        self.curve = None if deletion is None else np.asarray(deletion)
        if deletion is None or len(deletion) < 2:
            self._show_empty(EMPTY_CURVE)
            return
        x = np.linspace(0.0, 1.0, len(deletion))
        self._curve.setData(x, deletion)
        self._fill_base.setData(x, np.zeros_like(x))
        area = f" · AUC {format_score(auc)} (lower: more faithful)" if auc is not None else ""
        self.set_title(f"Deletion curve{area}")
        self._y_label(target)
        self.placeholder.say(None)

    def clear_curve(self, message: str | None = None) -> None:
        """No curve; the plot says `message` (default: that one comes with an explanation)."""
        self.pending = False
        self.curve = None
        self._show_empty(message or EMPTY_CURVE)

    def set_pending(self) -> None:
        """A curve for the newest explanation is being measured: the old one goes now."""
        self.clear_curve(PENDING_CURVE)
        self.pending = True

    def _show_empty(self, message: str) -> None:
        self._curve.setData([], [])
        self._fill_base.setData([0, 1], [0, 0])
        self.set_title("Deletion curve")
        self._y_label(None)
        self.placeholder.say(message)

    def _y_label(self, target: str | None) -> None:
        self.set_axis_label("left", f"p({_short(target)})" if target else "p(target)")

    def scheme_changed(self) -> None:
        self.placeholder.setColor(self.colours.muted)


# What the plots dock shows for models that are not classifiers (top classes and the deletion
# curve have no meaning there).
TASK_NOTES: dict[str, str] = {
    ModelTask.EMBED: "Top classes and the deletion curve are for classifiers. For an embedding "
                     "model the heat scale shows how much each stroke adds to the cosine "
                     "similarity with the result picked in Retrieve.",
    ModelTask.GENERATE: "Top classes and the deletion curve are for classifiers. For a generator "
                        "the heat scale shows how much each stroke adds to the region picked in "
                        "Generate (the whole image until one is picked).",
}


class PlotsPanel(QWidget):
    # A class bar (or its name) was clicked: the window makes that class the target.
    targetClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(8)
        self.probabilities = ProbabilityPlot()
        self.deletion = DeletionPlot()
        self.colour_bar = ColourBar()
        # For embedding models and generators, in place of the two classifier plots.
        self.task_note = QLabel()
        self.task_note.setObjectName("muted")
        self.task_note.setWordWrap(True)
        self.task_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.task_note.hide()
        layout.addWidget(self.probabilities, 3)
        layout.addWidget(self.deletion, 4)
        layout.addWidget(self.task_note, 7)
        layout.addWidget(self.colour_bar, 0)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.set_scheme("light")
        self.probabilities.classClicked.connect(self.targetClicked)

    def set_scheme(self, scheme: str) -> None:
        """Follow the window's 'light' or 'dark' scheme (style.Theme.schemeChanged)."""
        self.scheme = scheme
        for plot in (self.probabilities, self.deletion, self.colour_bar):
            plot.set_scheme(scheme)
        self.setStyleSheet(f"PlotsPanel {{ background: {PLOT_COLOURS[scheme].background}; }}")

    def show_result(self, result: Attribution, scale: float) -> None:
        """A new explanation: its prediction, its heat scale and unit. A deletion curve (or one
        being measured) belongs to an older explanation and goes; call `deletion.set_pending()`
        after this when a curve for this one is on its way."""
        self.probabilities.show_prediction(result.prediction, result.target)
        self.colour_bar.set_unit(score_unit(result.objective))
        self.colour_bar.set_scale(scale)
        self.deletion.clear_curve()

    def set_task(self, task: str) -> None:
        """Class probabilities and the deletion curve mean something for classifiers only."""
        for widget in (self.probabilities, self.deletion):
            widget.setVisible(task == ModelTask.CLASSIFY)
        self.task_note.setText(TASK_NOTES.get(task, ""))
        self.task_note.setVisible(task != ModelTask.CLASSIFY)

    def clear(self) -> None:
        self.probabilities.show_prediction([], None)
        self.deletion.clear_curve()
        self.colour_bar.set_unit("")
        self.colour_bar.set_scale(1.0)
