"""One registry per extension point: a toy attribution method and a toy file format, registered
the way docs/extending.md says, are found everywhere that lists methods or formats."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pytest
import stand_ins
from stand_ins import smooth_cnn

from sketchstudio.explain import explain
from sketchstudio.explain.problem import Problem, RawAttribution, full_and_blank
from sketchstudio.explain.registry import AttributionMethod, register_method
from sketchstudio.progress import TaskState
from sketchstudio.sketch import Sketch, Stroke
from sketchstudio.sketch.formats.registry import FileFormat, register_format
from sketchstudio.sketch.formats.watch import NO_WATCH, Watch

pytestmark = pytest.mark.usefixtures("restore_registries")


# --- a toy method: each stroke's number of points (not faithful; it only has to be found) ---------
@dataclass(frozen=True)
class PointCount(AttributionMethod):
    def attribute(self, problem: Problem, state: TaskState) -> RawAttribution:
        state.check()
        full, blank = full_and_blank(problem, problem.geometry())
        counts = np.array(problem.sketch.points_per_stroke(), dtype=np.float64)
        state.set_progress(1.0)
        return RawAttribution(counts, full, blank)


TOY_METHOD = PointCount("toy-count", "Toy count", "One value per stroke: its number of points.")


# --- a toy format: one stroke per line, "x,y x,y ..." ---------------------------------------------
class ToyLines:
    NAME = "toy"
    HOLDS_MANY = False

    @staticmethod
    def read(path: Path, watch: Watch = NO_WATCH) -> Sketch:
        strokes = [Stroke(np.array([[float(v) for v in pair.split(",")] for pair in line.split()]))
                   for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        return Sketch(strokes)

    @staticmethod
    def write(file: BinaryIO, sketch: Sketch) -> None:
        for stroke in sketch.strokes:
            file.write((" ".join(f"{x:g},{y:g}" for x, y in stroke.points) + "\n").encode())


TOY_FORMAT = FileFormat("toy", "Toy lines", (".toy",), ToyLines)


def house() -> Sketch:
    return Sketch.from_arrays([[[4, 28], [4, 12], [28, 12], [28, 28]], [[2, 13], [16, 3], [30, 13]],
                               [[14, 28], [14, 20], [19, 20], [19, 28]]])


def _choices(parser: Any, *path: str) -> tuple[str, ...]:
    """The choices of the option `path[-1]` of the sub-command `path[:-1]`."""
    import argparse

    for name in path[:-1]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    action = next(a for a in parser._actions if path[-1] in a.option_strings)
    return tuple(action.choices)


def test_a_registered_method_is_in_every_list_and_runs(qtbot: Any) -> None:
    register_method(TOY_METHOD)
    from sketchstudio import cli
    from sketchstudio.commands import bench
    from sketchstudio.explain.registry import method_names
    from sketchstudio.studio import app
    from sketchstudio.studio.panels import METHOD_HELP, ClassifyPanel

    assert "toy-count" in method_names()
    parser = cli.build_parser(cli._available_commands())
    assert "toy-count" in _choices(parser, "explain", "--method")
    assert "toy-count" in _choices(parser, "eval", "faithfulness", "--methods")
    assert "toy-count" in _choices(parser, "bench", "--methods")
    assert "toy-count" in bench.method_choices()
    assert "--method " in parser.epilog and "toy-count" in parser.epilog
    assert "toy-count" in _choices(app.build_parser(), "--method")
    assert METHOD_HELP["toy-count"] == ("Toy count", TOY_METHOD.help)

    from sketchstudio.studio.document import StudioDocument
    from sketchstudio.studio.state import StudioState

    class Window:   # the little of the studio a panel reads while it is built
        state = StudioState()
        document = StudioDocument()

    panel = ClassifyPanel(Window())   # type: ignore[arg-type]
    qtbot.addWidget(panel)
    combo = [panel.method_combo.itemData(i) for i in range(panel.method_combo.count())]
    assert combo[-1] == "toy-count" and combo[:-1] == list(method_names())[:-1]

    model = stand_ins.model_of(smooth_cnn())
    result = explain(house(), model, method="toy-count")
    assert result.method == "toy-count"
    assert result.strokes.tolist() == [4.0, 3.0, 4.0]


def test_an_unregistered_method_is_refused_by_name() -> None:
    from sketchstudio.errors import UserError

    with pytest.raises(UserError, match="unknown method 'toy-count'; choose one of live, sla"):
        explain(house(), stand_ins.model_of(smooth_cnn()), method="toy-count")


def test_a_registered_format_is_read_written_offered_and_in_galleries(tmp_path: Path) -> None:
    register_format(TOY_FORMAT)
    from sketchstudio.cli import main
    from sketchstudio.sketch.formats import FORMATS, gallery_suffixes
    from sketchstudio.sketch.io import file_format, load_sketch, save_sketch
    from sketchstudio.studio import file_filters

    path = tmp_path / "house.toy"
    save_sketch(path, house())
    assert file_format(path) == "toy" and load_sketch(path) == house()
    assert ".toy" in FORMATS and ".toy" in gallery_suffixes()
    assert "Toy lines (*.toy)" in file_filters.open_filter().split(";;")
    assert "*.toy" in file_filters.open_filter().split(";;")[0]
    assert "Toy lines (*.toy)" in file_filters.import_filter().split(";;")
    assert file_filters.export_filters()["toy"] == "Toy lines (*.toy)"
    # The command line converts to and from it, like any other format.
    assert main(["convert", str(path), str(tmp_path / "house.svg")]) == 0
    assert main(["convert", str(tmp_path / "house.svg"), str(tmp_path / "again.toy")]) == 0
    again = load_sketch(tmp_path / "again.toy")
    assert len(again) == 3
    np.testing.assert_allclose(again.strokes[1].points, house().strokes[1].points, atol=1e-3)


def test_the_retrieval_gallery_reads_a_registered_format(tmp_path: Path) -> None:
    register_format(TOY_FORMAT)
    from sketchstudio.sketch.formats.registry import gallery_suffixes

    # What the gallery reader asks (tasks/retrieve): every readable format's suffixes.
    assert gallery_suffixes()[-1] == ".toy"
    assert {".ndjson", ".npz", ".svg", ".json"} <= set(gallery_suffixes())


def test_registries_refuse_clashes() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_method(PointCount("sla", "again", ""))
    with pytest.raises(ValueError, match="suffix .svg already belongs to the 'svg' format"):
        register_format(FileFormat("svg2", "Another SVG", (".svg",), ToyLines))


def test_the_window_builds_its_tabs_from_the_panel_list(make_window: Any) -> None:
    from sketchstudio.studio.panel_list import PANELS

    window = make_window(None)
    assert [type(p) for p in window.panels] == list(PANELS)
    assert [window.panel_tabs.tabText(i) for i in range(window.panel_tabs.count())] == [
        "Classify", "Retrieve", "Generate", "Assist", "Attack"]
