"""Whatever bytes a file holds, reading it either works or raises one SketchFileError."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sketchstudio.sketch import Sketch, Stroke
from sketchstudio.sketch.io import (
    SketchFileError,
    count_sketches,
    iter_sketches,
    load_sketch,
    save_sketches,
)

SUFFIXES = [".ndjson", ".npz", ".svg", ".json"]
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=4),
    max_leaves=20)


def _read_everything(path) -> None:
    """Every reading entry point; only SketchFileError may escape, with a one-line message."""
    for read in (count_sketches, lambda p: list(iter_sketches(p)), load_sketch):
        try:
            read(path)
        except SketchFileError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(path))


@SETTINGS
@given(data=st.binary(max_size=300), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(tmp_path, data, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    _read_everything(path)


@SETTINGS
@given(value=json_values, wrap=st.booleans(), suffix=st.sampled_from([".ndjson", ".json"]))
def test_random_json(tmp_path, value, wrap, suffix):
    # Wrapped, the value lands where the format expects drawing data, past the first checks.
    if wrap:
        value = ({"drawing": value} if suffix == ".ndjson"
                 else {"format": "sketchstudio", "version": 1, "strokes": value})
    path = tmp_path / f"f{suffix}"
    path.write_text(json.dumps(value))
    _read_everything(path)


@SETTINGS
@given(d=st.text(alphabet="MLHVCSQTAZmlhvcsqtaz0123456789.-e ,", max_size=40),
       transform=st.sampled_from(["", "rotate(30)", "scale(0)", "matrix(1 2 3 4 5 6)"]))
def test_random_svg_path_data(tmp_path, d, transform):
    path = tmp_path / "f.svg"
    path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><path d="{d}" '
                    f'transform="{transform}"/></svg>')
    _read_everything(path)


def _valid_file(tmp_path, suffix):
    path = tmp_path / f"valid{suffix}"
    sketch = Sketch((Stroke([[0, 0], [10, 5], [20, 0]], time=[0, 1, 2]), Stroke([[3, 3]])),
                    {"word": "cat"})
    save_sketches(path, [sketch] if suffix in (".svg", ".json") else [sketch, sketch])
    return path.read_bytes()


@pytest.mark.parametrize("suffix", SUFFIXES)
@SETTINGS
@given(data=st.data())
def test_damaged_valid_files(tmp_path, suffix, data):
    original = _valid_file(tmp_path, suffix)
    cut = data.draw(st.integers(0, len(original) - 1))
    damaged = data.draw(st.sampled_from([
        original[:cut],                                                  # truncated
        original[:cut] + bytes([original[cut] ^ 0xFF]) + original[cut + 1:],  # one byte flipped
    ]))
    path = tmp_path / f"f{suffix}"
    path.write_bytes(damaged)
    _read_everything(path)
