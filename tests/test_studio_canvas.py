"""The canvas and the document: drawing with the mouse and a tablet, undo/redo, erase, move,
zoom."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication
from qt_helpers import drag, draw_line, house, scene_to_viewport

from sketchstudio.sketch import Sketch
from sketchstudio.studio.canvas import SketchCanvas
from sketchstudio.studio.document import StudioDocument
from sketchstudio.studio.tools import TOOLS, EraserTool, PanTool, PenTool, SelectTool, register_tool


@pytest.fixture
def canvas(qtbot):
    document = StudioDocument()
    view = SketchCanvas(document)
    qtbot.addWidget(view)
    view.resize(600, 600)
    view.show()
    qtbot.waitExposed(view)
    view.fit()
    view.set_tool(PenTool(view))
    yield view
    view.set_tool(None)
    document.deleteLater()


def test_mouse_drawing_creates_strokes(canvas):
    doc = canvas.document
    draw_line(canvas, (40, 40), (200, 60))
    draw_line(canvas, (50, 200), (60, 80), steps=12)
    assert len(doc.sketch) == 2
    first = doc.sketch[0]
    assert first.points[0] == pytest.approx([40, 40], abs=1.5)
    assert first.points[-1] == pytest.approx([200, 60], abs=1.5)
    assert first.pressure is None and first.time is not None
    assert len(canvas.items_) == 2 and canvas.items_[1].stroke is doc.sketch[1]
    assert doc.undo_stack.count() == 2 and doc.modified
    assert not canvas.hint.isVisible()


def test_a_click_makes_a_dot(canvas):
    drag(canvas, [(100, 100)])
    assert len(canvas.document.sketch) == 1 and len(canvas.document.sketch[0]) == 1


def test_undo_redo_swap_snapshots(canvas):
    doc = canvas.document
    draw_line(canvas, (40, 40), (200, 60))
    after_one = doc.sketch
    draw_line(canvas, (40, 100), (200, 120))
    after_two = doc.sketch
    doc.undo_stack.undo()
    assert doc.sketch is after_one and len(canvas.items_) == 1
    doc.undo_stack.redo()
    assert doc.sketch is after_two and len(canvas.items_) == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert len(doc.sketch) == 0 and not doc.modified and canvas.hint.isVisible()


def test_eraser_removes_the_strokes_it_crosses(canvas):
    doc = canvas.document
    doc.apply(house(), "Import")
    canvas.set_tool(EraserTool(canvas))
    drag(canvas, [(100, 40), (100, 140), (126, 140)])   # across the roof (1) and the walls' top (0)
    assert len(doc.sketch) == 2
    assert doc.sketch[0] is house_stroke(doc.sketch, 0)
    doc.undo_stack.undo()
    assert len(doc.sketch) == 4


def house_stroke(sketch: Sketch, k: int):
    return sketch[k]


def test_select_and_move_strokes(canvas):
    doc = canvas.document
    doc.apply(house(), "Import")
    canvas.set_tool(SelectTool(canvas))
    before = doc.sketch
    drag(canvas, [(126, 58), (140, 70), (146, 78)])     # grab the roof's apex, move by (20, 20)
    assert len(doc.sketch) == 4
    moved = doc.sketch[1].points - before[1].points
    assert moved == pytest.approx(np.full_like(moved, 20.0), abs=1.5)
    for k in (0, 2, 3):
        assert doc.sketch[k] is before[k]
    assert canvas.selected_indices() == (1,)
    assert doc.undo_stack.undoText().startswith("Move")
    doc.undo_stack.undo()
    assert doc.sketch is before


def test_rubber_band_selection(canvas):
    canvas.document.apply(house(), "Import")
    canvas.set_tool(SelectTool(canvas))
    drag(canvas, [(100, 150), (130, 170), (150, 190)])  # a box over the door only
    assert canvas.selected_indices() == (2,)


def test_tablet_pressure_is_recorded(canvas, qtbot):
    device = QPointingDevice.primaryPointingDevice()
    viewport = canvas.viewport()

    def send(kind, x, y, pressure, buttons):
        pos = QPointF(scene_to_viewport(canvas, x, y))
        event = QTabletEvent(kind, device, pos, QPointF(viewport.mapToGlobal(pos)), pressure,
                             0.0, 0.0, 0.0, 0.0, 0.0, Qt.KeyboardModifier.NoModifier,
                             Qt.MouseButton.LeftButton, buttons)
        QApplication.sendEvent(viewport, event)

    from PySide6.QtCore import QEvent

    send(QEvent.Type.TabletPress, 40, 40, 0.2, Qt.MouseButton.LeftButton)
    send(QEvent.Type.TabletMove, 80, 60, 0.6, Qt.MouseButton.LeftButton)
    send(QEvent.Type.TabletMove, 120, 80, 0.9, Qt.MouseButton.LeftButton)
    send(QEvent.Type.TabletRelease, 120, 80, 0.0, Qt.MouseButton.NoButton)
    sketch = canvas.document.sketch
    assert len(sketch) == 1
    assert sketch[0].pressure is not None
    assert sketch[0].pressure[:3] == pytest.approx([0.2, 0.6, 0.9], abs=1e-3)
    item = canvas.items_[0]
    assert item._widths is not None and item._widths[1] > item._widths[0]


def test_zoom_and_pan(canvas):
    zoom = canvas.zoom
    canvas.zoom_in()
    assert canvas.zoom == pytest.approx(zoom * 1.25)
    canvas.zoom_out()
    assert canvas.zoom == pytest.approx(zoom)
    canvas.set_tool(PanTool(canvas))
    centre = canvas.mapToScene(canvas.viewport().rect().center())
    canvas.zoom_in()
    canvas.pan_by(50, 0)
    assert canvas.mapToScene(canvas.viewport().rect().center()).x() != pytest.approx(centre.x())
    drag(canvas, [(100, 100), (120, 120)])
    assert len(canvas.document.sketch) == 0       # panning never draws


def test_tool_registry():
    ids = [t.id for t in TOOLS]
    assert ids[:4] == ["pen", "eraser", "select", "pan"]
    with pytest.raises(ValueError):
        register_tool(type("Again", (PenTool,), {}))


def test_import_sets_page_and_width(canvas):
    big = Sketch.from_arrays([[[0, 0], [3000, 0], [3000, 2000]]])
    canvas.document.apply(big, "Import")
    canvas.reset_page(big)
    assert canvas.page.rect().width() >= 3000
    assert canvas.items_[0].width > 20


def test_wheel_zooms_around_the_pointer(canvas):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    zoom = canvas.zoom
    pos = QPointF(canvas.viewport().rect().center())
    event = QWheelEvent(pos, QPointF(canvas.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas.viewport(), event)
    assert canvas.zoom == pytest.approx(zoom * 1.15 ** 2)


def test_qt_binding_keeps_reference_counts(qtbot):
    """PySide6 6.12.0 drops a reference to None on every wrapped void call and aborts the studio
    after a few seconds of drawing; pyproject.toml excludes it. This fails on such a binding."""
    import sys

    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(20000):
        probe.setObjectName("x")
    assert sys.getrefcount(None) >= before - 100
