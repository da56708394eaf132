"""The score retrieval attributes: cosine similarity between the sketch and one fixed vector (a
gallery item, or the consensus of several)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...errors import UserError
from .results import Gallery


class CosineSimilarity:
    """Objective: cosine similarity between each output row (B, D) and one fixed gallery vector."""

    name = "cosine"

    def __init__(self, vector: Any) -> None:
        v = torch.as_tensor(np.asarray(vector, dtype=np.float32)).reshape(-1)
        if v.numel() == 0 or not torch.isfinite(v).all():
            raise UserError("the gallery vector must be a non-empty, finite vector")
        self.vector = v

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        if output.ndim != 2 or output.shape[1] != self.vector.numel():
            raise UserError(f"an embedding model must return (batch, {self.vector.numel()}) "
                            f"vectors here, got shape {tuple(output.shape)}")
        v = self.vector.to(device=output.device, dtype=output.dtype).unsqueeze(0)
        return torch.nn.functional.cosine_similarity(output, v, dim=1, eps=1e-8)

    def __repr__(self) -> str:
        return f"CosineSimilarity(dim={self.vector.numel()})"


def objective_for(gallery: Gallery, row: int) -> CosineSimilarity:
    """Cosine similarity to gallery row `row`."""
    if not 0 <= row < len(gallery):
        raise UserError(f"gallery row {row} is out of range 0..{len(gallery) - 1}")
    return CosineSimilarity(gallery.embeddings[row])


def consensus_objective(gallery: Gallery, rows: Sequence[int]) -> CosineSimilarity:
    """Cosine similarity to the mean of several gallery rows: for a unit-length query this is
    proportional to its mean similarity to them (what the top results agree on)."""
    rows = [int(r) for r in rows]
    if not rows:
        raise UserError("a consensus needs at least one gallery row")
    for row in rows:
        if not 0 <= row < len(gallery):
            raise UserError(f"gallery row {row} is out of range 0..{len(gallery) - 1}")
    return CosineSimilarity(gallery.embeddings[rows].mean(axis=0))
