"""Training the default classifier: the held-out split, and a tiny end-to-end run on real
drawings."""
from __future__ import annotations

import json
import random
import tomllib

import numpy as np
import pytest
import torch

from sketchstudio.sketch import Sketch
from sketchstudio.training import data as tdata
from sketchstudio.training import train as ttrain

pytestmark = pytest.mark.slow  # trains networks


@pytest.fixture(scope="module")
def quickdraw(shared_data):
    return shared_data("quickdraw", "simplified")


def _keys(sketches) -> set[str]:
    return {s.metadata["key_id"] for s in sketches}


def test_default_categories_are_fixed_and_present(quickdraw):
    cats = tdata.DEFAULT_CATEGORIES
    assert len(cats) >= 30 and len(set(cats)) == len(cats)
    present = set(tdata.available_categories(quickdraw))
    assert set(cats) <= present


def test_heldout_split_is_deterministic_and_disjoint(quickdraw):
    sketches = tdata.load_category(quickdraw, "apple")
    a = tdata.split(sketches, heldout=5, validation=3)
    shuffled = list(sketches)
    random.Random(7).shuffle(shuffled)
    b = tdata.split(shuffled, heldout=5, validation=3)
    assert [s.metadata["key_id"] for s in a.heldout] == [s.metadata["key_id"] for s in b.heldout]
    assert _keys(a.train) == _keys(b.train) and _keys(a.validation) == _keys(b.validation)
    assert len(a.heldout) == 5 and len(a.validation) == 3 and len(a.train) == len(sketches) - 8
    assert not (_keys(a.heldout) & _keys(a.train)) and not (_keys(a.heldout) & _keys(a.validation))
    assert not (_keys(a.validation) & _keys(a.train))
    # Validation is carved from the training share only: the held-out set never moves.
    assert _keys(tdata.split(sketches).heldout) == _keys(a.heldout)


def test_split_key_without_key_id_uses_the_drawing():
    one = Sketch.from_arrays([[[0, 0], [1, 1]]])
    two = Sketch.from_arrays([[[0, 0], [2, 1]]])
    assert tdata.split_key(one) == tdata.split_key(Sketch.from_arrays([[[0, 0], [1, 1]]]))
    assert tdata.split_key(one) != tdata.split_key(two)


def test_tiny_training_run_writes_a_loadable_model_and_never_sees_heldout(quickdraw, tmp_path,
                                                                          monkeypatch):
    from sketchstudio.models import load_model, run_checks
    from sketchstudio.training.evaluate import evaluate_model

    # Three categories of real drawings (linked, not copied): two to classify, one more for the
    # pretraining phase, which uses every drawing except the held-out ones of the chosen two.
    data = tmp_path / "data"
    data.mkdir()
    for name in ("apple", "banana", "cloud"):
        (data / f"{name}.ndjson").symlink_to(quickdraw / f"{name}.ndjson")

    seen: dict[int, list[Sketch]] = {}
    original = ttrain.AugmentedSketches.__init__

    def spy(self, items, spec, augmenter, seed, phase):
        seen.setdefault(phase, []).extend(s for s, _ in items)
        original(self, items, spec, augmenter, seed, phase)

    monkeypatch.setattr(ttrain.AugmentedSketches, "__init__", spy)
    cats = ("apple", "banana")
    config = ttrain.TrainConfig(data=data, out=tmp_path / "m", categories=cats, epochs=1,
                                pretrain_epochs=1, size=32, channels=(8,) * 7, batch_size=32,
                                workers=0)
    threads = torch.get_num_threads()
    result = ttrain.train_classifier(config)
    assert torch.get_num_threads() == threads

    heldout = set().union(*(_keys(tdata.split(tdata.load_category(quickdraw, c)).heldout)
                            for c in cats))
    assert len(heldout) == 10
    assert len(seen[2]) == 40 and not (_keys(seen[2]) & heldout)
    assert not (_keys(seen[1]) & heldout)
    assert _keys(seen[1]) == _keys(seen[2]) | _keys(tdata.load_category(quickdraw, "cloud"))

    card = tomllib.loads(result.card_path.read_text())
    assert card["task"] == "classify" and card["labels"] == list(cats)
    assert card["credit"] == tdata.CREDIT
    assert card["training"]["seed"] == 0 and card["training"]["heldout_drawings"] == 10
    assert card["training"]["pretrain_drawings"] == 40 + 25
    assert card["input"]["size"] == 32 and card["input"]["sigma"] == 1.0
    assert 0.0 <= card["training"]["heldout_top1"] <= card["training"]["heldout_top3"] <= 1.0
    assert not list((tmp_path / "m").glob(".*tmp*"))

    model = load_model(tmp_path / "m", device="cpu")
    assert model.labels == cats
    assert all(r.ok for r in run_checks(model.card, device="cpu"))
    evaluated = evaluate_model(model, data)
    assert evaluated["heldout"] == 10 and evaluated["categories"] == 2
    assert evaluated["top1"] == pytest.approx(result.heldout["top1"])
    json.dumps(evaluated)


def test_training_is_reproducible(quickdraw, tmp_path):
    def run(out):
        config = ttrain.TrainConfig(data=quickdraw, out=out, categories=("apple", "banana"),
                                    epochs=1, pretrain_epochs=0, size=32, channels=(8,) * 7,
                                    batch_size=16, workers=0)
        ttrain.train_classifier(config)
        return torch.jit.load(str(out / "model.pt")).state_dict()

    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_exported_model_matches_the_trained_one_and_has_input_gradients():
    from sketchstudio.training.model import SketchCNN, fold_batchnorm

    torch.manual_seed(0)
    model = SketchCNN(5, channels=(8,) * 7)
    model.train()
    for _ in range(3):  # give batch norm non-trivial running statistics
        model(torch.rand(8, 1, 32, 32))
    model.eval()
    exported = torch.jit.script(fold_batchnorm(model))
    x = torch.rand(2, 1, 32, 32, requires_grad=True)
    with torch.no_grad():
        np.testing.assert_allclose(exported(x).numpy(), model(x).numpy(), atol=1e-4)
    exported(x)[0, 1].backward()
    assert x.grad is not None and x.grad.abs().sum() > 0 and torch.isfinite(x.grad).all()


def test_missing_category_is_a_user_error(quickdraw, tmp_path):
    from sketchstudio.errors import UserError

    config = ttrain.TrainConfig(data=quickdraw, out=tmp_path / "m", categories=("apple", "nope"))
    with pytest.raises(UserError, match="nope"):
        ttrain.train_classifier(config)
