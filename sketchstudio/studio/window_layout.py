"""Where things sit in the window: the panel dock (one scrolling tab per panel), the plots dock,
and a saved geometry kept on the screen.

Panels keep their natural height and scroll when the window is short (1024x680): a panel is never
squeezed below its minimum size, and its buttons stay reachable by scrolling.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QMainWindow,
    QScrollArea,
    QStyle,
    QTabWidget,
    QWidget,
)

PANEL_DOCK_MIN_WIDTH = 300


def panel_dock(window: QMainWindow, panels: Sequence[QWidget],
               titles: Sequence[str]) -> tuple[QDockWidget, QTabWidget]:
    tabs = QTabWidget()
    tabs.setDocumentMode(True)
    for panel, title in zip(panels, titles, strict=True):
        scroll = QScrollArea()
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        tabs.addTab(scroll, title)
    dock = QDockWidget("Explain", window)
    dock.setObjectName("panelsDock")
    dock.setWidget(tabs)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    # Wide enough for every panel's own minimum beside the vertical scroll bar (a panel scrolls
    # only vertically), with room for the style's polish (it widens a panel a little when shown).
    scroll_bar = tabs.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    width = max([PANEL_DOCK_MIN_WIDTH]
                + [p.minimumSizeHint().width() + scroll_bar + 32 for p in panels])
    dock.setMinimumWidth(width)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    return dock, tabs


def plots_dock(window: QMainWindow, plots: QWidget) -> QDockWidget:
    dock = QDockWidget("Plots", window)
    dock.setObjectName("plotsDock")
    dock.setWidget(plots)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.resizeDocks([dock], [200], Qt.Orientation.Vertical)
    return dock


def available_geometry(window: QWidget) -> QRect | None:
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def clamp_to_screen(window: QWidget, available: QRect | None = None) -> bool:
    """Shrink and move `window` so that its frame lies inside the screen's available area (a
    geometry saved on a larger screen, or at another scale factor, would open partly off it).
    True when it had to change."""
    area = available if available is not None else available_geometry(window)
    if area is None or area.isEmpty():
        return False
    frame = window.frameGeometry()
    if area.contains(frame):
        return False
    # The frame (title bar, borders) around the client area, as the window system adds it.
    extra_w = max(frame.width() - window.width(), 0)
    extra_h = max(frame.height() - window.height(), 0)
    width = min(window.width(), area.width() - extra_w)
    height = min(window.height(), area.height() - extra_h)
    window.resize(max(width, window.minimumWidth()), max(height, window.minimumHeight()))
    frame = window.frameGeometry()
    x = min(max(frame.x(), area.x()), area.x() + max(area.width() - frame.width(), 0))
    y = min(max(frame.y(), area.y()), area.y() + max(area.height() - frame.height(), 0))
    window.move(x, y)
    return True
