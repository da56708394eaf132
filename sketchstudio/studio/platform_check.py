"""Before Qt starts on Linux: can the xcb plugin load, and if not, which libraries are missing?

When the xcb plugin cannot load, Qt aborts the process with a message that names one guess
("xcb-cursor0 or libxcb-cursor0 is needed") however many libraries are actually missing, and
Python never gets control back. So before creating the QApplication we ask the dynamic linker
(`ldd`) what the plugin needs, and if anything is missing we print exactly which libraries and
which Debian/Ubuntu packages provide them, then exit cleanly.

No Qt import here: this runs before Qt is loaded.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Libraries the xcb plugin links against or opens at run time, and the Debian package of each.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
# Opened with dlopen by the plugin, so `ldd` never lists it: checked on its own.
RUNTIME_ONLY = ("libxcb-cursor.so.0",)

_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


def missing_from_ldd(ldd_output: str) -> list[str]:
    """The libraries `ldd` reports as "not found", each once, in the order first seen."""
    seen: list[str] = []
    for name in _NOT_FOUND.findall(ldd_output):
        if name not in seen:
            seen.append(name)
    return seen


def packages_for(libraries: list[str]) -> list[str]:
    """Debian/Ubuntu packages providing these libraries (the library's own name when unknown)."""
    packages: list[str] = []
    for library in libraries:
        package = DEBIAN_PACKAGES.get(library, library)
        if package not in packages:
            packages.append(package)
    return packages


def will_use_xcb(environ: dict[str, str] | os._Environ[str], platform: str = sys.platform) -> bool:
    """Whether Qt is about to load the xcb plugin (Linux, X display, no other platform asked)."""
    if not platform.startswith("linux"):
        return False
    requested = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if requested:
        return requested == "xcb"
    # With no request Qt 6 prefers Wayland in a Wayland session and falls back to xcb.
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def _qt_directory() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "Qt"


def _library_resolves(name: str) -> bool:
    ldconfig = shutil.which("ldconfig") or ("/sbin/ldconfig" if Path("/sbin/ldconfig").exists()
                                             else None)
    if ldconfig is None:
        return True  # cannot tell: say nothing rather than something wrong
    try:
        listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return True
    return f"{name} " in listing.stdout or listing.returncode != 0


def missing_xcb_libraries(qt_directory: Path | None = None) -> list[str]:
    """The libraries the xcb plugin needs and this system lacks; empty when it can load (or when
    there is no way to tell, e.g. no `ldd`)."""
    qt = qt_directory or _qt_directory()
    ldd = shutil.which("ldd")
    if qt is None or ldd is None:
        return []
    missing: list[str] = []
    for binary in (qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6"):
        if not binary.exists():
            continue
        try:
            result = subprocess.run([ldd, str(binary)], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        for name in missing_from_ldd(result.stdout):
            if name not in missing:
                missing.append(name)
    for name in RUNTIME_ONLY:
        if name not in missing and not _library_resolves(name):
            missing.append(name)
    return missing


def explain_missing(libraries: list[str]) -> str:
    packages = packages_for(libraries)
    return (
        "SketchStudio cannot open a window: Qt's X11 (xcb) platform plugin needs libraries this "
        f"system does not have: {', '.join(libraries)}.\n"
        f"On Debian or Ubuntu: sudo apt install {' '.join(packages)}\n"
        "See the README's \"Install\" section for the full list. Headless commands (`sketchstudio "
        "explain`, `audit`, ...) work without them.")


def check_before_qt(environ: dict[str, str] | os._Environ[str] | None = None) -> str | None:
    """None when the window can open; otherwise the message to print before exiting."""
    env = os.environ if environ is None else environ
    if not will_use_xcb(env):
        return None
    missing = missing_xcb_libraries()
    return explain_missing(missing) if missing else None
