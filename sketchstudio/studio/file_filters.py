"""File-dialog filter strings, built from the file-format registry (sketch/formats/registry.py).

Built when a dialog opens, not at import, so a format registered later is offered too.
"""
from __future__ import annotations

from pathlib import Path

from ..sketch.formats.registry import FileFormat, export_formats, readable_formats, suffixes

PNG_EXPORT = "PNG with heat colours and legend (*.png)"
SVG_HEAT_EXPORT = "SVG picture with heat colours and legend (*.svg)"
HEAT_SVG_KIND = "svg-heat"      # a second filter for the .svg suffix: the picture, not the drawing
ATTRIBUTION_FILTERS = ("Attributions as JSON, the fields of `explain --json` (*.json)",
                       "Attributions as CSV, a row a stroke (*.csv)")


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
    """Export kind -> filter: the writable formats (kind: the suffix without its dot), then the
    pictures: PNG, and SVG with heat colours (kind "svg-heat")."""
    filters = {f.suffixes[0].lstrip("."): f.dialog_filter() for f in export_formats()}
    filters["png"] = PNG_EXPORT
    filters[HEAT_SVG_KIND] = SVG_HEAT_EXPORT
    return filters


def export_suffixes() -> list[str]:
    """The suffixes (without the dot) Export writes, in the order error messages list them."""
    return [kind for kind in export_filters() if kind != HEAT_SVG_KIND]


def export_choice(path: Path, chosen_filter: str) -> tuple[Path, bool | None]:
    """The Export dialog's answer as (path, heat): a name without a known suffix gets the chosen
    filter's; heat is True for the pictures, False for the plain SVG drawing, None when the
    suffix typed and the filter chosen disagree (the suffix decides, with heat if explained)."""
    kind = next((k for k, f in export_filters().items() if f == chosen_filter), None)
    suffix = kind.split("-")[0] if kind else None
    if path.suffix.lower().lstrip(".") not in export_suffixes() and suffix is not None:
        path = path.with_name(f"{path.name}.{suffix}")
    if suffix != path.suffix.lower().lstrip("."):
        return path, None
    return path, kind != "svg"


def attributions_filter() -> str:
    return ";;".join(ATTRIBUTION_FILTERS)
