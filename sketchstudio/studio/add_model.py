"""Adding a model: pick a file (or a card), describe it, see its input, check it, add it."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import UserError
from ..models import CARD_FILENAME, ModelStore, load_card, slugify
from ..sketch import Sketch
from .background import BackgroundCall
from .card_form import PREVIEW, CardForm, preview_pixmap, spec_summary
from .model_trust import confirm_outside_model

MODEL_FILTER = "Models and cards (*.pt *.pt2 *.ts *.pth *.toml);;All files (*)"
NO_FILE = "Choose the model file."
# A read-only field that looks like one (the window's colour, no edit frame), in any theme.
READ_ONLY_STYLE = "QLineEdit { background: palette(window); }"


def user_words(text: str, staging: Path, model_file: Path | None, card: Path | None) -> str:
    """`text` with the private staging copy replaced by what the user picked: the model file's
    own path, their card (or no name at all when the card is the form), and the file's name
    where the staging folder's name stands as the model's id."""
    for folder in dict.fromkeys((staging, staging.resolve())):
        text = text.replace(f"{folder / CARD_FILENAME}: ", "")
        text = text.replace(str(folder / CARD_FILENAME), str(card) if card else "the card")
        if model_file is not None:
            text = text.replace(str(folder / model_file.name), str(model_file))
            text = text.replace(str(folder), str(model_file.parent))
    if model_file is not None:   # the loader names a model by its folder: "model 'x' failed"
        text = text.replace(f"model '{staging.name}'", f"model '{model_file.name}'")
    return text


class AddModelDialog(QDialog):
    """Pick a model file (or an existing card), describe it, see its input, check it, add it.

    The card is written into a private staging folder beside a copy of the model file and read
    back with the same validation `sketchstudio models add` uses, so the messages are the same;
    every message shown names the user's file, never the copy (`user_words`).
    """

    def __init__(self, store: ModelStore, sketch: Sketch, device: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a model")
        self.resize(900, 620)
        self.store = store
        from ..models.checks import probe_sketch  # torch: the checks' module

        self.sketch = sketch if len(sketch) else probe_sketch()
        self._sample_name = "your drawing" if len(sketch) else "a sample drawing (a house)"
        self.device = device
        self.added_id: str | None = None
        self._root = Path(tempfile.mkdtemp(prefix="sketchstudio-add-"))
        self._staging = self._root / "model"
        self._staging.mkdir()
        self._file_name: str | None = None
        self._model_file: Path | None = None    # the user's, not the staged copy
        self._card_file: Path | None = None     # the user's card, when they picked one
        self._file_problem: str | None = None   # why the last chosen file cannot be used
        self._task: BackgroundCall | None = None
        self.finished.connect(self._cleanup)

        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.file_edit = QLineEdit()
        # Plainly read-only: the file comes from "Choose file…" (which asks about trust first).
        self.file_edit.setReadOnly(True)
        self.file_edit.setStyleSheet(READ_ONLY_STYLE)
        self.file_edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)   # Tab goes to the button
        self.file_edit.setToolTip("The chosen file (read-only): use “Choose file…” to pick another")
        self.file_edit.setPlaceholderText(
            "no file chosen: a TorchScript (.pt) or torch.export (.pt2) file, or a card.toml")
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
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        """A model file, or a card (.toml or a folder with card.toml) whose fields fill the form.

        Whatever happened with the file chosen before (its problem, its check results) is
        forgotten: the field, the message and the checks are about this file only."""
        path = Path(path)
        self.file_edit.setText(str(path))
        self.check_output.clear()
        self._file_name = self._model_file = self._card_file = None
        try:
            card_file = None
            if path.suffix == ".toml" or path.is_dir():
                card = load_card(path)
                self.form.fill(card)
                model_file, card_file = card.file, card.path
            else:
                model_file = path
                if not self.form.name.text().strip():
                    self.form.name.setText(path.stem.replace("_", " ").replace("-", " "))
            if not model_file.is_file():
                raise UserError(f"{model_file}: no such file")
            self._stage(model_file)
        except (UserError, OSError) as exc:
            self._file_problem = str(exc) if str(path) in str(exc) or path.name in str(exc) \
                else f"{path}: {exc}"
            self.validate()
            return
        self._file_problem = None
        self._file_name, self._model_file, self._card_file = model_file.name, model_file, card_file
        self.validate()

    def _stage(self, model_file: Path) -> None:
        """A fresh staging folder named after the file (so the id in a message reads as the
        user's file, not a random name) holding a copy of it."""
        shutil.rmtree(self._staging, ignore_errors=True)
        self._staging = self._root / (slugify(model_file.stem) or "model")
        self._staging.mkdir()
        shutil.copyfile(model_file, self._staging / model_file.name)

    def _words(self, text: str) -> str:
        return user_words(text, self._staging, self._model_file, self._card_file)

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
        if self._file_problem is not None:
            return self._file_problem
        if self._file_name is None:
            return NO_FILE
        try:
            card = self.form.card_dict(self._file_name)
            (self._staging / CARD_FILENAME).write_text(tomli_w.dumps(card), encoding="utf-8")
            load_card(self._staging)
        except UserError as exc:
            return self._words(str(exc))    # names the key, not the temporary folder
        return None

    # --- checks and adding ------------------------------------------------------------------------
    def run_checks(self) -> None:
        if not self.validate() or self._task is not None:
            return
        self.check_output.setPlainText("running checks…")
        card, device = self._staging / CARD_FILENAME, self.device   # plain values for the thread
        from ..models.checks import run_checks  # torch: only when checks run

        self._start(lambda: run_checks(card, device=device), self._checks_done)

    def _checks_done(self, results: Any) -> None:
        self.check_output.setPlainText(self._words("\n".join(r.line() for r in results)))

    def _add(self) -> None:
        if not self.validate() or self._task is not None:
            return
        self.check_output.setPlainText("checking and adding…")
        card, device, store = self._staging / CARD_FILENAME, self.device, self.store
        self._start(lambda: store.add(card, check=True, device=device), self._added)

    def _added(self, model_id: str) -> None:
        self.added_id = model_id
        self.accept()

    def _failed(self, message: str) -> None:
        self.check_output.setPlainText(self._words(message))

    def _start(self, fn: Callable[[], Any], on_success: Callable[[Any], None]) -> None:
        task = BackgroundCall(self, fn, on_success, self._failed, self._task_finished)
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
        shutil.rmtree(self._root, ignore_errors=True)
