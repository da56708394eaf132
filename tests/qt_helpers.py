"""Helpers for the studio's pytest-qt tests: gestures, a demo drawing, panels.

The fixtures (`isolated_studio`, `make_window`, `tiny_card`, `wide_card`) live in conftest.py and
apply by themselves: test modules do not import them.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import numpy as np  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from sketchstudio.sketch import Sketch  # noqa: E402

MODEL_WAIT_MS = 20000
EXPLAIN_WAIT_MS = 20000


def scene_to_viewport(canvas, x: float, y: float) -> QPoint:
    return canvas.mapFromScene(QPointF(x, y))


def drag(canvas, points, button=Qt.MouseButton.LeftButton) -> None:
    """A press-move-release gesture through scene points, as real mouse events."""
    viewport = canvas.viewport()
    first = scene_to_viewport(canvas, *points[0])
    QTest.mousePress(viewport, button, Qt.KeyboardModifier.NoModifier, first)
    for x, y in points[1:]:
        QTest.mouseMove(viewport, scene_to_viewport(canvas, x, y))
    QTest.mouseRelease(viewport, button, Qt.KeyboardModifier.NoModifier,
                       scene_to_viewport(canvas, *points[-1]))


def draw_line(canvas, start, end, steps: int = 8) -> None:
    xs = np.linspace(start[0], end[0], steps)
    ys = np.linspace(start[1], end[1], steps)
    drag(canvas, list(zip(xs, ys, strict=True)))


def house() -> Sketch:
    return Sketch.from_arrays([
        [[60, 200], [62, 130], [190, 122], [192, 200], [60, 201]],
        [[55, 125], [126, 58], [197, 124]],
        [[110, 201], [111, 160], [140, 159], [141, 200]],
        [[160, 150]],
    ])


def rgb(colour) -> tuple[int, int, int]:
    return (colour.red(), colour.green(), colour.blue())


def panel_of(window, panel_class):
    """The window's task panel of `panel_class`."""
    return next(p for p in window.panels if isinstance(p, panel_class))


def window_with_house(make_window, card, qtbot=None):
    """A shown window with `card` loaded and the demo house imported (one undoable edit); given
    `qtbot`, once the house's explanation is shown."""
    window = make_window(card)
    if qtbot is None:
        window.document.apply(house(), "Import")
    else:
        with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
            window.document.apply(house(), "Import")
    return window


def assert_fits_1280_by_800(qtbot, window, panel, buttons) -> None:
    """With the window at most 800 pixels high and `panel` in front, each of `buttons` is on
    screen: its bottom edge is inside the panel's scroll viewport, no scrolling needed."""
    qtbot.waitUntil(lambda: panel.isVisible() and window.height() <= 800, timeout=EXPLAIN_WAIT_MS)
    viewport = panel.parentWidget()
    for button in buttons:
        bottom = button.mapTo(viewport, button.rect().bottomLeft()).y()
        assert bottom <= viewport.height(), (button.text(), bottom, viewport.height())


def open_with_model(make_window, card, qtbot, panel_class):
    """A window that loaded `card`; an embed/generate model brings its panel to the front."""
    window = make_window(None)
    with qtbot.waitSignal(window.modelReady, timeout=MODEL_WAIT_MS):
        window.start(model=str(card))
    panel = panel_of(window, panel_class)
    assert window.panel_tabs.currentIndex() == window.panels.index(panel)
    return window, panel
