"""The plots under the canvas: readable bar labels, a heat scale that names its unit and clips no
tick, empty and pending states that say what will appear, and a click on a class bar."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest

from sketchstudio.explain.result import Attribution
from sketchstudio.studio.plot_style import OTHER_BRUSH, PLOT_COLOURS, TARGET_BRUSH
from sketchstudio.studio.plots import (
    EMPTY_CLASSES,
    EMPTY_CURVE,
    PENDING_CURVE,
    PlotsPanel,
    bar_label,
)
from sketchstudio.studio.style import contrast_ratio

PREDICTION = [("house", 0.93), ("barn", 0.04), ("shed", 0.02), ("castle", 0.004),
              ("hospital", 0.001)]


def result(objective: str = "logit", prediction=PREDICTION, target: str = "house") -> Attribution:
    return Attribution(method="occlusion", strokes=np.array([1.0, -0.5]), score_full=2.0,
                       score_blank=0.0, target=target, target_index=0, objective=objective,
                       prediction=list(prediction))


@pytest.fixture
def panel(qtbot):
    widget = PlotsPanel()
    qtbot.addWidget(widget)
    widget.resize(820, 210)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_every_percentage_reads_on_what_is_behind_it(panel):
    panel.show_result(result(prediction=[("house", 0.93), ("barn", 0.95)], target="house"), 1.0)
    texts = panel.probabilities._labels
    # The long dark target bar carries white text on it; the long light bar dark text.
    for text, bar in ((texts[0], TARGET_BRUSH), (texts[1], OTHER_BRUSH)):
        assert text.pos().x() < 0.95
        assert contrast_ratio(text.color, bar) >= 4.5, text.toPlainText()
    assert texts[0].color.lightness() > 200
    # A short bar's label sits on the white plot, right of the bar.
    panel.show_result(result(), 1.0)
    for k, (_, p) in enumerate(PREDICTION[1:], start=1):
        assert texts[k].pos().x() > p
        assert contrast_ratio(texts[k].color, Qt.GlobalColor.white) >= 4.5
    assert [t.toPlainText() for t in texts] == ["93%", "4%", "2%", "<1%", "<1%"]


@pytest.mark.parametrize("p", [0.05, 0.5, 0.77, 0.78, 0.9, 1.0])
@pytest.mark.parametrize("bar", [TARGET_BRUSH, OTHER_BRUSH])
def test_bar_label_placement_is_readable_for_any_probability(p, bar):
    place = bar_label(p, bar)
    behind = bar if place.inside else Qt.GlobalColor.white
    assert contrast_ratio(place.colour, behind) >= 4.5
    assert place.inside == (place.x < p)      # inside means: drawn on the bar, left of its end
    assert 0.0 <= place.x <= 1.0


@pytest.mark.parametrize("objective, unit", [("logit", "logit"), ("probability", "probability"),
                                             ("cosine", "cosine similarity"),
                                             ("region-mean", "mean output")])
def test_the_heat_scale_names_the_unit_of_the_objective(panel, objective, unit):
    panel.show_result(result(objective), 2.5)
    bar = panel.colour_bar
    assert bar.unit == unit
    assert unit in bar.getPlotItem().getAxis("right").labelText
    panel.clear()
    assert bar.unit == ""


def drawn_tick_labels(plot, axis_name: str) -> list[tuple[str, object]]:
    """(text, rect in the widget's viewport) of every tick label the axis draws."""
    axis = plot.getPlotItem().getAxis(axis_name)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(text, plot.mapFromScene(axis.mapRectToScene(rect)).boundingRect())
            for rect, _, text in texts]


@pytest.mark.parametrize("scale", [1.0, 0.00123, 123.4, 4.2e-7])
def test_no_heat_scale_tick_is_hidden_or_clipped(panel, qtbot, scale):
    bar = panel.colour_bar
    panel.show_result(result(), scale)
    qtbot.waitUntil(lambda: bar.width() == bar.minimumWidth())
    drawn = drawn_tick_labels(bar, "right")
    assert [text for text, _ in drawn] == bar.tick_labels()
    assert bar.tick_labels()[0].startswith("-") and bar.tick_labels()[-1].startswith("+")
    inside = bar.viewport().rect()
    for text, rect in drawn:
        assert inside.contains(rect), (text, rect, inside)


def test_the_deletion_axes_show_their_ends(panel):
    panel.deletion.show_curve(np.array([0.9, 0.4, 0.1]), 0.3, "house")
    for name in ("left", "bottom"):
        texts = [text for text, _ in drawn_tick_labels(panel.deletion, name)]
        assert texts[0] == "0" and texts[-1] == "1", (name, texts)


def test_empty_plots_say_what_will_appear(panel):
    panel.clear()
    assert panel.probabilities.placeholder.message == EMPTY_CLASSES
    assert panel.deletion.placeholder.message == EMPTY_CURVE
    panel.show_result(result(), 1.0)
    assert panel.probabilities.placeholder.message == ""
    assert panel.deletion.placeholder.message == EMPTY_CURVE


def test_a_curve_being_measured_replaces_the_old_one(panel):
    deletion = panel.deletion
    deletion.show_curve(np.array([0.9, 0.4, 0.1]), 0.3, "house")
    assert deletion.curve is not None and deletion.placeholder.message == ""
    assert "AUC 0.3" in deletion.getPlotItem().titleLabel.text
    # A newer prediction arrives: the old curve goes with it, then the new one is pending.
    panel.show_result(result(target="barn"), 1.0)
    assert deletion.curve is None and not deletion.pending
    deletion.set_pending()
    assert deletion.pending and deletion.placeholder.message == PENDING_CURVE
    assert len(deletion._curve.xData if deletion._curve.xData is not None else []) == 0
    assert "AUC" not in deletion.getPlotItem().titleLabel.text
    deletion.show_curve(np.array([0.8, 0.2]), 0.5, "barn")
    assert not deletion.pending and deletion.placeholder.message == ""
    assert list(deletion._curve.yData) == [0.8, 0.2]


def bar_point(plot, row: int, x: float):
    """The viewport position of class row `row` (0 = top) at view x."""
    vb = plot.getPlotItem().vb
    scene = vb.mapViewToScene(QPointF(x, plot.ROWS - 1 - row))
    return plot.mapFromScene(scene)


@pytest.mark.parametrize("row, x, label", [(0, 0.5, "house"), (1, 0.02, "barn"),
                                           (2, 0.6, "shed")])
def test_clicking_a_class_bar_asks_for_that_target(panel, qtbot, row, x, label):
    panel.show_result(result(), 1.0)
    plot = panel.probabilities
    with qtbot.waitSignal(panel.targetClicked, timeout=2000) as signal:
        QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, bar_point(plot, row, x))
    assert signal.args == [label]


def test_a_click_on_an_empty_plot_asks_for_nothing(panel, qtbot):
    panel.clear()
    plot = panel.probabilities
    with qtbot.assertNotEmitted(panel.targetClicked):
        QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, bar_point(plot, 0, 0.5))


def test_the_dark_scheme_keeps_every_text_readable(panel):
    from PySide6.QtGui import QColor

    panel.show_result(result(), 0.5)
    panel.set_scheme("dark")
    background = QColor(PLOT_COLOURS["dark"].background)
    for plot in (panel.probabilities, panel.deletion, panel.colour_bar):
        assert plot.backgroundBrush().color() == background
        for name in ("left", "bottom", "right"):
            axis = plot.getPlotItem().getAxis(name)
            if axis.isVisible():
                assert contrast_ratio(axis.textPen().color(), background) >= 4.5, name
    labels = panel.probabilities._labels
    assert contrast_ratio(labels[0].color, TARGET_BRUSH) >= 4.5       # on its bar
    for text in labels[1:]:                                            # on the dark plot
        assert contrast_ratio(text.color, background) >= 4.5, text.toPlainText()
    panel.clear()
    for placeholder in (panel.probabilities.placeholder, panel.deletion.placeholder):
        assert contrast_ratio(placeholder.color, background) >= 4.5
    panel.set_scheme("light")
    assert panel.probabilities.backgroundBrush().color() == QColor("#ffffff")
    assert contrast_ratio(panel.deletion.placeholder.color, QColor("#ffffff")) >= 4.5


@pytest.mark.parametrize("task", ["embed", "generate"])
def test_other_models_get_a_note_in_place_of_the_classifier_plots(qtbot, task):
    from sketchstudio.studio.plots import PlotsPanel

    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.show()
    plots.set_task(task)
    assert not plots.probabilities.isVisible() and not plots.deletion.isVisible()
    assert plots.task_note.isVisible() and "for classifiers" in plots.task_note.text()
    assert plots.colour_bar.isVisible()
    plots.set_task("classify")
    assert plots.probabilities.isVisible() and not plots.task_note.isVisible()
