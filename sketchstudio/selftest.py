"""`sketchstudio --self-test`: can this installation (source tree or frozen app) do its job?

Offscreen, with a throw-away data directory, the studio loads the built-in default model, opens a
demo sketch shipped in resources/demo, waits for the first explanation and saves a picture of the
window into a temporary folder. It ends with one line: what passed, or what failed (exit 0 / 2).

This module holds the Qt-free part: finding the shipped resources, the isolated environment, and
checking the picture. The studio (studio/app.py) runs the window in between.
"""
from __future__ import annotations

import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .models import paths

DEMO = "house.json"
MODEL_ID = "default"
# The studio's --screenshot refuses smaller windows; a PNG smaller than this was not the window.
MIN_SIZE = (1000, 650)
SCREENSHOT = "self-test.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class SelfTestError(Exception):
    """Why the self-test cannot run or did not pass, in one line."""


def demo_dir() -> Path:
    return paths.resources_dir() / "demo"


def demo_sketches() -> list[Path]:
    """The demo drawings that ship with SketchStudio (empty if resources/demo is missing)."""
    folder = demo_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _where() -> str:
    return "the frozen app" if getattr(sys, "frozen", False) else "the source tree"


@dataclass(frozen=True)
class Plan:
    folder: Path       # the temporary folder: the picture, and the throw-away data directory
    sketch: Path
    model: str
    screenshot: Path

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"


def prepare(folder: Path | None = None) -> Plan:
    """Check that the shipped resources are there; make the temporary folder."""
    card = paths.builtin_models_dir() / MODEL_ID / "card.toml"
    if not card.is_file():
        raise SelfTestError(f"the default model is missing from {_where()}: no {card}")
    sketch = demo_dir() / DEMO
    if not sketch.is_file():
        raise SelfTestError(f"the demo sketches are missing from {_where()}: no {sketch}")
    folder = Path(folder) if folder is not None else Path(
        tempfile.mkdtemp(prefix="sketchstudio-self-test-"))
    folder.mkdir(parents=True, exist_ok=True)
    return Plan(folder, sketch, MODEL_ID, folder / SCREENSHOT)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header, without Qt or Pillow."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError as exc:
        raise SelfTestError(f"no screenshot was written ({exc.strerror}: {path})") from None
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        raise SelfTestError(f"the screenshot is not a PNG image: {path}")
    return struct.unpack(">II", head[16:24])


def check_screenshot(path: Path) -> tuple[int, int]:
    width, height = png_size(path)
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        raise SelfTestError(f"the screenshot is only {width}x{height} pixels: {path}")
    return width, height


def one_line(exc: BaseException, limit: int = 400) -> str:
    """`Kind: message` on one line (numpy's ImportError, for one, spans a dozen lines)."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def run(args: Any, studio: Callable[[Any], int]) -> int:
    """Point the studio's parsed arguments at the demo, run `studio(args)`, check, print one line.

    Everything that goes wrong becomes one line on stderr and exit status 2: the self-test is what
    an installer or a CI job runs, and a traceback there says less than the line does.
    """
    started = time.perf_counter()
    try:
        plan = prepare()
    except SelfTestError as exc:
        print(f"sketchstudio: self-test failed: {exc}", file=sys.stderr)
        return 2
    # Neither read nor write the user's model store or settings (--screenshot already keeps
    # QSettings in memory); the default model is found among the built-in ones.
    os.environ[paths.DATA_DIR_ENV] = str(plan.data_dir)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args.open, args.index, args.model = str(plan.sketch), None, plan.model
    args.method, args.screenshot = None, str(plan.screenshot)
    try:
        code = studio(args)
    except Exception as exc:  # noqa: BLE001 (the one place where any failure is a message)
        print(f"sketchstudio: self-test failed: {one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(plan.data_dir, ignore_errors=True)
    if code != 0:
        return int(code)   # the studio has printed its one line ("sketchstudio: error: ...")
    try:
        width, height = check_screenshot(plan.screenshot)
    except SelfTestError as exc:
        print(f"sketchstudio: self-test failed: {exc}", file=sys.stderr)
        return 2
    print(f"sketchstudio: self-test passed ({_where()}): the default model explained "
          f"{plan.sketch.name} in {time.perf_counter() - started:.1f} s; "
          f"screenshot {width}x{height} at {plan.screenshot}")
    return 0
