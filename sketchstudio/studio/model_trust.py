"""Asking before a model from outside the store is imported (the decision is `models.trust`).

Up to this version the studio kept the trusted digests in QSettings ("models/trusted_sha256").
They are moved into the Qt-free list once, the first time a question comes up, and the QSettings
key is then removed: one list that the studio, the CLI and the API all read, and no second copy
drifting apart from it.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from ..models.trust import TrustList, trust_question

log = logging.getLogger(__name__)

LEGACY_TRUSTED_KEY = "models/trusted_sha256"


def migrate_qsettings_trust(trusted: TrustList, settings: Any = None) -> int:
    """Move the digests an older studio kept in QSettings into `trusted`; returns how many were
    new. The key is removed only once the list is written, so a failed write loses nothing."""
    if settings is None:
        from PySide6.QtCore import QSettings

        from .settings import APPLICATION, ORGANISATION

        settings = QSettings(ORGANISATION, APPLICATION)
    old: Any = settings.value(LEGACY_TRUSTED_KEY, None)
    if old is None:
        return 0
    values = [old] if isinstance(old, str) else list(old) if isinstance(old, (list, tuple)) else []
    try:
        added = trusted.merge(str(v) for v in values)
    except OSError as exc:
        log.warning("cannot move the trusted models list to %s: %s", trusted.path, exc)
        return 0
    settings.remove(LEGACY_TRUSTED_KEY)
    if hasattr(settings, "sync"):
        settings.sync()
    return added


def ask_trust(parent: QWidget | None, path: Path) -> bool:
    """The question itself (tests replace this)."""
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        parent, "Import a model from outside the store",
        f"{path}\n\nA model is a program: TorchScript and torch.export files are never unpickled, "
        "but they run their own computations on your machine. Only import models from sources "
        "you trust. Import this one?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def confirm_outside_model(parent: QWidget | None, path: Path,
                          trusted: TrustList | None = None) -> bool:
    """Ask once per model file (by content) before a model from outside the store is imported.

    Models already in the store, and files that cannot be read (the import reports those), are not
    asked about. Models named on the command line never come here: naming one is the confirmation.
    """
    trusted = trusted if trusted is not None else TrustList()
    migrate_qsettings_trust(trusted)
    question = trust_question(path, trusted=trusted)
    if question is None:
        return True
    if not ask_trust(parent, question.model_file):
        return False
    try:
        trusted.record(question.digest)
    except OSError as exc:      # the answer still holds for this import; asked again next time
        log.warning("cannot remember the trusted model in %s: %s", trusted.path, exc)
    return True
