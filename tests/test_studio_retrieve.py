"""The Retrieve panel: gallery opened in the worker, results follow the drawing, picking explains
the match, Refine is one undoable edit."""
from __future__ import annotations

import os
from pathlib import Path

import model_zoo
import numpy as np
import pytest
from qt_helpers import EXPLAIN_WAIT_MS, house, open_with_model

from sketchstudio.models import load_model
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import load_sketch, save_sketches
from sketchstudio.tasks.retrieve import (
    add_stray_strokes,
    explain_match,
    open_gallery,
    refine_query,
    retrieve,
)


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


def open_and_search(window, panel, path, qtbot, query=None):
    """Draw `query` (default: the demo house), open the gallery at `path` and wait for the results
    for the drawing."""
    window.document.apply(house() if query is None else query, "Import")
    panel.open(path)
    qtbot.waitUntil(lambda: panel.found_sketch is window.document.sketch, timeout=EXPLAIN_WAIT_MS)


def test_results_match_the_engine_and_carry_thumbnails(make_window, embed_card, gallery_file,
                                                       qtbot):
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


def test_picking_a_result_explains_the_similarity_to_it(make_window, embed_card, gallery_file,
                                                        qtbot):
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


# The shipped embedding model, by its card (the studio tests run with an isolated, empty store).
DEFAULT_EMBED = Path(__file__).resolve().parents[1] / "resources" / "models" / "default-embed"
CATEGORIES = ("apple", "bicycle", "house", "star", "fish", "cat", "tree", "car")


@pytest.fixture
def real_gallery(shared_data, tmp_path):
    """Eight categories of real Quick, Draw! drawings (200), linked into a folder."""
    folder = shared_data("quickdraw", "simplified")
    gallery = tmp_path / "real"
    gallery.mkdir()
    for name in CATEGORIES:
        os.symlink(folder / f"{name}.ndjson", gallery / f"{name}.ndjson")
    return gallery


def apple_with_a_star_stroke(gallery: Path) -> Sketch:
    """Apple #6 of the gallery with one stroke of star #0 across it: found by searching
    for a stray stroke that pushes the apple out of the top results."""
    apple = load_sketch(gallery / "apple.ndjson", 6)
    star = load_sketch(gallery / "star.ndjson", 0)
    return add_stray_strokes(apple, [star], 1, np.random.default_rng(0))[0]


def test_refine_is_one_undoable_edit(make_window, real_gallery, qtbot):
    # The shipped embedding model. The engine's refinement drops exactly the stray stroke here
    # (asserted first, so the edit and undo below always run); the panel must apply that, as one
    # edit, say how the ranks moved, and undo in one step.
    model = load_model(str(DEFAULT_EMBED), device="cpu")
    query = apple_with_a_star_stroke(real_gallery)
    expected = refine_query(query, model, open_gallery(real_gallery, model), top=12)
    stray = len(query) - 1
    assert expected.refined.dropped == (stray,)
    assert expected.top_before[0].word != "apple" and expected.top_after[0].word == "apple"
    window, panel = open_embedder(make_window, DEFAULT_EMBED, qtbot)
    open_and_search(window, panel, real_gallery, qtbot, query)
    before = window.document.sketch
    depth = window.document.undo_stack.count()
    panel.results.item(1).setSelected(True)
    picked = panel.picked_row
    assert panel.refine_button.isEnabled()
    qtbot.waitUntil(lambda: not window.tasks.running, timeout=EXPLAIN_WAIT_MS)
    panel.refine()
    qtbot.waitUntil(lambda: window.document.sketch is not before, timeout=EXPLAIN_WAIT_MS)
    assert window.document.sketch.strokes == expected.refined.sketch.strokes
    assert window.document.undo_stack.count() == depth + 1          # one edit
    text = panel.refine_label.text()
    assert text.startswith(f"Removed 1 stroke(s) ({stray + 1})") and "Ctrl+Z" in text
    assert "the picked result went from rank 2 to" in text
    assert "the top result is now apple" in text
    assert panel.picked_row == picked
    window.document.undo_stack.undo()
    assert window.document.sketch is before


def test_refine_with_nothing_stray_changes_nothing(make_window, real_gallery, qtbot):
    model = load_model(str(DEFAULT_EMBED), device="cpu")
    apple = load_sketch(real_gallery / "apple.ndjson", 6)
    assert refine_query(apple, model, open_gallery(real_gallery, model)).refined.dropped == ()
    window, panel = open_embedder(make_window, DEFAULT_EMBED, qtbot)
    open_and_search(window, panel, real_gallery, qtbot, apple)
    before = window.document.sketch
    depth = window.document.undo_stack.count()
    qtbot.waitUntil(lambda: not window.tasks.running, timeout=EXPLAIN_WAIT_MS)
    panel.refine()
    qtbot.waitUntil(lambda: panel.refine_label.text().startswith("Nothing to remove"),
                    timeout=EXPLAIN_WAIT_MS)
    assert window.document.sketch is before and window.document.undo_stack.count() == depth


def test_a_gallery_that_fails_says_why(make_window, embed_card, tmp_path, qtbot):
    window, panel = open_embedder(make_window, embed_card, qtbot)
    empty = tmp_path / "empty"
    empty.mkdir()
    with qtbot.waitSignal(window.errorShown, timeout=EXPLAIN_WAIT_MS):
        panel.open(empty)
    assert panel.gallery is None and panel.gallery_label.text()
