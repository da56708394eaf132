"""The attribution engine on hand-built models whose right answers are known."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from stand_ins import CANVAS_32, LeftRight, model_of, smooth_cnn
from torch import nn

from sketchstudio.errors import UserError
from sketchstudio.explain import METHODS, explain
from sketchstudio.progress import Cancelled
from sketchstudio.render import RenderSpec, render
from sketchstudio.sketch import Sketch

SPEC = CANVAS_32       # stand_ins.model_of's default: every model here sees these pixels


class Constant(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.tensor([1.0, 0.0, -1.0]))

    def forward(self, x):
        return self.bias.expand(x.shape[0], -1) + 0 * x.sum() * 0


def sketch_left_right() -> Sketch:
    return Sketch.from_arrays([
        [[3, 4], [10, 12], [5, 25]],      # left
        [[20, 5], [28, 20]],              # right
        [[4, 28], [12, 30], [8, 20]],     # left
        [[24, 24]],                       # right, a dot
    ])


@pytest.mark.parametrize("method", METHODS)
def test_strokes_outside_what_the_model_sees_get_zero(method):
    model = model_of(LeftRight(), labels=("left", "right"))
    r = explain(sketch_left_right(), model, method=method, target="left")
    assert r.strokes[1] == 0.0 and r.strokes[3] == 0.0
    assert r.strokes[0] > 0 and r.strokes[2] > 0


def test_sla_is_complete():
    model = model_of(smooth_cnn())
    sk = sketch_left_right()
    for target in range(3):
        r = explain(sk, model, method="sla", target=target)
        gap = r.score_full - r.score_blank
        assert abs(r.strokes.sum() - gap) <= 0.01 * abs(gap)


def test_psla_segments_sum_to_their_strokes_and_match_sla():
    model = model_of(smooth_cnn())
    sk = sketch_left_right()
    p = explain(sk, model, method="psla", target=1)
    s = explain(sk, model, method="sla", target=1)
    assert [len(seg) for seg in p.segments] == [2, 1, 2, 1]
    np.testing.assert_allclose([seg.sum() for seg in p.segments], p.strokes, rtol=1e-6)
    np.testing.assert_allclose(p.strokes, s.strokes, rtol=1e-3, atol=1e-6)
    assert [g.shape for g in p.point_grads] == [(3, 2), (2, 2), (3, 2), (1, 2)]


def test_psla_point_gradient_matches_finite_differences():
    model = model_of(smooth_cnn())
    sk = sketch_left_right()
    r = explain(sk, model, method="psla", target=0)
    eps = 1e-2

    def score(sketch):
        with torch.no_grad():
            return float(model(render(sketch, SPEC))[0, 0])
    for k, i, axis in [(0, 1, 0), (2, 0, 1), (1, 1, 1)]:
        points = sk[k].points.copy()
        points[i, axis] += eps
        up = score(sk.replace_stroke(k, sk[k].with_points(points)))
        points[i, axis] -= 2 * eps
        down = score(sk.replace_stroke(k, sk[k].with_points(points)))
        numeric = (up - down) / (2 * eps)
        assert r.point_grads[k][i, axis] == pytest.approx(numeric, rel=0.05, abs=1e-4)


def test_occlusion_equals_direct_rerenders():
    model = model_of(smooth_cnn())
    sk = sketch_left_right()
    r = explain(sk, model, method="occlusion", target=2)
    with torch.no_grad():
        full = float(model(render(sk, SPEC))[0, 2])
        for k in range(len(sk)):
            without = float(model(render(sk.remove_strokes([k]), SPEC))[0, 2])
            assert r.strokes[k] == pytest.approx(full - without, abs=1e-5)


def test_sla_grad_is_the_gradient_of_presence():
    """Compared with a finite difference of a stroke's presence weight."""
    from sketchstudio.render import place, rasterise, to_model_input

    model = model_of(smooth_cnn())
    sk = sketch_left_right()
    r = explain(sk, model, method="sla-grad")
    ink = rasterise(place(sk, SPEC), SPEC)
    eps = 1e-3
    for k in range(len(sk)):
        alpha = torch.ones(2, len(sk))
        alpha[1, k] -= eps
        with torch.no_grad():
            s = model(to_model_input(ink.composite(alpha), SPEC))[:, r.target_index]
        assert r.strokes[k] == pytest.approx(float(s[0] - s[1]) / eps, rel=0.02, abs=1e-4)


class InkOrNothing(nn.Module):
    """Class 'nothing' wins on the blank canvas, class 'ink' on any drawing."""

    def forward(self, x):
        ink = x.sum((1, 2, 3))
        return torch.stack([torch.ones_like(ink), ink], dim=1)


def test_every_method_scores_full_and_blank_for_the_same_target():
    model = model_of(InkOrNothing(), labels=("nothing", "ink"))
    sk = sketch_left_right()
    results = [explain(sk, model, method=m) for m in METHODS]
    assert {r.target for r in results} == {"ink"}
    for r in results:
        assert r.score_blank == 0.0
    for r in results[1:]:
        assert r.score_full == pytest.approx(results[0].score_full, abs=1e-5)
        assert r.score_blank == pytest.approx(results[0].score_blank, abs=1e-5)


def test_prediction_and_target_defaults():
    model = model_of(LeftRight(), labels=("left", "right"))
    sk = Sketch.from_arrays([[[2, 2], [10, 30]]])
    for method in METHODS:
        r = explain(sk, model, method=method)
        assert r.target == "left" and r.target_index == 0
        assert r.prediction[0][0] == "left"
        assert sum(p for _, p in r.prediction) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("sketch", [
    Sketch(),
    Sketch.from_arrays([[[5, 5]]]),
    Sketch.from_arrays([[[5, 5], [5, 5], [5, 5]], [[7, 7]]]),
    Sketch.from_arrays([[[-1e6, 3], [1e7, -2e5]], [[1e9, 1e9], [1e9 + 1, 1e9]]]),
], ids=["empty", "dot", "identical-points", "far-outside"])
@pytest.mark.parametrize("method", METHODS)
def test_degenerate_sketches_give_finite_results(sketch, method):
    for spec in (SPEC, RenderSpec(size=32, sigma=0.8, fit="center")):
        r = explain(sketch, model_of(smooth_cnn(), spec), method=method)
        assert r.strokes.shape == (len(sketch),)
        assert np.isfinite(r.strokes).all()
        if method == "psla":
            assert all(np.isfinite(s).all() for s in r.segments)
            assert all(np.isfinite(g).all() for g in r.point_grads)


def test_unknown_target_lists_the_labels():
    with pytest.raises(UserError, match="valid labels: a, b, c"):
        explain(sketch_left_right(), model_of(smooth_cnn()), target="zebra")
    with pytest.raises(UserError, match="out of range"):
        explain(sketch_left_right(), model_of(smooth_cnn()), target=7)


@pytest.mark.parametrize("steps", [0, -3, 10 ** 6])
def test_absurd_steps_are_refused(steps):
    with pytest.raises(UserError, match="steps"):
        explain(sketch_left_right(), model_of(smooth_cnn()), method="sla", steps=steps)


def test_model_blind_to_its_input_gives_zeros_and_says_so():
    for method in METHODS:
        r = explain(sketch_left_right(), model_of(Constant()), method=method)
        assert not r.strokes.any()
        assert any("does not depend" in n for n in r.notes)


def test_nan_model_is_refused():
    class NaNModel(nn.Module):
        def forward(self, x):
            return x.sum((1, 2, 3))[:, None].expand(-1, 3) * float("nan")

    with pytest.raises(UserError, match="NaN"):
        explain(sketch_left_right(), model_of(NaNModel()), method="sla")


@pytest.mark.parametrize("method", ["sla", "psla", "occlusion"])
def test_cancellation_stops_promptly(method):
    model = model_of(smooth_cnn())
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        explain(sketch_left_right(), model, method=method, steps=64, batch_size=2,
                cancelled=cancelled)
    assert len(calls) == 2


def test_progress_rises_to_one():
    seen = []
    explain(sketch_left_right(), model_of(smooth_cnn()), method="sla", steps=32, batch_size=4,
            progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 8


def test_three_channel_dark_on_light_models_work():
    spec = RenderSpec(size=32, channels=3, ink="dark-on-light", sigma=0.8, fit="canvas",
                      canvas=32.0,
                      mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    torch.manual_seed(1)
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 30 * 30, 3))
    r = explain(sketch_left_right(), model_of(module, spec), method="sla", steps=32)
    gap = r.score_full - r.score_blank
    assert abs(r.strokes.sum() - gap) <= 0.01 * abs(gap)


def test_models_fixed_to_a_batch_of_one_are_explained_one_by_one(tmp_path):
    from model_zoo import make_model

    from sketchstudio.models import load_model

    model = load_model(make_model(tmp_path, fmt="export", dynamic_batch=False))
    sk = Sketch.from_arrays([[[1, 1], [20, 25]], [[5, 20], [25, 3]]])
    r = explain(sk, model, method="sla", steps=8)
    assert np.isfinite(r.strokes).all() and r.strokes.shape == (2,)
    assert r.completeness_error < 0.05
