"""Canvas tools. A tool turns pointer input into a new snapshot applied to the document.

To add a tool, subclass `Tool`, describe it in the class keywords (`id`, `name`, `icon`,
`shortcut`, `tip`, `cursor`, `drag_mode`, `accepts_tablet`) and decorate it with `@register_tool`;
the window builds one tool bar button per registered tool, in registration order. The canvas calls
press / move / release with a `Pointer` (scene position, pressure for tablets); returning True
means "handled", False lets QGraphicsView do its default (rubber band selection, item moves,
scroll-hand drag).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsView

from ..sketch import Stroke
from .canvas import SketchCanvas
from .canvas_input import Pointer
from .document import StudioDocument
from .heat import INK
from .stroke_item import StrokeItem, round_pen

TOOLS: list[type[Tool]] = []


def register_tool(cls: type[Tool]) -> type[Tool]:
    if any(t.id == cls.id for t in TOOLS):
        raise ValueError(f"a tool with id {cls.id!r} is already registered")
    TOOLS.append(cls)
    return cls


def primary(p: Pointer) -> bool:
    """The drawing button: the left mouse button, or any tablet pen contact."""
    return p.tablet or p.button == Qt.MouseButton.LeftButton


class Tool:
    id = "tool"
    name = "Tool"
    icon = ""                 # a name from icons.py
    shortcut = ""
    tip = ""
    cursor = Qt.CursorShape.ArrowCursor
    drag_mode = QGraphicsView.DragMode.NoDrag
    accepts_tablet = False    # True: tablet events come with pressure, no synthesised mouse

    def __init_subclass__(cls, **about: Any) -> None:
        """`class PenTool(Tool, id="pen", name="Pen", ...)`: the description, in one place."""
        super().__init_subclass__()
        for key, value in about.items():
            if key.startswith("_") or not hasattr(Tool, key) or callable(getattr(Tool, key)):
                raise TypeError(f"{cls.__name__}: a tool has no attribute {key!r}")
            setattr(cls, key, value)

    def __init__(self, canvas: SketchCanvas) -> None:
        self.canvas = canvas

    @property
    def document(self) -> StudioDocument:
        return self.canvas.document

    def activate(self) -> None:
        pass

    def deactivate(self) -> None:
        pass

    def press(self, p: Pointer) -> bool:
        return False

    def move(self, p: Pointer) -> bool:
        return False

    def release(self, p: Pointer) -> bool:
        return False


@register_tool
class PenTool(Tool, id="pen", name="Pen", icon="pen", shortcut="P",
              tip="Draw strokes (tablet pressure sets the width)",
              cursor=Qt.CursorShape.CrossCursor, accepts_tablet=True):
    """Each press-drag-release adds one stroke, with pressure and time for every point."""

    def __init__(self, canvas: SketchCanvas) -> None:
        super().__init__(canvas)
        self._points: list[tuple[float, float]] = []
        self._pressure: list[float] = []
        self._times: list[float] = []
        self._preview: QGraphicsPathItem | None = None
        self._clock: float | None = None   # ms at the first pen-down of the current strokes

    def press(self, p: Pointer) -> bool:
        if not primary(p):
            return False
        self._points, self._pressure, self._times = [], [], []
        if self._clock is None or not len(self.document.sketch):
            self._clock = p.time_ms - self._last_time()
        self._add(p)
        path = QPainterPath(p.pos)
        self._preview = QGraphicsPathItem(path)
        self._preview.setPen(round_pen(QColor(INK), self.canvas.stroke_width))
        self._preview.setZValue(1e6)
        self.canvas.scene_.addItem(self._preview)
        return True

    def move(self, p: Pointer) -> bool:
        if self._preview is None:
            return False
        last = self._points[-1]
        # Half a screen pixel apart at least: no duplicate points from a resting pen.
        min_step = 0.5 / max(self.canvas.zoom, 1e-6)
        if abs(p.pos.x() - last[0]) + abs(p.pos.y() - last[1]) < min_step:
            return True
        self._add(p)
        path = self._preview.path()
        path.lineTo(p.pos)
        self._preview.setPath(path)
        return True

    def release(self, p: Pointer) -> bool:
        if self._preview is None:
            return False
        if (p.pos.x(), p.pos.y()) != self._points[-1]:
            self._add(p)
        self.canvas.scene_.removeItem(self._preview)
        self._preview = None
        pressure = (np.array(self._pressure) if len(self._pressure) == len(self._points)
                    else None)
        stroke = Stroke(np.array(self._points), pressure, np.array(self._times))
        self.document.apply(self.document.sketch.add_stroke(stroke), "Draw stroke")
        return True

    def deactivate(self) -> None:
        if self._preview is not None:
            self.canvas.scene_.removeItem(self._preview)
            self._preview = None

    def _add(self, p: Pointer) -> None:
        self._points.append((p.pos.x(), p.pos.y()))
        if p.pressure is not None:
            self._pressure.append(min(max(p.pressure, 0.0), 1.0))
        start = self._clock if self._clock is not None else p.time_ms
        self._times.append(max(p.time_ms - start, 0.0))

    def _last_time(self) -> float:
        for stroke in reversed(self.document.sketch.strokes):
            if stroke.time is not None and len(stroke.time):
                return float(stroke.time[-1])
        return 0.0


@register_tool
class EraserTool(Tool, id="eraser", name="Stroke eraser", icon="eraser", shortcut="E",
                 tip="Erase whole strokes: drag across them",
                 cursor=Qt.CursorShape.PointingHandCursor, accepts_tablet=True):
    """Every stroke a gesture crosses is greyed while it goes on and erased, as one undoable
    step, when it ends."""

    def __init__(self, canvas: SketchCanvas) -> None:
        super().__init__(canvas)
        self._begin(active=False)

    def _begin(self, active: bool) -> None:
        """A new gesture (or none): the strokes it crossed, by index, and its last sample."""
        self._hit: dict[int, StrokeItem] = {}
        self._active = active
        self._last: QPointF | None = None

    def press(self, p: Pointer) -> bool:
        if not primary(p):
            return False
        self._begin(active=True)
        self._collect(p.pos)
        return True

    def move(self, p: Pointer) -> bool:
        if not self._active:
            return False
        self._collect(p.pos)
        return True

    def release(self, p: Pointer) -> bool:
        if not self._active:
            return False
        indices = sorted(self._hit)
        self._begin(active=False)
        if indices:
            sketch = self.document.sketch
            n = len(indices)
            self.document.apply(sketch.remove_strokes(indices),
                                f"Erase {n} stroke{'s' if n > 1 else ''}")
        return True

    def deactivate(self) -> None:
        for item in self._hit.values():
            item.set_erasing(False)
        self._begin(active=False)

    def _collect(self, pos: QPointF) -> None:
        last, self._last = self._last, QPointF(pos)
        for item in self.canvas.items_at(pos, 5.0, since=last if self._active else None):
            if item.index not in self._hit:
                self._hit[item.index] = item
                item.set_erasing(True)


@register_tool
class SelectTool(Tool, id="select", name="Select / move", icon="select", shortcut="V",
                 tip="Select strokes (click, shift+click, drag a box) and drag them to move",
                 drag_mode=QGraphicsView.DragMode.RubberBandDrag):

    def __init__(self, canvas: SketchCanvas) -> None:
        super().__init__(canvas)
        # (start position, items being dragged)
        self._grab: tuple[QPointF, list[StrokeItem]] | None = None

    def press(self, p: Pointer) -> bool:
        self._grab = None
        if p.button != Qt.MouseButton.LeftButton:
            return False
        # Strokes are thin: a click within a few pixels grabs one. Elsewhere QGraphicsView
        # draws a rubber band.
        hits = self.canvas.items_at(p.pos, 5.0)
        if not hits:
            return False
        item = hits[0]
        if p.modifiers & Qt.KeyboardModifier.ShiftModifier:
            item.setSelected(not item.isSelected())
            return True
        if not item.isSelected():
            self.canvas.scene_.clearSelection()
            item.setSelected(True)
        self._grab = (p.pos, [i for i in self.canvas.items_ if i.isSelected()])
        return True

    def move(self, p: Pointer) -> bool:
        if self._grab is None:
            return False
        start, items = self._grab
        delta = p.pos - start
        for item in items:
            item.setPos(delta)
        return True

    def release(self, p: Pointer) -> bool:
        if self._grab is None:
            return False
        self._grab = None
        self.commit_moves()
        return True

    def deactivate(self) -> None:
        self._grab = None
        for item in self.canvas.items_:
            item.setPos(0, 0)

    def commit_moves(self) -> None:
        """Dragged strokes become one undoable 'Move' of the snapshot."""
        moved = [item for item in self.canvas.items_ if item.pos() != QPointF(0, 0)]
        if not moved:
            return
        sketch = self.document.sketch
        strokes = list(sketch.strokes)
        for item in moved:
            offset = np.array([item.pos().x(), item.pos().y()])
            stroke = strokes[item.index]
            strokes[item.index] = stroke.with_points(stroke.points + offset)
        indices = tuple(item.index for item in moved)
        n = len(moved)
        self.document.apply(sketch.with_strokes(strokes), f"Move {n} stroke{'s' if n > 1 else ''}",
                            selection=indices)


@register_tool
class PanTool(Tool, id="pan", name="Pan / zoom", icon="pan", shortcut="H",
              tip="Drag to pan; wheel to zoom (the middle button pans with any tool)",
              cursor=Qt.CursorShape.OpenHandCursor,
              drag_mode=QGraphicsView.DragMode.ScrollHandDrag):
    """Everything is QGraphicsView's scroll-hand drag."""
