"""Layers drawn over (or under) the strokes by tools: ghosts, arrows, halos and images.

Each tool owns one named `Overlay` on the canvas (`canvas.overlay("assist")`) and replaces its
content as a whole; the overlay never touches the document. Everything is in sketch coordinates,
so it pans and zooms with the drawing.

The tools' palette. The heat scale (studio/heat.py, ColorBrewer RdBu) already owns red ("helps")
and blue ("hurts"), so nothing a tool draws may be red or blue: a red ghost would read as "this
helps", a blue halo as "this hurts". The tools use the hues RdBu does not (from the Okabe-Ito
colour-blind-safe set), one meaning each:

- `ATTACK`: amber #E69F00 (ghost), darker #A86A00 (arrows): an adversarial edit, where points go.
- `HINT`: bluish green #009E73: moves that help the class you mean, and where ink would help.
- `RECONSIDER`: violet #7E57C2, a translucent halo: a stroke that argues against that class.
- `SELECTION`: neutral grey, a translucent halo: the strokes the selection tool holds.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainterPath, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsPixmapItem, QGraphicsScene

ATTACK = QColor(230, 159, 0, 210)
ATTACK_ARROWS = QColor(168, 106, 0)
HINT = QColor(0, 158, 115)
HINT_GHOST = QColor(0, 158, 115, 200)
RECONSIDER = QColor(126, 87, 194, 90)
RECONSIDER_TEXT = QColor(103, 58, 183)
SELECTION = QColor(96, 96, 110, 90)

# Where overlay layers sit relative to the strokes (whose z is their index, from 0 upwards).
Z_UNDER = -4          # images and halos: behind every stroke, above the page
Z_OVER = 1_000_000    # ghosts and arrows: above every stroke
MAX_ARROWS = 400


def _polyline(points: np.ndarray) -> QPainterPath:
    path = QPainterPath()
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return path
    path.moveTo(float(pts[0, 0]), float(pts[0, 1]))
    if len(pts) == 1:
        path.addEllipse(QPointF(float(pts[0, 0]), float(pts[0, 1])), 0.5, 0.5)
    for x, y in pts[1:]:
        path.lineTo(float(x), float(y))
    return path


def strokes_path(strokes) -> QPainterPath:
    """One path of many polylines (ghosts, halos): one item, one paint call."""
    path = QPainterPath()
    for points in strokes:
        path.addPath(_polyline(points))
    return path


def path_item(path: QPainterPath, colour: QColor, width: float, z: float,
              dashed: bool = False) -> QGraphicsPathItem:
    """An unfilled path drawn with a round-capped pen, at depth `z`."""
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    item = QGraphicsPathItem(path)
    item.setPen(pen)
    item.setBrush(QBrush(Qt.BrushStyle.NoBrush))
    item.setZValue(z)
    return item


def arrow_path(starts: np.ndarray, ends: np.ndarray, head: float) -> QPainterPath:
    """One path of shafts with two-line heads; `head` is the head length in sketch units."""
    path = QPainterPath()
    for (x0, y0), (x1, y1) in zip(np.asarray(starts, float), np.asarray(ends, float),
                                  strict=True):
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        if length <= 0:
            continue
        path.moveTo(x0, y0)
        path.lineTo(x1, y1)
        ux, uy = dx / length, dy / length
        h = min(head, length * 0.6)
        for sign in (1, -1):
            # 25 degrees either side of the shaft, pointing back from the tip
            c, s = math.cos(math.radians(25)), sign * math.sin(math.radians(25))
            path.moveTo(x1, y1)
            path.lineTo(x1 - h * (ux * c - uy * s), y1 - h * (uy * c + ux * s))
    return path


def significant_arrows(starts: np.ndarray, ends: np.ndarray, limit: int = MAX_ARROWS,
                       floor: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The arrows worth drawing: longer than `floor` of the longest, at most `limit`, evenly
    kept."""
    starts = np.asarray(starts, float).reshape(-1, 2)
    ends = np.asarray(ends, float).reshape(-1, 2)
    lengths = np.linalg.norm(ends - starts, axis=1)
    if not len(lengths) or lengths.max() <= 0:
        return starts[:0], ends[:0]
    keep = np.flatnonzero(lengths >= floor * lengths.max())
    if len(keep) > limit:
        keep = keep[np.linspace(0, len(keep) - 1, limit).round().astype(int)]
    return starts[keep], ends[keep]


def rgba_image(rgba: np.ndarray) -> QImage:
    """(H, W, 4) uint8 -> QImage that owns a copy of the pixels."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class Overlay:
    """A tool's layer: replace its ghost, arrows, halos or image; `clear()` removes them all."""

    def __init__(self, scene: QGraphicsScene, stroke_width: float) -> None:
        self._scene = scene
        self.stroke_width = stroke_width
        self._items: dict[str, QGraphicsItem] = {}

    def _replace(self, key: str, item: QGraphicsItem | None) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._scene.removeItem(old)
        if item is not None:
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self._scene.addItem(item)
            self._items[key] = item

    def has(self, key: str) -> bool:
        return key in self._items

    def item(self, key: str) -> QGraphicsItem | None:
        return self._items.get(key)

    def set_ghost(self, strokes, colour: QColor = HINT_GHOST, dashed: bool = True,
                  key: str = "ghost") -> None:
        """Strokes as they would be after an edit, drawn thin over the real ones."""
        item = path_item(strokes_path(strokes), colour, self.stroke_width * 0.55, Z_OVER, dashed)
        self._replace(key, item if len(strokes) else None)

    def set_arrows(self, starts, ends, colour: QColor = HINT, key: str = "arrows") -> None:
        starts, ends = significant_arrows(starts, ends)
        if not len(starts):
            self._replace(key, None)
            return
        path = arrow_path(starts, ends, self.stroke_width * 1.6)
        self._replace(key, path_item(path, colour, self.stroke_width * 0.45, Z_OVER + 1))

    def set_halos(self, strokes, colour: QColor = RECONSIDER, key: str = "halos") -> None:
        """A wide translucent band behind each given stroke (e.g. strokes that argue against)."""
        item = path_item(strokes_path(strokes), colour, self.stroke_width * 5, Z_UNDER + 1)
        self._replace(key, item if len(strokes) else None)

    def set_image(self, rgba: np.ndarray | None,
                  rect: tuple[float, float, float, float] | None = None,
                  opacity: float = 0.6, key: str = "image") -> None:
        """An (H, W, 4) image stretched over `rect` = (x0, y0, x1, y1) in sketch units."""
        if rgba is None or rect is None:
            self._replace(key, None)
            return
        image = rgba_image(rgba)
        item = QGraphicsPixmapItem(QPixmap.fromImage(image))
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        x0, y0, x1, y1 = (float(v) for v in rect)
        item.setPos(x0, y0)
        # Non-uniform scale: pixels to sketch units on each axis.
        item.setTransform(QTransform.fromScale((x1 - x0) / image.width(),
                                               (y1 - y0) / image.height()))
        item.setOpacity(opacity)
        item.setZValue(Z_UNDER)
        self._replace(key, item)

    def clear(self) -> None:
        for key in list(self._items):
            self._replace(key, None)

    @property
    def empty(self) -> bool:
        return not self._items

    def bounding_rect(self) -> QRectF:
        rect = QRectF()
        for item in self._items.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect
