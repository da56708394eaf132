"""Bounded reading of whole files, shared by the importers of single-document formats."""
from __future__ import annotations

from pathlib import Path

from .errors import SketchFileError

# A hand-drawn sketch is kilobytes; even a dense, machine-generated one is far below this. The cap
# keeps a wrong or hostile file from exhausting memory before any validation can run.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def read_bytes(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise SketchFileError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise SketchFileError(path, f"file is larger than the {limit // (1024 * 1024)} MB limit")
    if not data.strip():
        raise SketchFileError(path, "file is empty")
    return data


def decode_text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SketchFileError(path, "not UTF-8 text (binary file?)", line) from None
