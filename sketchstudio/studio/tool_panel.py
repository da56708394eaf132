"""What the Assist and Attack panels share: a class picker, a budget, a run/cancel button, a result
tied to the snapshot it was computed on, and a canvas overlay that previews the edit.

A result belongs to one document snapshot. When the drawing changes under it (a new stroke, an
undo), the preview is stale: it is dropped and the panel says so, so an accepted edit is always
the edit of the drawing on screen.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..models.tasks import ModelTask
from ..sketch import Sketch
from .overlay import Overlay
from .panels import LOADING, Studio, TaskPanel, _heading, _rule, class_picker
from .worker import ModelInfo

WORKS_WITH = "Works with classifiers: choose one in the model list."


class ToolPanel(TaskPanel):
    tasks = (ModelTask.CLASSIFY,)
    overlay_name = "tool"
    run_text = "Run"
    any_class_text = "Predicted class"
    heading, intro = "Tool", ""     # the panel's heading and what it does, in a sentence
    target_tip = "The class to aim for (type to search)"

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        self.result = None              # the engine's result for `self.result_sketch`
        self.result_sketch: Sketch | None = None
        self.running = False
        self._defaults_set = False
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(14, 10, 14, 10)
        self.layout_.setSpacing(6)
        self.add_intro(self.heading, self.intro)
        self.form = self.add_form()
        self.class_combo.setToolTip(self.target_tip)

    # --- building blocks -------------------------------------------------------------------------
    def add_intro(self, title: str, text: str) -> None:
        self.layout_.addWidget(_heading(title))
        intro = QLabel(text)
        intro.setObjectName("muted")
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)

    def add_form(self) -> QFormLayout:
        form = QFormLayout()
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        self.class_combo = class_picker("The class to aim for (type to search)")
        form.addRow("Target", self.class_combo)
        self.budget_spin = QDoubleSpinBox()
        self.budget_spin.setRange(0.1, 100.0)
        self.budget_spin.setDecimals(1)
        self.budget_spin.setSingleStep(0.5)
        self.budget_spin.setSuffix(" % of size")
        self.budget_spin.setToolTip("How far any point may move, as a fraction of the longer "
                                    "side of the drawing's bounding box")
        form.addRow("Budget", self.budget_spin)
        self.layout_.addLayout(form)
        return form

    def add_run_row(self) -> None:
        row = QHBoxLayout()
        self.run_button = QPushButton(self.run_text)
        self.run_button.setObjectName("primary")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop now; the drawing stays as it is (Esc)")
        self.cancel_button.clicked.connect(self.studio.tasks.cancel)
        self.cancel_button.hide()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.layout_.addWidget(self.status)

    def add_run_and_verdict(self) -> QLabel:
        """The run row, a rule, and the label that will say what the run found."""
        self.add_run_row()
        self.add_rule()
        verdict = QLabel("—")
        verdict.setWordWrap(True)
        self.layout_.addWidget(verdict)
        return verdict

    def add_accept_row(self, extra: Sequence[QPushButton] = ()) -> None:
        row = QHBoxLayout()
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Make the edit part of the drawing (undo with Ctrl+Z)")
        self.accept_button.clicked.connect(lambda: self.accept())
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard)
        row.addWidget(self.accept_button)
        for button in extra:
            row.addWidget(button)
        row.addWidget(self.discard_button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self._set_result_buttons(False)

    def add_rule(self) -> None:
        self.layout_.addWidget(_rule())

    # --- reading the controls --------------------------------------------------------------------
    def chosen_class(self) -> str | None:
        text = self.class_combo.currentText().strip()
        index = self.class_combo.findText(text, Qt.MatchFlag.MatchFixedString)
        return self.class_combo.itemData(index) if index >= 0 else None

    def budget(self) -> float:
        return self.budget_spin.value() / 100.0

    # --- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        sketch = self.studio.document.sketch
        if self.studio.state.model is None or self.studio.state.model.task != ModelTask.CLASSIFY:
            self.status.setText("Load a classifier first (the model list in the tool bar).")
            return
        if not len(sketch):
            self.status.setText("Draw something first.")
            return
        self.discard()
        self.running = True
        self._show_running(True)
        run = self.make_run(sketch)
        self.studio.tasks.run(self.title, run, lambda result: self._done(sketch, result),
                             on_progress=self.on_progress, on_failed=self._failed,
                             on_cancelled=self._cancelled)

    def engine_defaults(self) -> None:
        """Set the controls to the engine's defaults. Called when the first classifier arrives,
        not when the panel is built: the engine modules import torch, which the window does not
        wait for."""

    def make_run(self, sketch: Sketch):
        """The engine call, as `run(model, progress, cancelled)`; runs in the worker."""
        raise NotImplementedError

    def on_progress(self, fraction: float, payload) -> None: ...

    def show_result(self, sketch: Sketch, result) -> None:
        raise NotImplementedError

    def edited_sketch(self, strokes: list[int] | None = None) -> Sketch:
        raise NotImplementedError

    def _done(self, sketch: Sketch, result) -> None:
        if sketch is not self.studio.document.sketch:
            self._stopped("The drawing changed while this ran: run again.")
            return
        self._stopped(None)
        self.result, self.result_sketch = result, sketch
        self._set_result_buttons(True)
        self.show_result(sketch, result)     # may disable what does not apply to this result

    def _failed(self, message: str) -> None:
        self._stopped(message)

    def _cancelled(self) -> None:
        self._stopped("Cancelled: the drawing is unchanged.")

    def _stopped(self, text: str | None) -> None:
        """A run ended; `text` (if any) says how. The user's budget and limits stay as set."""
        self.running = False
        self._show_running(False)
        if text is not None:
            self.status.setText(text)

    def _show_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running and self.studio.state.model is not None)
        self.cancel_button.setVisible(running)
        if running:
            self.status.setText("Working…")

    def _set_result_buttons(self, enabled: bool) -> None:
        for button in self.findChildren(QPushButton):
            decides = button in (self.accept_button, self.discard_button)
            if button.property("needsResult") or decides:
                button.setEnabled(enabled)

    # --- accepting -------------------------------------------------------------------------------
    def accept(self, strokes: list[int] | None = None, text: str | None = None) -> bool:
        """Apply the previewed edit (all strokes, or only `strokes`) as one undoable step."""
        if self.result is None or self.result_sketch is not self.studio.document.sketch:
            return False
        edited = self.edited_sketch(strokes)
        self.discard()
        self.studio.apply_edit(edited, text or self.title)
        return True

    def discard(self) -> None:
        self.result = self.result_sketch = None
        self.studio.overlay(self.overlay_name).clear()
        self._set_result_buttons(False)
        self.clear_result()

    def clear_result(self) -> None: ...

    def _draw_overlay(self) -> None:
        """The result's preview on the panel's canvas layer, drawn afresh."""
        layer = self.studio.overlay(self.overlay_name)
        layer.clear()
        if self.result is not None and self.result_sketch is not None:   # set together
            self.draw_preview(layer, self.result, self.result_sketch)

    def draw_preview(self, layer: Overlay, result, sketch: Sketch) -> None:
        """Draw `result` (computed on `sketch`) on the cleared `layer`."""

    # Only the panel in front previews on the canvas: Assist's hints under Attack's arrows would
    # read as one picture. The result stays, and comes back with its tab.
    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self._draw_overlay()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().hideEvent(event)
        self.studio.overlay(self.overlay_name).clear()

    def clear(self) -> None:
        """Back to a blank panel: no result, nothing on the canvas."""
        self.discard()
        self.status.setText("")

    def on_replaced(self) -> None:
        self.clear()

    # --- told by the window ----------------------------------------------------------------------
    def on_model(self, info: ModelInfo | None) -> None:
        self.discard()
        self.class_combo.clear()
        self.class_combo.addItem(self.any_class_text, None)
        labels = info.labels if info is not None and info.task == ModelTask.CLASSIFY else None
        usable = labels is not None
        for label in labels or ():
            self.class_combo.addItem(label, label)
        if usable and not self._defaults_set:
            self._defaults_set = True
            self.engine_defaults()
        for widget in (self.class_combo, self.budget_spin, self.run_button):
            widget.setEnabled(usable)
        self.status.setText("" if usable else WORKS_WITH)

    def on_model_loading(self, loading: bool) -> None:
        if self.studio.state.model is None:    # a switch keeps the old model's words meanwhile
            self.status.setText(LOADING if loading else WORKS_WITH)

    def on_document(self, sketch: Sketch) -> None:
        if self.result is not None and sketch is not self.result_sketch:
            self.discard()
            self.status.setText("The drawing changed: the preview was dropped.")
