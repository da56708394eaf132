"""Model manager: the store's models, their details, checks, removal (asked first), the default
model and the compute device. Adding one is `add_model.py`; its card form `card_form.py`; the
question before a model from outside the store `model_trust.py`."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..errors import UserError
from ..models import ModelStore, StoreEntry
from ..sketch import Sketch
from .add_model import AddModelDialog
from .background import BackgroundCall
from .card_form import spec_summary
from .model_details import ModelDetails

__all__ = ["AddModelDialog", "ModelManagerDialog"]

EMPTY_STORE = ("The store is empty. Add a model: a TorchScript or torch.export file plus a card "
               "describing its classes and input.")
NOTHING_SELECTED = "Select a model to see its details."
BUILTIN_CANNOT_REMOVE = "Built-in models can't be removed (they ship with SketchStudio)"


class ModelManagerDialog(QDialog):
    modelChosen = Signal(str)     # a store id to load
    deviceChosen = Signal(str)    # "auto", "cpu", "cuda", ...
    storeChanged = Signal()

    COLUMNS = ("Id", "Name", "Task", "Classes", "Input", "Where")

    def __init__(self, store: ModelStore, sketch: Sketch, current_id: str | None, device: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(920, 560)
        self.store = store
        self.sketch = sketch
        self.current_id = current_id
        self._task: BackgroundCall | None = None
        self._output_about: str | None = None   # the model the output pane speaks of
        self.finished.connect(self._cleanup)
        layout = QVBoxLayout(self)

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _i: self._use())
        layout.addWidget(self.table, 2)

        self.details = ModelDetails()
        layout.addWidget(self.details, 1)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumHeight(110)
        self.output.setPlaceholderText("Check results appear here.")
        layout.addWidget(self.output, 1)

        row = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.check_button = QPushButton("Run checks")
        self.remove_button = QPushButton("Remove…")
        self.default_button = QPushButton("Set as default")
        self.use_button = QPushButton("Use in studio")
        self.use_button.setObjectName("primary")
        for b in (self.add_button, self.check_button, self.remove_button, self.default_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(QLabel("Device"))
        self.device_combo = QComboBox()
        from ..models.device import device_choices  # torch: asks what devices there are

        for value, label in device_choices():
            self.device_combo.addItem(label, value)
        index = self.device_combo.findData(device)
        self.device_combo.setCurrentIndex(max(index, 0))
        self.device_combo.activated.connect(
            lambda _i: self.deviceChosen.emit(self.device_combo.currentData()))
        row.addWidget(self.device_combo)
        row.addWidget(self.use_button)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        row.addWidget(close)
        layout.addLayout(row)

        self.add_button.clicked.connect(self._add)
        self.check_button.clicked.connect(self._check)
        self.remove_button.clicked.connect(self._remove)
        self.default_button.clicked.connect(self._set_default)
        self.use_button.clicked.connect(self._use)
        self.refresh()

    # --- table ------------------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        select = select or self.selected_id() or self.current_id
        default = self.store.default_id()
        self.table.blockSignals(True)   # one selection change at the end, not one per row
        self.table.setRowCount(0)
        for entry in self.store.entries():
            row = self.table.rowCount()
            self.table.insertRow(row)
            try:
                card = entry.card()
                cells = (card.name, card.task, str(len(card.labels)) if card.labels else "—",
                         spec_summary(card.spec))
            except UserError as exc:
                cells = ("(broken card)", "—", "—", str(exc))
            marks = (("built-in" if entry.builtin else "yours")
                     + ("  ★ default" if entry.id == default else ""))
            for col, text in enumerate((entry.id, *cells, marks)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, entry.id)
                if entry.id == self.current_id:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
            if entry.id == select:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        self._selection_changed()

    def selected_id(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _selected_entry(self) -> StoreEntry | None:
        model_id = self.selected_id()
        if model_id is None:
            return None
        try:
            return self.store.entry(model_id)
        except UserError:
            return None

    def _selection_changed(self) -> None:
        model_id = self.selected_id()
        if self._task is None and model_id != self._output_about:
            self._say("")       # results and errors about another model do not linger
        self._show_selected()

    def _show_selected(self) -> None:
        entry = self._selected_entry()
        busy = self._task is not None
        for b in (self.check_button, self.default_button, self.use_button):
            b.setEnabled(entry is not None and not busy)
        self.remove_button.setEnabled(entry is not None and not entry.builtin and not busy)
        self.remove_button.setToolTip(self._remove_tip(entry, busy))
        if entry is None:
            self.details.show_message(EMPTY_STORE if self.table.rowCount() == 0
                                      else NOTHING_SELECTED)
        else:
            self.details.show_entry(entry)

    @staticmethod
    def _remove_tip(entry: StoreEntry | None, busy: bool) -> str:
        if entry is None:
            return "Select a model to remove"
        if entry.builtin:
            return BUILTIN_CANNOT_REMOVE
        if busy:
            return "Wait for the checks to finish"
        return f"Remove {entry.id!r} from the store (asks first)"

    def _say(self, text: str, about: str | None = None) -> None:
        self.output.setPlainText(text)
        self._output_about = about if text else None

    # --- actions ----------------------------------------------------------------------------------
    def _device(self) -> str | None:
        value = self.device_combo.currentData()
        return None if value in (None, "auto") else value

    def _add(self) -> None:
        dialog = AddModelDialog(self.store, self.sketch, self._device(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.added_id:
            self.refresh(select=dialog.added_id)
            self._say(f"added {dialog.added_id!r}", about=dialog.added_id)
            self.storeChanged.emit()

    def _check(self) -> None:
        model_id = self.selected_id()
        if model_id is None or self._task is not None:
            return
        self._say(f"checking {model_id}…", about=model_id)
        card_path = self.store.entry(model_id).card_path
        device = self._device()
        from ..models.checks import run_checks  # torch: only when checks run

        task = BackgroundCall(self, lambda: run_checks(card_path, device=device),
                              lambda results: self._checks_done(model_id, results),
                              lambda message: self._say(message, about=model_id),
                              self._task_finished)
        self._task = task
        self._show_selected()
        task.start()

    def _checks_done(self, model_id: str, results: Any) -> None:
        self._say(f"checks of {model_id!r}:\n" + "\n".join(r.line() for r in results),
                  about=model_id)

    def _task_finished(self) -> None:
        self._task = None
        self._show_selected()     # the results stay, even if another model was selected since

    def ask_remove(self, model_id: str, name: str) -> bool:
        """Whether to remove the model (tests replace this)."""
        in_use = ("\n\nThe studio is using it now; it stays loaded until you choose another."
                  if model_id == self.current_id else "")
        answer = QMessageBox.question(
            self, "Remove model",
            f"Remove “{name}” ({model_id}) from the store?\n\nIts files in the store are deleted; "
            f"this cannot be undone.{in_use}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _remove(self) -> None:
        entry = self._selected_entry()
        if entry is None or entry.builtin or self._task is not None:
            return
        try:
            name = entry.card().name
        except UserError:
            name = entry.id
        if not self.ask_remove(entry.id, name):
            return
        ids = self.store.ids()
        try:
            note = self.store.remove(entry.id)
        except (UserError, OSError) as exc:
            self._say(str(exc), about=entry.id)
            return
        # Select the model that took its place (or the one before it), so the details pane shows a
        # model that exists, never the removed one.
        left = [i for i in ids if i != entry.id]
        position = min(ids.index(entry.id), len(left) - 1)
        self.refresh(select=left[position] if left else None)
        self._say(f"removed {entry.id!r}" + (f"\n{note}" if note else ""),
                  about=self.selected_id())
        self.storeChanged.emit()

    def _set_default(self) -> None:
        model_id = self.selected_id()
        if model_id is None:
            return
        try:
            self.store.set_default(model_id)
        except (UserError, OSError) as exc:
            self._say(str(exc), about=model_id)
            return
        self.refresh(select=model_id)
        self._say(f"{model_id!r} is now the default model", about=model_id)
        self.storeChanged.emit()

    def _use(self) -> None:
        model_id = self.selected_id()
        if model_id is not None:
            self.current_id = model_id
            self.modelChosen.emit(model_id)
            self.refresh(select=model_id)

    def _cleanup(self, _result: int = 0) -> None:
        if self._task is not None:
            self._task.finish()
