"""Connected regions of a mask, and the filled region under a click (no Qt, no scipy).

A fill generator's output is explained region by region: a user clicks inside a filled area and
the objective is the mean output over exactly that area (`RegionMean(mask=...)`).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F


def label_map(mask: np.ndarray) -> np.ndarray:
    """(H, W) int64 labels of the 4-connected regions of a bool mask; 0 outside the mask."""
    m = torch.as_tensor(np.asarray(mask, dtype=bool))
    h, w = m.shape
    labels = torch.where(m, torch.arange(1, m.numel() + 1).view(h, w),
                         torch.zeros(h, w, dtype=torch.long))
    while True:
        # Every pixel takes the largest label among itself and its 4 neighbours, inside the mask;
        # several steps between convergence checks, which cost as much as a step.
        before = labels
        for _ in range(4):
            padded = F.pad(labels.view(1, 1, h, w).double(), (1, 1, 1, 1))[0, 0]
            best = torch.stack([padded[1:-1, 1:-1], padded[:-2, 1:-1], padded[2:, 1:-1],
                                padded[1:-1, :-2], padded[1:-1, 2:]]).amax(0).long()
            labels = torch.where(m, best, torch.zeros_like(best))
        if torch.equal(before, labels):
            return labels.numpy()


def label_regions(mask: np.ndarray) -> list[np.ndarray]:
    """The 4-connected regions of a bool mask, largest first, each an (H, W) bool mask."""
    labels = label_map(mask)
    values, counts = np.unique(labels[labels > 0], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return [labels == values[i] for i in order]


def region_at(mask: np.ndarray, x: float, y: float) -> np.ndarray | None:
    """The 4-connected region of `mask` holding pixel (column x, row y); None when that pixel is
    outside the image or not in the mask."""
    h, w = mask.shape
    col, row = int(np.floor(x)), int(np.floor(y))
    if not (0 <= col < w and 0 <= row < h) or not mask[row, col]:
        return None
    labels = label_map(mask)
    return labels == labels[row, col]
