"""The model store: built-in models shipped in resources/models/<id>/ plus the user's own models,
copied into <data dir>/models/<id>/ (card.toml + model file). Reading is catalogue.py's; this
module adds the changes, and adding a model runs checks.py first.

Built-ins are listed in place, never copied, and cannot be removed; a built-in whose folder is
missing is simply not listed. Every operation reads the disk afresh, so two ModelStore objects (or
two processes) over the same folder always agree.

Changes (add, remove, default) hold a lock file in the data directory while they choose an id,
rename folders and rewrite the settings, so two processes never pick the same id or lose each
other's change; each change is one rename, so a full disk, a read-only folder or a crash leaves the
store as it was, and the failure is one line.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ..errors import UserError
from .card import CARD_FILENAME, load_card
from .catalogue import DEFAULT_KEY, ModelCatalogue, children_of
from .settings import read_settings, update_settings
from .small_file import path_problem

LOCK_FILENAME = ".models.lock"   # in the data directory; never deleted (deleting one races)
# Another process holds the lock only for renames and a settings write (copies happen before),
# so waiting this long means it is stuck, not busy.
LOCK_TIMEOUT_S = 30.0


class ModelStore(ModelCatalogue):
    """The catalogue plus its changes: add (checked), remove, choose the default."""

    # --- writing -------------------------------------------------------------------------------
    def set_default(self, model_id: str) -> None:
        with self._locked():
            self.entry(model_id)  # must exist
            self._update_settings(**{DEFAULT_KEY: model_id})

    def add(self, source: str | Path, *, check: bool = True, device: Any = None) -> str:
        """Validate a card (and, with `check`, run every model check), copy card + model in.

        Returns the new id, slugged from the card's name and made unique.
        """
        card = load_card(source)
        if check:
            # The checks run the model (torch): imported here, so listing the store stays cheap.
            from .checks import run_checks

            failed = [r for r in run_checks(card, device=device) if not r.ok]
            if failed:
                raise UserError(f"{card.path}: not added: check {failed[0].name!r} failed: "
                                f"{failed[0].detail}")
        # Build the copy beside its final place, then rename: a crash never leaves half a model.
        # (mkdir, not mkdtemp: the folder gets the usual permissions, not 0700.) The copy is made
        # before taking the lock, which is held only for choosing the id and the rename.
        staging = self.models_dir / f".adding-{uuid.uuid4().hex}"
        try:
            self.models_dir.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
        except OSError as exc:
            raise self._cannot_change(exc) from None
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
            with self._locked():
                model_id = self._unique_id(slugify(card.name))
                os.rename(staging, self.models_dir / model_id)
        except OSError as exc:   # a full disk, a read-only folder: nothing was added
            shutil.rmtree(staging, ignore_errors=True)
            raise self._cannot_change(exc) from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return model_id

    def remove(self, model_id: str) -> str | None:
        """Remove a user model. Returns a note when the entry was a symbolic link: only the link
        goes, never the files it points at (they were not copied into the store by us)."""
        with self._locked():
            entry = self.entry(model_id)
            if entry.builtin:
                raise UserError(f"{model_id!r} is a built-in model and cannot be removed")
            folder = entry.card_path.parent
            note = None
            if os.path.islink(folder):
                note = f"{folder} was a link; the folder it pointed at was left in place"
            # One rename takes the model out of the store (a link is renamed as a link); only then
            # are its files deleted, so a failure leaves either the whole model or none of it.
            trash = self.models_dir / f".removing-{uuid.uuid4().hex}"
            try:
                os.rename(folder, trash)
            except OSError as exc:
                raise self._cannot_change(exc) from None
            try:
                if read_settings(self.data_dir).get(DEFAULT_KEY) == model_id:
                    self._update_settings(**{DEFAULT_KEY: None})
            except BaseException:
                with contextlib.suppress(OSError):
                    os.rename(trash, folder)   # put it back: the store is as it was
                raise
        _discard(trash)
        return note

    # --- helpers for changes -------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The store's lock, or one line saying why it cannot be had."""
        # filelock: a dependency of torch; flock on POSIX, LockFileEx on Windows. Imported here:
        # only changes need it, and it takes a tenth of a second to import.
        import filelock

        lock_path = self.data_dir / LOCK_FILENAME
        if os.path.islink(lock_path):   # filelock will not follow it (O_NOFOLLOW): say why
            raise UserError(f"{lock_path}: the model store's lock file is a symbolic link; "
                            f"remove it (SketchStudio makes a new one)")
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            lock = filelock.FileLock(str(lock_path), timeout=LOCK_TIMEOUT_S)
            lock.acquire()
        except filelock.Timeout:
            raise UserError(f"{lock_path}: another SketchStudio process has been changing the "
                            f"model store for over {LOCK_TIMEOUT_S:g} s; try again when it is "
                            f"done") from None
        except OSError as exc:
            raise self._cannot_change(exc) from None
        try:
            for leftover in children_of(self.models_dir):   # removals that were cut short
                if leftover.name.startswith(".removing-"):
                    _discard(leftover)
            yield
        finally:
            lock.release()

    def _update_settings(self, **changes: Any) -> None:
        try:
            update_settings(self.data_dir, **changes)
        except OSError as exc:   # the previous settings file is left as it was
            raise self._cannot_change(exc) from None

    def _cannot_change(self, exc: OSError) -> UserError:
        # The data folder, not the file that failed (often a hidden staging folder's).
        return UserError(f"{self.data_dir}: cannot change the model store: {path_problem(exc)}")

    def _unique_id(self, base: str) -> str:
        # Any leftover folder blocks the rename too, card or not.
        taken = set(self.ids()) | {c.name for c in children_of(self.models_dir)}
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


def _discard(path: Path) -> None:
    """Delete what a removal renamed aside: a link as a link, a folder with what it holds.
    Best effort: a hidden leftover (.removing-...) is never listed; the next change sweeps it."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


def _relative_parts(file_name: str) -> tuple[str, ...]:
    """The card's `file` as path parts (already checked to be relative and free of '..')."""
    pure = PureWindowsPath(file_name) if "\\" in file_name else PurePosixPath(file_name)
    parts = pure.parts
    return tuple(p for p in parts if p not in ("", "."))
