"""The explanation worker: one background thread that loads models, explains snapshots and runs
tools.

Latest wins. The GUI thread never waits on it: `submit()` drops the request into a mailbox that
holds at most one pending explanation (a newer one replaces an older one) and bumps a generation
counter. The running job's `cancelled()` callable compares its own generation with the counter, so
the engine stops at its next check as soon as anything newer arrives, and a result whose generation
is no longer current is dropped by the window. Only plain Python values (Sketch snapshots, requests,
Attribution, Curves, ModelInfo) travel, through signals; the loaded model never leaves this thread.

Tools (assist, attack, a gallery's embedding pass) are `TaskRequest`s: an engine function that gets
the loaded model, a progress callable and a cancellation check. A task has its own slot and
generation counter, so drawing (which cancels and replaces explanations) never cancels a tool run;
while a task runs, explanations wait for it.
"""
from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QThread, Signal

from ..errors import UserError
from ..progress import Cancelled, TaskState
from ..render import RenderSpec
from ..sketch import Sketch

log = logging.getLogger(__name__)

# The studio's default: occlusion where it is cheap enough, else few-step SLA (explain/live.py).
LIVE_METHOD = "live"
# The deletion curve costs N + 1 forward passes: past this many strokes it is not drawn live.
CURVE_MAX_STROKES = 300


@dataclass(frozen=True)
class ModelInfo:
    """What the GUI may know about the loaded model (the model object stays in the worker)."""

    id: str
    name: str
    task: str
    labels: tuple[str, ...]
    spec: RenderSpec
    device: str
    card_path: str
    source: str


@dataclass(frozen=True)
class ExplainRequest:
    sketch: Sketch
    method: str = LIVE_METHOD
    target: str | None = None
    curve: bool = True
    # For embed/generate models: the task objective (e.g. cosine similarity to one gallery item).
    objective: Any = None


# progress(fraction, payload): payload is whatever the engine reports along (e.g. probabilities).
TaskProgress = Callable[[float, Any], None]


@dataclass(frozen=True)
class TaskRequest:
    """Engine work on the loaded model: `run(model, progress, cancelled) -> result`."""

    name: str
    run: Callable[[Any, TaskProgress, Callable[[], bool]], Any]
    # False for work that never touches the model (reading a file): it runs, with model None,
    # before any model is loaded too.
    needs_model: bool = True


@dataclass(frozen=True)
class LoadRequest:
    source: str                     # store id or card path
    device: str | None = None       # None / "auto": the best available


class _Mailbox:
    """At most one pending model load and one pending explanation; newer replaces older."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.load: LoadRequest | None = None
        self.explain: tuple[int, ExplainRequest] | None = None
        self.task: tuple[int, TaskRequest] | None = None
        self.generation = 0
        self.task_generation = 0
        self.stopping = False


class ExplainWorker(QThread):
    modelLoaded = Signal(object)            # ModelInfo
    modelFailed = Signal(str)               # one line
    jobStarted = Signal(int, str)           # generation, method
    progressed = Signal(int, float)         # generation, fraction
    explained = Signal(int, object, object)  # generation, Sketch, Attribution
    curveReady = Signal(int, object)        # generation, Curves
    failed = Signal(int, str)               # generation, one line
    jobCancelled = Signal(int)              # generation
    notice = Signal(str)                    # e.g. a GPU that ran out of memory
    taskProgressed = Signal(int, float, object)   # task id, fraction, payload
    taskDone = Signal(int, object)          # task id, result
    taskFailed = Signal(int, str)           # task id, one line
    taskCancelled = Signal(int)             # task id

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("ExplainWorker")
        self._box = _Mailbox()
        self._model: Any = None     # touched by the worker thread only

    # --- GUI thread ------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._box.generation

    def submit(self, request: ExplainRequest) -> int:
        """Queue an explanation, cancelling whatever runs or waits; returns its generation."""
        with self._box.lock:
            self._box.generation += 1
            generation = self._box.generation
            self._box.explain = (generation, request)
            self._box.lock.notify()
        return generation

    def load_model(self, request: LoadRequest) -> None:
        """Load (in the worker) a model; the running explanation is cancelled, results dropped."""
        with self._box.lock:
            self._box.generation += 1
            self._box.load = request
            self._box.lock.notify()

    def cancel(self) -> None:
        with self._box.lock:
            self._box.generation += 1
            self._box.explain = None

    def submit_task(self, request: TaskRequest) -> int:
        """Queue a tool run, cancelling the one that runs or waits; returns its task id."""
        with self._box.lock:
            self._box.task_generation += 1
            task_id = self._box.task_generation
            self._box.task = (task_id, request)
            self._box.lock.notify()
        return task_id

    def cancel_task(self) -> None:
        with self._box.lock:
            self._box.task_generation += 1
            self._box.task = None

    def stop(self, timeout_ms: int | None = None) -> bool:
        """Cancel everything and wait for the thread to end (safe to call twice)."""
        with self._box.lock:
            self._box.stopping = True
            self._box.generation += 1
            self._box.task_generation += 1
            self._box.explain = None
            self._box.task = None
            self._box.load = None
            self._box.lock.notify()
        if not self.isRunning():
            return True
        return self.wait() if timeout_ms is None else self.wait(timeout_ms)

    # --- worker thread ---------------------------------------------------------------------------
    def run(self) -> None:
        box = self._box
        while True:
            with box.lock:
                while not (box.stopping or box.load or box.explain or box.task):
                    box.lock.wait()
                if box.stopping:
                    break
                load, box.load = box.load, None
                job = task = None
                if load is None:
                    task, box.task = box.task, None
                if load is None and task is None:
                    job, box.explain = box.explain, None
            try:
                if load is not None:
                    self._load(load)
                elif task is not None:
                    self._run_task(*task)
                elif job is not None:
                    self._explain(*job)
            except Exception as exc:  # never let the thread die: the studio must keep working
                log.exception("unexpected error in the explanation worker")
                message = f"unexpected error: {type(exc).__name__}: {exc}"
                if task is not None:
                    self.taskFailed.emit(task[0], message)
                elif load is not None:
                    # The model controller, the explanations and the tools wait for the load
                    # to end: say it failed (the worker keeps the model it had).
                    self.modelFailed.emit(message)
                else:
                    generation = job[0] if job is not None else box.generation
                    self.failed.emit(generation, message)
        self._model = None

    def _load(self, request: LoadRequest) -> None:
        from ..explain.warmup import warm_up
        from ..models import choose_device, load_model

        device = request.device
        try:
            choose_device(device)
        except UserError as exc:
            # E.g. the GPU remembered from the last session is gone (unplugged, driver reset):
            # the studio must still open, on the CPU, and say why it is slower.
            self.notice.emit(f"{exc}; using the CPU instead")
            device = "cpu"
        try:
            model = load_model(request.source, device=device)
        except UserError as exc:
            self.modelFailed.emit(str(exc))
            return
        try:
            # The first call pays for kernel selection and caches; pay it here, not while drawing.
            warm_up(model)
        except UserError as exc:
            self.modelFailed.emit(f"model {model.id!r} cannot be explained: {exc}")
            return
        self._model = model
        card = getattr(model, "card", None)
        self.modelLoaded.emit(ModelInfo(
            id=model.id, name=getattr(model, "name", model.id), task=model.task,
            labels=tuple(model.labels), spec=model.spec, device=str(model.device),
            card_path=str(getattr(card, "path", "")), source=request.source))

    def _explain(self, generation: int, request: ExplainRequest) -> None:
        from ..explain import explain
        from ..models import run_with_oom_fallback

        box = self._box

        def cancelled() -> bool:
            return box.generation != generation or box.stopping

        if cancelled():
            return
        model = self._model
        if model is None:
            # The model failed to load and said so already: nothing to explain, nothing to add.
            self.jobCancelled.emit(generation)
            return
        self.jobStarted.emit(generation, request.method)
        last = [0.0, 0.0]  # fraction, time of the last progress signal

        def progress(fraction: float) -> None:
            now = time.monotonic()
            if fraction >= 1.0 or fraction - last[0] >= 0.02 and now - last[1] >= 0.05:
                last[0], last[1] = fraction, now
                self.progressed.emit(generation, fraction)

        # The engine's one long-work protocol: progress and cancellation through one state.
        state = TaskState(progress=progress, cancelled=cancelled)

        def run(device):
            on_device = model if device == model.device else model.to(device)
            return explain(request.sketch, on_device, method=request.method,
                           target=request.target, objective=request.objective, state=state)

        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result, device = run_with_oom_fallback(run, model.device)
        except Cancelled:
            self.jobCancelled.emit(generation)
            return
        except UserError as exc:
            self.failed.emit(generation, str(exc))
            return
        for w in caught:
            self.notice.emit(str(w.message))
        if device != model.device:
            self._model = model.to(device)
        self.explained.emit(generation, request.sketch, result)

        if (request.curve and result.target_index is not None
                and 0 < len(request.sketch) <= CURVE_MAX_STROKES):
            # Only when nothing newer waits: the live explanation matters more than the curve.
            with box.lock:
                waiting = box.explain is not None or box.load is not None
            if waiting or cancelled():
                return
            from ..explain.faithfulness import attribution_deletion_curve

            try:
                curve = attribution_deletion_curve(request.sketch, self._model,
                                                   result.target_index, result.strokes, cancelled)
            except Cancelled:
                return
            except UserError as exc:
                self.notice.emit(f"deletion curve: {exc}")
                return
            if not cancelled():
                self.curveReady.emit(generation, curve)

    def _run_task(self, task_id: int, request: TaskRequest) -> None:
        box = self._box

        def cancelled() -> bool:
            return box.task_generation != task_id or box.stopping

        if cancelled():
            return
        if self._model is None and request.needs_model:
            self.taskFailed.emit(task_id, "no model is loaded")
            return
        last = [0.0]

        def progress(fraction: float, payload: Any = None) -> None:
            # Payloads (e.g. a probability per iteration) always go through; bare fractions are
            # thinned to about 20 signals a second.
            now = time.monotonic()
            if payload is not None or fraction >= 1.0 or now - last[0] >= 0.05:
                last[0] = now
                self.taskProgressed.emit(task_id, float(fraction), payload)

        try:
            result = request.run(self._model, progress, cancelled)
        except Cancelled:
            self.taskCancelled.emit(task_id)
            return
        except UserError as exc:
            self.taskFailed.emit(task_id, str(exc))
            return
        if cancelled():
            self.taskCancelled.emit(task_id)
        else:
            self.taskDone.emit(task_id, result)

