"""Task panels in the right dock: the `TaskPanel` base, the Classify panel, and what panels see.

The window builds one tab per class of `panel_list.PANELS`, an explicit ordered list (Classify
first). A panel talks to the studio only through `self.studio` (see `Studio` below): it reads and
changes the settings in `studio.state` and observes its signals (a setter emits only on a change,
so a control that echoes the state ends the loop there), runs long work on `studio.tasks`, and
draws previews through `studio.overlay(name)`. All in the GUI thread. The attribution methods it
offers are read from the method registry (sketchstudio/explain/registry.py).
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
from .help_dialogs import ClassListLink
from .numbers import format_probability, format_score, format_value, score_unit
from .worker import LIVE_METHOD, ModelInfo

if TYPE_CHECKING:  # only named in annotations: the protocol below describes the window
    from .document import StudioDocument
    from .overlay import Overlay
    from .state import StudioState
    from .task_runner import TaskRunner


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
DRAW_HINT = "Draw a few strokes to see what the model thinks."
NO_MODEL = "No model loaded. Choose one in Model ▸ Manage models…"
LOADING = "Loading model…"


class Studio(Protocol):
    """What a panel may ask of the window. Settings (model, method, live, target, objective, heat)
    are read from and changed in `state`; the panel hears of changes through its signals."""

    @property
    def state(self) -> StudioState: ...
    @property
    def document(self) -> StudioDocument: ...      # edit through apply_edit, never swap it out
    @property
    def tasks(self) -> TaskRunner: ...             # long engine work; busyChanged says when free
    @property
    def last_result(self) -> tuple[Sketch, Attribution] | None: ...

    def explain_now(self, method: str | None = None) -> None: ...
    def apply_edit(self, sketch: Sketch, text: str) -> None: ...
    def show_error(self, message: str, title: str = ..., dialog: bool = True) -> None: ...
    def overlay(self, name: str) -> Overlay: ...   # a tool layer over the drawing


class TaskPanel(QWidget):
    """A tab of the right dock. It observes the state (`on_model`) and the document
    (`on_document`) itself; the window forwards the explanation controller's reports
    (`on_explanation`, `on_busy`)."""

    title = "Task"
    tasks: tuple[str, ...] = ()     # model tasks the panel works with (ModelTask values)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        studio.state.modelChanged.connect(self.on_model)
        studio.document.changed.connect(lambda sketch, _selection: self.on_document(sketch))

    def active(self) -> bool:
        """Whether the model in use is one this panel works with."""
        info = self.studio.state.model
        return info is not None and info.task in self.tasks

    def on_model(self, info: ModelInfo | None) -> None: ...
    def on_model_loading(self, loading: bool) -> None:
        """A model load began (True) or failed (False; the state's model, if any, stays)."""
    def on_document(self, sketch: Sketch) -> None: ...
    def on_explanation(self, sketch: Sketch, result: Attribution) -> None: ...
    def on_busy(self, busy: bool, method: str | None) -> None: ...

    def on_replaced(self) -> None:
        """New, Open, Import: results and previews of the old drawing go."""


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("panelHeading")
    return label


def _rule() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setObjectName("panelRule")
    return line


def class_picker(tip: str) -> QComboBox:
    """An editable class list, searched by any part of a name as one types (the Classify target
    and the tools' classes)."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setToolTip(tip)
    combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    combo.setMinimumContentsLength(8)
    completer = combo.completer()
    if completer is not None:      # an editable combo always has one
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    return combo


class ClassifyPanel(TaskPanel):
    title = "Classify"
    tasks = (ModelTask.CLASSIFY,)

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(studio, parent)
        state = studio.state
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
        self.confidence = QLabel(DRAW_HINT)
        self.confidence.setObjectName("muted")
        self.confidence.setWordWrap(True)
        layout.addWidget(self.confidence)
        # "40 classes…": what the model can answer at all, one click away.
        self.class_link = ClassListLink()
        layout.addWidget(self.class_link)
        layout.addWidget(_rule())

        layout.addWidget(_heading("Explain"))
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        self.target_combo = class_picker("The class whose score is attributed to the strokes "
                                         "(type to search)")
        line_edit = self.target_combo.lineEdit()
        assert line_edit is not None   # an editable combo has one
        # `activated` fires for the user's choices only, never for setCurrentIndex: no echo.
        self.target_combo.activated.connect(
            lambda index: state.set_target(self.target_combo.itemData(index)))
        line_edit.editingFinished.connect(self._target_typed)
        form.addRow("Target", self.target_combo)

        self.method_combo = QComboBox()
        self.method_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        for method, (name, help_text) in METHOD_HELP.items():
            self.method_combo.addItem(name, method)
            self.method_combo.setItemData(self.method_combo.count() - 1, help_text,
                                          Qt.ItemDataRole.ToolTipRole)
        self.method_combo.activated.connect(lambda _i: self.studio.explain_now(self.method()))
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
        self.live_check.setChecked(state.live)
        self.live_check.toggled.connect(state.set_live)
        layout.addWidget(self.live_check)
        self.heat_check = QCheckBox("Colour strokes by attribution")
        self.heat_check.setChecked(state.show_heat)
        self.heat_check.toggled.connect(state.set_show_heat)
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

        state.methodChanged.connect(self.set_method)
        state.liveChanged.connect(self.live_check.setChecked)
        state.showHeatChanged.connect(self.heat_check.setChecked)
        state.targetChanged.connect(self._show_target)
        self.set_method(state.method)
        self.on_model(state.model)

    # --- reading the controls --------------------------------------------------------------------
    def method(self) -> str:
        return self.method_combo.currentData() or LIVE_METHOD

    def set_method(self, method: str) -> None:
        """Show `method` as the chosen one (the state's, or a preview before explaining)."""
        index = self.method_combo.findData(method)
        if index >= 0:
            self.method_combo.setCurrentIndex(index)
        method = self.method()
        self.method_help.setText(METHOD_HELP.get(method, ("", ""))[1])
        self.explain_button.setText(f"Explain with {METHOD_HELP.get(method, (method,))[0]}")

    def _target_typed(self) -> None:
        state = self.studio.state
        text = self.target_combo.currentText().strip()
        index = self.target_combo.findText(text, Qt.MatchFlag.MatchFixedString)
        if index < 0:
            # Not a class of this model: put back what is in force.
            self._show_target(state.target)
            return
        self.target_combo.setCurrentIndex(index)
        state.set_target(self.target_combo.itemData(index))

    def _show_target(self, target: str | None) -> None:
        index = self.target_combo.findData(target) if target is not None else 0
        self.target_combo.setCurrentIndex(max(index, 0))

    # --- observing -------------------------------------------------------------------------------
    def on_model(self, info: ModelInfo | None) -> None:
        classifier = info is not None and info.task == ModelTask.CLASSIFY
        self.target_combo.clear()
        self.target_combo.addItem("Predicted class", None)
        for label in info.labels if classifier and info is not None else ():
            self.target_combo.addItem(label, label)
        self._show_target(self.studio.state.target)
        self.class_link.set_labels(info.labels if classifier and info is not None else ())
        for widget in (self.target_combo, self.method_combo, self.explain_button):
            widget.setEnabled(classifier)
        # The old model's prediction never stays under the new model's name.
        self.prediction.setText("—")
        if info is None:
            self.confidence.setText(NO_MODEL)
        elif not classifier:
            self.confidence.setText(f"{info.name} is not a classifier: use its tab "
                                    "(Retrieve or Generate), or choose a classifier in the "
                                    "model list.")
        else:
            self.confidence.setText(DRAW_HINT)
        self._clear_details()

    def on_model_loading(self, loading: bool) -> None:
        # Only the first load leaves the panel without a model: a switch keeps the old model's
        # words until the new one arrives (on_model), or for good if the new one fails.
        if self.studio.state.model is None:
            self.confidence.setText(LOADING if loading else NO_MODEL)

    def on_document(self, sketch: Sketch) -> None:
        if not len(sketch):
            self.prediction.setText("—")
            info = self.studio.state.model
            if info is not None and info.task == ModelTask.CLASSIFY:   # else its words stay
                self.confidence.setText(DRAW_HINT)
            self._clear_details()

    def on_busy(self, busy: bool, method: str | None) -> None:
        info = self.studio.state.model
        self.explain_button.setEnabled(info is not None and info.task == ModelTask.CLASSIFY)

    def on_explanation(self, sketch: Sketch, result: Attribution) -> None:
        info = self.studio.state.model
        if not len(sketch) or info is None or info.task != ModelTask.CLASSIFY:
            self.on_document(sketch)
            return
        if result.prediction:
            label, prob = result.prediction[0]
            self.prediction.setText(label)
            self.confidence.setText(f"{format_probability(prob)} sure · {info.name}")
        unit = score_unit(result.objective)
        d = self.detail_labels
        d["method"].setText(method_label(result.method))
        d["target"].setText(result.target or "—")
        d["score"].setText(f"{format_score(result.score_full)} {unit} "
                           f"(blank {format_score(result.score_blank)})")
        d["sum"].setText(format_value(float(result.strokes.sum()))
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
