"""The fill task: ground truth by flood fill, the baselines, the regions a user clicks, training,
evaluation, and the shipped default generator on real drawings."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from sketchstudio.cli import main
from sketchstudio.errors import UserError
from sketchstudio.models import load_model
from sketchstudio.progress import Cancelled, TaskState
from sketchstudio.render import render_ink
from sketchstudio.sketch import Sketch
from sketchstudio.tasks.generate import RegionMean, explain_region, generate
from sketchstudio.tasks.regions import label_regions, region_at
from sketchstudio.training.data import RENDER_SPEC
from sketchstudio.training.fill_truth import (
    bounding_box_fill,
    convex_hull_fill,
    enclosing_strokes,
    filled_figure,
)


def square(gap: float = 0.0) -> Sketch:
    """A square of 4 strokes (the top one shortened by `gap` sketch units) and a stray tick
    outside it, to the right."""
    return Sketch.from_arrays([
        [[0, 0], [100 - gap, 0]], [[100, 0], [100, 100]], [[100, 100], [0, 100]],
        [[0, 100], [0, 0]], [[150, 40], [170, 60]]])


def ink_of(sketch: Sketch) -> torch.Tensor:
    return render_ink(sketch, RENDER_SPEC)


# --- ground truth and baselines -------------------------------------------------------------------

def test_a_closed_outline_is_filled_and_an_open_one_is_not():
    closed, opened = ink_of(square()), ink_of(square(gap=40))
    f_closed, f_open = filled_figure(torch.stack([closed, opened]))
    centre = (32, 24)   # inside the square (the square sits left of the stray tick)
    assert f_closed[centre] and not f_open[centre]
    # Ink is always in the figure; the open square's figure is its ink and nothing more.
    assert bool(f_closed[closed > 0.5].all())
    assert torch.equal(f_open, opened > 0.5)
    assert int(f_closed.sum()) > 2 * int((closed > 0.5).sum())


def test_enclosing_strokes_are_the_four_sides_not_the_stray_tick():
    from sketchstudio.render import place, rasterise

    sketch = square()
    ink = ink_of(sketch)
    regions = label_regions((filled_figure(ink[None]) & (ink <= 0.5))[0].numpy())
    assert len(regions) == 1 and regions[0].sum() > 100
    own = rasterise(place(sketch, RENDER_SPEC), RENDER_SPEC).composite(torch.eye(len(sketch)))
    assert enclosing_strokes(own, regions[0]) == [0, 1, 2, 3]


def test_baselines_hull_and_box():
    ink = ink_of(square()).numpy()
    hull, box = convex_hull_fill(ink), bounding_box_fill(ink)
    assert hull.sum() <= box.sum() and (box | hull).sum() == box.sum()   # the hull is in the box
    assert hull[32, 24] and hull[(ink > 0.5)].all()
    empty = np.zeros((8, 8), np.float32)
    assert not convex_hull_fill(empty).any() and not bounding_box_fill(empty).any()


def test_label_regions_and_region_at():
    mask = np.zeros((10, 10), bool)
    mask[1:4, 1:4] = True          # 9 pixels
    mask[6:9, 5:10] = True         # 15 pixels
    regions = label_regions(mask)
    assert [int(r.sum()) for r in regions] == [15, 9]
    assert region_at(mask, 2.5, 2.5).sum() == 9
    assert region_at(mask, 7.0, 7.9).sum() == 15
    assert region_at(mask, 0.5, 0.5) is None and region_at(mask, 20, 2) is None


# --- the mask objective ---------------------------------------------------------------------------

def test_region_mean_over_a_mask():
    out = torch.rand(2, 3, 6, 5)
    mask = np.zeros((6, 5), bool)
    mask[[0, 2, 5], [1, 4, 0]] = True
    objective = RegionMean(mask=mask)
    expected = out[:, :, torch.as_tensor(mask)].mean(dim=(1, 2))
    torch.testing.assert_close(objective(out), expected)
    assert objective.pixels == 3 and objective.region.to_list() == [0, 0, 5, 6]
    with pytest.raises(UserError, match="mask is 4x6 pixels but the output is 5x6"):
        RegionMean(mask=np.ones((6, 4), bool))(out)
    with pytest.raises(UserError, match="non-empty"):
        RegionMean(mask=np.zeros((6, 5), bool))


def test_generate_honours_cancellation(default_generator):
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        generate(square(), default_generator, state)
    seen = []
    generate(square(), default_generator, TaskState(progress=seen.append))
    assert seen[-1] == 1.0


# --- the shipped default generator ----------------------------------------------------------------

@pytest.fixture(scope="module")
def default_generator():
    from sketchstudio.models import builtin_models_dir

    if not (builtin_models_dir() / "default-generate" / "card.toml").is_file():
        pytest.skip("the built-in default-generate model is not in resources/models")
    return load_model("default-generate", device="cpu")


def test_default_generator_fills_a_closed_square_and_explains_it(default_generator):
    assert default_generator.card.extra["output"]["content"] == "filled-figure"
    g = generate(square(), default_generator)
    assert g.description and "encloses" in g.description
    inside, gap = g.region_at(24.5, 32.5), generate(square(gap=40), default_generator)
    assert inside is not None and inside.sum() > 100       # the square's inside is filled
    assert gap.region_at(24.5, 32.5) is None                # an open square is not
    r = explain_region(square(), default_generator, mask=inside, method="occlusion")
    assert r.params["mask_pixels"] == int(inside.sum())
    assert int(np.argmax(r.strokes)) in (0, 1, 2, 3)        # a side closes it, not the tick
    assert abs(r.strokes[4]) < 0.1 * r.strokes[:4].max()


def _folder_of(source: Path, tmp: Path, per_category: dict[str, int], raw: bool = False) -> Path:
    """A data folder with the first N drawings of some categories (test files live in tmp)."""
    tmp.mkdir()
    for category, n in per_category.items():
        lines = (source / f"{category}.ndjson").read_text(encoding="utf-8").splitlines()[:n]
        (tmp / f"{category}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp


def test_eval_generation_on_a_small_folder_reports_baselines_and_pointing(
        shared_data, default_generator, tmp_path, capsys):
    # Categories with 1 and 3 drawings: any number per category is evaluated.
    folder = _folder_of(shared_data("quickdraw", "simplified"), tmp_path / "few",
                        {"apple": 3, "house": 1, "donut": 2})
    code = main(["eval", "generation", "--data", str(folder), "--methods", "sla-grad", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["drawings"] == 6 and out["higher_is_better"] is True
    assert out["metric"] == "filled-figure IoU" and 0 < out["model"] <= 1
    assert set(out["baselines"]) == {"input", "input dilated 1 px", "input dilated 2 px",
                                     "convex hull", "bounding box", "category mean"}
    pointing = out["pointing"]["sla-grad"]
    assert pointing["cases"] > 0 and 0 <= pointing["hit_rate"] <= 1


def test_eval_generation_reads_raw_drawings(shared_data, default_generator, tmp_path, capsys):
    folder = _folder_of(shared_data("quickdraw", "raw"), tmp_path / "raw", {"apple": 2})
    assert main(["eval", "generation", "--data", str(folder), "--pointing", "none",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["drawings"] == 2 and "pointing" not in out


def test_eval_generation_bad_folder_is_one_line(tmp_path, capsys, default_generator):
    (tmp_path / "empty").mkdir()
    assert main(["eval", "generation", "--data", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no .ndjson files" in err


@pytest.mark.slow
def test_default_generator_beats_every_baseline_on_heldout_drawings(default_generator):
    """The issue's target, on a fixed sample of held-out drawings (the full figure is in
    docs/generation.md): at least 10% above every trivial baseline."""
    from sketchstudio.commands.eval_generation import _heldout
    from sketchstudio.training.fill_eval import category_means, evaluate_fill

    try:
        drawings, train, _ = _heldout(["apple", "house", "donut", "cloud", "fish", "t-shirt",
                                       "envelope", "light bulb", "bicycle", "sun"])
    except UserError as exc:
        pytest.skip(str(exc))
    result = evaluate_fill(default_generator, drawings, category_means(train, RENDER_SPEC))
    for name, score in result["baselines"].items():
        assert result["model"] >= 1.1 * score, (name, result)


def test_fill_trains_exports_and_evaluates(shared_data, tmp_path):
    from sketchstudio.models.card import load_card
    from sketchstudio.training.fill import FillConfig, train_fill

    data = shared_data("quickdraw", "simplified")
    config = FillConfig(data=data, out=tmp_path / "gen", epochs=1, size=16, channels=(4, 8, 8),
                        categories=("apple", "house"), limit_per_category=3)
    seen: list[float] = []
    result = train_fill(config, state=TaskState(progress=seen.append))
    assert seen[-1] == 1.0 and seen == sorted(seen)
    card = load_card(result.card_path)
    assert card.task == "generate" and card.spec.size == 16
    assert card.extra["output"]["content"] == "filled-figure"
    h = result.heldout
    assert h["drawings"] == 10 and 0 <= h["model"] <= 1 and "convex hull" in h["baselines"]
    assert card.extra["training"]["heldout_model"] == h["model"]
    model = load_model(result.card_path, "cpu")
    r = explain_region(square(), model, steps=16)
    assert r.strokes.shape == (5,)
    # Seeded: the same config gives the same weights.
    again = train_fill(FillConfig(**{**config.__dict__, "out": tmp_path / "again"}))
    a = torch.jit.load(str(result.model_path)).state_dict()
    b = torch.jit.load(str(again.model_path)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_fill_training_can_be_cancelled(shared_data, tmp_path):
    from sketchstudio.training.fill import FillConfig, train_fill

    state = TaskState()
    state.cancel()
    config = FillConfig(data=shared_data("quickdraw", "simplified"), out=tmp_path / "x",
                        epochs=1, size=16, channels=(4, 8, 8), categories=("apple",),
                        limit_per_category=2)
    with pytest.raises(Cancelled):
        train_fill(config, state=state)
    assert not (tmp_path / "x" / "card.toml").exists()


def test_train_fill_cli_smoke(shared_data, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["train", "fill", "--data", str(shared_data("quickdraw", "simplified")),
                 "--out", str(out), "--epochs", "1", "--limit", "2", "--categories", "apple",
                 "--quiet"])
    assert code == 0 and (out / "card.toml").is_file() and (out / "model.pt").is_file()
    assert "held-out filled-figure IoU" in capsys.readouterr().out
    shutil.rmtree(out)
