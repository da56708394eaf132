"""Task panels in the right dock: the `TaskPanel` base, the Classify panel, and what panels see.

The window builds one tab per class of `panel_list.PANELS`, an explicit ordered list (Classify
first). A panel talks to the studio only through `self.studio` (the window, see `Studio` below) and
is told about changes through the `on_*` methods, all in the GUI thread. The attribution methods
it offers are read from the method registry (sketchstudio/explain/registry.py).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..explain import Attribution
from ..explain.registry import all_methods, is_complete, method_label, method_names
from ..models.tasks import ModelTask
from ..sketch import Sketch
from .worker import LIVE_METHOD, ModelInfo

if TYPE_CHECKING:  # only named in annotations: the protocol below describes the window
    from .canvas import SketchCanvas
    from .document import StudioDocument


class _MethodHelp(Mapping[str, tuple[str, str]]):
    """name -> (label, help text) of every registered attribution method, in registry order."""

    def __getitem__(self, name: str) -> tuple[str, str]:
        for method in all_methods():
            if method.name == name:
                return method.label, _help_text(method.help, method.live_capable)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(method_names())

    def __len__(self) -> int:
        return len(method_names())


def _help_text(text: str, live_capable: bool) -> str:
    if live_capable:
        return text
    return f"{text} Slow to rerun after every stroke on large drawings: try it on request (F5)."


# Read from the registry whenever asked: a method registered later is offered too.
METHOD_HELP = _MethodHelp()


class Studio(Protocol):
    """What a panel may ask of the window."""

    model_info: ModelInfo | None
    target: str | None
    method: str                               # the chosen method (e.g. "live"), rerun on every edit
    last_result: tuple[Sketch, Attribution] | None

    # Read-only to panels: they edit the drawing through apply_edit, never swap these out.
    @property
    def document(self) -> StudioDocument: ...
    @property
    def canvas(self) -> SketchCanvas: ...             # .overlay(name) for tool layers

    def explain_now(self, method: str | None = None) -> None: ...
    def set_target(self, label: str | None) -> None: ...
    def set_live(self, live: bool) -> None: ...
    def set_show_heat(self, show: bool) -> None: ...
    def set_objective(self, objective) -> None: ...
    def run_task(self, name: str, run, on_done, on_progress=None, on_failed=None,
                 on_cancelled=None, quiet: bool = False, on_replaced=None,
                 needs_model: bool = True) -> int: ...
    @property
    def task_running(self) -> bool: ...
    def cancel_task(self) -> None: ...
    def apply_edit(self, sketch: Sketch, text: str) -> None: ...
    def show_error(self, message: str, title: str = ..., dialog: bool = True) -> None: ...


class TaskPanel(QWidget):
    title = "Task"
    tasks: tuple[str, ...] = ()     # model tasks the panel works with (ModelTask values)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio

    def on_model(self, info: ModelInfo | None) -> None: ...
    def on_document(self, sketch: Sketch) -> None: ...
    def on_explanation(self, sketch: Sketch, result: Attribution) -> None: ...
    def on_busy(self, busy: bool, method: str | None) -> None: ...
    def on_settings(self, method: str, live: bool, show_heat: bool) -> None: ...


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("panelHeading")
    return label


def _rule() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setObjectName("panelRule")
    return line


class ClassifyPanel(TaskPanel):
    title = "Classify"
    tasks = (ModelTask.CLASSIFY,)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        self._updating = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)

        layout.addWidget(_heading("Prediction"))
        self.prediction = QLabel("—")
        big = QFont()
        big.setPointSizeF(20)
        big.setWeight(QFont.Weight.DemiBold)
        self.prediction.setFont(big)
        self.prediction.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.prediction)
        self.confidence = QLabel("Draw a few strokes to see what the model thinks.")
        self.confidence.setObjectName("muted")
        self.confidence.setWordWrap(True)
        layout.addWidget(self.confidence)
        layout.addWidget(_rule())

        layout.addWidget(_heading("Explain"))
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        self.target_combo = QComboBox()
        self.target_combo.setEditable(True)
        self.target_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target_combo.setToolTip("The class whose score is attributed to the strokes "
                                     "(type to search)")
        self.target_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.target_combo.setMinimumContentsLength(8)
        completer = self.target_combo.completer()
        line_edit = self.target_combo.lineEdit()
        assert completer is not None and line_edit is not None   # an editable combo has both
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.target_combo.activated.connect(self._target_activated)
        line_edit.editingFinished.connect(self._target_typed)
        form.addRow("Target", self.target_combo)

        self.method_combo = QComboBox()
        self.method_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        for method, (name, help_text) in METHOD_HELP.items():
            self.method_combo.addItem(name, method)
            self.method_combo.setItemData(self.method_combo.count() - 1, help_text,
                                          Qt.ItemDataRole.ToolTipRole)
        self.method_combo.activated.connect(self._method_activated)
        form.addRow("Method", self.method_combo)
        layout.addLayout(form)

        self.method_help = QLabel()
        self.method_help.setObjectName("muted")
        self.method_help.setWordWrap(True)
        layout.addWidget(self.method_help)

        row = QHBoxLayout()
        self.explain_button = QPushButton("Explain")
        self.explain_button.setObjectName("primary")
        self.explain_button.setToolTip("Explain the current drawing with the chosen method (F5)")
        self.explain_button.clicked.connect(lambda: self.studio.explain_now(self.method()))
        row.addWidget(self.explain_button)
        row.addStretch(1)
        layout.addLayout(row)

        self.live_check = QCheckBox("Live: explain after every stroke")
        self.live_check.setToolTip("Explain with the chosen method after every edit (off: only "
                                   "when you ask, F5)")
        self.live_check.setChecked(True)
        self.live_check.toggled.connect(self._live_toggled)
        layout.addWidget(self.live_check)
        self.heat_check = QCheckBox("Colour strokes by attribution")
        self.heat_check.setChecked(True)
        self.heat_check.toggled.connect(self._heat_toggled)
        layout.addWidget(self.heat_check)
        layout.addWidget(_rule())

        layout.addWidget(_heading("This explanation"))
        details = QFormLayout()
        details.setHorizontalSpacing(10)
        details.setVerticalSpacing(3)
        self.detail_labels: dict[str, QLabel] = {}
        for key, name in (("method", "Method"), ("target", "Target"), ("score", "Score"),
                          ("sum", "Sum of strokes"), ("strokes", "Strokes"), ("time", "Time")):
            value = QLabel("—")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.detail_labels[key] = value
            details.addRow(name, value)
        layout.addLayout(details)
        self.notes = QLabel()
        self.notes.setObjectName("note")
        self.notes.setWordWrap(True)
        self.notes.hide()
        layout.addWidget(self.notes)
        layout.addStretch(1)
        self._update_method_help()
        self.on_model(None)

    # --- reading the controls --------------------------------------------------------------------
    def method(self) -> str:
        return self.method_combo.currentData() or LIVE_METHOD

    def set_method(self, method: str) -> None:
        index = self.method_combo.findData(method)
        if index >= 0:
            self.method_combo.setCurrentIndex(index)
        self._update_method_help()

    def _update_method_help(self) -> None:
        method = self.method()
        self.method_help.setText(METHOD_HELP.get(method, ("", ""))[1])
        self.explain_button.setText(f"Explain with {METHOD_HELP.get(method, (method,))[0]}")

    def _live_toggled(self, on: bool) -> None:
        if not self._updating:
            self.studio.set_live(on)

    def _heat_toggled(self, on: bool) -> None:
        if not self._updating:
            self.studio.set_show_heat(on)

    def _method_activated(self, _index: int) -> None:
        self._update_method_help()
        self.studio.explain_now(self.method())

    def _target_activated(self, index: int) -> None:
        if self._updating:
            return
        self.studio.set_target(self.target_combo.itemData(index))

    def _target_typed(self) -> None:
        if self._updating:
            return
        text = self.target_combo.currentText().strip()
        index = self.target_combo.findText(text, Qt.MatchFlag.MatchFixedString)
        if index < 0:
            # Not a class of this model: put back what is in force.
            self._show_target(self.studio.target)
            return
        if self.target_combo.itemData(index) != self.studio.target:
            self.target_combo.setCurrentIndex(index)
            self.studio.set_target(self.target_combo.itemData(index))

    def _show_target(self, target: str | None) -> None:
        self._updating = True
        try:
            index = self.target_combo.findData(target) if target is not None else 0
            self.target_combo.setCurrentIndex(max(index, 0))
        finally:
            self._updating = False

    # --- told by the window ----------------------------------------------------------------------
    def on_model(self, info: ModelInfo | None) -> None:
        self._updating = True
        try:
            self.target_combo.clear()
            self.target_combo.addItem("Predicted class", None)
            if info is not None:
                for label in info.labels:
                    self.target_combo.addItem(label, label)
            self.target_combo.setCurrentIndex(0)
        finally:
            self._updating = False
        enabled = info is not None
        for widget in (self.target_combo, self.method_combo, self.explain_button):
            widget.setEnabled(enabled)
        if info is None:
            self.prediction.setText("—")
            self.confidence.setText("No model loaded. Choose one in Model ▸ Manage models…")
        self._clear_details()

    def on_settings(self, method: str, live: bool, show_heat: bool) -> None:
        self._updating = True
        try:
            self.set_method(method)
            self.live_check.setChecked(live)
            self.heat_check.setChecked(show_heat)
        finally:
            self._updating = False

    def on_document(self, sketch: Sketch) -> None:
        if not len(sketch):
            self.prediction.setText("—")
            self.confidence.setText("Draw a few strokes to see what the model thinks.")

    def on_busy(self, busy: bool, method: str | None) -> None:
        self.explain_button.setEnabled(self.studio.model_info is not None)

    def on_explanation(self, sketch: Sketch, result: Attribution) -> None:
        self._show_target(self.studio.target)
        if not len(sketch):
            self.on_document(sketch)
            self._clear_details()
            return
        if result.prediction:
            label, prob = result.prediction[0]
            self.prediction.setText(label if len(sketch) else "—")
            model = self.studio.model_info.name if self.studio.model_info else "the model"
            if len(sketch):
                self.confidence.setText(f"{prob:.0%} sure · {model}")
            else:
                self.confidence.setText("Draw a few strokes to see what the model thinks.")
        d = self.detail_labels
        d["method"].setText(method_label(result.method))
        d["target"].setText(result.target or "—")
        d["score"].setText(f"{result.score_full:.3f} {result.objective} "
                           f"(blank {result.score_blank:.3f})")
        d["sum"].setText(f"{float(result.strokes.sum()):+.3f}"
                         + (f" (completeness error {result.completeness_error:.1%})"
                            if is_complete(result.method) else ""))
        positive = int((result.strokes > 0).sum())
        d["strokes"].setText(f"{len(result.strokes)} · {positive} help, "
                             f"{len(result.strokes) - positive} hurt or neutral")
        d["time"].setText(f"{result.elapsed_ms:.0f} ms")
        if result.notes:
            self.notes.setText("\n".join(result.notes))
            self.notes.show()
        else:
            self.notes.hide()

    def _clear_details(self) -> None:
        for label in self.detail_labels.values():
            label.setText("—")
        self.notes.hide()
