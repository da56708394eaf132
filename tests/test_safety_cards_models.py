"""Issue 19, minor items on hostile models: `models check` on 0-d, zero-width and shape-changing
outputs, a model that answers only a batch of 1, one that keeps state between calls, one that
edits its input in place, and one that prints to stdout while `--json` output is being written.

Each is either explained correctly or refused with one line, never a traceback, never silently
wrong. The models are built here, as TorchScript, from the tiny classifier of model_zoo.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from model_zoo import TinyClassifier, card_dict, save_torchscript, write_card

from sketchstudio import cli
from sketchstudio.explain import explain
from sketchstudio.models import load_card, load_card_model, probe_sketch, run_checks

pytestmark = [pytest.mark.slow,  # hostile models loaded in subprocesses
              pytest.mark.skipif(os.name != "posix",
                                reason="FIFOs, symlinks and descriptor 1 as POSIX has them")]


class ZeroDim(TinyClassifier):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).sum()


class ZeroWidth(TinyClassifier):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))[:, :0]


class ShapeFollowsDrawing(TinyClassifier):
    """Two logits for a blank input, one for a drawn one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.features(x))
        if bool(x.abs().sum() > 0):
            return logits[:, :1]
        return logits


class FirstRowOnly(TinyClassifier):
    """Hard-coded to a batch of one: answers any batch with the first sketch's row only."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x[:1]))


class Stateful(TinyClassifier):
    """Keeps a call counter in a buffer: the same drawing gets another answer every call."""

    def __init__(self, channels: int = 1, classes: int = 2, seed: int = 0) -> None:
        super().__init__(channels, classes, seed)
        self.register_buffer("calls", torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.add_(1.0)
        return self.head(self.features(x)) + self.calls


class EditsInput(TinyClassifier):
    """Scales its input in place, then classifies it: a function of the input all the same."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x.mul_(3.0)
        return self.head(self.features(x))


class Chatty(TinyClassifier):
    """Prints on every call, from TorchScript (C++ std::cout, descriptor 1), with an escape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        print("\x1b[2J chatter from the model", x.shape)
        return self.head(self.features(x))


def _card(folder, module_type, **card_fields):
    folder.mkdir(parents=True, exist_ok=True)
    save_torchscript(module_type(), folder / "model.pt")
    return write_card(folder, card_dict(**card_fields))


def _results(card):
    return {r.name: r for r in run_checks(card)}


@pytest.mark.parametrize("module_type, words", [
    (ZeroDim, "shape ()"), (ZeroWidth, "zero-width"),
    (ShapeFollowsDrawing, "depends on the drawing")])
def test_outputs_without_rows_or_values_fail_one_line(tmp_path, module_type, words):
    results = run_checks(_card(tmp_path, module_type))
    failing = [r for r in results if not r.ok]
    assert len(failing) == 1, [r.line() for r in results]
    assert words in failing[0].detail and "\n" not in failing[0].line()
    assert results[-1] is failing[0]   # nothing else ran on a broken shape


def test_cli_check_on_zero_dim_and_zero_width_outputs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path / "data"))
    for module_type in (ZeroDim, ZeroWidth):
        card = _card(tmp_path / module_type.__name__, module_type)
        assert cli.main(["models", "check", str(card)]) == 1
        out, err = capsys.readouterr()
        assert err == "" and out.splitlines()[-1].startswith("FAIL  ")


def test_a_model_fixed_to_one_sketch_is_explained_one_by_one(tmp_path):
    card = _card(tmp_path, FirstRowOnly)
    batch = _results(card)["batch"]
    assert batch.ok and batch.warning and "one sketch at a time" in batch.detail
    model = load_card_model(load_card(card), "cpu")
    x = torch.rand(3, 1, 28, 28)
    rows = model(x)
    assert rows.shape == (3, 2)
    for i in range(3):   # each row is that sketch's own answer, not the first sketch's
        assert torch.allclose(rows[i], model(x[i:i + 1])[0])
    assert not torch.allclose(rows[0], rows[1])


def test_a_stateful_model_is_refused_and_named_as_such(tmp_path):
    deterministic = _results(_card(tmp_path, Stateful))["deterministic"]
    assert not deterministic.ok and "keeps state between calls" in deterministic.detail


def test_a_random_model_is_still_called_random(tmp_path):
    from model_zoo import make_model
    deterministic = _results(make_model(tmp_path, behaviour="noisy"))["deterministic"]
    assert not deterministic.ok and deterministic.detail.startswith("random")


def test_a_model_that_edits_its_input_is_explained_as_the_function_it_computes(tmp_path):
    card = _card(tmp_path, EditsInput)
    results = run_checks(card)
    assert all(r.ok for r in results), [r.line() for r in results]
    forward = next(r for r in results if r.name == "forward")
    assert forward.warning and "edits its input in place" in forward.detail

    model = load_card_model(load_card(card), "cpu")
    x = torch.rand(2, 1, 28, 28)
    kept = x.clone()
    out = model(x)
    assert torch.equal(x, kept)                       # our tensor is untouched
    plain = TinyClassifier()                          # the same weights, fed 3 x the input
    assert torch.allclose(out, plain(kept * 3.0), atol=1e-5)
    assert torch.allclose(model(x), out)               # so the same input, the same answer
    # Gradients at a leaf input (the `gradient` check, the tools' point moves): without the copy
    # autograd refuses ("a leaf Variable that requires grad is being used in an in-place
    # operation"); with it, they are the gradients of the function the model computes.
    leaf = kept.clone().requires_grad_(True)
    model(leaf).sum().backward()
    plain_leaf = kept.clone().requires_grad_(True)
    plain(plain_leaf * 3.0).sum().backward()
    assert torch.allclose(leaf.grad, plain_leaf.grad, atol=1e-6)
    result = explain(probe_sketch(), model, method="sla", steps=4)
    assert torch.isfinite(torch.as_tensor(result.strokes)).all() and len(result.strokes) == 4


def test_a_printing_model_does_not_corrupt_json_output(tmp_path):
    card = _card(tmp_path / "m", Chatty)
    drawing = tmp_path / "house.ndjson"
    strokes = [[[int(x) for x, _ in s.points], [int(y) for _, y in s.points]]
               for s in probe_sketch().strokes]
    drawing.write_text(json.dumps({"word": "house", "drawing": strokes}) + "\n")
    env = {**os.environ, "SKETCHSTUDIO_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "sketchstudio.cli", "--device", "cpu", "explain",
                           str(drawing), "--model", str(card), "--method", "sla-grad", "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)                  # exactly one JSON object, nothing else
    assert record["index"] == 0 and len(record["strokes"]) == 4
    assert "chatter from the model" in done.stderr    # the model's text is moved, not lost
    assert "\x1b" not in done.stderr and "\\x1b[2J chatter" in done.stderr   # and escaped


def test_text_output_of_any_command_is_escaped(tmp_path, capsys, monkeypatch):
    """explain prints words and labels in its own way; the CLI's stdout escapes them anyway."""
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "m"
    save_torchscript(TinyClassifier(), folder / "model.pt")
    card = write_card(folder, card_dict(labels=["cat\x1b]0;title\x07", "dog\u202e"]))
    drawing = tmp_path / "d.ndjson"
    strokes = [[[int(x) for x, _ in s.points], [int(y) for _, y in s.points]]
               for s in probe_sketch().strokes]
    drawing.write_text(json.dumps({"word": "\x1b[2Jhouse\r\nforged", "drawing": strokes}) + "\n")
    code = cli.main(["--device", "cpu", "explain", str(drawing), "--model", str(card),
                     "--method", "sla-grad"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b[2Jhouse\\r\\nforged" in out


def test_native_writes_to_descriptor_1_go_to_stderr():
    """What native code writes (C stdio, straight to descriptor 1) is moved like model prints."""
    script = (
        "import ctypes, os, sys\n"
        "from sketchstudio.stdout_guard import model_output_to_stderr, running_model\n"
        "libc = ctypes.CDLL(None)\n"
        "with model_output_to_stderr():\n"
        "    print('ours 1')\n"
        "    os.write(1, b'raw descriptor write\\n')\n"
        "    libc.printf(b'buffered C stdio write\\n')\n"      # sits in libc's buffer (a pipe)
        "    with running_model():\n"
        "        print('a model print')\n"
        "    print('ours 2')\n"
        "print('ours 3')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ours 1\nours 2\nours 3\n"
    for text in ("raw descriptor write", "buffered C stdio write", "a model print"):
        assert text in done.stderr
