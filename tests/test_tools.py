"""The assist and attack tools on small models: the displacement bound, re-rendered verdicts,
valid vector output, cancellation, and bad input through the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stand_ins import CANVAS_32, LeftRight, model_of, smooth_cnn
from torch import nn

from sketchstudio.cli import main
from sketchstudio.errors import UserError
from sketchstudio.progress import Cancelled, TaskState
from sketchstudio.render import RenderSpec, render
from sketchstudio.sketch import Sketch, Stroke
from sketchstudio.sketch.io import load_sketch, save_sketch
from sketchstudio.tasks import attack as attack_module
from sketchstudio.tasks import displacement as disp
from sketchstudio.tasks import jitter
from sketchstudio.tasks.assist import assist
from sketchstudio.tasks.attack import AlreadyTarget, attack
from sketchstudio.tasks.scoring import PointScorer, probabilities

CENTER = RenderSpec(size=32, sigma=0.8, fit="center", margin=0.08)
CANVAS = CANVAS_32
GAIN = 0.2             # LeftRight's logits: small enough that a small edit moves them smoothly


def house() -> Sketch:
    return Sketch.from_arrays([
        [[10, 40], [10, 80], [60, 80], [60, 40], [10, 40]],
        [[5, 42], [35, 12], [65, 42]],
        [[28, 80], [28, 60], [42, 60], [42, 80]],
        [[50, 55]],
    ], word="house")


def leaning_left() -> Sketch:
    """On a fixed 32 px canvas: slightly more ink left of the middle than right of it."""
    return Sketch.from_arrays([[[14.0, 6.0], [14.0, 26.0]], [[17.5, 6.0], [17.5, 24.0]]])


def flat_max_move(original: Sketch, edited: Sketch) -> float:
    moves = disp.flat_points(edited) - disp.flat_points(original)
    return float(np.linalg.norm(moves, axis=1).max())


def same_structure(a: Sketch, b: Sketch) -> bool:
    return a.points_per_stroke() == b.points_per_stroke() and all(
        (s.pressure is None) == (t.pressure is None) for s, t in zip(a, b, strict=True))


# -- the displacement bound ------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=30),
       st.floats(1e-6, 1e4))
def test_projection_never_leaves_the_ball(rows, limit):
    delta = np.array(rows, dtype=np.float64)
    out = disp.project(delta, limit)
    assert np.all(np.linalg.norm(out, axis=1) <= limit)
    inside = np.linalg.norm(delta, axis=1) <= limit * (1 - 1e-9)
    assert np.allclose(out[inside], delta[inside])   # points already inside are not moved
    t = disp.project(torch.as_tensor(delta), limit).numpy()
    assert np.all(np.linalg.norm(t, axis=1) <= limit)


point = st.tuples(st.floats(0, 200, allow_nan=False), st.floats(0, 200, allow_nan=False))
sketches = st.lists(st.lists(point, min_size=1, max_size=6), min_size=1, max_size=4).map(
    lambda strokes: Sketch.from_arrays(strokes)).filter(lambda s: disp.bbox_side(s) > 1.0)

_MODEL = model_of(smooth_cnn(), CENTER)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sketches, st.floats(0.005, 1.0), st.sampled_from([None, 1, 2]), st.sampled_from([None, "c"]))
def test_attack_never_moves_a_point_more_than_the_budget(sketch, budget, strokes, target):
    try:
        r = attack(sketch, _MODEL, target=target, budget=budget, strokes=strokes, steps=3)
    except AlreadyTarget:
        return
    side = disp.bbox_side(sketch)
    assert flat_max_move(sketch, r.edited) <= budget * side
    assert r.max_displacement <= budget
    assert same_structure(sketch, r.edited) and len(r.edited) == len(sketch)
    if strokes is not None:
        assert r.strokes_changed <= strokes


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sketches, st.floats(0.005, 1.0), st.sampled_from([0.0, 1.0, 3.0]))
def test_assist_never_moves_a_point_more_than_the_budget(sketch, budget, smoothing):
    r = assist(sketch, _MODEL, target="b", budget=budget, steps=3, smoothing=smoothing, sla_steps=2)
    side = disp.bbox_side(sketch)
    for chosen in (None, [0], list(range(len(sketch)))[::2]):
        assert flat_max_move(sketch, r.apply(chosen)) <= budget * side
    assert r.measure()["max_displacement"] <= budget
    assert same_structure(sketch, r.edited)


def test_smoothing_keeps_stroke_boundaries_and_constants():
    sketch = house()
    flat = np.ones((sketch.num_points, 2))
    b = disp.stroke_bounds(sketch)
    flat[b[1]:b[2]] = 5.0
    out = disp.smooth_along_strokes(flat, sketch, 2.0)
    assert np.allclose(out, flat)    # constant per stroke stays; nothing leaks between strokes
    noisy = np.random.default_rng(0).normal(size=flat.shape)
    smooth = disp.smooth_along_strokes(noisy, sketch, 1.5)
    roughness = np.abs(np.diff(smooth[b[0]:b[1]], axis=0)).mean()
    assert roughness < np.abs(np.diff(noisy[b[0]:b[1]], axis=0)).mean()


# -- the differentiable path is the re-render path ------------------------------------------------

@pytest.mark.parametrize("spec", [CENTER, CANVAS])
def test_scorer_sees_what_a_rerender_sees(spec):
    model = model_of(smooth_cnn(), spec)
    sketch = house() if spec is CENTER else leaning_left()
    scorer = PointScorer(sketch, model)
    rng = np.random.default_rng(1)
    delta = disp.project(rng.normal(size=(sketch.num_points, 2)) * 3, 2.0)
    with torch.no_grad():
        moved = scorer.logits(torch.as_tensor(delta))
        rerendered = model(render(disp.apply(sketch, delta), spec))
    assert torch.allclose(moved, rerendered, atol=1e-5)


@pytest.mark.parametrize("spec", [CENTER, CANVAS])
def test_varied_renderings_are_the_same_in_the_optimiser_and_the_rerender(spec):
    """The attack's varied renderings (differentiable) and the robust verdict's (from scratch)
    are one code path: the same logits for the same edit and variations."""
    model = model_of(smooth_cnn(), spec)
    sketch = house() if spec is CENTER else leaning_left()
    variations = [jitter.IDENTITY] + jitter.robust_set()[:5]
    delta = disp.project(np.random.default_rng(2).normal(size=(sketch.num_points, 2)) * 3, 2.0)
    scorer = jitter.JitteredScorer(sketch, model)
    with torch.no_grad():
        optimised = torch.softmax(scorer.logits(torch.as_tensor(delta), variations).double(), 1)
    rerendered = jitter.probabilities(disp.apply(sketch, delta), model, variations)
    assert np.allclose(optimised.numpy(), rerendered, atol=1e-5)
    with torch.no_grad():
        exact = torch.softmax(model(render(disp.apply(sketch, delta), spec)).double(), 1)
    assert np.allclose(rerendered[0], exact[0].numpy(), atol=1e-5)     # identity = the card
    # The variations really vary the input (else robust_success would say nothing).
    assert not np.allclose(rerendered[1:], rerendered[0], atol=1e-4)


def test_variations_stay_within_the_tolerance_and_the_robust_set_is_fixed():
    tol = jitter.TOLERANCE
    for v in jitter.robust_set():
        assert tol.sigma[0] <= v.sigma <= tol.sigma[1] and tol.core[0] <= v.core <= tol.core[1]
        assert abs(v.scale - 1) <= tol.scale and max(map(abs, v.shift)) <= tol.shift
    assert jitter.robust_set() == jitter.robust_set()
    moved = jitter.robust_set()[0].move(torch.zeros(50, 2, dtype=torch.float64) + 16.0, 32)
    v = jitter.robust_set()[0]
    reach = abs(16.0 * (v.scale - 1)) + max(map(abs, v.shift)) + v.noise
    assert float((moved - 16.0).abs().max()) <= reach + 1e-9


# -- attack ----------------------------------------------------------------------------------------

def test_attack_flips_and_the_verdict_is_a_rerender():
    model = model_of(LeftRight(GAIN), CANVAS, labels=("left", "right"))
    sketch = leaning_left()
    assert probabilities(sketch, model).argmax() == 0
    seen = []
    r = attack(sketch, model, budget=0.3, steps=40,
               state=TaskState(partial=lambda it: seen.append((it.index, it.probs))))
    assert r.success and r.original_label == "left" and r.adversarial_label == "right"
    # Independent check: render the edited sketch from scratch and ask the model.
    with torch.no_grad():
        p = torch.softmax(model(render(r.edited, model.spec)), 1)[0].numpy()
    assert p.argmax() == 1 and p[1] == pytest.approx(r.adversarial_prob, abs=1e-6)
    assert flat_max_move(sketch, r.edited) <= 0.3 * disp.bbox_side(sketch)
    assert [i for i, _ in seen] == list(range(len(seen))) and len(seen) == len(r.history)
    assert np.allclose(r.history.sum(1), 1.0)
    j = r.to_json()
    for key in ("success", "original", "adversarial", "max_displacement", "mean_displacement",
                "strokes_changed", "iterations", "elapsed_ms", "robust_success", "margin"):
        assert key in j
    assert j["original"]["label"] == "left" and j["adversarial"]["label"] == "right"
    # robust_success: the fraction of the fixed varied re-renders whose decision is flipped too,
    # recomputed here from the edited sketch.
    varied = jitter.probabilities(r.edited, model, jitter.robust_set())
    assert j["robust_success"] == pytest.approx(float(np.mean(varied.argmax(1) == 1)))
    assert j["robust_renders"] == jitter.ROBUST_COUNT
    assert sketch == leaning_left()   # the input is untouched


def test_a_lying_differentiable_path_cannot_claim_success(monkeypatch):
    """If the optimiser's own forward says "flipped" but the re-render does not, no success."""
    model = model_of(LeftRight(GAIN), CANVAS, labels=("left", "right"))

    def lying_logits(self, delta, variations):
        real = self.model(render(self.points.sketch, self.spec)) * 0 + delta.sum() * 0
        return (real + torch.tensor([[0.0, 100.0]])).expand(len(variations), 2)  # "right"

    monkeypatch.setattr(jitter.JitteredScorer, "logits", lying_logits)
    calls = []
    real_probs = attack_module.probabilities
    monkeypatch.setattr(attack_module, "probabilities",
                        lambda s, m: calls.append(s) or real_probs(s, m))
    r = attack(leaning_left(), model, budget=0.01, steps=5)
    assert not r.success and r.adversarial_label == "left"
    assert len(calls) >= 2    # the prediction before, then re-renders of the candidates


def test_targeted_attack_reaches_the_target_or_says_no():
    model = model_of(smooth_cnn(), CENTER)
    sketch = house()
    predicted = int(probabilities(sketch, model).argmax())
    other = next(label for i, label in enumerate(model.labels) if i != predicted)
    r = attack(sketch, model, target=other, budget=0.5, steps=30)
    p = probabilities(r.edited, model)
    assert r.success == (model.labels[int(p.argmax())] == other)
    assert r.target == other
    with pytest.raises(AlreadyTarget, match="already classified"):
        attack(sketch, model, target=model.labels[predicted])


def test_stroke_budget_moves_only_the_strongest_sla_stroke():
    from sketchstudio.explain import explain

    model = model_of(smooth_cnn(), CENTER)
    sketch = house()
    r = attack(sketch, model, budget=0.2, strokes=1, steps=10)
    predicted = int(probabilities(sketch, model).argmax())
    sla = explain(sketch, model, method="sla", target=predicted).strokes
    assert r.strokes_allowed == [int(np.argmax(np.abs(sla)))]
    moved = disp.measure(sketch, r.edited)["changed"]
    assert set(moved) <= set(r.strokes_allowed)


@pytest.mark.parametrize("sketch", [
    Sketch.from_arrays([[[0, 0], [10, 3], [20, 15], [25, 30]]]),        # one stroke
    Sketch.from_arrays([[[0, 0], [10, 3]], [[40, 40]]]),                # a dot among strokes
])
def test_one_stroke_and_dot_sketches_work(sketch):
    model = model_of(smooth_cnn(), CENTER)
    r = attack(sketch, model, budget=0.1, steps=5)
    assert same_structure(sketch, r.edited)
    a = assist(sketch, model, target="b", budget=0.1, steps=3, sla_steps=2)
    assert same_structure(sketch, a.edited) and len(a.sla) == len(sketch)


@pytest.mark.parametrize("sketch", [Sketch(), Sketch.from_arrays([[[5, 5]]]),
                                    Sketch.from_arrays([[[5, 5], [5, 5]], [[5, 5]]])])
def test_sketches_without_extent_are_refused(sketch):
    model = model_of(smooth_cnn(), CENTER)
    with pytest.raises(UserError):
        attack(sketch, model)
    with pytest.raises(UserError):
        assist(sketch, model)


@pytest.mark.parametrize("margin", [-1, float("nan"), 1e9, "x"])
def test_bad_margins_are_refused(margin):
    with pytest.raises(UserError, match="margin"):
        attack(house(), model_of(smooth_cnn(), CENTER), margin=margin)


def test_a_larger_margin_pushes_further_past_the_boundary():
    model = model_of(LeftRight(GAIN), CANVAS, labels=("left", "right"))
    r0 = attack(leaning_left(), model, budget=0.3, steps=40, margin=0.0, samples=0)
    r4 = attack(leaning_left(), model, budget=0.3, steps=40, margin=4.0, samples=0)
    assert r0.success and r4.success
    assert r4.adversarial_prob > r0.adversarial_prob


@pytest.mark.parametrize("budget", [0, -0.1, 1.01, float("nan"), float("inf")])
def test_bad_budgets_are_refused(budget):
    model = model_of(smooth_cnn(), CENTER)
    with pytest.raises(UserError, match="budget"):
        attack(house(), model, budget=budget)
    with pytest.raises(UserError, match="budget"):
        assist(house(), model, budget=budget)


def test_unknown_target_lists_labels():
    model = model_of(smooth_cnn(), CENTER)
    with pytest.raises(UserError, match="valid labels: a, b, c"):
        attack(house(), model, target="zebra")
    with pytest.raises(UserError, match="valid labels: a, b, c"):
        assist(house(), model, target="zebra")


@pytest.mark.parametrize("tool", ["attack", "assist"])
def test_cancellation_mid_run_leaves_the_input_untouched(tool):
    model = model_of(LeftRight(GAIN), CANVAS, labels=("left", "right"))   # no flip within 0.001
    sketch = leaning_left()
    before = leaning_left()
    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] > 4

    progress = []
    state = TaskState(progress=progress.append, cancelled=cancelled)
    with pytest.raises(Cancelled):
        if tool == "attack":
            attack(sketch, model, budget=0.01, steps=50, state=state)
        else:
            assist(sketch, model, budget=0.001, steps=50, state=state)
    assert sketch == before and calls["n"] == 5
    assert all(0 <= p < 1 for p in progress)


# -- assist ----------------------------------------------------------------------------------------

def test_assist_raises_the_target_and_every_hint_is_an_edit():
    model = model_of(LeftRight(GAIN), CANVAS, labels=("left", "right"))
    sketch = leaning_left()
    r = assist(sketch, model, target="right", budget=0.2, steps=15, sla_steps=4)
    assert r.target == "right" and r.predicted == "left"
    p = probabilities(r.edited, model)
    assert r.after == pytest.approx(p[1]) and r.after > r.before
    assert r.before == pytest.approx(probabilities(sketch, model)[1])
    # Moving ink right helps "right": every move hint points right.
    moves = [h for h in r.hints if h.kind == "move"]
    assert moves and all(np.mean(np.array(h.values["displacement"])[:, 0]) > 0 for h in moves)
    # The left stroke argues against "right".
    against = [h.stroke for h in r.hints if h.kind == "against"]
    assert 0 in against
    # Accepting one stroke's hint changes that stroke only, and re-measures as reported.
    k = moves[0].stroke
    one = r.apply([k])
    assert disp.measure(sketch, one)["changed"] == [k]
    assert probabilities(one, model)[1] == pytest.approx(r.stroke_after[k])
    assert r.apply([]) == sketch
    with pytest.raises(UserError):
        r.apply([7])
    j = r.to_json()
    for key in ("target", "before", "after", "max_displacement", "mean_displacement", "hints"):
        assert key in j
    assert {h["kind"] for h in j["hints"]} <= {"move", "against"}
    json.dumps(j)


def test_ink_help_map_is_on_blank_canvas_and_maps_back_to_the_sketch():
    model = model_of(LeftRight(GAIN), CANVAS, labels=("left", "right"))
    sketch = leaning_left()
    r = assist(sketch, model, target="right", budget=0.05, steps=2, sla_steps=2)
    ink = render(sketch, model.spec)[0, 0].numpy()
    assert r.ink_help.shape == (32, 32)
    assert r.ink_help.min() >= 0 and r.ink_help.max() == pytest.approx(1.0)
    assert np.all(r.ink_help[ink >= 0.05] == 0)                    # only blank pixels
    assert r.ink_help[:, 16:].sum() > 0 and r.ink_help[:, :16].sum() == 0   # ink helps on the right
    x, y = r.pixel_to_sketch(17.0, 9.0)        # canvas fit: one pixel per sketch unit
    assert (float(x), float(y)) == pytest.approx((17.0, 9.0))
    centred = assist(house(), model_of(smooth_cnn(), CENTER), target="a", steps=1, sla_steps=2)
    s, t = CENTER.placement(house())
    px, py = np.array([10.0, 40.0]) * s + t
    assert np.allclose(centred.pixel_to_sketch(px, py), [10.0, 40.0])
    assert centred.raster_extent()[2] > centred.raster_extent()[0]


class OnePixel(nn.Module):
    """Class 1's logit is the ink of one pixel (row 10, column 20): its gradient is one spike."""

    def forward(self, x):
        return torch.stack([torch.zeros_like(x[:, 0, 0, 0]), 5.0 * x[:, 0, 10, 20]], dim=1)


def test_ink_help_is_where_a_dot_of_ink_would_help_not_single_pixels():
    model = model_of(OnePixel(), CANVAS, labels=("other", "spot"))
    r = assist(leaning_left(), model, target="spot", budget=0.05, steps=1, sla_steps=2)
    row, col = np.unravel_index(np.argmax(r.ink_help), r.ink_help.shape)
    assert (row, col) == (10, 20)
    # A dot drawn next to the pixel inks it too: the neighbours within the ink radius help, less.
    assert 0 < r.ink_help[10, 21] < 1 and 0 < r.ink_help[11, 20] < 1
    assert r.ink_help[10, 21] == pytest.approx(r.ink_help[10, 19])
    assert r.ink_help[10, 26] == 0           # beyond the dot's reach (3 sigma = 2.4 px)


def test_assist_keeps_pressure_time_and_metadata():
    strokes = [Stroke(np.array([[0, 0], [10, 5], [20, 0]], float), pressure=[0.1, 0.5, 0.9],
                      time=[0, 10, 20]), Stroke(np.array([[0, 20], [20, 20]], float))]
    sketch = Sketch(tuple(strokes), {"word": "thing"})
    r = assist(sketch, model_of(smooth_cnn(), CENTER), target="c", steps=3, sla_steps=2)
    e = r.edited
    assert e.metadata["word"] == "thing"
    assert np.array_equal(e[0].pressure, strokes[0].pressure)
    assert np.array_equal(e[0].time, strokes[0].time)


# -- the command line ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from model_zoo import make_model

    folder = tmp_path_factory.mktemp("tools")
    card = make_model(folder / "m")
    sketch_file = folder / "house.ndjson"
    save_sketch(sketch_file, house())
    one_point = folder / "dot.ndjson"
    save_sketch(one_point, Sketch.from_arrays([[[5, 5]]], word="dot"))
    return card, sketch_file, one_point


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _predicted(card, sketch_file) -> str:
    from sketchstudio.models import load_model

    model = load_model(card)
    return model.labels[int(probabilities(load_sketch(sketch_file), model).argmax())]


def test_cli_attack_writes_a_valid_edit(tiny, capsys, tmp_path):
    card, sketch_file, _ = tiny
    out = tmp_path / "adv.ndjson"
    code, stdout, err = cli(capsys, "attack", sketch_file, "--model", card, "--budget", 0.2,
                            "--steps", 20, "--out", out, "--json")
    assert code == 0, err
    j = json.loads(stdout)
    for key in ("success", "original", "adversarial", "max_displacement", "mean_displacement",
                "strokes_changed", "iterations", "elapsed_ms", "robust_success", "margin"):
        assert key in j
    assert 0.0 <= j["robust_success"] <= 1.0 and j["margin"] == 2.0
    edited = load_sketch(out)
    original = load_sketch(sketch_file)
    assert same_structure(original, edited)
    assert flat_max_move(original, edited) <= 0.2 * disp.bbox_side(original) + 1e-9
    from sketchstudio.models import load_model

    label = load_model(card).labels[int(probabilities(edited, load_model(card)).argmax())]
    assert j["adversarial"]["label"] == label
    assert j["success"] == (label != j["original"]["label"])


def test_cli_assist_writes_a_valid_edit(tiny, capsys, tmp_path):
    card, sketch_file, _ = tiny
    other = next(label for label in ("apple", "book") if label != _predicted(card, sketch_file))
    out = tmp_path / "assisted.ndjson"
    code, stdout, err = cli(capsys, "assist", sketch_file, "--model", card, "--target", other,
                            "--out", out, "--json")
    assert code == 0, err
    j = json.loads(stdout)
    assert j["target"] == other and j["after"] >= j["before"]
    assert j["max_displacement"] <= 0.05
    assert same_structure(load_sketch(sketch_file), load_sketch(out))


def _bad_calls(card, sketch_file, one_point, predicted):
    return [
        ("attack", sketch_file, "--model", card, "--target", "zebra"),
        ("assist", sketch_file, "--model", card, "--target", "zebra"),
        ("attack", sketch_file, "--model", card, "--target", predicted),
        ("assist", sketch_file, "--model", card, "--target", predicted),
        ("attack", sketch_file, "--model", card, "--budget", 0),
        ("assist", sketch_file, "--model", card, "--target", "apple", "--budget", 1.5),
        ("attack", sketch_file, "--model", card, "--budget", -0.1),
        ("attack", one_point, "--model", card),
        ("assist", one_point, "--model", card, "--target", "apple"),
        ("attack", sketch_file, "--model", card, "--strokes", 0),
        ("attack", sketch_file, "--model", card, "--steps", 0),
        ("attack", sketch_file, "--model", card, "--margin", -1),
        ("attack", sketch_file, "--model", card, "--index", 5),
    ]


def test_cli_bad_input_is_one_line_exit_2_nothing_written(tiny, capsys, tmp_path):
    card, sketch_file, one_point = tiny
    predicted = _predicted(card, sketch_file)
    for call in _bad_calls(card, sketch_file, one_point, predicted):
        out = tmp_path / "out.ndjson"
        code, _, err = cli(capsys, *call, "--out", out)
        assert code == 2, (call, err)
        assert len(err.strip().splitlines()) == 1
        assert err.startswith(f"sketchstudio {call[0]}: error:")
        assert not out.exists(), call
    code, _, err = cli(capsys, "attack", sketch_file, "--model", card, "--target", "zebra")
    assert "apple, book" in err
    code, _, err = cli(capsys, "assist", sketch_file, "--model", card, "--target", predicted)
    assert "already classified" in err
    code, _, err = cli(capsys, "attack", sketch_file, "--model", card, "--out", tmp_path / "x.png")
    assert code == 2 and "unknown sketch file type" in err
