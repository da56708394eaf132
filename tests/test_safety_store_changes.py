"""Issue 19, minor items on the model store: `models add/remove/default` on a full disk, a
read-only data folder, a symlinked entry, with two processes at once, and over a damaged or
hostile settings file. Each ends in one line and exit status 2, and the store is left exactly as
it was (nothing half-added, nothing lost).

Tests run as root here, where chmod does not stop writes: a read-only file system and a full disk
are simulated by making the writing system calls fail with EROFS / ENOSPC for paths in the data
folder (the real chmod case runs too where the tests are not root).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import filelock
import pytest
from model_zoo import make_model

from sketchstudio import cli
from sketchstudio.errors import UserError
from sketchstudio.models import ModelStore, paths
from sketchstudio.models import store as store_module

pytestmark = [pytest.mark.slow,  # subprocesses
              pytest.mark.skipif(os.name != "posix",
                                reason="FIFOs, symlinks and descriptor 1 as POSIX has them")]


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("zoo") / "m", name="Quick, Draw! CNN")


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "data", builtin_dir=tmp_path / "no-builtins")


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SKETCHSTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(paths, "builtin_models_dir", lambda: tmp_path / "no-builtins")
    return ModelStore(tmp_path / "data", builtin_dir=tmp_path / "no-builtins")


def _cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every name under `folder` with its bytes (or link target): 'left exactly as it was'."""
    found: dict[str, bytes | str] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            key = str(path.relative_to(folder))
            if path.is_symlink():
                found[key] = "-> " + os.readlink(path)
            elif path.is_file() and name != store_module.LOCK_FILENAME:
                found[key] = path.read_bytes()
    return found


def _failing_writes(monkeypatch, under: Path, code: int) -> None:
    """Every call that would create, change or delete something under `under` fails with `code`
    (EROFS: a read-only file system; ENOSPC: a full disk), as the kernel would report it."""
    under = str(under.absolute())

    def inside(path) -> bool:
        return str(Path(os.fsdecode(path)).absolute()).startswith(under)

    def refuse(path):
        raise OSError(code, os.strerror(code), os.fsdecode(path))

    real_open, real_mkdir, real_rename = os.open, os.mkdir, os.rename
    real_replace, real_unlink, real_rmdir = os.replace, os.unlink, os.rmdir
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def fake_open(path, flags, *args, **kwargs):
        if flags & writing and inside(path):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def guard(real):
        def call(src, *args, **kwargs):
            if inside(src) or (args and isinstance(args[0], (str, bytes, os.PathLike))
                               and inside(args[0])):
                refuse(src)
            return real(src, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "open", fake_open)
    for name, real in (("mkdir", real_mkdir), ("rename", real_rename), ("replace", real_replace),
                       ("unlink", real_unlink), ("remove", real_unlink), ("rmdir", real_rmdir)):
        monkeypatch.setattr(os, name, guard(real))
    real_builtin_open = open

    def fake_builtin_open(path, mode="r", *args, **kwargs):
        if isinstance(path, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") \
                and inside(path):
            refuse(path)
        return real_builtin_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_builtin_open)
    monkeypatch.setattr("io.open", fake_builtin_open)


# --- a full disk ---------------------------------------------------------------------------------
def test_add_on_a_full_disk_leaves_nothing_behind(store, card, monkeypatch):
    store.add(card, check=False)
    before = _snapshot(store.data_dir)
    real_copy = shutil.copyfile

    def copy_half_then_fail(src, dst, *args, **kwargs):
        if Path(src).name.endswith(".pt"):           # the card went in, the model does not fit
            Path(dst).write_bytes(Path(src).read_bytes()[:100])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copy_half_then_fail)
    with pytest.raises(UserError) as info:
        store.add(card, check=False)
    text = str(info.value)
    assert "\n" not in text and "No space left on device" in text
    assert _snapshot(store.data_dir) == before        # no half model, no staging folder


def test_default_and_remove_on_a_full_disk_change_nothing(store, card, monkeypatch):
    first, second = store.add(card, check=False), store.add(card, check=False)
    store.set_default(first)
    before = _snapshot(store.data_dir)

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)       # the settings file cannot be made durable
    with pytest.raises(UserError, match="No space left on device"):
        store.set_default(second)
    with pytest.raises(UserError, match="No space left on device"):
        store.remove(first)                          # it is the default: settings must change
    assert _snapshot(store.data_dir) == before       # the model was put back, settings intact
    assert store.default_id() == first and store.ids() == [first, second]


def test_cli_add_on_a_full_disk(cli_env, capsys, card, monkeypatch):
    def no_space(src, dst, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

    monkeypatch.setattr(shutil, "copyfile", no_space)
    code, out, err = _cli(capsys, "models", "add", str(card), "--no-check")
    assert code == 2 and out == "" and err.count("\n") == 1 and "No space left" in err
    assert cli_env.ids() == []


# --- a read-only data folder ----------------------------------------------------------------------
@pytest.mark.parametrize("argv", [("add", "CARD", "--no-check"), ("remove", "ID"),
                                  ("default", "ID")])
def test_changes_on_a_read_only_data_folder(cli_env, capsys, card, monkeypatch, argv):
    model_id = cli_env.add(card, check=False)
    before = _snapshot(cli_env.data_dir)
    argv = [str(card) if a == "CARD" else model_id if a == "ID" else a for a in argv]
    with monkeypatch.context() as read_only:
        _failing_writes(read_only, cli_env.data_dir, errno.EROFS)
        code, out, err = _cli(capsys, "models", *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "read-only file system" in err.lower()
    assert _snapshot(cli_env.data_dir) == before
    # Reading still works on a read-only store.
    code, out, _ = _cli(capsys, "models", "list", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [model_id]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes through chmod; the simulated EROFS test covers root")
def test_changes_on_a_chmod_read_only_data_folder(cli_env, capsys, card):
    model_id = cli_env.add(card, check=False)
    for folder in (cli_env.data_dir, cli_env.models_dir):
        folder.chmod(0o555)
    try:
        for argv in (("add", str(card), "--no-check"), ("remove", model_id),
                     ("default", model_id)):
            code, _, err = _cli(capsys, "models", *argv)
            assert code == 2 and err.count("\n") == 1 and "permission denied" in err.lower()
    finally:
        for folder in (cli_env.data_dir, cli_env.models_dir):
            folder.chmod(0o755)
    assert cli_env.ids() == [model_id]


# --- symlinked entries ----------------------------------------------------------------------------
def test_removing_a_symlinked_entry_removes_the_link_only(cli_env, capsys, card, tmp_path):
    outside = tmp_path / "my-model-in-development"
    shutil.copytree(card.parent, outside)
    cli_env.models_dir.mkdir(parents=True)
    os.symlink(outside, cli_env.models_dir / "dev")
    code, out, _ = _cli(capsys, "models", "list", "--json")
    assert [r["id"] for r in json.loads(out)] == ["dev"]
    code, out, err = _cli(capsys, "models", "default", "dev")
    assert code == 0 and out.strip() == "dev"
    code, out, err = _cli(capsys, "models", "remove", "dev")
    assert code == 0 and "was a link" in out and err == ""
    assert not os.path.lexists(cli_env.models_dir / "dev")
    assert sorted(p.name for p in outside.iterdir()) == ["card.toml", "model.pt"]  # untouched
    assert cli_env.default_id() is None


@pytest.mark.parametrize("target", ["nowhere", "loop"])
def test_dangling_and_looping_entries(cli_env, capsys, card, target):
    cli_env.models_dir.mkdir(parents=True)
    os.symlink(target, cli_env.models_dir / "loop" if target == "loop" else
               cli_env.models_dir / "quick-draw-cnn")
    code, out, _ = _cli(capsys, "models", "list", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, err = _cli(capsys, "models", "add", str(card), "--no-check")
    assert code == 0 and out.strip() in ("quick-draw-cnn", "quick-draw-cnn-2")
    assert (cli_env.models_dir / out.strip() / "card.toml").is_file()
    for name in ("loop", "quick-draw-cnn") if target == "loop" else ():
        code, _, err = _cli(capsys, "models", "remove", name if name == "loop" else "nope")
        assert code == 2 and err.count("\n") == 1 and "no model" in err


def test_a_symlinked_models_folder_and_data_folder_work(tmp_path, card):
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "data")
    store = ModelStore(tmp_path / "data", builtin_dir=tmp_path / "no-builtins")
    model_id = store.add(card, check=False)
    store.set_default(model_id)
    assert (real / "models" / model_id / "card.toml").is_file()
    store.remove(model_id)
    assert store.ids() == [] and (tmp_path / "data").is_symlink()


# --- two processes at once ------------------------------------------------------------------------
def test_a_change_waits_for_the_lock_then_says_so_in_one_line(cli_env, capsys, card, monkeypatch):
    model_id = cli_env.add(card, check=False)
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 0.2)
    holder = filelock.FileLock(str(cli_env.data_dir / store_module.LOCK_FILENAME))
    with holder:   # another process is in the middle of a change
        for argv in (("default", model_id), ("remove", model_id),
                     ("add", str(card), "--no-check")):
            code, out, err = _cli(capsys, "models", *argv)
            assert code == 2 and out == "" and err.count("\n") == 1
            assert "another SketchStudio process" in err
    assert cli_env.ids() == [model_id] and cli_env.default_id() == model_id
    assert not list(cli_env.models_dir.glob(".adding-*"))


def test_concurrent_adds_get_distinct_ids(store, card):
    n = 8
    start = threading.Barrier(n)
    ids, errors = [], []

    def add():
        other = ModelStore(store.data_dir, builtin_dir=store.builtin_dir)  # as another process
        start.wait()
        try:
            ids.append(other.add(card, check=False))
        except Exception as exc:   # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=add) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == n and sorted(store.ids()) == sorted(ids)


def test_two_processes_adding_and_removing_at_once(tmp_path, card):
    env = {**os.environ, "SKETCHSTUDIO_DATA_DIR": str(tmp_path / "data"),
           "SKETCHSTUDIO_BUILTIN_MODELS": str(tmp_path / "no-builtins")}
    store = ModelStore(tmp_path / "data", builtin_dir=tmp_path / "no-builtins")
    existing = [store.add(card, check=False) for _ in range(2)]
    command = [sys.executable, "-m", "sketchstudio.cli", "models"]
    procs = [subprocess.Popen(command + ["add", str(card), "--no-check"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    procs += [subprocess.Popen(command + ["remove", model_id], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for model_id in existing]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    added = [out.strip() for out, _ in outputs[:2]]
    assert len(set(added)) == 2 and sorted(store.ids()) == sorted(added)
    assert not [p.name for p in store.models_dir.iterdir() if p.name.startswith(".")]


# --- a damaged or hostile settings file -----------------------------------------------------------
@pytest.mark.parametrize("content", [
    "default_model = " + "9" * 5000,                      # an integer of over 4,300 digits
    "x = " + "[" * 100_000 + "]" * 100_000,                # nested too deep for the parser
    "big = 0x" + "f" * 5000,                               # parses, cannot be written back
    "default_model = [",
])
def test_a_damaged_settings_file_is_set_aside_not_overwritten(cli_env, capsys, card, content):
    model_id = cli_env.add(card, check=False)
    settings = cli_env.data_dir / "settings.toml"
    settings.write_text(content)
    code, out, _ = _cli(capsys, "models", "list")
    assert code == 0 and model_id in out
    code, out, err = _cli(capsys, "models", "default", model_id)
    assert code == 0 and out.strip() == model_id, err
    aside = list(cli_env.data_dir.glob("settings.toml.damaged-*"))
    assert len(aside) == 1 and aside[0].read_text() == content      # nothing lost
    assert cli_env.default_id() == model_id


def test_a_fifo_settings_file_never_blocks(cli_env, capsys, card):
    model_id = cli_env.add(card, check=False)
    cli_env.data_dir.mkdir(parents=True, exist_ok=True)
    os.mkfifo(cli_env.data_dir / "settings.toml")
    done = {}

    def run():
        done["list"] = _cli(capsys, "models", "list")
        done["default"] = _cli(capsys, "models", "default", model_id)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(120)
    if worker.is_alive():
        os.close(os.open(cli_env.data_dir / "settings.toml", os.O_WRONLY))
        pytest.fail("a FIFO settings file blocked the command")
    assert done["list"][0] == 0 and done["default"][0] == 0
    assert (cli_env.data_dir / "settings.toml").is_file()
    assert cli_env.default_id() == model_id


def test_a_symlinked_lock_file_is_never_followed(cli_env, capsys, card, tmp_path):
    model_id = cli_env.add(card, check=False)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    lock = cli_env.data_dir / store_module.LOCK_FILENAME
    lock.unlink()
    os.symlink(precious, lock)
    code, out, err = _cli(capsys, "models", "default", model_id)
    assert code == 2 and out == "" and err.count("\n") == 1 and "symbolic link" in err
    assert precious.read_text() == "keep me"
