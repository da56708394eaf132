"""File-dialog filter strings, built from the file-format registry (sketch/formats/registry.py).

Built when a dialog opens, not at import, so a format registered later is offered too.
"""
from __future__ import annotations

from ..sketch.formats.registry import FileFormat, export_formats, readable_formats, suffixes

PNG_EXPORT = "PNG with heat colours and legend (*.png)"


def _documents_first(formats: tuple[FileFormat, ...], first: bool) -> tuple[FileFormat, ...]:
    documents = tuple(f for f in formats if f.document)
    others = tuple(f for f in formats if not f.document)
    return documents + others if first else others + documents


def open_filter() -> str:
    """File ▸ Open: every readable format, the document first, then "All files"."""
    formats = _documents_first(readable_formats(), first=True)
    patterns = " ".join(f"*{s}" for s in suffixes(formats))
    return ";;".join([f"Sketches ({patterns})", *(f.dialog_filter() for f in formats),
                      "All files (*)"])


def import_filter() -> str:
    """File ▸ Import: every readable format, drawings before the document."""
    formats = _documents_first(readable_formats(), first=False)
    patterns = " ".join(f"*{s}" for s in suffixes(formats))
    return ";;".join([f"Drawings ({patterns})", *(f.dialog_filter() for f in formats)])


def save_filter() -> str:
    return next(f.dialog_filter() for f in readable_formats() if f.document)


def export_filters() -> dict[str, str]:
    """Export kind (the suffix without its dot) -> filter: the writable formats, then PNG."""
    filters = {f.suffixes[0].lstrip("."): f.dialog_filter() for f in export_formats()}
    filters["png"] = PNG_EXPORT
    return filters
