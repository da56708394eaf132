"""The command line (`--screenshot` in a subprocess) and failures that must not stop the studio."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import model_zoo
import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox
from qt_helpers import EXPLAIN_WAIT_MS, house, window_with_house
from studio_images import rgb_array

from sketchstudio.models import builtin_models_dir
from sketchstudio.sketch.io import save_sketches

PROJECT = Path(__file__).resolve().parents[1]


def run_studio(args, tmp_path, timeout=120):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               SKETCHSTUDIO_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(PROJECT))
    env.pop("SKETCHSTUDIO_DEVICE", None)
    return subprocess.run([sys.executable, "-m", "sketchstudio.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=tmp_path)


@pytest.fixture
def drawings(tmp_path) -> Path:
    path = tmp_path / "three.ndjson"
    save_sketches(path, [house().with_metadata(word=w) for w in ("house", "barn", "shed")])
    return path


# --- pictures: compared with what they must show, not only measured ------------------------------
# The canvas's and the plots' reference images: tests/test_studio_reference_images.py.
def colour_pixels(pixels: np.ndarray, rgb, tolerance: int = 12) -> int:
    return int((np.abs(pixels - np.asarray(rgb, dtype=np.int16)).max(axis=2) <= tolerance).sum())


@pytest.mark.slow
def test_screenshot_of_the_first_explanation(tmp_path, tiny_card, drawings):
    from sketchstudio.explain import explain
    from sketchstudio.explain.colormap import heat_rgb
    from sketchstudio.models import load_model
    from sketchstudio.sketch.io import load_sketch

    out = tmp_path / "shot.png"
    result = run_studio(["--device", "cpu", "--open", str(drawings), "--index", "1", "--model",
                         str(tiny_card), "--screenshot", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert not image.isNull()
    assert image.width() >= 1000 and image.height() >= 650
    # The picture shows the explanation: every clearly coloured stroke's heat colour is on screen
    # (a blank canvas, plain ink or a wrong colour map fails), computed here by the engine alone.
    attribution = explain(load_sketch(drawings, index=1), load_model(tiny_card, device="cpu"),
                          method="live")
    values = attribution.strokes
    scale = float(np.abs(values).max())
    strong = [v for v in values if abs(v) >= 0.5 * scale]
    assert strong, values
    pixels = rgb_array(image)
    for value, colour in zip(strong, heat_rgb(np.array(strong), scale), strict=True):
        assert colour_pixels(pixels, colour) >= 30, (value, colour.tolist())


@pytest.mark.slow
def test_screenshot_with_the_default_model(tmp_path, monkeypatch):
    monkeypatch.delenv("SKETCHSTUDIO_BUILTIN_MODELS")
    if not (builtin_models_dir() / "default" / "card.toml").is_file():
        pytest.skip("the built-in default model is not in resources/models/default")
    out = tmp_path / "shot.png"
    result = run_studio(["--screenshot", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert QImage(str(out)).width() >= 1000


@pytest.mark.slow
def test_screenshot_with_a_model_that_cannot_load_fails_in_one_line(tmp_path):
    card = model_zoo.make_model(tmp_path / "broken", behaviour="nan")
    result = run_studio(["--model", str(card), "--screenshot", str(tmp_path / "x.png")], tmp_path)
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("sketchstudio: error:"), result.stderr
    assert "model" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_a_bad_model_shows_a_message_and_the_studio_keeps_running(make_window, tiny_card, tmp_path,
                                                                  qtbot):
    window = window_with_house(make_window, tiny_card, qtbot)
    good = window.last_result
    bad = model_zoo.make_model(tmp_path / "raises", behaviour="raises")
    with qtbot.waitSignal(window.modelError, timeout=EXPLAIN_WAIT_MS):
        window.models.load(str(bad))
    assert "always fails" in window.last_error
    assert any(isinstance(w, QMessageBox) and w.isVisible()
               for w in window.findChildren(QMessageBox))
    assert window.state.model.name == "Tiny test classifier"       # still the good model
    with qtbot.waitSignal(window.explanationShown, timeout=EXPLAIN_WAIT_MS):
        window.document.apply(house().remove_strokes([0]), "Erase")
    assert window.last_result is not good and len(window.last_result[0]) == 3


def test_a_missing_card_is_reported(make_window, qtbot, tmp_path):
    window = make_window()
    with qtbot.waitSignal(window.modelError, timeout=EXPLAIN_WAIT_MS):
        window.start(model=str(tmp_path / "nowhere" / "card.toml"))
    assert "not found" in window.last_error
    assert window.state.model is None and window.model_label.text() == "Model: none"


def test_no_model_at_all_says_how_to_add_one(make_window):
    window = make_window()
    assert window.start() is False
    assert "Manage models" in window.last_error
    assert window.panels[0].explain_button.isEnabled() is False


def test_an_unparsable_file_shows_a_message_and_keeps_the_drawing(make_window, tiny_card, tmp_path,
                                                                  qtbot):
    window = window_with_house(make_window, tiny_card, qtbot)
    good = window.last_result
    garbage = tmp_path / "broken.ndjson"
    garbage.write_text('{"word": "cat", "drawing": [[[1, 2], [3]]]}\nnot json at all\n')
    # The file is read in the worker: the refusal arrives as fileLoaded(False) and one line.
    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS) as read:
        assert window.files.import_file(garbage, index=1)
    assert read.args == [False]
    assert "broken.ndjson" in window.last_error
    other = tmp_path / "broken.json"
    other.write_text("{ nope")
    with qtbot.waitSignal(window.fileLoaded, timeout=EXPLAIN_WAIT_MS) as read:
        assert window.files.open_file(other)
    assert read.args == [False]
    assert "broken.json" in window.last_error
    assert window.document.sketch is good[0] and window.last_result is good
    assert window.isVisible()
