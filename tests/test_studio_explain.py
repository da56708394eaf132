"""Live explanation in the worker thread: heat colours, methods, target, latest-wins, clean exit."""
from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from qt_helpers import EXPLAIN_WAIT_MS, draw_line, house, rgb

from sketchstudio.explain import explain
from sketchstudio.explain.colormap import heat_rgb, symmetric_scale
from sketchstudio.models import load_model
from sketchstudio.render import RenderSpec
from sketchstudio.studio.heat import INK


def expected_colours(values, scale=None):
    return [tuple(int(c) for c in row) for row in heat_rgb(np.asarray(values), scale)]


def test_heat_colours_equal_explain_on_the_same_snapshot(make_window, tiny_card, qtbot):
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")
    sketch, shown = window.last_result
    assert sketch is window.document.sketch and shown.method == "live:occlusion"
    reference = explain(sketch, load_model(str(tiny_card), device="cpu"), method="live")
    np.testing.assert_allclose(shown.strokes, reference.strokes, rtol=1e-5, atol=1e-7)
    colours = [rgb(c) for c in window.canvas.stroke_colours()]
    assert colours == expected_colours(reference.strokes)
    from sketchstudio.studio.numbers import format_value

    assert format_value(reference.strokes[2]) in window.canvas.items_[2].toolTip()
    assert "stroke 3" in window.canvas.items_[2].toolTip()     # numbered as users count
    # The plots show the same explanation.
    assert window.plots.probabilities.values == shown.prediction
    assert window.plots.colour_bar.scale == pytest.approx(symmetric_scale(shown.strokes))
    # Heat off: plain ink; on again: the same colours.
    window.state.set_show_heat(False)
    assert all(rgb(c) == rgb(INK) for c in window.canvas.stroke_colours())
    window.state.set_show_heat(True)
    assert [rgb(c) for c in window.canvas.stroke_colours()] == colours


def test_drawing_triggers_a_live_explanation_and_a_deletion_curve(make_window, tiny_card, qtbot):
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.curveShown, timeout=EXPLAIN_WAIT_MS):
        draw_line(window.canvas, (40, 40), (200, 80))
        draw_line(window.canvas, (60, 200), (200, 120))
    assert len(window.last_result[0]) == 2
    assert len(window.plots.deletion.curve) == 3
    assert "ms" in window.latency_label.text()


def test_psla_on_demand_colours_along_the_stroke(make_window, tiny_card, qtbot):
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.explain_now("psla")
    sketch, result = window.last_result
    assert result.method == "psla" and result.segments is not None
    scale = symmetric_scale(np.concatenate(result.segments))
    item = window.canvas.items_[0]
    expected = expected_colours(result.segments[0], scale)
    assert [rgb(c) for c in item.heat.segment_colours] == expected
    assert window.panels[0].method() == "psla"


def test_changing_the_target_re_explains(make_window, wide_card, qtbot):
    window = make_window(wide_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Import")
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.state.set_target("dog")
    sketch, result = window.last_result
    assert result.target == "dog"
    reference = explain(sketch, load_model(str(wide_card), device="cpu"), method="live",
                        target="dog")
    np.testing.assert_allclose(result.strokes, reference.strokes, rtol=1e-5, atol=1e-7)
    panel = window.panels[0]
    assert panel.target_combo.currentData() == "dog"
    # A new stroke keeps the chosen target.
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        draw_line(window.canvas, (30, 30), (90, 40))
    assert window.last_result[1].target == "dog"


class GatedModel:
    """A model whose forward pass waits for a gate: the test decides when a job may go on."""

    id = "gated"
    name = "Gated test model"
    task = "classify"
    labels = ("apple", "book")
    device = torch.device("cpu")
    card = SimpleNamespace(path=Path("gated/card.toml"))
    # 256 px input: the engine batches 15 renders at a time, so 16 SLA steps take two batches
    # with a cancellation check between them.
    spec = RenderSpec(size=256, sigma=1.5, fit="center", margin=0.08)

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.module = torch.nn.Sequential(torch.nn.AvgPool2d(32), torch.nn.Flatten(),
                                          torch.nn.Linear(64, 2)).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        self.entered.set()
        self.gate.wait(20)
        return self.module(x)

    def to(self, device):
        return self


@pytest.fixture
def gated(monkeypatch):
    model = GatedModel()
    monkeypatch.setattr("sketchstudio.models.load_model", lambda source, device=None: model)
    yield model
    model.gate.set()   # never leave the worker blocked for the window's teardown


def test_latest_wins_the_running_job_is_cancelled(make_window, gated, qtbot):
    window = make_window("gated")
    with qtbot.waitSignal(window.curveShown, timeout=EXPLAIN_WAIT_MS):   # the worker is idle
        window.document.apply(house(), "Import")
    cancelled, explained = [], []
    window.worker.jobCancelled.connect(cancelled.append)
    window.worker.explained.connect(lambda g, s, r: explained.append((g, s, r)))
    gated.gate.clear()
    gated.entered.clear()
    window.explain_now("sla")                      # job A: two batches, blocked in the first
    first = window.worker.generation
    assert window.progress.isVisible() and window.cancel_button.isVisible()
    assert gated.entered.wait(10)
    draw_line(window.canvas, (30, 30), (90, 40))   # an edit: job B (sla again) replaces A
    latest = window.document.sketch
    qtbot.waitUntil(lambda: window.worker.generation > first, timeout=2000)
    gated.gate.set()
    qtbot.waitUntil(lambda: window.last_result is not None and window.last_result[0] is latest,
                    timeout=EXPLAIN_WAIT_MS)
    assert first in cancelled                      # A stopped at its next check
    assert all(g != first for g, _s, _r in explained)
    # The edit reran the chosen method, not some other "live" one.
    assert window.last_result[1].method == "sla" and len(window.last_result[1].strokes) == 5
    assert not window.progress.isVisible()


def test_results_for_outdated_snapshots_are_dropped(make_window, gated, qtbot):
    window = make_window("gated")
    qtbot.waitUntil(lambda: window.state.model is not None, timeout=EXPLAIN_WAIT_MS)
    qtbot.wait(100)
    shown = []
    window.explanationShown.connect(lambda: shown.append(window.last_result[0]))
    gated.gate.clear()
    gated.entered.clear()
    window.document.apply(house(), "Import")       # job A (live occlusion: one batch, finishes)
    qtbot.waitUntil(lambda: gated.entered.is_set(), timeout=EXPLAIN_WAIT_MS)
    window.document.apply(house().remove_strokes([3]), "Erase")   # job B
    latest = window.document.sketch
    gated.gate.set()
    qtbot.waitUntil(lambda: window.last_result is not None and window.last_result[0] is latest,
                    timeout=EXPLAIN_WAIT_MS)
    qtbot.wait(100)
    assert shown == [latest]


def test_cancel_button_keeps_the_last_explanation(make_window, gated, qtbot):
    window = make_window("gated")
    with qtbot.waitSignal(window.curveShown, timeout=EXPLAIN_WAIT_MS):   # the worker is idle
        window.document.apply(house(), "Import")
    before = window.last_result
    gated.gate.clear()
    gated.entered.clear()
    window.explain_now("occlusion")
    assert gated.entered.wait(10)
    window.actions_["cancel"].trigger()
    gated.gate.set()
    assert not window.progress.isVisible()
    qtbot.wait(300)
    assert window.last_result is before
    assert "cancelled" in window.latency_label.text().lower()


def test_closing_while_a_job_runs_exits_cleanly(make_window, gated, qtbot):
    window = make_window("gated")
    with qtbot.waitSignal(window.curveShown, timeout=EXPLAIN_WAIT_MS):   # the worker is idle
        window.document.apply(house(), "Import")
    window.document.undo_stack.setClean()
    gated.gate.clear()
    gated.entered.clear()
    window.explain_now("sla")
    assert gated.entered.wait(10)
    assert window.worker.isRunning()
    # The model is mid-forward: let it return shortly after the window starts closing.
    threading.Timer(0.2, gated.gate.set).start()
    assert window.close()
    assert window.worker.isFinished() and not window.worker.isRunning()


def test_live_deletion_curve_equals_the_engine_curve(tiny_card):
    from sketchstudio.explain.faithfulness import attribution_deletion_curve, curves, order_by

    model = load_model(str(tiny_card), device="cpu")
    sketch = house()
    values = explain(sketch, model, method="sla-grad").strokes
    engine = curves(sketch, model, 0, order_by(values))
    ours = attribution_deletion_curve(sketch, model, 0, values, lambda: False)
    np.testing.assert_allclose(ours.deletion, engine.deletion, rtol=1e-5, atol=1e-6)
    assert ours.deletion_auc == pytest.approx(engine.deletion_auc)


def test_undo_redo_shortcuts(make_window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    window = make_window()
    actions = window.actions_
    assert QKeySequence("Ctrl+Z") in actions["undo"].shortcuts()
    redo_keys = set(actions["redo"].shortcuts())
    assert {QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")} <= redo_keys
    assert window.tool_actions["eraser"].shortcut() == QKeySequence("E")
    draw_line(window.canvas, (40, 40), (200, 60))
    draw_line(window.canvas, (40, 100), (200, 120))
    window.activateWindow()
    if QApplication.activeWindow() is window:   # real key presses need an active window
        ctrl = Qt.KeyboardModifier.ControlModifier
        QTest.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
        QTest.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
        assert len(window.document.sketch) == 0
        QTest.keyClick(window.canvas, Qt.Key.Key_Z, ctrl | Qt.KeyboardModifier.ShiftModifier)
        QTest.keyClick(window.canvas, Qt.Key.Key_Y, ctrl)
        assert len(window.document.sketch) == 2
    else:
        actions["undo"].trigger()
        assert len(window.document.sketch) == 1
        actions["redo"].trigger()
        assert len(window.document.sketch) == 2


def test_a_large_drawing_is_recoloured_in_slices_to_the_same_colours(make_window, tiny_card, qtbot):
    from sketchstudio.sketch import Sketch
    from sketchstudio.studio.canvas import RECOLOUR_SLICE

    rng = np.random.default_rng(1)
    n = RECOLOUR_SLICE * 2 + 7
    big = Sketch.from_arrays([rng.uniform(0, 256, (3, 2)) for _ in range(n)])
    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(big, "Import")
    # The first slice is on screen at once; the rest follow on the next event-loop turns.
    assert window.canvas.heat_pending
    qtbot.waitUntil(lambda: not window.canvas.heat_pending, timeout=EXPLAIN_WAIT_MS)
    reference = explain(big, load_model(str(tiny_card), device="cpu"), method="live")
    expected = [tuple(int(c) for c in row) for row in heat_rgb(reference.strokes)]
    assert [rgb(c) for c in window.canvas.stroke_colours()] == expected


def test_erasing_one_stroke_keeps_the_stacking_of_the_others(make_window, tiny_card, qtbot):
    from sketchstudio.studio.canvas import restack

    window = make_window(tiny_card)
    window.document.apply(house(), "Import")
    items = list(window.canvas.items_)
    before = [item.zValue() for item in items]
    window.document.apply(window.document.sketch.remove_strokes([1]), "Erase")
    kept = window.canvas.items_
    assert [item.zValue() for item in kept] == [before[0], before[2], before[3]]
    window.document.undo_stack.undo()           # stroke 1 comes back between 0 and 2
    z = [item.zValue() for item in window.canvas.items_]
    assert z == sorted(z) and len(set(z)) == 4
    restack(window.canvas.items_)                # already in order: nothing changes
    assert [item.zValue() for item in window.canvas.items_] == z
