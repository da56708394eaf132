"""Stroke-level augmentation: strokes keep their identity and order, nothing turns into NaN."""
from __future__ import annotations

import numpy as np
import pytest

from sketchstudio.sketch import Sketch, Stroke
from sketchstudio.sketch import augment as aug


def _sketch() -> Sketch:
    return Sketch((
        Stroke([[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]], time=[0, 10, 20, 30, 40]),
        Stroke([[20, 20], [80, 80]]),
        Stroke([[50, 50]]),                                          # a dot
        Stroke([[10, 90], [10, 90], [10, 90]]),                      # all points identical
        Stroke(np.column_stack([np.linspace(0, 100, 40), 50 + 20 * np.sin(np.linspace(0, 6, 40))])),
    ), {"word": "box", "key_id": "42"})


GEOMETRIC = {
    "jitter": lambda s, r: aug.jitter(s, r, 0.02),
    "affine": lambda s, r: aug.affine(s, r, 30, 0.3, 0.3),  # flip: tested on its own
    "shift_strokes": lambda s, r: aug.shift_strokes(s, r, 0.05),
    "warp": lambda s, r: aug.warp(s, r, 0.1),
    "resimplify": lambda s, r: aug.resimplify(s, r, 0.05),
}


@pytest.mark.parametrize("name", sorted(GEOMETRIC))
def test_geometric_augmentations_keep_every_stroke_in_order(name):
    sketch = _sketch()
    for seed in range(20):
        out = GEOMETRIC[name](sketch, np.random.default_rng(seed))
        assert len(out) == len(sketch)
        assert dict(out.metadata) == dict(sketch.metadata)
        for before, after in zip(sketch.strokes, out.strokes, strict=True):
            assert np.isfinite(after.points).all()
            # stroke k stays stroke k: it stays near where it was, relative to the drawing's size
            assert np.linalg.norm(after.points.mean(0) - before.points.mean(0)) < 60
    assert _sketch() == sketch  # the input is untouched


def test_point_preserving_augmentations_keep_point_counts_and_time():
    sketch = _sketch()
    rng = np.random.default_rng(0)
    for fn in (aug.jitter, aug.affine, aug.shift_strokes, aug.warp):
        out = fn(sketch, rng)
        assert out.points_per_stroke() == sketch.points_per_stroke()
        np.testing.assert_array_equal(out[0].time, sketch[0].time)


def test_affine_flip_mirrors_about_the_centre():
    sketch = _sketch()
    out = aug.affine(sketch, np.random.default_rng(1), rotation=0, stretch=0, shear=0, flip=1.0)
    np.testing.assert_allclose(out[1].points, [[80, 20], [20, 80]])


def test_drop_strokes_keeps_survivors_in_order_and_most_of_the_ink():
    sketch = _sketch()
    lengths = np.array([max(s.length(), 1e-9) for s in sketch.strokes])
    for seed in range(50):
        out = aug.drop_strokes(sketch, np.random.default_rng(seed), p=0.5, keep_ink=0.7)
        assert 1 <= len(out) <= len(sketch)
        # survivors are a subsequence of the original strokes, in the original order
        idx = [next(i for i, s in enumerate(sketch.strokes) if s == t) for t in out.strokes]
        assert idx == sorted(idx) and len(set(idx)) == len(idx)
        assert lengths[idx].sum() >= 0.7 * lengths.sum() - 1e-9


def test_partial_is_a_prefix():
    sketch = _sketch()
    assert aug.first_strokes(sketch, 2).strokes == sketch.strokes[:2]
    assert len(aug.first_strokes(sketch, 0)) == 0
    for seed in range(20):
        out = aug.partial(sketch, np.random.default_rng(seed), min_ink=0.6)
        assert out.strokes == sketch.strokes[:len(out)] and len(out) >= 1


def test_augmenter_is_seeded_and_never_produces_nan_or_empty_drawings():
    augmenter = aug.Augmenter()
    sketches = [_sketch(), Sketch.from_arrays([[[5, 5]]]), Sketch.from_arrays([[[0, 0], [0, 0]]]),
                Sketch.from_arrays([[[0, 0], [1e-7, 0]], [[3, 3], [3, 3.00001]]]), Sketch()]
    for sketch in sketches:
        for seed in range(30):
            out = augmenter(sketch, np.random.default_rng(seed))
            assert len(out) >= min(1, len(sketch))
            for s in out.strokes:
                assert np.isfinite(s.points).all()
            again = augmenter(sketch, np.random.default_rng(seed))
            assert again == out


def test_augment_module_does_not_import_torch():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(aug))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(n.split(".")[0] == "torch" for n in names)
