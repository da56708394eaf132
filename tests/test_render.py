"""The local rasteriser against the dense reference, gradients, and render specs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sketchstudio.errors import UserError
from sketchstudio.render import (
    RenderSpec,
    dense_ink_image,
    place,
    rasterise,
    render,
    render_ink,
    stroke_ink,
    to_model_input,
)
from sketchstudio.render.raster import Layout
from sketchstudio.sketch import Sketch

coordinate = st.floats(-10, 60, allow_nan=False)
stroke = st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=8)
sketches = st.lists(stroke, min_size=0, max_size=6).map(Sketch.from_arrays)


def _placed(sketch, spec):
    return place(sketch, spec, dtype=torch.float64)


@settings(max_examples=60, deadline=None)
@given(sketches, st.sampled_from([(16, 0.5, 0.0), (40, 1.3, 0.0), (48, 3.0, 0.0), (32, 0.15, 0.8),
                                  (24, 0.5, 3.0)]),
       st.sampled_from([None, 2, 4, 8]))
def test_local_matches_dense(sketch, pen, tile):
    size, sigma, width = pen
    spec = RenderSpec(size=size, sigma=sigma, width=width, fit="canvas", canvas=float(size))
    pl = _placed(sketch, spec)
    ink = stroke_ink(pl.points, pl.layout, size, sigma, tile, width=width)
    torch.manual_seed(0)
    alpha = torch.rand(3, len(sketch), dtype=torch.float64)
    seg_alpha = torch.rand(2, pl.layout.num_segments, dtype=torch.float64)
    dense = dense_ink_image(pl.points, pl.layout, size, sigma, alpha=alpha, width=width)
    assert (ink.composite(alpha) - dense).abs().max() <= 1e-5
    dense_seg = dense_ink_image(pl.points, pl.layout, size, sigma, segment_alpha=seg_alpha,
                                width=width)
    assert (ink.composite_segments(seg_alpha) - dense_seg).abs().max() <= 1e-5


def test_local_matches_dense_on_a_real_drawing_in_float32(shared_data):
    from sketchstudio.sketch.io import load_sketch

    sketch = load_sketch(shared_data("quickdraw", "raw", "cat.ndjson"), index=0)
    for size, sigma in [(28, 0.5), (64, 1.0), (224, 1.5)]:
        spec = RenderSpec(size=size, sigma=sigma)
        pl = place(sketch, spec)
        dense = dense_ink_image(pl.points, pl.layout, size, sigma)
        assert (rasterise(pl, spec).composite() - dense).abs().max() <= 1e-5


def test_gradcheck_presence_and_points():
    sketch = Sketch.from_arrays([[[2.2, 3.1], [9.7, 8.4], [4.3, 12.6]], [[12.2, 2.9], [13.1, 13.4]],
                                 [[7.3, 7.9]]])
    spec = RenderSpec(size=16, sigma=1.1, fit="canvas", canvas=16.0)
    pl = _placed(sketch, spec)

    def by_alpha(alpha):
        return stroke_ink(pl.points, pl.layout, 16, 1.1).composite(alpha)

    def by_segments(alpha):
        return stroke_ink(pl.points, pl.layout, 16, 1.1).composite_segments(alpha)

    def by_points(points):
        return stroke_ink(points, pl.layout, 16, 1.1).composite()

    alpha = torch.full((2, 3), 0.7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(by_alpha, (alpha,))
    seg = torch.rand(1, pl.layout.num_segments, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(by_segments, (seg,))
    points = pl.points.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(by_points, (points,))

    def by_points_wide(points):
        return stroke_ink(points, pl.layout, 16, 0.4, width=1.5).composite()
    assert torch.autograd.gradcheck(by_points_wide, (pl.points.clone().requires_grad_(True),))


def test_ink_does_not_depend_on_sampling_density():
    """A straight stroke drawn with 2 points or 50 collinear points inks the same pixels."""
    spec = RenderSpec(size=32, sigma=1.0, fit="canvas", canvas=32.0)
    coarse = Sketch.from_arrays([[[4, 4], [28, 20]]])
    fine = Sketch.from_arrays([np.linspace([4, 4], [28, 20], 50)])
    assert (render_ink(coarse, spec) - render_ink(fine, spec)).abs().max() < 1e-5


def test_cost_grows_with_ink_not_canvas():
    """The same sketch on a 4x larger canvas: pixel work grows far less than the canvas area
    (16x)."""
    sketch = Sketch.from_arrays([[[0, 0], [10, 0]], [[0, 5], [10, 5]]])
    small = RenderSpec(size=64, sigma=1.0, fit="canvas", canvas=64.0)
    large = RenderSpec(size=256, sigma=1.0, fit="canvas", canvas=256.0)
    work = [rasterise(place(sketch, s), s).pair_ink.numel() for s in (small, large)]
    assert work[0] == work[1]


def test_model_input_polarity_channels_normalisation():
    sketch = Sketch.from_arrays([[[0, 0], [10, 10]]])
    light = RenderSpec(size=20, ink="light-on-dark")
    dark = RenderSpec(size=20, channels=3, ink="dark-on-light", mean=(0.5,), std=(0.25,))
    a, b = render(sketch, light), render(sketch, dark)
    assert a.shape == (1, 1, 20, 20) and b.shape == (1, 3, 20, 20)
    assert a.min() == 0.0 and a.max() > 0.9
    np.testing.assert_allclose(b[0, 0].numpy(), ((1 - a[0, 0]) - 0.5).numpy() / 0.25, atol=1e-6)


def test_center_fit_uses_the_margin():
    spec = RenderSpec(size=100, sigma=0.5, margin=0.1)
    ink = render_ink(Sketch.from_arrays([[[0, 0], [50, 0], [50, 20]]]), spec)
    cols = torch.nonzero(ink.sum(0) > 0.5).flatten()
    assert cols.min().item() in (9, 10) and cols.max().item() in (89, 90)


def test_empty_sketch_renders_background():
    spec = RenderSpec(size=16, ink="dark-on-light")
    assert torch.equal(render(Sketch(), spec), torch.ones(1, 1, 16, 16))


@pytest.mark.parametrize("bad", [
    {"size": 0}, {"size": 28.5}, {"channels": 2}, {"ink": "purple"}, {"sigma": -1},
    {"fit": "stretch"}, {"margin": 0.7}, {"std": [0.0]}, {"mean": [0.1, 0.2]}, {"canvas": -5},
])
def test_bad_specs_are_refused_with_the_key_named(bad):
    key = next(iter(bad))
    with pytest.raises(UserError, match=key):
        RenderSpec.from_dict(bad)


def test_unknown_spec_key_is_named():
    with pytest.raises(UserError, match="colour"):
        RenderSpec.from_dict({"size": 28, "colour": "red"})


def test_layout_of_dots_and_polylines():
    layout = Layout.from_lengths([3, 1, 2])
    assert layout.seg_start.tolist() == [0, 1, 3, 4]
    assert layout.seg_end.tolist() == [1, 2, 3, 5]
    assert layout.seg_stroke.tolist() == [0, 0, 1, 2]
    assert layout.stroke_seg_offsets.tolist() == [0, 2, 3, 4]


def test_to_model_input_is_differentiable():
    spec = RenderSpec(size=16, channels=3, ink="dark-on-light")
    ink = torch.rand(2, 16, 16, requires_grad=True)
    to_model_input(ink, spec).sum().backward()
    assert ink.grad is not None and torch.all(ink.grad == -3.0)
