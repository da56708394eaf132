"""One bad line of an .ndjson costs that drawing, not the file (issue #16, Files), for readers that
ask for it (`iter_drawings(..., on_bad=...)`: the studio's browser); the strict readers (`convert`,
`info`) still stop at the first bad line with its one error line."""
from __future__ import annotations

import pytest

from sketchstudio.sketch import Sketch
from sketchstudio.sketch.io import (
    SketchFileError,
    iter_drawings,
    iter_sketches,
    load_sketch,
    save_sketch,
    save_sketches,
)

WORDS = ("one", "two", "three", "four", "five")


def drawing(word: str) -> Sketch:
    return Sketch.from_arrays([[[0, 0], [10, 5]], [[3, 3]]]).with_metadata(word=word)


@pytest.fixture
def broken(tmp_path):
    """five.ndjson whose line 2 is cut short and line 4 holds a stroke without points."""
    path = tmp_path / "five.ndjson"
    save_sketches(path, [drawing(w) for w in WORDS])
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:20]
    lines[3] = '{"word": "four", "drawing": [[[], []]]}'
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_good_drawings_keep_their_index_and_the_bad_lines_are_named(broken):
    bad = []
    found = list(iter_drawings(broken, on_bad=lambda index, error: bad.append((index, error))))
    assert [(i, s.word) for i, s in found] == [(0, "one"), (2, "three"), (4, "five")]
    assert [(i, e.line) for i, e in bad] == [(1, 2), (3, 4)]
    assert bad[0][1].message.startswith("invalid JSON")
    assert bad[1][1].message == "stroke 0 has no points"
    # Index N is the file's Nth record, as `load_sketch(path, N)` and `--index N` count.
    assert load_sketch(broken, 2).word == "three"


def test_without_on_bad_the_first_bad_line_is_the_error(broken):
    with pytest.raises(SketchFileError, match=r"five\.ndjson:2: invalid JSON"):
        list(iter_drawings(broken))
    with pytest.raises(SketchFileError, match=r"five\.ndjson:2: invalid JSON"):
        list(iter_sketches(broken))


def test_one_drawing_files_give_index_zero(tmp_path):
    path = tmp_path / "one.svg"
    save_sketch(path, drawing("one"))
    assert [(i, len(s)) for i, s in iter_drawings(path, on_bad=lambda i, e: None)] == [(0, 2)]


def test_convert_skip_bad_copies_the_good_drawings_and_names_the_bad_lines(broken, tmp_path,
                                                                            capsys):
    from sketchstudio.cli import main

    out = tmp_path / "good.ndjson"
    assert main(["convert", str(broken), str(out)]) == 2           # strict by default
    assert f"{broken}:2: invalid JSON" in capsys.readouterr().err and not out.exists()
    assert main(["convert", str(broken), str(out), "--skip-bad"]) == 0
    assert [s.word for s in iter_sketches(out)] == ["one", "three", "five"]
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"sketchstudio convert: skipped drawing 1: {broken}:2: invalid JSON")
    assert err[1] == f"sketchstudio convert: skipped drawing 3: {broken}:4: stroke 0 has no points"
