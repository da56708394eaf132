"""The status bar: model, device, the last explanation's timing, progress and Cancel, messages.

It shows what the controllers report and keeps nothing stale: the timing resets when the model or
the drawing is replaced, and an error message goes away once what failed works again.

Progress has two sources that may overlap: an explanation (shown at once when asked for, after a
delay when live) and a task (a tool, a file read). The bar and its Cancel button show while
either wants them; Esc (the Cancel action) is enabled while either runs.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from .explain_controller import ExplainController
from .model_controller import ModelController, describe
from .task_runner import TaskRunner
from .worker import ModelInfo

NO_LATENCY = "Attribution: —"


class StudioStatusBar(QStatusBar):
    def __init__(self, cancel: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.cancel_action = cancel
        self.model_label = QLabel("Model: none")
        self.device_label = QLabel("Device: —")
        self.latency_label = QLabel(NO_LATENCY)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(cancel)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setText("Cancel")
        self.cancel_button.hide()
        for widget in (self.model_label, self.device_label, self.latency_label, self.progress,
                       self.cancel_button):
            self.addPermanentWidget(widget)
        self._explaining = False        # an explanation job runs
        self._explain_shown = False     # ... and wants the bar (asked for, or slow)
        self._task = False              # a task runs
        self._task_shown = False        # ... and wants the bar (not quiet, or slow)
        self._error: str | None = None  # the message of the error on show, if it still is
        cancel.setEnabled(False)

    def observe(self, explainer: ExplainController, tasks: TaskRunner,
                models: ModelController) -> None:
        """Follow the explanation jobs, the tasks and model loads: progress, Cancel, timings,
        what ended, what is loading."""
        models.loading.connect(self.model_loading)
        explainer.busyChanged.connect(lambda busy, _method: self.explain_busy(busy))
        explainer.progressShown.connect(self.explain_progress_shown)
        explainer.progressed.connect(self.set_fraction)
        explainer.latencyChanged.connect(self.set_latency)
        explainer.cancelled.connect(
            lambda: self.showMessage("Cancelled: showing the last explanation", 5000))
        explainer.worker.notice.connect(lambda text: self.showMessage(text, 8000))
        tasks.started.connect(self.task_started)
        tasks.progressed.connect(self.set_fraction)
        tasks.ended.connect(self.task_ended)
        tasks.cancelled.connect(
            lambda name: self.showMessage(f"{name}: cancelled, nothing changed", 5000))

    # --- model -----------------------------------------------------------------------------------
    def model_loading(self, name: str) -> None:
        self.model_label.setText(f"Model: loading {name}…")
        self.set_latency(NO_LATENCY, "")

    def model_loaded(self, info: ModelInfo) -> None:
        what = describe(info.task, len(info.labels))
        self.model_label.setText(f"Model: {info.name}")
        self.model_label.setToolTip(f"{info.id} · {what} · "
                                    f"{info.spec.size}×{info.spec.size} input\n{info.card_path}")
        self.device_label.setText(f"Device: {info.device}")
        self.set_latency(NO_LATENCY, "")
        # "· 40 classes ·", not "CNN (40 categories) (40 classes)": names often say it too.
        self.showMessage(f"Loaded {info.name} · {what} · {info.device}", 5000)

    def model_kept(self, info: ModelInfo | None) -> None:
        """A load failed: say which model is still in use."""
        self.model_label.setText(f"Model: {info.name}" if info is not None else "Model: none")

    def no_model(self, message: str) -> None:
        self.model_label.setText("Model: none")
        self.device_label.setText("Device: —")
        self.showMessage(message, 0)

    def set_latency(self, text: str, tooltip: str = "") -> None:
        self.latency_label.setText(text)
        self.latency_label.setToolTip(tooltip)

    # --- messages --------------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self._error = message
        self.showMessage(message, 12000)

    def clear_error(self) -> None:
        """What failed works again: its message goes (another message stays)."""
        if self._error is not None and self.currentMessage() == self._error:
            self.clearMessage()
        self._error = None

    # --- progress --------------------------------------------------------------------------------
    def explain_busy(self, busy: bool) -> None:
        self._explaining = busy
        if not busy:
            self._explain_shown = False
        else:
            self.progress.setValue(0)
        self._update()

    def explain_progress_shown(self) -> None:
        if self._explaining:
            self._explain_shown = True
            self._update()

    def task_started(self, name: str, quiet: bool) -> None:
        self._task = True
        self._task_shown = not quiet
        if not quiet:
            self.progress.setValue(0)
            self.showMessage(f"{name}…", 0)
        self._update()

    def task_progress_shown(self, text: str) -> None:
        """A quiet task (a file read) takes noticeably long after all: show its progress and
        `text` (what runs)."""
        if self._task:
            self._task_shown = True
            self.showMessage(text, 0)
            self._update()

    def task_ended(self, name: str) -> None:
        self._task = self._task_shown = False
        if self.currentMessage() == f"{name}…":
            self.clearMessage()
        self._update()

    def set_fraction(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))

    def _update(self) -> None:
        shown = self._explain_shown or self._task_shown
        self.progress.setVisible(shown)
        self.cancel_button.setVisible(shown)
        self.cancel_action.setEnabled(self._explaining or self._task)
