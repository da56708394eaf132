"""Sketch and Stroke: validation, immutability, identity of strokes through transforms."""
from __future__ import annotations

import numpy as np
import pytest

from sketchstudio.sketch import (
    Sketch,
    SketchError,
    Stroke,
    fit_square,
    resample,
    simplify,
    translate,
)


def _sketch() -> Sketch:
    return Sketch((Stroke([[0, 0], [10, 0], [10, 10]], time=[0, 5, 9]), Stroke([[3, 4]])),
                  {"word": "cat"})


@pytest.mark.parametrize("points, message", [
    ([], "shape"), ([[1, 2, 3]], "shape"), ([[np.nan, 0]], "NaN"), ([["a", 1]], "not numbers"),
    (np.zeros((0, 2)), "at least one point"),
])
def test_invalid_points_are_refused(points, message):
    with pytest.raises(SketchError, match=message):
        Stroke(points)


def test_channels_must_match_points():
    with pytest.raises(SketchError, match="2 values for 3 points"):
        Stroke([[0, 0], [1, 1], [2, 2]], time=[0, 1])
    with pytest.raises(SketchError, match="NaN"):
        Stroke([[0, 0]], pressure=[np.inf])


def test_arrays_are_read_only_and_metadata_frozen():
    sketch = _sketch()
    with pytest.raises(ValueError):
        sketch[0].points[0, 0] = 5
    with pytest.raises(TypeError):
        sketch.metadata["word"] = "dog"   # type: ignore[index]


def test_counts_bbox_and_equality():
    sketch = _sketch()
    assert (len(sketch), sketch.num_points, sketch.points_per_stroke()) == (2, 4, [3, 1])
    assert sketch.num_segments == 3    # a dot counts as one segment
    assert sketch.bbox() == (0.0, 0.0, 10.0, 10.0)
    assert Sketch().bbox() == (0.0, 0.0, 0.0, 0.0)
    assert sketch == _sketch() and sketch != sketch.with_metadata(word="dog")
    assert sketch.word == "cat"


def test_edits_return_new_sketches():
    sketch = _sketch()
    assert len(sketch.remove_strokes([0])) == 1 and len(sketch) == 2
    assert len(sketch.add_stroke(Stroke([[1, 1]]))) == 3
    assert sketch.replace_stroke(1, Stroke([[9, 9]]))[1].points.tolist() == [[9.0, 9.0]]


def test_transforms_keep_stroke_identity_and_channels():
    sketch = _sketch()
    moved = translate(sketch, 1, 2)
    assert moved.points_per_stroke() == sketch.points_per_stroke()
    assert np.array_equal(moved[0].time, sketch[0].time)
    fitted = fit_square(sketch, 100.0, margin=0.1)
    assert fitted.bbox() == pytest.approx((10.0, 10.0, 90.0, 90.0))
    assert len(resample(sketch, 1.0)[0]) == 21 and len(simplify(sketch, 100.0)[0]) == 2
