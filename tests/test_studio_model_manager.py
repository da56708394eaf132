"""The model manager's snags (issue #16): removal asks and the details follow, errors name the
user's file, old errors clear, the path field is plainly read-only, a built-in model says why it
cannot be removed, every class is listed; and the old QSettings trust list is migrated."""
from __future__ import annotations

from pathlib import Path

import model_zoo
import pytest
from qt_helpers import EXPLAIN_WAIT_MS, house

from sketchstudio.models import ModelStore
from sketchstudio.models.trust import TrustList
from sketchstudio.studio.add_model import AddModelDialog, user_words
from sketchstudio.studio.model_manager import BUILTIN_CANNOT_REMOVE, ModelManagerDialog

CLASSES_40 = tuple(f"class{i:02d}" for i in range(40))


@pytest.fixture
def two_models(tiny_card, wide_card):
    store = ModelStore()
    store.add(tiny_card, check=False)
    store.add(wide_card, check=False)
    return store


def _manager(qtbot, store, select=None):
    dialog = ModelManagerDialog(store, house(), None, "auto")
    qtbot.addWidget(dialog)
    if select is not None:
        dialog.refresh(select=select)
    return dialog


def _wait_task(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog._task is None, timeout=EXPLAIN_WAIT_MS)


# --- removal ---------------------------------------------------------------------------------
def test_remove_asks_first_and_the_details_never_show_the_removed_model(qtbot, two_models,
                                                                        monkeypatch):
    dialog = _manager(qtbot, two_models, select="tiny-test-classifier")
    asked, answers = [], iter([False, True, True])
    monkeypatch.setattr(dialog, "ask_remove",
                        lambda model_id, name: (asked.append((model_id, name)), next(answers))[1])
    assert "Tiny test classifier" in dialog.details.text()
    dialog.remove_button.click()                        # "Cancel": nothing happens
    assert asked == [("tiny-test-classifier", "Tiny test classifier")]
    assert "tiny-test-classifier" in two_models.ids()
    assert "Tiny test classifier" in dialog.details.text()
    with qtbot.waitSignal(dialog.storeChanged):
        dialog.remove_button.click()                    # "Yes"
    assert two_models.ids() == ["five-classes"]
    assert dialog.selected_id() == "five-classes"       # the model that took its place
    assert "Tiny test classifier" not in dialog.details.text()
    assert "Five classes" in dialog.details.text()
    assert dialog.details.class_names() == ["apple", "book", "cat", "dog", "eye"]
    assert "removed 'tiny-test-classifier'" in dialog.output.toPlainText()
    dialog.remove_button.click()                        # the last one: the pane says so
    assert two_models.ids() == []
    assert "Five classes" not in dialog.details.text() and "store is empty" in dialog.details.text()
    assert dialog.details.class_names() == [] and not dialog.remove_button.isEnabled()


def test_a_builtin_model_cannot_be_removed_and_says_why(qtbot, tmp_path, monkeypatch, tiny_card):
    builtins = tmp_path / "builtins"
    model_zoo.make_model(builtins / "shipped", name="Shipped model")
    monkeypatch.setenv("SKETCHSTUDIO_BUILTIN_MODELS", str(builtins))
    store = ModelStore()
    store.add(tiny_card, check=False)
    dialog = _manager(qtbot, store, select="shipped")
    monkeypatch.setattr(dialog, "ask_remove", lambda *a: pytest.fail("asked about a built-in"))
    assert not dialog.remove_button.isEnabled()
    assert dialog.remove_button.toolTip() == BUILTIN_CANNOT_REMOVE
    assert "can't be removed" in dialog.details.text()
    dialog._remove()                                    # even if called: nothing happens
    assert "shipped" in store.ids()
    dialog.refresh(select="tiny-test-classifier")
    assert dialog.remove_button.isEnabled() and "asks first" in dialog.remove_button.toolTip()


# --- the class list -----------------------------------------------------------------------------
def test_every_class_is_listed_in_order(qtbot, tmp_path):
    card = model_zoo.make_model(tmp_path / "forty", name="Forty", labels=CLASSES_40)
    store = ModelStore()
    model_id = store.add(card, check=False)
    dialog = _manager(qtbot, store, select=model_id)
    dialog.resize(920, 560)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.details.class_names() == list(CLASSES_40)
    assert "…" not in dialog.details.text() and "class39" in dialog.details.text()
    assert dialog.details.classes.isVisible()
    # the last class can be scrolled to (a list, not an elided line)
    dialog.details.classes.scrollToBottom()
    last = dialog.details.classes.item(39)
    assert dialog.details.classes.visualItemRect(last).intersects(
        dialog.details.classes.viewport().rect())


# --- errors -------------------------------------------------------------------------------------
def test_errors_name_the_users_file_not_the_temporary_copy(qtbot, tmp_path):
    bad = tmp_path / "my downloads" / "broken.pt"
    bad.parent.mkdir()
    bad.write_bytes(b"not a model at all" * 8)
    dialog = AddModelDialog(ModelStore(), house(), "cpu")
    qtbot.addWidget(dialog)
    dialog.set_file(bad)
    dialog.form.labels.setPlainText("apple, book")
    assert dialog.validate()
    dialog.run_checks()
    _wait_task(qtbot, dialog)
    checks = dialog.check_output.toPlainText()
    assert f"{bad}: not a TorchScript" in checks and "sketchstudio-add-" not in checks
    dialog.add_button.click()                           # refused by the store's own checks
    _wait_task(qtbot, dialog)
    refused = dialog.check_output.toPlainText()
    assert "not added" in refused and str(bad) in refused and "sketchstudio-add-" not in refused
    assert dialog.added_id is None


def test_a_failing_forward_pass_names_the_users_file(qtbot, tmp_path):
    card = model_zoo.make_model(tmp_path / "raises", behaviour="raises")
    dialog = AddModelDialog(ModelStore(), house(), "cpu")
    qtbot.addWidget(dialog)
    dialog.set_file(card)
    dialog.run_checks()
    _wait_task(qtbot, dialog)
    checks = dialog.check_output.toPlainText()
    assert "model 'model.pt' failed: this model always fails" in checks
    assert "sketchstudio-add-" not in checks


def test_user_words_replaces_every_form_of_the_staging_path(tmp_path):
    staging = tmp_path / "tmp" / "sketchstudio-add-x" / "broken"
    user = tmp_path / "home" / "broken.pt"
    text = (f"{staging / 'card.toml'}: not added: check 'loads' failed: {staging / 'broken.pt'}: "
            f"bad; model 'broken' failed; see {staging}")
    said = user_words(text, staging, user, None)
    assert said == (f"not added: check 'loads' failed: {user}: bad; model 'broken.pt' failed; "
                    f"see {user.parent}")


def test_a_missing_file_is_named_and_its_error_clears_for_the_next_file(qtbot, tmp_path):
    good = model_zoo.make_model(tmp_path / "good", name="Good model")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.pt").write_bytes(b"junk" * 10)
    dialog = AddModelDialog(ModelStore(), house(), "cpu")
    qtbot.addWidget(dialog)
    missing = tmp_path / "gone.pt"
    dialog.set_file(missing)
    assert str(missing) in dialog.problem.text() and not dialog.add_button.isEnabled()
    assert dialog.file_edit.text() == str(missing)      # the field shows what the message is about
    dialog.set_file(bad / "broken.pt")                  # a file that stages, then fails its checks
    dialog.form.labels.setPlainText("apple, book")
    assert dialog.validate() and dialog.problem.text() == ""
    dialog.run_checks()
    _wait_task(qtbot, dialog)
    assert "FAIL" in dialog.check_output.toPlainText()
    dialog.set_file(good)                               # another file: the old failure goes
    assert dialog.check_output.toPlainText() == ""
    assert dialog.problem.text() == "" and dialog.add_button.isEnabled()
    assert dialog.file_edit.text() == str(good)


def test_old_results_clear_when_another_model_is_selected(qtbot, two_models):
    dialog = _manager(qtbot, two_models, select="five-classes")
    dialog.check_button.click()
    _wait_task(qtbot, dialog)
    assert "checks of 'five-classes'" in dialog.output.toPlainText()
    dialog.refresh(select="five-classes")               # the same model: results stay
    assert "checks of 'five-classes'" in dialog.output.toPlainText()
    dialog.table.selectRow(1 if dialog.table.item(0, 0).text() == "five-classes" else 0)
    assert dialog.selected_id() == "tiny-test-classifier"
    assert dialog.output.toPlainText() == ""


# --- the path field -----------------------------------------------------------------------------
def test_the_path_field_is_plainly_read_only(qtbot):
    dialog = AddModelDialog(ModelStore(), house(), "cpu")
    qtbot.addWidget(dialog)
    field = dialog.file_edit
    assert field.isReadOnly() and "read-only" in field.toolTip()
    assert "Choose file" in field.toolTip() and "palette(window)" in field.styleSheet()
    assert "no file chosen" in field.placeholderText()


# --- the trusted list of an older studio --------------------------------------------------------
def test_the_qsettings_trust_list_is_moved_once(isolated_studio):
    from PySide6.QtCore import QSettings

    from sketchstudio.studio.model_trust import LEGACY_TRUSTED_KEY, migrate_qsettings_trust
    from sketchstudio.studio.settings import APPLICATION, ORGANISATION

    settings = QSettings(ORGANISATION, APPLICATION)
    settings.setValue(LEGACY_TRUSTED_KEY, ["a" * 64, "junk", "b" * 64])
    settings.sync()
    trusted = TrustList()
    assert trusted.path.parent == Path(isolated_studio) / "data"
    assert migrate_qsettings_trust(trusted) == 2
    assert trusted.digests() == ["a" * 64, "b" * 64]
    assert QSettings(ORGANISATION, APPLICATION).value(LEGACY_TRUSTED_KEY) is None
    assert migrate_qsettings_trust(trusted) == 0       # nothing left to move


class _DictSettings:
    """The part of QSettings the migration uses."""

    def __init__(self) -> None:
        self.values: dict = {}

    def value(self, key, default=None):
        return self.values.get(key, default)

    def setValue(self, key, value) -> None:  # noqa: N802 (QSettings' name)
        self.values[key] = value

    def remove(self, key) -> None:
        self.values.pop(key, None)


def test_a_failed_migration_keeps_the_old_list(isolated_studio, tmp_path):
    from sketchstudio.studio.model_trust import LEGACY_TRUSTED_KEY, migrate_qsettings_trust

    settings = _DictSettings()
    settings.setValue(LEGACY_TRUSTED_KEY, "c" * 64)     # one value comes back as a string
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    unwritable = TrustList(blocked / "trusted_models.json")   # its folder is a file
    assert migrate_qsettings_trust(unwritable, settings) == 0
    assert settings.value(LEGACY_TRUSTED_KEY) == "c" * 64
    good = TrustList(tmp_path / "t.json")
    assert migrate_qsettings_trust(good, settings) == 1 and good.digests() == ["c" * 64]
    assert settings.value(LEGACY_TRUSTED_KEY) is None
