"""The file controller's dialogs: each asks one question and returns the answer (None: cancelled).

Kept apart so the controller reads as what happens to the document, and tests replace one
function instead of a Qt dialog class. `pick_drawing` is the drawing browser's question: which
drawing of a file that holds many.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from ..sketch import Sketch
from ..sketch.formats import Document, format_for
from . import file_filters
from .browser import DrawingBrowser
from .file_support import Source
from .reading import FileRead


def ask_open_path(parent: QWidget, title: str, start: str, import_: bool = False) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(
        parent, title, start,
        file_filters.import_filter() if import_ else file_filters.open_filter())
    return Path(path) if path else None


def ask_save_path(parent: QWidget, start: Path) -> Path | None:
    """Save As: a .json document (the suffix is added when left out)."""
    chosen, _ = QFileDialog.getSaveFileName(parent, "Save", str(start),
                                            file_filters.save_filter())
    if not chosen:
        return None
    path = Path(chosen)
    return path if path.suffix.lower() == ".json" else path.with_name(path.name + ".json")


def ask_export_path(parent: QWidget, start: str) -> tuple[Path, bool | None] | None:
    """Export: (path, heat) as `file_filters.export_choice` reads the dialog's answer."""
    filters = file_filters.export_filters()
    chosen_path, chosen = QFileDialog.getSaveFileName(parent, "Export", start,
                                                      ";;".join(filters.values()), filters["png"])
    return file_filters.export_choice(Path(chosen_path), chosen) if chosen_path else None


def ask_attributions_path(parent: QWidget, start: Path) -> Path | None:
    chosen, chosen_filter = QFileDialog.getSaveFileName(parent, "Export attributions", str(start),
                                                        file_filters.attributions_filter())
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in (".json", ".csv"):
        path = path.with_name(path.name + (".csv" if "CSV" in chosen_filter else ".json"))
    return path


def ask_unsaved(parent: QWidget) -> str:
    """'save', 'discard' or 'cancel'."""
    answer = QMessageBox.question(
        parent, "Unsaved changes", "The drawing has changes that are not saved. Save them?",
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")


def pick_drawing(parent: QWidget, path: Path, result: FileRead
                 ) -> tuple[Sketch, Source, Document | None] | None:
    """The drawing read (with its .json settings) and where it came from, or the one the user
    picks in the browser from a file with many; None if the browser was dismissed."""
    many = bool(format_for(path).HOLDS_MANY)
    if result.document is not None:
        native = format_for(path).NAME == "json"
        source = Source(path, result.index if many else None)
        return result.document.sketch, source, result.document if native else None
    drawings = result.drawings
    if drawings is None:    # an error: the caller reported it before asking for a pick
        return None
    total = len(drawings.sketches) + len(drawings.bad)
    if len(drawings.sketches) == 1 and not drawings.more and drawings.error is None:
        return drawings.sketches[0], Source(path, drawings.index_of(0), total), None
    browser = DrawingBrowser(path, drawings, parent)
    try:
        if browser.exec() != QDialog.DialogCode.Accepted:
            return None
        chosen, sketch = browser.selected_index(), browser.selected_sketch()
        if chosen is None or sketch is None:
            return None
        return sketch, Source(path, chosen, total, drawings.more), None
    finally:
        browser.deleteLater()
