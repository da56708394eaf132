"""Issue 19, item 10: a model stuck in an endless loop is stopped by Ctrl+C and by a time limit.

The loop runs inside TorchScript's C++ interpreter, which never returns to Python, so the only way
out is the CLI's own (stoppable.py): the command runs on a worker thread and the main thread,
which only waits, notices SIGINT or the deadline and ends the process with one line. The model
prints a line just before its loop (to stderr: model output never reaches stdout), which is the
readiness signal the tests wait for before sending SIGINT.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import hostile_models
import pytest

from sketchstudio.sketch import Sketch
from sketchstudio.sketch.formats import Document
from sketchstudio.sketch.io import save_document
from sketchstudio.stoppable import CHECK_TIME_LIMIT_S

pytestmark = pytest.mark.slow  # models that run for seconds, in subprocesses

PROJECT = Path(__file__).resolve().parents[1]
READY = "endless loop model: looping now"


@pytest.fixture(scope="module")
def endless(tmp_path_factory) -> Path:
    return hostile_models.endless_loop(tmp_path_factory.mktemp("endless"))


@pytest.fixture(scope="module")
def drawing(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("drawing") / "line.json"
    save_document(path, Document(Sketch.from_arrays([[[10, 10], [200, 180]]])))
    return path


def _cli(*args: str, data: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(PROJECT), SKETCHSTUDIO_DATA_DIR=str(data),
               SKETCHSTUDIO_BUILTIN_MODELS=str(data / "no-builtins"), PYTHONWARNINGS="ignore")
    return subprocess.Popen([sys.executable, "-m", "sketchstudio.cli", "--device", "cpu", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _our_lines(err: str) -> list[str]:
    """stderr without the model's own readiness line."""
    assert "Traceback" not in err, err
    return [ln for ln in err.splitlines() if ln.strip() and ln != READY]


@pytest.mark.parametrize("command", [["models", "check"], ["models", "add"], ["explain"]])
def test_a_time_limit_stops_an_endless_model_with_one_line(command, endless, drawing, tmp_path):
    args = ([*command, str(endless)] if command[0] == "models"
            else ["explain", str(drawing), "--model", str(endless), "--method", "sla-grad"])
    process = _cli(*args, "--time-limit", "2", data=tmp_path / "data")
    out, err = process.communicate(timeout=300)
    assert process.returncode == 2, (out, err)
    lines = _our_lines(err)
    assert len(lines) == 1 and lines[0].startswith(f"sketchstudio {command[0]}: error: stopped "
                                                   f"after the time limit of 2 s"), err
    assert READY in err                              # it did get as far as the loop
    if command[1:] == ["add"]:
        assert not (tmp_path / "data" / "models").exists() or not any(
            p.name[0] != "." for p in (tmp_path / "data" / "models").iterdir())


@pytest.mark.parametrize("command", [["models", "check"], ["explain"]])
def test_ctrl_c_stops_an_endless_model_with_one_line(command, endless, drawing, tmp_path):
    args = ([*command, str(endless)] if command[0] == "models"
            else ["explain", str(drawing), "--model", str(endless), "--method", "sla-grad"])
    process = _cli(*args, data=tmp_path / "data")
    seen = []
    for line in process.stderr:                      # wait for the readiness line, no sleeps
        seen.append(line)
        if READY in line:
            break
    else:
        pytest.fail(f"the model never started: {''.join(seen)}")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert _our_lines(err) == [f"sketchstudio {command[0]}: interrupted"]


def test_models_check_has_a_documented_default_time_limit(endless):
    process = _cli("models", "check", "--help", data=Path("/nonexistent"))
    out, _ = process.communicate(timeout=120)
    assert "--time-limit SECONDS" in out and f"default {CHECK_TIME_LIMIT_S:g}" in out


@pytest.mark.parametrize("bad", ["-1", "soon", "inf", "nan"])
def test_a_bad_time_limit_is_a_usage_error(bad, endless):
    process = _cli("models", "check", str(endless), "--time-limit", bad, data=Path("/nonexistent"))
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2 and "--time-limit" in err and "Traceback" not in err
