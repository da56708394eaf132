"""Reference images (pyqtgraph's approach): the canvas with heat colours and the plots, rendered
offscreen at a fixed size from fixed data (no model: an Attribution built by hand), compared with
stored PNGs in tests/reference/ within a per-pixel tolerance (see studio_images.py).

Regenerate after a deliberate change of look:

    SKETCHSTUDIO_UPDATE_REFERENCES=1 QT_QPA_PLATFORM=offscreen \\
        .venv/bin/python -m pytest tests/test_studio_reference_images.py -p no:cacheprovider

then look at every PNG that changed before committing it. On a failure the actual image and an
amplified difference are written to the test's tmp_path; the assertion names both.
"""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from qt_helpers import house
from studio_images import (
    REFERENCES,
    assert_image_approved,
    differing_fraction,
    open_canvas,
    rgb_array,
)

from sketchstudio.explain.result import Attribution
from sketchstudio.studio.heat import HeatMap
from sketchstudio.studio.plots import PlotsPanel

# Support, opposition, a weak one and a dot: dark red, blue, light red and grey.
SLA_VALUES = np.array([1.0, -0.8, 0.3, 0.0])
# P-SLA: walls from red to blue along the stroke, roof half and half, door weak, the dot neutral.
PSLA_SEGMENTS = [np.array([0.9, 0.3, -0.5, -0.9]), np.array([1.0, -1.0]),
                 np.array([0.2, 0.6, 0.2]), np.array([0.0])]
PREDICTION = [("house", 0.93), ("barn", 0.04), ("shed", 0.02), ("castle", 0.004),
              ("hospital", 0.001)]


def sla(values: np.ndarray = SLA_VALUES) -> Attribution:
    return Attribution(method="occlusion", strokes=np.asarray(values, dtype=float),
                       score_full=1.0, score_blank=0.0)


def psla() -> Attribution:
    return Attribution(method="psla", strokes=np.array([s.sum() for s in PSLA_SEGMENTS]),
                       score_full=1.0, score_blank=0.0, segments=PSLA_SEGMENTS)


def canvas_image(qtbot, result: Attribution | None) -> QImage:
    """The house on a 360x320 canvas, coloured by `result` (None: plain ink)."""
    canvas = open_canvas(qtbot, 360, 320)
    canvas.document.apply(house(), "Import")
    canvas.fit()
    if result is not None:
        canvas.set_heat(HeatMap(canvas.document.sketch, result))
        qtbot.waitUntil(lambda: not canvas.heat_pending, timeout=5000)
    return canvas.grab().toImage()


def test_the_canvas_paints_stroke_heat_like_its_reference(qtbot, tmp_path):
    assert_image_approved(canvas_image(qtbot, sla()), "canvas_heat_house", tmp_path)


def test_the_canvas_paints_segment_heat_like_its_reference(qtbot, tmp_path):
    assert_image_approved(canvas_image(qtbot, psla()), "canvas_psla_house", tmp_path)


def plots_image(qtbot) -> QImage:
    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.resize(820, 210)
    panel.show()
    qtbot.waitExposed(panel)
    result = Attribution(method="occlusion", strokes=SLA_VALUES, score_full=3.2, score_blank=0.1,
                         target="house", target_index=0, objective="logit",
                         prediction=PREDICTION)
    panel.show_result(result, 1.0)
    panel.deletion.show_curve(np.array([0.93, 0.5, 0.2, 0.05]), 0.31, "house")
    return panel.grab().toImage()


def test_the_plots_look_like_their_reference(qtbot, tmp_path):
    assert_image_approved(plots_image(qtbot), "plots_house", tmp_path)


@pytest.mark.parametrize("broken", ["reversed colour map", "plain ink", "blank canvas"])
def test_a_wrongly_coloured_or_blank_canvas_fails_the_check(qtbot, tmp_path, broken):
    """The check can fail: the pictures a broken canvas would paint are far outside the
    tolerance (a reversed map swaps red and blue; plain ink is the canvas without heat)."""
    if broken == "reversed colour map":
        image = canvas_image(qtbot, sla(-SLA_VALUES))
    elif broken == "plain ink":
        image = canvas_image(qtbot, None)
    else:
        canvas = open_canvas(qtbot, 360, 320)
        image = canvas.grab().toImage()
    want = rgb_array(QImage(str(REFERENCES / "canvas_heat_house.png")))
    fraction = differing_fraction(rgb_array(image), want, 32)
    print(f"{broken}: {fraction:.2%} of the pixels differ")
    assert fraction > 0.005
    with pytest.raises(AssertionError, match="differ from canvas_heat_house.png") as failure:
        assert_image_approved(image, "canvas_heat_house", tmp_path)
    assert (tmp_path / "canvas_heat_house.actual.png").is_file()
    assert (tmp_path / "canvas_heat_house.diff.png").is_file()
    assert str(tmp_path / "canvas_heat_house.diff.png") in str(failure.value)
