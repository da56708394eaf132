"""Reliability, item 5: the studio and the CLI open no network connections.

Each main path runs in a fresh interpreter behind an audit hook (PEP 578) that refuses — and logs
— every attempt to create an internet socket, connect, bind, send or resolve a name. At exit the
process's open file descriptors are also matched against the kernel's TCP/UDP tables (Linux), which
catches sockets opened from C++ (Qt, torch) that the Python hook cannot see.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import model_zoo
import pytest
from qt_helpers import house

from sketchstudio.sketch.formats import Document
from sketchstudio.sketch.io import save_document, save_sketches

pytestmark = pytest.mark.slow  # subprocesses

PROJECT = Path(__file__).resolve().parents[1]

GUARD = textwrap.dedent('''
    import atexit, os, socket, sys

    LOG = os.environ["NET_LOG"]
    INTERNET = (socket.AF_INET, socket.AF_INET6)
    EVENTS = ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
              "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
              "socket.getnameinfo", "http.client.connect", "urllib.Request", "ftplib.connect",
              "smtplib.connect", "webbrowser.open")

    def note(text):
        with open(LOG, "a") as f:
            f.write(text + "\\n")

    def hook(event, args):
        if event == "socket.__new__":
            if args[1] in INTERNET:
                note(f"{event} family={args[1]}")
                raise OSError("network access is blocked in this test")
        elif event in EVENTS:
            sock = args[0] if args and isinstance(args[0], socket.socket) else None
            if sock is not None and sock.family not in INTERNET:
                return      # local (AF_UNIX) sockets are not the network
            note(f"{event} {args[1:]!r}"[:300])
            raise OSError("network access is blocked in this test")

    def internet_sockets_left_open():
        if not os.path.isdir("/proc/self/fd"):
            return
        inodes = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        for table in ("tcp", "tcp6", "udp", "udp6"):
            try:
                rows = open(f"/proc/self/net/{table}").read().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                fields = row.split()
                if len(fields) > 9 and fields[9] in inodes:
                    note(f"open {table} socket {fields[1]} -> {fields[2]}")

    sys.addaudithook(hook)
    atexit.register(internet_sockets_left_open)
    if os.environ.get("NET_PROBE"):     # proves the guard sees what it must refuse
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        except OSError:
            pass
    from sketchstudio.cli import main
    code = main(sys.argv[1:])
    internet_sockets_left_open()
    sys.exit(code)
''')


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("offline")
    (root / "guard.py").write_text(GUARD)
    card = model_zoo.make_model(root / "model")
    drawing = root / "house.json"
    save_document(drawing, Document(house()))
    save_sketches(root / "many.ndjson", [house(), house().remove_strokes([0])])
    return root, card, drawing


def _offline(setup, *argv: str, timeout: int = 240, probe: bool = False) -> str:
    root, _card, _drawing = setup
    log = root / f"net-{abs(hash(argv))}.log"
    log.unlink(missing_ok=True)
    env = dict(os.environ, NET_LOG=str(log), NET_PROBE="1" if probe else "",
               QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(PROJECT),
               SKETCHSTUDIO_DATA_DIR=str(root / "data"), XDG_CONFIG_HOME=str(root / "config"),
               SKETCHSTUDIO_BUILTIN_MODELS=str(root / "no-builtins"))
    result = subprocess.run([sys.executable, str(root / "guard.py"), *argv], env=env, cwd=root,
                            capture_output=True, text=True, timeout=timeout)
    attempts = log.read_text() if log.exists() else ""
    assert attempts == "", f"network use by {argv}:\n{attempts}"
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_guard_catches_a_connection(setup):
    with pytest.raises(AssertionError, match="socket"):
        _offline(setup, "info", str(setup[0] / "many.ndjson"), probe=True)


def test_cli_info_and_convert_stay_offline(setup):
    root, _card, drawing = setup
    assert "strokes" in _offline(setup, "info", str(root / "many.ndjson"))
    _offline(setup, "convert", str(root / "many.ndjson"), str(root / "one.svg"), "--index", "1")
    _offline(setup, "convert", str(drawing), str(root / "house.png"))
    assert (root / "one.svg").exists() and (root / "house.png").exists()


def test_cli_explain_and_models_stay_offline(setup):
    root, card, drawing = setup
    out = _offline(setup, "--device", "cpu", "explain", str(drawing), "--model", str(card),
                   "--method", "sla", "--json")
    assert '"strokes"' in out
    _offline(setup, "--device", "cpu", "models", "check", str(card))
    _offline(setup, "--device", "cpu", "models", "add", str(card))
    assert "tiny-test-classifier" in _offline(setup, "models", "list")


def test_the_studio_stays_offline_while_it_explains(setup):
    root, card, drawing = setup
    shot = root / "studio.png"
    _offline(setup, "--device", "cpu", "--open", str(drawing), "--model", str(card),
             "--method", "sla", "--screenshot", str(shot))
    assert shot.stat().st_size > 10_000
