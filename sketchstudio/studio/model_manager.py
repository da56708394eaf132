"""Model manager: the store's models, adding one (file + card form with a live preview of what the
model would see), checks, removal, the default model and the compute device."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..errors import UserError
from ..models import (
    CARD_FILENAME,
    TASKS,
    ModelStore,
    ModelTask,
    device_choices,
    load_card,
    probe_sketch,
    run_checks,
)
from ..render import RenderSpec, render_ink
from ..render.spec import FIT_VALUES, INK_VALUES
from ..sketch import Sketch
from .background import BackgroundCall

MODEL_FILTER = "Models and cards (*.pt *.pt2 *.ts *.pth *.toml);;All files (*)"
PREVIEW = 168


def spec_summary(spec: RenderSpec) -> str:
    return (f"{spec.size}×{spec.size}×{spec.channels}, {spec.ink}, fit {spec.fit}, "
            f"σ {spec.sigma:g}")


TRUSTED_KEY = "models/trusted_sha256"


def _model_file_of(path: Path) -> Path | None:
    """The model file a chosen path stands for (a card names its file), or None if unreadable."""
    try:
        return load_card(path).file if path.suffix == ".toml" or path.is_dir() else path
    except UserError:
        return None


def _sha256(path: Path) -> str:
    from ..fsutil import file_sha256

    return file_sha256(path)


def ask_trust(parent, path: Path) -> bool:
    """The question itself (tests replace this)."""
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        parent, "Import a model from outside the store",
        f"{path}\n\nA model is a program: TorchScript and torch.export files are never unpickled, "
        "but they run their own computations on your machine. Only import models from sources "
        "you trust. Import this one?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def confirm_outside_model(parent, path: Path) -> bool:
    """Ask once per model file (by content) before a model from outside the store is imported.

    Models already in the store, and files that cannot be read (set_file reports those), are not
    asked about. Models named on the command line never come here: naming one is the confirmation.
    """
    from PySide6.QtCore import QSettings

    from .settings import APPLICATION, ORGANISATION

    model_file = _model_file_of(path)
    if model_file is None or not model_file.is_file():
        return True
    store = ModelStore()
    resolved = model_file.resolve()
    if any(resolved.is_relative_to(root.resolve()) for root in (store.models_dir, store.builtin_dir)
           if root.exists()):
        return True
    try:
        digest = _sha256(model_file)
    except OSError:
        return True
    settings = QSettings(ORGANISATION, APPLICATION)
    trusted: Any = settings.value(TRUSTED_KEY, []) or []
    trusted = [trusted] if isinstance(trusted, str) else list(trusted)
    if digest in trusted:
        return True
    if not ask_trust(parent, model_file):
        return False
    settings.setValue(TRUSTED_KEY, (trusted + [digest])[-200:])
    settings.sync()
    return True


def preview_pixmap(sketch: Sketch, spec: RenderSpec, side: int = PREVIEW) -> QPixmap:
    """What the model sees: the sketch rendered by `spec` (polarity included), scaled up crisply."""
    ink = render_ink(sketch, spec).cpu().numpy()
    shown = ink if spec.ink == "light-on-dark" else 1.0 - ink
    gray = np.ascontiguousarray(np.round(np.clip(shown, 0, 1) * 255).astype(np.uint8))
    image = QImage(gray.data, spec.size, spec.size, spec.size,
                   QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation)


def _numbers(text: str) -> list[float]:
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise UserError(f"expected numbers separated by commas, got {text!r}") from None


class CardForm(QWidget):
    """The model card as a form; `card_dict()` gives what goes into card.toml."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        about = QGroupBox("Card")
        form = QFormLayout(about)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Quick, Draw! CNN")
        self.task = QComboBox()
        self.task.addItems(TASKS)
        self.labels = QPlainTextEdit()
        self.labels.setPlaceholderText("one class per line (or comma-separated), in output order")
        self.labels.setMinimumHeight(90)
        self.description = QLineEdit()
        form.addRow("Name", self.name)
        form.addRow("Task", self.task)
        form.addRow("Labels", self.labels)
        form.addRow("Description", self.description)
        layout.addWidget(about, 3)

        spec_box = QGroupBox("Input (how the sketch is rendered for the model)")
        spec_form = QFormLayout(spec_box)
        self.size_box = QSpinBox()   # not `size`: that is QWidget.size()
        self.size_box.setRange(4, 2048)
        self.size_box.setValue(28)
        self.channels = QComboBox()
        self.channels.addItems(["1", "3"])
        self.ink = QComboBox()
        self.ink.addItems(INK_VALUES)
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.05, 64)
        self.sigma.setDecimals(2)
        self.sigma.setSingleStep(0.1)
        self.sigma.setValue(0.5)
        self.fit = QComboBox()
        self.fit.addItems(FIT_VALUES)
        self.margin = QDoubleSpinBox()
        self.margin.setRange(0, 0.49)
        self.margin.setDecimals(3)
        self.margin.setSingleStep(0.01)
        self.margin.setValue(0.08)
        self.canvas = QDoubleSpinBox()
        self.canvas.setRange(1, 100000)
        self.canvas.setValue(256)
        self.mean = QLineEdit("0")
        self.std = QLineEdit("1")
        for label, widget in (("Size (px)", self.size_box), ("Channels", self.channels),
                              ("Ink", self.ink), ("Softness σ (px)", self.sigma),
                              ("Fit", self.fit), ("Margin", self.margin),
                              ("Canvas (fit = canvas)", self.canvas), ("Mean", self.mean),
                              ("Std", self.std)):
            spec_form.addRow(label, widget)
        layout.addWidget(spec_box, 2)

        for line in (self.name, self.description, self.mean, self.std):
            line.textChanged.connect(self.changed)
        self.labels.textChanged.connect(self.changed)
        for combo in (self.task, self.channels, self.ink, self.fit):
            combo.currentIndexChanged.connect(self.changed)
        for spin in (self.size_box, self.sigma, self.margin, self.canvas):
            spin.valueChanged.connect(self.changed)
        self.fit.currentTextChanged.connect(self._fit_changed)
        self._fit_changed(self.fit.currentText())

    def _fit_changed(self, fit: str) -> None:
        self.margin.setEnabled(fit == "center")
        self.canvas.setEnabled(fit == "canvas")

    def label_list(self) -> list[str]:
        text = self.labels.toPlainText()
        parts = text.splitlines() if "\n" in text.strip() else text.split(",")
        return [p.strip() for p in parts if p.strip()]

    def input_dict(self) -> dict[str, Any]:
        return {"size": self.size_box.value(), "channels": int(self.channels.currentText()),
                "ink": self.ink.currentText(), "sigma": round(self.sigma.value(), 4),
                "fit": self.fit.currentText(), "margin": round(self.margin.value(), 4),
                "canvas": float(self.canvas.value()), "mean": _numbers(self.mean.text()),
                "std": _numbers(self.std.text())}

    def spec(self) -> RenderSpec:
        return RenderSpec.from_dict(self.input_dict())

    def card_dict(self, file_name: str) -> dict[str, Any]:
        card: dict[str, Any] = {"name": self.name.text().strip(), "task": self.task.currentText(),
                "file": file_name}
        labels = self.label_list()
        if labels or self.task.currentText() == ModelTask.CLASSIFY:
            card["labels"] = labels
        if self.description.text().strip():
            card["description"] = self.description.text().strip()
        card["input"] = self.input_dict()
        return card

    def fill(self, card) -> None:
        """From a loaded ModelCard."""
        self.name.setText(card.name)
        self.task.setCurrentText(card.task)
        self.labels.setPlainText("\n".join(card.labels))
        self.description.setText(card.description)
        spec = card.spec
        self.size_box.setValue(spec.size)
        self.channels.setCurrentText(str(spec.channels))
        self.ink.setCurrentText(spec.ink)
        self.sigma.setValue(spec.sigma)
        self.fit.setCurrentText(spec.fit)
        self.margin.setValue(spec.margin)
        self.canvas.setValue(spec.canvas)
        self.mean.setText(", ".join(f"{v:g}" for v in spec.mean))
        self.std.setText(", ".join(f"{v:g}" for v in spec.std))


class AddModelDialog(QDialog):
    """Pick a model file (or an existing card), describe it, see its input, check it, add it.

    The card is written into a private staging folder beside a copy of the model file and read
    back with the same validation `sketchstudio models add` uses, so the messages are the same.
    """

    def __init__(self, store: ModelStore, sketch: Sketch, device: str | None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a model")
        self.resize(900, 620)
        self.store = store
        self.sketch = sketch if len(sketch) else probe_sketch()
        self._sample_name = "your drawing" if len(sketch) else "a sample drawing (a house)"
        self.device = device
        self.added_id: str | None = None
        self._staging = Path(tempfile.mkdtemp(prefix="sketchstudio-add-"))
        self._file_name: str | None = None
        self._task: BackgroundCall | None = None
        self.finished.connect(self._cleanup)

        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.file_edit = QLineEdit()
        self.file_edit.setReadOnly(True)
        self.file_edit.setPlaceholderText(
            "TorchScript (.pt) or torch.export (.pt2) file, or a card.toml")
        browse = QPushButton("Choose file…")
        browse.clicked.connect(self._browse)
        row.addWidget(QLabel("Model"))
        row.addWidget(self.file_edit, 1)
        row.addWidget(browse)
        layout.addLayout(row)

        middle = QHBoxLayout()
        self.form = CardForm()
        self.form.changed.connect(self._schedule_validate)
        middle.addWidget(self.form, 1)
        preview_box = QGroupBox("What the model sees")
        pv = QVBoxLayout(preview_box)
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #808080; border: 1px solid #c8cad0;")
        pv.addWidget(self.preview)
        self.preview_caption = QLabel()
        self.preview_caption.setObjectName("muted")
        self.preview_caption.setWordWrap(True)
        self.preview_caption.setMaximumWidth(PREVIEW)
        pv.addWidget(self.preview_caption)
        pv.addStretch(1)
        middle.addWidget(preview_box)
        layout.addLayout(middle, 1)

        self.problem = QLabel()
        self.problem.setObjectName("error")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        self.check_output = QPlainTextEdit()
        self.check_output.setReadOnly(True)
        self.check_output.setMaximumHeight(130)
        self.check_output.setPlaceholderText(
            "Checks: load, forward, finite, outputs, deterministic, batch, gradient, "
            "depends on input")
        layout.addWidget(self.check_output)

        buttons = QDialogButtonBox()
        self.check_button = buttons.addButton("Run checks", QDialogButtonBox.ButtonRole.ActionRole)
        self.add_button = buttons.addButton("Add to store", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.check_button.clicked.connect(self.run_checks)
        self.add_button.clicked.connect(self._add)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.validate)
        self.validate()

    # --- file -------------------------------------------------------------------------------------
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model or a model card", "",
                                              MODEL_FILTER)
        if path and confirm_outside_model(self, Path(path)):
            self.set_file(path)

    def set_file(self, path: str | Path) -> None:
        """A model file, or a card (.toml or a folder with card.toml) whose fields fill the form."""
        path = Path(path)
        try:
            if path.suffix == ".toml" or path.is_dir():
                card = load_card(path)
                self.form.fill(card)
                model_file = card.file
            else:
                model_file = path
                if not self.form.name.text().strip():
                    self.form.name.setText(path.stem.replace("_", " ").replace("-", " "))
            if not model_file.is_file():
                raise UserError(f"{model_file}: no such file")
            for old in self._staging.iterdir():
                if old.name != CARD_FILENAME:
                    old.unlink() if old.is_file() else shutil.rmtree(old)
            shutil.copyfile(model_file, self._staging / model_file.name)
        except (UserError, OSError) as exc:
            self.problem.setText(str(exc))
            return
        self._file_name = model_file.name
        self.file_edit.setText(str(path))
        self.validate()

    # --- validation and preview -------------------------------------------------------------------
    def _schedule_validate(self) -> None:
        self._timer.start()

    def validate(self) -> bool:
        ok = True
        try:
            spec = self.form.spec()
            self.preview.setPixmap(preview_pixmap(self.sketch, spec))
            self.preview_caption.setText(f"{spec_summary(spec)}\n{self._sample_name}")
        except UserError as exc:
            self.preview.clear()
            self.preview.setText("—")
            self.preview_caption.setText("")
            self.problem.setText(f"[input]: {exc}")
            ok = False
        if ok:
            message = self._card_problem()
            self.problem.setText(message or "")
            ok = message is None
        self.add_button.setEnabled(ok)
        self.check_button.setEnabled(ok and self._task is None)
        return ok

    def _card_problem(self) -> str | None:
        if self._file_name is None:
            return "Choose the model file."
        try:
            card = self.form.card_dict(self._file_name)
            (self._staging / CARD_FILENAME).write_text(tomli_w.dumps(card), encoding="utf-8")
            load_card(self._staging)
        except UserError as exc:
            # Name the key, not the temporary folder.
            return str(exc).replace(str(self._staging / CARD_FILENAME) + ": ", "")
        return None

    # --- checks and adding ------------------------------------------------------------------------
    def run_checks(self) -> None:
        if not self.validate() or self._task is not None:
            return
        self.check_output.setPlainText("running checks…")
        card, device = self._staging / CARD_FILENAME, self.device   # plain values for the thread
        self._start(lambda: run_checks(card, device=device), self._checks_done)

    def _checks_done(self, results) -> None:
        self.check_output.setPlainText("\n".join(r.line() for r in results))

    def _add(self) -> None:
        if not self.validate() or self._task is not None:
            return
        self.check_output.setPlainText("checking and adding…")
        card, device, store = self._staging / CARD_FILENAME, self.device, self.store
        self._start(lambda: store.add(card, check=True, device=device), self._added)

    def _added(self, model_id: str) -> None:
        self.added_id = model_id
        self.accept()

    def _start(self, fn, on_success) -> None:
        task = BackgroundCall(self, fn, on_success, self.check_output.setPlainText,
                              self._task_finished)
        self._task = task
        self.check_button.setEnabled(False)
        self.add_button.setEnabled(False)
        task.start()

    def _task_finished(self) -> None:
        self._task = None
        if self.result() != QDialog.DialogCode.Accepted:
            self.validate()

    def _cleanup(self, _result: int = 0) -> None:
        if self._task is not None:
            self._task.finish()
        shutil.rmtree(self._staging, ignore_errors=True)


class ModelManagerDialog(QDialog):
    modelChosen = Signal(str)     # a store id to load
    deviceChosen = Signal(str)    # "auto", "cpu", "cuda", ...
    storeChanged = Signal()

    COLUMNS = ("Id", "Name", "Task", "Classes", "Input", "Where")

    def __init__(self, store: ModelStore, sketch: Sketch, current_id: str | None, device: str,
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(920, 560)
        self.store = store
        self.sketch = sketch
        self.current_id = current_id
        self._task: BackgroundCall | None = None
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

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setObjectName("muted")
        layout.addWidget(self.details)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumHeight(140)
        self.output.setPlaceholderText("Check results appear here.")
        layout.addWidget(self.output, 1)

        row = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.check_button = QPushButton("Run checks")
        self.remove_button = QPushButton("Remove")
        self.default_button = QPushButton("Set as default")
        self.use_button = QPushButton("Use in studio")
        self.use_button.setObjectName("primary")
        for b in (self.add_button, self.check_button, self.remove_button, self.default_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(QLabel("Device"))
        self.device_combo = QComboBox()
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
        if self.table.rowCount() == 0:
            self.details.setText("The store is empty. Add a model: a TorchScript or torch.export "
                                 "file plus a card describing its classes and input.")
        self._selection_changed()

    def selected_id(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _selection_changed(self) -> None:
        model_id = self.selected_id()
        entry = None
        if model_id is not None:
            try:
                entry = self.store.entry(model_id)
            except UserError:
                entry = None
        busy = self._task is not None
        for b in (self.check_button, self.default_button, self.use_button):
            b.setEnabled(entry is not None and not busy)
        self.remove_button.setEnabled(entry is not None and not entry.builtin and not busy)
        if entry is None:
            return
        try:
            card = entry.card()
        except UserError as exc:
            self.details.setText(str(exc))
            return
        labels = ", ".join(card.labels[:24]) + (" …" if len(card.labels) > 24 else "")
        text = f"<b>{card.name}</b> — {card.task}"
        if card.description:
            text += f"<br>{card.description}"
        if labels:
            text += f"<br>Classes ({len(card.labels)}): {labels}"
        text += f"<br>Input: {spec_summary(card.spec)}<br>Card: {card.path}"
        self.details.setText(text)

    # --- actions ----------------------------------------------------------------------------------
    def _device(self) -> str | None:
        value = self.device_combo.currentData()
        return None if value in (None, "auto") else value

    def _add(self) -> None:
        dialog = AddModelDialog(self.store, self.sketch, self._device(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.added_id:
            self.output.setPlainText(f"added {dialog.added_id!r}")
            self.refresh(select=dialog.added_id)
            self.storeChanged.emit()

    def _check(self) -> None:
        model_id = self.selected_id()
        if model_id is None or self._task is not None:
            return
        self.output.setPlainText(f"checking {model_id}…")
        card_path = self.store.entry(model_id).card_path
        device = self._device()
        task = BackgroundCall(self, lambda: run_checks(card_path, device=device), self._checks_done,
                              self.output.setPlainText, self._task_finished)
        self._task = task
        self._selection_changed()
        task.start()

    def _checks_done(self, results) -> None:
        self.output.setPlainText("\n".join(r.line() for r in results))

    def _task_finished(self) -> None:
        self._task = None
        self._selection_changed()

    def _remove(self) -> None:
        model_id = self.selected_id()
        if model_id is None:
            return
        try:
            self.store.remove(model_id)
        except (UserError, OSError) as exc:
            self.output.setPlainText(str(exc))
            return
        self.output.setPlainText(f"removed {model_id!r}")
        self.refresh()
        self.storeChanged.emit()

    def _set_default(self) -> None:
        model_id = self.selected_id()
        if model_id is None:
            return
        try:
            self.store.set_default(model_id)
        except (UserError, OSError) as exc:
            self.output.setPlainText(str(exc))
            return
        self.output.setPlainText(f"{model_id!r} is now the default model")
        self.refresh(select=model_id)
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
