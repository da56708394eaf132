"""The small settings file in the data directory (TOML), read and written whole.

Only `default_model` is used here; other keys written by other parts of SketchStudio are kept.
"""
from __future__ import annotations

import os
import time
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from ..errors import UserError
from .small_file import read_small_file

SETTINGS_FILENAME = "settings.toml"
SETTINGS_LIMIT = 1024 * 1024     # a few short keys; anything this big was not written by us
DAMAGED_SUFFIX = ".damaged-"     # the studio's name for a file set aside (studio/damaged.py)


def _load(path: Path) -> tuple[dict[str, Any], bool]:
    """(the settings, whether a file is there that cannot be used)."""
    try:
        # Only a regular file is opened (a FIFO named settings.toml would block every command).
        settings = tomllib.loads(read_small_file(path, SETTINGS_LIMIT, "settings file")
                                 .decode("utf-8"))
        tomli_w.dumps(settings)   # what cannot be written back (a 5,000-digit hex int) is damage
        return settings, False
    except (ValueError, RecursionError, OSError, UserError):
        # A damaged settings file must not stop the app from starting: fall back to defaults.
        # ValueError covers TOMLDecodeError, bad UTF-8 and integers of over 4,300 digits;
        # RecursionError, arrays or tables nested thousands deep.
        return {}, os.path.lexists(path)


def read_settings(data_dir: Path) -> dict[str, Any]:
    return _load(data_dir / SETTINGS_FILENAME)[0]


def write_settings(data_dir: Path, settings: dict[str, Any]) -> None:
    """Atomic replace, so a crash never leaves a half-written file behind."""
    from ..sketch.io import write_atomically

    data_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(data_dir / SETTINGS_FILENAME, lambda file: tomli_w.dump(settings, file))


def update_settings(data_dir: Path, **changes: Any) -> None:
    """Set keys (a value of None removes the key), keeping everything else.

    A damaged settings file is renamed aside first (as the studio does at launch), never
    overwritten: its other keys may still matter to whoever repairs it. OSError if that fails."""
    path = data_dir / SETTINGS_FILENAME
    settings, damaged = _load(path)
    if damaged:
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        os.rename(path, path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}"))
    for key, value in changes.items():
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
    write_settings(data_dir, settings)
