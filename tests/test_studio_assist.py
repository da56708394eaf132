"""The Assist panel: hints previewed over the drawing, accepted all at once or stroke by stroke."""
from __future__ import annotations

import numpy as np
from qt_helpers import (
    EXPLAIN_WAIT_MS,
    assert_fits_1280_by_800,
    house,
    panel_of,
    window_with_house,
)

from sketchstudio.models import load_model
from sketchstudio.tasks.assist import assist


def assist_panel(window):
    from sketchstudio.studio.assist_panel import AssistPanel

    return panel_of(window, AssistPanel)


def run_assist(window, qtbot, panel, target="cat"):
    panel.class_combo.setCurrentIndex(panel.class_combo.findData(target))
    with qtbot.waitSignal(window.worker.taskDone, timeout=EXPLAIN_WAIT_MS):
        panel.run_button.click()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=EXPLAIN_WAIT_MS)


def test_hints_match_the_engine_and_preview_without_editing(make_window, wide_card, qtbot):
    window = window_with_house(make_window, wide_card)
    before = window.document.sketch
    panel = assist_panel(window)
    run_assist(window, qtbot, panel)
    reference = assist(house(), load_model(str(wide_card), device="cpu"), target="cat")
    result = panel.result
    assert result.target == "cat" and result.before == reference.before
    np.testing.assert_allclose(result.displacement, reference.displacement, atol=1e-9)
    assert window.document.sketch is before
    layer = window.canvas.overlay("assist")
    moves = [h for h in result.hints if h.kind == "move"]
    assert layer.has("ghost") == bool(moves) and layer.has("image")
    assert layer.has("halos") == any(h.kind == "against" for h in result.hints)
    assert panel.hint_list.count() == max(len(result.hints), 1)
    assert "cat" in panel.summary.text()
    panel.show_ink.setChecked(False)
    assert not layer.has("image")


def test_accept_all_then_undo(make_window, wide_card, qtbot):
    window = window_with_house(make_window, wide_card)
    before = window.document.sketch
    panel = assist_panel(window)
    run_assist(window, qtbot, panel)
    moves = [h.stroke for h in panel.result.hints if h.kind == "move"]
    assert moves
    expected = panel.result.apply(moves)
    assert panel.accept()
    after = window.document.sketch
    assert ([s.points.tolist() for s in after.strokes]
            == [s.points.tolist() for s in expected.strokes])
    assert window.document.undo_stack.undoText() == "Accept hints"
    window.document.undo_stack.undo()
    assert window.document.sketch is before


def test_accept_one_stroke_moves_only_that_stroke(make_window, wide_card, qtbot):
    window = window_with_house(make_window, wide_card)
    before = window.document.sketch
    panel = assist_panel(window)
    run_assist(window, qtbot, panel)
    rows = [i for i in range(panel.hint_list.count())
            if (panel.hint_list.item(i).data(0x0100) or (None, None))[1] == "move"]
    assert rows, "the five-class test model gets a move hint for every stroke of the house"
    panel.hint_list.item(rows[0]).setSelected(True)
    stroke = panel.hint_list.item(rows[0]).data(0x0100)[0]
    assert panel.accept_one.isEnabled()
    assert panel.accept_selected()
    after = window.document.sketch
    changed = [k for k in range(len(before))
               if not np.array_equal(before.strokes[k].points, after.strokes[k].points)]
    assert changed == [stroke]
    assert window.document.undo_stack.undoText() == f"Accept hint for stroke {stroke + 1}"


def test_assist_draws_in_the_tools_palette_and_fits_1280_by_800(make_window, wide_card, qtbot):
    from sketchstudio.studio import overlay

    window = window_with_house(make_window, wide_card)
    window.resize(1280, 800)
    panel = assist_panel(window)
    window.panel_tabs.setCurrentIndex(window.panels.index(panel))
    assert not panel.accept_button.isEnabled() and not panel.discard_button.isEnabled()
    run_assist(window, qtbot, panel)
    layer = window.canvas.overlay("assist")
    if layer.has("ghost"):
        assert layer.item("ghost").pen().color() == overlay.HINT_GHOST
        assert layer.item("arrows").pen().color() == overlay.HINT
    if layer.has("halos"):
        assert layer.item("halos").pen().color() == overlay.RECONSIDER
    assert_fits_1280_by_800(qtbot, window, panel,
                            (panel.accept_button, panel.accept_one, panel.discard_button))
    window.files.new_document()
    assert panel.result is None and layer.empty and panel.hint_list.count() == 0


def test_the_tools_palette_is_not_the_heat_scale():
    """No tool colour is near the heat scale's red ("helps") or blue ("hurts") hues."""
    from sketchstudio.explain.colormap import heat_rgb
    from sketchstudio.studio import overlay

    def hue(rgb):
        from PySide6.QtGui import QColor

        return QColor(*[int(v) for v in rgb]).hsvHue()

    heat = heat_rgb(np.array([-1.0, -0.6, 0.6, 1.0]), 1.0)
    heat_hues = [hue(c) for c in heat]
    for colour in (overlay.ATTACK, overlay.ATTACK_ARROWS, overlay.HINT, overlay.HINT_GHOST,
                   overlay.RECONSIDER):
        h = colour.hsvHue()
        assert all(min(abs(h - k), 360 - abs(h - k)) >= 30 for k in heat_hues), (colour.name(), h)
    assert overlay.SELECTION.hsvSaturation() < 40    # the selection halo is a neutral grey


def test_only_the_panel_in_front_previews_and_its_words_are_plain(make_window, wide_card, qtbot):
    """Assist's hints go from the canvas with its tab (they read as one picture with Attack's
    arrows) and come back with it; probabilities never round to a 100% the model did not say."""
    window = window_with_house(make_window, wide_card)
    panel = assist_panel(window)
    window.panel_tabs.setCurrentIndex(window.panels.index(panel))
    run_assist(window, qtbot, panel)
    layer = window.canvas.overlay("assist")
    assert not layer.empty
    window.panel_tabs.setCurrentIndex(window.panels.index(panel) + 1)
    assert layer.empty and panel.result is not None
    window.panel_tabs.setCurrentIndex(window.panels.index(panel))
    assert not layer.empty
    text = panel.summary.text()
    assert "100%" not in text or panel.result.after == 1.0
    assert "Without them" not in text and "reads it as" in text
    items = [panel.hint_list.item(i).text() for i in range(panel.hint_list.count())]
    assert all(t.startswith("Stroke ") and not t.startswith("Stroke 0") for t in items
               if panel.result.hints)
    # The three layer switches share one row under the list.
    rows = {box.mapTo(panel, box.rect().topLeft()).y()
            for box in (panel.show_moves, panel.show_against, panel.show_ink)}
    assert len(rows) == 1
