"""The canvas's view of its scene: a page, zoom (wheel, buttons, fit) and pan (drag, buttons).

The view stays fitted to the page as the window is resized until the user zooms or pans; from
then on resizing keeps their view (centre and zoom) until Fit (or New, Open) fits it again.

`PageView` is the part of the canvas that knows about the page and the view transform and nothing
about strokes or tools; `SketchCanvas` (canvas.py) builds on it.
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QResizeEvent, QTransform, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

from ..sketch import Sketch
from .page import Page

BACKGROUND = QColor(236, 237, 240)
MIN_ZOOM, MAX_ZOOM = 0.05, 60.0
ZOOM_STEP = 1.25               # one Zoom in / Zoom out
WHEEL_STEP = 1.15              # one wheel notch (120 units of angle delta)


class PageView(QGraphicsView):
    """A view of a scene with a page on it: fitted, zoomed about the pointer, panned by drag."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene_ = QGraphicsScene(self)
        self.setScene(self.scene_)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QBrush(BACKGROUND))
        # Panning is by drag (pan tool, middle button), zoom by wheel: scroll bars only add noise.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumSize(320, 240)
        self.sheet = Page(self.scene_)
        self.page = self.sheet.item            # the page's rectangle item
        self.page_shadow = self.sheet.shadow
        self.hint = self.sheet.hint
        self.subhint = self.sheet.subhint
        # True once the user zoomed or panned: resizing then keeps their view instead of fitting.
        self.user_view = False

    # --- page ------------------------------------------------------------------------------------
    def _follow_page(self, sketch: Sketch) -> None:
        scene_rect = self.sheet.follow(sketch)
        if scene_rect != self.sceneRect():      # a new scene rect repaints the whole view
            self.setSceneRect(scene_rect)
        self._place_hint()

    def _place_hint(self) -> None:
        self.sheet.place_hint(self._is_empty(), self.zoom)

    def _is_empty(self) -> bool:
        """Whether nothing is drawn (the hint shows); the canvas says."""
        return True

    # --- zoom ------------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            steps = event.pixelDelta().y() / 60.0
        if steps:
            self.zoom_by(WHEEL_STEP ** steps)
        event.accept()

    def zoom_by(self, factor: float) -> None:
        self.user_view = True
        current = self.zoom
        target = min(max(current * factor, MIN_ZOOM), MAX_ZOOM)
        if math.isclose(target, current):
            return
        self.scale(target / current, target / current)
        self._place_hint()

    def zoom_about_centre(self, factor: float) -> None:
        """Zoom keeping the view's centre in place (buttons and keys; the wheel keeps the
        pointer's place)."""
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(factor)
        self.setTransformationAnchor(anchor)

    def zoom_in(self) -> None:
        self.zoom_about_centre(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_about_centre(1 / ZOOM_STEP)

    def fit(self) -> None:
        """The whole page in view, with a little air around it; it stays fitted on resize."""
        self.user_view = False
        r = self.sheet.rect
        pad = max(r.width(), r.height()) * 0.06
        target = r.adjusted(-pad, -pad, pad, pad)
        view = self.viewport().rect()
        if view.width() < 10 or view.height() < 10:
            return
        scale = min(view.width() / target.width(), view.height() / target.height())
        scale = min(max(scale, MIN_ZOOM), MAX_ZOOM)
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(target.center())
        self._place_hint()

    # --- pan -------------------------------------------------------------------------------------
    def pan_by(self, dx: float, dy: float) -> None:
        self.user_view = True
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(int(h.value() - dx))
        v.setValue(int(v.value() - dy))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # An untouched view follows the window, so a drawing never sits cut off after the window
        # shrinks; an empty page always does (there is no view of a drawing to keep).
        if not self.user_view or self._is_empty():
            self.fit()
