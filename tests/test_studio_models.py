"""The model manager dialog: listing, adding (card form, validation, preview, checks), removing,
the default model; and switching the window's model and device."""
from __future__ import annotations

import model_zoo
import pytest
from PySide6.QtWidgets import QDialog
from qt_helpers import EXPLAIN_WAIT_MS, house

from sketchstudio.models import ModelStore
from sketchstudio.studio.model_manager import AddModelDialog, ModelManagerDialog


@pytest.fixture
def store(tiny_card):
    store = ModelStore()
    store.add(tiny_card, check=False)
    return store


def test_manager_lists_the_store(qtbot, store):
    dialog = ModelManagerDialog(store, house(), None, "auto")
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1
    row = [dialog.table.item(0, c).text() for c in range(dialog.table.columnCount())]
    assert row[0] == "tiny-test-classifier" and row[2] == "classify" and row[3] == "2"
    assert "28×28×1" in row[4] and "default" in row[5]
    dialog.table.selectRow(0)
    assert "apple, book" in dialog.details.text()
    assert dialog.remove_button.isEnabled()


def test_manager_checks_sets_default_and_removes(qtbot, store, wide_card, monkeypatch):
    second = store.add(wide_card, check=False)
    dialog = ModelManagerDialog(store, house(), None, "auto")
    qtbot.addWidget(dialog)
    monkeypatch.setattr(dialog, "ask_remove", lambda model_id, name: True)
    dialog.refresh(select=second)
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog._task is None, timeout=EXPLAIN_WAIT_MS)
    assert "ok    gradient" in dialog.output.toPlainText()
    dialog.default_button.click()
    assert store.default_id() == second
    chosen = []
    dialog.modelChosen.connect(chosen.append)
    dialog.use_button.click()
    assert chosen == [second]
    dialog.remove_button.click()
    assert store.ids() == ["tiny-test-classifier"]


def test_add_model_form_validates_and_previews(qtbot, tiny_card, tmp_path):
    store = ModelStore()
    dialog = AddModelDialog(store, house(), "cpu")
    qtbot.addWidget(dialog)
    assert not dialog.add_button.isEnabled() and "Choose the model file" in dialog.problem.text()
    dialog.set_file(tiny_card.parent / "model.pt")
    dialog.form.name.setText("My apples")
    dialog.form.labels.setPlainText("apple\napple")
    dialog.validate()
    assert "appears twice" in dialog.problem.text() and not dialog.add_button.isEnabled()
    dialog.form.labels.setPlainText("apple, book")
    dialog.form.size_box.setValue(32)
    dialog.validate()
    assert dialog.problem.text() == "" and dialog.add_button.isEnabled()
    assert dialog.preview.pixmap().width() == 168
    dialog.form.std.setText("0")
    dialog.validate()
    assert "std" in dialog.problem.text() and not dialog.add_button.isEnabled()
    dialog.form.std.setText("1")
    dialog.form.size_box.setValue(28)
    assert dialog.validate()
    dialog.run_checks()
    qtbot.waitUntil(lambda: "depends on input" in dialog.check_output.toPlainText(),
                    timeout=EXPLAIN_WAIT_MS)
    qtbot.waitUntil(lambda: dialog._task is None, timeout=EXPLAIN_WAIT_MS)
    with qtbot.waitSignal(dialog.finished, timeout=EXPLAIN_WAIT_MS):
        dialog.add_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.added_id == "my-apples" and store.entry("my-apples").card().labels == ("apple",
                                                                                         "book")


def test_add_model_from_a_card_fills_the_form_and_refuses_a_bad_model(qtbot, tmp_path):
    card = model_zoo.make_model(tmp_path / "argmax", behaviour="argmax", name="Argmax model")
    dialog = AddModelDialog(ModelStore(), house(), "cpu")
    qtbot.addWidget(dialog)
    dialog.set_file(card)
    assert dialog.form.name.text() == "Argmax model"
    assert dialog.form.label_list() == ["apple", "book"]
    assert dialog.validate()
    dialog.add_button.click()
    qtbot.waitUntil(lambda: dialog._task is None, timeout=EXPLAIN_WAIT_MS)
    assert "gradient" in dialog.check_output.toPlainText()
    assert dialog.added_id is None and ModelStore().ids() == []


def test_window_switches_model_from_the_combo_and_device(make_window, store, wide_card, qtbot):
    store.add(wide_card, check=False)
    window = make_window("tiny-test-classifier")
    combo = window.model_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["five-classes",
                                                                  "tiny-test-classifier"]
    assert combo.currentData() == "tiny-test-classifier"
    with qtbot.waitSignal(window.modelReady, timeout=EXPLAIN_WAIT_MS):
        combo.setCurrentIndex(0)
        combo.activated.emit(0)
    assert window.state.model.id == "five-classes"
    assert window.panels[0].target_combo.count() == 6       # "Predicted class" + 5 labels
    with qtbot.waitSignal(window.modelReady, timeout=EXPLAIN_WAIT_MS):
        window.models.set_device("cpu")
    assert window.device_label.text() == "Device: cpu"


def test_startup_prefers_the_store_default_classifier(make_window, store, wide_card, qtbot):
    second = store.add(wide_card, check=False)
    store.set_default(second)
    window = make_window()
    assert window.models.startup_model() == second
