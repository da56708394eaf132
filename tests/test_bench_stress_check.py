"""benchmarks/bench_stress.py's colour check compares the canvas with a fresh explain() using the
method the studio ran (`live` by default), once the last recolour slice is applied.

It once compared with `sla-grad` while the studio's default had become `live`, and reported
"final heat colours match: False (max colour difference 147/255)" although the canvas showed
exactly its final explanation.
"""
from __future__ import annotations

import sys
from pathlib import Path

from qt_helpers import EXPLAIN_WAIT_MS, house

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_stress import final_colours_match  # noqa: E402


def test_the_colour_check_passes_on_the_colours_of_the_final_explanation(make_window, tiny_card,
                                                                          qtbot):
    window = make_window(tiny_card)
    assert window.state.method == "live"
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Draw")
    qtbot.waitUntil(lambda: not window.canvas.heat_pending, timeout=EXPLAIN_WAIT_MS)
    ok, note = final_colours_match(window, str(tiny_card), "cpu")
    assert ok, note
    assert note.startswith("live:")        # it names what ran


def test_the_colour_check_fails_on_colours_of_another_explanation(make_window, tiny_card, qtbot):
    from dataclasses import replace

    from sketchstudio.studio.heat import HeatMap

    window = make_window(tiny_card)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house(), "Draw")
    sketch, result = window.last_result
    # The canvas shows other values than the explanation: the check must see it.
    window.canvas.set_heat(HeatMap(sketch, replace(result, strokes=-result.strokes)))
    qtbot.waitUntil(lambda: not window.canvas.heat_pending, timeout=EXPLAIN_WAIT_MS)
    ok, note = final_colours_match(window, str(tiny_card), "cpu")
    assert not ok, note
