"""Tool runs in the worker: progress, results, failures and cancellation; tool overlays."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from qt_helpers import EXPLAIN_WAIT_MS, house

from sketchstudio.errors import UserError
from sketchstudio.progress import check
from sketchstudio.studio.overlay import arrow_path, significant_arrows


def test_a_task_gets_the_loaded_model_and_reports_progress_then_its_result(make_window, tiny_card,
                                                                           qtbot):
    window = make_window(tiny_card)
    seen, done = [], []

    def run(model, progress, cancelled):
        assert threading.current_thread() is not threading.main_thread()
        for k in range(3):
            progress((k + 1) / 3, {"step": k})
        return model.labels

    window.tasks.run("Count", run, done.append, on_progress=lambda f, p: seen.append((f, p)))
    assert window.tasks.running and window.progress.isVisible()
    qtbot.waitUntil(lambda: bool(done), timeout=EXPLAIN_WAIT_MS)
    assert done == [("apple", "book")]
    assert [p["step"] for _f, p in seen] == [0, 1, 2] and seen[-1][0] == pytest.approx(1.0)
    assert not window.tasks.running and not window.progress.isVisible()


def test_a_failing_task_says_why_and_the_studio_keeps_working(make_window, tiny_card, qtbot):
    window = make_window(tiny_card)
    failed = []

    def run(model, progress, cancelled):
        raise UserError("budget must be in (0, 1]")

    with qtbot.waitSignal(window.errorShown, timeout=EXPLAIN_WAIT_MS) as blocker:
        window.tasks.run("Attack", run, lambda r: None, on_failed=failed.append)
    assert failed == ["budget must be in (0, 1]"]
    assert "Attack failed: budget must be in (0, 1]" in blocker.args[0]
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")


def test_cancel_stops_a_running_task_and_drawing_does_not(make_window, tiny_card, qtbot):
    window = make_window(tiny_card)
    started = threading.Event()
    release = threading.Event()
    done, cancelled_calls = [], []

    def run(model, progress, cancelled):
        started.set()
        while not cancelled():
            release.wait(0.005)
        check(cancelled)

    window.tasks.run("Slow", run, done.append, on_cancelled=lambda: cancelled_calls.append(1))
    assert started.wait(10)
    window.document.apply(house(), "Import")     # an edit: explanations wait, the task goes on
    qtbot.wait(50)
    assert window.tasks.running
    window.cancel_work()                          # Esc
    assert cancelled_calls == [1] and not window.tasks.running
    # The explanation that waited behind the task now runs.
    qtbot.waitUntil(lambda: window.last_result is not None
                    and window.last_result[0] is window.document.sketch, timeout=EXPLAIN_WAIT_MS)
    assert done == []


def test_a_second_task_replaces_the_first(make_window, tiny_card, qtbot):
    window = make_window(tiny_card)
    first, second = [], []
    gate = threading.Event()

    def slow(model, progress, cancelled):
        gate.wait(5)
        check(cancelled)
        return "first"

    window.tasks.run("One", slow, first.append)
    window.tasks.run("Two", lambda m, p, c: "second", second.append)
    gate.set()
    qtbot.waitUntil(lambda: bool(second), timeout=EXPLAIN_WAIT_MS)
    qtbot.wait(50)
    assert second == ["second"] and first == []


def test_apply_edit_is_one_undoable_step(make_window, tiny_card, qtbot):
    window = make_window(tiny_card)
    window.document.apply(house(), "Import")
    before = window.document.sketch
    moved = before.with_strokes([s.with_points(s.points + 3.0) for s in before.strokes])
    window.apply_edit(moved, "Accept hints")
    assert window.document.sketch is moved
    window.document.undo_stack.undo()
    assert window.document.sketch is before
    assert window.document.undo_stack.undoText() == "Import"


def test_overlay_layers_replace_and_clear(make_window, tiny_card):
    window = make_window(tiny_card)
    layer = window.canvas.overlay("assist")
    assert window.canvas.overlay("assist") is layer
    pts = np.array([[0.0, 0.0], [10.0, 0.0]])
    layer.set_ghost([pts, pts + 5])
    layer.set_arrows(pts, pts + [[0, 4], [0, 0]])
    layer.set_image(np.zeros((8, 8, 4), np.uint8), (0, 0, 80, 40))
    assert layer.has("ghost") and layer.has("arrows") and layer.has("image")
    image = layer.item("image").sceneBoundingRect()
    box = (image.left(), image.top(), image.width(), image.height())
    assert box == pytest.approx((0, 0, 80, 40))
    layer.set_ghost([])
    assert not layer.has("ghost")
    layer.clear()
    assert layer.empty
    assert all(item.scene() is None or item in window.canvas.items_
               for item in window.canvas.scene_.items() if item.zValue() >= 1_000_000)


def test_significant_arrows_drop_tiny_moves_and_cap_the_count():
    starts = np.zeros((1000, 2))
    ends = np.zeros((1000, 2))
    ends[:, 0] = np.r_[np.full(500, 1e-4), np.linspace(1, 2, 500)]
    s, e = significant_arrows(starts, ends, limit=100)
    assert len(s) == 100 and (np.linalg.norm(e - s, axis=1) >= 0.1).all()
    assert arrow_path(s, e, 0.5).elementCount() > 0


def test_a_remembered_gpu_that_is_gone_opens_on_the_cpu_and_says_so(qtbot, tiny_card, monkeypatch):
    import torch

    from sketchstudio.studio.main_window import MainWindow

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    window = MainWindow(device="cuda", persist=False)
    qtbot.addWidget(window)
    notices = []
    window.worker.notice.connect(notices.append)
    try:
        with qtbot.waitSignal(window.modelReady, timeout=EXPLAIN_WAIT_MS) as ready:
            window.start(model=str(tiny_card))
        assert ready.args[0].device == "cpu"
        assert any("CUDA" in n and "CPU" in n for n in notices)
    finally:
        window.shutdown()


def test_work_for_a_model_waits_while_another_model_loads(qtbot):
    """A search made for one model must never run on the model that replaces it: while a model
    loads, the running work that needs a model is cancelled and new such work is refused."""
    from sketchstudio.studio.task_runner import TaskRunner
    from sketchstudio.studio.worker import ExplainWorker

    worker = ExplainWorker()        # not started: runs are only queued
    tasks = TaskRunner(worker)
    cancelled, busy = [], []
    tasks.busyChanged.connect(busy.append)
    tasks.run("Search", lambda *_: None, None, on_cancelled=lambda: cancelled.append("first"))
    tasks.hold_model_work()
    assert cancelled == ["first"] and not tasks.running and busy == [True, False]
    assert tasks.run("Search", lambda *_: None, None,
                     on_cancelled=lambda: cancelled.append("refused")) == -1
    assert cancelled == ["first", "refused"] and not tasks.running
    # Reading a file needs no model: it goes on.
    assert tasks.run("Opening", lambda *_: None, None, needs_model=False) > 0
    assert tasks.running
    tasks.release_model_work()
    assert tasks.run("Search", lambda *_: None, None) > 0 and tasks.name == "Search"
    tasks.forget()
    worker.stop()
