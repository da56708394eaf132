"""The white page under the strokes: its square, its shadow and the "Draw something" hint.

The page grows around what is drawn (and is set afresh by a much larger import); its size also
sets the stroke width, so a drawing reads the same at any scale.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
)

from ..sketch import Sketch

PAGE = 256.0                   # the page an empty document starts with (Quick, Draw! units)
HINT_COLOUR = QColor(170, 172, 180)


def content_rect(sketch: Sketch) -> QRectF:
    """A square around the strokes with a little air."""
    x0, y0, x1, y1 = sketch.bbox()
    side = max(x1 - x0, y1 - y0, 1.0) * 1.16
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return QRectF(cx - side / 2, cy - side / 2, side, side)


def _hint(text: str, points: float) -> QGraphicsSimpleTextItem:
    item = QGraphicsSimpleTextItem(text)
    font = QFont()
    font.setPointSizeF(points)
    item.setFont(font)
    item.setBrush(QBrush(HINT_COLOUR))
    item.setZValue(-5)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
    return item


class Page:
    """The page's items in a scene, and its geometry (`rect`, `width_basis`)."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.rect = QRectF(0, 0, PAGE, PAGE)
        self.width_basis = PAGE        # the extent the stroke width is derived from
        self.item = QGraphicsRectItem(QRectF(self.rect))
        self.item.setBrush(QBrush(Qt.GlobalColor.white))
        self.item.setPen(QPen(QColor(210, 212, 218), 0))
        self.item.setZValue(-10)
        scene.addItem(self.item)
        # A plain offset rectangle as the page's shadow: a blur effect would re-render the whole
        # page on every repaint (it cost 100+ ms per frame while drawing).
        self.shadow = QGraphicsRectItem(QRectF(self.rect))
        self.shadow.setBrush(QBrush(QColor(0, 0, 0, 22)))
        self.shadow.setPen(QPen(Qt.PenStyle.NoPen))
        self.shadow.setZValue(-11)
        scene.addItem(self.shadow)
        self.hint = _hint("Draw something", 18)
        self.subhint = _hint("each stroke is coloured by how much it convinces the model", 10.5)
        scene.addItem(self.hint)
        scene.addItem(self.subhint)

    def reset(self, sketch: Sketch | None) -> None:
        """A fresh page: around `sketch`'s strokes, or the default page."""
        self.rect = content_rect(sketch) if sketch is not None and len(sketch) else QRectF(
            0, 0, PAGE, PAGE)
        self.width_basis = max(self.rect.width(), self.rect.height())

    def follow(self, sketch: Sketch) -> QRectF:
        """Grow the page around `sketch`; returns the scene rect the view should have."""
        rect = QRectF(self.rect)
        if len(sketch):
            content = content_rect(sketch)
            if self._keeps_page(content):
                rect = rect.united(content)
            else:
                # A much larger (or far away) drawing: it sets the page and stroke width afresh.
                rect = content
                self.width_basis = content.width()
        # Keep the page square: it reads as "the drawing", whatever the strokes' aspect.
        side = max(rect.width(), rect.height())
        c = rect.center()
        rect = QRectF(c.x() - side / 2, c.y() - side / 2, side, side)
        if rect != self.item.rect():
            self.item.setRect(rect)
        offset = side * 0.006
        shadow = rect.translated(offset * 0.5, offset)
        if shadow != self.shadow.rect():
            self.shadow.setRect(shadow)
        self.rect = rect
        margin = side * 4
        return rect.adjusted(-margin, -margin, margin, margin)

    def _keeps_page(self, content: QRectF) -> bool:
        # Grow the page around what is drawn, but drop the old page for a much larger import.
        old = max(self.rect.width(), self.rect.height())
        new = max(content.width(), content.height())
        return new <= old * 3 and content.intersects(self.rect.adjusted(-old, -old, old, old))

    def place_hint(self, empty: bool, zoom: float) -> None:
        """Show the hint, centred on the page, only while nothing is drawn."""
        for item in (self.hint, self.subhint):
            item.setVisible(empty)
        if not empty:
            return
        r = self.rect
        scale = max(zoom, 1e-6)
        for item, dy in ((self.hint, -14), (self.subhint, 16)):
            w = item.boundingRect().width() / scale
            h = item.boundingRect().height() / scale
            item.setPos(r.center().x() - w / 2, r.center().y() + dy / scale - h / 2)
