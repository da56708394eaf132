"""The studio's persistent choices (QSettings, organisation "SketchStudio").

Typed accessors, so a damaged or foreign value falls back to the default instead of breaking the
window (QSettings hands back strings for everything on some platforms).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from .damaged import DamagedFiles

ORGANISATION = "SketchStudio"
APPLICATION = "SketchStudio"
MAX_RECENT = 8


def check_settings_file(data_dir: Path, damaged: DamagedFiles) -> None:
    """At launch, before anything reads it: set the data folder's settings file aside when it
    cannot be read or written back (broken TOML, nesting too deep for the parser, an integer of
    over 4,300 digits, not a regular file, too big). Its readers fall back to defaults then, and a
    new file is written by the next change of setting."""
    from ..models.settings import SETTINGS_FILENAME, settings_problem

    path = data_dir / SETTINGS_FILENAME
    problem = settings_problem(path)   # the readers' own test, so both agree on what is damage
    if problem is not None:
        damaged.set_aside(path, problem)


class MemorySettings:
    """The part of QSettings the studio uses, in memory: for runs that must neither read nor write
    the user's choices (--screenshot, tests)."""

    def __init__(self) -> None:
        self._values: dict = {}

    def value(self, key: str, default=None):
        return self._values.get(key, default)

    def setValue(self, key: str, value) -> None:  # noqa: N802 (QSettings' name)
        self._values[key] = value

    def sync(self) -> None:
        pass


class StudioSettings:
    def __init__(self, settings: QSettings | MemorySettings | None = None) -> None:
        self.q = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)

    def _str(self, key: str, default: str) -> str:
        value = self.q.value(key, default)
        return value if isinstance(value, str) else default

    def _bool(self, key: str, default: bool) -> bool:
        value = self.q.value(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return default

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.q.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    # --- choices ---------------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return self._str("explain/method", "live")

    @method.setter
    def method(self, value: str) -> None:
        self.q.setValue("explain/method", value)

    @property
    def live(self) -> bool:
        return self._bool("explain/live", True)

    @live.setter
    def live(self, value: bool) -> None:
        self.q.setValue("explain/live", bool(value))

    @property
    def show_heat(self) -> bool:
        return self._bool("view/heat", True)

    @show_heat.setter
    def show_heat(self, value: bool) -> None:
        self.q.setValue("view/heat", bool(value))

    @property
    def device(self) -> str:
        return self._str("model/device", "auto")

    @device.setter
    def device(self, value: str) -> None:
        self.q.setValue("model/device", value or "auto")

    @property
    def tool(self) -> str:
        return self._str("canvas/tool", "pen")

    @tool.setter
    def tool(self, value: str) -> None:
        self.q.setValue("canvas/tool", value)

    def last_dir(self, kind: str) -> str:
        return self._str(f"files/dir_{kind}", str(Path.home()))

    def set_last_dir(self, kind: str, path: str | Path) -> None:
        self.q.setValue(f"files/dir_{kind}", str(Path(path).parent))

    # --- recent files ----------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.q.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return []
        return [v for v in value if isinstance(v, str)][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> None:
        text = str(Path(path).absolute())
        items = [text] + [p for p in self.recent_files() if p != text]
        self.q.setValue("files/recent", items[:MAX_RECENT])

    def remove_recent(self, path: str) -> None:
        self.q.setValue("files/recent", [p for p in self.recent_files() if p != path])

    def clear_recent(self) -> None:
        self.q.setValue("files/recent", [])

    # --- window ----------------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def state(self) -> QByteArray | None:
        return self._bytes("window/state")

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def sync(self) -> None:
        self.q.sync()
