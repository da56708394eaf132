"""models.trust: the remembered digests of model files the user trusted, and when to ask. No Qt."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sketchstudio.fsutil import file_sha256
from sketchstudio.models.trust import (
    MAX_TRUSTED,
    TRUST_FILENAME,
    TrustList,
    trust_question,
)

A, B, C = ("a" * 64, "b" * 64, "c" * 64)


def _model(folder: Path, content: bytes = b"pretend model bytes") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.pt"
    path.write_bytes(content)
    return path


def test_recorded_digests_persist_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path / "data"))
    trusted = TrustList()
    assert trusted.path == tmp_path / "data" / TRUST_FILENAME
    assert A not in trusted and trusted.digests() == []
    trusted.record(A)
    trusted.record(A)                           # twice: kept once
    assert A in TrustList() and TrustList().digests() == [A]
    saved = json.loads(trusted.path.read_text(encoding="utf-8"))
    assert saved == {"version": 1, "sha256": [A]}


def test_merge_ignores_what_is_not_a_digest_and_forgets_the_oldest(tmp_path):
    trusted = TrustList(tmp_path / "t.json")
    assert trusted.merge([A, "not-a-digest", 42, B.upper(), B]) == 2     # type: ignore[list-item]
    assert trusted.digests() == [A, B]
    many = [f"{i:064x}" for i in range(MAX_TRUSTED + 5)]
    trusted.merge(many)
    kept = trusted.digests()
    assert len(kept) == MAX_TRUSTED and kept[-1] == many[-1] and A not in kept


@pytest.mark.parametrize("damage", [b"{not json", b"[1, 2]", b'{"sha256": "x"}', b"\xff\xfe"])
def test_a_damaged_list_reads_as_empty_and_is_set_aside_on_the_next_write(tmp_path, damage):
    path = tmp_path / "t.json"
    path.write_bytes(damage)
    trusted = TrustList(path)
    assert trusted.digests() == [] and A not in trusted      # asked again: nothing worse
    trusted.record(A)
    assert trusted.digests() == [A]
    aside = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == damage


def test_a_file_outside_the_store_is_asked_about_once_by_content(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    trusted = TrustList(tmp_path / "t.json")
    model = _model(tmp_path / "downloads")
    question = trust_question(model, [store], trusted)
    assert question is not None and question.model_file == model
    assert question.digest == file_sha256(model)
    trusted.record(question.digest)
    assert trust_question(model, [store], trusted) is None
    copy = _model(tmp_path / "elsewhere")                   # same bytes, another name and place
    assert trust_question(copy, [store], trusted) is None
    changed = _model(tmp_path / "changed", b"pretend model bytes!")
    assert trust_question(changed, [store], trusted) is not None


def test_store_models_and_unreadable_files_are_not_asked_about(tmp_path):
    store = tmp_path / "store"
    trusted = TrustList(tmp_path / "t.json")
    inside = _model(store / "some-model")
    assert trust_question(inside, [store], trusted) is None
    assert trust_question(tmp_path / "missing.pt", [store], trusted) is None
    broken_card = tmp_path / "broken" / "card.toml"
    broken_card.parent.mkdir()
    broken_card.write_text("name = [", encoding="utf-8")
    assert trust_question(broken_card, [store], trusted) is None


def test_a_card_is_asked_about_through_the_model_file_it_names(tmp_path):
    import model_zoo

    card = model_zoo.write_card(tmp_path / "cardonly")
    model = _model(tmp_path / "cardonly")
    question = trust_question(card, [tmp_path / "store"], TrustList(tmp_path / "t.json"))
    assert question is not None and question.model_file == model
    folder_question = trust_question(card.parent, [tmp_path / "store"],
                                     TrustList(tmp_path / "t.json"))
    assert folder_question == question
