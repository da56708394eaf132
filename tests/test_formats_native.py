"""SketchStudio's own .json document: settings kept, versions and strays refused."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sketchstudio.sketch import Sketch, Stroke
from sketchstudio.sketch.io import (
    Document,
    SketchFileError,
    load_document,
    load_sketch,
    save_document,
)


def _doc(**changes):
    doc = {"format": "sketchstudio", "version": 1, "metadata": {"word": "cat"},
           "strokes": [{"points": [[0, 0], [1, 2]], "time": [0, 10]}, {"points": [[5, 5]]}],
           "model": "quickdraw-cnn", "attribution": {"method": "sla", "target": "cat"}}
    return {**doc, **changes}


def _write(tmp_path, data, name="d.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_document_with_settings(tmp_path):
    doc = load_document(_write(tmp_path, _doc()))
    assert doc.model == "quickdraw-cnn" and doc.attribution == {"method": "sla", "target": "cat"}
    assert doc.sketch == Sketch((Stroke([[0, 0], [1, 2]], time=[0, 10]), Stroke([[5, 5]])),
                                {"word": "cat"})
    save_document(tmp_path / "again.json", doc)
    assert load_document(tmp_path / "again.json") == doc


def test_other_formats_open_as_documents_without_settings(tmp_path):
    sketch = load_sketch(_write(tmp_path, _doc()))
    path = tmp_path / "d.svg"
    save_document(tmp_path / "plain.json", Document(sketch))
    assert "model" not in json.loads((tmp_path / "plain.json").read_text())
    with pytest.raises(SketchFileError, match="only .json documents keep"):
        save_document(path, Document(sketch))


@pytest.mark.parametrize("data, message", [
    (_doc(version=2), "document version 2 is not supported (this SketchStudio reads version 1)"),
    (_doc(version="1"), '"version" should be an integer'),
    (_doc(format="other"), "not a SketchStudio document"),
    (_doc(extra=1), "unknown key 'extra'"),
    (_doc(strokes={"points": []}), '"strokes" should be a list'),
    (_doc(strokes=[{"points": [[0, 0, 0]]}]), "strokes[0].points should hold [x, y] pairs"),
    (_doc(strokes=[{"points": [[0, 0]], "pressure": [1, 2]}]),
     "pressure has 2 values for 1 points"),
    (_doc(strokes=[{"points": [[0, "1"]]}]), "should hold numbers, got a string"),
    (_doc(strokes=[{"pts": [[0, 0]]}]), "strokes[0] has unknown key 'pts'"),
    (_doc(model=3), '"model" should be a name or an object'),
    (_doc(attribution=[]), '"attribution" should be an object'),
    ('{"format": "sketchstudio",\n "version": 1,\n "strokes": [', "d.json:3: invalid JSON"),
])
def test_refused_documents(tmp_path, data, message):
    with pytest.raises(SketchFileError) as info:
        load_document(_write(tmp_path, data))
    assert message in str(info.value)


def test_documents_are_written_stroke_by_stroke_as_one_json_dump(tmp_path):
    """The chunked writer (with pauses and the autosave's stroke cache) gives the bytes of one
    dump."""
    import io
    import json

    from sketchstudio.sketch import Sketch
    from sketchstudio.sketch.formats import Document, native

    rng = np.random.default_rng(3)
    sketch = Sketch.from_arrays([rng.normal(size=(4, 2)) for _ in range(73)], word="cat")
    doc = Document(sketch, "default", {"method": "sla", "target": "cat"})
    expected = json.dumps({"format": "sketchstudio", "version": 1, "metadata": {"word": "cat"},
                           "strokes": [{"points": s.points.tolist()} for s in sketch.strokes],
                           "model": "default", "attribution": {"method": "sla", "target": "cat"}},
                          separators=(",", ":"), allow_nan=False) + "\n"
    pauses, cache = [], native.StrokeTextCache()
    for _ in range(2):      # the second write takes every stroke from the cache
        out = io.BytesIO()
        native.write_document(out, doc, pause=lambda: pauses.append(1), cache=cache)
        assert out.getvalue().decode() == expected
    assert len(pauses) == 2 * ((73 - 1) // native.STROKES_PER_CHUNK)
    plain = io.BytesIO()
    native.write_document(plain, Document(sketch))
    assert json.loads(plain.getvalue()) == {"format": "sketchstudio", "version": 1,
                                            "metadata": {"word": "cat"},
                                            "strokes": [{"points": s.points.tolist()}
                                                        for s in sketch.strokes]}
