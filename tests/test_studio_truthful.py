"""What is on screen is what was chosen, and what the studio paints live is `explain --method live`.

Every path that used to swap the method behind the user's back is driven here: new strokes, a
target change, a model switch, a reopened file. The selector, the status bar, the hover text and
the exported PNG legend must all name the method that produced the colours.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qt_helpers import EXPLAIN_WAIT_MS, MODEL_WAIT_MS, draw_line, house, rgb

from sketchstudio.explain import explain
from sketchstudio.explain.colormap import heat_rgb
from sketchstudio.explain.methods import method_label
from sketchstudio.models import load_model
from sketchstudio.sketch.io import iter_sketches


def painted(window):
    """(values, colours) of the strokes on the canvas, in stroke order."""
    values = [item.heat.value for item in window.canvas.items_]
    return np.array(values), [rgb(c) for c in window.canvas.stroke_colours()]


def assert_paints_live(window, card, target=None):
    sketch, shown = window.last_result
    assert sketch is window.document.sketch
    reference = explain(sketch, load_model(str(card), device="cpu"), method="live", target=target)
    assert shown.method == reference.method
    values, colours = painted(window)
    np.testing.assert_allclose(values, reference.strokes, rtol=1e-5, atol=1e-6)
    assert colours == [tuple(int(c) for c in row) for row in heat_rgb(reference.strokes)]
    return reference


def choose_method(window, method):
    """As the user does it: pick the method in the Classify panel's selector."""
    panel = window.panels[0]
    index = panel.method_combo.findData(method)
    panel.method_combo.setCurrentIndex(index)
    panel.method_combo.activated.emit(index)


def real_drawings(shared_data, words, per_word=1):
    folder = shared_data("quickdraw", "simplified")
    out = []
    for word in words:
        for i, sketch in enumerate(iter_sketches(folder / f"{word}.ndjson")):
            if i >= per_word:
                break
            out.append(sketch)
    return out


def test_live_paint_equals_explain_live_for_drawings_models_and_targets(make_window, tiny_card,
                                                                        wide_card, qtbot):
    moved = house()
    moved = moved.with_strokes([s.with_points(s.points + [15.0, -10.0]) for s in moved])
    drawings = [house(), house().remove_strokes([0]), moved.remove_strokes([3])]
    for card, targets in ((tiny_card, (None, "book")), (wide_card, (None, "dog", "eye"))):
        window = make_window(card)
        assert window.panels[0].method() == "live"
        for sketch in drawings:
            for target in targets:
                if window.document.sketch != sketch:
                    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
                        window.document.apply(sketch, "Import")
                if target != window.state.target:
                    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
                        window.state.set_target(target)
                reference = assert_paints_live(window, card, target)
                assert reference.method == "live:occlusion"


def test_live_paint_equals_explain_live_on_the_default_model_and_real_drawings(
        make_window, shared_data, qtbot):
    card = Path(__file__).resolve().parents[1] / "resources" / "models" / "default" / "card.toml"
    if not card.is_file():
        pytest.skip("the built-in default model is not in resources/models/default")
    window = make_window(card)
    for sketch in real_drawings(shared_data, ("house", "bicycle", "cactus")):
        with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
            window.document.apply(sketch, "Import")
        assert_paints_live(window, card)
    # The status bar and the hover text name what ran.
    assert window.latency_label.text().startswith("Live: Occlusion")
    assert "Live: Occlusion" in window.canvas.items_[0].toolTip()


def test_a_chosen_method_stays_through_edits_targets_and_model_switches(make_window, tiny_card,
                                                                         wide_card, qtbot):
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        choose_method(window, "sla")
    panel = window.panels[0]

    def shows_sla():
        result = window.last_result[1]
        assert result.method == "sla" and panel.method() == "sla"
        assert window.latency_label.text().startswith("SLA:")
        assert panel.detail_labels["method"].text() == "SLA"
        assert "SLA)" in window.canvas.items_[0].toolTip()

    shows_sla()
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        draw_line(window.canvas, (30, 30), (90, 40))          # a new stroke
    shows_sla()
    assert len(window.last_result[0]) == 5
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.state.set_target("book")                              # a target change
    shows_sla()
    assert window.last_result[1].target == "book"
    with qtbot.waitSignal(window.explanationShown, timeout=MODEL_WAIT_MS):
        window.models.load(str(wide_card))                      # a model switch
    qtbot.waitUntil(lambda: window.state.model.source == str(wide_card)
                    and window.last_result is not None
                    and window.last_result[1].method == "sla", timeout=MODEL_WAIT_MS)
    shows_sla()
    # Back to live: the next stroke is coloured live again, and says so.
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        choose_method(window, "live")
    assert window.last_result[1].method == "live:occlusion" and panel.method() == "live"
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        draw_line(window.canvas, (40, 200), (120, 210))
    assert window.last_result[1].method == "live:occlusion"


def test_a_reopened_file_shows_the_method_it_was_saved_with(make_window, tiny_card, tmp_path,
                                                           qtbot):
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        choose_method(window, "psla")
    path = tmp_path / "house.json"
    assert window.files.save_to(path)
    window.files.new_document()
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        choose_method(window, "live")
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS) as read:
            assert window.files.open_file(path)       # read in the worker
        assert read.args == [True]
    qtbot.waitUntil(lambda: window.last_result is not None
                    and window.last_result[0] is window.document.sketch, timeout=EXPLAIN_WAIT_MS)
    result = window.last_result[1]
    assert window.panels[0].method() == "psla" and result.method == "psla"
    assert result.segments is not None
    assert window.latency_label.text().startswith("P-SLA:")


def test_the_exported_png_legend_names_the_method_on_screen(make_window, tiny_card, tmp_path,
                                                           qtbot, monkeypatch):
    from sketchstudio.explain import heatimage

    legends = []
    real_legend = heatimage._legend
    monkeypatch.setattr(heatimage, "_legend", lambda *args: (   # the result comes last
        legends.append(method_label(args[-1].method)), real_legend(*args)))
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")
    assert window.files.export(tmp_path / "live.png")
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        choose_method(window, "occlusion")
    assert window.files.export(tmp_path / "occlusion.png")
    assert legends == ["Live: Occlusion", "Occlusion"]
    assert (tmp_path / "live.png").stat().st_size > 0
