"""The task panels as a newcomer meets them (issue #16): what they say while the model loads, the
class pickers they share, and that each fits a 1280x800 window without scrolling."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QCompleter
from qt_helpers import MODEL_WAIT_MS, panel_of

from sketchstudio.studio.panels import DRAW_HINT, LOADING, NO_MODEL, ClassifyPanel


def _tool_panels(window):
    from sketchstudio.studio.tool_panel import ToolPanel

    return [p for p in window.panels if isinstance(p, ToolPanel)]


def test_the_panels_say_loading_while_the_first_model_loads(make_window, tiny_card, qtbot):
    window = make_window(None)
    classify = panel_of(window, ClassifyPanel)
    assert classify.confidence.text() == NO_MODEL      # nothing asked for yet
    with qtbot.waitSignal(window.modelReady, timeout=MODEL_WAIT_MS):
        window.start(model=str(tiny_card))
        # The load is in the worker: until it ends the panels say so, not "no model loaded".
        assert classify.confidence.text() == LOADING
        assert all(p.status.text() == LOADING for p in _tool_panels(window))
    assert classify.confidence.text() == DRAW_HINT
    assert all(p.status.text() == "" for p in _tool_panels(window))
    # What kind of model it is, said once: "Name · 2 classes · cpu", not "Name (..) (2 classes)".
    info = window.state.model
    assert window.statusBar().currentMessage() == f"Loaded {info.name} · 2 classes · cpu"


def test_a_failed_first_load_says_no_model_again(make_window, tmp_path, qtbot):
    window = make_window(None)
    classify = panel_of(window, ClassifyPanel)
    missing = tmp_path / "no-such-model" / "card.toml"
    with qtbot.waitSignal(window.modelError, timeout=MODEL_WAIT_MS):
        window.start(model=str(missing))
        assert classify.confidence.text() == LOADING
    assert window.state.model is None
    assert classify.confidence.text() == NO_MODEL
    assert all("Works with classifiers" in p.status.text() for p in _tool_panels(window))


def test_a_switch_keeps_the_old_models_words_until_the_new_one_is_in(make_window, tiny_card,
                                                                      wide_card, qtbot):
    window = make_window(tiny_card)
    classify = panel_of(window, ClassifyPanel)
    before = classify.confidence.text()
    with qtbot.waitSignal(window.modelReady, timeout=MODEL_WAIT_MS):
        window.models.load(str(wide_card))
        assert classify.confidence.text() == before
    assert classify.confidence.text() != LOADING


def test_every_class_picker_searches_by_any_part_of_a_name(make_window, wide_card):
    from PySide6.QtCore import Qt

    window = make_window(wide_card)
    combos = [panel_of(window, ClassifyPanel).target_combo]
    combos += [p.class_combo for p in _tool_panels(window)]
    assert len(combos) == 3
    for combo in combos:
        completer = combo.completer()
        assert combo.isEditable() and completer is not None
        assert completer.filterMode() == Qt.MatchFlag.MatchContains
        assert completer.completionMode() == QCompleter.CompletionMode.PopupCompletion
        assert combo.itemText(0) and combo.count() == 1 + len(window.state.model.labels)


def test_each_panel_fits_1280_by_800_without_scrolling(make_window, wide_card):
    """The panels' least height fits the dock of a 1280x800 window: nothing below the fold
    (the Retrieve list once asked for three rows of thumbnails and pushed Refine out)."""
    window = make_window(wide_card)
    window.resize(1280, 800)
    QApplication.processEvents()
    for index, panel in enumerate(window.panels):
        window.panel_tabs.setCurrentIndex(index)
        QApplication.processEvents()
        viewport = window.panel_tabs.widget(index).viewport()
        assert panel.minimumSizeHint().height() <= viewport.height(), (
            panel.title, panel.minimumSizeHint().height(), viewport.height())


def test_the_users_budget_survives_a_run_and_a_reload(make_window, tiny_card, qtbot):
    # The engine's defaults fill the tools' boxes once; what the user set afterwards stays, also
    # after a run ended (here: cancelled) and the model was loaded again.
    from sketchstudio.studio.attack_panel import AttackPanel

    window = make_window(tiny_card)
    attack = panel_of(window, AttackPanel)
    attack.budget_spin.setValue(7.5)
    attack._cancelled()
    with qtbot.waitSignal(window.modelReady, timeout=MODEL_WAIT_MS):
        window.models.load(str(tiny_card))
    assert attack.budget_spin.value() == 7.5
