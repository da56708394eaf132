"""Every format reads back what it wrote (property tests over random sketches)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sketchstudio.sketch import Sketch, Stroke
from sketchstudio.sketch.io import (
    Document,
    SketchFileError,
    count_sketches,
    iter_sketches,
    load_document,
    load_sketch,
    save_document,
    save_sketch,
    save_sketches,
)

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

coordinate = st.one_of(st.integers(-300, 300).map(float),
                       st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False))
json_scalar = st.one_of(st.text(max_size=12), st.integers(-2 ** 53, 2 ** 53), st.booleans(),
                        st.none(), st.floats(allow_nan=False, allow_infinity=False))
metadata = st.dictionaries(st.text(max_size=8).filter(lambda k: k != "drawing"), json_scalar,
                           max_size=4)


@st.composite
def sketches(draw, channels=True):
    with_time = channels and draw(st.booleans())
    with_pressure = channels and draw(st.booleans())
    strokes = []
    for _ in range(draw(st.integers(0, 5))):
        n = draw(st.integers(1, 12))
        points = draw(st.lists(st.tuples(coordinate, coordinate), min_size=n, max_size=n))
        times = st.lists(st.integers(0, 10 ** 6), min_size=n, max_size=n)
        time = draw(times) if with_time else None
        pressure = (draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
                    if with_pressure else None)
        strokes.append(Stroke(points, pressure, time))
    return Sketch(tuple(strokes), draw(metadata))


def _without(sketch: Sketch, pressure: bool = True, time: bool = True) -> Sketch:
    return sketch.with_strokes([Stroke(s.points, None if pressure else s.pressure,
                                       None if time else s.time) for s in sketch])


@SETTINGS
@given(st.lists(sketches(), min_size=1, max_size=4))
def test_ndjson_round_trip(tmp_path, drawings):
    path = tmp_path / "d.ndjson"
    save_sketches(path, drawings)
    assert count_sketches(path) == len(drawings)
    # ndjson has no pressure; times are kept (raw layout) when every stroke of a drawing has them.
    assert list(iter_sketches(path)) == [_without(d, time=False) for d in drawings]
    assert load_sketch(path, len(drawings) - 1) == _without(drawings[-1], time=False)


@SETTINGS
@given(st.lists(sketches(channels=False), min_size=1, max_size=4))
def test_npz_round_trip(tmp_path, drawings):
    path = tmp_path / "d.npz"
    save_sketches(path, drawings)
    assert count_sketches(path) == len(drawings)
    for original, loaded in zip(drawings, iter_sketches(path), strict=True):
        assert dict(loaded.metadata) == dict(original.metadata)
        assert loaded.points_per_stroke() == original.points_per_stroke()
        for a, b in zip(original, loaded, strict=True):
            # Offsets are summed back up: float rounding, nothing more.
            np.testing.assert_allclose(b.points, a.points, rtol=1e-12, atol=1e-6)


@SETTINGS
@given(sketches())
def test_svg_round_trip_is_exact(tmp_path, sketch):
    path = tmp_path / "d.svg"
    save_sketch(path, sketch)
    assert load_sketch(path) == sketch


@SETTINGS
@given(sketches(),
       st.one_of(st.none(), st.text(max_size=10),
                 st.dictionaries(st.text(max_size=5), json_scalar, max_size=3)),
       st.one_of(st.none(), st.dictionaries(st.text(max_size=5), json_scalar, max_size=3)))
def test_native_round_trip_keeps_settings(tmp_path, sketch, model, attribution):
    path = tmp_path / "d.json"
    save_document(path, Document(sketch, model, attribution))
    assert load_document(path) == Document(sketch, model, attribution)
    assert load_sketch(path) == sketch


def test_integer_data_is_written_as_integers(tmp_path):
    sketch = Sketch((Stroke([[1, 2], [3, 4]]),), {"word": "cat"})
    save_sketch(tmp_path / "s.ndjson", sketch)
    assert (tmp_path / "s.ndjson").read_text() == '{"word":"cat","drawing":[[[1,3],[2,4]]]}\n'
    save_sketch(tmp_path / "s.npz", sketch)
    assert np.load(tmp_path / "s.npz")["train"].dtype == np.int16   # as sketch-rnn stores them


def test_svg_writes_one_straight_path_per_stroke(tmp_path):
    sketch = Sketch((Stroke([[0, 0], [1.5, 2], [3, 0]]), Stroke([[5, 5]])))
    save_sketch(tmp_path / "s.svg", sketch)
    text = (tmp_path / "s.svg").read_text()
    assert 'd="M 0 0 L 1.5 2 L 3 0"' in text and 'd="M 5 5 Z"' in text
    assert text.count("<path") == 2


@pytest.mark.parametrize("suffix", [".svg", ".json"])
def test_single_drawing_formats_refuse_several(tmp_path, suffix):
    sketch = Sketch((Stroke([[0, 0]]),))
    with pytest.raises(SketchFileError, match="exactly one drawing"):
        save_sketches(tmp_path / f"s{suffix}", [sketch, sketch])
    save_sketches(tmp_path / f"s{suffix}", iter([sketch]))
    assert count_sketches(tmp_path / f"s{suffix}") == 1


def test_failed_save_leaves_previous_file_untouched(tmp_path):
    path = tmp_path / "s.ndjson"
    save_sketch(path, Sketch((Stroke([[0, 0]]),)))
    before = path.read_bytes()
    bad = Sketch((Stroke([[1, 1]]),), {"x": object()})
    with pytest.raises(SketchFileError, match="cannot save"):
        save_sketches(path, [Sketch(), bad])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.ndjson"]
