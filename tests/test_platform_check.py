"""The first-run check that names the libraries Qt's xcb plugin lacks, before Qt aborts."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sketchstudio.studio import platform_check as pc

# What `ldd libqxcb.so` printed on a bare Debian 12 machine (Qt blamed only xcb-cursor0 there).
BARE_DEBIAN_LDD = """\
\tlinux-vdso.so.1 (0x00007fb5ad7c4000)
\tlibQt6XcbQpa.so.6 => /x/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007fb5ad6f6000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007fb5ad60b000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007fb5ad603000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
"""


def test_missing_libraries_are_read_from_ldd_once_each_in_order():
    assert pc.missing_from_ldd(BARE_DEBIAN_LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_the_message_names_every_missing_library_and_its_debian_package():
    message = pc.explain_missing(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "libxcb-icccm.so.4" in message and "libxcb-keysyms.so.1" in message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in message
    assert "README" in message


@pytest.mark.parametrize("environ, expected", [
    ({"DISPLAY": ":0"}, True),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, False),
    ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, False),
    ({}, False),
])
def test_only_an_xcb_start_is_checked(environ, expected):
    assert pc.will_use_xcb(environ, platform="linux") is expected
    assert pc.will_use_xcb(environ, platform="darwin") is False


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("ldd") is None,
                    reason="needs gcc and ldd to build a plugin with a missing dependency")
def test_a_plugin_whose_dependency_is_gone_is_reported(tmp_path: Path):
    # A stand-in "libqxcb.so" linked against a library that is then deleted: exactly what the
    # dynamic linker sees when a Debian package is missing.
    build = tmp_path / "build"
    build.mkdir()
    (build / "dep.c").write_text("int sketchstudio_dep(void) { return 1; }\n")
    (build / "plugin.c").write_text("int sketchstudio_dep(void);\n"
                                    "int plugin(void) { return sketchstudio_dep(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(build / "libsketchdep.so.1"),
                    "-Wl,-soname,libsketchdep.so.1", str(build / "dep.c")], check=True)
    platforms = tmp_path / "Qt" / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(platforms / "libqxcb.so"),
                    str(build / "plugin.c"), str(build / "libsketchdep.so.1")], check=True)
    (build / "libsketchdep.so.1").unlink()
    missing = pc.missing_xcb_libraries(tmp_path / "Qt")
    assert "libsketchdep.so.1" in missing
    assert "libsketchdep.so.1" in pc.explain_missing(missing)


def test_nothing_is_reported_when_qt_is_not_asked_for_xcb():
    assert pc.check_before_qt({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_the_studio_prints_the_missing_libraries_and_exits_before_qt_starts(monkeypatch, capsys):
    from sketchstudio.studio import app

    message = pc.explain_missing(["libxcb-icccm.so.4"])
    monkeypatch.setattr(app, "check_before_qt", lambda: message)

    def no_qt(*_args):
        raise AssertionError("Qt was started although the window cannot open")

    monkeypatch.setattr(app, "_application", no_qt)
    assert app.main([]) == 3
    assert "sudo apt install libxcb-icccm4" in capsys.readouterr().err


def test_version_is_printed_without_starting_anything(capsys):
    import sketchstudio
    from sketchstudio import cli

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sketchstudio {sketchstudio.__version__}"
