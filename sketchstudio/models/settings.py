"""The small settings file in the data directory (TOML), read and written whole.

Only `default_model` is used here; other keys written by other parts of SketchStudio are kept.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

SETTINGS_FILENAME = "settings.toml"


def read_settings(data_dir: Path) -> dict[str, Any]:
    path = data_dir / SETTINGS_FILENAME
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        # A damaged settings file must not stop the app from starting: fall back to defaults.
        return {}


def write_settings(data_dir: Path, settings: dict[str, Any]) -> None:
    """Atomic replace, so a crash never leaves a half-written file behind."""
    from ..sketch.io import write_atomically

    data_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(data_dir / SETTINGS_FILENAME, lambda file: tomli_w.dump(settings, file))


def update_settings(data_dir: Path, **changes: Any) -> None:
    """Set keys (a value of None removes the key), keeping everything else."""
    settings = read_settings(data_dir)
    for key, value in changes.items():
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
    write_settings(data_dir, settings)
