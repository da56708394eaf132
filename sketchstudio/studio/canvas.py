"""The drawing canvas: a QGraphicsView of antialiased vector strokes over a white page.

The scene mirrors the document's current snapshot (one StrokeItem per stroke, synchronised by
stroke identity so unchanged strokes keep their items). Input goes to the active tool (tools.py);
tools never change items directly, they apply a new snapshot to the document.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QTransform,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QStyleOptionGraphicsItem,
)

from ..sketch import Sketch, Stroke
from .document import StudioDocument
from .heat import INK, HeatMap
from .overlay import SELECTION, Overlay

PAGE = 256.0                   # the page an empty document starts with (Quick, Draw! units)
BACKGROUND = QColor(236, 237, 240)
MIN_ZOOM, MAX_ZOOM = 0.05, 60.0
RECOLOUR_SLICE = 250           # strokes recoloured per event-loop turn (see _apply_heat)


def stroke_width_for(extent: float) -> float:
    """Stroke width in scene units: readable at any sketch size (Quick, Draw! 0..255 -> 2.6)."""
    return max(extent, 1.0) / 100.0


class StrokeItem(QGraphicsItem):
    """One stroke: a polyline (or a dot), plain ink or heat colours, width from pressure."""

    def __init__(self, index: int, stroke: Stroke, width: float) -> None:
        super().__init__()
        self.index = index
        self.stroke = stroke
        self.width = width
        self.heat = None                  # StrokeHeat or None
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
        stroker = QPainterPathStroker()
        stroker.setWidth(self._max_width)
        stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
        stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        if len(self._points) == 1:
            shape = QPainterPath()
            shape.addEllipse(self._points[0], self._max_width / 2, self._max_width / 2)
        else:
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
    def set_heat(self, heat, show: bool) -> None:
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

    def update_tooltip(self) -> None:
        text = f"stroke {self.index}"
        if self.heat is not None:
            value = self.heat.value
            verdict = "helps" if value > 0 else "hurts" if value < 0 else "neutral"
            text += f"  ·  {self.heat.value:+.4g} ({verdict}, {self.heat.method})"
        self.setToolTip(text)

    # --- QGraphicsItem -----------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.isSelected():
            halo = QPen(SELECTION, self._max_width + 6.0 / max(painter.transform().m11(), 1e-6),
                        Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            self._draw(painter, halo)
        colour = QColor(self.colour())
        if self.erasing:
            colour.setAlpha(60)
        segments = (self.heat.segment_colours
                    if self.heat is not None and self.show_heat and not self.erasing else None)
        if segments is None and self._widths is None:
            self._draw(painter, QPen(colour, self.width, Qt.PenStyle.SolidLine,
                                     Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
            return
        pen = QPen(colour, self.width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
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


@dataclass
class Pointer:
    """One input sample for a tool: scene position, pressure (tablet only), buttons, time."""

    pos: QPointF
    pressure: float | None
    button: Qt.MouseButton
    buttons: Qt.MouseButton
    modifiers: Qt.KeyboardModifier
    time_ms: float
    tablet: bool = False


class SketchCanvas(QGraphicsView):
    filesDropped = Signal(list)          # [path str]

    def __init__(self, document: StudioDocument, parent=None) -> None:
        super().__init__(parent)
        self.scene_ = QGraphicsScene(self)
        self.setScene(self.scene_)
        self.document = document
        self.items_: list[StrokeItem] = []
        self.heat: HeatMap | None = None
        self.show_heat = True
        self.tool = None
        self._pan_from = None
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QBrush(BACKGROUND))
        # Panning is by drag (pan tool, middle button), zoom by wheel: scroll bars only add noise.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setMinimumSize(320, 240)

        self.page = QGraphicsRectItem(QRectF(0, 0, PAGE, PAGE))
        self.page.setBrush(QBrush(Qt.GlobalColor.white))
        self.page.setPen(QPen(QColor(210, 212, 218), 0))
        self.page.setZValue(-10)
        self.scene_.addItem(self.page)
        # A plain offset rectangle as the page's shadow: a blur effect would re-render the whole
        # page on every repaint (it cost 100+ ms per frame while drawing).
        self.page_shadow = QGraphicsRectItem(QRectF(0, 0, PAGE, PAGE))
        self.page_shadow.setBrush(QBrush(QColor(0, 0, 0, 22)))
        self.page_shadow.setPen(QPen(Qt.PenStyle.NoPen))
        self.page_shadow.setZValue(-11)
        self.scene_.addItem(self.page_shadow)

        self.hint = QGraphicsSimpleTextItem("Draw something")
        font = QFont()
        font.setPointSizeF(18)
        self.hint.setFont(font)
        self.hint.setBrush(QBrush(QColor(170, 172, 180)))
        self.hint.setZValue(-5)
        self.hint.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.scene_.addItem(self.hint)
        self.subhint = QGraphicsSimpleTextItem(
            "each stroke is coloured by how much it convinces the model")
        small = QFont()
        small.setPointSizeF(10.5)
        self.subhint.setFont(small)
        self.subhint.setBrush(QBrush(QColor(170, 172, 180)))
        self.subhint.setZValue(-5)
        self.subhint.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.scene_.addItem(self.subhint)

        self.overlays: dict[str, Overlay] = {}
        self._heat_queue: list[StrokeItem] = []
        document.changed.connect(self._document_changed)
        self._page_rect = QRectF(0, 0, PAGE, PAGE)
        self._width_basis = PAGE
        self._document_changed(document.sketch, ())
        self._fitted_once = False

    # --- document -> scene ---------------------------------------------------------------------
    @property
    def stroke_width(self) -> float:
        return stroke_width_for(self._width_basis)

    def reset_page(self, sketch: Sketch | None = None) -> None:
        """A fresh page (New, Open, Import): fitted to `sketch`'s strokes, or the default page."""
        if sketch is not None and len(sketch):
            self._page_rect = self._content_rect(sketch)
        else:
            self._page_rect = QRectF(0, 0, PAGE, PAGE)
        self._width_basis = max(self._page_rect.width(), self._page_rect.height())
        self._update_page(self.document.sketch)
        self.sync(self.document.sketch)
        self.fit()

    @staticmethod
    def _content_rect(sketch: Sketch) -> QRectF:
        x0, y0, x1, y1 = sketch.bbox()
        side = max(x1 - x0, y1 - y0, 1.0) * 1.16
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        return QRectF(cx - side / 2, cy - side / 2, side, side)

    def _document_changed(self, sketch: Sketch, selection: tuple) -> None:
        self._update_page(sketch)
        self.sync(sketch)
        if selection:
            self.select_indices(selection)

    def _update_page(self, sketch: Sketch) -> None:
        rect = QRectF(self._page_rect)
        if len(sketch):
            content = self._content_rect(sketch)
            if self._keeps_page(content):
                rect = rect.united(content)
            else:
                # A much larger (or far away) drawing: it sets the page and stroke width afresh.
                rect = content
                self._width_basis = content.width()
        # Keep the page square: it reads as "the drawing", whatever the strokes' aspect.
        side = max(rect.width(), rect.height())
        c = rect.center()
        rect = QRectF(c.x() - side / 2, c.y() - side / 2, side, side)
        if rect != self.page.rect():
            self.page.setRect(rect)
        offset = side * 0.006
        shadow = rect.translated(offset * 0.5, offset)
        if shadow != self.page_shadow.rect():
            self.page_shadow.setRect(shadow)
        self._page_rect = rect
        margin = side * 4
        scene_rect = rect.adjusted(-margin, -margin, margin, margin)
        if scene_rect != self.sceneRect():      # a new scene rect repaints the whole view
            self.setSceneRect(scene_rect)
        self._place_hint()

    def _keeps_page(self, content: QRectF) -> bool:
        # Grow the page around what is drawn, but drop the old page for a much larger import.
        old = max(self._page_rect.width(), self._page_rect.height())
        new = max(content.width(), content.height())
        return new <= old * 3 and content.intersects(self._page_rect.adjusted(-old, -old, old, old))

    def _place_hint(self) -> None:
        r = self._page_rect
        empty = not self.items_
        for item in (self.hint, self.subhint):
            item.setVisible(empty)
        if not empty:
            return
        scale = max(self.transform().m11(), 1e-6)
        for item, dy in ((self.hint, -14), (self.subhint, 16)):
            w = item.boundingRect().width() / scale
            h = item.boundingRect().height() / scale
            item.setPos(r.center().x() - w / 2, r.center().y() + dy / scale - h / 2)

    def sync(self, sketch: Sketch) -> None:
        """Make the items match the snapshot, reusing items whose stroke is the same object."""
        width = self.stroke_width
        old = {id(item.stroke): item for item in self.items_}
        # Only selected strokes can be selected or dragged away from their place (tools.py):
        # one query here saves two Qt calls per stroke on every edit.
        selected = {id(item) for item in self.scene_.selectedItems()}
        new_items: list[StrokeItem] = []
        for k, stroke in enumerate(sketch.strokes):
            item = old.pop(id(stroke), None)
            if item is not None and item.width == width:
                if item.index != k:
                    item.index = k
                    item.update_tooltip()
                if id(item) in selected:
                    item.setSelected(False)
                    item.setPos(0, 0)
            else:
                if item is not None:
                    old[id(stroke)] = item
                item = StrokeItem(k, stroke, width)
                self.scene_.addItem(item)
            item.set_erasing(False)
            new_items.append(item)
        for item in old.values():
            self.scene_.removeItem(item)
        restack(new_items)
        self.items_ = new_items
        self._apply_heat()
        self._place_hint()

    # --- overlays --------------------------------------------------------------------------------
    def overlay(self, name: str) -> Overlay:
        """The named tool layer (created empty on first use), sized for the current strokes."""
        layer = self.overlays.get(name)
        if layer is None:
            layer = self.overlays[name] = Overlay(self.scene_, self.stroke_width)
        layer.stroke_width = self.stroke_width
        return layer

    # --- heat ------------------------------------------------------------------------------------
    def set_heat(self, heat: HeatMap | None) -> None:
        self.heat = heat
        self._apply_heat()

    def set_show_heat(self, show: bool) -> None:
        self.show_heat = bool(show)
        self._apply_heat()

    def _apply_heat(self) -> None:
        """Colour the strokes; a large drawing is recoloured a slice per event-loop turn.

        Each recoloured stroke is redrawn, and redrawing a thousand antialiased strokes at once
        stalls the window for a quarter of a second; slices keep every turn short. `heat_pending`
        says whether slices are still to come.
        """
        self._heat_queue = list(self.items_)
        self._apply_heat_slice()

    def _apply_heat_slice(self) -> None:
        queue = self._heat_queue
        heat, show = self.heat, self.show_heat
        changed = 0
        while queue and changed < RECOLOUR_SLICE:
            item = queue.pop()      # every sync re-queues the current items, so none is stale
            new = heat.get(item.stroke) if heat is not None else None
            if new is not item.heat or show != item.show_heat:
                item.set_heat(new, show)
                changed += 1
        if queue:
            QTimer.singleShot(0, self, self._apply_heat_slice)

    @property
    def heat_pending(self) -> bool:
        return bool(self._heat_queue)

    def stroke_colours(self) -> list[QColor]:
        return [item.colour() for item in self.items_]

    # --- selection -------------------------------------------------------------------------------
    def selected_indices(self) -> tuple[int, ...]:
        return tuple(item.index for item in self.items_ if item.isSelected())

    def select_indices(self, indices) -> None:
        wanted = set(indices)
        for item in self.items_:
            item.setSelected(item.index in wanted)

    def items_at(self, pos: QPointF, radius_px: float = 6.0,
                 since: QPointF | None = None) -> list[StrokeItem]:
        """Stroke items within `radius_px` screen pixels of a scene point (or of the segment from
        `since` to it, so a fast gesture misses nothing between two samples), topmost first."""
        r = radius_px / max(self.transform().m11(), 1e-6)
        if since is not None and since != pos:
            stroker = QPainterPathStroker()
            stroker.setWidth(2 * r)
            stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
            line = QPainterPath(since)
            line.lineTo(pos)
            area = stroker.createStroke(line)
        else:
            area = QPainterPath()
            area.addEllipse(pos, r, r)
        return [i for i in self.scene_.items(area, Qt.ItemSelectionMode.IntersectsItemShape)
                if isinstance(i, StrokeItem)]

    # --- tools -----------------------------------------------------------------------------------
    def set_tool(self, tool) -> None:
        if self.tool is not None:
            self.tool.deactivate()
        self.tool = tool
        self.setDragMode(tool.drag_mode if tool is not None else QGraphicsView.DragMode.NoDrag)
        self.viewport().setCursor(tool.cursor if tool is not None else Qt.CursorShape.ArrowCursor)
        if tool is not None:
            tool.activate()

    def _pointer(self, event, pressure=None, tablet=False) -> Pointer:
        pos = event.position() if hasattr(event, "position") else QPointF(event.pos())
        return Pointer(self.mapToScene(pos.toPoint()) if not tablet else self._map_f(pos), pressure,
                       event.button(), event.buttons(), event.modifiers(),
                       time.monotonic() * 1000.0, tablet)

    def _map_f(self, pos: QPointF) -> QPointF:
        # Tablet positions are sub-pixel: keep the precision mapToScene(QPoint) would drop.
        return self.viewportTransform().inverted()[0].map(pos)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if self.tool is not None and self.tool.press(self._pointer(event)):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan_by(delta.x(), delta.y())
            event.accept()
            return
        if self.tool is not None and self.tool.move(self._pointer(event)):
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(self.tool.cursor if self.tool else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        if self.tool is not None and self.tool.release(self._pointer(event)):
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def viewportEvent(self, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TabletPress, QEvent.Type.TabletMove, QEvent.Type.TabletRelease):
            if self.tool is not None and self.tool.accepts_tablet:
                pointer = self._pointer(event, float(event.pressure()), tablet=True)
                if kind == QEvent.Type.TabletPress:
                    self.tool.press(pointer)
                elif kind == QEvent.Type.TabletMove:
                    self.tool.move(pointer)
                else:
                    self.tool.release(pointer)
                event.accept()
                return True
            event.ignore()   # Qt synthesises mouse events for the other tools
            return False
        return super().viewportEvent(event)

    # --- zoom and pan ----------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            steps = event.pixelDelta().y() / 60.0
        if steps:
            self.zoom_by(1.15 ** steps)
        event.accept()

    def zoom_by(self, factor: float) -> None:
        current = self.zoom
        target = min(max(current * factor, MIN_ZOOM), MAX_ZOOM)
        if math.isclose(target, current):
            return
        self.scale(target / current, target / current)
        self._place_hint()

    def zoom_in(self) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(1.25)
        self.setTransformationAnchor(anchor)

    def zoom_out(self) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(1 / 1.25)
        self.setTransformationAnchor(anchor)

    def fit(self) -> None:
        """The whole page in view, with a little air around it."""
        r = self._page_rect
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

    def pan_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(int(h.value() - dx))
        v.setValue(int(v.value() - dy))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self._fitted_once or not self.items_:
            self.fit()
            self._fitted_once = self.viewport().width() > 10

    # --- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.filesDropped.emit(urls)
        else:
            super().dropEvent(event)
