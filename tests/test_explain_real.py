"""The engine on the shipped default classifier and real drawings (skips when either is absent)."""
from __future__ import annotations

import numpy as np
import pytest

from sketchstudio.explain import explain
from sketchstudio.explain.faithfulness import curves, order_by, random_curves

pytestmark = pytest.mark.slow  # the default model on real drawings


@pytest.fixture(scope="module")
def drawings(shared_data, default_model):
    from sketchstudio.sketch.io import iter_sketches

    folder = shared_data("quickdraw", "simplified")
    picked = []
    for label in default_model.labels[::4]:
        picked.append(next(iter(iter_sketches(folder / f"{label}.ndjson"))))
    return picked


@pytest.fixture(scope="module")
def sla_results(default_model, drawings):
    return [explain(s, default_model, method="sla") for s in drawings]


def test_sla_is_complete_on_real_drawings(sla_results):
    assert np.median([r.completeness_error for r in sla_results]) < 0.01


def test_sla_beats_a_random_stroke_order(default_model, drawings, sla_results):
    ours, rand = [], []
    for sketch, r in zip(drawings, sla_results, strict=True):
        ours.append(curves(sketch, default_model, r.target_index, order_by(r.strokes)).deletion_auc)
        rand.append(random_curves(sketch, default_model, r.target_index).deletion_auc)
    assert np.mean(ours) < np.mean(rand) - 0.05


def test_sla_ranks_strokes_like_exact_occlusion(default_model, drawings, sla_results):
    """On real drawings the integrated gradient and the exact leave-one-out mostly agree in sign."""
    agree = total = 0
    for sketch, r in zip(drawings, sla_results, strict=True):
        a = r.strokes
        b = explain(sketch, default_model, method="occlusion").strokes
        big = np.abs(b) > 0.1 * np.abs(b).max()
        agree += int((np.sign(a[big]) == np.sign(b[big])).sum())
        total += int(big.sum())
    assert agree / total > 0.8
