"""`ExplainController`: the explanation jobs on the worker, from snapshot to shown result.

The one-way loop: the document's snapshot and the state's method, target and objective go to the
worker as an `ExplainRequest`; the worker's result comes back here, is checked against the current
generation and snapshot (an outdated one is dropped), and goes upward as `explained`. The window
connects that to the canvas, the plots and the panels; this controller never touches a widget.

When to explain: after an edit when live explanation is on (coalesced: one request per event-loop
turn), when the target or the objective changes, when a model arrives (its first look, even with
live off), and on demand (F5, a panel's button). While a model is loading nothing is sent: the
worker would explain with whichever model it holds by then, with settings meant for the other one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from ..explain import Attribution
from ..explain.registry import method_label
from ..models.tasks import ModelTask
from ..sketch import Sketch
from .document import StudioDocument
from .heat import HeatMap
from .state import StudioState
from .worker import CURVE_MAX_STROKES, ExplainRequest, ExplainWorker, ModelInfo

if TYPE_CHECKING:
    from .model_controller import ModelController

# Show the progress bar for live explanations only when they take noticeably long.
PROGRESS_DELAY_MS = 400


class ExplainController(QObject):
    busyChanged = Signal(bool, object)      # a job runs (its method) / none does (None)
    progressShown = Signal()                # the running job is slow or asked for: show progress
    progressed = Signal(float)              # fraction of the running job
    explained = Signal(object, object, object)   # Sketch, Attribution, HeatMap: show them
    explanationShown = Signal()             # after `explained`: views show the current snapshot
    curveReady = Signal(object, object)     # DeletionCurve, target label
    curveShown = Signal()
    failed = Signal(str, bool)              # the message to show, asked for on demand
    cancelled = Signal()                    # the user stopped the running job
    latencyChanged = Signal(str, str)       # status bar text, its tooltip
    forgotten = Signal()                    # no explanation now: plain ink, empty plots

    def __init__(self, worker: ExplainWorker, state: StudioState, document: StudioDocument,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.state = state
        self.document = document
        self.last_result: tuple[Sketch, Attribution] | None = None
        self.heat: HeatMap | None = None
        self.curve_pending = False
        self._job: tuple[int, str, bool] | None = None  # (generation, method, on demand)
        self._loading = False       # a model is on its way: nothing to send until it arrives
        self._closing = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)      # coalesce edits made in one event-loop turn
        self._timer.timeout.connect(self._explain_scheduled)
        self._force = False             # the scheduled run is due even with live off
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_DELAY_MS)
        self._progress_timer.timeout.connect(self._show_progress)

        worker.jobStarted.connect(self._job_started)
        worker.progressed.connect(self._job_progress)
        worker.explained.connect(self._explained)
        worker.curveReady.connect(self._curve_ready)
        worker.failed.connect(self._job_failed)
        worker.jobCancelled.connect(self._job_cancelled)
        state.modelChanged.connect(self._model_changed)
        state.targetChanged.connect(lambda _t: self.schedule(force=True))
        state.objectiveChanged.connect(self._objective_changed)
        state.liveChanged.connect(lambda live: self.schedule() if live else None)
        state.methodChanged.connect(lambda _m: self.schedule())
        document.changed.connect(lambda _sketch, _selection: self.schedule())

    # --- public ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._job is not None

    def explain_now(self, method: str | None = None) -> None:
        """Explain the current snapshot now; a given method becomes the chosen one (it stays until
        the user picks another: edits, target changes, model switches and reopened files rerun
        it)."""
        if method is not None:
            self.state.set_method(method)
        self._submit(on_demand=True)

    def schedule(self, force: bool = False) -> None:
        """Explain soon (after the current event-loop turn): when live, or `force`d."""
        self._force = self._force or force
        if self._force or self.state.live:
            self._timer.start()

    def cancel(self) -> bool:
        """Stop the running job (Esc): the last explanation stays. False when none ran."""
        if self._job is None:
            return False
        self.worker.cancel()
        self._end_job()
        self.latencyChanged.emit("Attribution: cancelled", "")
        self.cancelled.emit()
        return True

    def forget(self) -> None:
        """The drawing was replaced (New, Open) or there is nothing to explain: plain ink."""
        self._clear()
        self.schedule()

    def follow_models(self, models: ModelController) -> None:
        """A model on its way ends the job of the old one; a failed load keeps the old one."""
        models.loading.connect(self.model_loading)
        models.failed.connect(self.model_failed)

    def model_loading(self, _name: str = "") -> None:
        """Another model is on its way: the running job belongs to the old one."""
        self._loading = True
        self._timer.stop()
        self._end_job()
        self.latencyChanged.emit("Attribution: —", "")

    def model_failed(self, _message: str = "") -> None:
        """The load failed: the worker keeps the model it had, and so does the state."""
        self._loading = False
        self.schedule()

    def shutdown(self) -> None:
        self._closing = True
        self._timer.stop()
        self._progress_timer.stop()

    # --- sending ---------------------------------------------------------------------------------
    def _model_changed(self, info: ModelInfo | None) -> None:
        self._loading = False
        self._clear()
        if info is not None:
            # The new model's view of the drawing with the chosen method, once, even when live
            # explanation is off (an embedding model or a generator waits for its objective).
            self._submit()

    def _objective_changed(self, objective: Any) -> None:
        if objective is None:
            if self.state.model is not None and self.state.model.task != ModelTask.CLASSIFY:
                self._end_job_if_running()
                self._clear()
        else:
            self.schedule(force=True)

    def _clear(self) -> None:
        """No explanation now: the views show plain ink and empty plots."""
        self.last_result = None
        self.heat = None
        self.curve_pending = False
        self.forgotten.emit()

    def _explain_scheduled(self) -> None:
        self._force = False
        # Every edit reruns the method the user chose: what is on screen is what was chosen.
        self._submit()

    def _submit(self, on_demand: bool = False) -> None:
        """Explain the current snapshot with the chosen method. On demand (the user asked) shows
        progress at once and reports a failure in a dialog; after an edit, quietly unless it
        takes long."""
        self._timer.stop()
        self._force = False
        if self._closing or self._loading or not self.state.explainable():
            return      # no model, or an embed/generate model with nothing to attribute yet
        method = self.state.method
        generation = self.worker.submit(ExplainRequest(
            self.document.sketch, method, self.state.target, objective=self.state.objective))
        self._job = (generation, method, on_demand)
        self.busyChanged.emit(True, method)
        self.progressed.emit(0.0)
        if on_demand:
            self._show_progress()
        else:
            self._progress_timer.start()

    # --- the worker's reports --------------------------------------------------------------------
    def _current(self, generation: int) -> bool:
        return (self._job is not None and generation == self._job[0]
                and generation == self.worker.generation)

    def _show_progress(self) -> None:
        if self._job is not None:
            self.progressShown.emit()

    def _end_job(self) -> None:
        was_busy = self._job is not None
        self._job = None
        self._progress_timer.stop()
        if was_busy:
            self.busyChanged.emit(False, None)

    def _end_job_if_running(self) -> None:
        if self._job is not None:
            self.worker.cancel()
            self._end_job()

    def _job_started(self, generation: int, method: str) -> None:
        if self._current(generation) and self._job is not None and self._job[2]:
            self.latencyChanged.emit(f"{method_label(method)}: running…", "")

    def _job_progress(self, generation: int, fraction: float) -> None:
        if self._current(generation):
            self.progressed.emit(fraction)

    def _explained(self, generation: int, sketch: Sketch, result: Attribution) -> None:
        if not self._current(generation) or sketch is not self.document.sketch:
            return   # an outdated snapshot: a newer request is on its way
        self._end_job()
        self.last_result = (sketch, result)
        self.heat = HeatMap(sketch, result)
        self.curve_pending = (result.target_index is not None
                              and 0 < len(sketch) <= CURVE_MAX_STROKES)
        self.latencyChanged.emit(f"{method_label(result.method)}: {result.elapsed_ms:.0f} ms",
                                 str(result.params.get("live", {}).get("reason", "")))
        self.explained.emit(sketch, result, self.heat)
        self.explanationShown.emit()

    def _curve_ready(self, generation: int, curve: Any) -> None:
        if generation != self.worker.generation or self.last_result is None:
            return
        self.curve_pending = False
        self.curveReady.emit(curve, self.last_result[1].target)
        self.curveShown.emit()

    def _job_failed(self, generation: int, message: str) -> None:
        if not self._current(generation):
            return
        on_demand = bool(self._job and self._job[2])
        self._end_job()
        self.latencyChanged.emit("Attribution: failed", message)
        text = f"Explanation failed: {message}"
        if self.last_result is not None:
            text += " (showing the last good explanation)"
        self.failed.emit(text, on_demand)

    def _job_cancelled(self, generation: int) -> None:
        if self._current(generation):
            self._end_job()
