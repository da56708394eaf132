"""One stroke on the canvas: a QGraphicsItem drawn as plain ink or in heat colours.

Also what the canvas says about a stroke under the pointer: its number (from 1), its value, and
with per-segment values (P-SLA) the segment nearest the pointer.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ..sketch import Stroke
from .heat import INK, StrokeHeat
from .numbers import format_value, stroke_name, verdict
from .overlay import SELECTION


def stroke_width_for(extent: float) -> float:
    """Stroke width in scene units: readable at any sketch size (Quick, Draw! 0..255 -> 2.6)."""
    return max(extent, 1.0) / 100.0


def round_pen(colour: QColor, width: float) -> QPen:
    return QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin)


def nearest_segment(points: np.ndarray, x: float, y: float) -> int:
    """Index j of the segment points[j] -> points[j + 1] nearest to (x, y) (0 for a dot)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(pts) < 2:
        return 0
    a, b = pts[:-1], pts[1:]
    ab = b - a
    q = np.array([x, y], dtype=float)
    length2 = np.maximum((ab * ab).sum(axis=1), 1e-12)
    t = np.clip(((q - a) * ab).sum(axis=1) / length2, 0.0, 1.0)
    closest = a + t[:, None] * ab
    return int(np.argmin(((closest - q) ** 2).sum(axis=1)))


class StrokeItem(QGraphicsItem):
    """One stroke: a polyline (or a dot), plain ink or heat colours, width from pressure."""

    def __init__(self, index: int, stroke: Stroke, width: float) -> None:
        super().__init__()
        self.index = index
        self.stroke = stroke
        self.width = width
        self.heat: StrokeHeat | None = None
        self.show_heat = True
        self.erasing = False
        pts = stroke.points
        self._points = [QPointF(float(x), float(y)) for x, y in pts]
        path = QPainterPath(self._points[0])
        for p in self._points[1:]:
            path.lineTo(p)
        self._path = path
        if stroke.pressure is not None and len(pts) > 1:
            p = np.clip(stroke.pressure, 0.0, 1.0)
            seg = (p[:-1] + p[1:]) / 2.0
            self._widths: list[float] | None = [width * (0.3 + 1.1 * float(v)) for v in seg]
        else:
            self._widths = None
        self._max_width = max(self._widths) if self._widths else width
        self._bounds = path.boundingRect().adjusted(-self._max_width, -self._max_width,
                                                    self._max_width, self._max_width)
        if len(self._points) == 1:
            shape = QPainterPath()
            shape.addEllipse(self._points[0], self._max_width / 2, self._max_width / 2)
        else:
            stroker = QPainterPathStroker()
            stroker.setWidth(self._max_width)
            stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
            stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            shape = stroker.createStroke(path)
        self._shape = shape
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(False)
        # Repainting a neighbour's region blits this stroke instead of re-stroking its path: with
        # hundreds of antialiased strokes that is most of the cost of an edit.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.stacked = False          # has a z in the canvas's order (see `restack`)
        self.update_tooltip()

    # --- appearance --------------------------------------------------------------------------
    def set_heat(self, heat: StrokeHeat | None, show: bool) -> None:
        if heat is self.heat and show == self.show_heat:
            return
        self.heat = heat
        self.show_heat = show
        self.update_tooltip()
        self.update()

    def set_erasing(self, erasing: bool) -> None:
        if erasing != self.erasing:
            self.erasing = erasing
            self.update()

    def colour(self) -> QColor:
        return self.heat.colour if (self.heat is not None and self.show_heat) else INK

    # --- what the stroke says ------------------------------------------------------------------
    def describe(self) -> str:
        """'stroke 3 · +0.512 (helps, Occlusion)': its number from 1, its value if explained."""
        text = stroke_name(self.index)
        if self.heat is not None:
            value = self.heat.value
            text += f"  ·  {format_value(value)} ({verdict(value)}, {self.heat.method})"
        return text

    def segment_at(self, scene_pos: QPointF) -> int | None:
        """The segment (0-based) nearest `scene_pos` when the stroke has per-segment values."""
        if self.heat is None or self.heat.segment_values is None:
            return None
        local = self.mapFromScene(scene_pos)   # a stroke being dragged is offset by its pos
        j = nearest_segment(self.stroke.points, local.x(), local.y())
        return min(j, len(self.heat.segment_values) - 1)

    def hover_text(self, scene_pos: QPointF) -> str:
        """The stroke's description, and with P-SLA the segment under the pointer and its value."""
        text = self.describe()
        j = self.segment_at(scene_pos)
        if j is not None and self.heat is not None and self.heat.segment_values is not None:
            n = len(self.heat.segment_values)
            value = float(self.heat.segment_values[j])
            text += f"\nsegment {j + 1} of {n}: {format_value(value)} ({verdict(value)})"
        return text

    def update_tooltip(self) -> None:
        self.setToolTip(self.describe())

    # --- QGraphicsItem -----------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.isSelected():
            halo = self._max_width + 6.0 / max(painter.transform().m11(), 1e-6)
            self._draw(painter, round_pen(SELECTION, halo))
        colour = QColor(self.colour())
        if self.erasing:
            colour.setAlpha(60)
        segments = (self.heat.segment_colours
                    if self.heat is not None and self.show_heat and not self.erasing else None)
        pen = round_pen(colour, self.width)
        if segments is None and self._widths is None:
            self._draw(painter, pen)
            return
        pts = self._points
        if len(pts) == 1:
            painter.setPen(pen)
            painter.drawPoint(pts[0])
            return
        for j in range(len(pts) - 1):
            if segments is not None:
                pen.setColor(segments[min(j, len(segments) - 1)])
            if self._widths is not None:
                pen.setWidthF(self._widths[j])
            painter.setPen(pen)
            painter.drawLine(pts[j], pts[j + 1])

    def _draw(self, painter: QPainter, pen: QPen) -> None:
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if len(self._points) == 1:
            painter.drawPoint(self._points[0])
        else:
            painter.drawPath(self._path)


def restack(items: list[StrokeItem]) -> None:
    """Make z increase along the stroke order, changing as few items as possible.

    A changed z repaints the item, so z is not simply the index: erasing stroke 3 of 1,000 must not
    repaint the 996 after it. Items keep their z while the order holds; a new item gets a z between
    its neighbours.
    """
    previous = -1.0
    for k, item in enumerate(items):
        z = item.zValue() if item.stacked else None
        if z is None or z <= previous:
            following = items[k + 1] if k + 1 < len(items) else None
            ceiling = following.zValue() if following is not None and following.stacked else None
            if ceiling is not None and ceiling - previous > 1e-6:
                z = previous + (ceiling - previous) / 2.0
            else:
                z = previous + 1.0
            item.setZValue(z)
            item.stacked = True
        previous = z
