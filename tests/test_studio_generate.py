"""The Generate panel: output after every edit, region explanations as stroke colours, the ghost."""
from __future__ import annotations

import model_zoo
import numpy as np
import pytest
from qt_helpers import EXPLAIN_WAIT_MS, house, open_with_model

from sketchstudio.models import load_model
from sketchstudio.tasks.generate import Region, explain_region, generate


@pytest.fixture(scope="module")
def generator_card(tmp_path_factory):
    return model_zoo.make_model(tmp_path_factory.mktemp("gen"), task="generate", labels=None,
                                behaviour="generator", name="Tiny generator")


def open_generator(make_window, card, qtbot):
    from sketchstudio.studio.generate_panel import GeneratePanel

    return open_with_model(make_window, card, qtbot, GeneratePanel)


def test_the_output_follows_the_drawing(make_window, generator_card, qtbot):
    window, panel = open_generator(make_window, generator_card, qtbot)
    window.document.apply(house(), "Import")
    qtbot.waitUntil(lambda: panel.output_sketch is window.document.sketch, timeout=EXPLAIN_WAIT_MS)
    reference = generate(house(), load_model(str(generator_card), device="cpu"))
    np.testing.assert_allclose(panel.output.image, reference.image, atol=1e-6)
    assert panel.view.image is not None and panel.view.image.width() == reference.width
    # No region yet: nothing is explained, strokes stay plain ink.
    assert window.last_result is None
    # Class probabilities and deletion curves belong to classifiers: hidden, the colour bar stays.
    assert not window.plots.probabilities.isVisible() and window.plots.colour_bar.isVisible()


def test_a_dragged_region_colours_the_strokes_by_what_they_made(make_window, generator_card, qtbot):
    window, panel = open_generator(make_window, generator_card, qtbot)
    window.document.apply(house(), "Import")
    qtbot.waitUntil(lambda: panel.output_sketch is window.document.sketch, timeout=EXPLAIN_WAIT_MS)
    w, h = panel.output.width, panel.output.height
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        panel._region_dragged(2.3, 4.0, w / 2, h / 2)
    assert panel.region == Region(2, 4, w // 2, h // 2)
    sketch, shown = window.last_result
    assert sketch is window.document.sketch and shown.objective == "region-mean"
    reference = explain_region(house(), load_model(str(generator_card), device="cpu"),
                               region=panel.region, method="live")
    np.testing.assert_allclose(shown.strokes, reference.strokes, rtol=1e-5, atol=1e-7)
    assert "Region x 2" in panel.region_label.text()
    # Outside the image: said, and the region in force stays.
    panel._region_dragged(w + 5, h + 5, w + 9, h + 9)
    assert "outside" in panel.region_label.text() and panel.region == Region(2, 4, w // 2, h // 2)
    # No region: the colours go back to plain ink.
    panel.set_region(None)
    assert window.last_result is None and window.state.objective is None


def test_the_ghost_lies_over_the_input_square(make_window, generator_card, qtbot):
    window, panel = open_generator(make_window, generator_card, qtbot)
    window.document.apply(house(), "Import")
    qtbot.waitUntil(lambda: panel.output_sketch is window.document.sketch, timeout=EXPLAIN_WAIT_MS)
    panel.ghost_check.setChecked(True)
    layer = window.canvas.overlay("generate")
    assert layer.has("image")
    # The input square of the model, placed back on the canvas: (pixel - offset) / scale.
    spec = load_model(str(generator_card)).spec
    scale, offset = spec.placement(house())
    x0, y0 = -offset / scale
    x1, y1 = (spec.size - offset) / scale
    rect = layer.item("image").sceneBoundingRect()
    assert (rect.left(), rect.top(), rect.right(), rect.bottom()) == pytest.approx((x0, y0, x1, y1),
                                                                                   rel=1e-6)
    panel.ghost_check.setChecked(False)
    assert layer.empty


@pytest.fixture(scope="module")
def fill_card():
    from sketchstudio.models import builtin_models_dir

    card = builtin_models_dir() / "default-generate" / "card.toml"
    if not card.is_file():
        pytest.skip("the built-in default-generate model is not in resources/models")
    return card


def closed_square():
    from sketchstudio.sketch import Sketch

    return Sketch.from_arrays([[[0, 0], [100, 0]], [[100, 0], [100, 100]],
                               [[100, 100], [0, 100]], [[0, 100], [0, 0]],
                               [[150, 40], [170, 60]]])


def test_clicking_a_filled_area_explains_that_area(make_window, fill_card, qtbot):
    from sketchstudio.studio.generate_panel import display_image

    window, panel = open_generator(make_window, fill_card, qtbot)
    window.document.apply(closed_square(), "Import")
    qtbot.waitUntil(lambda: panel.output_sketch is window.document.sketch, timeout=EXPLAIN_WAIT_MS)
    # The picture: the input's ink dark, what the generator added (the square's inside) green.
    picture = display_image(panel.output)
    r, g, b, _ = picture[32, 24].astype(int)
    assert g > r + 40 and g > b + 40
    assert "encloses" in panel.stats.text()
    # A click outside anything the generator made says so and explains nothing.
    panel._clicked(1.0, 1.0)
    assert "Nothing the generator made" in panel.region_label.text()
    assert panel.region_mask is None
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        panel._clicked(24.5, 32.5)
    mask = panel.region_mask
    assert mask is not None and mask[32, 24] and not mask[1, 1]
    sketch, shown = window.last_result
    assert shown.objective == "region-mean"
    assert window.state.objective.pixels == int(mask.sum())
    reference = explain_region(closed_square(), load_model(str(fill_card), device="cpu"),
                               mask=mask, method="live")
    np.testing.assert_allclose(shown.strokes, reference.strokes, rtol=1e-5, atol=1e-7)
    assert int(np.argmax(shown.strokes)) in (0, 1, 2, 3)      # a side of the square, not the tick
    assert "Clicked area" in panel.region_label.text()
    # The ghost is what the generator added, laid over the input square.
    panel.ghost_check.setChecked(True)
    assert window.canvas.overlay("generate").has("image")


def test_the_region_words_name_the_method_as_users_read_it(make_window, fill_card, qtbot):
    window, panel = open_generator(make_window, fill_card, qtbot)
    assert panel.clear_button.text() == "Clear region"
    window.document.apply(closed_square(), "Import")
    qtbot.waitUntil(lambda: panel.output_sketch is window.document.sketch, timeout=EXPLAIN_WAIT_MS)
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        panel._clicked(24.5, 32.5)
    text = panel.region_label.text()
    assert "Clicked area" in text and "live:" not in text and "(Live: " in text
    assert "e-0" not in text        # no scientific notation for a mean output in [0, 1]
