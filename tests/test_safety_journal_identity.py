"""Issue 19, item 3: a crashed drawing must survive a relaunch that gets the same process id.

Flatpak, bwrap and Docker start every studio as the same pid. Journals used to be named by pid,
the relaunch skipped "its own" orphan and its normal exit deleted it. Now a journal belongs to
whoever holds its lock; pids play no part.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from qt_helpers import house

from sketchstudio.sketch import Sketch
from sketchstudio.sketch.formats import Document
from sketchstudio.sketch.io import save_document

pytestmark = pytest.mark.slow  # subprocesses

PROJECT = Path(__file__).resolve().parents[1]
SAME_PID = 4242     # what os.getpid() answers in every launch below, as in a container


def _journals(data: Path) -> list[Path]:
    folder = data / "autosave"
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith(".meta.json"))


def _crash_journal(data: Path, sketch: Sketch, name: str, pid: int) -> Path:
    """What a killed session leaves: a journal and its note, nobody holding its lock."""
    folder = data / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    save_document(path, Document(sketch))
    path.with_name(f"{name}.meta.json").write_text(json.dumps(
        {"version": 2, "session": name, "pid": pid, "saved_at": time.time(), "original": None,
         "strokes": len(sketch)}))
    return path


@pytest.mark.parametrize("name", [str(os.getpid()), "1f0e2d3c4b5a69788796a5b4c3d2e1f0"],
                         ids=["legacy-pid-name", "session-name"])
def test_a_crashed_journal_with_our_own_pid_is_offered_and_survives_a_normal_exit(
        make_window, isolated_studio, name):
    from sketchstudio.studio import autosave

    data = isolated_studio / "data"
    left = _crash_journal(data, house(), name, pid=os.getpid())     # the same pid as ours
    before = left.read_bytes()
    window = make_window(persist=True)
    window.document.apply(Sketch.from_arrays([[[0, 0], [5, 5]]]), "draw")
    assert window.autosave.wait_idle()
    orphans = autosave.find_orphans()
    assert [j.path for j in orphans] == [left] and orphans[0].strokes == len(house())
    orphans[0].release()
    window.shutdown()       # a normal exit removes this session's journal, and only that
    assert _journals(data) == [left] and left.read_bytes() == before
    assert window.autosave.path.name != f"{os.getpid()}.json"


def test_a_claimed_orphan_is_not_offered_to_a_second_studio(isolated_studio):
    """Two studios launched together: the one asking about a journal holds it."""
    from sketchstudio.studio import autosave

    left = _crash_journal(isolated_studio / "data", house(), "a" * 32, pid=1)
    first = autosave.find_orphans()
    assert [j.path for j in first] == [left]
    assert autosave.find_orphans() == []       # the second studio does not see it
    first[0].release()                          # "Later"
    again = autosave.find_orphans()
    assert [j.path for j in again] == [left]
    again[0].discard()
    assert not left.exists() and list((isolated_studio / "data" / "autosave").iterdir()) == []


def test_lock_files_of_sessions_that_ended_are_removed(isolated_studio):
    from sketchstudio.studio import autosave, journal_lock

    folder = isolated_studio / "data" / "autosave"
    folder.mkdir(parents=True)
    (folder / "0000.lock").write_bytes(b"")                 # crashed before its first edit
    live = journal_lock.create(folder / "1111.lock")        # running, no journal yet
    try:
        assert autosave.find_orphans() == []
        assert sorted(p.name for p in folder.iterdir()) == ["1111.lock"]
    finally:
        live.release(remove=True)
    assert list(folder.iterdir()) == []


# --- the real thing: the same pid in every launch, SIGKILL, relaunch ------------------------------
DRIVER = textwrap.dedent('''
    import json, os, sys
    os.getpid = lambda: int(os.environ["DRIVER_PID"])    # as in a container: always the same
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from sketchstudio.sketch import Sketch
    from sketchstudio.studio import app as studio_app, main_window

    MODE = os.environ["DRIVER_MODE"]
    start = main_window.MainWindow.start

    def draw(window):
        for k in range(1, 4):
            window.document.apply(Sketch.from_arrays([[[10 * j, 20 * j], [10 * j + 5, 3]]
                                                      for j in range(k)]), f"edit {k}")
        window.autosave.flush()
        assert window.autosave.wait_idle()
        print("JOURNALED", window.autosave.path, flush=True)     # now kill me

    def dump(window):
        with open(os.environ["DRIVER_OUT"], "w") as f:
            json.dump([s.points.tolist() for s in window.document.sketch.strokes], f)
        QApplication.instance().exit(0)

    def patched(self, *a, **k):
        ok = start(self, *a, **k)
        QTimer.singleShot(0, lambda: (draw if MODE == "draw" else dump)(self))
        return ok

    main_window.MainWindow.start = patched
    sys.exit(studio_app.main(sys.argv[1:]))
''')


def test_same_pid_on_relaunch_still_offers_and_keeps_the_crashed_drawing(tmp_path, isolated_studio):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(PROJECT),
               DRIVER_PID=str(SAME_PID))
    data = isolated_studio / "data"

    def launch(mode: str, *args: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(driver), *args], cwd=PROJECT,
                                env=dict(env, DRIVER_MODE=mode, **extra), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def relaunch(*args: str) -> tuple[list, str]:
        out = tmp_path / "dump.json"
        process = launch("dump", *args, DRIVER_OUT=str(out))
        _stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr
        return json.loads(out.read_text()), stderr

    drawing = launch("draw")
    try:
        line = drawing.stdout.readline()
        why = drawing.communicate(timeout=60)[1] if not line else line
        assert line.startswith("JOURNALED"), why
        drawing.send_signal(signal.SIGKILL)
        drawing.wait(30)
    finally:
        drawing.kill()
    journal = Path(line.split(" ", 1)[1].strip())
    assert _journals(data) == [journal] and journal.name != f"{SAME_PID}.json"
    crashed = json.loads(journal.read_text())

    # Same pid, headless, no flag: told about it, not asked; its normal exit keeps it.
    strokes, stderr = relaunch()
    assert strokes == [] and "--restore" in stderr and "3 strokes" in stderr
    assert _journals(data) == [journal] and json.loads(journal.read_text()) == crashed
    # Same pid again, --restore: the drawing is back, and gone from the journals after a normal
    # exit.
    strokes, _stderr = relaunch("--restore")
    assert strokes == [[[0.0, 0.0], [5.0, 3.0]], [[10.0, 20.0], [15.0, 3.0]],
                       [[20.0, 40.0], [25.0, 3.0]]]
    assert _journals(data) == []
