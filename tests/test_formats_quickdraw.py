"""Quick, Draw! ndjson: both real layouts, lazy indexing, line numbers in errors."""
from __future__ import annotations

import json

import pytest

from sketchstudio.sketch.io import SketchFileError, count_sketches, iter_sketches, load_sketch

RAW = ('{"word":"cat","countrycode":"FR","timestamp":"2017-03-02 23:25:10.07453 UTC",'
       '"recognized":true,"key_id":"5201136883597312",'
       '"drawing":[[[414.5,410.25],[60.5,61.0],[0,17]],[[1.5],[2.5],[30]]]}')


def test_raw_layout_keeps_times_and_metadata(tmp_path):
    path = tmp_path / "cat.ndjson"
    path.write_text(RAW + "\n")
    sketch = load_sketch(path)
    assert sketch[0].points.tolist() == [[414.5, 60.5], [410.25, 61.0]]
    assert sketch[0].time.tolist() == [0, 17] and sketch[1].time.tolist() == [30]
    assert dict(sketch.metadata) == {"word": "cat", "countrycode": "FR", "recognized": True,
                                     "timestamp": "2017-03-02 23:25:10.07453 UTC",
                                     "key_id": "5201136883597312"}


def test_blank_lines_are_skipped_but_counted_for_line_numbers(tmp_path):
    path = tmp_path / "d.ndjson"
    path.write_text("\n" + RAW + "\n\n" + '{"drawing": [[[1, 2], [3]]]}' + "\n")
    assert count_sketches(path) == 2
    assert len(load_sketch(path, 0)) == 2
    with pytest.raises(SketchFileError, match=r"d\.ndjson:4: stroke 0 has 2 xs but 1 ys"):
        load_sketch(path, 1)


def test_picking_a_drawing_does_not_parse_the_others(tmp_path):
    path = tmp_path / "d.ndjson"
    path.write_text("not json at all\n" + RAW + "\n")
    assert load_sketch(path, 1).word == "cat"
    with pytest.raises(SketchFileError, match=r"d\.ndjson:1: invalid JSON"):
        list(iter_sketches(path))


def test_line_size_limit(tmp_path):
    path = tmp_path / "big.ndjson"
    path.write_bytes(RAW.encode() + b"\n" + b" " * (21 * 1024 * 1024) + b"x\n")
    message = r"big\.ndjson:2: line is longer than the 20 MB limit"
    with pytest.raises(SketchFileError, match=message):
        list(iter_sketches(path))


@pytest.mark.slow   # 16,453 real drawings
@pytest.mark.parametrize("layout, drawings", [("simplified", 8600), ("raw", 7853)])
def test_every_shared_drawing_parses(shared_data, layout, drawings):
    files = sorted(shared_data("quickdraw", layout).glob("*.ndjson"))
    total = 0
    for path in files:
        for sketch in iter_sketches(path):
            assert len(sketch) >= 1 and sketch.word == path.stem
            assert (sketch[0].time is not None) == (layout == "raw")
            total += 1
    assert total == drawings


def test_shared_drawings_match_a_direct_parse(shared_data):
    path = shared_data("quickdraw", "raw", "cat.ndjson")
    lines = path.read_text().splitlines()
    for sketch, line in zip(iter_sketches(path), lines, strict=True):
        record = json.loads(line)
        assert [s.points[:, 0].tolist() for s in sketch] == [s[0] for s in record["drawing"]]
        assert [s.time.tolist() for s in sketch] == [s[2] for s in record["drawing"]]
        assert sketch.metadata["key_id"] == record["key_id"]
