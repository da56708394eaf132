"""What every plot in the studio shares: a quiet read-only look in the window's light or dark
scheme, the bar colours, and the line a plot shows while it has nothing to show ("the top classes
appear here").

The heat colours (bars, curve, colour bar) are the same in both schemes: they are calibrated and
mean the same as on the canvas. Only the chrome (background, axes, text) follows the scheme, and
every text colour reads on its background (WCAG 4.5:1, tests/test_studio_plots.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

from .style import contrast_ratio

pg.setConfigOptions(antialias=True, background="w", foreground=(60, 62, 70))

TARGET_BRUSH = QColor(178, 24, 43)       # the heat scale's red: the attributed target
OTHER_BRUSH = QColor(146, 197, 222)
DARK_TEXT = QColor(60, 62, 70)
LIGHT_TEXT = QColor(255, 255, 255)
TITLE_SIZE = "9pt"
LABEL_SIZE = "8pt"


@dataclass(frozen=True)
class PlotColours:
    background: str
    title: str
    axis: str        # axis lines and ticks
    tick_text: str   # tick labels and axis labels
    text: str        # text on the plot's background (a percentage beside its bar)
    muted: str       # what an empty plot says


PLOT_COLOURS: dict[str, PlotColours] = {
    "light": PlotColours("#ffffff", "#3c3e46", "#c8cad0", "#50525a", "#3c3e46", "#6e717a"),
    "dark": PlotColours("#26282e", "#e3e5ea", "#4a4e59", "#bfc3cc", "#e3e5ea", "#a3a7b2"),
}


def small_font(points: float = 8.5) -> QFont:
    font = QFont()
    font.setPointSizeF(points)
    return font


def style_plot(widget: pg.PlotWidget, title: str, axes: tuple[str, ...] = ("left", "bottom"),
               colours: PlotColours = PLOT_COLOURS["light"]) -> None:
    """A quiet, read-only plot: no mouse interaction, light axes, small fonts."""
    widget.setMenuEnabled(False)
    widget.setMouseEnabled(False, False)
    widget.hideButtons()
    widget.setMinimumHeight(150)
    colour_plot(widget, title, axes, colours)


def colour_plot(widget: pg.PlotWidget, title: str, axes: tuple[str, ...],
                colours: PlotColours) -> None:
    widget.setBackground(colours.background)
    item = widget.getPlotItem()
    item.setTitle(title, size=TITLE_SIZE, color=colours.title)
    for name in axes:
        axis = item.getAxis(name)
        axis.setTickFont(small_font())
        axis.setPen(pg.mkPen(colours.axis))
        axis.setTextPen(pg.mkPen(colours.tick_text))   # also the axis label's colour


def text_colour_on(background: QColor) -> QColor:
    """Dark or white text, whichever reads better on `background` (WCAG contrast)."""
    dark = contrast_ratio(DARK_TEXT, background)
    light = contrast_ratio(LIGHT_TEXT, background)
    return QColor(DARK_TEXT) if dark >= light else QColor(LIGHT_TEXT)


class StyledPlot(pg.PlotWidget):
    """A plot that keeps its title and axis labels in the current scheme (`set_scheme`)."""

    def __init__(self, title: str, axes: tuple[str, ...] = ("left", "bottom")) -> None:
        super().__init__()
        self.colours = PLOT_COLOURS["light"]
        self._title = title
        self._axes = axes
        self._axis_labels: dict[str, str] = {}
        style_plot(self, title, axes, self.colours)

    def set_title(self, title: str) -> None:
        self._title = title
        self.getPlotItem().setTitle(title, size=TITLE_SIZE, color=self.colours.title)

    def set_axis_label(self, name: str, text: str) -> None:
        self._axis_labels[name] = text
        self.getPlotItem().getAxis(name).setLabel(
            text, **{"font-size": LABEL_SIZE, "color": self.colours.tick_text})

    def set_scheme(self, scheme: str) -> None:
        """'light' or 'dark' (style.Theme.schemeChanged says which)."""
        self.colours = PLOT_COLOURS[scheme]
        colour_plot(self, self._title, self._axes, self.colours)
        for name, text in self._axis_labels.items():
            self.set_axis_label(name, text)
        self.scheme_changed()

    def scheme_changed(self) -> None:
        """Recolour what the plot draws itself (its texts)."""


class Placeholder(pg.TextItem):
    """The line an empty plot shows in its middle: what will appear there, and when."""

    def __init__(self, plot: StyledPlot, text: str, x: float, y: float) -> None:
        super().__init__(text, color=plot.colours.muted, anchor=(0.5, 0.5))
        self.setFont(small_font(9))
        self.setPos(x, y)
        self.setZValue(10)
        plot.addItem(self)

    def say(self, text: str | None) -> None:
        """Show `text` (None: hide)."""
        if text:
            self.setText(text)
        self.setVisible(bool(text))

    @property
    def message(self) -> str:
        """What it says now ("" while hidden)."""
        return str(self.textItem.toPlainText()) if self.isVisible() else ""
