"""Assist and attack on the shipped default classifier and real held-out drawings (skip if absent).

The full figures come from `sketchstudio eval tools` (docs/tools.md); these are quick checks
on a handful of drawings that the tools work on real data and that their verdicts are re-renders.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from sketchstudio.render import render
from sketchstudio.tasks import displacement as disp
from sketchstudio.tasks.assist import assist
from sketchstudio.tasks.attack import attack
from sketchstudio.tasks.scoring import probabilities

pytestmark = [pytest.mark.slow,  # the default classifier on real drawings
              pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def heldout(shared_data, default_model):
    """(sketch, true index): the first held-out drawing of every 5th category."""
    from sketchstudio.commands.eval_tools import heldout_drawings

    root = shared_data("quickdraw", "simplified")
    items = heldout_drawings(default_model, root, 200)
    return items[::20]


def test_attack_flips_real_drawings_within_budget_verified_by_rerender(default_model, heldout):
    import torch

    wins = 0
    for sketch, _ in heldout:
        r = attack(sketch, default_model, budget=0.03)
        side = disp.bbox_side(sketch)
        moved = np.linalg.norm(disp.flat_points(r.edited) - disp.flat_points(sketch), axis=1)
        assert moved.max() <= 0.03 * side
        assert r.edited.points_per_stroke() == sketch.points_per_stroke()
        with torch.no_grad():
            p = torch.softmax(default_model(render(r.edited, default_model.spec)), 1)[0]
        assert r.success == (int(p.argmax()) != r.original_index)
        wins += r.success
    assert wins >= 0.7 * len(heldout)   # the eval measures ~94% on all 200 held-out drawings


def test_assist_raises_the_true_class_of_unsure_real_drawings(default_model, shared_data):
    from sketchstudio.commands.eval_tools import heldout_drawings

    items = heldout_drawings(default_model, shared_data("quickdraw", "simplified"), 200)
    probs = [probabilities(s, default_model)[y] for s, y in items[:80]]
    unsure = [item for item, p in zip(items[:80], probs, strict=True) if p < 0.6][:4]
    assert unsure
    for sketch, y in unsure:
        r = assist(sketch, default_model, target=y, budget=0.05)
        assert r.after > r.before
        assert r.measure()["max_displacement"] <= 0.05
        assert r.ink_help.shape == (default_model.spec.size,) * 2


def test_eval_tools_command_reports_the_figures(shared_data, capsys):
    from sketchstudio.cli import main

    root = shared_data("quickdraw", "simplified")
    code = main(["eval", "tools", "--data", str(root), "--limit", "3", "--budgets", "0.05",
                 "--draws", "1", "--steps", "5", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["drawings"] == 3
    a = out["attack"]["0.05"]
    assert {"success", "random", "median_ms"} <= set(a) and a["max_displacement"] <= 0.05
    assert {"sla_stroke", "random_stroke"} <= set(out["stroke_budget"])
    assert "raised" in out["assist"] and "targets" in out
    ext = out["external"]
    assert ext["pipeline"].startswith("PIL lines") and ext["drawings"] == 3
    assert {"success", "card_success", "robust_success_mean", "median_ms", "median_cpu_ms"} <= \
        set(ext["attack"])
    assert {"confident", "confident_n", "unsure", "unsure_n"} <= set(ext["random"])
    assert "raised" in ext["assist"] and "external_attack_success_>=_0.90" in out["targets"]
