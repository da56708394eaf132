"""Issue 19, item 4: whatever a reader accepts, every writer writes and reads back the same.

Files are built as raw text (not by our writers, which refuse what they cannot write), with hostile
metadata and coordinates: lone surrogates, numbers that parse to infinity, integers of thousands of
digits, deep nesting, the key "drawing", coordinates near the float limit. Every file is either
refused with one line, or saved in every format and read back with the same metadata and strokes.
Also: writers refuse the same with one line and leave the previous file; `convert` never writes a
file its reader refuses; saving onto a symbolic link updates its target; PNG writes are atomic.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sketchstudio.cli import main as cli_main
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import (
    Document,
    SketchFileError,
    load_document,
    save_document,
    save_sketch,
)
from sketchstudio.sketch.limits import MAX_COORDINATE, MAX_METADATA_DEPTH

FORMATS = (".ndjson", ".npz", ".svg", ".json")
EXAMPLES = int(os.environ.get("SKETCHSTUDIO_FUZZ_EXAMPLES", "60"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HUGE_INT = "1" + "0" * 4400          # more digits than Python converts (4,300)
LONG_INT = "9" * 4000                # fewer: reads, and must write back exactly

# --- raw JSON text, so that values no encoder produces can be written -----------------------------
# Mostly ordinary values, so that most files are read and the round trip is exercised; hostile ones
# often enough that most files hold one.
hostile_strings = st.sampled_from(['"\\ud800"', '"a\\udfffb"', '"drawing"'])
raw_strings = (st.text(max_size=6).map(json.dumps)
               | st.sampled_from(['"\\ud83d\\ude00"', '"\\u0000"', '"word"', '"\\u2028"']))
hostile_scalars = (st.sampled_from(["1e999", "-1e999", "1E400"]) | hostile_strings
                   | st.just(4400).map(lambda n: "1" + "0" * n))
raw_scalars = (st.sampled_from(["null", "true", "false", "-0.0", "1e308", "5e-324", "0.1",
                                "1e-400"])
               | st.just(4000).map(lambda n: "9" * n)
               | st.integers(-10 ** 30, 10 ** 30).map(str)
               | st.floats(allow_nan=False, allow_infinity=False).map(repr)
               | raw_strings)


def _object(pairs) -> str:
    return "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"


def _values(scalars):
    return st.recursive(
        scalars,
        lambda inner: (st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]")
                       | st.lists(st.tuples(raw_strings, inner), max_size=4).map(_object)),
        max_leaves=12)


raw_values = _values(raw_scalars)
nested = st.integers(MAX_METADATA_DEPTH - 2, MAX_METADATA_DEPTH + 2).map(
    lambda n: "[" * n + "1" + "]" * n)
hostile_values = _values(hostile_scalars | raw_scalars) | nested
plain_metadata = st.lists(st.tuples(raw_strings, raw_values), max_size=4).map(_object)
raw_metadata = (plain_metadata | plain_metadata | st.lists(
    st.tuples(raw_strings | hostile_strings, raw_values | hostile_values), max_size=4).map(_object))
raw_attribution = st.just("null") | st.lists(st.tuples(raw_strings, raw_values | hostile_values),
                                             max_size=3).map(_object)

plain_coordinates = st.floats(-2000, 2000, allow_nan=False)
coordinates = (plain_coordinates
               | st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, -0.0,
                                  MAX_COORDINATE, -MAX_COORDINATE, MAX_COORDINATE * 1.5, 1e15]))
channel_values = st.floats(-1e12, 1e12, allow_nan=False)


@st.composite
def drawings(draw):
    strokes = []
    values = draw(st.sampled_from([plain_coordinates, plain_coordinates, coordinates]))
    for _ in range(draw(st.integers(0, 4))):
        n = draw(st.integers(1, 5))
        points = draw(st.lists(st.tuples(values, values), min_size=n, max_size=n))
        time = draw(st.none() | st.lists(channel_values, min_size=n, max_size=n))
        pressure = draw(st.none() | st.lists(st.floats(0, 1), min_size=n, max_size=n))
        strokes.append((points, time, pressure))
    return strokes


def _num(value: float) -> str:
    return repr(float(value))


def _ndjson(strokes, metadata: str) -> bytes:
    with_time = bool(strokes) and all(t is not None for _, t, _ in strokes)
    lists = []
    for points, time, _ in strokes:
        parts = [[p[0] for p in points], [p[1] for p in points]] + ([time] if with_time else [])
        lists.append("[" + ",".join("[" + ",".join(map(_num, v)) + "]" for v in parts) + "]")
    inner = metadata[1:-1]
    rest = "," + inner if inner else ""
    return ('{"drawing":[' + ",".join(lists) + "]" + rest + "}\n").encode()


def _native(strokes, metadata: str, attribution: str) -> bytes:
    items = []
    for points, time, pressure in strokes:
        fields = ['"points":[' + ",".join(f"[{_num(x)},{_num(y)}]" for x, y in points) + "]"]
        for name, values in (("time", time), ("pressure", pressure)):
            if values is not None:
                fields.append(f'"{name}":[' + ",".join(map(_num, values)) + "]")
        items.append("{" + ",".join(fields) + "}")
    return ('{"format":"sketchstudio","version":1,"metadata":' + metadata + ',"strokes":['
            + ",".join(items) + '],"attribution":' + attribution + "}").encode()


def _npz(strokes, metadata: str) -> bytes:
    points = [p for s in strokes for p in s[0]]
    rows = np.zeros((len(points), 3))
    if points:
        with np.errstate(all="ignore"):
            rows[:, :2] = np.diff(np.array(points), axis=0, prepend=np.zeros((1, 2)))
        rows[np.cumsum([len(s[0]) for s in strokes]) - 1, 2] = 1
    buffer = io.BytesIO()
    np.savez(buffer, train=rows, train_lengths=np.array([len(points)]),
             train_metadata=np.array([metadata]))
    return buffer.getvalue()


def _svg(strokes, metadata: str) -> bytes:
    paths = []
    for points, time, pressure in strokes:
        coords = [f"{_num(x)} {_num(y)}" for x, y in points]
        d = f"M {coords[0]} Z" if len(coords) == 1 else "M " + " L ".join(coords)
        extra = "".join(f' data-{name}="{" ".join(map(_num, values))}"'
                        for name, values in (("time", time), ("pressure", pressure)) if values)
        paths.append(f'<path d="{d}"{extra}/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg"><metadata id="sketchstudio-metadata">'
            f'{escape(metadata)}</metadata>{"".join(paths)}</svg>').encode()


def _build(suffix: str, strokes, metadata: str, attribution: str) -> bytes:
    if suffix == ".ndjson":
        return _ndjson(strokes, metadata)
    if suffix == ".json":
        return _native(strokes, metadata, attribution)
    if suffix == ".npz":
        return _npz(strokes, metadata)
    return _svg(strokes, metadata)


def _same_strokes(back: Sketch, sketch: Sketch, target: str) -> None:
    assert len(back) == len(sketch)
    scale = max([1.0] + [float(np.abs(s.points).max()) for s in sketch])
    for b, a in zip(back, sketch, strict=True):
        # stroke-3 stores offsets and sums them back: exact up to rounding
        np.testing.assert_allclose(b.points, a.points, rtol=1e-9, atol=1e-12 * scale)
        keeps_time = target in (".json", ".svg") or (
            target == ".ndjson" and all(s.time is not None for s in sketch))
        if keeps_time and a.time is not None:
            np.testing.assert_array_equal(b.time, a.time)
        if target in (".json", ".svg") and a.pressure is not None:
            np.testing.assert_array_equal(b.pressure, a.pressure)


def check_round_trip(path: Path, folder: Path) -> bool:
    """Read `path`; if it reads, save in every format and read back. True if it was read."""
    try:
        document = load_document(path)
    except SketchFileError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path)), str(exc)
        return False
    sketch = document.sketch
    for target in FORMATS:
        out = folder / f"back{target}"
        if target == ".json":
            save_document(out, document)           # must not raise: the reader accepted it
        else:
            save_sketch(out, sketch)
        back = load_document(out)
        assert dict(back.sketch.metadata) == dict(sketch.metadata), target
        _same_strokes(back.sketch, sketch, target)
        if target == ".json":
            assert back.attribution == document.attribution and back.model == document.model
    return True


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="sketchstudio-roundtrip-"))


@PROPERTY
@given(suffix=st.sampled_from(FORMATS), strokes=drawings(), metadata=raw_metadata,
       attribution=raw_attribution)
def test_what_any_reader_accepts_every_writer_writes_and_reads_back(folder, suffix, strokes,
                                                                      metadata, attribution):
    path = folder / f"input{suffix}"
    path.write_bytes(_build(suffix, strokes, metadata, attribution))
    event(f"{suffix} {'read and written back' if check_round_trip(path, folder) else 'refused'}")


# --- the red team's cases, each in every format ---------------------------------------------------
STROKES = [([(0.0, 0.0), (10.0, 5.0)], [0.0, 20.0], None)]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("metadata, words", [
    ('{"word": "\\ud800"}', ("surrogate",)),
    ('{"word": "cat", "score": 1e999}', ("not a finite number",)),
    ('{"key_id": ' + HUGE_INT + "}", ("digits",)),
    ('{"drawing": 1}', ("reserved",)),
    ('{"deep": ' + "[" * (MAX_METADATA_DEPTH + 1) + "]" * (MAX_METADATA_DEPTH + 1) + "}",
     ("nested",)),
], ids=["lone-surrogate", "1e999", "4400-digit-int", "reserved-key", "too-deep"])
def test_metadata_no_writer_can_write_is_refused_by_every_reader(tmp_path, suffix, metadata,
                                                                 words):
    if suffix == ".ndjson" and '"drawing"' in metadata:
        pytest.skip("in .ndjson the key is the strokes themselves")
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(_build(suffix, STROKES, metadata, "null"))
    with pytest.raises(SketchFileError) as info:
        load_document(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path)) and any(w in text for w in words), text


@pytest.mark.parametrize("suffix", FORMATS)
def test_metadata_at_the_limits_round_trips_in_every_format(tmp_path, suffix):
    deep = "[" * MAX_METADATA_DEPTH + "1" + "]" * MAX_METADATA_DEPTH
    metadata = ('{"word": "\\ud83d\\ude00 \\u0000", "big": ' + LONG_INT + ', "deep": ' + deep
                + ', "max": 1.7976931348623157e308, "tiny": 5e-324}')
    path = tmp_path / f"ok{suffix}"
    path.write_bytes(_build(suffix, STROKES, metadata, '{"method": "sla", "steps": 16}'))
    assert check_round_trip(path, tmp_path)


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("bad", [{"word": "\ud800"}, {"score": float("inf")}, {"drawing": []},
                                 {"deep": _deep(MAX_METADATA_DEPTH + 1)}],
                         ids=["surrogate", "infinity", "reserved", "deep"])
def test_writers_refuse_the_same_with_one_line_and_keep_the_previous_file(tmp_path, suffix, bad):
    path = tmp_path / f"kept{suffix}"
    save_sketch(path, Sketch.from_arrays([[[0, 0], [1, 1]]], word="cat"))
    before = path.read_bytes()
    with pytest.raises(SketchFileError) as info:
        save_sketch(path, Sketch.from_arrays([[[0, 0], [2, 2]]], **bad))
    assert "\n" not in str(info.value) and "cannot save" in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# --- coordinates: convert never writes a file its own reader refuses ------------------------------
def _cli(capsys, *args) -> tuple[int, str]:
    code = cli_main([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("target", [*FORMATS, ".png"])
def test_convert_never_writes_a_file_its_reader_refuses(tmp_path, capsys, target):
    # In memory a stroke may hold any finite number; ±1e308 apart overflow as stroke-3 offsets.
    source = tmp_path / "far.json"
    source.write_bytes(_native([([(-1e308, 0.0), (1e308, 1.0)], None, None)], "{}", "null"))
    code, err = _cli(capsys, "info", source)
    assert code == 2 and "beyond the limit" in err          # refused when read ...
    sketch = Sketch.from_arrays([[[-1e308, 0], [1e308, 1]]])
    out = tmp_path / f"out{target}"
    if target != ".png":
        with pytest.raises(SketchFileError) as info:       # ... and when written
            save_sketch(out, sketch)
        assert "beyond the limit" in str(info.value)
        assert not out.exists()
    # The largest accepted coordinates convert to every format and read back.
    edge = tmp_path / "edge.ndjson"
    edge.write_text(f'{{"drawing": [[[{-MAX_COORDINATE!r}, {MAX_COORDINATE!r}], [0, 1]]]}}\n')
    code, err = _cli(capsys, "convert", edge, out)
    assert code == 0, err
    if target != ".png":
        assert load_document(out).sketch.bbox() == (-MAX_COORDINATE, 0.0, MAX_COORDINATE, 1.0)


# --- saving onto a symbolic link updates its target -----------------------------------------------
@pytest.mark.parametrize("suffix", FORMATS)
def test_saving_onto_a_symlink_updates_its_target(tmp_path, suffix):
    target = tmp_path / "real" / f"drawing{suffix}"
    target.parent.mkdir()
    save_sketch(target, Sketch.from_arrays([[[0, 0], [1, 1]]], word="old"))
    link = tmp_path / f"link{suffix}"
    link.symlink_to(target)
    save_sketch(link, Sketch.from_arrays([[[0, 0], [3, 3]]], word="new"))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load_document(target).sketch.word == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_saving_onto_a_symlink_loop_is_one_line(tmp_path):
    (tmp_path / "a.json").symlink_to(tmp_path / "b.json")
    (tmp_path / "b.json").symlink_to(tmp_path / "a.json")
    with pytest.raises(SketchFileError) as info:
        save_document(tmp_path / "a.json", Document(Sketch.from_arrays([[[0, 0]]])))
    assert "symbolic links" in str(info.value) and "\n" not in str(info.value)
    assert (tmp_path / "a.json").is_symlink() and (tmp_path / "b.json").is_symlink()


# --- PNG writes are atomic ------------------------------------------------------------------------
class _BrokenImage:
    """Writes half a PNG, then fails the way a full disk does."""

    def save(self, file, format=None):
        file.write(b"\x89PNG\r\n\x1a\n half")
        raise OSError(28, "No space left on device")


def _png_writers(monkeypatch):
    from PIL import Image

    from sketchstudio.commands import generate
    from sketchstudio.explain import heatimage
    from sketchstudio.render import images

    monkeypatch.setattr(heatimage, "heat_image", lambda *a, **k: _BrokenImage())
    monkeypatch.setattr(images, "ink_to_gray", lambda *a, **k: np.zeros((8, 8), np.uint8))
    monkeypatch.setattr(Image, "fromarray", lambda *a, **k: _BrokenImage())
    sketch = Sketch.from_arrays([[[0, 0], [1, 1]]])
    return {"heat": lambda p: heatimage.save_heat_png(sketch, None, p),
            "convert": lambda p: images.save_png(sketch, p, size=8),
            "generate": lambda p: generate._save_png(np.zeros((2, 2, 3), np.uint8), p, 1)}


@pytest.mark.parametrize("writer", ["heat", "convert", "generate"])
def test_png_writes_are_atomic(tmp_path, monkeypatch, writer):
    from sketchstudio.errors import UserError

    path = tmp_path / "picture.png"
    path.write_bytes(b"the previous picture")
    with pytest.raises(UserError) as info:
        _png_writers(monkeypatch)[writer](path)
    assert "No space left" in str(info.value)
    assert path.read_bytes() == b"the previous picture"
    assert [p.name for p in tmp_path.iterdir()] == ["picture.png"]    # no temporary file left
