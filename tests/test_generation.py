"""Generation: the region objective, stroke attribution of a region, bad generators, the CLI, and
the completion training/evaluation. Generators are tiny TorchScript modules built here."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from model_zoo import INPUT, card_dict, make_model, write_card
from torch import nn

from sketchstudio.cli import main
from sketchstudio.errors import UserError
from sketchstudio.models import load_model
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import save_sketches
from sketchstudio.tasks.generate import (
    GenerationResult,
    Region,
    RegionMean,
    check_region,
    explain_region,
    generate,
    parse_region,
    region_from_rect,
)

SIZE = INPUT["size"]   # 28


class Identity(nn.Module):
    """output = input: the region mean is the ink inside the region, so which strokes matter is
    known exactly."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 1.0


class Colour(nn.Module):
    """Three channels, each a different smooth function of the ink."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, torch.sigmoid(3 * x), x * x], dim=1)


class Flat(nn.Module):
    """(B, H*W): an image flattened, the wrong shape for a generator."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


class TwoChannels(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x], dim=1)


class Infinite(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / 0.0


def generator(folder: Path, module: nn.Module, **card_fields) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module.eval()), str(folder / "model.pt"))
    fields = {"name": "test generator", "task": "generate", "labels": None, **card_fields}
    return write_card(folder, card_dict(**fields))


def two_strokes() -> Sketch:
    # A vertical stroke on the left, one on the right; the fit centres the pair in the frame.
    return Sketch.from_arrays([[[0, 0], [0, 100]], [[100, 0], [100, 100]]], word="bars")


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    return load_model(generator(tmp_path_factory.mktemp("identity"), Identity(),
                                output={"range": [0.0, 1.0], "ink": "light-on-dark"}), "cpu")


# --- regions ------------------------------------------------------------------------------------

def test_region_mean_is_the_mean_of_every_channel_inside_the_region():
    out = torch.rand(2, 3, 8, 10)
    scores = RegionMean((1, 2, 5, 7))(out)
    assert scores.shape == (2,)
    torch.testing.assert_close(scores, out[:, :, 2:7, 1:5].mean(dim=(1, 2, 3)))
    torch.testing.assert_close(RegionMean()(out), out.mean(dim=(1, 2, 3)))
    assert RegionMean.name == "region-mean"


def test_region_end_is_exclusive():
    out = torch.zeros(1, 1, 8, 8)
    out[0, 0, 5, 3] = 1.0                       # row 5, column 3
    assert float(RegionMean((3, 5, 4, 6))(out)) == 1.0   # exactly that one pixel
    assert check_region(None, 10, 8) == Region(0, 0, 10, 8)
    assert check_region("0,0,10,8", 10, 8).area == 80


@pytest.mark.parametrize("text", ["0,0,11,8", "-1,0,5,5", "0,0,5,9", "10,0,12,4"])
def test_region_outside_the_output_is_one_clear_error(text):
    with pytest.raises(UserError, match=r"outside the 10x8 output"):
        check_region(text, 10, 8)
    with pytest.raises(UserError, match="outside"):
        RegionMean(text)(torch.zeros(1, 1, 8, 10))


@pytest.mark.parametrize("text, problem", [
    ("1,2,3", "4 integers"), ("a,b,c,d", "4 integers"), ("0,0,1.5,2", "whole output pixels"),
    ("4,0,4,5", "empty"), ("5,5,2,8", "empty")])
def test_malformed_regions(text, problem):
    with pytest.raises(UserError, match=problem):
        parse_region(text)


def test_region_from_a_dragged_rectangle_is_clamped():
    assert region_from_rect(5.5, 6.2, 1.2, 2.0, 8, 8) == Region(1, 2, 6, 7)   # any corner order
    assert region_from_rect(-3, -3, 20, 20, 8, 8) == Region(0, 0, 8, 8)
    assert region_from_rect(3.0, 3.0, 3.0, 3.0, 8, 8) == Region(3, 3, 4, 4)   # a click
    assert region_from_rect(9, 9, 12, 12, 8, 8) is None


# --- generate and explain ------------------------------------------------------------------------

def test_generate_returns_the_image_and_its_statistics(identity):
    g = generate(two_strokes(), identity)
    assert isinstance(g, GenerationResult)
    assert g.image.shape == (SIZE, SIZE, 1) and g.image.dtype == np.float32
    np.testing.assert_allclose(g.image[:, :, 0], g.input_ink, atol=1e-6)   # identity
    assert 0 < g.stats["ink_fraction"] < 0.5 and g.stats["max"] <= 1.0
    assert g.stats["added_ink_fraction"] == 0.0
    pixels = g.to_uint8()
    assert pixels.shape == (SIZE, SIZE, 3) and pixels.dtype == np.uint8
    assert pixels.max() == 255 and pixels.min() < 50            # dark ink on white paper
    # Output pixels map back onto the sketch: the left stroke is at x = 0.
    col = int(np.argmax(g.image[SIZE // 2, :SIZE // 2, 0]))
    x, _ = g.output_to_sketch(col + 0.5, SIZE / 2)
    assert abs(float(x)) < 100 / (SIZE * 0.84) + 1e-6            # within one pixel
    assert np.allclose(g.sketch_to_output(*g.output_to_sketch(3.5, 7.5)), (3.5, 7.5))


def test_three_channel_generator(tmp_path):
    model = load_model(generator(tmp_path / "c", Colour()), "cpu")
    g = generate(two_strokes(), model)
    assert g.image.shape == (SIZE, SIZE, 3) and g.to_uint8().shape == (SIZE, SIZE, 3)
    r = explain_region(two_strokes(), model, steps=64)
    assert r.completeness_error < 0.01


def test_region_attribution_goes_to_the_strokes_that_ink_the_region(identity):
    sketch = two_strokes()
    left = explain_region(sketch, identity, region=(0, 0, SIZE // 2, SIZE), method="sla", steps=64)
    assert left.objective == "region-mean" and left.task == "generate"
    assert left.params["region"] == [0, 0, SIZE // 2, SIZE]
    assert left.strokes[0] > 0 and left.strokes[1] == 0.0         # the right stroke is not there
    # Completeness: the values sum to mean(region | sketch) - mean(region | blank).
    g = generate(sketch, identity)
    expected = float(g.image[:, :SIZE // 2].mean())
    assert left.score_full == pytest.approx(expected, rel=1e-5)
    assert left.score_blank == pytest.approx(0.0, abs=1e-7)
    assert left.strokes.sum() == pytest.approx(left.score_full - left.score_blank, rel=0.01)
    right = explain_region(sketch, identity, region=(SIZE // 2, 0, SIZE, SIZE), method="occlusion")
    assert right.strokes[0] == 0.0 and right.strokes[1] > 0


def test_sla_is_complete_for_a_nonlinear_generator(tmp_path):
    card = make_model(tmp_path / "g", task="generate", labels=None, behaviour="generator")
    model = load_model(card, "cpu")
    sketch = Sketch.from_arrays([[[0, 0], [50, 80], [100, 0]], [[20, 40], [80, 40]], [[50, 90]]])
    for region in (None, (4, 4, 20, 16)):
        r = explain_region(sketch, model, region=region, method="sla", steps=128)
        assert r.strokes.shape == (3,)
        assert r.completeness_error < 0.01
    psla = explain_region(sketch, model, method="psla", steps=64)
    assert len(psla.segments) == 3 and psla.completeness_error < 0.01


def test_progress_and_whole_image_default(identity):
    seen = []
    r = explain_region(two_strokes(), identity, progress=seen.append)
    assert r.params["region"] == [0, 0, SIZE, SIZE] and r.params["output_shape"] == [1, SIZE, SIZE]
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.parametrize("module, problem", [
    (Flat(), r"must return an image \(1, C, H, W\).*got shape \(1, 784\)"),
    (TwoChannels(), "1 or 3 channels"),
    (Infinite(), "NaN or infinite")])
def test_wrong_generator_output_is_one_clear_error(tmp_path, module, problem):
    model = load_model(generator(tmp_path / "bad", module), "cpu")
    with pytest.raises(UserError, match=problem):
        generate(two_strokes(), model)
    with pytest.raises(UserError, match=problem):
        explain_region(two_strokes(), model)


def test_wrong_shape_inside_a_batch_is_caught_by_the_objective():
    with pytest.raises(UserError, match="must return an image"):
        RegionMean()(torch.zeros(4, 28 * 28))


def test_region_outside_the_generated_image(identity):
    with pytest.raises(UserError, match=f"outside the {SIZE}x{SIZE} output"):
        explain_region(two_strokes(), identity, region=(0, 0, SIZE + 1, SIZE))


def test_a_classifier_is_not_a_generator(tmp_path):
    model = load_model(make_model(tmp_path / "cls"), "cpu")
    with pytest.raises(UserError, match='task = "generate"'):
        generate(two_strokes(), model)


# --- CLI ------------------------------------------------------------------------------------------

def test_cli_json_and_png(tmp_path, capsys):
    from PIL import Image

    sketch_file = tmp_path / "bars.json"
    save_sketches(sketch_file, [two_strokes()])
    card = generator(tmp_path / "id", Identity(),
                     output={"range": [0.0, 1.0], "ink": "light-on-dark"})
    png = tmp_path / "out.png"
    code = main(["generate", str(sketch_file), "--model", str(card), "--region", "0,0,14,28",
                 "--out", str(png), "--json", "--steps", "16"])
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert record["region"] == [0, 0, 14, 28]
    assert len(record["strokes"]) == 2 and record["strokes"][1] == 0.0
    assert record["output"]["shape"] == [1, SIZE, SIZE]
    for key in ("min", "max", "mean", "std", "ink_fraction"):
        assert key in record["output"]
    assert record["completeness_error"] < 0.05
    assert "exclusive" in record["region_convention"]
    with Image.open(png) as im:
        assert im.size == (SIZE * 4, SIZE * 4)


def test_cli_region_outside_is_one_line(tmp_path, capsys):
    sketch_file = tmp_path / "bars.json"
    save_sketches(sketch_file, [two_strokes()])
    card = generator(tmp_path / "id", Identity())
    code = main(["generate", str(sketch_file), "--model", str(card), "--region", "0,0,100,100"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "outside the 28x28 output" in err


def test_cli_text_output(tmp_path, capsys):
    sketch_file = tmp_path / "bars.json"
    save_sketches(sketch_file, [two_strokes()])
    card = generator(tmp_path / "id", Identity())
    assert main(["generate", str(sketch_file), "--model", str(card), "--method", "sla-grad"]) == 0
    out = capsys.readouterr().out
    assert "stroke   0" in out and "region 0,0,28,28" in out


# --- completion data, training and evaluation -----------------------------------------------------

def test_removals_keep_a_prefix_and_the_pair_lines_up():
    from sketchstudio.training.completion import (
        COMPLETION_SPEC,
        random_removal,
        remove_suffix,
        render_pair,
    )

    sketch = Sketch.from_arrays([[[0, 0], [50, 0]], [[0, 20], [50, 20]], [[0, 40], [90, 60]],
                                 [[10, 10], [30, 30]], [[40, 0], [45, 50]]])
    assert len(remove_suffix(sketch, 0.4)) == 3
    assert len(remove_suffix(sketch, 0.01)) == 4       # at least one stroke goes
    assert remove_suffix(Sketch.from_arrays([[[0, 0], [5, 5]]])) is None
    rng = np.random.default_rng(0)
    for _ in range(20):
        partial = random_removal(sketch, rng)
        assert 1 <= len(partial) < len(sketch)
        x, y = render_pair(partial, sketch, COMPLETION_SPEC)
        assert x.shape == y.shape == (64, 64)
        assert bool((y >= x - 1e-5).all())             # the input's ink is in the target


def test_completion_trains_exports_and_evaluates(shared_data, tmp_path):
    from sketchstudio.models.card import load_card
    from sketchstudio.training.completion import CompletionConfig, train_completion

    data = shared_data("quickdraw", "simplified")
    config = CompletionConfig(data=data, out=tmp_path / "gen", epochs=1, variants=1, size=16,
                              categories=("apple", "house"), limit_per_category=3,
                              channels=(4, 8, 8, 8))
    result = train_completion(config)
    card = load_card(result.card_path)
    assert card.task == "generate" and card.spec.size == 16
    assert card.extra["output"]["frame"] == "input"
    h = result.heldout
    assert h["drawings"] > 0 and 0 <= h["iou_model"] <= 1 and 0 < h["iou_baseline"] <= 1
    model = load_model(result.card_path, "cpu")
    sk = Sketch.from_arrays([[[0, 0], [50, 80]], [[20, 40], [80, 40]]])
    r = explain_region(sk, model, steps=32)
    assert r.completeness_error < 0.02


def test_default_generator_on_real_drawings(shared_data, capsys):
    data = shared_data("quickdraw", "simplified")
    model = load_model("default-generate", "cpu")
    assert model.task == "generate"
    code = main(["eval", "generation", "--categories", "cat", "house", "bicycle", "apple",
                 "--pointing", "none", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["drawings"] == 20 and str(data) in result["data"]
    assert result["higher_is_better"] is True and 0 < result["model"] <= 1
    assert all(0 < v < 1 for v in result["baselines"].values())
    g = generate(Sketch.from_arrays([[[0, 0], [100, 0], [100, 100]]]), model)
    assert g.image.shape == (64, 64, 1)
    # max(input, net) has kinks: the integral needs more steps than a smooth classifier.
    r = explain_region(Sketch.from_arrays([[[0, 0], [100, 0], [100, 100]], [[0, 0], [0, 50]]]),
                       model, region=(0, 0, 32, 32), steps=128)
    assert r.strokes.shape == (2,) and r.completeness_error < 0.02
