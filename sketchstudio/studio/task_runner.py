"""`TaskRunner`: long engine work (a tool, a file read) run in the worker, one at a time.

A panel or controller calls `run(name, fn, on_done, ...)`; `fn(model, progress, cancelled)` runs in
the worker thread and its callbacks come back on the GUI thread. Starting another run cancels the
first (its callbacks never fire, except `on_replaced`, at once). The runner reports upward by
signals (`started`, `progressed`, `ended`, `failed`, `busyChanged`): the window shows the progress
bar and errors, panels enable their buttons on `busyChanged`, and nobody polls.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from .worker import ExplainWorker, TaskRequest

if TYPE_CHECKING:
    from .model_controller import ModelController


@dataclass(eq=False)
class _Run:
    task_id: int
    name: str
    callbacks: dict[str, Callable[..., Any] | None] = field(default_factory=dict)
    needs_model: bool = True


class TaskRunner(QObject):
    started = Signal(str, bool)         # name, quiet (a quick run that shows no progress bar)
    progressed = Signal(float)          # fraction done of the running task
    ended = Signal(str)                 # name: done, failed, cancelled or replaced
    failed = Signal(str, str)           # name, one-line message (the window shows it)
    cancelled = Signal(str)             # name: stopped by the user (Esc) or by a newer Open
    busyChanged = Signal(bool)          # a task is running / none is

    def __init__(self, worker: ExplainWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self._run: _Run | None = None
        self._held = False      # a model is loading: no work that needs one starts
        worker.taskProgressed.connect(self._progressed)
        worker.taskDone.connect(self._done)
        worker.taskFailed.connect(self._failed)
        worker.taskCancelled.connect(self._cancelled_by_worker)

    @property
    def running(self) -> bool:
        return self._run is not None

    @property
    def name(self) -> str | None:
        return self._run.name if self._run is not None else None

    def run(self, name: str, fn: Callable[..., Any], on_done: Callable[[Any], None] | None,
            on_progress: Callable[[float, Any], None] | None = None,
            on_failed: Callable[[str], None] | None = None,
            on_cancelled: Callable[[], None] | None = None, quiet: bool = False,
            on_replaced: Callable[[], None] | None = None, needs_model: bool = True) -> int:
        """Run `fn(model, progress, cancelled)` in the worker; callbacks come in the GUI thread.

        `quiet`: a quick run that follows the drawing (e.g. a generator's output) shows no
        progress bar. `needs_model=False`: work that runs without a model too (reading a file;
        `fn` gets None). While a model loads, work that needs one is refused: -1."""
        if needs_model and self._held:
            if on_cancelled is not None:
                on_cancelled()
            return -1
        replaced = None
        was_busy = self._run is not None
        if self._run is not None:
            replaced = self._run.callbacks.get("replaced")
            self._run.callbacks = {}
        task_id = self.worker.submit_task(TaskRequest(name, fn, needs_model))
        self._run = _Run(task_id, name, {"done": on_done, "progress": on_progress,
                                         "failed": on_failed, "cancelled": on_cancelled,
                                         "replaced": on_replaced}, needs_model)
        if replaced is not None:
            replaced()
        self.started.emit(name, quiet)
        if not was_busy:
            self.busyChanged.emit(True)
        return task_id

    def cancel(self) -> None:
        """Stop the running task (Esc): its `on_cancelled` runs, nothing it would have changed
        changes."""
        run = self._run
        if run is None:
            return
        self.worker.cancel_task()
        self._finish(run.task_id)
        self.cancelled.emit(run.name)
        callback = run.callbacks.get("cancelled")
        if callback is not None:
            callback()

    def hold_model_work(self) -> None:
        """Another model is being loaded: work made for the old one (a search, an attack) would
        run on the new one, so the running one is cancelled as Esc would, and new work that needs
        a model is refused (its `on_cancelled` runs) until `release_model_work`. Work without a
        model (reading a file) goes on."""
        self._held = True
        if self._run is not None and self._run.needs_model:
            self.cancel()

    def follow_models(self, models: ModelController) -> None:
        """Hold work that needs a model while `models` loads another one."""
        models.loading.connect(lambda _name: self.hold_model_work())
        models.loaded.connect(lambda _info: self.release_model_work())
        models.failed.connect(lambda _message: self.release_model_work())

    def release_model_work(self) -> None:
        """The model is in (or failed to load and the old one stays): work may start again."""
        self._held = False

    def forget(self) -> None:
        """On shutdown: drop the running task without calling anything back."""
        self._run = None

    # --- the worker's reports --------------------------------------------------------------------
    def _current(self, task_id: int) -> _Run | None:
        run = self._run
        return run if run is not None and run.task_id == task_id else None

    def _finish(self, task_id: int) -> _Run | None:
        run = self._current(task_id)
        if run is None:
            return None
        self._run = None
        self.ended.emit(run.name)
        self.busyChanged.emit(False)
        return run

    def _progressed(self, task_id: int, fraction: float, payload: Any) -> None:
        run = self._current(task_id)
        if run is None:
            return
        self.progressed.emit(fraction)
        callback = run.callbacks.get("progress")
        if callback is not None:
            callback(fraction, payload)

    def _done(self, task_id: int, result: Any) -> None:
        run = self._finish(task_id)
        if run is not None:
            callback = run.callbacks.get("done")
            if callback is not None:
                callback(result)

    def _failed(self, task_id: int, message: str) -> None:
        run = self._finish(task_id)
        if run is None:
            return
        callback = run.callbacks.get("failed")
        if callback is not None:
            callback(message)
        self.failed.emit(run.name, message)

    def _cancelled_by_worker(self, task_id: int) -> None:
        run = self._finish(task_id)
        if run is not None:
            callback = run.callbacks.get("cancelled")
            if callback is not None:
                callback()
