"""Switching models never leaves a broken state (issue #16, item 3).

A classifier, an embedding model and a generator, switched through the model box in every order
(each walk below passes all six ordered pairs), each with something of its own on screen before
the switch (a target and an explanation; a gallery and a picked result; a region of the output).
After every switch: the new model's panel is in front, no error was shown, the strokes are plain
ink or the new model's own heat (never the old model's, never black), the Classify tab does not
show the old prediction, Generate's region text and Retrieve's gallery are reset.
"""
from __future__ import annotations

import model_zoo
import numpy as np
import pytest
from qt_helpers import EXPLAIN_WAIT_MS, MODEL_WAIT_MS, house, panel_of, rgb

from sketchstudio.models import ModelStore
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import save_sketches

CLASSIFIER, EMBED, GENERATOR = "classifier", "embed", "generator"
# Each walk passes every ordered pair of the three models once.
WALKS = {
    CLASSIFIER: (CLASSIFIER, EMBED, GENERATOR, CLASSIFIER, GENERATOR, EMBED, CLASSIFIER),
    EMBED: (EMBED, GENERATOR, CLASSIFIER, GENERATOR, EMBED, CLASSIFIER, EMBED),
    GENERATOR: (GENERATOR, CLASSIFIER, EMBED, GENERATOR, EMBED, CLASSIFIER, GENERATOR),
}
BLACK = (0, 0, 0)


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    root = tmp_path_factory.mktemp("switching")
    return {
        CLASSIFIER: model_zoo.make_model(root / "classifier", name="Five classes",
                                         labels=("apple", "book", "cat", "dog", "eye")),
        EMBED: model_zoo.make_model(root / "embed", task="embed", labels=None, classes=16,
                                    name="Tiny embedder"),
        GENERATOR: model_zoo.make_model(root / "generator", task="generate", labels=None,
                                        behaviour="generator", name="Tiny generator"),
    }


@pytest.fixture
def gallery_file(tmp_path):
    rng = np.random.default_rng(0)
    sketches = [Sketch.from_arrays([np.cumsum(rng.normal(0, 12, (6, 2)), axis=0) + 128
                                    for _ in range(1 + k % 3)], word=("cat", "dog")[k % 2])
                for k in range(8)]
    path = tmp_path / "gallery.ndjson"
    save_sketches(path, sketches)
    return path


def _panels(window):
    from sketchstudio.studio.generate_panel import GeneratePanel
    from sketchstudio.studio.panels import ClassifyPanel
    from sketchstudio.studio.retrieve_panel import RetrievePanel

    return (panel_of(window, ClassifyPanel), panel_of(window, RetrievePanel),
            panel_of(window, GeneratePanel))


def _settle(window, qtbot) -> None:
    """Wait until nothing runs: no explanation, no task (a late error would show by then)."""
    qtbot.waitUntil(lambda: not window.explainer.running and not window.tasks.running,
                    timeout=EXPLAIN_WAIT_MS)


def _switch(window, qtbot, model_id: str) -> None:
    combo = window.model_combo
    index = combo.findData(model_id)
    assert index >= 0, [combo.itemData(i) for i in range(combo.count())]
    with qtbot.waitSignal(window.modelReady, timeout=MODEL_WAIT_MS):
        combo.setCurrentIndex(index)
        combo.activated.emit(index)


def _use(window, qtbot, kind: str, gallery) -> None:
    """Put something of this model's own on screen: what a switch must clear."""
    classify, retrieve, generate = _panels(window)
    if kind == CLASSIFIER:
        with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
            window.state.set_target("cat")
        assert window.last_result is not None and window.last_result[1].target == "cat"
    elif kind == EMBED:
        retrieve.open(gallery)
        qtbot.waitUntil(lambda: retrieve.found_sketch is window.document.sketch,
                        timeout=EXPLAIN_WAIT_MS)
        with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
            retrieve.results.item(0).setSelected(True)
        assert window.last_result[1].objective == "cosine"
    else:
        qtbot.waitUntil(lambda: generate.output is not None, timeout=EXPLAIN_WAIT_MS)
        with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
            generate.explain_whole()
        assert generate.region_label.text().startswith("Region") or "mean" in \
            generate.region_label.text()
    _settle(window, qtbot)
    # One more stroke, and the switch follows at once: the explanation, search or generation it
    # starts is on its way while the next model loads.
    sketch = window.document.sketch
    window.document.apply(sketch.with_strokes(tuple(sketch.strokes) + (house().strokes[1],)),
                          "Draw")


def _check(window, qtbot, kind: str, errors: list[str]) -> None:
    from sketchstudio.studio.generate_panel import HINT
    from sketchstudio.studio.heat import INK

    classify, retrieve, generate = _panels(window)
    info = window.state.model
    current = window.panels[window.panel_tabs.currentIndex()]
    assert info.task in current.tasks, (kind, current.title)
    if kind == CLASSIFIER:
        # The new model's own first look, with its own classes.
        qtbot.waitUntil(lambda: window.last_result is not None
                        and window.last_result[0] is window.document.sketch,
                        timeout=EXPLAIN_WAIT_MS)
    elif kind == GENERATOR:
        qtbot.waitUntil(lambda: generate.output is not None, timeout=EXPLAIN_WAIT_MS)
    _settle(window, qtbot)
    assert errors == [] and window.last_error is None, (kind, errors, window.last_error)
    colours = [rgb(c) for c in window.canvas.stroke_colours()]
    assert len(colours) == len(window.document.sketch) and BLACK not in colours, colours
    if kind == CLASSIFIER:
        label, _p = window.last_result[1].prediction[0]
        assert label in info.labels and classify.prediction.text() == label
        assert window.state.target is None or window.state.target in info.labels
    else:
        # Nothing to attribute until the panel says what: plain ink, no stale explanation.
        assert window.last_result is None and window.state.objective is None
        assert set(colours) == {rgb(INK)}, colours
        assert classify.prediction.text() == "—"
        assert window.plots.probabilities.values == [], kind
    # "5 classes…" opens the class list: for a classifier only.
    assert classify.class_link.isVisibleTo(classify) == (kind == CLASSIFIER)
    assert generate.region_label.text() == (HINT if kind == GENERATOR else "")
    assert generate.region is None
    assert retrieve.gallery is None and retrieve.results.count() == 0
    assert "sketchstudio" not in window.statusBar().currentMessage()


@pytest.mark.parametrize("first", list(WALKS))
def test_switching_in_every_order_leaves_a_valid_state(make_window, cards, gallery_file, qtbot,
                                                      first):
    store = ModelStore()
    ids = {kind: store.add(card, check=False) for kind, card in cards.items()}
    window = make_window(None)
    errors: list[str] = []
    window.errorShown.connect(errors.append)
    window.document.apply(house(), "Import")
    with qtbot.waitSignal(window.modelReady, timeout=MODEL_WAIT_MS):
        window.start(model=ids[first])
    walk = WALKS[first]
    _check(window, qtbot, walk[0], errors)
    for before, after in zip(walk, walk[1:], strict=False):
        _use(window, qtbot, before, gallery_file)
        _switch(window, qtbot, ids[after])
        _check(window, qtbot, after, errors)
