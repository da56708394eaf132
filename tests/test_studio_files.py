"""Files: save / open / import / export, the drawing browser, recent files, drops, unsaved changes,
and settings that persist."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialog
from qt_helpers import EXPLAIN_WAIT_MS, draw_line, house

from sketchstudio.sketch.io import load_sketch, save_sketches
from sketchstudio.studio.browser import DrawingBrowser
from sketchstudio.studio.reading import read_drawings
from sketchstudio.studio.settings import APPLICATION, ORGANISATION, StudioSettings


def loaded(qtbot, window, start) -> bool:
    """Run `start()` (an open_file / import_file that reads in the worker) and wait for the file:
    True when its drawing became the document."""
    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS) as blocker:
        assert start()
    return blocker.args == [True]


@pytest.fixture
def drawings(tmp_path) -> Path:
    path = tmp_path / "three.ndjson"
    save_sketches(path, [house().remove_strokes(range(k)).with_metadata(word=w)
                         for k, w in enumerate(("house", "barn", "shed"))])
    return path


def test_save_and_open_a_document(make_window, tiny_card, tmp_path, qtbot):
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")
    window.explain_now("occlusion")
    qtbot.waitUntil(lambda: window.last_result[1].method == "occlusion", timeout=EXPLAIN_WAIT_MS)
    path = tmp_path / "house.json"
    assert window.files.save_to(path)
    assert not window.document.modified and window.document.path == path
    assert "house.json" in window.windowTitle()
    saved = json.loads(path.read_text())
    assert saved["attribution"]["method"] == "occlusion"

    window.files.new_document()
    assert len(window.document.sketch) == 0 and window.last_result is None
    window.state.set_method("sla-grad")
    assert loaded(qtbot, window, lambda: window.files.open_file(path))
    assert window.document.sketch == house() and window.document.path == path
    assert window.state.method == "occlusion"                       # the document's settings
    assert not window.document.modified


def test_save_as_adds_the_extension(make_window, tmp_path, monkeypatch):
    window = make_window()
    window.document.apply(house(), "Import")
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "drawing"), ""))
    assert window.files.save()
    assert (tmp_path / "drawing.json").is_file()


def test_import_is_one_undoable_edit(make_window, drawings, qtbot):
    window = make_window()
    window.document.apply(house(), "Draw")
    before = window.document.sketch
    assert loaded(qtbot, window, lambda: window.files.import_file(drawings, index=2))
    assert window.document.sketch == load_sketch(drawings, 2)
    assert window.document.undo_stack.undoText().startswith("Import three.ndjson")
    window.document.undo_stack.undo()
    assert window.document.sketch is before


def test_a_file_with_many_drawings_opens_the_browser(make_window, drawings, monkeypatch, qtbot):
    window = make_window()
    chosen = {}

    def pick(browser):
        browser.select(1)
        chosen["count"] = browser.list.count()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(DrawingBrowser, "exec", pick)
    assert loaded(qtbot, window, lambda: window.files.import_file(drawings))
    assert chosen["count"] == 3
    assert window.document.sketch == load_sketch(drawings, 1)


def test_browser_thumbnails_words_and_filter(qtbot, drawings):
    browser = DrawingBrowser(drawings, read_drawings(drawings))
    qtbot.addWidget(browser)
    qtbot.waitUntil(lambda: browser.finished_loading, timeout=5000)
    assert browser.list.count() == 3
    item = browser.list.item(1)
    assert "barn" in item.text() and not item.icon().isNull()
    browser.filter.setText("sh")
    hidden = [browser.list.item(i).isHidden() for i in range(3)]
    assert hidden == [True, True, False]
    browser.select(2)
    assert browser.selected_index() == 2 and browser.selected_sketch() == load_sketch(drawings, 2)


def test_exports(make_window, tiny_card, tmp_path, qtbot):
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")
    for name in ("h.svg", "h.ndjson", "h.png"):
        assert window.files.export(tmp_path / name), window.last_error
    assert load_sketch(tmp_path / "h.ndjson").num_points == house().num_points
    # The SVG is the PNG's picture: heat colours and the legend (the plain drawing on request).
    assert "target: " in (tmp_path / "h.svg").read_text()
    assert window.files.export(tmp_path / "plain.svg", heat=False)
    assert len(load_sketch(tmp_path / "plain.svg")) == 4
    png = QImage(str(tmp_path / "h.png"))
    assert png.width() > png.height() >= 512               # drawing plus the legend beside it
    assert not window.files.export(tmp_path / "h.gif")
    assert "export as one of .ndjson, .npz, .svg, .png" in window.last_error


def test_dropping_a_file_imports_it(make_window, drawings, monkeypatch, qtbot):
    window = make_window()
    monkeypatch.setattr(DrawingBrowser, "exec", lambda b: QDialog.DialogCode.Accepted)
    assert loaded(qtbot, window, lambda: window.canvas.filesDropped.emit([str(drawings)]) or True)
    assert window.document.sketch == load_sketch(drawings, 0)
    window.canvas.filesDropped.emit(["/tmp/notes.txt"])
    assert "not a sketch file" in window.last_error


def test_unsaved_changes_prompt_on_close(make_window, monkeypatch, qtbot):
    window = make_window()
    draw_line(window.canvas, (40, 40), (120, 80))
    assert window.document.modified and window.isWindowModified()
    asked = []
    monkeypatch.setattr(type(window.files), "ask_unsaved", lambda self: asked.append(1) or "cancel")
    assert not window.close()
    assert window.isVisible() and asked and window.worker.isRunning()
    monkeypatch.setattr(type(window.files), "ask_unsaved", lambda self: "discard")
    assert window.close()
    assert not window.worker.isRunning()


def test_choices_and_recent_files_persist(make_window, drawings, qtbot):
    window = make_window(persist=True)
    window.state.set_show_heat(False)
    window.state.set_live(False)
    window.select_tool("eraser")
    assert loaded(qtbot, window, lambda: window.files.import_file(drawings, index=0))
    window.document.undo_stack.setClean()
    assert window.close()
    settings = StudioSettings(QSettings(ORGANISATION, APPLICATION))
    assert settings.recent_files()[0] == str(drawings)
    again = make_window(persist=True)
    assert not again.state.show_heat and not again.state.live
    assert again.canvas.tool.id == "eraser"
    assert not again.actions_["heat"].isChecked()
    again.recent_menu.aboutToShow.emit()
    assert any(a.text() == f"{drawings.name} — {drawings.parent}"     # the folder shows too
               for a in again.recent_menu.actions())


def test_ctrl_s_after_an_import_asks_where_instead_of_overwriting(make_window, drawings,
                                                                 tmp_path, monkeypatch, qtbot):
    window = make_window()
    window.document.apply(house(), "Draw")
    opened = tmp_path / "house.json"
    assert window.files.save_to(opened)
    before = opened.read_bytes()
    assert loaded(qtbot, window, lambda: window.files.import_file(drawings, index=1))
    assert window.windowTitle().startswith("Untitled — imported from three.ndjson — drawing 2")
    asked = []
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a, **k: asked.append(a[2]) or ("", ""))
    window.actions_["save"].trigger()                   # Ctrl+S
    assert asked == [str(Path(window.files.settings.last_dir("save")) / "barn.json")]
    assert opened.read_bytes() == before


def test_undoing_an_import_brings_back_the_file_it_replaced(make_window, drawings, tmp_path,
                                                           qtbot):
    window = make_window()
    window.document.apply(house(), "Draw")
    opened = tmp_path / "house.json"
    assert window.files.save_to(opened)
    drawn = window.document.sketch
    assert loaded(qtbot, window, lambda: window.files.import_file(drawings, index=1))
    assert window.document.path is None and window.document.modified
    window.document.undo_stack.undo()
    # The drawing and the file it belongs to, as saved: nothing to save, Ctrl+S writes there.
    assert window.document.sketch is drawn
    assert window.document.path == opened and not window.document.modified
    assert window.windowTitle() == "house.json[*] — SketchStudio"
    window.document.undo_stack.redo()
    assert window.document.path is None
    assert window.windowTitle().startswith("Untitled — imported from three.ndjson")


def test_the_title_names_the_drawing_of_the_file(make_window, drawings, monkeypatch, qtbot):
    window = make_window()

    def pick(browser):
        browser.select(2)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(DrawingBrowser, "exec", pick)
    assert loaded(qtbot, window, lambda: window.files.open_file(drawings))
    assert window.windowTitle() == "three.ndjson — drawing 3 of 3 (shed)[*] — SketchStudio"
