"""Open, Import and drops read the file in the worker thread (issue 19 item 7, studio part).

A small SVG can cost seconds within the limits (one made here: 2 KB of <use> that expands to 512
strokes and 51,200 points), so the window never reads a file itself: the read runs as a worker task
with the progress bar and Cancel, and its result is applied on the window's thread. "While the file
is read" is made certain, not hoped for: a gate holds the reader in the worker (inside the real SVG
reader, before svgelements) until the test has done what it checks, so no test depends on timing.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import svgelements
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QMessageBox
from qt_helpers import EXPLAIN_WAIT_MS, MODEL_WAIT_MS, draw_line, house

from sketchstudio.sketch.formats import Document, svgbounds
from sketchstudio.sketch.io import load_sketch, save_document, save_sketch, save_sketches
from sketchstudio.sketch.limits import MAX_SVG_ITEMS
from sketchstudio.studio.browser import DrawingBrowser

HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
GATE_S = 60     # a safety net only: every test opens the gate itself


def use_bomb(tmp_path: Path, fanout: int, vertices: int = 100, name: str = "bomb.svg") -> Path:
    """fanout ** 3 copies, each shifted, of one path of `vertices` points: 2 KB of <use>."""
    d = "M0 0" + "".join(f" L{i % 50} {i // 50}" for i in range(1, vertices))
    parts = [f'<defs><path id="l0" d="{d}"/>']
    for level in range(1, 4):
        uses = "".join(f'<use xlink:href="#l{level - 1}" transform="translate({k},{k})"/>'
                       for k in range(fanout))
        parts.append(f'<g id="l{level}">{uses}</g>')
    path = tmp_path / name
    path.write_text(HEAD + "".join(parts) + '</defs><use href="#l3"/></svg>')
    return path


@pytest.fixture
def near_limit_svg(tmp_path) -> Path:
    # 512 strokes of 100 points: the first count of svgbounds estimates two items per vertex, so
    # this is about 103,000 of the 121,000 allowed (fanout 8 with 110 points is refused).
    path = use_bomb(tmp_path, 8)
    assert path.stat().st_size < 2500 and 2 * 8 ** 3 * 100 > 0.8 * MAX_SVG_ITEMS
    return path


class Gate:
    """Holds the worker inside `svgbounds.prepare` (the SVG reader's first step) until opened."""

    def __init__(self, monkeypatch, module=svgbounds, name: str = "prepare") -> None:
        self.entered = threading.Event()
        self.open_ = threading.Event()
        self.thread: str | None = None
        original = getattr(module, name)

        def held(*args, **kwargs):
            self.thread = threading.current_thread().name
            self.entered.set()
            self.open_.wait(GATE_S)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, held)

    def wait_entered(self, qtbot) -> None:
        qtbot.waitUntil(self.entered.is_set, timeout=EXPLAIN_WAIT_MS)

    def release(self) -> None:
        self.open_.set()


@pytest.fixture
def svgelements_calls(monkeypatch):
    calls = []
    original = svgelements.SVG.parse

    def parse(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(svgelements.SVG, "parse", parse)
    return calls


def loaded(qtbot, window, start) -> bool:
    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS) as blocker:
        assert start()
    return blocker.args == [True]


def test_a_near_limit_svg_is_read_in_the_worker_while_the_window_keeps_working(
        make_window, near_limit_svg, monkeypatch, qtbot):
    window = make_window()          # no model at all: files are read without one
    window.document.apply(house(), "Draw")
    gate = Gate(monkeypatch)
    ticks = []
    timer = QTimer(window)
    timer.setInterval(0)
    timer.timeout.connect(lambda: ticks.append(gate.entered.is_set() and not gate.open_.is_set()))

    assert window.files.import_file(near_limit_svg)       # returns at once: the worker reads
    gate.wait_entered(qtbot)
    assert gate.thread != threading.current_thread().name
    assert window.tasks.running and window.actions_["cancel"].isEnabled()
    # A read that takes noticeably long shows the progress bar, its Cancel button and what runs.
    qtbot.waitUntil(window.progress.isVisible, timeout=EXPLAIN_WAIT_MS)
    assert window.cancel_button.isVisible()
    assert window.statusBar().currentMessage() == "Importing bomb.svg…"

    # The worker is inside the reader; the window's thread runs timers, drawing and Undo.
    timer.start()
    qtbot.waitUntil(lambda: sum(ticks) >= 3, timeout=EXPLAIN_WAIT_MS)
    draw_line(window.canvas, (30, 30), (120, 40))
    drawn = window.document.sketch
    assert len(drawn) == len(house()) + 1
    window.document.undo_stack.undo()
    assert window.document.sketch == house()
    window.document.undo_stack.redo()
    assert window.document.sketch is drawn
    assert window.tasks.running                      # still reading

    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS) as blocker:
        gate.release()
    timer.stop()
    assert blocker.args == [True]
    imported = window.document.sketch
    assert len(imported) == 8 ** 3 and imported.num_points == 8 ** 3 * 100
    assert imported == load_sketch(near_limit_svg)
    assert not window.tasks.running and not window.progress.isVisible()
    assert window.statusBar().currentMessage().startswith("Imported bomb.svg: 512 strokes")
    # One undoable edit on top of what was drawn while the file was read.
    assert window.document.undo_stack.undoText() == "Import bomb.svg"
    window.document.undo_stack.undo()
    assert window.document.sketch is drawn


@pytest.mark.parametrize("how", ["escape", "button"])
def test_cancel_stops_the_read_and_changes_nothing(make_window, near_limit_svg, monkeypatch, qtbot,
                                                   svgelements_calls, how):
    window = make_window()
    window.document.apply(house(), "Draw")
    before, depth = window.document.sketch, window.document.undo_stack.count()
    gate = Gate(monkeypatch)
    assert window.files.import_file(near_limit_svg)
    gate.wait_entered(qtbot)

    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS) as blocker:
        if how == "escape":     # a real key press: the window must be active for shortcuts
            window.activateWindow()
            assert QTest.qWaitForWindowActive(window, EXPLAIN_WAIT_MS)
            qtbot.keyClick(window.canvas.viewport(), Qt.Key.Key_Escape)
        else:                   # the status bar's Cancel, once it shows
            qtbot.waitUntil(window.cancel_button.isVisible, timeout=EXPLAIN_WAIT_MS)
            window.cancel_button.click()
    assert blocker.args == [False]
    assert window.statusBar().currentMessage() == "Importing bomb.svg: cancelled, nothing changed"
    assert not window.tasks.running and not window.cancel_button.isVisible()

    # The reader itself stops (Cancelled at its next check), before svgelements ever runs.
    with qtbot.waitSignal(window.worker.taskCancelled, timeout=EXPLAIN_WAIT_MS):
        gate.release()
    assert svgelements_calls == []
    assert window.document.sketch is before
    assert window.document.undo_stack.count() == depth
    assert window.last_error is None


def test_a_malformed_or_refused_file_gives_one_error_line(make_window, tmp_path, qtbot):
    window = make_window()
    window.document.apply(house(), "Draw")
    before = window.document.sketch
    broken = tmp_path / "broken.svg"
    broken.write_text(HEAD + '<path d="M0 0 L1 1"')
    over = use_bomb(tmp_path, 8, vertices=110, name="over.svg")   # just past the limit
    for path, reason in ((broken, "broken.svg"), (over, "elements and path vertices")):
        assert not loaded(qtbot, window, lambda path=path: window.files.import_file(path))
        message = window.last_error
        assert str(path) in message and reason in message
        assert "\n" not in message and "Traceback" not in message
        assert window.statusBar().currentMessage() == message
        assert window.document.sketch is before
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert len(boxes) == 1 and boxes[0].text() == window.last_error
    # A file type no reader knows is refused at once, without starting a read.
    assert window.files.open_file(tmp_path / "notes.txt") is False
    assert "unknown sketch file type '.txt'" in window.last_error


def test_a_normal_import_is_one_undoable_edit(make_window, tmp_path, qtbot):
    window = make_window()
    window.document.apply(house().remove_strokes([0]), "Draw")
    before = window.document.sketch
    path = tmp_path / "house.svg"
    save_sketch(path, house())
    assert loaded(qtbot, window, lambda: window.files.import_file(path))
    assert window.document.sketch == load_sketch(path) and len(window.document.sketch) == 4
    window.document.undo_stack.undo()
    assert window.document.sketch is before
    window.document.undo_stack.redo()
    assert window.document.sketch == load_sketch(path)


def test_open_keeps_a_drawing_made_while_the_file_was_read_one_undo_away(make_window, tmp_path,
                                                                        monkeypatch, qtbot):
    from sketchstudio.sketch.formats import native

    window = make_window()
    path = tmp_path / "saved.json"
    save_document(path, Document(house(), None, {"method": "occlusion"}))

    # Nothing drawn meanwhile: a fresh, unmodified document with the file's path and settings.
    assert loaded(qtbot, window, lambda: window.files.open_file(path))
    assert window.document.sketch == house() and window.document.path == path
    assert not window.document.modified and window.state.method == "occlusion"

    window.files.new_document()
    gate = Gate(monkeypatch, native, "read_document")
    assert window.files.open_file(path)
    gate.wait_entered(qtbot)
    draw_line(window.canvas, (30, 30), (120, 40))
    drawn = window.document.sketch
    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS) as blocker:
        gate.release()
    assert blocker.args == [True]
    assert window.document.sketch == house() and window.document.path == path
    assert window.document.modified                  # what was drawn is not saved anywhere
    assert "Undo brings back" in window.statusBar().currentMessage()
    window.document.undo_stack.undo()
    assert window.document.sketch is drawn


def test_a_newer_open_replaces_one_still_reading(make_window, near_limit_svg, tmp_path,
                                                 monkeypatch, qtbot):
    window = make_window()
    gate = Gate(monkeypatch)
    results = []
    window.fileLoaded.connect(results.append)
    assert window.files.import_file(near_limit_svg)
    gate.wait_entered(qtbot)
    other = tmp_path / "house.ndjson"
    save_sketches(other, [house()])
    assert window.files.import_file(other, index=0)
    assert results == [False]                        # the first read ended, replaced
    gate.release()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=EXPLAIN_WAIT_MS)
    assert results == [False, True] and window.document.sketch == house()
    assert window.document.undo_stack.count() == 1


def test_a_damaged_record_part_way_offers_the_other_drawings_and_names_it(make_window, tmp_path,
                                                                          monkeypatch, qtbot):
    window = make_window()
    path = tmp_path / "damaged.ndjson"
    save_sketches(path, [house().with_metadata(word=w) for w in ("house", "barn")])
    text = path.read_text()
    path.write_text(text.replace("\n", "\nnot json\n", 1))   # line 2 of 3 is broken
    seen = {}

    def pick(browser):
        seen["count"], seen["note"] = browser.list.count(), browser.note.text()
        browser.select(2)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(DrawingBrowser, "exec", pick)
    assert loaded(qtbot, window, lambda: window.files.import_file(path))
    assert seen["count"] == 2 and "line 2: invalid JSON" in seen["note"]
    assert window.document.sketch.word == "barn"
    assert "line 2: invalid JSON" in window.statusBar().currentMessage()


def test_start_waits_for_the_file_before_the_first_explanation(make_window, tiny_card, tmp_path,
                                                               qtbot):
    window = make_window()
    window.state.set_live(False)      # the opened file is explained once even so, as before
    path = tmp_path / "house.svg"
    save_sketch(path, house())
    with qtbot.waitSignal(window.explanationShown, timeout=MODEL_WAIT_MS):
        assert window.start(model=str(tiny_card), open_path=str(path))
    assert len(window.document.sketch) == 4
    assert window.last_result[0] is window.document.sketch


def test_an_import_stops_a_running_tool_the_way_cancel_does(make_window, tiny_card, tmp_path,
                                                            qtbot):
    from sketchstudio.progress import Cancelled

    window = make_window(tiny_card)
    started, ended = threading.Event(), []

    def run(model, progress, cancelled):
        started.set()
        while not cancelled():      # a long tool run: it only ends when cancelled
            threading.Event().wait(0.01)
        raise Cancelled()

    window.tasks.run("Attack", run, lambda result: ended.append("done"),
                    on_cancelled=lambda: ended.append("cancelled"))
    qtbot.waitUntil(started.is_set, timeout=EXPLAIN_WAIT_MS)
    path = tmp_path / "house.svg"
    save_sketch(path, house())
    assert loaded(qtbot, window, lambda: window.files.import_file(path))
    assert ended == ["cancelled"]       # the tool's panel is told, as with Esc
    assert window.document.sketch == load_sketch(path)


def test_dismissing_the_browser_changes_nothing(make_window, tmp_path, monkeypatch, qtbot):
    window = make_window()
    window.document.apply(house(), "Draw")
    before = window.document.sketch
    path = tmp_path / "two.ndjson"
    save_sketches(path, [house(), house().remove_strokes([0])])
    monkeypatch.setattr(DrawingBrowser, "exec", lambda browser: QDialog.DialogCode.Rejected)
    assert not loaded(qtbot, window, lambda: window.files.import_file(path))
    assert window.document.sketch is before and window.document.undo_stack.count() == 1


def test_the_browser_is_offered_the_first_drawings_and_told_there_are_more(tmp_path):
    from sketchstudio.studio.reading import read_drawings

    path = tmp_path / "five.ndjson"
    save_sketches(path, [house().with_metadata(word=f"w{i}") for i in range(5)])
    fractions = []
    found = read_drawings(path, fractions.append, limit=3)
    assert [s.word for s in found.sketches] == ["w0", "w1", "w2"] and found.more
    assert found.error is None and fractions == sorted(fractions) and fractions[-1] == 1.0
    everything = read_drawings(path, limit=5)
    assert len(everything.sketches) == 5 and not everything.more
