"""What retrieval hands back: gallery items, skipped items, an embedded gallery, a match."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import UserError
from ...sketch import Sketch


@dataclass(frozen=True)
class GalleryItem:
    source: str               # the file the item came from
    index: int                # drawing index inside that file (0 for one-drawing files and images)
    word: str | None          # category: the drawing's `word`, else its sub-folder in the gallery
    key: str                  # identity (key_id, else a content hash): keeps a query out of results

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "index": self.index, "word": self.word}


@dataclass(frozen=True)
class Skipped:
    source: str
    index: int | None         # None: the whole file
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "index": self.index, "reason": self.reason}


@dataclass
class Gallery:
    """Embedded gallery items; `embeddings[row]` belongs to `items[row]` (rows are unit length)."""

    path: Path
    kind: str                             # "sketch" or "image"
    items: list[GalleryItem]
    embeddings: np.ndarray                # (N, D) float32, L2-normalised
    skipped: list[Skipped] = field(default_factory=list)
    skipped_count: int = 0                # may exceed len(skipped) (the list is capped)
    model: str = ""
    cache_hit: bool = False
    cache_path: Path | None = None
    embedded: int = 0                     # items embedded by this open (0 on a full cache hit)
    elapsed_ms: float = 0.0
    # Per gallery file: its rows [start, end) and its skipped items (for the cache manifest).
    file_rows: list[tuple[int, int]] = field(default_factory=list, repr=False)
    file_skips: list[list[Skipped]] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def load_sketch(self, row: int) -> Sketch:
        """The drawing of a sketch gallery's row (for thumbnails and display)."""
        from ...sketch.io import load_sketch

        if self.kind != "sketch":
            raise UserError(f"row {row} of {self.path} is an image, not a sketch")
        item = self.items[row]
        return load_sketch(item.source, item.index)

    def rows_of_key(self, key: str) -> list[int]:
        """Rows whose item has this identity (see `item_key`); indexed once, on first use."""
        index = self.__dict__.get("_key_rows")
        if index is None:
            index = {}
            for row, item in enumerate(self.items):
                index.setdefault(item.key, []).append(row)
            self.__dict__["_key_rows"] = index
        return list(index.get(key, []))

    def rows_of_word(self, word: str) -> list[int]:
        """Rows of one category; indexed once, on first use."""
        index = self.__dict__.get("_word_rows")
        if index is None:
            index = {}
            for row, item in enumerate(self.items):
                if item.word:
                    index.setdefault(item.word, []).append(row)
            self.__dict__["_word_rows"] = index
        return list(index.get(word, []))

    def summary(self) -> dict[str, Any]:
        return {"gallery": str(self.path), "kind": self.kind, "items": len(self.items),
                "dim": self.dim, "skipped": self.skipped_count,
                "skipped_items": [s.to_json() for s in self.skipped],
                "cache_hit": self.cache_hit, "embedded": self.embedded,
                "elapsed_ms": round(self.elapsed_ms, 3)}


@dataclass(frozen=True)
class Match:
    rank: int                 # 1 = most similar
    similarity: float         # cosine
    row: int                  # row in the gallery
    source: str
    index: int
    word: str | None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"rank": self.rank, "similarity": round(self.similarity, 6),
                             "source": self.source, "index": self.index}
        if self.word is not None:
            d["word"] = self.word
        return d
