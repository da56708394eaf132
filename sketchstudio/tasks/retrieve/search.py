"""Ranking a gallery by cosine similarity to a query."""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from ...errors import UserError
from ...sketch import Sketch
from .embedding import embed_sketch
from .gallery import item_key
from .results import Gallery, Match


def _exclusion_mask(gallery: Gallery, exclude: Iterable[int] | None, exclude_key: str | None
                    ) -> np.ndarray | None:
    mask = None
    if exclude is not None:
        mask = np.zeros(len(gallery), bool)
        mask[list(exclude)] = True
    if exclude_key is not None:
        rows = gallery.rows_of_key(exclude_key)
        if rows:
            mask = np.zeros(len(gallery), bool) if mask is None else mask
            mask[rows] = True
    return mask


def similarities(query_embedding: np.ndarray, gallery: Gallery) -> np.ndarray:
    """Cosine similarity of the query to every gallery row, (N,)."""
    q = np.asarray(query_embedding, dtype=np.float32).reshape(-1)
    if q.shape[0] != gallery.dim:
        raise UserError(f"the query embedding has {q.shape[0]} values but the gallery's have "
                        f"{gallery.dim} (embedded with another model?)")
    norm = float(np.linalg.norm(q))
    if not math.isfinite(norm) or norm == 0:
        raise UserError("the query embedding is zero or not finite")
    # torch, not numpy: numpy's BLAS threads keep spinning after a call and starve torch's own
    # (measured: a 8,600 x 256 product and the next forward pass went from ~1 ms to ~20 ms each).
    with torch.no_grad():
        return torch.mv(torch.from_numpy(gallery.embeddings), torch.from_numpy(q / norm)).numpy()


def search(query_embedding: np.ndarray, gallery: Gallery, top: int = 10,
           exclude: Iterable[int] | None = None, exclude_key: str | None = None) -> list[Match]:
    """The `top` most similar gallery items (cosine), best first.

    exclude: gallery rows to leave out; exclude_key: leave out items with this identity (the
    query's own drawing, when the query comes from the gallery; see `item_key`).
    """
    if top < 1:
        raise UserError(f"--top must be at least 1, got {top}")
    sims = similarities(query_embedding, gallery)
    mask = _exclusion_mask(gallery, exclude, exclude_key)
    candidates = np.flatnonzero(~mask) if mask is not None else None
    pool = sims if candidates is None else sims[candidates]
    k = min(top, len(pool))
    if k == 0:
        return []
    part = np.argpartition(-pool, k - 1)[:k] if k < len(pool) else np.arange(len(pool))
    order = part[np.lexsort((part, -pool[part]))]   # by similarity, ties by row
    rows = order if candidates is None else candidates[order]
    return [Match(r + 1, float(sims[row]), int(row), gallery.items[row].source,
                  gallery.items[row].index, gallery.items[row].word)
            for r, row in enumerate(rows)]


def rank_of(row: int, query_embedding: np.ndarray, gallery: Gallery,
            exclude_key: str | None = None) -> int:
    """1-based rank the gallery row would get for this query (ties go to the lower row)."""
    sims = similarities(query_embedding, gallery)
    mask = _exclusion_mask(gallery, None, exclude_key)
    s = sims[row]
    better = (sims > s) | ((sims == s) & (np.arange(len(sims)) < row))
    if mask is not None:
        better &= ~mask
    return int(better.sum()) + 1


def retrieve(sketch: Sketch, model: Any, gallery: Gallery, top: int = 10,
             exclude_self: bool = True) -> list[Match]:
    """Embed the sketch and search; its own drawing (same key) is left out by default."""
    return search(embed_sketch(sketch, model), gallery, top,
                  exclude_key=item_key(sketch) if exclude_self else None)
