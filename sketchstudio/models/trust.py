"""Which model files from outside the store the user has already said they trust, by content.

A model is a program (see `safety.py`), so the studio asks once before importing a model file
that is not already in the store. The answer is remembered as the sha256 of the file's bytes:
renaming or copying the file does not ask again, changing one byte does. This module decides
whether to ask and keeps the list; asking is the caller's job (the studio shows a question, the
command line never asks: naming a model there is the confirmation).

The list is a small JSON file in the data directory (`trusted_models.json`), so it follows
$SKETCHSTUDIO_DATA_DIR like the store, and is shared by every front end. A damaged file is read
as an empty list (the user is asked again, nothing worse) and set aside, not overwritten, on the
next write.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..fsutil import file_sha256, write_atomically
from .card import load_card
from .catalogue import ModelCatalogue
from .paths import data_dir
from .small_file import read_small_file

TRUST_FILENAME = "trusted_models.json"
TRUST_LIMIT = 256 * 1024    # 200 digests are ~14 KB; a bigger file was not written by us
MAX_TRUSTED = 200           # the oldest answers are forgotten first (asked again, nothing worse)
_DIGEST = re.compile(r"[0-9a-f]{64}")


def is_digest(value: object) -> bool:
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


class TrustList:
    """The remembered digests, newest last, in `path` (default: <data dir>/trusted_models.json).

    Read on every call, written atomically: two studios recording at once may lose one answer
    (that file is asked about again), never the file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else data_dir() / TRUST_FILENAME

    def digests(self) -> list[str]:
        return self._read()[0]

    def __contains__(self, digest: object) -> bool:
        return digest in self._read()[0]

    def record(self, digest: str) -> None:
        """Remember `digest` (a sha256 hex string). OSError when the file cannot be written."""
        self.merge([digest])

    def merge(self, digests: Iterable[str]) -> int:
        """Remember several digests (an older list being migrated); returns how many were new.
        Values that are not sha256 hex strings are ignored."""
        known, problem = self._read()
        new = [d for d in dict.fromkeys(digests) if is_digest(d) and d not in known]
        if not new:
            return 0
        if problem is not None and os.path.lexists(self.path):
            from .settings import damaged_path

            os.replace(self.path, damaged_path(self.path))   # kept for whoever looks into it
        kept = (known + new)[-MAX_TRUSTED:]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"version": 1, "sha256": kept}, indent=1)
        write_atomically(self.path, lambda file: file.write(text.encode("utf-8")))
        return len(new)

    def _read(self) -> tuple[list[str], str | None]:
        """(the digests, why the file that is there cannot be used, or None)."""
        if not os.path.lexists(self.path):
            return [], None
        try:
            loaded = json.loads(read_small_file(self.path, TRUST_LIMIT, "trust list"))
        except (UserError, ValueError, RecursionError, OSError) as exc:
            return [], str(exc) or type(exc).__name__
        values = loaded.get("sha256") if isinstance(loaded, dict) else None
        if not isinstance(values, list):
            return [], "no 'sha256' list"
        return [v for v in values if is_digest(v)], None


@dataclass(frozen=True)
class TrustQuestion:
    """A model file from outside the store that nobody has vouched for yet."""

    model_file: Path
    digest: str


def model_file_of(path: Path) -> Path | None:
    """The model file a chosen path stands for (a card names its file), or None if unreadable."""
    try:
        return load_card(path).file if path.suffix == ".toml" or path.is_dir() else path
    except UserError:
        return None


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path.is_relative_to(root.resolve()) for root in roots if root.exists())


def trust_question(path: Path, store_roots: Iterable[Path] | None = None,
                   trusted: TrustList | None = None) -> TrustQuestion | None:
    """What to ask before importing `path` (a model file, a card or a card's folder), or None
    when there is nothing to ask: the model is in the store (`store_roots`, default the user's
    models and the built-in ones), its content was trusted before, or the file cannot be read
    (whoever imports it reports that, with the user's file name)."""
    model_file = model_file_of(path)
    if model_file is None or not model_file.is_file():
        return None
    if store_roots is None:
        catalogue = ModelCatalogue()
        store_roots = (catalogue.models_dir, catalogue.builtin_dir)
    roots = list(store_roots)
    if _inside(model_file.resolve(), roots):
        return None
    try:
        digest = file_sha256(model_file)
    except OSError:
        return None
    if digest in (trusted if trusted is not None else TrustList()):
        return None
    return TrustQuestion(model_file, digest)
