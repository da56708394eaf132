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
DAMAGED_SUFFIX = ".damaged-"     # a file of the data folder set aside: no reader looks at it


def damaged_path(path: Path) -> Path:
    """A free name to set `path` aside under: `<name>.damaged-<YYYYmmdd-HHMMSS>[-n]`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}")
    n = 1
    while os.path.lexists(target):
        n += 1
        target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}-{n}")
    return target


def _load(path: Path) -> tuple[dict[str, Any], str | None]:
    """(the settings, why a file that is there cannot be used, or None).

    A damaged settings file must not stop the app from starting: its readers fall back to
    defaults. Only a regular file is opened (a FIFO named settings.toml would block every command).
    """
    if not os.path.lexists(path):
        return {}, None
    try:
        settings = tomllib.loads(read_small_file(path, SETTINGS_LIMIT, "settings file")
                                 .decode("utf-8"))
        tomli_w.dumps(settings)   # what cannot be written back (a 5,000-digit hex int) is damage
        return settings, None
    except RecursionError:        # arrays or tables nested thousands deep
        return {}, "nested too deeply"
    except UserError as exc:      # not a regular file, too big, a name the system refuses
        return {}, str(exc).removeprefix(f"{path}: ")
    except (ValueError, OSError, MemoryError) as exc:
        # ValueError covers TOMLDecodeError, bad UTF-8 and integers of over 4,300 digits.
        return {}, str(exc) or type(exc).__name__


def settings_problem(path: Path) -> str | None:
    """Why the settings file at `path` cannot be used, or None (also when there is none)."""
    return _load(path)[1]


def read_settings(data_dir: Path) -> dict[str, Any]:
    return _load(data_dir / SETTINGS_FILENAME)[0]


def write_settings(data_dir: Path, settings: dict[str, Any]) -> None:
    """Atomic replace, so a crash never leaves a half-written file behind."""
    from ..fsutil import write_atomically

    data_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(data_dir / SETTINGS_FILENAME, lambda file: tomli_w.dump(settings, file))


def update_settings(data_dir: Path, **changes: Any) -> None:
    """Set keys (a value of None removes the key), keeping everything else.

    A damaged settings file is renamed aside first (as the studio does at launch), never
    overwritten: its other keys may still matter to whoever repairs it. OSError if that fails."""
    path = data_dir / SETTINGS_FILENAME
    settings, problem = _load(path)
    if problem is not None:
        os.rename(path, damaged_path(path))
    for key, value in changes.items():
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
    write_settings(data_dir, settings)
