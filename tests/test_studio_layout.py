"""The window's layout and status bar (issue #16 snags): the tool bar never reflows, the model box
keeps its width, every panel is usable on small screens, a saved geometry is kept on the screen,
New and Open fit the view, and the status bar shows nothing stale."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QPushButton, QToolButton
from qt_helpers import EXPLAIN_WAIT_MS, house

from sketchstudio.errors import UserError
from sketchstudio.sketch import Sketch
from sketchstudio.studio.model_controller import ModelEntry

LONG_NAME = "Quick, Draw! CNN (40 categories, trained on the full dataset)"


def _settle() -> None:
    QApplication.processEvents()
    QApplication.processEvents()


def test_the_tool_bar_does_not_reflow_when_undo_texts_grow(make_window):
    window = make_window()
    window.resize(1024, 680)
    _settle()
    bar, combo = window.main_bar, window.model_combo
    height, combo_width = bar.height(), combo.width()
    explain = bar.widgetForAction(window.actions_["explain"])
    assert explain is not None and explain.isVisible()
    sketch = Sketch()
    for k in range(20):
        sketch = sketch.with_strokes(tuple(sketch.strokes) + house().strokes[:1])
        window.document.apply(sketch, f"Add stroke {k + 1} along the roof of the house")
    _settle()
    assert window.document.undo_stack.count() == 20
    assert bar.height() == height and combo.width() == combo_width
    # Nothing was pushed out of sight (into the bar's overflow menu): the box is whole.
    assert explain.isVisible() and combo.isVisible()
    assert combo.visibleRegion().boundingRect().width() == combo.width()
    # Undo and Redo are icons; what they would undo is in the tooltip.
    undo = bar.findChild(QToolButton, "undoButton")
    assert undo is not None and undo.text() and undo.width() <= 2 * undo.height()
    assert "Add stroke 20" in undo.defaultAction().toolTip()


def test_the_model_box_keeps_its_width_and_elides_in_the_middle(make_window):
    window = make_window()
    box = window.model_combo
    box.set_entries([ModelEntry("Tiny", "tiny", "Tiny\ntiny · 2 classes", "classify")], None)
    short = box.sizeHint().width()
    box.set_entries([ModelEntry(LONG_NAME, "long", f"{LONG_NAME}\nlong · 40 classes",
                                "classify")], None)
    assert box.sizeHint().width() == short
    assert LONG_NAME in box.toolTip()
    # What the box paints: the start and the end of the name, the middle elided.
    shown = box.shown_text()
    assert shown.startswith("Quick") and shown.endswith("set)") and "…" in shown, shown


@pytest.mark.parametrize("size", [(1280, 800), (1024, 680)])
@pytest.mark.parametrize("narrow_dock", [False, True])
def test_every_panel_is_usable_at_small_window_sizes(make_window, wide_card, qtbot, size,
                                                     narrow_dock):
    window = make_window(wide_card)
    window.resize(*size)
    _settle()
    if narrow_dock:     # the user dragged the dock as narrow as it goes
        window.resizeDocks([window.panels_dock], [1], Qt.Orientation.Horizontal)
        _settle()
    for index, panel in enumerate(window.panels):
        window.panel_tabs.setCurrentIndex(index)
        _settle()
        scroll = window.panel_tabs.widget(index)
        viewport = scroll.viewport()
        # Never squeezed: the panel gets at least its minimum size, and no wider than the dock
        # (a panel scrolls only vertically).
        hint = panel.minimumSizeHint()
        assert panel.height() >= hint.height() and panel.width() >= hint.width(), panel.title
        assert panel.width() <= viewport.width(), (panel.title, panel.width(), viewport.width())
        buttons = [b for b in panel.findChildren(QPushButton) if b.objectName() == "primary"]
        buttons = buttons or panel.findChildren(QPushButton)[:1]
        assert buttons, panel.title
        for button in buttons:
            scroll.ensureWidgetVisible(button)
            _settle()
            assert not button.visibleRegion().isEmpty(), (panel.title, button.text(), size)
            assert button.width() >= button.minimumSizeHint().width(), (panel.title,
                                                                         button.text())


def test_a_saved_geometry_larger_than_the_screen_is_clamped(make_window):
    big = make_window()
    big.resize(3000, 2000)
    big.move(400, 300)
    saved = big.saveGeometry()
    window = make_window()
    window.restore_layout(saved, None)
    _settle()
    available: QRect = window.screen().availableGeometry()
    assert available.contains(window.frameGeometry()), (window.frameGeometry(), available)
    assert window.width() > 0.8 * available.width() - 50      # as large as fits, not tiny


def test_new_and_open_fit_the_view(make_window, qtbot, tmp_path):
    from sketchstudio.sketch.io import save_sketch

    window = make_window()
    window.document.apply(house(), "Draw")
    window.canvas.fit()
    fitted = window.canvas.transform().m11()
    for _ in range(4):
        window.canvas.zoom_in()
    assert window.canvas.transform().m11() > fitted * 1.5
    window.files.new_document()
    window.canvas.fit()     # fitting again changes nothing when the view is already fitted
    after_new = window.canvas.transform()
    window.files.new_document()
    assert window.canvas.transform() == after_new
    path = tmp_path / "house.ndjson"
    save_sketch(path, house())
    for _ in range(4):
        window.canvas.zoom_in()
    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS):
        assert window.files.open_file(path)
    opened = window.canvas.transform()
    window.canvas.fit()
    assert window.canvas.transform() == opened


def test_the_status_bar_shows_no_stale_error_or_timing(make_window, tiny_card, qtbot,
                                                      monkeypatch, tmp_path):
    import sketchstudio.explain as engine

    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Draw")
    assert window.latency_label.text().endswith(" ms")
    real = engine.explain

    def failing(*args, **kwargs):
        raise UserError("the test's failure")

    monkeypatch.setattr(engine, "explain", failing)
    with qtbot.waitSignal(window.errorShown, timeout=EXPLAIN_WAIT_MS):
        window.explain_now()
    assert window.latency_label.text() == "Attribution: failed"
    assert "the test's failure" in window.statusBar().currentMessage()
    monkeypatch.setattr(engine, "explain", real)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.explain_now()
    # Recovered: the error is gone from the status bar and from last_error.
    assert window.last_error is None
    assert "failure" not in window.statusBar().currentMessage()
    assert window.latency_label.text().endswith(" ms")
    # An error of something else is not cleared by an explanation that works.
    window.files.open_dropped([str(tmp_path / "notes.txt")])
    assert window.last_error is not None and "notes.txt" in window.last_error
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.explain_now()
    assert "notes.txt" in (window.last_error or "")
    # A new drawing: the old drawing's timing goes at once.
    window.files.new_document()
    assert window.latency_label.text() == "Attribution: —"
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Draw")
    # Another model on its way: the old timing goes at once.
    window.models.load(str(tiny_card))
    assert window.latency_label.text() == "Attribution: —"
    with qtbot.waitSignal(window.modelReady, timeout=EXPLAIN_WAIT_MS):
        pass


def test_menus_and_the_shortcuts_reference_come_from_the_one_table(make_window):
    window = make_window()
    window.actions_["shortcuts"].trigger()      # F1
    rows = window.help_dialog.visible_rows()
    assert ("Model", "Explain now", "F5") in rows
    assert any(section == "Edit" and name == "Undo" for section, name, _keys in rows)
    assert any(section == "Tools" for section, _name, _keys in rows)
    # Every action with a shortcut is listed, once.
    with_keys = [a for a in window.actions_.values() if a.shortcuts()]
    assert len([r for r in rows if r[0] != "Tools"]) == len(with_keys)


def test_edit_menu_select_all_delete_and_clear_are_undoable(make_window):
    window = make_window()
    window.document.apply(house(), "Draw")
    actions = window.actions_
    window.canvas.select_indices([1, 3])
    actions["delete"].trigger()
    assert len(window.document.sketch) == 2
    assert window.document.undo_stack.undoText() == "Delete 2 strokes"
    actions["select_all"].trigger()
    assert window.canvas.selected_indices() == (0, 1)
    actions["clear"].trigger()
    assert len(window.document.sketch) == 0
    assert window.document.undo_stack.undoText() == "Clear drawing"
    actions["undo"].trigger()
    actions["undo"].trigger()
    assert window.document.sketch == house()
