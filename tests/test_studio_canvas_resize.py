"""The canvas refits the page when it is resized, until the user zooms or pans: a drawing never
sits cut off after the window shrinks (e.g. to 1024x680), and a view the user chose stays."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QRectF
from qt_helpers import EXPLAIN_WAIT_MS, drag, house
from studio_images import pen_canvas

from sketchstudio.sketch import Sketch
from sketchstudio.studio.tools import PanTool


def strokes_outside(canvas) -> list[int]:
    """Indices of strokes whose bounding box (ink width included) is not wholly in the viewport."""
    view = QRectF(canvas.viewport().rect())
    return [item.index for item in canvas.items_
            if not view.contains(canvas.mapFromScene(item.sceneBoundingRect()).boundingRect())]


def resize_and_wait(qtbot, canvas, width: int, height: int, widget=None) -> None:
    """Resize `widget` (the canvas itself by default) and wait until the canvas's viewport has
    taken its new size."""
    before = canvas.viewport().size()
    (widget or canvas).resize(width, height)
    qtbot.waitUntil(lambda: canvas.viewport().size() != before, timeout=5000)


def wide() -> Sketch:
    """A drawing wider than tall, so the width limits the fitted zoom."""
    return Sketch.from_arrays([[[0, 100], [400, 90], [800, 110]], [[20, 60], [780, 140]]])


def tall() -> Sketch:
    """A drawing as tall as its page: a lower window cuts it off unless the view refits."""
    return Sketch.from_arrays([[[100, 0], [90, 400], [110, 800]], [[60, 20], [140, 780]]])


@pytest.fixture
def canvas(qtbot):
    yield from pen_canvas(qtbot, 700, 600)


def open_drawing(canvas, sketch: Sketch) -> None:
    canvas.document.reset(sketch)
    canvas.reset_page(sketch)
    assert not strokes_outside(canvas)


def test_shrinking_refits_an_untouched_view(canvas, qtbot):
    open_drawing(canvas, wide())
    zoom = canvas.zoom
    resize_and_wait(qtbot, canvas, 360, 300)
    assert canvas.zoom < zoom
    assert not strokes_outside(canvas)
    resize_and_wait(qtbot, canvas, 900, 700)      # and growing again uses the room
    assert canvas.zoom > zoom
    assert not strokes_outside(canvas)


def test_a_user_zoom_is_kept_on_resize(canvas, qtbot):
    open_drawing(canvas, house())
    canvas.zoom_in()
    zoom = canvas.zoom
    resize_and_wait(qtbot, canvas, 400, 320)
    assert canvas.zoom == pytest.approx(zoom)
    canvas.fit()                                  # View > Fit: the view follows the window again
    resize_and_wait(qtbot, canvas, 300, 260)
    assert canvas.zoom < zoom and not strokes_outside(canvas)


def test_a_wheel_zoom_is_kept_on_resize(canvas, qtbot):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    open_drawing(canvas, house())
    pos = QPointF(canvas.viewport().rect().center())
    QApplication.sendEvent(canvas.viewport(), QWheelEvent(
        pos, QPointF(canvas.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, -120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False))
    zoom = canvas.zoom
    resize_and_wait(qtbot, canvas, 400, 320)
    assert canvas.zoom == pytest.approx(zoom)


@pytest.mark.parametrize("how", ["middle button", "pan tool"])
def test_a_user_pan_is_kept_on_resize(canvas, qtbot, how):
    from PySide6.QtCore import Qt

    open_drawing(canvas, house())
    zoom = canvas.zoom
    before = canvas.mapToScene(canvas.viewport().rect().center())
    if how == "middle button":
        drag(canvas, [(120, 120), (100, 110), (80, 100)], Qt.MouseButton.MiddleButton)
    else:
        canvas.set_tool(PanTool(canvas))
        drag(canvas, [(120, 120), (100, 110), (80, 100)])
    assert canvas.mapToScene(canvas.viewport().rect().center()) != before   # the view moved
    resize_and_wait(qtbot, canvas, 500, 420)
    assert canvas.zoom == pytest.approx(zoom)     # not refitted: the user's view stays


def test_drawing_in_a_fitted_view_does_not_stop_the_refit(canvas, qtbot):
    from qt_helpers import draw_line

    draw_line(canvas, (40, 40), (200, 200))
    zoom = canvas.zoom
    resize_and_wait(qtbot, canvas, 360, 300)
    assert canvas.zoom < zoom and not strokes_outside(canvas)


def test_the_window_at_1024x680_shows_the_whole_drawing(make_window, qtbot, tmp_path):
    from sketchstudio.sketch.io import save_sketch

    window = make_window()
    window.resize(1280, 800)
    path = tmp_path / "tall.ndjson"
    save_sketch(path, tall())
    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS):
        assert window.files.open_file(path)
    canvas = window.canvas
    assert not strokes_outside(canvas)
    resize_and_wait(qtbot, canvas, 1024, 680, window)
    assert canvas.viewport().rect() != QRect()
    assert not strokes_outside(canvas), canvas.viewport().size()
