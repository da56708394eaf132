"""Issue 19, item 5: restoring on a full disk must not discard the only copy.

A restored journal is deleted only once its drawing is safely somewhere else: this session's own
journal written and fsynced, or the drawing saved. Until then it stays, and if the session ends
first it is offered again at the next launch.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from qt_helpers import house

from sketchstudio import fsutil  # every file SketchStudio writes goes through it
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.formats import Document
from sketchstudio.sketch.io import load_document, save_document

pytestmark = pytest.mark.slow  # subprocesses


def _full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _crash_journal(data: Path, sketch: Sketch) -> Path:
    folder = data / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    # Named as older versions named journals (by a pid that no longer runs), so that this test
    # shows the same loss with the code before the fix; the new names are random session ids.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    path = folder / f"{child.pid}.json"
    save_document(path, Document(sketch, None, {"method": "sla-grad"}))
    path.with_name(path.stem + ".meta.json").write_text(json.dumps(
        {"version": 2, "saved_at": time.time(), "original": None, "strokes": len(sketch)}))
    return path


@pytest.fixture
def full_disk():
    """full_disk(fault): from now on every write fails with ENOSPC at that step; .undo() frees
    the disk again (a separate MonkeyPatch: undoing it keeps the isolated data folder)."""
    from sketchstudio.studio import journal_lock

    patch = pytest.MonkeyPatch()

    def fill(fault: str = "fsync") -> pytest.MonkeyPatch:
        def open_for_reading_only(file, mode="r", *args, **kwargs):
            if any(c in mode for c in "wax+"):
                _full()
            return open(file, mode, *args, **kwargs)

        if fault == "fsync":        # the data never reaches the disk
            patch.setattr(fsutil.os, "fsync", _full)
        elif fault == "write":      # no temporary file can even be created
            patch.setattr(fsutil, "open", open_for_reading_only, raising=False)
        else:                       # not even the session's (empty) lock file
            patch.setattr(journal_lock, "open", open_for_reading_only, raising=False)
        return patch

    yield fill
    patch.undo()


def _restore_on_a_full_disk(make_window, isolated_studio, full_disk, fault="fsync"):
    from sketchstudio.studio import autosave

    left = _crash_journal(isolated_studio / "data", house())
    before = left.read_bytes()
    window = make_window(persist=True)
    errors = []
    window.errorShown.connect(errors.append)
    disk = full_disk(fault)
    assert autosave.offer_recovery(window, True, headless=True) is True     # --restore
    assert len(window.document.sketch) == len(house()) and window.document.modified
    return window, left, before, errors, disk


@pytest.mark.parametrize("fault", ["fsync", "write", "lock"])
def test_restoring_on_a_full_disk_keeps_the_old_journal(make_window, isolated_studio, full_disk,
                                                        fault):
    from sketchstudio.studio import autosave

    window, left, before, errors, disk = _restore_on_a_full_disk(make_window, isolated_studio,
                                                                 full_disk, fault)
    assert left.read_bytes() == before and left.with_name(left.stem + ".meta.json").exists()
    assert not window.autosave.path.exists()            # nothing was written: disk full
    assert len(errors) == 1 and "No space left on device" in errors[0] \
        and str(left) in errors[0] and "\n" not in errors[0]
    # The session ends before the disk frees up: the old journal stays, offered next time.
    window.shutdown()
    disk.undo()
    assert left.read_bytes() == before
    again = autosave.find_orphans()
    assert [j.path for j in again] == [left]
    assert len(again[0].load().sketch) == len(house())
    again[0].release()


def test_the_old_journal_goes_once_this_sessions_journal_is_written(make_window, isolated_studio,
                                                                    full_disk, qtbot):
    window, left, before, _errors, disk = _restore_on_a_full_disk(make_window, isolated_studio,
                                                                  full_disk)
    assert window.autosave.wait_idle() and left.read_bytes() == before
    disk.undo()                 # space again; the next edit is journaled
    strokes = list(window.document.sketch.strokes)
    window.document.apply(window.document.sketch.with_strokes(strokes[:-1]), "erase")
    qtbot.waitUntil(lambda: not left.exists(), timeout=3000)
    assert window.autosave.wait_idle()
    assert len(load_document(window.autosave.path).sketch) == len(strokes) - 1


def test_the_old_journal_goes_once_the_drawing_is_saved(make_window, isolated_studio, monkeypatch,
                                                        tmp_path, qtbot):
    from sketchstudio.studio import autosave, journal_writer

    left = _crash_journal(isolated_studio / "data", house())
    window = make_window(persist=True)
    monkeypatch.setattr(journal_writer, "save_document", _full)  # only the journal's disk is full
    assert autosave.offer_recovery(window, True, headless=True) is True
    assert left.exists()
    assert window.files.save_to(tmp_path / "saved.json")        # e.g. onto another disk
    qtbot.waitUntil(lambda: not left.exists(), timeout=3000)
    assert len(load_document(tmp_path / "saved.json").sketch) == len(house())


def test_undoing_the_restore_is_not_a_save(make_window, isolated_studio, full_disk):
    """Back at the clean point by undo: the drawing is in the redo history only, not on disk."""
    window, left, before, _errors, _disk = _restore_on_a_full_disk(make_window, isolated_studio,
                                                                   full_disk)
    window.actions_["undo"].trigger()
    assert not window.document.modified
    assert window.autosave.wait_idle()
    assert left.read_bytes() == before


def test_a_restored_journal_is_deleted_only_after_the_new_one_is_on_disk(make_window,
                                                                        isolated_studio,
                                                                        monkeypatch):
    from sketchstudio.studio import autosave

    left = _crash_journal(isolated_studio / "data", house())
    window = make_window(persist=True)
    seen = []
    real_discard = autosave.Journal.discard

    def discard(journal):
        # At the moment the old one goes, the new one holds the whole drawing.
        own = window.autosave.path
        seen.append(own.exists() and len(load_document(own).sketch) == len(house()))
        real_discard(journal)

    monkeypatch.setattr(autosave.Journal, "discard", discard)
    assert autosave.offer_recovery(window, True, headless=True) is True
    assert window.autosave.wait_idle()
    assert seen == [True] and not left.exists()
    assert "Restored the autosaved drawing" in window.statusBar().currentMessage()
