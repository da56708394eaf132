"""Fixtures and helpers for the studio's pytest-qt tests (import the fixtures into a test module).

Every test runs offscreen, with the model store and QSettings redirected to temporary folders, so
no test reads or changes the user's models or choices. Windows are closed and their worker threads
joined at teardown.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

import model_zoo  # noqa: E402
from sketchstudio.sketch import Sketch  # noqa: E402

MODEL_WAIT_MS = 20000
EXPLAIN_WAIT_MS = 20000


@pytest.fixture(scope="session")
def tiny_card(tmp_path_factory) -> Path:
    """A good TorchScript classifier (2 classes, 28x28) from tests/model_zoo.py."""
    return model_zoo.make_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def wide_card(tmp_path_factory) -> Path:
    """A 5-class variant, so that the target combo has something to choose."""
    return model_zoo.make_model(tmp_path_factory.mktemp("wide-model"), name="Five classes",
                                labels=("apple", "book", "cat", "dog", "eye"))


@pytest.fixture(autouse=True)
def isolated_studio(tmp_path, monkeypatch):
    """Store and settings in tmp_path; the unsaved-changes prompt answers 'discard'."""
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path / "data"))
    # Only the models a test adds: the shipped ones would change what the store lists.
    monkeypatch.setenv("SKETCHSTUDIO_BUILTIN_MODELS", str(tmp_path / "no-builtins"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SKETCHSTUDIO_DEVICE", raising=False)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))
    from sketchstudio.studio.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "ask_unsaved", lambda self: "discard")
    yield tmp_path


@pytest.fixture
def make_window(qtbot):
    """make_window(model=card, persist=False) -> a shown MainWindow with its model loaded."""
    from sketchstudio.studio.main_window import MainWindow

    windows = []

    def make(model: Path | str | None = None, persist: bool = False, wait: bool = True,
             open_path=None, index=None):
        window = MainWindow(device="cpu", persist=persist)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        if model is not None:
            if wait:
                with qtbot.waitSignal(window.explanationShown, timeout=MODEL_WAIT_MS):
                    window.start(model=str(model), open_path=open_path, index=index)
            else:
                window.start(model=str(model), open_path=open_path, index=index)
        return window

    yield make
    for window in windows:
        window.shutdown()
        assert not window.worker.isRunning()


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
    drag(canvas, list(zip(xs, ys)))


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


def open_with_model(make_window, card, qtbot, panel_class):
    """A window that loaded `card`; an embed/generate model brings its panel to the front."""
    window = make_window(None)
    with qtbot.waitSignal(window.modelReady, timeout=MODEL_WAIT_MS):
        window.start(model=str(card))
    panel = panel_of(window, panel_class)
    assert window.panel_tabs.currentIndex() == window.panels.index(panel)
    return window, panel
