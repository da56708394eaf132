"""Issue 19, item 6: whatever is in the data folder, the studio starts.

A file no reader can use is set aside as `<name>.damaged-<time>` (never deleted) and one message
says so, once. Each case starts the studio through its real entry point (`app.main`, offscreen).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qt_helpers import house

from sketchstudio.sketch.formats import Document
from sketchstudio.sketch.io import save_document

pytestmark = pytest.mark.slow  # studio starts in subprocesses

PROJECT = Path(__file__).resolve().parents[1]
DEEP = 100_000


@pytest.fixture
def start_studio(qapp, monkeypatch, capsys):
    """start_studio(*args) -> (exit status, messages the window showed, stderr lines), through
    `sketchstudio.studio.app.main`, quitting as soon as the start-up is done."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from sketchstudio.studio import app as studio_app
    from sketchstudio.studio import main_window

    real_start = main_window.MainWindow.start

    def run(*args: str):
        shown: list[str] = []

        def start(self, *a, **k):
            self.errorShown.connect(shown.append)
            ok = real_start(self, *a, **k)
            QTimer.singleShot(0, lambda: QApplication.instance().exit(0))
            return ok

        monkeypatch.setattr(main_window.MainWindow, "start", start)
        capsys.readouterr()
        code = studio_app.main(list(args))
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        return code, shown, err

    return run


def _set_aside(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f"{name}.damaged-*"))


def _said_once(shown: list[str], err: list[str], name: str) -> None:
    about = [m for m in shown if "damaged" in m]
    assert len(about) == 1 and name in about[0] and "\n" not in about[0], shown
    lines = [line for line in err if "damaged" in line]
    assert len(lines) == 1 and name in lines[0], err
    assert not any("Traceback" in line for line in err)


def _starts_and_sets_aside(start_studio, folder: Path, name: str, content: bytes | None) -> Path:
    code, shown, err = start_studio()
    assert code == 0, err
    assert not (folder / name).exists()
    kept = _set_aside(folder, name)
    assert len(kept) == 1
    if content is not None:
        assert kept[0].read_bytes() == content          # set aside, byte for byte
    _said_once(shown, err, name)
    # Said once: the next launch finds nothing to say.
    code, shown, err = start_studio()
    assert code == 0 and not [m for m in shown + err if "damaged" in m]
    return kept[0]


# --- settings.toml --------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "default_model = " + "[" * DEEP + "]" * DEEP + "\n",
    "x = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n",
    "default_model = " + "7" * 5000 + "\n",             # over 4,300 digits
    "x = 0x" + "f" * 5000 + "\n",                     # parses, but cannot be written back
    "default_model = [1,\n",                            # plain broken TOML
], ids=["arrays-100000-deep", "tables-100000-deep", "5000-digit-integer", "5000-digit-hex",
        "broken"])
def test_a_damaged_settings_file_is_set_aside(start_studio, isolated_studio, text):
    data = isolated_studio / "data"
    data.mkdir()
    (data / "settings.toml").write_text(text)
    _starts_and_sets_aside(start_studio, data, "settings.toml", text.encode())


def test_the_settings_reader_survives_a_damaged_file_it_cannot_rename(isolated_studio):
    """The CLI and a read-only data folder: the reader itself falls back to defaults."""
    from sketchstudio.models.settings import read_settings

    data = isolated_studio / "data"
    data.mkdir()
    for text in ("a = " + "[" * DEEP + "]" * DEEP, "a = " + "1" * 5000):
        (data / "settings.toml").write_text(text)
        assert read_settings(data) == {}


def test_a_settings_file_that_is_a_fifo_does_not_hang_the_start(tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: it is set aside unopened."""
    data = tmp_path / "data"
    data.mkdir()
    os.mkfifo(data / "settings.toml")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SKETCHSTUDIO_DATA_DIR=str(data),
               SKETCHSTUDIO_BUILTIN_MODELS=str(tmp_path / "none"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(PROJECT))
    code = ("import sys; from sketchstudio.studio.app import check_data_dir; "
            "print(check_data_dir()); "
            "from sketchstudio.models import ModelStore; print(ModelStore().default_id())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)     # a guard: the failure this test catches hangs
    assert result.returncode == 0, result.stderr
    assert "settings.toml" in result.stdout and "not a regular file" in result.stdout
    assert len(_set_aside(data, "settings.toml")) == 1


# --- the autosave folder --------------------------------------------------------------------------
def _journal(data: Path, name: str, meta: str | None) -> Path:
    folder = data / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    save_document(path, Document(house()))
    if meta is not None:
        (folder / f"{name}.meta.json").write_text(meta)
    return path


def _note(saved_at: str) -> str:
    return ('{"version": 1, "pid": 1, "saved_at": ' + str(saved_at)
            + ', "original": null, "strokes": 4}')


@pytest.mark.parametrize("meta", [
    _note("1e300"), _note("-1e20"), _note("1e999"), _note("NaN"), _note("\"yesterday\""),
    _note("1" * 5000),
    "[" * DEEP + "]" * DEEP,
    json.dumps({"saved_at": time.time(), "original": "a\u0000b"}),
    "{not json",
], ids=["time-1e300", "time-minus-1e20", "time-infinite", "time-nan", "time-a-word",
        "time-5000-digits", "nested-100000-deep", "original-with-nul", "broken"])
def test_a_damaged_autosave_note_is_set_aside_and_the_drawing_is_still_offered(
        start_studio, isolated_studio, meta):
    data = isolated_studio / "data"
    journal = _journal(data, "3b9d0c1a5e7f42c6a8d1e0f9b2c4d6e8", meta)
    code, shown, err = start_studio()
    assert code == 0, err
    name = "3b9d0c1a5e7f42c6a8d1e0f9b2c4d6e8.meta.json"
    assert len(_set_aside(data / "autosave", name)) == 1
    _said_once(shown, err, name)
    # The drawing itself was fine: still there, and offered (headless: one line on how).
    assert journal.exists() and any("--restore" in line for line in err)
    code, shown, err = start_studio("--restore")
    assert code == 0 and not journal.exists()


def test_a_journal_whose_name_is_a_20_digit_pid_is_offered_not_fatal(start_studio, isolated_studio):
    """Names are no longer read as pids, so an impossible one is simply a journal nobody holds:
    it is offered (its drawing is intact), not set aside."""
    data = isolated_studio / "data"
    journal = _journal(data, "9" * 20, json.dumps({"version": 1, "pid": 10 ** 19,
                                                   "saved_at": time.time(), "strokes": 4}))
    code, shown, err = start_studio()
    assert code == 0, err
    assert journal.exists() and any("--restore" in line and "4 strokes" in line for line in err)
    assert not [m for m in shown + err if "damaged" in m]
    code, shown, err = start_studio("--restore")
    assert code == 0 and not journal.exists()
    assert not [m for m in shown if "Cannot restore" in m]


def test_a_journal_that_cannot_be_loaded_is_set_aside_on_restore(start_studio, isolated_studio):
    data = isolated_studio / "data"
    folder = data / "autosave"
    folder.mkdir(parents=True)
    (folder / "5a5a5a5a.json").write_text("[" * DEEP)
    code, shown, err = start_studio("--restore")
    assert code == 0, err
    assert not (folder / "5a5a5a5a.json").exists()
    assert len(_set_aside(folder, "5a5a5a5a.json")) == 1
    about = [m for m in shown if "Cannot restore" in m]
    assert len(about) == 1 and "damaged" in about[0] and "\n" not in about[0]
    code, shown, err = start_studio("--restore")     # not offered again
    assert code == 0 and not [m for m in shown if "restore" in m.lower()]


@pytest.mark.parametrize("what", ["autosave-is-a-file", "journal-is-a-folder", "data-is-a-file"])
def test_entries_of_the_wrong_kind_are_set_aside(start_studio, isolated_studio, what):
    data = isolated_studio / "data"
    if what == "data-is-a-file":
        data.write_bytes(b"junk")
        folder, name = isolated_studio, "data"
    elif what == "autosave-is-a-file":
        data.mkdir()
        (data / "autosave").write_bytes(b"junk")
        folder, name = data, "autosave"
    else:
        (data / "autosave" / "77.json").mkdir(parents=True)
        folder, name = data / "autosave", "77.json"
    _starts_and_sets_aside(start_studio, folder, name, None)


# --- anything at all: generated files -------------------------------------------------------------
_toml_ish = st.text(alphabet='[]{}=a1.-+e"\' \n,#x_', max_size=400)
_times = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.integers(min_value=-10 ** 40, max_value=10 ** 40), st.text(max_size=5),
                   st.none(), st.booleans())
_notes = st.one_of(
    st.binary(max_size=200),
    st.fixed_dictionaries({"saved_at": _times},
                          optional={"strokes": st.one_of(st.integers(), st.text(max_size=3)),
                                    "original": st.one_of(st.text(max_size=20), st.integers())})
    .map(lambda d: json.dumps(d).encode()),
    st.recursive(st.one_of(st.none(), st.floats(), st.text(max_size=5)),
                 lambda inner: st.lists(inner, max_size=3), max_leaves=20)
    .map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(settings_bytes=st.one_of(st.binary(max_size=300), _toml_ish.map(str.encode)), note=_notes)
def test_generated_settings_and_notes_never_stop_the_start(tmp_path, settings_bytes, note):
    from sketchstudio.models.settings import read_settings
    from sketchstudio.studio import autosave
    from sketchstudio.studio.damaged import DamagedFiles
    from sketchstudio.studio.settings import check_settings_file

    data = Path(tempfile.mkdtemp(dir=tmp_path))
    folder = data / "autosave"
    folder.mkdir()
    (data / "settings.toml").write_bytes(settings_bytes)
    save_document(folder / "abc.json", Document(house()))
    (folder / "abc.meta.json").write_bytes(note)
    damaged = DamagedFiles()
    check_settings_file(data, damaged)
    autosave.check_journals(damaged, folder)
    # Kept files are readable; set-aside ones are named in the message.
    for path in (data / "settings.toml", folder / "abc.meta.json"):
        assert path.exists() != bool(_set_aside(path.parent, path.name))
        assert (path.name in (damaged.message() or "")) == (not path.exists())
    assert isinstance(read_settings(data), dict)
    orphans = autosave.find_orphans(folder)
    assert [j.path.name for j in orphans] == ["abc.json"]
    assert "autosaved" in orphans[0].describe()
    orphans[0].release()


def test_the_message_shows_hostile_file_names_as_escapes(isolated_studio):
    from sketchstudio.studio import autosave
    from sketchstudio.studio.damaged import DamagedFiles

    folder = isolated_studio / "data" / "autosave"
    folder.mkdir(parents=True)
    (folder / "\x1b[2J\nfake line.meta.json").write_bytes(b"junk")
    damaged = DamagedFiles()
    autosave.check_journals(damaged, folder)
    message = damaged.message()
    assert message is not None and "\\x1b[2J\\nfake line.meta.json" in message
    assert message.isprintable()
