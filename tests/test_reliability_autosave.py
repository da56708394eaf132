"""Reliability, item 1: autosave journal, crash recovery (SIGKILL), atomic saves that fail
safely."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from qt_helpers import house

from sketchstudio import fsutil  # every file SketchStudio writes goes through it
from sketchstudio.sketch import Sketch
from sketchstudio.sketch.formats import Document
from sketchstudio.sketch.io import SketchFileError, load_document, save_document

pytestmark = pytest.mark.slow  # subprocesses that crash and restart the studio

PROJECT = Path(__file__).resolve().parents[1]


# --- atomic saves ---------------------------------------------------------------------------------
def _previous(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "drawing.json"
    save_document(path, Document(house()))
    return path, path.read_bytes()


def _no_temporaries(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("fault, reason", [
    ("fsync", "No space left on device"),
    ("replace", "Permission denied"),
    ("open", "Read-only file system"),
    ("write", "No space left on device"),
])
def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch, fault, reason):
    path, before = _previous(tmp_path)
    code = {"No space left on device": errno.ENOSPC, "Permission denied": errno.EACCES,
            "Read-only file system": errno.EROFS}[reason]

    def fail(*_a, **_k):
        raise OSError(code, os.strerror(code))

    if fault == "fsync":
        monkeypatch.setattr(fsutil.os, "fsync", fail)
    elif fault == "replace":
        monkeypatch.setattr(fsutil.os, "replace", fail)
    elif fault == "open":
        monkeypatch.setattr(fsutil, "open", fail, raising=False)
    else:   # the disk fills up halfway through the document
        from sketchstudio.sketch.formats import native

        real = native.write_document

        def half_then_full(file, document, *_options):
            file.write(b'{"format": "sketchstudio", "strokes": [')
            fail()
        monkeypatch.setattr(native, "write_document", half_then_full)
        assert real is not None
    bigger = Document(house().with_strokes(list(house().strokes) * 3))
    with pytest.raises(SketchFileError) as info:
        save_document(path, bigger)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and reason in message
    assert path.read_bytes() == before          # the previous file, byte for byte
    _no_temporaries(tmp_path)


def test_save_is_fsynced_and_renamed(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(fsutil.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(fsutil.os, "replace",
                        lambda a, b: (calls.append("replace"), real_replace(a, b)))
    path = tmp_path / "d.json"
    save_document(path, Document(house()))
    # the data reaches the disk before the rename makes it visible (then the folder is synced)
    assert calls[:2] == ["fsync", "replace"]
    assert len(load_document(path).sketch) == len(house())


def test_studio_says_when_a_save_fails_and_keeps_the_file(make_window, tmp_path, monkeypatch,
                                                         qtbot):
    window = make_window()
    path, before = _previous(tmp_path)
    window.document.apply(house(), "draw")
    errors = []
    window.errorShown.connect(errors.append)
    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fsutil.os, "fsync", disk_full)
    assert window.files.save_to(path) is False
    assert errors and "No space left on device" in errors[-1] and str(path) in errors[-1]
    assert window.document.modified            # still unsaved: nothing pretends it was written
    assert path.read_bytes() == before


# --- the journal, in process ----------------------------------------------------------------------
def _journals(data: Path) -> list[Path]:
    folder = data / "autosave"
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith(".meta.json")) \
        if folder.is_dir() else []


def test_every_edit_is_journaled_within_a_second(make_window, isolated_studio, qtbot):
    window = make_window(persist=True)
    assert window.autosave is not None
    journal = window.autosave.path
    assert journal.parent == isolated_studio / "data" / "autosave"
    for k in range(1, 6):
        window.document.apply(house().with_strokes(list(house().strokes)[:k] if k <= 4 else
                                                   list(house().strokes) * 2), f"edit {k}")
        started = time.monotonic()
        want = len(window.document.sketch)

        def written(want: int = want) -> None:
            assert journal.exists() and len(load_document(journal).sketch) == want

        qtbot.waitUntil(written, timeout=1000)
        assert time.monotonic() - started < 1.0
    assert window.autosave.wait_idle()      # the note beside the journal is written just after it
    meta = json.loads(journal.with_name(journal.stem + ".meta.json").read_text())
    assert meta["pid"] == os.getpid() and meta["strokes"] == 8


def test_the_journal_goes_when_the_document_is_saved_or_closed(make_window, tmp_path, qtbot):
    window = make_window(persist=True)
    journal = window.autosave.path
    window.document.apply(house(), "draw")
    qtbot.waitUntil(journal.exists, timeout=1000)
    assert window.files.save_to(tmp_path / "saved.json")
    qtbot.waitUntil(lambda: not journal.exists(), timeout=1000)
    window.document.apply(Sketch(), "clear")
    qtbot.waitUntil(journal.exists, timeout=1000)
    assert window.autosave.wait_idle()
    meta = json.loads(journal.with_name(journal.stem + ".meta.json").read_text())
    assert meta["original"] == str(tmp_path / "saved.json")
    window.shutdown()
    assert not journal.exists()


def test_a_journal_that_cannot_be_written_is_reported(make_window, monkeypatch, qtbot):
    window = make_window(persist=True)
    from sketchstudio.studio import journal_writer

    monkeypatch.setattr(journal_writer, "save_document", lambda *a, **kw: (_ for _ in ()).throw(
        SketchFileError("x.json", "cannot write: No space left on device")))
    messages = []
    window.autosave.failed.connect(messages.append)
    window.document.apply(house(), "draw")
    qtbot.waitUntil(lambda: bool(messages), timeout=3000)
    assert "Autosave failed" in messages[0] and "No space left" in messages[0]
    assert "Autosave failed" in window.statusBar().currentMessage()


def _fake_crash_journal(data: Path, sketch: Sketch, original: Path | None = None) -> Path:
    """A journal as a killed session leaves it: its pid no longer runs."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    folder = data / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{child.pid}.json"
    save_document(path, Document(sketch, None, {"method": "sla-grad"}))
    path.with_name(f"{child.pid}.meta.json").write_text(json.dumps(
        {"version": 1, "pid": child.pid, "saved_at": time.time(),
         "original": str(original) if original else None, "strokes": len(sketch)}))
    return path


@pytest.mark.parametrize("answer", ["restore", "discard", "later"])
def test_launch_offers_to_restore(make_window, isolated_studio, monkeypatch, tmp_path, answer):
    from sketchstudio.studio import autosave, recovery

    original = tmp_path / "mine.json"
    save_document(original, Document(Sketch()))
    left = _fake_crash_journal(isolated_studio / "data", house(), original)
    asked = []
    monkeypatch.setattr(recovery, "ask_restore", lambda w, j: (asked.append(j), answer)[1])
    window = make_window(persist=True)
    restored = autosave.offer_recovery(window, None, headless=False)
    assert len(asked) == 1 and asked[0].strokes == len(house())
    assert restored == (answer == "restore")
    if answer == "restore":
        assert [s.points.tolist() for s in window.document.sketch.strokes] == \
            [s.points.tolist() for s in house().strokes]
        assert window.document.modified and window.document.path == original
        window.actions_["undo"].trigger()        # the restore is one undoable edit
        assert len(window.document.sketch) == 0
    assert left.exists() == (answer == "later")


def test_headless_launches_never_ask_and_keep_the_journal(make_window, isolated_studio,
                                                          monkeypatch, capsys):
    from sketchstudio.studio import autosave, recovery

    left = _fake_crash_journal(isolated_studio / "data", house())
    monkeypatch.setattr(recovery, "ask_restore", lambda *a: pytest.fail("asked while headless"))
    window = make_window(persist=True)
    assert autosave.offer_recovery(window, None, headless=True) is False
    assert left.exists() and "--restore" in capsys.readouterr().err
    assert autosave.offer_recovery(window, False, headless=True) is False   # --no-restore
    assert not left.exists()


def test_journals_of_running_sessions_are_not_offered(make_window, isolated_studio, qtbot):
    """A running session is one that holds its journal's lock (pids are not identity: see
    tests/test_safety_journal_identity.py); another process's and our own are not offered."""
    from sketchstudio.studio import autosave

    folder = isolated_studio / "data" / "autosave"
    folder.mkdir(parents=True)
    other = folder / "0123456789abcdef.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from sketchstudio.studio import journal_lock; "
         "lock = journal_lock.create(Path(sys.argv[1])); print('HELD', flush=True); "
         "sys.stdin.read()", str(folder / "0123456789abcdef.lock")],
        cwd=PROJECT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(PROJECT)))
    try:
        assert holder.stdout.readline().strip() == "HELD"     # the other session is running
        save_document(other, Document(house()))
        window = make_window(persist=True)      # ourselves
        window.document.apply(house(), "draw")
        qtbot.waitUntil(window.autosave.path.exists, timeout=1000)
        assert autosave.find_orphans() == []
    finally:
        holder.stdin.close()
        holder.wait(30)
    orphans = autosave.find_orphans()           # its process ended: now it is an orphan
    assert [j.path for j in orphans] == [other]
    orphans[0].release()


# --- the real thing: SIGKILL a running studio, relaunch, compare ----------------------------------
DRIVER = textwrap.dedent('''
    import json, os, sys, time
    from PySide6.QtCore import QPointF, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from sketchstudio.studio import app as studio_app, main_window

    MODE = os.environ["DRIVER_MODE"]
    N = int(os.environ.get("DRIVER_STROKES", "0"))
    PERIOD = int(os.environ.get("DRIVER_PERIOD_MS", "40"))
    start = main_window.MainWindow.start

    def drag(canvas, points):
        viewport = canvas.viewport()
        at = [canvas.mapFromScene(QPointF(x, y)) for x, y in points]
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[0])
        for p in at[1:]:
            QTest.mouseMove(viewport, p)
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           at[-1])

    def draw(window, i):
        if i == N:
            print("DONE", flush=True)
            return
        x, y = 20 + (i % 12) * 18, 20 + (i // 12) % 12 * 18
        drag(window.canvas, [(x, y), (x + 5, y + 9), (x + 11, y + 4), (x + 14, y + 13)])
        strokes = window.document.sketch.strokes
        assert len(strokes) == i + 1, (len(strokes), i)
        print("STROKE", i, time.time(), json.dumps(strokes[-1].points.tolist()), flush=True)
        QTimer.singleShot(PERIOD, lambda: draw(window, i + 1))

    def dump(window):
        sketch = window.document.sketch
        with open(os.environ["DRIVER_OUT"], "w") as f:
            json.dump({"strokes": [s.points.tolist() for s in sketch.strokes],
                       "modified": window.document.modified}, f)
        QApplication.instance().exit(0)

    def patched(self, *a, **k):
        ok = start(self, *a, **k)
        if MODE == "draw":
            QTimer.singleShot(300, lambda: draw(self, 0))
        else:
            QTimer.singleShot(0, lambda: dump(self))
        return ok

    main_window.MainWindow.start = patched
    sys.exit(studio_app.main(sys.argv[1:]))
''')


@pytest.fixture
def studio_env(tmp_path, isolated_studio):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(PROJECT))
    # isolated_studio set SKETCHSTUDIO_DATA_DIR / XDG_CONFIG_HOME in os.environ already
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    return env, driver


def _launch(studio_env, mode: str, args: list[str], **extra: str) -> subprocess.Popen:
    env, driver = studio_env
    env = dict(env, DRIVER_MODE=mode, **extra)
    return subprocess.Popen([sys.executable, str(driver), *args], env=env, cwd=PROJECT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_strokes_until(process, stop) -> list[tuple[float, list]]:
    """STROKE lines from the driver: (time completed, points), until stop(strokes) is true."""
    strokes = []
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if line.startswith("STROKE"):
            _, _i, when, points = line.split(" ", 3)
            strokes.append((float(when), json.loads(points)))
        if stop(strokes, line) or time.monotonic() > deadline:
            break
    return strokes


def _relaunch_and_dump(studio_env, tmp_path, flag: str | None) -> dict:
    out = tmp_path / f"dump-{flag}.json"
    process = _launch(studio_env, "dump", [flag] if flag else [], DRIVER_OUT=str(out))
    _stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr
    result = json.loads(out.read_text())
    result["stderr"] = stderr
    return result


def _same(restored: list, drawn: list) -> bool:
    return len(restored) == len(drawn) and all(
        np.allclose(np.asarray(a), np.asarray(b), atol=1e-9)
        for a, b in zip(restored, drawn, strict=True))


def test_sigkill_then_relaunch_restores_every_completed_stroke(studio_env, tmp_path, tiny_card):
    process = _launch(studio_env, "draw", ["--model", str(tiny_card)], DRIVER_STROKES="15")
    try:
        drawn = _read_strokes_until(process, lambda s, line: line.startswith("DONE"))
        assert len(drawn) == 15, process.stderr.read() if process.poll() is not None else ""
        time.sleep(1.0)      # the promise: every edit is on disk within a second
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    # Offscreen relaunch without a flag: not asked, not restored, journal kept.
    plain = _relaunch_and_dump(studio_env, tmp_path, None)
    assert plain["strokes"] == [] and "--restore" in plain["stderr"]
    restored = _relaunch_and_dump(studio_env, tmp_path, "--restore")
    assert _same(restored["strokes"], [points for _, points in drawn])
    assert restored["modified"]
    # Restored once: a normal exit removed the journal, nothing is offered again.
    again = _relaunch_and_dump(studio_env, tmp_path, "--restore")
    assert again["strokes"] == []


def test_sigkill_mid_stream_loses_nothing_older_than_a_second(studio_env, tmp_path):
    process = _launch(studio_env, "draw", [], DRIVER_STROKES="400", DRIVER_PERIOD_MS="25")
    try:
        drawn = _read_strokes_until(process, lambda s, line: len(s) >= 60)
        killed_at = time.time()
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        drawn += _read_strokes_until(process, lambda s, line: False)   # printed before the kill
    finally:
        process.kill()
    assert len(drawn) >= 60
    restored = _relaunch_and_dump(studio_env, tmp_path, "--restore")["strokes"]
    settled = [points for when, points in drawn if when <= killed_at - 1.0]
    assert len(settled) >= 10                 # the drawing really was in full flow
    assert len(restored) >= len(settled)      # nothing completed a second before the kill is lost
    # ... and nothing invented: the strokes as drawn, in order (one more may have been completed
    # and journaled in the instant between its pen-up and its line on stdout)
    assert len(restored) <= len(drawn) + 1
    shared = min(len(restored), len(drawn))
    assert _same(restored[:shared], [points for _, points in drawn][:shared])
