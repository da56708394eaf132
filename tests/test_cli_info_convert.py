"""`sketchstudio info` and `convert`: output, round trips on real drawings, one-line errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sketchstudio.cli import main
from sketchstudio.sketch.io import iter_sketches


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _expected(line: str, index: int) -> dict:
    record = json.loads(line)
    xs = [x for stroke in record["drawing"] for x in stroke[0]]
    ys = [y for stroke in record["drawing"] for y in stroke[1]]
    return {"index": index, "word": record["word"], "strokes": len(record["drawing"]),
            "points": len(xs), "bbox": [min(xs), min(ys), max(xs), max(ys)]}


@pytest.mark.parametrize("parts", [("simplified", "cat.ndjson"), ("raw", "cat.ndjson"),
                                   ("raw", "The Eiffel Tower.ndjson"),
                                   ("simplified", "yoga.ndjson")])
def test_info_json_matches_a_direct_parse(shared_data, capsys, parts):
    path = shared_data("quickdraw", *parts)
    lines = path.read_text().splitlines()
    code, out, err = cli(capsys, "info", path, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"format": "ndjson", "count": len(lines),
                               "drawings": [_expected(line, i) for i, line in enumerate(lines)]}
    code, out, _ = cli(capsys, "info", path, "--json", "--index", 3)
    assert json.loads(out) == {"format": "ndjson", "count": len(lines),
                               "drawings": [_expected(lines[3], 3)]}


def test_info_table(shared_data, capsys):
    path = shared_data("quickdraw", "simplified", "cat.ndjson")
    code, out, _ = cli(capsys, "info", path, "--index", 0)
    header, columns, row = out.splitlines()
    assert code == 0 and header == f"{path}: ndjson, 25 drawings"
    assert columns.split() == ["index", "word", "strokes", "points", "bbox"]
    assert row.split()[:2] == ["0", "cat"]


def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("layout", ["simplified", "raw"])
def test_convert_ndjson_npz_ndjson(shared_data, capsys, tmp_path, layout):
    source = shared_data("quickdraw", layout, "cat.ndjson")
    assert cli(capsys, "convert", source, tmp_path / "c.npz")[0] == 0
    assert cli(capsys, "convert", tmp_path / "c.npz", tmp_path / "c.ndjson")[0] == 0
    before, after = _records(source), _records(tmp_path / "c.ndjson")
    if layout == "simplified":
        assert after == before   # integers, no times: nothing is lost at all
    for a, b in zip(before, after, strict=True):
        assert [len(s[0]) for s in a["drawing"]] == [len(s[0]) for s in b["drawing"]]
        np.testing.assert_allclose(np.concatenate([s[0] + s[1] for s in b["drawing"]]),
                                   np.concatenate([s[0] + s[1] for s in a["drawing"]]))
        assert {k: v for k, v in a.items() if k != "drawing"} == \
               {k: v for k, v in b.items() if k != "drawing"}


@pytest.mark.parametrize("middle", [".svg", ".json"])
@pytest.mark.parametrize("layout", ["simplified", "raw"])
def test_convert_through_single_drawing_formats(shared_data, capsys, tmp_path, layout, middle):
    source = shared_data("quickdraw", layout, "bicycle.ndjson")
    for index, record in enumerate(_records(source)[:5]):
        assert cli(capsys, "convert", source, tmp_path / f"d{middle}", "--index", index)[0] == 0
        assert cli(capsys, "convert", tmp_path / f"d{middle}", tmp_path / "d.ndjson")[0] == 0
        # Same strokes, same points (and times), same metadata: the record comes back unchanged.
        assert _records(tmp_path / "d.ndjson") == [record]
    if middle == ".svg":
        text = (tmp_path / "d.svg").read_text()
        assert text.count("<path") == len(record["drawing"]) and " C " not in text


def test_convert_one_drawing_to_a_multi_drawing_file(shared_data, capsys, tmp_path):
    source = shared_data("quickdraw", "simplified", "cat.ndjson")
    assert cli(capsys, "convert", source, tmp_path / "one.npz", "--index", 7)[0] == 0
    (only,) = iter_sketches(tmp_path / "one.npz")
    assert only == list(iter_sketches(source))[7]


def _independent_ink(sketch, size: int, margin: float) -> np.ndarray:
    """The drawing as PIL draws it (not our renderer): polylines, centred with `margin`."""
    from PIL import Image, ImageDraw

    points = np.concatenate([s.points for s in sketch.strokes])
    low, high = points.min(0), points.max(0)
    scale = size * (1 - 2 * margin) / max(float((high - low).max()), 1e-9)
    offset = size / 2 - scale * (low + high) / 2
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    for stroke in sketch.strokes:
        xy = [tuple(p) for p in stroke.points * scale + offset]
        draw.line(xy if len(xy) > 1 else xy * 2, fill=255, width=2)
    return np.asarray(image) > 0


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    from PIL import Image, ImageFilter

    image = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(image.filter(ImageFilter.MaxFilter(2 * pixels + 1))) > 0


def test_convert_to_png_draws_the_drawing_where_an_independent_rasteriser_does(
        shared_data, capsys, tmp_path):
    # No skip: when rendering breaks (import error, blank or misplaced ink), this fails.
    from PIL import Image

    source = shared_data("quickdraw", "simplified", "cat.ndjson")
    assert cli(capsys, "convert", source, tmp_path / "cat.png", "--index", 2) == (0, "", "")
    with Image.open(tmp_path / "cat.png") as image:
        assert image.size == (256, 256)
        ink = np.asarray(image.convert("L")) < 128          # dark ink on white
    expected = _independent_ink(list(iter_sketches(source))[2], 256, margin=0.05)
    assert ink.sum() > 0.3 * expected.sum()                  # ink, not a blank page
    # Every inked pixel lies on the drawing, and the drawing is inked all along (a few pixels of
    # tolerance for the two rasterisers' stroke profiles).
    assert (ink & _grow(expected, 3)).sum() >= 0.97 * ink.sum()
    assert (expected & _grow(ink, 3)).sum() >= 0.95 * expected.sum()


SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg">\n'
GOOD_LINE = '{"word":"cat","drawing":[[[1,2],[3,4]]]}\n'


def _record(name: str, drawing: str, message: str) -> tuple[str, bytes, str]:
    """An .ndjson file of one record whose "drawing" is `drawing` (JSON text), refused on line 1."""
    return f"{name}.ndjson", f'{{"drawing": {drawing}}}'.encode(), f":1: {message}"


def _document(name: str, strokes: str, message: str, version: int = 1) -> tuple[str, bytes, str]:
    """A native .json document whose "strokes" is `strokes` (JSON text)."""
    text = f'{{"format": "sketchstudio", "version": {version}, "strokes": {strokes}}}'
    return f"{name}.json", text.encode(), f": {message}"


MALFORMED = [
    # (file name, content, what the one line must say after the path)
    ("empty.ndjson", b"", ": file is empty"),
    ("blank.ndjson", b"\n  \n", ": file is empty"),
    ("truncated.ndjson", (GOOD_LINE + '{"word":"cat","drawing":[[[1,2').encode(),
     ":2: invalid JSON"),
    _record("not-a-list", "5", '"drawing" should be a list of strokes, got int'),
    _record("nesting", "[[[1, 2]]]", "stroke 0 should be [xs, ys] or [xs, ys, times]"),
    _record("nesting2", "[[1, 2]]", "stroke 0 xs should be a list of numbers"),
    _record("nan", "[[[NaN], [1]]]", "invalid JSON: NaN is not a number"),
    _record("inf", "[[[1e999], [1]]]", "stroke 0 xs holds a number that is not finite"),
    _record("lengths", "[[[1, 2], [1]]]", "stroke 0 has 2 xs but 1 ys"),
    _record("times", "[[[1, 2], [1, 2], [0]]]", "stroke 0 has 2 points but 1 times"),
    _record("strings", '[[["1"], [1]]]', "stroke 0 xs should hold numbers, got a string"),
    _record("bools", "[[[true], [1]]]", "stroke 0 xs should hold numbers, got true/false"),
    _record("no-points", "[[[], []]]", "stroke 0 has no points"),
    ("record.ndjson", b"[1, 2]\n", ":1: a drawing record should be an object, got a list"),
    ("no-drawing.ndjson", b'{"word": "cat"}', ':1: the record has no "drawing"'),
    ("binary.ndjson", GOOD_LINE.encode() + b"\x89PNG\r\n\x1a\n\xff\xfe\x00", ":2: not UTF-8 text"),
    ("empty.json", b"", ": file is empty"),
    ("truncated.json", b'{"format": "sketchstudio", "version": 1,\n"strokes": [{"points": [[1,',
     ":2: invalid JSON"),
    _document("future", "[]", "document version 7 is not supported", version=7),
    _document("nesting", '[{"points": [1, 2]}]',
              "strokes[0].points should hold [x, y] pairs, got int"),
    _document("nan", '[{"points": [[NaN, 1]]}]', "invalid JSON: NaN is not a number"),
    ("binary.json", b"\x00\x01\x02\xff\xfe", ":1: not UTF-8 text"),
    ("empty.svg", b"", ": file is empty"),
    ("binary.svg", b"\x89PNG\r\n\x1a\n\x00\x00", ":1: not well-formed XML"),
    ("garbled.svg", (SVG_HEAD + '<path d="M 0 0 L 10 10 C 5"/></svg>').encode(),
     ":2: <path> has malformed or truncated path data"),
    ("unterminated.svg", (SVG_HEAD + '<path d="M 0 0 L 10 10"/>').encode(),
     ":2: not well-formed XML"),
    ("bomb.svg", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
                 b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>', ":1: refused"),
    ("empty.npz", b"", ": file is empty"),
    ("garbage.npz", b"PK\x03\x04 garbage", ": not an .npz archive"),
    ("drawing.txt", b"hello", ": unknown sketch file type '.txt'"),
]


@pytest.mark.parametrize("name, content, message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_give_one_line(capsys, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    for command in (["info", path], ["info", path, "--json"],
                    ["convert", path, tmp_path / "o.ndjson"]):
        code, out, err = cli(capsys, *command)
        assert code == 2 and out == ""
        assert err.startswith(f"sketchstudio {command[0]}: error: {path}{message}")
        assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o.ndjson").exists()   # nothing half-written


def test_pickled_npz_via_cli(capsys, tmp_path):
    drawings = np.empty(1, dtype=object)
    drawings[0] = np.array([[0, 0, 1]], dtype=np.int16)
    np.savez(tmp_path / "orig.npz", train=drawings)
    code, _, err = cli(capsys, "info", tmp_path / "orig.npz")
    assert code == 2 and "never unpickles" in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["info", "{missing}"], "missing.ndjson: no such file"),
    (["info", "{cat}", "--index", "25"],
     "drawing index 25 is out of range: the file holds 25 drawings"),
    (["info", "{cat}", "--index", "-1"], "drawing index -1 is invalid"),
    (["convert", "{cat}", "{tmp}/x.svg", "--index", "99"], "drawing index 99 is out of range"),
    (["convert", "{cat}", "{tmp}/x.doc"],
     "unknown output type '.doc': use .ndjson, .npz, .svg, .json, .png"),
    (["convert", "{cat}", "{tmp}/no/such/dir/x.svg"], "cannot write"),
])
def test_usage_errors(shared_data, capsys, tmp_path, args, message):
    names = {"cat": shared_data("quickdraw", "simplified", "cat.ndjson"),
             "missing": tmp_path / "missing.ndjson", "tmp": tmp_path}
    code, _, err = cli(capsys, *[a.format(**names) for a in args])
    assert code == 2 and message in err and err.count("\n") == 1


def test_convert_json_to_json_keeps_settings(capsys, tmp_path):
    doc = {"format": "sketchstudio", "version": 1, "metadata": {"word": "cat"},
           "strokes": [{"points": [[0, 0], [1, 1]]}], "model": "m",
           "attribution": {"method": "sla"}}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    assert cli(capsys, "convert", tmp_path / "a.json", tmp_path / "b.json") == (0, "", "")
    assert json.loads((tmp_path / "b.json").read_text()) == doc
    code, out, _ = cli(capsys, "info", tmp_path / "b.json", "--json")
    assert json.loads(out) == {"format": "json", "count": 1, "drawings": [
        {"index": 0, "word": "cat", "strokes": 1, "points": 2, "bbox": [0, 0, 1, 1]}]}
