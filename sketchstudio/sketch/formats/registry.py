"""The file-format registry: every list of sketch file types is read from here.

A format is one module that reads and writes drawings plus one `FileFormat` declaration (label,
suffixes, whether it holds many drawings, what it can do). The studio's Open/Import/Export filters,
the drop and recent-file checks, `sketchstudio convert`, `sketchstudio.sketch.io` and the retrieval
gallery's file suffixes all ask this registry, so a format registered here is offered everywhere
(docs/extending.md). The built-in formats are registered, in order, in `formats/__init__.py`.

The module protocol: multi-drawing formats (HOLDS_MANY) provide `count(path, watch)`,
`iter_sketches(path, watch)`, `load(path, index, watch)` and `write(file, sketches)`;
single-drawing formats provide `read(path, watch)` and `write(file, sketch)`. A format with one
record per drawing may also provide `iter_indexed(path, watch, on_bad)`, which reports a drawing it
cannot read to `on_bad(index, error)` and goes on (`sketch.io.iter_drawings`; .ndjson does).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from .errors import SketchFileError


@dataclass(frozen=True)
class FileFormat:
    name: str                  # short name ("ndjson"), also what `file_format(path)` returns
    label: str                 # what a file dialog shows ("Quick, Draw!")
    suffixes: tuple[str, ...]  # lower case, with the dot (".ndjson",)
    module: Any                # the reader/writer (see the module protocol above)
    can_read: bool = True
    can_write: bool = True
    document: bool = False     # SketchStudio's own document: keeps the model and settings

    @property
    def holds_many(self) -> bool:
        return bool(self.module.HOLDS_MANY)

    def dialog_filter(self) -> str:
        """"Quick, Draw! (*.ndjson)": one entry of a file dialog's filter list."""
        return f"{self.label} ({' '.join('*' + s for s in self.suffixes)})"


_FORMATS: dict[str, FileFormat] = {}


def register_format(fmt: FileFormat, *, replace: bool = False) -> FileFormat:
    """Add `fmt` after the others; a name or a suffix can belong to one format only."""
    if not fmt.suffixes or any(not s.startswith(".") or s != s.lower() for s in fmt.suffixes):
        raise ValueError(f"format {fmt.name!r}: suffixes must be lower case and start with '.'")
    if fmt.name in _FORMATS and not replace:
        raise ValueError(f"a file format named {fmt.name!r} is already registered")
    taken = {s: f.name for f in _FORMATS.values() if f.name != fmt.name for s in f.suffixes}
    clash = [s for s in fmt.suffixes if s in taken]
    if clash:
        raise ValueError(f"suffix {clash[0]} already belongs to the {taken[clash[0]]!r} format")
    _FORMATS[fmt.name] = fmt
    return fmt


def unregister_format(name: str) -> None:
    _FORMATS.pop(name, None)


def all_formats() -> tuple[FileFormat, ...]:
    return tuple(_FORMATS.values())


def readable_formats() -> tuple[FileFormat, ...]:
    return tuple(f for f in _FORMATS.values() if f.can_read)


def writable_formats() -> tuple[FileFormat, ...]:
    return tuple(f for f in _FORMATS.values() if f.can_write)


def export_formats() -> tuple[FileFormat, ...]:
    """What the studio's Export offers besides PNG: every writable format but the document
    (Save writes that one)."""
    return tuple(f for f in writable_formats() if not f.document)


def document_format() -> FileFormat:
    return next(f for f in _FORMATS.values() if f.document)


def suffixes(formats: tuple[FileFormat, ...] | None = None) -> tuple[str, ...]:
    chosen = all_formats() if formats is None else formats
    return tuple(s for f in chosen for s in f.suffixes)


def gallery_suffixes() -> tuple[str, ...]:
    """The file suffixes a retrieval gallery reads as drawings: every readable format's."""
    return suffixes(readable_formats())


def find_format(path: str | PathLike[str]) -> FileFormat | None:
    suffix = Path(path).suffix.lower()
    return next((f for f in _FORMATS.values() if suffix in f.suffixes), None)


def format_of(path: str | PathLike[str]) -> FileFormat:
    """The registered format of `path`, by its suffix; else one line naming the file."""
    fmt = find_format(path)
    if fmt is None:
        suffix = Path(path).suffix.lower()
        raise SketchFileError(path, f"unknown sketch file type {suffix or '(no extension)'!r}: "
                              f"use {', '.join(suffixes())}")
    return fmt


class SuffixMap(Mapping[str, Any]):
    """`FORMATS`: suffix -> reader/writer module, always the registry's current contents."""

    def __getitem__(self, suffix: str) -> Any:
        fmt = find_format(f"x{suffix}") if suffix.startswith(".") else None
        if fmt is None or suffix.lower() not in fmt.suffixes:
            raise KeyError(suffix)
        return fmt.module

    def __iter__(self) -> Iterator[str]:
        return iter(suffixes())

    def __len__(self) -> int:
        return len(suffixes())
