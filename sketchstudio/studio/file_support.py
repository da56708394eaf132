"""The file controller's Qt-free parts: where the drawing came from (`Source`) and the title it
gives, names suggested for Save As and exports, Open Recent's labels, and what File ▸ Export and
File ▸ Export attributions… write.

Pictures (.png, and .svg with heat) come from `explain/heatimage.py` and the attribution records
from `explain/export.py`, the routines `sketchstudio explain` and `sketchstudio convert --heat` use,
so a file written by the studio equals the one the command line writes for the same drawing and
attribution. Engine modules are imported inside the functions: the window opens before torch is
imported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..sketch import Sketch
from .file_filters import export_suffixes

if TYPE_CHECKING:
    from ..explain import Attribution

PNG_SIZE = 512
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class Source:
    """The file the drawing on the canvas came from (for the title, Save As, exports)."""

    path: Path
    index: int | None = None    # its index in a file of many drawings; None: a one-drawing file
    total: int | None = None    # drawings the browser offered (None: not counted)
    more: bool = False          # the file holds more than `total`
    imported: bool = False      # Import: the document became untitled


def title_of(path: Path | None, source: Source | None, word: str | None) -> str:
    """'house.json'; 'cat.ndjson — drawing 12 of 100 (cat)'; 'Untitled — imported from ...'."""
    if path is not None:
        return path.name
    if source is None:
        return word or "Untitled"
    where = source.path.name
    if source.index is not None:
        where += f" — drawing {source.index + 1}"
        if source.total is not None:
            where += f" of {source.total}{'+' if source.more else ''}"
        if word:
            where += f" ({word})"
    return f"Untitled — imported from {where}" if source.imported else where


def recent_label(path: str) -> str:
    """'house.json — ~/sketches': the name, then its folder (home shortened to ~)."""
    file = Path(path)
    try:
        inside = file.parent.relative_to(Path.home())
        folder = "~" if inside == Path(".") else f"~/{inside}"
    except ValueError:
        folder = str(file.parent)
    return f"{file.name} — {folder}"


def suggested_name(source: Path | None, index: int | None, word: str | None) -> str:
    """A file name stem for Save As and exports: a one-drawing file's stem, else the drawing's
    word, else the file's stem with the drawing's number, else "untitled"."""
    if source is not None and index is None:
        return source.stem
    clean = _UNSAFE.sub(" ", word or "").strip(" .")[:60]
    if clean:
        return clean
    if source is not None:
        return f"{source.stem}-{(index or 0) + 1}"
    return "untitled"


def export_drawing(path: Path, sketch: Sketch, result: Attribution | None,
                   heat: bool | None) -> str | None:
    """Write `sketch` to `path` by its suffix; a note for the status bar when the picture had to
    be plain ink (no explanation of this exact drawing yet), else None."""
    kind = path.suffix.lower().lstrip(".")
    kinds = export_suffixes()
    if kind not in kinds:
        raise UserError(f"{path.name}: export as one of {', '.join(f'.{k}' for k in kinds)}")
    plain_note = "no explanation of this exact drawing yet, so plain ink"
    if kind == "png":
        if result is not None and heat is not False:
            from ..explain.heatimage import save_heat_png

            save_heat_png(sketch, result, path, PNG_SIZE)
            return None
        from ..render import save_png

        save_png(sketch, path, PNG_SIZE)
        return plain_note if heat is not False else None
    if kind == "svg" and heat is not False and result is not None:
        from ..explain.heatimage import save_heat_svg

        save_heat_svg(sketch, result, path, PNG_SIZE)
        return None
    from ..sketch.io import save_sketch

    save_sketch(path, sketch)
    return "no explanation of this exact drawing yet, so the plain drawing" if heat else None


def export_attributions_file(path: Path, result: Attribution, origin: Path | None,
                             index: int | None) -> None:
    """The record `sketchstudio explain --json` prints for this drawing, as .json or .csv."""
    from ..explain.export import attribution_record, save_attributions

    save_attributions(path, attribution_record(result, origin, index))
