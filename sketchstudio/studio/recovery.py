"""Crash recovery at launch: offer the drawing a crashed session autosaved, and restore it.

A restored journal is deleted only once its drawing is safely somewhere else: this session's own
journal written (and fsynced), or the drawing saved; until then the old one stays, locked by this
session, and a launch after this one offers it again.
"""
from __future__ import annotations

import os
import sys

from ..errors import UserError
from ..sketch import Sketch
from .damaged import DamagedFiles
from .journal_files import Journal, find_orphans


def restore(window, journal: Journal) -> bool:
    """Make the journal's drawing the window's document: unsaved, undoable, with its original path.

    The journal is deleted only once the drawing is safe elsewhere (see `JournalWriter`); a journal
    that cannot be loaded is set aside, not deleted."""
    try:
        document = journal.load()
    except (UserError, ValueError, RecursionError, MemoryError, OSError) as exc:
        damaged = DamagedFiles()
        target = damaged.set_aside(journal.path, "cannot be loaded")
        if target is not None and journal.meta_path.exists():
            damaged.set_aside(journal.meta_path, "the note of a journal that cannot be loaded")
        journal.release()
        kept = f"; the file is kept as {target}" if target is not None else ""
        window.show_error(f"Cannot restore the autosaved drawing: {exc}{kept}", "Restore")
        return False
    original = journal.original if journal.original is not None \
        and os.path.exists(journal.original) else None
    sketch = document.sketch
    window.document.reset(Sketch(), original)
    window.document.apply(sketch, "Restore autosaved drawing")
    window.canvas.reset_page(sketch)
    window.explainer.forget()
    window.models.apply_document(document)
    restored = f"Restored the autosaved drawing ({len(sketch)} strokes)"
    autosaver = getattr(window, "autosave", None)
    if autosaver is None:   # a session that does not autosave (--screenshot): keep the old one
        journal.release()
        window.statusBar().showMessage(f"{restored}; its autosaved copy is kept", 8000)
        return True
    # This session's journal first; the writer deletes the old one once that is on the disk.
    autosaver.supersede(journal)
    autosaver.flush()
    autosaver.wait_idle()
    error = autosaver.take_error()
    if error is not None and journal in autosaver.writer.superseded():
        window.show_error(f"{restored}, but it cannot be autosaved ({error}); the autosaved copy "
                          f"{journal.path} is kept until the drawing is autosaved or saved",
                          "Restore")
    else:
        window.statusBar().showMessage(restored, 8000)
    return True


def ask_restore(window, journal: Journal) -> str:
    """'restore', 'discard' or 'later' (tests replace this)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Question, "Restore drawing",
                      "SketchStudio did not close normally last time. Restore the drawing it "
                      f"autosaved?\n\n{journal.describe()}", QMessageBox.StandardButton.NoButton,
                      window)
    restore_button = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    discard_button = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore_button)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    if clicked is restore_button:
        return "restore"
    if clicked is discard_button:
        return "discard"
    return "later"


def offer_recovery(window, choice: bool | None, headless: bool) -> bool:
    """At launch: restore (True), discard (False) or ask about (None) a crashed session's drawing.

    Headless runs (offscreen, --screenshot, scripts) are never asked: the journal is kept for a
    later interactive launch and one line on stderr says how to get it back. Returns True when a
    drawing was restored.
    """
    journals = find_orphans()
    if not journals:
        return False
    newest, others = journals[0], journals[1:]
    if choice is False:
        for journal in journals:
            journal.discard()
        return False
    for journal in others:      # offered one at a time, at later launches
        journal.release()
    if choice is None:
        if headless:
            print(f"sketchstudio: an autosaved drawing from a session that ended unexpectedly is "
                  f"kept ({newest.describe()}); start with --restore to recover it or "
                  f"--no-restore to discard it", file=sys.stderr)
            newest.release()
            return False
        try:
            answer = ask_restore(window, newest)
        except BaseException:
            newest.release()
            raise
        if answer == "discard":
            newest.discard()
            return False
        if answer != "restore":
            newest.release()
            return False
    return restore(window, newest)

