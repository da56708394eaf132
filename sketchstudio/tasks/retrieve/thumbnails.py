"""Small pictures of gallery items for result lists (no Qt: the studio turns them into icons)."""
from __future__ import annotations

import numpy as np

from ...render import ink_to_gray
from .results import Gallery

THUMB = 72


def thumbnail(gallery: Gallery, row: int, size: int = THUMB) -> np.ndarray | None:
    """(size, size, 4) uint8 RGBA, dark on white, of one gallery item; None if it can no longer be
    read (a file that went away or broke since it was embedded)."""
    try:
        if gallery.kind == "sketch":
            rgb = np.dstack([ink_to_gray(gallery.load_sketch(row), size)] * 3)
        else:
            from PIL import Image

            with Image.open(gallery.items[row].source) as opened:
                picture = opened.convert("RGB")
                picture.thumbnail((size, size))
                rgb = np.asarray(picture, dtype=np.uint8)
    except Exception:       # any reader's failure means the same here: no picture
        return None
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
