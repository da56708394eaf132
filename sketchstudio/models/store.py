"""The model store: built-in models shipped in resources/models/<id>/ plus the user's own models,
copied into <data dir>/models/<id>/ (card.toml + model file).

Built-ins are listed in place, never copied, and cannot be removed; a built-in whose folder is
missing is simply not listed. Every operation reads the disk afresh, so two ModelStore objects (or
two processes) over the same folder always agree.
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import UserError
from . import paths
from .card import CARD_FILENAME, ModelCard, card_path_of, load_card
from .settings import read_settings, update_settings

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


class ModelStore:
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
        if looks_like_path or Path(text).exists():
            card = card_path_of(text)
            if not card.exists():
                raise UserError(f"{card}: model card not found")
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

    # --- writing -------------------------------------------------------------------------------
    def set_default(self, model_id: str) -> None:
        self.entry(model_id)  # must exist
        update_settings(self.data_dir, **{DEFAULT_KEY: model_id})

    def add(self, source: str | Path, *, check: bool = True, device=None) -> str:
        """Validate a card (and, with `check`, run every model check), copy card + model in.

        Returns the new id, slugged from the card's name and made unique.
        """
        card = load_card(source)
        if check:
            from .checks import run_checks

            failed = [r for r in run_checks(card, device=device) if not r.ok]
            if failed:
                raise UserError(f"{card.path}: not added: check {failed[0].name!r} failed: "
                                f"{failed[0].detail}")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        # Build the copy beside its final place, then rename: a crash never leaves half a model.
        # (mkdir, not mkdtemp: the folder gets the usual permissions, not 0700.)
        staging = self.models_dir / f".adding-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            shutil.copyfile(card.path, staging / CARD_FILENAME)
            target = staging.joinpath(*_relative_parts(card.file_name))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(card.file, target)
            if card.gallery_file is not None:  # a two-tower embed model's image encoder
                target = staging.joinpath(*_relative_parts(card.gallery_file_name))
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(card.gallery_file, target)
            load_card(staging)  # the copy must be exactly as valid as the original
            model_id = self._unique_id(slugify(card.name))
            os.rename(staging, self.models_dir / model_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return model_id

    def remove(self, model_id: str) -> None:
        entry = self.entry(model_id)
        if entry.builtin:
            raise UserError(f"{model_id!r} is a built-in model and cannot be removed")
        shutil.rmtree(entry.card_path.parent)
        if read_settings(self.data_dir).get(DEFAULT_KEY) == model_id:
            update_settings(self.data_dir, **{DEFAULT_KEY: None})

    def _unique_id(self, base: str) -> str:
        # Any leftover folder blocks the rename too, card or not.
        taken = set(self.ids()) | {c.name for c in _children(self.models_dir)}
        candidate, n = base, 2
        while candidate in taken:
            suffix = f"-{n}"
            candidate = base[:64 - len(suffix)] + suffix
            n += 1
        return candidate


def slugify(name: str) -> str:
    """"Quick, Draw! CNN" -> "quick-draw-cnn": lowercase ASCII letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:48].strip("-") or "model"


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _model_folders(folder: Path) -> list[str]:
    """Sub-folders named like an id that hold a card.toml (staging folders, stray files ignored)."""
    return [c.name for c in _children(folder)
            if ID_PATTERN.fullmatch(c.name) and (c / CARD_FILENAME).is_file()]


def _relative_parts(file_name: str) -> tuple[str, ...]:
    """The card's `file` as path parts (already checked to be relative and free of '..')."""
    pure = PureWindowsPath(file_name) if "\\" in file_name else PurePosixPath(file_name)
    parts = pure.parts
    return tuple(p for p in parts if p not in ("", "."))
