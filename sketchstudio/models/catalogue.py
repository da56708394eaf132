"""The model catalogue: which models exist and where their cards are, read from the disk afresh
on every call: built-ins shipped in resources/models/<id>/ plus the user's own models in
<data dir>/models/<id>/. Loading and checking a model build on this; changing the store
(store.py) builds on those, so the three never import each other in a loop.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from . import paths
from .card import CARD_FILENAME, ModelCard, card_path_of, load_card
from .settings import read_settings
from .small_file import is_regular_file, path_problem

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DEFAULT_ID = "default"
DEFAULT_KEY = "default_model"


@dataclass(frozen=True)
class StoreEntry:
    id: str
    card_path: Path
    builtin: bool

    def card(self) -> ModelCard:
        return load_card(self.card_path)


class ModelCatalogue:
    """Read-only view of the store's folders (ModelStore adds the changes)."""

    def __init__(self, data_dir: str | Path | None = None,
                 builtin_dir: str | Path | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else paths.data_dir()
        self.builtin_dir = (Path(builtin_dir) if builtin_dir is not None
                            else paths.builtin_models_dir())

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    # --- reading -------------------------------------------------------------------------------
    def entries(self) -> list[StoreEntry]:
        """Built-ins first, then the user's models, each sorted by id."""
        builtins = _model_folders(self.builtin_dir)
        user = [i for i in _model_folders(self.models_dir) if i not in builtins]
        return ([StoreEntry(i, self.builtin_dir / i / CARD_FILENAME, True) for i in builtins]
                + [StoreEntry(i, self.models_dir / i / CARD_FILENAME, False) for i in user])

    def ids(self) -> list[str]:
        return [e.id for e in self.entries()]

    def entry(self, model_id: str) -> StoreEntry:
        for e in self.entries():
            if e.id == model_id:
                return e
        known = ", ".join(self.ids()) or "none"
        raise UserError(f"no model {model_id!r} in the store (known: {known})")

    def resolve(self, name_or_path: str | Path | None) -> tuple[str, Path]:
        """A store id, a card file or a folder with card.toml -> (id, card path).

        A bare word is a store id; anything that looks like a path (a separator, a .toml suffix)
        or names an existing file is a path. None or "" means the default model.
        """
        text = "" if name_or_path is None else str(name_or_path)
        if not text:
            default = self.default_id()
            if default is None:
                raise UserError("no models in the store; "
                                "add one with `sketchstudio models add CARD`")
            return default, self.entry(default).card_path
        looks_like_path = (isinstance(name_or_path, Path) or "/" in text or os.sep in text
                           or text.endswith(".toml"))
        if not looks_like_path and ID_PATTERN.fullmatch(text) and text in self.ids():
            return text, self.entry(text).card_path
        if looks_like_path or _lexists(text):
            card = card_path_of(text)
            problem = _lstat_problem(card)
            if problem is not None:
                raise UserError(f"{card}: model card {problem}" if problem == "not found" else
                                f"{card}: cannot read the model card: {problem}")
            return card.parent.name, card
        return text, self.entry(text).card_path  # raises, listing the known ids

    def default_id(self) -> str | None:
        ids = self.ids()
        chosen = read_settings(self.data_dir).get(DEFAULT_KEY)
        if isinstance(chosen, str) and chosen in ids:
            return chosen
        if DEFAULT_ID in ids:
            return DEFAULT_ID
        return ids[0] if ids else None


def children_of(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:   # missing, not a folder, a symlink loop, unreadable: nothing to list
        return []


def _model_folders(folder: Path) -> list[str]:
    """Sub-folders named like an id that hold a card.toml (staging folders, stray files ignored)."""
    return [c.name for c in children_of(folder)
            if ID_PATTERN.fullmatch(c.name) and is_regular_file(c / CARD_FILENAME)]


def _lexists(path: str | Path) -> bool:
    """Whether anything (even a dangling or looping link) has this name; False for a name the
    system refuses (too long, NUL)."""
    return _lstat_problem(path) is None


def _lstat_problem(path: str | Path) -> str | None:
    """None when something has this name, else why not ("not found", "file name too long", ...)."""
    try:
        if "\0" in str(path):
            raise ValueError("embedded null byte")
        os.lstat(path)
    except (OSError, ValueError) as exc:
        return path_problem(exc)
    return None
