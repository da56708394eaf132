"""`live`: the method that colours strokes while the user draws, as faithful as exact occlusion.

Engine only (no Qt): the choice is deterministic and named, it equals exact occlusion where it runs
occlusion, the log-space leave-one-out compositing equals re-rendering, and the faithfulness
evaluation reports what the issue names.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import stand_ins
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from stand_ins import smooth_cnn

from sketchstudio.explain import explain, live
from sketchstudio.explain.faithfulness import randomised_copy, rank_correlation, sign_agreement
from sketchstudio.render import RenderSpec, place, rasterise
from sketchstudio.sketch import Sketch

SPEC = RenderSpec(size=32, sigma=0.8, fit="canvas", canvas=32.0)


def scribble(seed: int, strokes: int) -> Sketch:
    rng = np.random.default_rng(seed)
    return Sketch.from_arrays([rng.uniform(2, 30, size=(int(rng.integers(1, 6)), 2))
                               for _ in range(strokes)])


def test_choice_is_occlusion_within_the_budget_and_few_step_sla_beyond():
    small = live.choose(num_strokes=30, flops=6e7)
    assert (small.method, small.steps, small.label) == ("occlusion", None, "live:occlusion")
    large = live.choose(num_strokes=100, flops=3.6e9)          # ResNet-18 at 224 px
    assert large.method == "sla" and live.MIN_STEPS <= large.steps <= live.MAX_STEPS
    assert large.label == "live:sla"
    # Exactly at the budget still runs occlusion; one stroke more does not.
    flops = live.LIVE_BUDGET_FLOPS / 11
    assert live.choose(10, flops).method == "occlusion"
    assert live.choose(11, flops).method == "sla"


def test_forward_flops_are_counted_not_timed():
    model = stand_ins.model_of(smooth_cnn(), SPEC, ("a", "b", "c"))
    first = live.forward_flops(model)
    assert first > 0
    assert live.forward_flops(model) == first        # cached per model, no re-run
    other = stand_ins.model_of(smooth_cnn(), SPEC, ("a", "b", "c"))
    assert live.forward_flops(other) == first        # same architecture, same count


def test_live_equals_occlusion_and_names_what_ran():
    model = stand_ins.model_of(smooth_cnn(), SPEC, ("a", "b", "c"))
    for seed in range(3):
        sketch = scribble(seed, 6)
        shown = explain(sketch, model, method="live")
        exact = explain(sketch, model, method="occlusion", target=shown.target_index)
        assert shown.method == "live:occlusion"
        assert shown.params["live"]["method"] == "occlusion"
        np.testing.assert_array_equal(shown.strokes, exact.strokes)


def test_live_over_budget_runs_few_step_sla_and_says_so(monkeypatch):
    model = stand_ins.model_of(smooth_cnn(), SPEC, ("a", "b", "c"))
    monkeypatch.setattr(live, "LIVE_BUDGET_FLOPS", 1.0)
    sketch = scribble(4, 5)
    shown = explain(sketch, model, method="live")
    assert shown.method == "live:sla" and shown.params["steps"] == live.MIN_STEPS
    sla = explain(sketch, model, method="sla", steps=live.MIN_STEPS, target=shown.target_index)
    np.testing.assert_allclose(shown.strokes, sla.strokes, rtol=1e-6, atol=1e-7)
    assert "over the live budget" in shown.params["live"]["reason"]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), strokes=st.integers(1, 12))
def test_leave_one_out_compositing_equals_rendering_without_the_stroke(seed, strokes):
    # Strokes may lie partly or wholly off the canvas, be dots, and overlap.
    rng = np.random.default_rng(seed)
    sketch = Sketch.from_arrays([rng.uniform(-10, 42, size=(int(rng.integers(1, 5)), 2))
                                 for _ in range(strokes)])
    ink = rasterise(place(sketch, SPEC, torch.device("cpu")), SPEC)
    n = ink.num_strokes
    expected = ink.composite(torch.ones(n, n) - torch.eye(n))
    got = ink.composite_leave_one_out(torch.arange(n))
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-5)


def test_sign_agreement_counts_only_strong_strokes():
    reference = np.array([2.0, -1.0, 0.1, -0.3, 0.7])
    assert sign_agreement(np.array([1.0, 1.0, -5.0, 5.0, 0.2]), reference) == (2, 3)
    assert sign_agreement(reference, reference) == (3, 3)


def test_rank_correlation():
    assert rank_correlation(np.array([1, 2, 3.0]), np.array([10, 20, 30.0])) == pytest.approx(1.0)
    assert rank_correlation(np.array([1, 2, 3.0]), np.array([3, 2, 1.0])) == pytest.approx(-1.0)
    assert np.isnan(rank_correlation(np.array([1, 1, 1.0]), np.array([3, 2, 1.0])))


def test_randomised_copy_changes_every_weight_and_leaves_the_model_alone(default_model):
    before = [p.clone() for p in default_model.module.parameters()]
    copy = randomised_copy(default_model)
    after = list(copy.module.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(after, before, strict=True)
               if a.numel() > 1)
    assert all(torch.equal(p, b) for p, b in zip(default_model.module.parameters(), before,
                                                              strict=True))
    x = torch.rand(1, 1, 64, 64)
    assert not torch.allclose(copy(x), default_model(x))


@pytest.mark.slow   # the default model on real drawings
def test_eval_faithfulness_json_reports_every_field(shared_data):
    folder = shared_data("quickdraw", "simplified")
    out = subprocess.run([sys.executable, "-m", "sketchstudio.cli", "--device", "cpu", "eval",
                          "faithfulness", str(folder), "--limit", "12", "--methods", "live",
                          "occlusion", "sla-grad", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    methods = json.loads(out.stdout)["methods"]
    for name in ("live", "occlusion", "sla-grad"):
        for key in ("deletion_auc", "insertion_auc", "completeness_median", "sign_agreement",
                    "randomisation_rank_corr", "median_ms"):
            assert key in methods[name], (name, key)
    assert methods["live"]["ran"] == ["live:occlusion"]
    assert methods["live"]["deletion_auc"] == pytest.approx(methods["occlusion"]["deletion_auc"])
    assert methods["live"]["sign_agreement"] == 1.0
    assert methods["occlusion"]["deletion_auc"] < methods["random"]["deletion_auc"]


@pytest.mark.slow   # the default model on real drawings
def test_on_real_drawings_live_is_as_faithful_as_occlusion_and_passes_randomisation(
        default_model, shared_data):
    from sketchstudio.commands.eval_faithfulness import evaluate, pick_drawings

    sketches = pick_drawings(shared_data("quickdraw", "simplified"), default_model.labels, 40)
    summary = evaluate(default_model, sketches, ["live", "occlusion", "sla-grad"])
    assert summary["live"]["deletion_auc"] <= summary["occlusion"]["deletion_auc"] + 0.005
    assert summary["live"]["sign_agreement"] >= 0.97
    # sla-grad is the method the live colours replaced: measurably less truthful.
    assert summary["sla-grad"]["sign_agreement"] < 0.9
    # The check separates the real model from its re-initialised copy: the copy ranks strokes
    # unlike the real model, and its order deletes like a random one, far worse than the real.
    assert summary["live"]["randomisation_rank_corr"] < 0.5
    assert (summary["live"]["randomisation_deletion_auc"]
            > summary["live"]["deletion_auc"] + 0.05)


def test_explanations_refuse_drawings_beyond_the_documented_limits(monkeypatch):
    from sketchstudio.errors import UserError
    from sketchstudio.sketch import limits

    model = stand_ins.model_of(smooth_cnn(), SPEC, ("a", "b", "c"))
    monkeypatch.setattr(limits, "MAX_STROKES", 5)
    with pytest.raises(UserError, match="6 strokes, more than the limit of 5"):
        explain(scribble(0, 6), model, method="occlusion")


@pytest.mark.parametrize("method", ["sla", "psla", "occlusion"])
def test_large_rows_get_smaller_batches_and_the_same_values(monkeypatch, method):
    from sketchstudio.explain import problem as methods

    module = smooth_cnn()
    seen = []

    class Counting(torch.nn.Module):
        def forward(self, x):
            seen.append(x.shape[0])
            return module(x)

    model = stand_ins.model_of(Counting(), SPEC, ("a", "b", "c"))
    sketch = scribble(7, 8)
    free = explain(sketch, model, method=method, steps=8, target=0)
    seen.clear()
    monkeypatch.setattr(methods, "MAX_BATCH_VALUES", 1)     # one presence row per batch
    bounded = explain(sketch, model, method=method, steps=8, target=0)
    assert max(seen) <= 2    # one row, or the full/blank pair scored together
    np.testing.assert_allclose(bounded.strokes, free.strokes, rtol=1e-5, atol=1e-6)


def test_the_forward_cost_is_counted_once_per_model_file(tmp_path, monkeypatch):
    import os

    import model_zoo

    from sketchstudio.models import load_model

    monkeypatch.setenv("SKETCHSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    card = model_zoo.make_model(tmp_path / "tiny")
    counted = []
    real_count = live._count_flops
    monkeypatch.setattr(live, "_count_flops", lambda m: counted.append(m) or real_count(m))

    first = live.forward_flops(load_model(card, device="cpu"))
    again = live.forward_flops(load_model(card, device="cpu"))   # another process would, too
    assert first == again > 0 and len(counted) == 1
    assert (tmp_path / "cache" / live.COST_CACHE).is_file()

    # A changed file is counted again; a damaged cache is only a recount, never an error.
    model_file = next((tmp_path / "tiny").glob("model.*"))
    os.utime(model_file, ns=(1, 1))
    assert live.forward_flops(load_model(card, device="cpu")) == first and len(counted) == 2
    (tmp_path / "cache" / live.COST_CACHE).write_text("{not json", encoding="utf-8")
    assert live.forward_flops(load_model(card, device="cpu")) == first and len(counted) == 3
