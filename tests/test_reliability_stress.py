"""Reliability, item 6: a 1,000-stroke sketch and a burst of fast edits while live attribution runs.

Correctness only (timings belong to benchmarks/bench_stress.py, which prints the figures): the
engine explains 1,000 strokes with every stroke-level method; after 100 edits per second the studio
ends showing the heat colours of the final document, not of some earlier snapshot; the undo history
and the journal stay bounded.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from qt_helpers import EXPLAIN_WAIT_MS

from sketchstudio.explain import explain
from sketchstudio.explain.colormap import heat_rgb
from sketchstudio.models import load_model
from sketchstudio.sketch import Sketch, Stroke
from sketchstudio.sketch.io import load_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_stress import Editor  # noqa: E402

pytestmark = pytest.mark.slow  # 1,000-stroke drawings

N = 1000


def thousand() -> Sketch:
    rng = np.random.default_rng(1)
    return Sketch([Stroke(np.cumsum(rng.normal(0, 5, (int(rng.integers(1, 9)), 2)), axis=0)
                          + rng.uniform(0, 1000, 2)) for _ in range(N)])


@pytest.mark.parametrize("method", ["sla-grad", "sla", "occlusion"])
def test_the_engine_explains_a_thousand_strokes(tiny_card, method):
    sketch = thousand()
    result = explain(sketch, load_model(tiny_card, device="cpu"), method=method)
    assert result.strokes.shape == (N,) and np.isfinite(result.strokes).all()
    if method == "sla":     # completeness holds at this size too
        total = result.score_full - result.score_blank
        assert abs(result.strokes.sum() - total) <= 0.05 * max(abs(total), 1e-3)


def test_fast_edits_end_with_the_colours_of_the_final_document(make_window, tiny_card, qtbot):
    window = make_window(tiny_card, persist=True)
    big = thousand()
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS * 3):
        window.document.apply(big, "Import")
    editor = Editor(window, rate=100, seconds=1.0)
    shown = []
    window.explanationShown.connect(lambda: shown.append(window.last_result[0]))
    editor.start()
    qtbot.waitUntil(lambda: editor.finished, timeout=60000)
    final = window.document.sketch
    assert editor.done == 100 and final is not big
    qtbot.waitUntil(lambda: window.last_result is not None and window.last_result[0] is final,
                    timeout=EXPLAIN_WAIT_MS * 3)
    # A large drawing is recoloured a slice per event-loop turn: wait for the last slice.
    qtbot.waitUntil(lambda: not window.canvas.heat_pending, timeout=EXPLAIN_WAIT_MS)
    sketch, result = window.last_result
    reference = explain(final, load_model(tiny_card, device="cpu"), method="live")
    np.testing.assert_allclose(result.strokes, reference.strokes, rtol=1e-4, atol=1e-6)
    scale = window.explainer.heat.scale
    want = heat_rgb(np.asarray(reference.strokes, dtype=float), scale).astype(int)
    got = np.array([(c.red(), c.green(), c.blue()) for c in window.canvas.stroke_colours()])
    assert got.shape == want.shape and np.abs(got - want).max() <= 1
    assert all(s is not None for s in shown)          # every result shown was of a real snapshot
    # bounded: the undo history has its limit; the journal holds the final document only
    assert window.document.undo_stack.count() <= window.document.undo_stack.undoLimit()
    window.autosave.flush()
    assert window.autosave.wait_idle()
    assert len(load_document(window.autosave.path).sketch) == len(final)
