"""Model cards: the documented keys work, and every problem is one line naming file and key."""
from __future__ import annotations

import os

import pytest
from model_zoo import INPUT, card_dict, make_model, write_card

from sketchstudio.errors import UserError
from sketchstudio.models import load_card

EXAMPLE = '''\
name = "Quick, Draw! CNN"
task = "classify"             # classify | embed | generate
file = "model.pt"
labels = ["apple", "book"]
description = "A tiny test model"
licence = "MIT"
[input]
size = 28
channels = 1
ink = "light-on-dark"
sigma = 0.5
fit = "center"
margin = 0.08
canvas = 256
mean = [0.0]
std = [1.0]
'''


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"not read by load_card")
    return tmp_path


def test_documented_example_card(folder):
    card = load_card(write_card(folder, text=EXAMPLE))
    assert card.name == "Quick, Draw! CNN"
    assert card.task == "classify"
    assert card.labels == ("apple", "book")
    assert card.file == (folder / "model.pt").resolve()
    assert card.path == folder / "card.toml"
    assert card.description == "A tiny test model"
    assert card.extra == {"licence": "MIT"}   # unknown keys are kept, not rejected
    assert card.spec.size == 28 and card.spec.ink == "light-on-dark" and card.spec.canvas == 256.0
    assert card.spec.mean == (0.0,) and card.spec.std == (1.0,)
    d = card.to_dict()
    assert d["input"]["margin"] == 0.08 and d["licence"] == "MIT" and d["file"] == "model.pt"


def test_folder_or_file_both_work(folder):
    write_card(folder, text=EXAMPLE)
    assert load_card(folder).path == load_card(folder / "card.toml").path


def test_embed_needs_no_labels(folder):
    card = load_card(write_card(folder, task="embed", labels=None))
    assert card.labels == () and "labels" not in card.to_dict()


def _error(folder, *, text: str | None = None, card: dict | None = None, **fields) -> str:
    """The one-line UserError that loading this card gives; it must name the card file."""
    path = write_card(folder, card if card is not None else card_dict(**fields), text=text)
    with pytest.raises(UserError) as info:
        load_card(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize("key", ["name", "task", "file", "labels", "input"])
def test_missing_key(folder, key):
    card = card_dict()
    del card[key]
    message = _error(folder, card=card)
    assert key in message and "missing" in message


@pytest.mark.parametrize("key", ["size", "channels", "ink", "fit"])
def test_missing_input_key(folder, key):
    spec = dict(INPUT)
    del spec[key]
    assert key in _error(folder, input=spec)


@pytest.mark.parametrize("fields, words", [
    ({"task": "segment"}, ["task", "segment"]),
    ({"name": 3}, ["name", "string"]),
    ({"name": "  "}, ["name", "empty"]),
    ({"file": ["model.pt"]}, ["file", "string"]),
    ({"labels": "apple,book"}, ["labels", "list"]),
    ({"labels": ["apple", 2]}, ["labels", "item 1"]),
    ({"labels": ["apple", ""]}, ["labels", "empty"]),
    ({"labels": ["apple", "apple"]}, ["labels", "twice"]),
    ({"labels": []}, ["labels", "empty"]),
    ({"description": 5}, ["description"]),
    ({"input": {**INPUT, "size": "28"}}, ["[input]", "size"]),
    ({"input": {**INPUT, "ink": "blue"}}, ["[input]", "ink"]),
    ({"input": {**INPUT, "mean": "zero"}}, ["[input]", "mean"]),
    ({"input": {**INPUT, "colour": "red"}}, ["[input]", "colour"]),
])
def test_bad_values(folder, fields, words):
    message = _error(folder, **fields)
    for word in words:
        assert word in message


def test_input_must_be_a_table(folder):
    text = EXAMPLE.split("[input]")[0].replace('licence = "MIT"', 'input = 5')
    message = _error(folder, text=text)
    assert "input" in message and "table" in message


@pytest.mark.parametrize("text", [
    "name = ",                         # no value
    'name = "a\nlabels = [1,',         # unterminated
    "[input\nsize=3",                  # broken table header
])
def test_garbled_toml(folder, text):
    assert "not valid TOML" in _error(folder, text=text)


def test_not_utf8(folder):
    (folder / "card.toml").write_bytes(b"name = \"\xff\xfe\"\n")
    with pytest.raises(UserError, match="UTF-8"):
        load_card(folder)


def test_missing_card(tmp_path):
    with pytest.raises(UserError, match="model card not found"):
        load_card(tmp_path / "nothing")


@pytest.mark.parametrize("file", ["../model.pt", "sub/../../model.pt", "/etc/passwd",
                                  "C:\\model.pt", "..\\model.pt", ""])
def test_file_must_stay_inside_the_folder(tmp_path, file):
    folder = tmp_path / "card"
    folder.mkdir()
    (tmp_path / "model.pt").write_bytes(b"x")
    message = _error(folder, file=file)
    assert "file" in message


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    folder = tmp_path / "card"
    folder.mkdir()
    (tmp_path / "secret.pt").write_bytes(b"x")
    os.symlink(tmp_path / "secret.pt", folder / "model.pt")
    assert "outside" in _error(folder, file="model.pt")


def test_symlink_inside_the_folder_is_fine(tmp_path):
    (tmp_path / "real.pt").write_bytes(b"x")
    os.symlink(tmp_path / "real.pt", tmp_path / "model.pt")
    assert load_card(write_card(tmp_path)).file == (tmp_path / "real.pt").resolve()


def test_model_file_must_exist(tmp_path):
    assert "does not exist" in _error(tmp_path, file="missing.pt")


def test_subfolder_model_file(tmp_path):
    card = make_model(tmp_path, file="weights/model.pt")
    assert load_card(card).file == (tmp_path / "weights" / "model.pt").resolve()
