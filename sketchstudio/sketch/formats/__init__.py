"""Sketch file formats, one module each; `sketchstudio.sketch.io` is the public entry point.

Each format module declares its `FORMAT` (formats/registry.py: label, suffixes, read/write) and
is registered below, in the order error messages list them. Everything that lists file types reads
the registry, so a new format is one module plus one line here (docs/extending.md).
"""
from __future__ import annotations

from os import PathLike
from typing import Any

from . import native, quickdraw, stroke3, svg
from .errors import SketchFileError
from .native import Document
from .registry import (
    FileFormat,
    SuffixMap,
    all_formats,
    format_of,
    gallery_suffixes,
    register_format,
)

BUILTIN_FORMATS = (quickdraw.FORMAT, stroke3.FORMAT, svg.FORMAT, native.FORMAT)
for _format in BUILTIN_FORMATS:
    register_format(_format, replace=True)

# suffix -> reader/writer module, as it stands in the registry when read
FORMATS = SuffixMap()


def format_for(path: str | PathLike[str]) -> Any:
    """The reader/writer module of `path`'s format (by suffix); one error line when unknown."""
    return format_of(path).module


__all__ = ["BUILTIN_FORMATS", "Document", "FORMATS", "FileFormat", "SketchFileError",
           "all_formats", "format_for", "format_of", "gallery_suffixes", "register_format"]
