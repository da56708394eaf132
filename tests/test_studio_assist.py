"""The Assist panel: hints previewed over the drawing, accepted all at once or one stroke at a time."""
from __future__ import annotations

import numpy as np

from qt_helpers import (EXPLAIN_WAIT_MS, house, isolated_studio, make_window,  # noqa: F401
                        panel_of, wide_card)
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
    window = make_window(wide_card)
    window.document.apply(house(), "Import")
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
    window = make_window(wide_card)
    window.document.apply(house(), "Import")
    before = window.document.sketch
    panel = assist_panel(window)
    run_assist(window, qtbot, panel)
    moves = [h.stroke for h in panel.result.hints if h.kind == "move"]
    assert moves
    expected = panel.result.apply(moves)
    assert panel.accept()
    after = window.document.sketch
    assert [s.points.tolist() for s in after.strokes] == [s.points.tolist() for s in expected.strokes]
    assert window.document.undo_stack.undoText() == "Accept hints"
    window.document.undo_stack.undo()
    assert window.document.sketch is before


def test_accept_one_stroke_moves_only_that_stroke(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    window.document.apply(house(), "Import")
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
    assert window.document.undo_stack.undoText() == f"Accept hint for stroke {stroke}"
