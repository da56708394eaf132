"""The Attack panel: runs in the worker with a live plot, previews, accepts undoably, cancels cleanly."""
from __future__ import annotations

import numpy as np
import pytest

from qt_helpers import (EXPLAIN_WAIT_MS, house, isolated_studio, make_window,  # noqa: F401
                        panel_of, tiny_card, wide_card)
from sketchstudio.models import load_model
from sketchstudio.tasks.attack import attack


def attack_panel(window):
    from sketchstudio.studio.attack_panel import AttackPanel

    return panel_of(window, AttackPanel)


def run_attack(window, qtbot, panel, budget_percent=30.0):
    panel.budget_spin.setValue(budget_percent)
    with qtbot.waitSignal(window.worker.taskDone, timeout=EXPLAIN_WAIT_MS):
        panel.run_button.click()
    qtbot.waitUntil(lambda: panel.result is not None or "changed" in panel.status.text(),
                    timeout=EXPLAIN_WAIT_MS)


def test_attack_previews_then_accept_is_one_undoable_edit(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    window.document.apply(house(), "Import")
    before = window.document.sketch
    panel = attack_panel(window)
    run_attack(window, qtbot, panel)
    result = panel.result
    assert result is not None and panel.result_sketch is before
    # The live plot saw one row per iteration the engine reported.
    assert len(panel.plot.rows) >= 1 and len(panel.plot.rows[0]) == 5
    # Preview only: the document did not change, the overlay shows the moved strokes.
    assert window.document.sketch is before
    layer = window.canvas.overlay("attack")
    assert layer.has("ghost") == bool(result.strokes_changed)
    assert ("Flipped" in panel.verdict.text()) == result.success
    # Bound: no point moved more than the budget (engine units: fraction of the longer bbox side).
    assert result.max_displacement <= 0.30 + 1e-9
    assert panel.accept()
    assert window.document.sketch is result.edited
    assert layer.empty and panel.result is None
    assert window.document.undo_stack.undoText() == "Adversarial edit"
    window.document.undo_stack.undo()
    assert window.document.sketch is before
    window.document.undo_stack.redo()
    assert window.document.sketch is result.edited


def test_the_panel_shows_what_the_engine_finds(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    window.document.apply(house(), "Import")
    panel = attack_panel(window)
    run_attack(window, qtbot, panel, budget_percent=10.0)
    reference = attack(house(), load_model(str(wide_card), device="cpu"), budget=0.10)
    assert panel.result.success == reference.success
    np.testing.assert_allclose(panel.result.displacement, reference.displacement, atol=1e-9)


def test_an_edit_while_previewing_drops_the_stale_preview(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    window.document.apply(house(), "Import")
    panel = attack_panel(window)
    run_attack(window, qtbot, panel)
    window.document.apply(window.document.sketch.remove_strokes([3]), "Delete")
    assert panel.result is None and window.canvas.overlay("attack").empty
    assert not panel.accept()
    assert "changed" in panel.status.text()


def test_cancelling_leaves_the_document_untouched(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    window.document.apply(house(), "Import")
    before = window.document.sketch
    panel = attack_panel(window)
    panel.steps_spin.setValue(1000)
    panel.budget_spin.setValue(0.1)       # too small to flip: it would run all 1000 steps
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(panel.plot.rows) >= 2, timeout=EXPLAIN_WAIT_MS)
    with qtbot.waitSignal(window.worker.taskCancelled, timeout=EXPLAIN_WAIT_MS):
        window.cancel_work()
    assert window.document.sketch is before and panel.result is None
    assert "Cancelled" in panel.status.text() and not window.task_running


def test_an_empty_drawing_or_no_classifier_says_so(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    panel = attack_panel(window)
    panel.run_button.click()
    assert "Draw something" in panel.status.text() and not window.task_running
