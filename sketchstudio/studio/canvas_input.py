"""Input on the canvas: mouse and tablet to the active tool, middle-button pan, hover text over
strokes, and files dropped on the view.

Tools (tools.py) get each sample as a `Pointer`; returning True from press / move / release means
"handled", False lets QGraphicsView do its default (rubber band, item moves, scroll-hand drag).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QHelpEvent,
    QMouseEvent,
    QPainterPath,
    QPainterPathStroker,
    QTabletEvent,
)
from PySide6.QtWidgets import QGraphicsView, QToolTip, QWidget

from .canvas_view import PageView
from .stroke_item import StrokeItem

if TYPE_CHECKING:   # tools.py builds on the canvas
    from .tools import Tool


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


TABLET_EVENTS = (QEvent.Type.TabletPress, QEvent.Type.TabletMove, QEvent.Type.TabletRelease)


class InputView(PageView):
    filesDropped = Signal(list)          # [path str]
    # What is under the pointer while it hovers (no button down): a stroke's number, value and,
    # with P-SLA, the segment's; "" over no stroke. For a status bar; the tool tip says the same.
    hoverChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tool: Tool | None = None
        self._pan_from: QPointF | None = None
        self._hover = ""
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)

    # --- hit testing -----------------------------------------------------------------------------
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

    def hover_text(self, scene_pos: QPointF) -> str:
        """What the canvas says about the topmost stroke at `scene_pos` ("" over none): its number
        (from 1), its value and, with P-SLA, the segment under the pointer and its value."""
        hits = self.items_at(scene_pos, 5.0)
        return hits[0].hover_text(scene_pos) if hits else ""

    def _set_hover(self, text: str) -> None:
        if text != self._hover:
            self._hover = text
            self.hoverChanged.emit(text)

    # --- tools -----------------------------------------------------------------------------------
    def set_tool(self, tool: Tool | None) -> None:
        if self.tool is not None:
            self.tool.deactivate()
        self.tool = tool
        self.setDragMode(tool.drag_mode if tool is not None else QGraphicsView.DragMode.NoDrag)
        self.viewport().setCursor(tool.cursor if tool is not None else Qt.CursorShape.ArrowCursor)
        if tool is not None:
            tool.activate()

    def _pointer(self, event: QMouseEvent | QTabletEvent, pressure: float | None = None,
                 tablet: bool = False) -> Pointer:
        pos = event.position()
        return Pointer(self.mapToScene(pos.toPoint()) if not tablet else self._map_f(pos), pressure,
                       event.button(), event.buttons(), event.modifiers(),
                       time.monotonic() * 1000.0, tablet)

    def _map_f(self, pos: QPointF) -> QPointF:
        # Tablet positions are sub-pixel: keep the precision mapToScene(QPoint) would drop.
        return self.viewportTransform().inverted()[0].map(pos)

    # --- mouse and tablet ------------------------------------------------------------------------
    def _tool_took(self, event: QMouseEvent, gesture: str) -> bool:
        """Whether the active tool handled this mouse event (`gesture`: press, move or release);
        if not, QGraphicsView does its default."""
        if self.tool is None or not getattr(self.tool, gesture)(self._pointer(event)):
            return False
        event.accept()
        return True

    def _pan_cursor(self, panning: bool) -> None:
        tool_cursor = self.tool.cursor if self.tool else Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor if panning else tool_cursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._set_hover("")
        if event.button() == Qt.MouseButton.MiddleButton:      # the middle button pans always
            self._pan_from = event.position()
            self._pan_cursor(True)
            event.accept()
        elif not self._tool_took(event, "press"):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan_by(delta.x(), delta.y())
            event.accept()
            return
        if event.buttons() == Qt.MouseButton.NoButton:
            self._set_hover(self.hover_text(self.mapToScene(event.position().toPoint())))
        if not self._tool_took(event, "move"):
            scrolled = self._scroll_position()
            super().mouseMoveEvent(event)
            if (self.dragMode() == QGraphicsView.DragMode.ScrollHandDrag
                    and self._scroll_position() != scrolled):
                self.user_view = True   # the pan tool's hand drag moved the view: keep it

    def _scroll_position(self) -> tuple[int, int]:
        return self.horizontalScrollBar().value(), self.verticalScrollBar().value()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_from is not None:
            self._pan_from = None
            self._pan_cursor(False)
            event.accept()
        elif not self._tool_took(event, "release"):
            super().mouseReleaseEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._set_hover("")
        super().leaveEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in TABLET_EVENTS and isinstance(event, QTabletEvent):
            return self._tablet(kind, event)
        if kind == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            # Not the item's own tool tip: with P-SLA the text depends on where the pointer is.
            text = self.hover_text(self.mapToScene(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def _tablet(self, kind: QEvent.Type, event: QTabletEvent) -> bool:
        if self.tool is None or not self.tool.accepts_tablet:
            event.ignore()   # Qt synthesises mouse events for the other tools
            return False
        pointer = self._pointer(event, float(event.pressure()), tablet=True)
        if kind == QEvent.Type.TabletPress:
            self.tool.press(pointer)
        elif kind == QEvent.Type.TabletMove:
            self.tool.move(pointer)
        else:
            self.tool.release(pointer)
        event.accept()
        return True

    # --- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.dragMoveEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.filesDropped.emit(urls)
        else:
            super().dropEvent(event)
