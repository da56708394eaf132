"""The Retrieve panel: gallery opened in the worker, results follow the drawing, picking explains the
match, Refine is one undoable edit."""
from __future__ import annotations

import numpy as np
import pytest

import model_zoo
from qt_helpers import (EXPLAIN_WAIT_MS, house, isolated_studio, make_window,  # noqa: F401
                        open_with_model)
from sketchstudio.models import load_model
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import save_sketches
from sketchstudio.tasks.retrieve import explain_match, open_gallery, retrieve


@pytest.fixture(scope="module")
def embed_card(tmp_path_factory):
    return model_zoo.make_model(tmp_path_factory.mktemp("embed"), task="embed", labels=None,
                                classes=16, name="Tiny embedder")


@pytest.fixture
def gallery_file(tmp_path):
    rng = np.random.default_rng(0)
    sketches = []
    for k in range(30):
        strokes = [np.cumsum(rng.normal(0, 12, (6, 2)), axis=0) + 128 for _ in range(1 + k % 4)]
        sketches.append(Sketch.from_arrays(strokes, word=["cat", "dog", "sun"][k % 3]))
    path = tmp_path / "gallery.ndjson"
    save_sketches(path, sketches)
    return path


def open_embedder(make_window, card, qtbot):
    from sketchstudio.studio.retrieve_panel import RetrievePanel

    return open_with_model(make_window, card, qtbot, RetrievePanel)


def open_and_search(window, panel, path, qtbot):
    window.document.apply(house(), "Import")
    panel.open(path)
    qtbot.waitUntil(lambda: panel.found_sketch is window.document.sketch, timeout=EXPLAIN_WAIT_MS)


def test_results_match_the_engine_and_carry_thumbnails(make_window, embed_card, gallery_file, qtbot):
    window, panel = open_embedder(make_window, embed_card, qtbot)
    open_and_search(window, panel, gallery_file, qtbot)
    assert len(panel.gallery) == 30 and "30 drawings" in panel.gallery_label.text()
    model = load_model(str(embed_card), device="cpu")
    reference = retrieve(house(), model, open_gallery(gallery_file, model), top=12)
    assert [m.row for m in panel.found.matches] == [m.row for m in reference]
    assert panel.results.count() == 12
    thumbnails = panel.found.thumbnails
    assert set(thumbnails) == {m.row for m in reference}
    assert all(t is not None and t.shape == (72, 72, 4) for t in thumbnails.values())
    assert all(not panel.results.item(i).icon().isNull() for i in range(panel.results.count()))
    # An edit searches again; rows already drawn are not read back from the gallery again.
    window.document.apply(house().remove_strokes([0]), "Delete")
    qtbot.waitUntil(lambda: panel.found_sketch is window.document.sketch, timeout=EXPLAIN_WAIT_MS)
    assert not set(panel.found.thumbnails) & set(thumbnails)
    assert all(not panel.results.item(i).icon().isNull() for i in range(panel.results.count()))


def test_picking_a_result_explains_the_similarity_to_it(make_window, embed_card, gallery_file, qtbot):
    window, panel = open_embedder(make_window, embed_card, qtbot)
    open_and_search(window, panel, gallery_file, qtbot)
    row = panel.found.matches[2].row
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        panel.results.item(2).setSelected(True)
    assert panel.picked_row == row
    sketch, shown = window.last_result
    model = load_model(str(embed_card), device="cpu")
    reference = explain_match(sketch, model, open_gallery(gallery_file, model), row,
                              method="live")
    np.testing.assert_allclose(shown.strokes, reference.strokes, rtol=1e-5, atol=1e-7)
    assert "Similarity to" in panel.match_label.text()


def test_refine_is_one_undoable_edit(make_window, embed_card, gallery_file, qtbot):
    window, panel = open_embedder(make_window, embed_card, qtbot)
    open_and_search(window, panel, gallery_file, qtbot)
    before = window.document.sketch
    panel.results.item(0).setSelected(True)
    with qtbot.waitSignal(window.worker.taskDone, timeout=EXPLAIN_WAIT_MS):
        panel.refine()
    qtbot.wait(20)
    text = panel.refine_label.text()
    if window.document.sketch is before:
        assert "nothing to remove" in text
    else:
        assert "Removed" in text and "rank" in text
        assert len(window.document.sketch) < len(before)
        window.document.undo_stack.undo()
        assert window.document.sketch is before


def test_a_gallery_that_fails_says_why(make_window, embed_card, tmp_path, qtbot):
    window, panel = open_embedder(make_window, embed_card, qtbot)
    empty = tmp_path / "empty"
    empty.mkdir()
    with qtbot.waitSignal(window.errorShown, timeout=EXPLAIN_WAIT_MS):
        panel.open(empty)
    assert panel.gallery is None and panel.gallery_label.text()
