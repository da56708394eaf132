"""The file controller on its own (issue #16, Files): built from a document, a canvas, the state, a
task runner over a started worker and in-memory settings, as the window builds it.

Each snag of the issue has its test here: Import leaves the document untitled (Ctrl+S asks, never
overwrites the opened file), Open Recent on a file of many drawings shows the browser, the title
says which drawing is open, Save As suggests a name, Open Recent shows folders, a bad line of an
.ndjson costs only that drawing, SVG export carries the heat colours, and attributions export with
the fields of `sketchstudio explain --json`.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog, QMenu, QWidget
from qt_helpers import EXPLAIN_WAIT_MS, house

from sketchstudio.explain import Attribution
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import load_sketch, save_sketch, save_sketches
from sketchstudio.studio import file_dialogs
from sketchstudio.studio.browser import DrawingBrowser
from sketchstudio.studio.canvas import SketchCanvas
from sketchstudio.studio.document import StudioDocument
from sketchstudio.studio.file_controller import FileController
from sketchstudio.studio.file_support import recent_label
from sketchstudio.studio.settings import MemorySettings, StudioSettings
from sketchstudio.studio.state import StudioState
from sketchstudio.studio.task_runner import TaskRunner
from sketchstudio.studio.worker import ExplainWorker


class Studio:
    """What the window gives the controller, and what the controller said upward."""

    def __init__(self, qtbot) -> None:
        self.parent = QWidget()
        qtbot.addWidget(self.parent)
        self.document = StudioDocument(self.parent)
        self.canvas = SketchCanvas(self.document)
        self.canvas.setParent(self.parent)
        self.state = StudioState()
        self.worker = ExplainWorker(self.parent)
        self.worker.start()
        self.tasks = TaskRunner(self.worker, self.parent)
        self.settings = StudioSettings(MemorySettings())
        self.last: tuple[Sketch, Attribution] | None = None
        self.files = FileController(self.document, self.canvas, self.state, self.tasks,
                                    self.settings, lambda: self.last, self.parent)
        self.errors: list[str] = []
        self.statuses: list[str] = []
        self.replaced: list[bool] = []
        self.titles: list[str] = []
        self.files.error.connect(lambda message, _title: self.errors.append(message))
        self.files.status.connect(lambda message, _ms: self.statuses.append(message))
        self.files.drawingReplaced.connect(self.replaced.append)
        self.files.titleChanged.connect(lambda: self.titles.append(self.files.title()))

    def load(self, qtbot, start) -> bool:
        with qtbot.waitSignal(self.files.fileLoaded, timeout=EXPLAIN_WAIT_MS) as blocker:
            assert start()
        return blocker.args == [True]


@pytest.fixture
def studio(qtbot):
    made = Studio(qtbot)
    yield made
    made.worker.stop()


@pytest.fixture
def hundred(tmp_path) -> Path:
    path = tmp_path / "cat.ndjson"
    save_sketches(path, [house().remove_strokes(range(i % 3)).with_metadata(word=f"cat{i}")
                         for i in range(100)])
    return path


def pick(monkeypatch, index: int, seen: dict | None = None) -> None:
    """The browser answers by choosing drawing `index` (0-based in the file)."""
    def choose(browser):
        if seen is not None:
            seen["browser"] = browser
            seen["note"] = browser.note.text()
            seen["labels"] = [browser.list.item(r).text() for r in range(browser.list.count())]
        browser.select(index)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(DrawingBrowser, "exec", choose)


def test_ctrl_s_after_import_asks_where_and_leaves_the_opened_file_alone(studio, tmp_path,
                                                                         monkeypatch, qtbot):
    # Decision: Import stays one undoable edit, and the document becomes untitled.
    opened = tmp_path / "house.json"
    assert studio.files.save_to(opened) is True    # an empty drawing, saved
    assert studio.load(qtbot, lambda: studio.files.open_file(opened))
    before = opened.read_bytes()
    bicycle = tmp_path / "bicycle.svg"
    save_sketch(bicycle, house().remove_strokes([0]).with_metadata(word="bicycle"))
    assert studio.load(qtbot, lambda: studio.files.import_file(bicycle))
    assert studio.document.path is None and studio.document.modified
    assert studio.files.title() == "Untitled — imported from bicycle.svg"
    asked = []
    monkeypatch.setattr(file_dialogs, "ask_save_path",
                        lambda parent, start: asked.append(start) or None)   # Cancel
    assert studio.files.save() is False                 # Ctrl+S
    assert asked and asked[0].name == "bicycle.json"    # the imported file's stem is suggested
    assert opened.read_bytes() == before                # house.json untouched
    studio.document.undo_stack.undo()                   # the import is one undoable edit
    assert len(studio.document.sketch) == 0


def test_open_recent_on_a_file_of_many_drawings_shows_the_browser_like_open(studio, hundred,
                                                                            monkeypatch, qtbot):
    studio.settings.add_recent(hundred)
    seen: dict = {}
    pick(monkeypatch, 11, seen)
    studio.document.apply(house(), "Draw")
    studio.document.undo_stack.setClean()
    assert studio.load(qtbot, lambda: studio.files.open_recent(str(hundred)) or True)
    assert "browser" in seen                             # not the first drawing silently
    assert studio.document.sketch == load_sketch(hundred, 11)
    assert studio.document.undo_stack.count() == 0       # opened as a new document, not imported
    assert studio.replaced[-1] is False


def test_the_title_says_which_drawing_of_the_file_is_open(studio, hundred, monkeypatch, qtbot):
    pick(monkeypatch, 11)
    assert studio.load(qtbot, lambda: studio.files.open_file(hundred))
    assert studio.files.title() == "cat.ndjson — drawing 12 of 100 (cat11)"
    assert studio.titles[-1] == studio.files.title()     # titleChanged told the window
    assert studio.load(qtbot, lambda: studio.files.open_file(hundred, index=3))
    assert studio.files.title() == "cat.ndjson — drawing 4 (cat3)"    # not counted: no "of"
    studio.files.new_document()
    assert studio.files.title() == "Untitled"


def test_save_as_suggests_a_name_in_the_last_save_folder(studio, hundred, tmp_path, monkeypatch,
                                                        qtbot):
    folder = tmp_path / "saved"
    folder.mkdir()
    studio.settings.set_last_dir("save", folder / "earlier.json")
    asked = []
    monkeypatch.setattr(file_dialogs, "ask_save_path",
                        lambda parent, start: asked.append(start) or None)
    svg = tmp_path / "my house.svg"
    save_sketch(svg, house())
    assert studio.load(qtbot, lambda: studio.files.open_file(svg))
    assert studio.files.save_as() is False
    assert asked[-1] == folder / "my house.json"         # a one-drawing file: its stem
    pick(monkeypatch, 5)
    assert studio.load(qtbot, lambda: studio.files.open_file(hundred))
    studio.files.save_as()
    assert asked[-1] == folder / "cat5.json"              # one of many: the drawing's word


def test_open_recent_entries_show_their_folders(studio, tmp_path, qtbot):
    first, second = tmp_path / "a" / "house.json", tmp_path / "b" / "house.json"
    for path in (first, second):
        path.parent.mkdir()
        studio.files.save_to(path)
    menu = QMenu()
    studio.files.fill_recent_menu(menu)
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:2] == [f"house.json — {second.parent}", f"house.json — {first.parent}"]
    assert recent_label(str(Path.home() / "sketches" / "cat.ndjson")) == "cat.ndjson — ~/sketches"
    assert recent_label(str(Path.home() / "cat.ndjson")) == "cat.ndjson — ~"


def test_a_bad_line_in_the_middle_costs_only_that_drawing(studio, tmp_path, monkeypatch, qtbot):
    path = tmp_path / "broken.ndjson"
    save_sketches(path, [house().with_metadata(word=w) for w in ("one", "two", "three", "four")])
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:25]                              # drawing 2 (line 2) cut short
    path.write_text("\n".join(lines) + "\n")
    seen: dict = {}
    pick(monkeypatch, 2, seen)
    assert studio.load(qtbot, lambda: studio.files.open_file(path))
    # The good drawings are offered with their own numbers; the bad line is named and explained.
    assert [label.split()[1] for label in seen["labels"]] == ["one", "three", "four"]
    assert [label.split()[0] for label in seen["labels"]] == ["1", "3", "4"]
    assert seen["note"].startswith("1 drawing could not be read (line 2: invalid JSON")
    assert studio.document.sketch.word == "three"         # index 2 in the file, as --index 2
    assert any("line 2: invalid JSON" in s for s in studio.statuses)
    assert studio.files.title() == "broken.ndjson — drawing 3 of 4 (three)"


def test_a_file_of_nothing_but_bad_lines_is_one_error(studio, tmp_path, qtbot):
    path = tmp_path / "all-bad.ndjson"
    path.write_text('{"drawing": 5}\nnot json\n')
    assert not studio.load(qtbot, lambda: studio.files.open_file(path))
    assert studio.errors == [f"{path}: 2 drawings could not be read (line 1: \"drawing\" should be "
                             "a list of strokes, got int; line 2: invalid JSON: Expecting value "
                             "(column 1))"]


def fake_result(sketch: Sketch, segments: bool = False) -> Attribution:
    values = np.linspace(-0.4, 0.9, len(sketch))
    return Attribution(
        "psla" if segments else "sla", values, 1.25, 0.1, target="house", target_index=0,
        prediction=[("house", 0.875), ("barn", 0.125)], model="tiny", elapsed_ms=12.5,
        segments=([np.full(max(len(s.points) - 1, 0), v) for s, v in zip(sketch.strokes, values,
                                                                         strict=True)]
                  if segments else None))


def test_export_svg_carries_the_heat_and_legend_like_png(studio, tmp_path):
    studio.document.apply(house(), "Draw")
    result = fake_result(studio.document.sketch, segments=True)
    studio.last = (studio.document.sketch, result)
    assert studio.files.export(tmp_path / "h.svg")
    text = (tmp_path / "h.svg").read_text()
    assert "#67001f" in text or "#67001e" in text         # the strongest red of the scale
    assert "P-SLA" in text and "target: house" in text and "p = 0.88" in text
    assert studio.files.export(tmp_path / "plain.svg", heat=False)
    assert load_sketch(tmp_path / "plain.svg") == house()  # the plain drawing, re-importable
    studio.last = None                                    # no explanation: plain, and said so
    assert studio.files.export(tmp_path / "later.svg")
    assert load_sketch(tmp_path / "later.svg") == house()
    assert not studio.files.export(tmp_path / "h.gif")
    assert studio.errors[-1] == "h.gif: export as one of .ndjson, .npz, .svg, .png"


def test_an_svg_from_the_studio_equals_the_one_convert_writes(studio, tmp_path, capsys):
    from sketchstudio.cli import main

    studio.document.apply(house(), "Draw")
    studio.last = (studio.document.sketch, fake_result(studio.document.sketch))
    assert studio.files.save_to(tmp_path / "house.json")
    assert studio.files.export(tmp_path / "studio.svg")
    assert studio.files.export_attributions(tmp_path / "attributions.json")
    code = main(["convert", str(tmp_path / "house.json"), str(tmp_path / "cli.svg"),
                 "--heat", str(tmp_path / "attributions.json")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "cli.svg").read_bytes() == (tmp_path / "studio.svg").read_bytes()


def test_export_attributions_needs_an_explanation_of_this_drawing(studio, tmp_path):
    studio.document.apply(house(), "Draw")
    studio.last = (house(), fake_result(house()))        # an earlier snapshot, not this one
    assert not studio.files.export_attributions(tmp_path / "a.json")
    assert "explain it first" in studio.errors[-1] and not (tmp_path / "a.json").exists()


def test_export_attributions_as_csv_has_a_row_a_stroke(studio, tmp_path):
    studio.document.apply(house(), "Draw")
    result = fake_result(studio.document.sketch, segments=True)
    studio.last = (studio.document.sketch, result)
    assert studio.files.export_attributions(tmp_path / "a.csv")
    rows = list(csv.DictReader((tmp_path / "a.csv").open()))
    assert [int(r["stroke"]) for r in rows] == [1, 2, 3, 4]
    assert [float(r["value"]) for r in rows] == [float(v) for v in result.strokes]
    assert rows[0]["method"] == "psla" and rows[0]["predicted"] == "house"
    assert len(rows[0]["segments"].split()) == len(house().strokes[0].points) - 1


@pytest.mark.slow
def test_exported_attributions_have_the_fields_of_explain_json(studio, tiny_card, tmp_path,
                                                                capsys, qtbot):
    from sketchstudio.cli import main
    from sketchstudio.explain import explain
    from sketchstudio.models import load_model

    path = tmp_path / "house.svg"
    save_sketch(path, house())
    assert studio.load(qtbot, lambda: studio.files.open_file(path))
    sketch = studio.document.sketch
    model = load_model(str(tiny_card), device="cpu")
    studio.last = (sketch, explain(sketch, model, method="sla"))
    assert studio.files.export_attributions(tmp_path / "studio.json")
    capsys.readouterr()
    assert main(["--device", "cpu", "explain", str(path), "--model", str(tiny_card), "--method",
                 "sla", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    app = json.loads((tmp_path / "studio.json").read_text())
    assert list(app) == list(cli)                          # the same fields, in the same order
    assert app["file"] == str(path) and app["index"] == 0 and app["method"] == "sla"
    for key in ("strokes", "score_full", "score_blank"):   # one model, one drawing: equal values
        assert app.pop(key) == pytest.approx(cli.pop(key), rel=1e-5, abs=1e-7)
    for record in (app, cli):
        record.pop("elapsed_ms")
    assert app == cli


def test_the_export_dialog_offers_the_svg_picture_and_the_svg_drawing(studio, tmp_path,
                                                                      monkeypatch):
    from sketchstudio.studio import file_filters

    studio.document.apply(house(), "Draw")
    studio.last = (studio.document.sketch, fake_result(studio.document.sketch))
    filters = file_filters.export_filters()
    for name, chosen in (("picture", filters["svg-heat"]), ("drawing", filters["svg"])):
        monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                            lambda *a, n=name, c=chosen, **k: (str(tmp_path / n), c))
        assert studio.files.export()
    assert "target: house" in (tmp_path / "picture.svg").read_text()
    assert load_sketch(tmp_path / "drawing.svg") == house()
