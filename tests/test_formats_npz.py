"""sketch-rnn stroke-3 .npz: the flat layout, split order, and refusal of pickled files."""
from __future__ import annotations

import numpy as np
import pytest

from sketchstudio.sketch.formats import stroke3
from sketchstudio.sketch.io import SketchFileError, count_sketches, iter_sketches, load_sketch

# Two drawings: an "L" (one stroke of 3 points) and two dots.
ROWS = np.array([[1, 1, 0], [0, 5, 0], [5, 0, 1],
                 [0, 0, 1], [3, 3, 1]], dtype=np.int16)


def _save(tmp_path, **arrays):
    path = tmp_path / "s.npz"
    np.savez(path, **arrays)
    return path


def test_rows_become_strokes(tmp_path):
    path = _save(tmp_path, train=ROWS, train_lengths=np.array([3, 2]))
    first, second = iter_sketches(path)
    assert first[0].points.tolist() == [[1, 1], [1, 6], [6, 6]]
    assert [s.points.tolist() for s in second] == [[[0, 0]], [[3, 3]]]


def test_index_runs_across_splits_in_order_train_valid_test(tmp_path):
    def one(x):
        return np.array([[x, x, 1]])
    path = _save(tmp_path, test=one(21), test_lengths=np.array([1]), valid=one(14),
                 valid_lengths=np.array([1]), train=one(7), train_lengths=np.array([1]))
    assert count_sketches(path) == 3
    assert [load_sketch(path, i)[0].points[0, 0] for i in range(3)] == [7, 14, 21]
    with pytest.raises(SketchFileError, match="index 3 is out of range: the file holds 3 drawings"):
        load_sketch(path, 3)


def test_original_pickled_layout_is_refused_with_the_reason(tmp_path):
    drawings = np.empty(2, dtype=object)
    drawings[0], drawings[1] = ROWS[:3], ROWS[3:]
    path = _save(tmp_path, train=drawings, valid=drawings, test=drawings)
    with pytest.raises(SketchFileError) as info:
        count_sketches(path)
    message = str(info.value)
    assert "pickled object array" in message and "never unpickles" in message
    assert "\n" not in message


@pytest.mark.parametrize("arrays, message", [
    ({"train": ROWS}, 'no "train_lengths"'),
    ({"train": ROWS, "train_lengths": np.array([3, 1])}, "adds up to 4 rows but"),
    ({"train": ROWS[:, :2], "train_lengths": np.array([5])}, "(N, 3) numeric array"),
    ({"train": ROWS * 2, "train_lengths": np.array([3, 2])}, "pen states should be 0 or 1"),
    ({"train": ROWS[:2], "train_lengths": np.array([2])}, "ends with the pen down"),
    ({"train": np.array([[np.nan, 0, 1]]), "train_lengths": np.array([1])}, "not finite"),
    ({"train": ROWS, "train_lengths": np.array([3, 2]), "train_metadata": np.array(["{}"])},
     "one JSON text per drawing"),
    ({"train": ROWS, "train_lengths": np.array([3, 2]),
      "train_metadata": np.array(["{}", "[1]"])}, "metadata should be an object"),
    ({"other": ROWS}, 'no "train", "valid" or "test" array'),
])
def test_malformed_archives(tmp_path, arrays, message):
    with pytest.raises(SketchFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(iter_sketches(_save(tmp_path, **arrays)))


def test_zip_bomb_guard(tmp_path, monkeypatch):
    path = _save(tmp_path, train=ROWS, train_lengths=np.array([3, 2]))
    monkeypatch.setattr(stroke3, "MAX_ARCHIVE_BYTES", 100)
    with pytest.raises(SketchFileError, match="unpacks to more than"):
        count_sketches(path)
