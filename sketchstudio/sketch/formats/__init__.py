"""Sketch file formats, one module each; `sketchstudio.sketch.io` is the public entry point.

A format module has NAME and HOLDS_MANY. Multi-drawing formats (ndjson, npz) provide
`count(path)`, `iter_sketches(path)`, `load(path, index)` and `write(file, sketches)`;
single-drawing formats (svg, json) provide `read(path)` and `write(file, sketch)`.
"""
from __future__ import annotations

from os import PathLike
from pathlib import Path
from types import ModuleType

from . import native, quickdraw, stroke3, svg
from .errors import SketchFileError
from .native import Document

FORMATS: dict[str, ModuleType] = {
    ".ndjson": quickdraw, ".npz": stroke3, ".svg": svg, ".json": native}


def format_for(path: str | PathLike[str]) -> ModuleType:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise SketchFileError(path, f"unknown sketch file type {suffix or '(no extension)'!r}: "
                              f"use {', '.join(FORMATS)}")
    return FORMATS[suffix]


__all__ = ["Document", "FORMATS", "SketchFileError", "format_for"]
