"""The Attack panel: runs in the worker with a live plot, previews, accepts undoably, cancels."""
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
from sketchstudio.tasks.attack import attack


def attack_panel(window):
    from sketchstudio.studio.attack_panel import AttackPanel

    return panel_of(window, AttackPanel)


def run_attack(window, qtbot, panel, budget_percent=30.0, steps=12):
    # The five-class test model's logits are nearly flat: a robust flip is rare, so the search
    # runs all its steps; few steps keep every run short.
    panel.budget_spin.setValue(budget_percent)
    panel.steps_spin.setValue(steps)
    with qtbot.waitSignal(window.worker.taskDone, timeout=EXPLAIN_WAIT_MS):
        panel.run_button.click()
    qtbot.waitUntil(lambda: panel.result is not None or "changed" in panel.status.text(),
                    timeout=EXPLAIN_WAIT_MS)


def test_attack_previews_then_accept_is_one_undoable_edit(make_window, wide_card, qtbot):
    window = window_with_house(make_window, wide_card)
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
    window = window_with_house(make_window, wide_card)
    panel = attack_panel(window)
    run_attack(window, qtbot, panel, budget_percent=10.0)
    reference = attack(house(), load_model(str(wide_card), device="cpu"), budget=0.10,
                       steps=panel.steps_spin.value())
    assert panel.result.success == reference.success
    np.testing.assert_allclose(panel.result.displacement, reference.displacement, atol=1e-9)


def test_an_edit_while_previewing_drops_the_stale_preview(make_window, wide_card, qtbot):
    window = window_with_house(make_window, wide_card)
    panel = attack_panel(window)
    run_attack(window, qtbot, panel)
    window.document.apply(window.document.sketch.remove_strokes([3]), "Delete")
    assert panel.result is None and window.canvas.overlay("attack").empty
    assert not panel.accept()
    assert "changed" in panel.status.text()


def test_cancelling_leaves_the_document_untouched(make_window, wide_card, qtbot):
    window = window_with_house(make_window, wide_card)
    before = window.document.sketch
    panel = attack_panel(window)
    panel.steps_spin.setValue(1000)
    panel.budget_spin.setValue(0.1)       # too small to flip: it would run all 1000 steps
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(panel.plot.rows) >= 2, timeout=EXPLAIN_WAIT_MS)
    with qtbot.waitSignal(window.worker.taskCancelled, timeout=EXPLAIN_WAIT_MS):
        window.cancel_work()
    assert window.document.sketch is before and panel.result is None
    assert "Cancelled" in panel.status.text() and not window.tasks.running


def test_an_empty_drawing_or_no_classifier_says_so(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    panel = attack_panel(window)
    panel.run_button.click()
    assert "Draw something" in panel.status.text() and not window.tasks.running


def test_the_plot_has_axis_labels_whole_iterations_and_a_legend_beside_the_lines(make_window,
                                                                                wide_card, qtbot):
    window = window_with_house(make_window, wide_card)
    panel = attack_panel(window)
    run_attack(window, qtbot, panel)
    item = panel.plot.getPlotItem()
    assert item.getAxis("left").labelText == "probability"
    assert item.getAxis("bottom").labelText == "iteration"
    major, minor = item.getAxis("bottom")._tickSpacing[0], item.getAxis("bottom")._tickSpacing[1]
    assert major[0] == int(major[0]) >= 1 and minor[0] == int(minor[0]) >= 1
    # The legend is a label under the plot, not an item drawn over the lines.
    assert item.legend is None
    shown = panel.plot.legend_entries()
    assert shown and all(name in panel.plot.legend_label.text() for name, _ in shown)


def test_whole_step_gives_integer_ticks():
    from sketchstudio.studio.attack_panel import whole_step

    assert [whole_step(n) for n in (1, 2, 7, 13, 61, 122, 1001)] == [1, 1, 1, 2, 10, 50, 200]


def test_the_plot_is_cleared_on_discard_and_on_new(make_window, wide_card, qtbot):
    window = window_with_house(make_window, wide_card)
    panel = attack_panel(window)
    run_attack(window, qtbot, panel)
    assert panel.plot.rows
    panel.discard_button.click()
    assert not panel.plot.rows and panel.plot.legend_label.text() == ""
    assert not panel.accept_button.isEnabled() and not panel.discard_button.isEnabled()
    run_attack(window, qtbot, panel)
    assert panel.plot.rows
    window.files.new_document()
    assert not panel.plot.rows and panel.result is None
    assert window.canvas.overlay("attack").empty


def test_nothing_to_accept_means_accept_is_disabled(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    panel = attack_panel(window)
    assert not panel.accept_button.isEnabled() and not panel.discard_button.isEnabled()
    window.document.apply(house(), "Import")
    run_attack(window, qtbot, panel, budget_percent=0.1, steps=2)   # far too small to flip
    assert panel.result is not None and not panel.result.success
    assert not panel.accept_button.isEnabled() and panel.discard_button.isEnabled()
    assert "Not flipped" in panel.verdict.text()


def test_the_attack_draws_in_the_tools_palette_not_the_heat_scale(make_window, wide_card, qtbot):
    from sketchstudio.studio import overlay

    window = window_with_house(make_window, wide_card)
    panel = attack_panel(window)
    run_attack(window, qtbot, panel)
    layer = window.canvas.overlay("attack")
    assert layer.has("ghost") and layer.item("ghost").pen().color() == overlay.ATTACK
    assert layer.item("arrows").pen().color() == overlay.ATTACK_ARROWS


def test_the_panel_fits_a_1280_by_800_window(make_window, wide_card, qtbot):
    """Accept and Discard are on screen without scrolling (the plot may scroll below them)."""
    window = make_window(wide_card)
    window.resize(1280, 800)
    panel = attack_panel(window)
    window.panel_tabs.setCurrentIndex(window.panels.index(panel))
    assert_fits_1280_by_800(qtbot, window, panel,
                            (panel.accept_button, panel.discard_button, panel.run_button))


def test_the_verdict_counts_renderings_and_the_limits_say_their_units(make_window, wide_card,
                                                                      qtbot):
    import re

    window = window_with_house(make_window, wide_card)
    panel = attack_panel(window)
    assert panel.strokes_spin.text() == "all strokes"
    steps = panel.steps_spin.text()
    assert steps.startswith("at most ") and steps.endswith(" iterations")
    run_attack(window, qtbot, panel)
    result = panel.result
    assert result is not None
    verdict = panel.verdict.text()
    if result.success:
        match = re.search(r"in (\d+) of (\d+) slightly varied", verdict)
        assert match and int(match.group(2)) == result.robust_renders
        assert int(match.group(1)) == round(result.robust_success * result.robust_renders)
    assert "card's rendering" not in panel.plot.getPlotItem().titleLabel.text
